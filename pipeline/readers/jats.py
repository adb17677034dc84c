"""PMC JATS reader (``<article>`` .nxml files, and extracts holding only abstract/sec/table-wrap).

Text layout, blocks separated by a blank line: the title; the abstract (a structured abstract's
section titles on their own line); the body sections in order, each title on its own line above
its paragraphs; figure captions; tables as a "Table 1. Caption" line then one line per row with
cells joined by " | ". References, footnotes and back matter are left out.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pipeline.document import Document
from pipeline.readers.builder import TextBuilder, author_name, clean_doi, clean_pmcid, find_year
from pipeline.readers.detect import JATS_ROOT, xml_root
from pipeline.readers.xmlsafe import inline_text, parse_xml

# Not read: citations, notes, media, and machine-only content (TeX next to MathML).
_SKIP = frozenset({
    "ref-list", "fn-group", "ack", "glossary", "graphic", "inline-graphic", "media", "object-id",
    "supplementary-material", "tex-math", "title", "alt-title", "table-wrap-foot",
})
_BLOCKS = frozenset({"p", "sec", "table-wrap", "fig", "fig-group", "list", "table", "disp-quote",
                     "boxed-text"})
# Abstract kinds that repeat or illustrate the real abstract.
_SKIPPED_ABSTRACTS = frozenset({"teaser", "graphical", "toc"})


def read_jats(data: bytes, source: str) -> list[Document]:
    """Read one JATS article (or article extract) into one document."""
    head = data[:4096].decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    root = parse_xml(data, fragment=xml_root(head) != JATS_ROOT)
    return [_JatsText().document(root, source)]


class _JatsText:
    """Walks a JATS tree in reading order, appending to one TextBuilder."""

    def __init__(self) -> None:
        self.builder = TextBuilder()
        self.table_count = 0
        # Some extracts carry a table's <label>/<caption> as siblings before a bare <table>.
        self.pending_label: str | None = None
        self.pending_caption: str | None = None

    def document(self, root: ET.Element, source: str) -> Document:
        meta = root.find("front/article-meta")
        meta = meta if meta is not None else ET.Element("article-meta")
        title = _text(meta.find("title-group/article-title"))
        self.builder.section("Title", self.builder.add(title or "")[0])

        if root.tag == JATS_ROOT:
            abstracts = meta.findall("abstract")
            rest = [root.find("body"), root.find("floats-group")]
        else:  # extract: abstracts and body parts side by side under the wrapper root
            abstracts = [child for child in root if child.tag == "abstract"]
            rest = [root]
        for abstract in abstracts:
            if abstract.get("abstract-type") not in _SKIPPED_ABSTRACTS:
                self.abstract(abstract)
        for container in rest:
            if container is not None:
                self.walk(container, skip=frozenset({"abstract"}))

        ids = {el.get("pub-id-type"): _text(el) for el in meta.findall("article-id")}
        journal = root.find("front/journal-meta/journal-title-group/journal-title")
        if journal is None:  # older NLM DTDs put journal-title directly in journal-meta
            journal = root.find("front/journal-meta/journal-title")
        years = [find_year(_text(el)) for el in meta.findall("pub-date/year")]
        return Document(
            source=source,
            format="jats",
            text=self.builder.text,
            title=title,
            pmid=ids.get("pmid"),
            doi=clean_doi(ids.get("doi")),
            journal=_text(journal),
            year=next((year for year in years if year), None),
            authors=_authors(meta),
            pmcid=clean_pmcid(ids.get("pmc") or ids.get("pmcid")),
            sections=self.builder.sorted_sections(),
            tables=self.builder.tables,
        )

    def abstract(self, abstract: ET.Element) -> None:
        """A structured abstract keeps its own section titles; otherwise one "Abstract" section."""
        if abstract.find("sec") is not None:
            self.walk(abstract)
            return
        start = self.builder.next_start()
        self.walk(abstract)
        self.builder.section("Abstract", start)

    def walk(self, elem: ET.Element, skip: frozenset[str] = frozenset()) -> None:
        for child in elem:
            if child.tag not in skip:
                self.block(child)

    def block(self, elem: ET.Element) -> None:
        """Append one block-level element."""
        tag = elem.tag
        if tag in _SKIP:
            return
        if tag == "sec":
            self.section(elem)
        elif tag == "p":
            self.paragraph(elem)
        elif tag == "table-wrap":
            self.table(
                _text(elem.find("label")),
                _text(elem.find("caption")),
                list(elem.iter("table")),
                _text(elem.find("table-wrap-foot")),
            )
        elif tag == "table":
            self.table(self.pending_label, self.pending_caption, [elem], None)
        elif tag == "label":
            self.pending_label = _text(elem)
        elif tag == "caption":
            self.pending_caption = _text(elem)
        elif tag == "fig":
            self.builder.add(_heading_line(_text(elem.find("label")), _text(elem.find("caption"))))
        elif tag == "list":
            for item in elem.findall("list-item"):
                self.builder.add(inline_text(item, _SKIP))
        elif any(child.tag in _BLOCKS for child in elem):  # boxed-text, disp-quote, fig-group...
            self.walk(elem)
        else:
            self.builder.add(inline_text(elem, _SKIP))

    def section(self, sec: ET.Element) -> None:
        """A <sec>: its (label and) title on a line of its own, then its content."""
        heading = " ".join(filter(None, [_text(sec.find("label")), _text(sec.find("title"))]))
        if not heading:
            self.walk(sec, skip=frozenset({"label"}))
            return
        start = self.builder.heading(heading)
        heading_end = self.builder.pos
        self.walk(sec, skip=frozenset({"label"}))
        if self.builder.pos > heading_end:  # a heading over nothing read (only media) is no section
            self.builder.section(heading.rstrip(":").strip() or heading, start)

    def paragraph(self, p: ET.Element) -> None:
        """A paragraph; tables, figures or lists nested in it follow it as blocks of their own."""
        nested = [child for child in p if child.tag in _BLOCKS]
        self.builder.add(inline_text(p, _SKIP | _BLOCKS))
        for child in nested:
            self.block(child)

    def table(
        self, label: str | None, caption: str | None, tables: list[ET.Element], notes: str | None
    ) -> None:
        self.table_count += 1
        self.pending_label = self.pending_caption = None
        title = (label or "").rstrip(".: ") or f"Table {self.table_count}"
        rows: list[list[str]] = []
        spans: list[list[list[int]]] = []
        header_rows = 0
        for table in tables:
            head = {id(tr) for thead in table.iter("thead") for tr in thead.iter("tr")}
            for tr in table.iter("tr"):
                elems = [cell for cell in tr if cell.tag in ("td", "th")]
                cells = [inline_text(cell, _SKIP) for cell in elems]
                if not any(cells):
                    continue
                if id(tr) in head and header_rows == len(rows):  # the leading <thead> rows
                    header_rows += 1
                rows.append(cells)
                spans.append([[_span(cell, "colspan"), _span(cell, "rowspan")] for cell in elems])
        heading = _heading_line(label or title, caption)
        spanned = any(span != [1, 1] for row in spans for span in row)
        self.builder.table(title, heading, rows, caption, notes or "", header_rows=header_rows,
                           spans=spans if spanned else None, kind="jats")


def _authors(meta: ET.Element) -> list[str]:
    """The article's authors in order: each ``<contrib contrib-type="author">``'s name (a group
    author by its ``<collab>``)."""
    authors = []
    for contrib in meta.iter("contrib"):
        if contrib.get("contrib-type", "author") != "author":
            continue
        name = contrib.find("name")
        if name is not None:
            author = author_name(_text(name.find("surname")), _text(name.find("given-names")))
        else:
            author = _text(contrib.find("collab")) or _text(contrib.find("string-name"))
        if author:
            authors.append(author)
    return authors


def _span(cell: ET.Element, attribute: str) -> int:
    """A cell's colspan or rowspan: 1 unless the attribute holds a number above 1."""
    value = (cell.get(attribute) or "").strip()
    return int(value) if value.isdigit() and 1 < int(value) < 1000 else 1


def _heading_line(label: str | None, caption: str | None) -> str:
    """ "Table 1. Caption" (no extra dot when the label already ends in punctuation)."""
    if not label or not caption:
        return label or caption or ""
    return f"{label} {caption}" if label[-1] in ".:" else f"{label}. {caption}"


def _text(elem: ET.Element | None) -> str | None:
    value = inline_text(elem, _SKIP - {"title"}) if elem is not None else ""
    return value or None
