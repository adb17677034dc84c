"""Opening the evidence database and loading analysed documents into it.

Loading is re-runnable by construction: everything stored from one source file is replaced in
ONE transaction (delete old rows, insert new, log what changed, commit), so a reader never sees
a document half loaded, a process killed mid-load leaves the previous state, and loading the
same file twice leaves the database as it was.

Every load, withdrawal and restoration compares the records' keys before and after
(``pipeline.store.evidence``) and writes the difference to ``evidence_change`` in the same
transaction; curations of records that disappear are flagged there too.
"""

from __future__ import annotations

import dataclasses
import json
import operator
import shutil
import sqlite3
import types
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import (
    Connection,
    Dialect,
    Engine,
    delete,
    event,
    func,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlmodel import Session, SQLModel, create_engine, select

from pipeline.analysis import Analysis, Sentence
from pipeline.document import Document, PageSpan, SectionSpan, Table
from pipeline.errors import EvxError
from pipeline.records import Record
from pipeline.store.evidence import KeyMaker, state_of, text_sha256
from pipeline.store.models import (
    RECORD_KINDS,
    AbbreviationRow,
    DocTable,
    EvidenceChange,
    IngestError,
    Run,
    RunFailure,
    SectionRow,
    SentenceRow,
    SourceFile,
    SourceRoot,
    StoredDocument,
    TableCell,
    TextSketch,
)
from pipeline.store import works

DEFAULT_DB = Path("outputs/evidence.db")

# Bumped whenever the tables change; kept in PRAGMA user_version. A migration from version
# n-1 to n goes into MIGRATIONS[n] (SQL statements run in order, after the new tables are made).
SCHEMA_VERSION = 7
_RECORD_TABLES = ["outcome", "trial", "regimen", "her2_criterion", "biomarker"]  # the tables of schema 1
MIGRATIONS: dict[int, list] = {  # SQL, or a function of the connection
    2: [
        # Keys, layouts and the source_file index are new: the old rows get placeholders and
        # an extractor version no evx has, so the next run analyses their files again.
        "ALTER TABLE document ADD COLUMN text_sha256 VARCHAR NOT NULL DEFAULT ''",
        "ALTER TABLE document ADD COLUMN layout JSON",
        "ALTER TABLE document ADD COLUMN run_id INTEGER",
        "ALTER TABLE document ADD COLUMN withdrawn_run INTEGER",
        "ALTER TABLE ingest_error ADD COLUMN run_id INTEGER",
        *(f"ALTER TABLE {t} ADD COLUMN key VARCHAR NOT NULL DEFAULT ''" for t in _RECORD_TABLES),
        *(f"CREATE INDEX ix_{t}_key ON {t} (key)" for t in _RECORD_TABLES),
        "UPDATE document SET extractor_version = extractor_version || ' (schema 1)'",
        "INSERT INTO source_file (path, sha256, documents, extractor_version) "
        "SELECT file_path, min(sha256), count(*), min(extractor_version) FROM document GROUP BY file_path",
    ],
    3: [
        # Empty for the files stored so far: the next refresh hashes them once and fills them in.
        # (From schema 1 the table is new and has them already.)
        lambda conn: _add_missing_columns(conn, "source_file", {"size": "INTEGER", "mtime_ns": "INTEGER"}),
    ],
    4: [
        # The study model: tables study and study_arm are new (create_all makes them); outcomes
        # point at them. Old documents get them on their next re-extraction (the extractor's
        # version changed with the rules).
        lambda conn: _add_missing_columns(conn, "outcome", {"study_ref": "VARCHAR", "arm_ref": "VARCHAR",
                                                            "attribution": "JSON"}),
    ],
    5: [
        # Tables: doc_table and table_cell are new (create_all makes them); a figure read from a
        # cell names its table, row and column. Old documents get them on their next
        # re-extraction (the extractor's version changed with the code).
        lambda conn: _add_missing_columns(conn, "outcome", {"table_idx": "INTEGER", "table_row": "INTEGER",
                                                            "table_column": "INTEGER"}),
    ],
    6: [
        # A failure counts how many runs in a row met it, on the same file, so a run can give up on it.
        lambda conn: _add_missing_columns(conn, "ingest_error", {"failures": "INTEGER NOT NULL DEFAULT 1",
                                                                 "size": "INTEGER", "mtime_ns": "INTEGER"}),
    ],
    7: [
        # Works: documents get their authors, PMCID, work and title key; tables work and
        # text_sketch are new. The documents stored so far are linked into works at once, from
        # their stored text and identity (authors and PMCIDs come with their next reading).
        lambda conn: _add_missing_columns(conn, "document", {"authors": "JSON", "pmcid": "VARCHAR", "work_id": "INTEGER",
                                                             "duplicate_of": "INTEGER", "title_key": "VARCHAR"}),
        lambda conn: _link_stored_documents(conn.connection.driver_connection),
    ],
}
# Look-ups of copies of a document (pipeline.store.works): made by every open, old files too.
_INDEXES = [
    "CREATE INDEX IF NOT EXISTS ix_document_doi_lower ON document (lower(doi))",
    "CREATE INDEX IF NOT EXISTS ix_document_pmid ON document (pmid)",
    "CREATE INDEX IF NOT EXISTS ix_document_pmcid ON document (pmcid)",
    "CREATE INDEX IF NOT EXISTS ix_document_work_id ON document (work_id)",
    "CREATE INDEX IF NOT EXISTS ix_document_title_key ON document (title_key)",
]


def _link_stored_documents(db: sqlite3.Connection) -> None:
    """Title keys, text sketches and works of the documents of an older database."""
    for statement in _INDEXES:
        db.execute(statement)
    ids = [doc_id for (doc_id,) in db.execute("SELECT id FROM document WHERE work_id IS NULL ORDER BY id")]
    for doc_id in ids:
        title, authors, text = db.execute("SELECT title, authors, text FROM document WHERE id = ?", (doc_id,)).fetchone()
        db.execute("UPDATE document SET title_key = ? WHERE id = ?",
                   (works.title_key(title, json.loads(authors) if authors else None), doc_id))
        db.executemany("INSERT INTO text_sketch (hash, document_id) VALUES (?, ?)",
                       [(h, doc_id) for h in works.sketch(text)])
        works.settle(db, works.link(db, [doc_id]))


def _add_missing_columns(conn, table: str, columns: dict[str, str]) -> None:
    present = {row[1] for row in conn.exec_driver_sql(f"PRAGMA table_info({table})")}
    for name, sql_type in columns.items():
        if name not in present:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}")

_CHILD_TABLES = [SectionRow, SentenceRow, AbbreviationRow, DocTable, TableCell, TextSketch,
                 *(k.table for k in RECORD_KINDS.values())]
# A document whose records are current: its file is there and no other copy of its work is
# shown instead (pipeline.store.works).
SHOWN = "d.withdrawn_run IS NULL AND d.duplicate_of IS NULL"

VIEWS = {
    # One row per current outcome figure (withdrawn documents and copies of a work shown by
    # another copy left out) with the context needed to read and cite it without joins (the
    # work's identity, merged from its copies), and the reviewer's verdict if there is one.
    "outcome_evidence": """
        SELECT o.id AS outcome_id, o.key AS evidence_key, d.id AS document_id, d.path AS document,
               COALESCE(d.title, w.title) AS title, d.work_id AS work, w.pmid, w.doi, w.pmcid, w.year, w.journal,
               (SELECT j.value FROM json_each(w.authors) AS j WHERE j.key = 0) AS first_author,
               (SELECT group_concat(j.value, '; ') FROM json_each(w.authors) AS j) AS authors,
               o.trial, (SELECT group_concat(j.value, ' + ') FROM json_each(o.drugs) AS j) AS drugs,
               o.endpoint, o.measure, o.value, o.value_text, o.unit, o.ci_low, o.ci_high,
               o.count, o.total, o.p_value, o.arm, o.population,
               s.name AS study, s.role AS study_role, a.label AS arm_label, a.kind AS arm_kind, a.size AS arm_size,
               s.size AS study_size, o.attribution,
               o.page, o.section, o.sentence_text AS sentence,
               o.table_idx, t.label AS table_label, o.table_row, o.table_column, o.rule,
               o.confidence, o.needs_review,
               c.status AS curation, c.corrected_value, c.corrections, c.comment AS curation_comment,
               c.reviewer
        FROM outcome AS o
        JOIN document AS d ON d.id = o.document_id
        LEFT JOIN work AS w ON w.id = d.work_id
        LEFT JOIN study AS s ON s.document_id = o.document_id AND s.ref = o.study_ref
        LEFT JOIN study_arm AS a ON a.document_id = o.document_id AND a.ref = o.arm_ref
        LEFT JOIN doc_table AS t ON t.document_id = o.document_id AND t.idx = o.table_idx
        LEFT JOIN curation AS c ON c.key = o.key
        WHERE d.withdrawn_run IS NULL AND d.duplicate_of IS NULL
    """,
    # Every curation with whether its record is still there; "orphaned" ones need a look.
    "curation_state": " UNION ALL ".join(
        f"""SELECT c.id AS curation_id, c.key, c.status, c.corrected_value, c.comment, c.reviewer,
                   c.updated_at, c.orphaned_run, '{name}' AS type, r.id AS record_id, d.path AS document
            FROM curation AS c JOIN {kind.table.__tablename__} AS r ON r.key = c.key
            JOIN document AS d ON d.id = r.document_id AND d.withdrawn_run IS NULL AND d.duplicate_of IS NULL"""
        for name, kind in RECORD_KINDS.items()
    ) + """ UNION ALL
        SELECT c.id, c.key, c.status, c.corrected_value, c.comment, c.reviewer, c.updated_at,
               c.orphaned_run, c.type, NULL, c.document
        FROM curation AS c WHERE NOT EXISTS (""" + " UNION ALL ".join(
        f"""SELECT 1 FROM {kind.table.__tablename__} AS r JOIN document AS d ON d.id = r.document_id
            WHERE r.key = c.key AND d.withdrawn_run IS NULL AND d.duplicate_of IS NULL"""
        for kind in RECORD_KINDS.values()
    ) + ")",
}


class StoreError(EvxError):
    """The database cannot be opened, or a document cannot be stored."""


class DatabaseBusy(EvxError):
    """Another ingest or refresh holds the database."""


def database_failure(exc: BaseException, db_path: Path | str) -> EvxError | None:
    """What an SQLite error that stops a whole run means, as the error the CLI prints (exit 3
    for ``DatabaseBusy``, 2 for the others); None for an error that is not about the database
    as a whole (a constraint broken by one file's rows)."""
    if isinstance(exc, StoreDamaged):  # raised by the engine's hook (_engine)
        return exc
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    if not isinstance(cause, sqlite3.DatabaseError) or isinstance(cause, sqlite3.IntegrityError):
        return None
    if (damaged := damage_error(db_path, cause)) is not None:
        return damaged
    message = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    if "locked" in message or "busy" in message:
        return DatabaseBusy(f"{db_path} is locked by another program writing to it ({message}); not evx's "
                            "own lock, so another SQLite client: run again when it is done")
    if getattr(cause, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "full" in message:
        return StoreError(f"cannot write to {db_path}: disk full ({message}); the last file is rolled back, "
                          "free some space and run again")
    if "I/O error" in message:
        message += f" ({_free_space(db_path)})"
    return StoreError(f"cannot use database {db_path}: {message}")


def _free_space(db_path: Path | str) -> str:
    """How much room the database's disk has left, as a hint to an I/O error's cause."""
    try:
        free = shutil.disk_usage(Path(db_path).resolve().parent).free
    except OSError:
        return "free space unknown"
    return f"{free / 1e6:,.0f} MB free on its disk"


@dataclass
class LoadResult:
    """What one ``load_file`` call changed."""

    documents: int = 0  # documents stored
    replaced: int = 0  # documents of an earlier version of the file, removed
    records: Counter[str] = field(default_factory=Counter)  # records stored, by type
    added: int = 0  # records whose key is new
    removed: int = 0  # records whose key is gone
    changed: int = 0  # records with the same key and other fields


@dataclass(frozen=True)
class StoredFile:
    """What the database holds of one source file."""

    sha256: str
    extractor_version: str
    documents: int
    withdrawn_run: int | None = None
    size: int | None = None
    mtime_ns: int | None = None

    @property
    def stat(self) -> FileStat | None:
        return None if self.size is None or self.mtime_ns is None else (self.size, self.mtime_ns)


FileStat = tuple[int, int]  # size in bytes, modification time in ns


def open_store(db_path: Path | str, create: bool = False, *, readonly: bool = False) -> Engine:
    """An engine on the database at ``db_path``.

    With ``create``, a missing database (and its folder) is made and the tables and views are
    brought up to date; without it a missing database is a ``StoreError``. With ``readonly``
    (export, status) every connection only reads (``connect_readonly``), so a database in a
    read-only folder or on read-only media opens too; a database of an older schema is still
    upgraded in place first, which needs it writable.

    A damaged database (SQLite's "database disk image is malformed") is a ``StoreDamaged``
    wherever a statement meets it, not an SQL error escaping to the user.
    """
    path = Path(db_path) if create else require_db(db_path)
    try:
        if readonly:
            engine = _engine(path, creator=lambda: connect_readonly(path))
            with engine.connect() as conn:
                if conn.exec_driver_sql("PRAGMA user_version").scalar_one() == SCHEMA_VERSION:
                    return engine
            engine.dispose()  # an older or newer schema: the writing open upgrades it or says why not
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = _engine(path)
        event.listen(engine, "connect", _on_connect)
        with engine.begin() as conn:
            version = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
            if version > SCHEMA_VERSION:
                raise StoreError(f"{path} has schema version {version}; this evx knows up to {SCHEMA_VERSION} (upgrade evx)")
            if create or version < SCHEMA_VERSION:
                _create_or_migrate(conn, version)
    except (SQLAlchemyError, OSError) as exc:
        if isinstance(busy := database_failure(exc, path), DatabaseBusy):
            raise busy from exc
        cause = getattr(exc, "orig", None) or exc  # the sqlite3 error, without SQLAlchemy's wrapping
        raise StoreError(f"cannot open database {path}: {_first_line(cause)}") from exc
    return engine


def require_db(db_path: Path | str) -> Path:
    """``db_path`` if a database file is there, else a ``StoreError`` saying how to make one."""
    path = Path(db_path)
    if not path.is_file():
        raise StoreError(f"no database at {path} (run `evx ingest` first, or choose one with --db / EVX_DB)")
    return path


BUSY_TIMEOUT_MS = 30_000  # how long a statement waits for another connection's write to end


def _engine(path: Path, creator=None) -> Engine:
    engine = create_engine(f"sqlite:///{path}", json_serializer=_json_dumps, **({"creator": creator} if creator else {}))

    def damaged(context) -> None:
        # The one place an SQLAlchemy statement's damaged-file error becomes ours (export,
        # status, refresh, review...); raising here replaces SQLAlchemy's wrapped error.
        error = damage_error(path, context.original_exception)
        if error is not None:
            raise error from context.original_exception

    event.listen(engine, "handle_error", damaged)
    return engine


class StoreDamaged(StoreError):
    """The database file is damaged (SQLite found a malformed page)."""


def damage_error(db_path: Path | str, exc: BaseException) -> StoreDamaged | None:
    """A ``StoreDamaged`` for ``exc`` if it is SQLite reporting a damaged file, else None."""
    if isinstance(exc, sqlite3.DatabaseError) and (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_CORRUPT:
        return StoreDamaged(_damaged_message(db_path, _first_line(exc)))
    return None


def _damaged_message(db_path: Path | str, problem: str) -> str:
    return f"database {db_path} is damaged: {problem}; restore it from a backup or rebuild it with evx ingest"


# Opening a database read-only fails with these when SQLite cannot make the -shm file the
# write-ahead log needs (a read-only folder or medium).
_NO_SHM = {getattr(sqlite3, "SQLITE_READONLY_DIRECTORY", 1544), getattr(sqlite3, "SQLITE_READONLY_CANTINIT", 1288),
           sqlite3.SQLITE_CANTOPEN}


def connect_readonly(db_path: Path | str) -> sqlite3.Connection:
    """A connection that can only read ``db_path``, also in a read-only folder or on read-only media.

    It is opened with ``mode=ro``. Where SQLite cannot create the write-ahead log's -shm file
    there, it is opened ``immutable=1`` (no -shm, no locks) -- but only if there is no
    write-ahead log holding changes: immutable ignores the log, and would show the database
    without its last commits. (It also assumes nobody writes the file meanwhile: in a folder
    this process cannot write, only its owner could.)
    """
    path = require_db(db_path)
    uri = f"{path.resolve().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # opens the log, if it can
    except sqlite3.DatabaseError as exc:
        conn.close()
        if getattr(exc, "sqlite_errorcode", None) not in _NO_SHM:
            raise
        wal = path.with_name(path.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise StoreError(f"cannot read {path}: its folder is read-only and its write-ahead log {wal.name} holds "
                             "changes not yet in the database; copy both files to a writable folder") from None
        conn = sqlite3.connect(uri + "&immutable=1", uri=True, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA query_only=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # a refresh's checkpoint may hold the file a moment
    return conn


def check_store(db_path: Path | str, *, foreign_keys: bool = True) -> list[str]:
    """The problems SQLite finds in the database at ``db_path`` (empty: none), one line each.

    Runs ``PRAGMA quick_check`` (every page and record readable, indexes in order; a pass over
    the whole file) and, with ``foreign_keys``, ``PRAGMA foreign_key_check`` (rows pointing at
    missing rows). Reads only, so it works on a read-only copy too. Meant for ``evx check`` and
    for a refresh to call before it writes anything. A missing file is a ``StoreError``.
    """
    path = require_db(db_path)
    try:
        conn = connect_readonly(path)
    except sqlite3.DatabaseError as exc:
        return [_first_line(exc)]
    try:
        # A row may hold several lines under a "*** in database main ***" heading.
        problems = [line for (found,) in conn.execute("PRAGMA quick_check") if found != "ok"
                    for line in found.splitlines() if line.strip() and not line.startswith("***")]
        if foreign_keys and not problems:
            problems = [f"{table} row {rowid} points at a missing {parent} row"
                        for table, rowid, parent, _fk in conn.execute("PRAGMA foreign_key_check")]
    except sqlite3.DatabaseError as exc:  # too damaged for the check to get through
        problems = [_first_line(exc)]
    finally:
        conn.close()
    return problems


def check_message(db_path: Path | str, problems: Sequence[str]) -> str:
    """One line saying what is wrong with a database ``check_store`` found problems in."""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return _damaged_message(db_path, problems[0] + more)


def _on_connect(dbapi_conn, _record) -> None:
    # Foreign keys are off by default in SQLite; on, they catch a record pointing nowhere.
    dbapi_conn.execute("PRAGMA foreign_keys=ON")
    # A reviewer's command and a running refresh wait for each other's short transactions
    # instead of failing with "database is locked".
    dbapi_conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    _sync_normal_if_wal(dbapi_conn)


def _sync_normal_if_wal(dbapi_conn) -> None:
    # With the write-ahead log, synchronous=NORMAL keeps every commit atomic and a crashed or
    # killed process loses nothing committed; only a power loss may drop the last commits (the
    # next refresh loads those files again). It saves an fsync per file loaded. Without the
    # WAL the default (FULL) stays.
    # Checkpoints (which copy the log into the database and sync it) come every 10,000 pages
    # (40 MB of log) instead of 1,000: a fifth less time storing an abstract. The log is
    # folded in and removed when the last connection closes, as before.
    if dbapi_conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")
        dbapi_conn.execute("PRAGMA wal_autocheckpoint=10000")


# One encoder for every value: json.dumps with a non-default option builds a new one per call.
_json_dumps = json.JSONEncoder(ensure_ascii=False).encode


def _create_or_migrate(conn, version: int) -> None:
    # Write-ahead log: readers (evx query, export) see the last committed state while a
    # refresh writes, and a killed writer leaves nothing half done. It is a property of the file.
    conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    _sync_normal_if_wal(conn.connection.dbapi_connection)
    SQLModel.metadata.create_all(conn)  # makes only the tables that are missing
    for step in range(version + 1, SCHEMA_VERSION + 1) if version else ():
        for statement in MIGRATIONS.get(step, []):
            if callable(statement):
                statement(conn)
            else:
                conn.exec_driver_sql(statement)
    for statement in _INDEXES:
        conn.exec_driver_sql(statement)
    # Views hold no data: recreate them so their definition always matches this evx.
    for name, sql in VIEWS.items():
        conn.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE VIEW {name} AS {sql}")
    conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")


# ----------------------------------------------------------------------------- source files


def source_files(engine: Engine) -> dict[str, StoredFile]:
    """Every source file the database knows, by path (one query, for a whole refresh)."""
    # Plain rows, not ORM objects: a refresh of 50,000 files reads them all.
    query = "SELECT path, sha256, extractor_version, documents, withdrawn_run, size, mtime_ns FROM source_file"
    with engine.connect() as conn:
        return {path: StoredFile(*fields) for path, *fields in conn.exec_driver_sql(query)}


def stored_file(engine: Engine, file_path: str) -> StoredFile | None:
    """What is stored from ``file_path``, or None if nothing ever was."""
    with Session(engine) as session:
        row = session.exec(select(SourceFile).where(SourceFile.path == file_path)).first()
    return row and _stored_file(row)


def _stored_file(row: SourceFile) -> StoredFile:
    return StoredFile(row.sha256, row.extractor_version, row.documents, row.withdrawn_run, row.size, row.mtime_ns)


def stored_documents(engine: Engine, file_path: str) -> list[Document] | None:
    """The documents stored from ``file_path``, rebuilt from their stored text and layout so they
    can be analysed again without the file; None if one of them has no stored layout."""
    # Plain SQL, not ORM objects: a re-extraction reads the documents of every stored file, and
    # the ORM took seven times as long.
    with engine.connect() as conn:
        db = conn.connection.driver_connection
        rows = list(_select_of(StoredDocument, "file_path", "id").rows(db, [file_path]))
    if any(row["layout"] is None for row in rows):
        return None
    return [_document_of(row) for row in rows]


def stored_document_stream(conn: Connection, file_path: str, chunk: int = 100) -> Iterator[Document] | None:
    """``stored_documents`` of a file holding many, read ``chunk`` at a time as they are
    consumed (on ``conn``, which may be loading the file anew meanwhile: the documents are
    those stored when this was called); None if one of them has no stored layout."""
    db = conn.connection.driver_connection
    found = db.execute(_DOCUMENT_LAYOUTS, (file_path,)).fetchall()
    if any(missing for _id, missing in found):
        return None
    ids = [doc_id for doc_id, _missing in found]

    def documents() -> Iterator[Document]:
        for part in _chunks(ids, chunk):
            yield from (_document_of(row) for row in _select_of(StoredDocument, "id", "id").rows(db, part))

    return documents()


_DOCUMENT_LAYOUTS = "SELECT id, layout IS NULL FROM document WHERE file_path = ? ORDER BY id"


def _layout_of(document: Document) -> dict:
    return {
        "pages": [[p.number, p.start, p.end] for p in document.pages],
        "sections": [[s.title, s.start, s.end] for s in document.sections],
        "tables": [dataclasses.asdict(t) for t in document.tables],
    }


def _document_of(row: dict[str, Any]) -> Document:
    layout = row["layout"] or {}
    return Document(
        source=row["path"], format=row["format"], text=row["text"], title=row["title"], pmid=row["pmid"],
        doi=row["doi"], journal=row["journal"], year=row["year"], authors=row.get("authors") or [], pmcid=row.get("pmcid"),
        pages=[PageSpan(*p) for p in layout.get("pages", [])],
        sections=[SectionSpan(*s) for s in layout.get("sections", [])],
        tables=[Table(**t) for t in layout.get("tables", [])],
    )


# ----------------------------------------------------------------------------- loading

# What a file's analysis becomes in the database is built apart from the database (``file_rows``,
# in the worker that analysed the file), as rows of values ready for SQLite; the run only runs
# the statements (``load_file``). The statements go to the sqlite3 connection as plain SQL:
# for the dozen short statements of a typical abstract, SQLAlchemy's work per statement costs
# more than SQLite's.


@cache
def _dialect() -> Dialect:
    # The dialect of every evx engine (create_engine connects to nothing): its column types
    # convert values for SQLite (JSON, datetimes, booleans).
    return create_engine("sqlite://", json_serializer=_json_dumps).dialect


class _Insert:
    """An INSERT of every column of ``model`` but the id, as plain SQL, with the ``late``
    columns last (filled in by the run: ids and times). ``values`` converts a row (a dict by
    column) as the column types do in SQLAlchemy, so the rows stored are the same."""

    def __init__(self, model: type[SQLModel], late: tuple[str, ...] = ()) -> None:
        table = model.__table__
        self.early = [c.key for c in table.columns if not c.primary_key and c.key not in late]
        names = [*self.early, *late]
        columns = ", ".join(f'"{name}"' for name in names)
        self.sql = f'INSERT INTO "{table.name}" ({columns}) VALUES ({_marks(len(names))})'
        self.get = operator.itemgetter(*self.early)
        converters = (table.c[name].type.bind_processor(_dialect()) for name in self.early)
        self.conversions = [(i, convert) for i, convert in enumerate(converters) if convert is not None]
        self.convert_late = {name: table.c[name].type.bind_processor(_dialect()) for name in late}

    def values(self, row: dict[str, Any]) -> tuple:
        values = list(self.get(row)) if len(self.early) > 1 else [self.get(row)]  # itemgetter of one key: no tuple
        for i, convert in self.conversions:
            values[i] = convert(values[i])
        return tuple(values)


@cache
def _insert_of(model: type[SQLModel]) -> _Insert:
    if model is StoredDocument:
        return _Insert(model, late=("file_path", "sha256", "ingested_at", "run_id"))
    if model in _CHILD_TABLES:
        return _Insert(model, late=("document_id",))
    return _Insert(model)


@cache
def _row_model(record_type: str) -> type[SQLModel]:
    """A plain model with the fields of the record type's table: it checks and converts values
    as the table model does, ten times faster (no ORM instance is built)."""
    table = RECORD_KINDS[record_type].table
    return types.new_class(f"{table.__name__}Row", table.__bases__, exec_body=lambda ns: ns.update(__module__=__name__))


class _Select:
    """A SELECT of every column of ``model`` by the values of column ``by`` (in ``order``, else
    SQLite's), as plain SQL; ``rows`` gives each row as a dict by column, its values converted as
    the column types do in SQLAlchemy (JSON, booleans, datetimes): the values SQLAlchemy reads."""

    def __init__(self, model: type[SQLModel], by: str, order: str | None = None) -> None:
        table = model.__table__
        self.names = [c.key for c in table.columns]
        columns = ", ".join(f'"{name}"' for name in self.names)
        self.sql = f'SELECT {columns} FROM "{table.name}" WHERE "{by}" IN '
        self.order = f' ORDER BY "{order}"' if order else ""
        dialect = _dialect()
        converters = ((name, table.c[name].type.dialect_impl(dialect).result_processor(dialect, None))
                      for name in self.names)
        self.conversions = [(name, convert) for name, convert in converters if convert is not None]

    def rows(self, db: sqlite3.Connection, values: list) -> Iterator[dict[str, Any]]:
        for chunk in _chunks(values):
            for found in db.execute(f"{self.sql}({_marks(len(chunk))}){self.order}", chunk):
                yield self.row(found)

    def row(self, found: Sequence) -> dict[str, Any]:
        """The first ``len(self.names)`` values of ``found``, as ``rows`` gives them."""
        row = dict(zip(self.names, found))
        for name, convert in self.conversions:
            row[name] = convert(row[name])
        return row


@cache
def _select_of(model: type[SQLModel], by: str, order: str | None = None) -> _Select:
    return _Select(model, by, order)


@dataclass
class FileRows:
    """The rows of one file's documents, ready for SQLite, built without the database. A child
    row holds the place of its document in the file until the run gives it the document's id.
    Tables are inserted whole, in document order, so ids come out as if inserted document by
    document."""

    documents: list[tuple] = field(default_factory=list)  # values of document rows, without the late columns
    tables: dict[type[SQLModel], list[tuple[int, tuple]]] = field(
        default_factory=lambda: {table: [] for table in _CHILD_TABLES})  # (document's place, values)
    records: dict[str, tuple[str, str, dict]] = field(default_factory=dict)  # key -> (type, document path, state)
    counts: Counter[str] = field(default_factory=Counter)  # records by type
    source_sha256: str | None = None  # of the bytes the documents were read from, when read from a file


def file_rows(analysed: Sequence[tuple[Document, Analysis]], extractor_version: str) -> FileRows:
    """The rows that store ``analysed`` (the documents of one file); ``StoreError`` if a record
    breaks its type's shape."""
    rows = FileRows()
    for place, (document, analysis) in enumerate(analysed):
        _add_document(rows, place, document, analysis, extractor_version)
    return rows


def _add_document(rows: FileRows, place: int, document: Document, analysis: Analysis, extractor_version: str) -> None:
    digest = text_sha256(document.text)
    rows.documents.append(_insert_of(StoredDocument).values(dict(
        path=document.source, format=document.format, title=document.title, pmid=document.pmid, doi=document.doi,
        journal=document.journal, year=document.year, authors=document.authors or None, pmcid=document.pmcid,
        text=document.text, text_sha256=digest, layout=_layout_of(document), extractor_version=extractor_version,
        withdrawn_run=None, title_key=works.title_key(document.title, document.authors), work_id=None,
        duplicate_of=None,
    )))
    titles = [section.title for section in analysis.sections]

    def title_of(section: int) -> str | None:
        return titles[section] if 0 <= section < len(titles) else None

    def add(table: type[SQLModel], row: dict[str, Any]) -> None:
        rows.tables[table].append((place, _insert_of(table).values(row)))

    for value in works.sketch(document.text):
        add(TextSketch, dict(hash=value))
    for s in analysis.sections:
        add(SectionRow, dict(idx=s.index, title=s.title, start=s.start, end=s.end))
    for s in analysis.sentences:
        add(SentenceRow, dict(idx=s.index, start=s.start, end=s.end, page=s.page, section=title_of(s.section), text=s.text))
    for a in analysis.abbreviations:
        add(AbbreviationRow, dict(short=a.short, long=a.long, start=a.start, end=a.end))
    for idx, t in enumerate(analysis.tables):
        add(DocTable, dict(idx=idx, kind=t.kind, label=t.label, page=t.page if t.page is not None else document.page_at(t.start),
                           caption=t.caption.text if t.caption else None,
                           footnotes="\n".join(f.text for f in t.footnotes) or None, header_rows=t.header_rows,
                           n_rows=len(t.rows), n_columns=t.columns, start=t.start, end=t.end))
        for row in t.rows:
            for c in row:
                add(TableCell, dict(table_idx=idx, row_idx=c.row, column_idx=None if c.row in t.ragged else c.column,
                                    colspan=c.colspan, rowspan=c.rowspan, is_header=c.is_header, is_stub=c.is_stub,
                                    text=c.text, start=c.start, end=c.end))
    keys = KeyMaker(digest)
    for record in analysis.records:
        sentence = _sentence_of(record, analysis.sentences)
        kind = RECORD_KINDS.get(record.type)
        if kind is None:
            raise StoreError(f"unknown record type {record.type!r} (rule {record.rule})")
        data: dict[str, Any] = dict(vars(record))  # a shallow copy will do: validation copies lists
        del data["sentence"], data["type"]
        data.update(
            document_id=place,  # checked here as an int; the run gives the document's id
            page=document.page_at(record.start),
            section=title_of(sentence.section) if sentence else None,
            sentence_idx=sentence.index if sentence else None,
            sentence_text=sentence.text if sentence else None,
            extractor_version=extractor_version,
            key=keys.key(record.type, record.start, record.end, data),
        )
        row = _checked_record(document, record, data)
        add(kind.table, row)
        rows.records[row["key"]] = (record.type, document.source, state_of(record.type, row))
        rows.counts[record.type] += 1


def _checked_record(document: Document, record: Record, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` checked against the shape of ``record``'s type and converted to its columns."""
    model = _row_model(record.type)
    row = model.__new__(model)
    try:
        # What SQLModel's model_validate does for a model without a table, without its copies of
        # the instance's dict: the same validator, twice as fast. The validated fields are the dict.
        model.__pydantic_validator__.validate_python(data, self_instance=row)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise StoreError(
            f"{document.source}: {record.type} record from rule {record.rule} at {record.start}-{record.end}: "
            f"{where}: {problem['msg']}"
        ) from exc
    return vars(row)


def _sentence_of(record: Record, sentences: list[Sentence]) -> Sentence | None:
    """The sentence holding ``record``: by its index, else by its offset."""
    if 0 <= record.sentence < len(sentences) and sentences[record.sentence].index == record.sentence:
        return sentences[record.sentence]
    return next((s for s in sentences if s.start <= record.start < s.end), None)


_DOCUMENTS_OF_FILE = "SELECT id, path, withdrawn_run IS NULL AND duplicate_of IS NULL FROM document WHERE file_path = ?"
# A new file gets a row; a known one keeps its id and first_run.
_UPSERT_SOURCE_FILE = (
    "INSERT INTO source_file (path, sha256, documents, extractor_version, first_run, changed_run, withdrawn_run, size, "
    "mtime_ns) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?) ON CONFLICT (path) DO UPDATE SET sha256 = excluded.sha256, "
    "documents = excluded.documents, extractor_version = excluded.extractor_version, changed_run = excluded.changed_run, "
    "withdrawn_run = NULL, size = excluded.size, mtime_ns = excluded.mtime_ns"
)
_CLEAR_ERROR = "DELETE FROM ingest_error WHERE path = ?"
# Keys travel as one JSON array: no cap on their number, one statement.
_FLAG_CURATIONS = "UPDATE curation SET orphaned_run = ? WHERE key IN (SELECT value FROM json_each(?)) AND orphaned_run IS NULL"
_UNFLAG_CURATIONS = "UPDATE curation SET orphaned_run = NULL WHERE key IN (SELECT value FROM json_each(?))"


def load_file(
    engine: Engine | Connection,
    file_path: str,
    sha256: str,
    analysed: Sequence[tuple[Document, Analysis]] | FileRows,
    extractor_version: str,
    *,
    run_id: int | None = None,
    force: bool = False,
    stat: FileStat | None = None,
) -> LoadResult:
    """Replace everything stored from source file ``file_path`` with ``analysed`` (all the
    documents read from it, or the ``file_rows`` made of them), in one transaction on ``engine``
    (or on a connection of it that the caller keeps for many loads): log the records added,
    removed and changed, flag the curations whose record is gone, update the ``source_file`` row
    (with ``stat``, the file's size and modification time as read) and clear the file's ingest
    error.

    Nothing is written when the file is already stored with the same sha256 and extractor
    version (unless ``force``). A record that breaks its type's shape raises ``StoreError`` and
    stores nothing.
    """
    if not force:
        known = stored_file(engine, file_path)
        if known and known.withdrawn_run is None and known.sha256 == sha256 and known.extractor_version == extractor_version:
            return LoadResult()
    rows = analysed if isinstance(analysed, FileRows) else file_rows(analysed, extractor_version)
    return load_file_pieces(engine, file_path, sha256, [rows], extractor_version, run_id=run_id, stat=stat)


def load_file_pieces(
    engine: Engine | Connection,
    file_path: str,
    sha256: str,
    pieces: Iterable[FileRows],
    extractor_version: str,
    *,
    run_id: int | None = None,
    stat: FileStat | None = None,
) -> LoadResult:
    """``load_file`` (with ``force``) of a file given as consecutive pieces: the rows of its
    first documents, then of the next ones... Each piece is stored as it comes, all in the one
    transaction of the file, so ``pieces`` may be a generator that reads and analyses the file
    while it is stored, and memory holds one piece however many documents the file has. An
    exception raised by ``pieces`` (a record broken half way through the file, a document over
    its time limit) or by storing rolls the whole file back: it stays as it was.

    The new documents are stored before the old ones are deleted, so the records of each piece
    are compared, by key, with the old records still in the tables; those no piece brought
    back are logged as removed at the end."""
    with _transaction(engine) as conn:
        load = _FileLoad(conn, file_path, sha256, run_id)
        for rows in pieces:
            load.add(rows)
        return load.finish(extractor_version, stat)


class _FileLoad:
    """One file being loaded in pieces, inside the transaction of ``conn`` (``load_file_pieces``)."""

    def __init__(self, conn: Connection, file_path: str, sha256: str, run_id: int | None) -> None:
        self.conn, self.db = conn, conn.connection.driver_connection  # the sqlite3 connection, in the transaction
        self.file_path, self.sha256, self.run_id = file_path, sha256, run_id
        old = self.db.execute(_DOCUMENTS_OF_FILE, (file_path,)).fetchall()
        self.old = [doc_id for doc_id, _path, _shown in old]
        # Records of withdrawn documents were logged as removed when they were withdrawn, those
        # of a copy of a work shown by another copy when it went out of view.
        self.old_current = {doc_id for doc_id, _path, shown in old if shown}
        self.first_new: int | None = None  # id of the first document stored: all from there on are the file's new ones
        self.ingested_at = _insert_of(StoredDocument).convert_late["ingested_at"](datetime.now(timezone.utc))
        self.result = LoadResult(replaced=len(old))

    def add(self, rows: FileRows) -> None:
        """Store one piece and log its records that are new or changed."""
        db, result = self.db, self.result
        before, stored = self._earlier(rows)  # looked up before the piece's own rows are in
        documents = _insert_of(StoredDocument)
        late = (self.file_path, self.sha256, self.ingested_at, self.run_id)
        doc_ids = [db.execute(documents.sql, values + late).lastrowid for values in rows.documents]
        if doc_ids and self.first_new is None:
            self.first_new = doc_ids[0]
        for table, table_rows in rows.tables.items():
            _insert_rows(db, table, [(*values, doc_ids[place]) for place, values in table_rows])
        # Each new document joins the work of its other copies. Copies of other files (or of
        # earlier pieces) that went out of view or came back are logged; of the new documents,
        # only the records of those shown.
        hidden, shown = works.settle(db, works.link(db, doc_ids, self.old), exclude=self.old)
        new = set(doc_ids)
        self._count(_log_shown(self.conn, self.run_id, {i: p for i, p in hidden.items() if i not in new},
                               {i: p for i, p in shown.items() if i not in new}))
        duplicates = {path for (path,) in db.execute(
            f"SELECT path FROM document WHERE id IN ({_marks(len(doc_ids))}) AND duplicate_of IS NOT NULL", doc_ids)}
        after = {key: record for key, record in rows.records.items() if key not in stored and record[1] not in duplicates}
        added, _removed, changed = _log_changes(self.conn, self.run_id, before, after, removals=False)
        result.added += added
        result.changed += changed
        result.documents += len(rows.documents)
        result.records.update(rows.counts)

    def _count(self, changes: tuple[int, int, int]) -> None:
        added, removed, changed = changes
        self.result.added += added
        self.result.removed += removed
        self.result.changed += changed

    def _earlier(self, rows: FileRows) -> tuple[dict[str, tuple[str, str, dict]], set[str]]:
        """Of the piece's record keys: the old records with them (key -> (type, "", state)), and
        those an earlier piece stored already (the file holds the same document twice)."""
        before: dict[str, tuple[str, str, dict]] = {}
        stored: set[str] = set()
        if not self.old_current and self.first_new is None:
            return before, stored  # a new file's first piece: nothing to compare with
        keys: dict[str, list[str]] = {}
        for key, (kind, _document, _state) in rows.records.items():
            keys.setdefault(kind, []).append(key)
        for kind, kind_keys in keys.items():
            for row in _select_of(RECORD_KINDS[kind].table, "key").rows(self.db, kind_keys):
                if row["document_id"] in self.old_current:
                    before.setdefault(row["key"], (kind, "", state_of(kind, row)))
                elif self.first_new is not None and row["document_id"] >= self.first_new:
                    stored.add(row["key"])
        return before, stored

    def finish(self, extractor_version: str, stat: FileStat | None) -> LoadResult:
        """Log the old records no piece brought back as removed, delete the old documents and
        record the file."""
        db, result = self.db, self.result
        if self.old_current:
            for batch in self._gone():
                _added, removed, _changed = _log_changes(self.conn, self.run_id, batch, {})
                result.removed += removed
        old_works = works.works_of(db, self.old)
        _delete_documents(db, self.old)
        # The other copies of a work this file's old version was the shown copy of, or was in.
        self._count(_log_shown(self.conn, self.run_id, *works.settle(db, old_works)))
        size, mtime_ns = stat or (None, None)
        db.execute(_UPSERT_SOURCE_FILE, (self.file_path, self.sha256, result.documents, extractor_version, self.run_id,
                                         self.run_id, size, mtime_ns))
        db.execute(_CLEAR_ERROR, (self.file_path,))
        return result

    def _gone(self, batch: int = 1000) -> Iterator[dict[str, tuple[str, str, dict]]]:
        """key -> (type, document path, state) of the old records whose key no new
        record has, a batch at a time, each key once."""
        first_new = self.first_new if self.first_new is not None else 1 << 62
        for kind, record_kind in RECORD_KINDS.items():
            select = _select_of(record_kind.table, "document_id")
            table = record_kind.table.__tablename__
            columns = ", ".join(f'r."{name}"' for name in select.names)
            cursor = self.db.execute(
                f'SELECT {columns}, d.path FROM "{table}" AS r JOIN document AS d ON d.id = r.document_id '
                f"WHERE d.file_path = ? AND {SHOWN} AND d.id < ? AND r.key != '' "
                f'AND NOT EXISTS (SELECT 1 FROM "{table}" AS n JOIN document AS nd ON nd.id = n.document_id '
                f"AND nd.duplicate_of IS NULL WHERE n.key = r.key AND n.document_id >= ?) "
                f"GROUP BY r.key", (self.file_path, first_new, first_new))
            while found := cursor.fetchmany(batch):
                rows = [(select.row(values), values[-1]) for values in found]
                yield {row["key"]: (kind, path, state_of(kind, row)) for row, path in rows}


def checkpoint(conn: Connection) -> None:
    """Copy the write-ahead log into the database file now, without waiting for readers
    (SQLite's PASSIVE checkpoint): a run with workers does it while it waits for them, so
    that closing the database at the end has little left to copy and sync. Call it between
    transactions. (A database not in WAL mode has no log: this is then a no-op.)"""
    conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")


@contextmanager
def _transaction(target: Engine | Connection) -> Iterator[Connection]:
    """A transaction on a connection from ``target``'s pool, or on ``target`` itself if it is a
    connection (a run keeps one for all its loads: that saves a checkout from the pool and its
    return per file)."""
    if isinstance(target, Connection):
        with target.begin():
            yield target
    else:
        with target.begin() as conn:
            yield conn


def _insert_rows(db: sqlite3.Connection, table: type[SQLModel], rows: list[tuple]) -> None:
    # One executemany per table: a long article has thousands of sentences.
    if rows:
        db.executemany(_insert_of(table).sql, rows)


def load_document(
    engine: Engine,
    document: Document,
    analysis: Analysis,
    *,
    sha256: str,
    extractor_version: str,
    file_path: str | None = None,
    run_id: int | None = None,
) -> LoadResult:
    """``load_file`` for a file holding one document (``file_path`` defaults to its source)."""
    return load_file(engine, file_path or document.source, sha256, [(document, analysis)], extractor_version, run_id=run_id)


def withdraw_file(engine: Engine, file_path: str, run_id: int | None) -> LoadResult:
    """Mark the documents of a file that disappeared as withdrawn by ``run_id``; their records
    stay in the tables (out of the views and exports) and are logged as removed."""
    return _set_withdrawn(engine, file_path, run_id, withdrawn=True)


def restore_file(engine: Engine, file_path: str, run_id: int | None) -> LoadResult:
    """Bring back a withdrawn file that reappeared with the content it had: its documents and
    records return as they were (logged as added) and their curations are attached again."""
    return _set_withdrawn(engine, file_path, run_id, withdrawn=False)


def _set_withdrawn(engine: Engine, file_path: str, run_id: int | None, *, withdrawn: bool) -> LoadResult:
    """Withdraw or restore the documents of ``file_path`` in one transaction, logging the
    records that leave or come into view: theirs, and those of other copies of their works
    (a copy comes back when the shown one is withdrawn, and goes again when it returns).
    ``replaced`` counts documents withdrawn, ``documents`` restored."""
    result = LoadResult()
    with engine.begin() as conn:
        db = conn.connection.driver_connection
        affected = "withdrawn_run IS NULL" if withdrawn else "withdrawn_run IS NOT NULL"
        docs = dict(db.execute(f"SELECT id, path FROM document WHERE file_path = ? AND {affected}", (file_path,)))
        was_shown = {doc_id: docs[doc_id] for (doc_id,) in db.execute(
            "SELECT id FROM document WHERE file_path = ? AND withdrawn_run IS NULL AND duplicate_of IS NULL", (file_path,))
            if doc_id in docs}
        mark = run_id if withdrawn else None
        conn.execute(update(StoredDocument).where(StoredDocument.file_path == file_path).values(withdrawn_run=mark))
        conn.execute(update(SourceFile).where(SourceFile.path == file_path).values(withdrawn_run=mark))
        hidden, shown = works.settle(db, works.works_of(db, docs))
        hidden = {doc_id: path for doc_id, path in hidden.items() if doc_id not in docs}
        shown = {doc_id: path for doc_id, path in shown.items() if doc_id not in docs}
        if withdrawn:
            hidden.update(was_shown)
        else:
            shown.update((doc_id, docs[doc_id]) for (doc_id,) in db.execute(
                "SELECT id FROM document WHERE file_path = ? AND duplicate_of IS NULL", (file_path,)) if doc_id in docs)
        result.added, result.removed, result.changed = _log_shown(conn, run_id, hidden, shown)
        if withdrawn:
            result.replaced = len(docs)
        else:
            result.documents = len(docs)
    return result


def _log_shown(conn: Connection, run_id: int | None, hidden: dict[int, str], shown: dict[int, str]) -> tuple[int, int, int]:
    """Log the records of documents that went out of view as removed, of those that came into
    view as added (a record in both, by key, as changed if it differs)."""
    if not hidden and not shown:
        return 0, 0, 0
    db = conn.connection.driver_connection
    return _log_changes(conn, run_id, _current_records(db, hidden), _current_records(db, shown))


def _current_records(db: sqlite3.Connection, documents: dict[int, str]) -> dict[str, tuple[str, str, dict]]:
    """key -> (type, document path, state) of every record of ``documents`` (id -> path)."""
    found: dict[str, tuple[str, str, dict]] = {}
    if not documents:
        return found
    # Plain SQL: through SQLAlchemy, these five queries cost a changed abstract more than storing it.
    for name, kind in RECORD_KINDS.items():
        for row in _select_of(kind.table, "document_id").rows(db, list(documents)):
            if row["key"]:  # records stored before keys existed have none
                found[row["key"]] = (name, documents[row["document_id"]], state_of(name, row))
    return found


def _log_changes(
    conn: Connection,
    run_id: int | None,
    before: dict[str, tuple[str, str, dict]],
    after: dict[str, tuple[str, str, dict]],
    *,
    removals: bool = True,
) -> tuple[int, int, int]:
    """Write the difference between two sets of records to ``evidence_change``; flag curations
    whose record went, unflag those whose record came back. Returns (added, removed, changed).
    Without ``removals``, ``before`` holds only records that ``after`` may have changed: its
    keys missing from ``after`` are not taken as gone."""
    rows = []
    for key, (kind, document, state) in after.items():
        if key not in before:
            rows.append(dict(run_id=run_id, key=key, type=kind, document=document, change="added", before=None, after=state))
        elif before[key][2] != state:
            rows.append(dict(run_id=run_id, key=key, type=kind, document=document, change="changed",
                             before=before[key][2], after=state))
    gone = [key for key in before if key not in after] if removals else []
    for key in gone:
        kind, document, state = before[key]
        rows.append(dict(run_id=run_id, key=key, type=kind, document=document, change="removed", before=state, after=None))
    db = conn.connection.driver_connection
    changes = _insert_of(EvidenceChange)
    _insert_rows(db, EvidenceChange, [changes.values(row) for row in rows])
    if gone:
        # 0 stands for "outside any run" (a load called from code without one).
        db.execute(_FLAG_CURATIONS, (run_id if run_id is not None else 0, json.dumps(gone)))
    back = [key for key in after if key not in before]
    if back:
        db.execute(_UNFLAG_CURATIONS, (json.dumps(back),))
    added = sum(1 for r in rows if r["change"] == "added")
    changed = sum(1 for r in rows if r["change"] == "changed")
    return added, len(gone), changed


def note_file_stat(engine: Engine, file_path: str, stat: FileStat | None) -> None:
    """Record the size and modification time of a stored file found unchanged by its hash."""
    size, mtime_ns = stat or (None, None)
    with engine.begin() as conn:
        conn.execute(update(SourceFile.__table__).where(SourceFile.__table__.c.path == file_path)
                     .values(size=size, mtime_ns=mtime_ns))


def record_error(engine: Engine, file_path: str, reason: str, run_id: int | None = None,
                 stat: FileStat | None = None) -> int:
    """Note that ``file_path`` failed (one row per file: the latest reason wins; the run keeps
    its own list in ``run_failure``), and return how many runs in a row it failed so: the same
    reason with the same ``stat`` (size and time stamp, None when unknown) as last time counts
    one more, anything else starts again at 1."""
    with Session(engine) as session, session.begin():
        earlier = session.exec(select(IngestError).where(IngestError.path == file_path)).first()
        same = (earlier is not None and stat is not None and earlier.reason == reason
                and (earlier.size, earlier.mtime_ns) == stat)
        failures = earlier.failures + 1 if same else 1
        session.execute(delete(IngestError).where(IngestError.path == file_path))
        size, mtime_ns = stat or (None, None)
        session.add(IngestError(path=file_path, reason=reason, at=datetime.now(timezone.utc), run_id=run_id,
                                failures=failures, size=size, mtime_ns=mtime_ns))
        if run_id is not None:
            session.add(RunFailure(run_id=run_id, path=file_path, reason=reason))
    return failures


def clear_error(engine: Engine, file_path: str) -> None:
    """Forget an earlier failure of ``file_path``."""
    with Session(engine) as session, session.begin():
        session.execute(delete(IngestError).where(IngestError.path == file_path))


def _delete_documents(db: sqlite3.Connection, ids: Sequence[int]) -> None:
    # Plain SQL, for the same reason as _current_records.
    if not ids:
        return
    for chunk in _chunks(list(ids)):
        marks = _marks(len(chunk))
        for table in _CHILD_TABLES:
            db.execute(f'DELETE FROM "{table.__tablename__}" WHERE document_id IN ({marks})', chunk)
        db.execute(f'DELETE FROM "{StoredDocument.__tablename__}" WHERE id IN ({marks})', chunk)


def _marks(count: int) -> str:
    """The placeholders of ``count`` parameters: "?, ?, ?"."""
    return ", ".join("?" * count)


def _chunks(items: list, size: int = 500) -> Iterable[list]:
    # SQLite caps the number of parameters of one statement.
    for i in range(0, len(items), size):
        yield items[i:i + size]


@dataclass
class StoreStatus:
    """What ``evx status`` reports (documents and records of withdrawn files left out)."""

    db_path: str
    schema_version: int
    documents: int
    documents_by_format: dict[str, int]
    records: dict[str, int]
    errors: int
    extractor_versions: list[str]
    withdrawn_documents: int = 0
    last_run: dict[str, Any] | None = None  # id, command, status, started, finished
    duplicate_documents: int = 0  # copies of a work whose records another copy shows
    merged_works: list[dict[str, Any]] = field(default_factory=list)  # work, shown copy, other copies, reason


def store_status(engine: Engine, db_path: Path | str) -> StoreStatus:
    """Counts of current documents, records and errors in the database, and the latest run."""
    current = StoredDocument.withdrawn_run.is_(None) & StoredDocument.duplicate_of.is_(None)
    with Session(engine) as session:
        by_format = dict(session.exec(
            select(StoredDocument.format, func.count()).where(current)
            .group_by(StoredDocument.format).order_by(StoredDocument.format)
        ).all())
        records = {
            name: session.exec(
                select(func.count()).select_from(kind.table)
                .join(StoredDocument, StoredDocument.id == kind.table.document_id).where(current)
            ).one()
            for name, kind in RECORD_KINDS.items()
        }
        errors = session.exec(select(func.count()).select_from(IngestError)).one()
        withdrawn = session.exec(select(func.count()).select_from(StoredDocument)
                                 .where(StoredDocument.withdrawn_run.is_not(None))).one()
        merged = _merged_works(session.connection().connection.driver_connection)
        versions = session.exec(
            select(StoredDocument.extractor_version).where(current).distinct().order_by(StoredDocument.extractor_version)
        ).all()
        run = session.exec(select(Run).order_by(Run.id.desc()).limit(1)).first()
        schema = session.execute(text("PRAGMA user_version")).scalar_one()
    last_run = run and {
        "id": run.id, "command": run.command, "status": run.status,
        "started": run.started.isoformat(timespec="seconds"),
        "finished": run.finished and run.finished.isoformat(timespec="seconds"),
    }
    return StoreStatus(
        db_path=str(db_path), schema_version=schema, documents=sum(by_format.values()),
        documents_by_format=by_format, records=records, errors=errors, extractor_versions=list(versions),
        withdrawn_documents=withdrawn, last_run=last_run,
        duplicate_documents=sum(len(work["duplicates"]) for work in merged), merged_works=merged,
    )


@dataclass(frozen=True)
class FailedFile:
    """A file's last failure, as ``record_error`` left it."""

    reason: str
    failures: int  # runs in a row
    stat: FileStat | None  # of the file that failed


def failed_files(engine: Engine) -> dict[str, FailedFile]:
    """Every file whose last ingest failed, by path."""
    with Session(engine) as session:
        rows = session.exec(select(IngestError))
        return {e.path: FailedFile(e.reason, e.failures or 1, None if e.size is None or e.mtime_ns is None
                                   else (e.size, e.mtime_ns)) for e in rows}


def _merged_works(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """Works with copies out of view: the copy shown, the others, and why."""
    rows = db.execute(
        "SELECT w.id, p.path, w.reason, d.path FROM work AS w JOIN document AS p ON p.id = w.primary_document "
        "JOIN document AS d ON d.work_id = w.id AND d.duplicate_of = w.primary_document "
        "WHERE p.withdrawn_run IS NULL AND d.withdrawn_run IS NULL ORDER BY p.path, d.path").fetchall()
    merged: dict[int, dict[str, Any]] = {}
    for work, shown, reason, copy in rows:
        merged.setdefault(work, {"work": work, "shown": shown, "duplicates": [], "reason": reason})["duplicates"].append(copy)
    return list(merged.values())


def ingest_errors(engine: Engine) -> list[tuple[str, str]]:
    """(path, reason) of every file whose last ingest failed."""
    with Session(engine) as session:
        return [(e.path, e.reason) for e in session.exec(select(IngestError).order_by(IngestError.path))]


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# ----------------------------------------------------------------------------- source roots


def source_roots(engine: Engine) -> list[SourceRoot]:
    """The files and folders given to earlier runs, in the order they were first given."""
    with Session(engine) as session:
        return list(session.exec(select(SourceRoot).order_by(SourceRoot.id)))


def add_source_root(engine: Engine, path: str, abs_path: str, is_folder: bool, run_id: int | None) -> SourceRoot:
    with Session(engine) as session, session.begin():
        root = SourceRoot(path=path, abs_path=abs_path, is_folder=is_folder, added_run=run_id)
        session.add(root)
        session.flush()
        session.expunge(root)
        return root
