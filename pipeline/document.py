"""What readers yield: one source document's text with its pages, sections and tables.

Every offset is a character offset into ``Document.text``; the stored text is exactly this
string, so any record's (start, end) can be checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PageSpan:
    """Page ``number`` (1-based, as printed order in the file) covers text[start:end]."""

    number: int
    start: int
    end: int


@dataclass(frozen=True)
class SectionSpan:
    """A section the source itself marks (a structured-abstract label, a JATS <sec> title,
    a PDF table). ``title`` is as written ("RESULTS", "Case presentation", "Table 2")."""

    title: str
    start: int
    end: int


@dataclass(frozen=True)
class Table:
    """A table kept as rows of cells. It is rendered into ``Document.text`` one row per line,
    cells joined by " | ", the rows ending the block text[start:end] (a PDF table's block opens
    with its caption line), so every cell has exact offsets (``pipeline.tables.reader``).

    What the source says of its grid: ``header_rows`` (JATS ``<thead>`` rows; 0 when the source
    does not say, and the first rows before the data are taken), ``spans`` (per row, per cell,
    ``[colspan, rowspan]``; None when every cell covers one column and one row), ``notes`` (the
    table's footnotes as rendered after it; JATS ``<table-wrap-foot>``), ``label`` ("Table 2")
    and ``kind`` ("jats", "pdf"; None in layouts stored before it was kept: the document's
    format says)."""

    page: int | None
    rows: list[list[str]]
    start: int
    end: int
    caption: str | None = None
    header_rows: int = 0
    spans: list[list[list[int]]] | None = None
    notes: str | None = None
    label: str | None = None
    kind: str | None = None
    # A PDF table whose rows continue the table before it, at the foot of the previous page
    # (a block without caption atop the page, or "Table 2 (continued)", same columns).
    continued: bool = False


@dataclass
class Document:
    """One document read from a source file.

    ``source`` is the path as ingested; for files holding several records (PubMed XML,
    MEDLINE, RIS) it is ``path#PMID`` (or ``path#n``, 1-based, when a record has no PMID).
    """

    source: str
    format: str  # "pdf", "text", "pubmed-xml", "medline", "ris", "jats"
    text: str
    title: str | None = None
    pmid: str | None = None
    doi: str | None = None
    journal: str | None = None
    year: int | None = None
    # Authors as written by the source, "Surname, Given" where it says which is which (MEDLINE
    # FAU, PubMed XML, JATS, RIS), else as printed ("Given Surname" from PDF metadata).
    authors: list[str] = field(default_factory=list)
    pmcid: str | None = None  # "PMC1234567"
    pages: list[PageSpan] = field(default_factory=list)  # empty: the source has no pages
    sections: list[SectionSpan] = field(default_factory=list)  # empty: segmenter detects them
    tables: list[Table] = field(default_factory=list)

    def page_at(self, offset: int) -> int | None:
        """The page number holding character ``offset``, or None for unpaginated sources."""
        for page in self.pages:
            if page.start <= offset < page.end:
                return page.number
        return self.pages[-1].number if self.pages and offset >= self.pages[-1].end else None
