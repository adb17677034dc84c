"""Read-only SQL over the evidence database (``evx query``).

Three locks, so no statement can change anything: the file is opened with ``mode=ro``, the
connection has ``PRAGMA query_only=ON``, and an SQLite authorizer denies every writing action
before the statement runs. A statement that runs too long (a recursive CTE without end) is
stopped by a progress handler, as is one whose caller asks it to stop (Ctrl-C).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.store.db import StoreError, require_db

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


def connect_readonly(db_path: Path | str) -> sqlite3.Connection:
    """A connection that can only read ``db_path``."""
    path = require_db(db_path)
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    conn.execute("PRAGMA query_only=ON")
    return conn


def run_query(
    db_path: Path | str,
    sql: str,
    params: tuple | dict = (),
    *,
    timeout: float | None = DEFAULT_QUERY_TIMEOUT,
    limit: int | None = None,
    stop: threading.Event | None = None,
) -> QueryResult:
    """Run one SQL statement read-only and return its rows (the first ``limit`` only, if given).

    Raises ``ReadOnlyViolation`` for a statement that would write, ``QueryTimeout`` when it
    runs (reading its rows included) longer than ``timeout`` seconds (None: no limit),
    ``QueryInterrupted`` once ``stop`` is set, ``StoreError`` for any other SQL error.
    """
    conn = connect_readonly(db_path)
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

    conn.set_authorizer(authorize)
    conn.set_progress_handler(progress, _CHECK_EVERY)
    truncated = False
    try:
        cursor = conn.execute(sql, params)
        if limit is None:
            rows = cursor.fetchall()
        else:
            rows = cursor.fetchmany(limit + 1)  # one more tells whether there were more
            truncated, rows = len(rows) > limit, rows[:limit]
        columns = [c[0] for c in cursor.description or []]
    except sqlite3.Error as exc:
        if why_stopped is not None:
            raise why_stopped from None
        if refused or "readonly" in str(exc):
            statement = " ".join(sql.split())
            statement = statement if len(statement) <= 60 else statement[:57] + "..."
            raise ReadOnlyViolation(f"refused: `{statement}` would change the database; evx query only reads") from exc
        raise StoreError(f"SQL error: {exc}") from exc
    except sqlite3.Warning as exc:  # e.g. two statements at once
        raise StoreError(f"SQL error: {exc}") from exc
    finally:
        conn.close()
    return QueryResult(columns, rows, truncated)
