"""Opening the evidence database and loading analysed documents into it.

Loading is re-runnable by construction: everything stored from one source file is replaced in
ONE transaction (delete old rows, insert new, commit), so a reader never sees a document half
loaded, and loading the same file twice leaves the database as it was.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import Engine, delete, event, func, insert, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, SQLModel, create_engine, select

from pipeline.analysis import Analysis, Sentence
from pipeline.document import Document
from pipeline.errors import EvxError
from pipeline.records import Record
from pipeline.store.models import (
    RECORD_KINDS,
    AbbreviationRow,
    IngestError,
    SectionRow,
    SentenceRow,
    StoredDocument,
)

DEFAULT_DB = Path("outputs/evidence.db")

# Bumped whenever the tables change; kept in PRAGMA user_version. A migration from version
# n-1 to n goes into MIGRATIONS[n] (SQL statements run in order) before the bump.
SCHEMA_VERSION = 1
MIGRATIONS: dict[int, list[str]] = {}

_CHILD_TABLES = [SectionRow, SentenceRow, AbbreviationRow, *(k.table for k in RECORD_KINDS.values())]

VIEWS = {
    # One row per outcome figure with the context needed to read it without joins.
    "outcome_evidence": """
        SELECT o.id AS outcome_id, d.id AS document_id, d.path AS document, d.title,
               o.trial, (SELECT group_concat(j.value, ' + ') FROM json_each(o.drugs) AS j) AS drugs,
               o.endpoint, o.measure, o.value, o.value_text, o.unit, o.ci_low, o.ci_high,
               o.count, o.total, o.p_value, o.arm, o.population,
               o.page, o.section, o.sentence_text AS sentence, o.confidence, o.needs_review
        FROM outcome AS o JOIN document AS d ON d.id = o.document_id
    """,
}


class StoreError(EvxError):
    """The database cannot be opened, or a document cannot be stored."""


@dataclass
class LoadResult:
    """What one ``load_file`` call changed."""

    documents: int = 0  # documents stored
    replaced: int = 0  # documents of an earlier version of the file, removed
    records: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class StoredFile:
    """What the database holds of one source file."""

    sha256: str
    extractor_version: str
    documents: int


def open_store(db_path: Path | str, create: bool = False) -> Engine:
    """An engine on the database at ``db_path``.

    With ``create``, a missing database (and its folder) is made and the tables and views are
    brought up to date; without it a missing database is a ``StoreError``.
    """
    path = Path(db_path) if create else require_db(db_path)
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(f"sqlite:///{path}", json_serializer=_json_dumps)
        event.listen(engine, "connect", _on_connect)
        with engine.begin() as conn:
            version = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
            if version > SCHEMA_VERSION:
                raise StoreError(f"{path} has schema version {version}; this evx knows up to {SCHEMA_VERSION} (upgrade evx)")
            if create:
                _create_or_migrate(conn, version)
    except (SQLAlchemyError, OSError) as exc:
        cause = getattr(exc, "orig", None) or exc  # the sqlite3 error, without SQLAlchemy's wrapping
        raise StoreError(f"cannot open database {path}: {_first_line(cause)}") from exc
    return engine


def require_db(db_path: Path | str) -> Path:
    """``db_path`` if a database file is there, else a ``StoreError`` saying how to make one."""
    path = Path(db_path)
    if not path.is_file():
        raise StoreError(f"no database at {path} (run `evx ingest` first, or choose one with --db / EVX_DB)")
    return path


def _on_connect(dbapi_conn, _record) -> None:
    # Foreign keys are off by default in SQLite; on, they catch a record pointing nowhere.
    dbapi_conn.execute("PRAGMA foreign_keys=ON")


def _json_dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _create_or_migrate(conn, version: int) -> None:
    if version == 0:
        SQLModel.metadata.create_all(conn)
    else:
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS.get(step, []):
                conn.exec_driver_sql(statement)
    # Views hold no data: recreate them so their definition always matches this evx.
    for name, sql in VIEWS.items():
        conn.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE VIEW {name} AS {sql}")
    conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")


def stored_file(engine: Engine, file_path: str) -> StoredFile | None:
    """The sha256 and extractor version of what is stored from ``file_path``, or None if
    nothing is (or its documents disagree, which only a changed file can cause)."""
    with Session(engine) as session:
        rows = session.exec(
            select(StoredDocument.sha256, StoredDocument.extractor_version, func.count())
            .where(StoredDocument.file_path == file_path)
            .group_by(StoredDocument.sha256, StoredDocument.extractor_version)
        ).all()
    if len(rows) != 1:
        return None
    sha256, version, count = rows[0]
    return StoredFile(sha256, version, count)


def load_file(
    engine: Engine,
    file_path: str,
    sha256: str,
    analysed: Sequence[tuple[Document, Analysis]],
    extractor_version: str,
) -> LoadResult:
    """Replace everything stored from source file ``file_path`` with ``analysed`` (all the
    documents read from it), in one transaction, and clear the file's ingest error.

    Nothing is written when the file is already stored with the same sha256 and extractor
    version. A record that breaks its type's shape raises ``StoreError`` and stores nothing.
    """
    known = stored_file(engine, file_path)
    if known and known.sha256 == sha256 and known.extractor_version == extractor_version:
        return LoadResult()
    result = LoadResult()
    now = datetime.now(timezone.utc)
    with Session(engine) as session, session.begin():
        old_ids = session.exec(select(StoredDocument.id).where(StoredDocument.file_path == file_path)).all()
        _delete_documents(session, old_ids)
        result.replaced = len(old_ids)
        for document, analysis in analysed:
            counts = _insert_document(session, document, analysis, file_path, sha256, extractor_version, now)
            result.documents += 1
            result.records.update(counts)
        session.execute(delete(IngestError).where(IngestError.path == file_path))
    return result


def load_document(
    engine: Engine,
    document: Document,
    analysis: Analysis,
    *,
    sha256: str,
    extractor_version: str,
    file_path: str | None = None,
) -> LoadResult:
    """``load_file`` for a file holding one document (``file_path`` defaults to its source)."""
    return load_file(engine, file_path or document.source, sha256, [(document, analysis)], extractor_version)


def record_error(engine: Engine, file_path: str, reason: str) -> None:
    """Note that ``file_path`` failed (one row per file: the latest reason wins)."""
    with Session(engine) as session, session.begin():
        session.execute(delete(IngestError).where(IngestError.path == file_path))
        session.add(IngestError(path=file_path, reason=reason, at=datetime.now(timezone.utc)))


def clear_error(engine: Engine, file_path: str) -> None:
    """Forget an earlier failure of ``file_path``."""
    with Session(engine) as session, session.begin():
        session.execute(delete(IngestError).where(IngestError.path == file_path))


def _delete_documents(session: Session, ids: Sequence[int]) -> None:
    if not ids:
        return
    for table in _CHILD_TABLES:
        session.execute(delete(table).where(table.document_id.in_(ids)))
    session.execute(delete(StoredDocument).where(StoredDocument.id.in_(ids)))


def _insert_document(
    session: Session,
    document: Document,
    analysis: Analysis,
    file_path: str,
    sha256: str,
    extractor_version: str,
    now: datetime,
) -> Counter[str]:
    row = StoredDocument(
        path=document.source, file_path=file_path, sha256=sha256, format=document.format,
        title=document.title, pmid=document.pmid, doi=document.doi, journal=document.journal,
        year=document.year, text=document.text, extractor_version=extractor_version, ingested_at=now,
    )
    session.add(row)
    session.flush()  # assigns row.id
    doc_id = row.id
    titles = [section.title for section in analysis.sections]

    def title_of(section: int) -> str | None:
        return titles[section] if 0 <= section < len(titles) else None

    # Bulk inserts: a long article has thousands of sentences.
    _bulk(session, SectionRow, [
        dict(document_id=doc_id, idx=s.index, title=s.title, start=s.start, end=s.end) for s in analysis.sections
    ])
    _bulk(session, SentenceRow, [
        dict(document_id=doc_id, idx=s.index, start=s.start, end=s.end, page=s.page,
             section=title_of(s.section), text=s.text)
        for s in analysis.sentences
    ])
    _bulk(session, AbbreviationRow, [
        dict(document_id=doc_id, short=a.short, long=a.long, start=a.start, end=a.end) for a in analysis.abbreviations
    ])
    counts: Counter[str] = Counter()
    for record in analysis.records:
        sentence = _sentence_of(record, analysis.sentences)
        kind = RECORD_KINDS.get(record.type)
        if kind is None:
            raise StoreError(f"unknown record type {record.type!r} (rule {record.rule})")
        data = dataclasses.asdict(record)
        del data["sentence"], data["type"]
        data.update(
            document_id=doc_id, page=document.page_at(record.start),
            section=title_of(sentence.section) if sentence else None,
            sentence_idx=sentence.index if sentence else None,
            sentence_text=sentence.text if sentence else None,
            extractor_version=extractor_version,
        )
        try:
            session.add(kind.table.model_validate(data))
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            raise StoreError(
                f"{document.source}: {record.type} record from rule {record.rule} at {record.start}-{record.end}: "
                f"{where}: {problem['msg']}"
            ) from exc
        counts[record.type] += 1
    session.flush()
    return counts


def _bulk(session: Session, table: type[SQLModel], rows: list[dict]) -> None:
    if rows:
        session.execute(insert(table), rows)


def _sentence_of(record: Record, sentences: list[Sentence]) -> Sentence | None:
    """The sentence holding ``record``: by its index, else by its offset."""
    if 0 <= record.sentence < len(sentences) and sentences[record.sentence].index == record.sentence:
        return sentences[record.sentence]
    return next((s for s in sentences if s.start <= record.start < s.end), None)


@dataclass
class StoreStatus:
    """What ``evx status`` reports."""

    db_path: str
    schema_version: int
    documents: int
    documents_by_format: dict[str, int]
    records: dict[str, int]
    errors: int
    extractor_versions: list[str]


def store_status(engine: Engine, db_path: Path | str) -> StoreStatus:
    """Counts of documents, records and errors in the database."""
    with Session(engine) as session:
        by_format = dict(session.exec(
            select(StoredDocument.format, func.count()).group_by(StoredDocument.format).order_by(StoredDocument.format)
        ).all())
        records = {
            name: session.exec(select(func.count()).select_from(kind.table)).one()
            for name, kind in RECORD_KINDS.items()
        }
        errors = session.exec(select(func.count()).select_from(IngestError)).one()
        versions = session.exec(
            select(StoredDocument.extractor_version).distinct().order_by(StoredDocument.extractor_version)
        ).all()
        schema = session.execute(text("PRAGMA user_version")).scalar_one()
    return StoreStatus(
        db_path=str(db_path), schema_version=schema, documents=sum(by_format.values()),
        documents_by_format=by_format, records=records, errors=errors, extractor_versions=list(versions),
    )


def ingest_errors(engine: Engine) -> list[tuple[str, str]]:
    """(path, reason) of every file whose last ingest failed."""
    with Session(engine) as session:
        return [(e.path, e.reason) for e in session.exec(select(IngestError).order_by(IngestError.path))]


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
