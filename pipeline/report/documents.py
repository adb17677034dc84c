"""Every record each document yielded, for the report's page per document."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import JSON, Engine
from sqlmodel import Session, select

from pipeline.store.evidence import STATE_FIELDS, summary
from pipeline.store.models import RECORD_KINDS, Curation, StoredDocument


@dataclass
class DocumentRecord:
    type: str
    id: int
    key: str
    page: int | None
    section: str | None
    start: int
    summary: str
    text: str
    rule: str
    needs_review: bool
    curation: str | None


@dataclass
class DocumentPage:
    id: int
    path: str
    title: str | None
    format: str
    year: int | None
    journal: str | None
    records: list[DocumentRecord]

    @property
    def file_name(self) -> str:
        return f"doc-{self.id}.html"  # ids, not paths: a path may hold anything


def document_pages(engine: Engine, only: set[int] | None = None) -> list[DocumentPage]:
    """The shown documents (``only``: those ids) with their records of every type, in text order."""
    with Session(engine) as session:
        query = select(StoredDocument.id, StoredDocument.path, StoredDocument.title, StoredDocument.format,
                       StoredDocument.year, StoredDocument.journal).where(
            StoredDocument.withdrawn_run.is_(None), StoredDocument.duplicate_of.is_(None)).order_by(StoredDocument.path)
        pages = {row[0]: DocumentPage(*row, records=[]) for row in session.exec(query) if only is None or row[0] in only}
        verdicts = dict(session.exec(select(Curation.key, Curation.status)).all())
    with engine.connect() as conn:
        for name, kind in RECORD_KINDS.items():
            # Plain SQL, not ORM objects: 12,500 records took 1 s as models, 0.2 s as rows.
            table = kind.table.__table__
            fields = [f for f in STATE_FIELDS[name] if f in table.columns]  # ci_level is read from ci_text, no column
            json_fields = {f for f in fields if isinstance(table.columns[f].type, JSON)}
            columns = ", ".join(f'"{f}"' for f in fields)
            sql = f'SELECT document_id, id, key, page, section, start, text, rule, needs_review, {columns} FROM "{table.name}"'
            for row in conn.exec_driver_sql(sql):
                page = pages.get(row[0])
                if page is None:  # withdrawn, a copy of a work shown by another copy, or not asked for
                    continue
                state = dict(zip(fields, row[9:]))
                for f in json_fields:
                    state[f] = json.loads(state[f]) if state[f] is not None else None
                page.records.append(DocumentRecord(name, row[1], row[2], row[3], row[4], row[5], summary(name, state),
                                                   row[6], row[7], bool(row[8]), verdicts.get(row[2])))
    for page in pages.values():
        page.records.sort(key=lambda r: (r.start, r.type, r.id))
    return list(pages.values())
