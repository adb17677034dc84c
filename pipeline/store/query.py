"""Read-only SQL over the evidence database (``evx query``).

Three locks, so no statement can change anything: the file is opened with ``mode=ro``, the
connection has ``PRAGMA query_only=ON``, and an SQLite authorizer denies every writing action
before the statement runs. A statement that runs too long (a recursive CTE without end) is
stopped by a progress handler, as is one whose caller asks it to stop (Ctrl-C).

Rows are fetched in chunks as the caller takes them (``open_query``), so a result of any size
is written out in flat memory; the time limit and the stop request cover the fetching too.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from pipeline.store.db import StoreError, connect_readonly, damage_error

# Authorizer actions that change a database, an attached file or the schema.
_WRITES = {
    getattr(sqlite3, f"SQLITE_{name}")
    for name in (
        "INSERT", "UPDATE", "DELETE", "ALTER_TABLE", "ANALYZE", "ATTACH", "DETACH", "REINDEX",
        "CREATE_VTABLE", "DROP_VTABLE",
        *(f"{verb}_{what}" for verb in ("CREATE", "DROP")
          for what in ("INDEX", "TABLE", "TRIGGER", "VIEW", "TEMP_INDEX", "TEMP_TABLE", "TEMP_TRIGGER", "TEMP_VIEW")),
    )
}
_ROW_WRITES = {sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE}
# SQLite checks these internal tables while it reads a pragma table (pragma_table_info(...)) and
# before a CREATE/DROP, whose own action is denied; a real write to them fails anyway.
_SCHEMA_TABLES = {"sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_temp_schema"}
# Pragmas that take an argument and only read ("PRAGMA table_info(outcome)").
_READ_PRAGMAS = {
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check",
}


DEFAULT_QUERY_TIMEOUT = 30.0  # seconds
_CHECK_EVERY = 10_000  # SQLite virtual machine steps between two looks at the clock (microseconds)
CHUNK = 1000  # rows fetched at a time


class ReadOnlyViolation(StoreError):
    """A query tried to change the database."""


class QueryTimeout(StoreError):
    """A query ran longer than it was allowed to."""


class QueryInterrupted(StoreError):
    """A query was stopped at its caller's request (Ctrl-C)."""


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    truncated: bool = False  # more rows than the limit asked for


class QueryRows:
    """The rows of a running statement: ``columns``, then iterate for the rows, fetched
    ``CHUNK`` at a time. Errors while fetching are raised as the ones of ``run_query``."""

    def __init__(self, cursor: sqlite3.Cursor, fail, stop: threading.Event | None) -> None:
        self.columns = [c[0] for c in cursor.description or []]
        self._cursor, self._fail, self._stop = cursor, fail, stop

    def __iter__(self) -> Iterator[tuple]:
        while True:
            try:
                rows = self._cursor.fetchmany(CHUNK)
            except (sqlite3.Error, sqlite3.Warning) as exc:
                raise self._fail(exc) from exc
            if not rows:
                return
            yield from rows
            # Ctrl-C while the caller was writing (SQLite's handler only runs while it steps).
            if self._stop is not None and self._stop.is_set():
                raise QueryInterrupted("query interrupted")


@contextmanager
def open_query(
    db_path: Path | str,
    sql: str,
    params: tuple | dict = (),
    *,
    timeout: float | None = DEFAULT_QUERY_TIMEOUT,
    stop: threading.Event | None = None,
) -> Iterator[QueryRows]:
    """Start one SQL statement read-only; its rows come as the ``QueryRows`` is iterated.

    Raises ``ReadOnlyViolation`` for a statement that would write, ``QueryTimeout`` when it
    runs (fetching its rows included) longer than ``timeout`` seconds (None: no limit),
    ``QueryInterrupted`` once ``stop`` is set, ``StoreDamaged`` if the file is damaged,
    ``StoreError`` for any other SQL error -- at the start or while the rows are taken.
    """
    try:
        conn = connect_readonly(db_path)
    except sqlite3.Error as exc:
        raise damage_error(db_path, exc) or StoreError(f"cannot open database {db_path}: {exc}") from exc
    refused = False
    deadline = time.monotonic() + timeout if timeout else None
    why_stopped: StoreError | None = None

    def progress() -> int:
        # A non-zero answer makes SQLite abandon the statement ("interrupted").
        nonlocal why_stopped
        if stop is not None and stop.is_set():
            why_stopped = QueryInterrupted("query interrupted")
        elif deadline is not None and time.monotonic() > deadline:
            why_stopped = QueryTimeout(f"query stopped after {timeout:g} s, its time limit (--timeout allows more)")
        return why_stopped is not None

    def authorize(action: int, arg1: str | None, arg2: str | None, _db: str | None, _source: str | None) -> int:
        nonlocal refused
        writes = action in _WRITES and not (action in _ROW_WRITES and arg1 in _SCHEMA_TABLES)
        # A pragma with an argument sets something, unless it is one that only looks things up.
        writes |= action == sqlite3.SQLITE_PRAGMA and arg2 is not None and arg1 not in _READ_PRAGMAS
        if writes:
            refused = True
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    def fail(exc: sqlite3.Error | sqlite3.Warning) -> StoreError:
        if why_stopped is not None:
            return why_stopped
        if isinstance(exc, sqlite3.Warning):  # e.g. two statements at once
            return StoreError(f"SQL error: {exc}")
        if (damaged := damage_error(db_path, exc)) is not None:
            return damaged
        if refused or "readonly" in str(exc):
            statement = " ".join(sql.split())
            statement = statement if len(statement) <= 60 else statement[:57] + "..."
            return ReadOnlyViolation(f"refused: `{statement}` would change the database; evx query only reads")
        return StoreError(f"SQL error: {exc}")

    conn.set_authorizer(authorize)
    conn.set_progress_handler(progress, _CHECK_EVERY)
    try:
        try:
            cursor = conn.execute(sql, params)
        except (sqlite3.Error, sqlite3.Warning) as exc:
            raise fail(exc) from exc
        yield QueryRows(cursor, fail, stop)
    finally:
        conn.close()


def run_query(
    db_path: Path | str,
    sql: str,
    params: tuple | dict = (),
    *,
    timeout: float | None = DEFAULT_QUERY_TIMEOUT,
    limit: int | None = None,
    stop: threading.Event | None = None,
) -> QueryResult:
    """Run one SQL statement read-only and return its rows (the first ``limit`` only, if given),
    raising as ``open_query``."""
    with open_query(db_path, sql, params, timeout=timeout, stop=stop) as result:
        # One more than the limit tells whether there were more.
        rows = list(result if limit is None else islice(result, limit + 1))
        truncated = limit is not None and len(rows) > limit
        return QueryResult(result.columns, rows[:limit] if truncated else rows, truncated)
