"""Assemble a document's text from blocks while recording section and table offsets.

Structured readers (PubMed XML, MEDLINE, RIS, JATS) build ``Document.text`` from parts; doing it
through one builder keeps every recorded span an exact index into the final text.
"""

from __future__ import annotations

import re

from pipeline.document import SectionSpan, Table

# Structured-abstract labels written inline ("BACKGROUND: ... METHODS: ..."): an all-caps label
# (first word >= 3 letters, so "OS:" or "CI:" do not count) at the start or after a sentence end.
_INLINE_LABEL = re.compile(
    r"(?:^|(?<=[.!?)]\s)|(?<=[.!?)]\s\s))([A-Z]{3,}(?:[ /&-]+[A-Z]+)*):\s"
)


class TextBuilder:
    """Joins blocks with a blank line (a single newline right after a heading)."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self._after_heading = False
        self.sections: list[SectionSpan] = []
        self.tables: list[Table] = []

    @property
    def pos(self) -> int:
        """Current end of the text (where the next block's separator would start)."""
        return self._length

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def add(self, block: str) -> tuple[int, int]:
        """Append ``block`` and return its (start, end); empty blocks are not added."""
        if not block:
            return self._length, self._length
        if self._parts:
            self._append("\n" if self._after_heading else "\n\n")
        self._after_heading = False
        start = self._length
        self._append(block)
        return start, self._length

    def next_start(self) -> int:
        """Where the next non-empty block will start (after its separator)."""
        if not self._parts:
            return self._length
        return self._length + (1 if self._after_heading else 2)

    def heading(self, title: str) -> int:
        """Append a heading line; the next block follows on the next line. Returns its start."""
        start, _ = self.add(title)
        self._after_heading = True
        return start

    def section(self, title: str, start: int) -> None:
        """Record a section from ``start`` to the current end of the text."""
        if self._length > start:
            self.sections.append(SectionSpan(title, start, self._length))

    def table(
        self, title: str, heading: str, rows: list[list[str]], caption: str | None, notes: str = "", *,
        header_rows: int = 0, spans: list[list[list[int]]] | None = None, kind: str | None = None,
    ) -> None:
        """Append a table as section ``title``: the heading line, one line per row with cells
        joined by " | " (recorded as a Table, with its header rows and cell spans), then the
        table's notes."""
        start = self.heading(heading)
        if rows:
            body = "\n".join(" | ".join(row) for row in rows)
            row_start, row_end = self.add(body)
            self.tables.append(Table(None, rows, row_start, row_end, caption, header_rows=header_rows, spans=spans,
                                     notes=notes or None, label=title, kind=kind))
        self._after_heading = False
        self.add(notes)
        self.section(title, start)

    def sorted_sections(self) -> list[SectionSpan]:
        """Sections in text order; an enclosing section comes before the ones inside it."""
        return sorted(self.sections, key=lambda s: (s.start, -s.end))

    def _append(self, piece: str) -> None:
        self._parts.append(piece)
        self._length += len(piece)


def abstract_sections(abstract: str, start: int) -> list[SectionSpan]:
    """Sections of an abstract placed at text[start:start+len(abstract)].

    Inline structured labels ("RESULTS: ...") each get a span up to the next label; the whole
    abstract gets an "Abstract" span unless a label opens it (then the labels cover it all).
    """
    labels = list(_INLINE_LABEL.finditer(abstract))
    spans: list[SectionSpan] = []
    if not labels or labels[0].start() > 0:
        spans.append(SectionSpan("Abstract", start, start + len(abstract)))
    for i, match in enumerate(labels):
        end = labels[i + 1].start() if i + 1 < len(labels) else len(abstract)
        label_start = start + match.start()
        body = abstract[match.start():end].rstrip()
        spans.append(SectionSpan(match.group(1), label_start, label_start + len(body)))
    return spans


_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)


def find_year(value: str | None) -> int | None:
    """The first plausible 4-digit year in ``value`` ("2018 May-Jun", "2014//")."""
    match = _YEAR.search(value or "")
    return int(match.group(1)) if match else None


def clean_doi(value: str | None) -> str | None:
    """A bare DOI ("10.1056/..."), without a resolver URL or "doi:" prefix; None if not a DOI."""
    if not value:
        return None
    doi = _DOI_PREFIX.sub("", value.strip())
    return doi if doi.startswith("10.") else None


_PMCID = re.compile(r"^(?:PMC)?\s*(\d{1,9})$", re.IGNORECASE)


def clean_pmcid(value: str | None) -> str | None:
    """ "PMC1234567" from "PMC1234567", "pmc1234567" or the bare number; None if not one."""
    match = _PMCID.match((value or "").strip())
    return f"PMC{match.group(1)}" if match else None


def author_name(surname: str | None, given: str | None) -> str | None:
    """ "Surname, Given" (or the one part there is)."""
    surname, given = (surname or "").strip(), (given or "").strip()
    return ", ".join(part for part in (surname, given) if part) or None


def title_and_abstract(title: str, abstract: str) -> tuple[str, list[SectionSpan]]:
    """Text "title\\n\\nabstract" of a bibliographic record, with its "Title"/abstract sections."""
    builder = TextBuilder()
    builder.section("Title", builder.add(title)[0])
    start, _ = builder.add(abstract)
    if abstract:
        builder.sections.extend(abstract_sections(abstract, start))
    return builder.text, builder.sorted_sections()
