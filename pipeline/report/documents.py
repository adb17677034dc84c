"""Every record each document yielded, for the report's page per document."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, select

from pipeline.store.evidence import summary
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
        for name, kind in RECORD_KINDS.items():
            for row in session.exec(select(kind.table).where(kind.table.document_id.in_(list(pages)))
                                    if only is not None else select(kind.table)):
                page = pages.get(row.document_id)
                if page is None:  # withdrawn, or a copy of a work shown by another copy
                    continue
                page.records.append(DocumentRecord(
                    name, row.id, row.key, row.page, row.section, row.start, summary(name, row.model_dump()),
                    row.text, row.rule, row.needs_review, verdicts.get(row.key)))
    for page in pages.values():
        page.records.sort(key=lambda r: (r.start, r.type, r.id))
    return list(pages.values())
