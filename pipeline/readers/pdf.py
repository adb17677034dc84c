"""PDF reader: pypdfium2 text in column order, and tables on pages that have a table caption.

``Document.text`` layout:

* pages are joined by a blank line ("\\n\\n"); ``Document.pages`` maps offsets to pages;
* inside a page, lines are joined by "\\n" and paragraphs (a larger vertical gap) by "\\n\\n";
  a column change inside a page is a plain "\\n", because it usually falls mid-sentence;
* each table found on a page follows that page's text as a block: the caption line, then one
  line per row with cells joined by " | ". It has a ``Table`` and a ``SectionSpan``
  ("Table 2"), and its words are dropped from the page's flow text so figures appear once.

Clean-up: running headers, footers and page numbers are dropped, line-end hyphen breaks are
re-joined unless the hyphen is part of a compound ("HER2-positive"), ligatures and odd spaces
are normalised. Numbers keep their text form: the middle dot of Lancet decimals ("0·45"),
en dashes and minus signs are left as they are.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from operator import attrgetter
from pathlib import Path
from typing import Callable

import pypdfium2 as pdfium

from pipeline.document import Document, PageSpan, SectionSpan, Table
from pipeline.errors import ReaderError
from pipeline.readers.pdf_geometry import Edge, PageWords, Word, join_words, page_edges
from pipeline.readers.pdf_grid import grid_tables
from pipeline.readers.pdf_layout import Line, beyond_bmp, page_lines, reading_order
from pipeline.readers import pdf_meta
from pipeline.readers.pdf_meta import PdfMetadata

log = logging.getLogger(__name__)

# Headers and footers live in the top and bottom tenth of the page.
_MARGIN_SHARE = 0.10
_PAGE_NUMBER = re.compile(
    r"(?:page\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?"  # "3", "Page 3 of 10", "3/10"
    r"|\d{1,4}\s*[|•·]\s*\S.*|.*\S\s*[|•·]\s*\d{1,4}",  # "3 | Journal", "Journal | 3"
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")

# A caption line starts "Table 2." / "TABLE 2 Baseline..." / "Table 2—" / "Table 2 continued";
# "Table 2 shows" is text.
_CAPTION = re.compile(r"\s*(?:Table|TABLE)\s+(\d+|[IVX]+)\s*(?:[.:|—–-]|$|\s+[A-Z(]|\s+cont(?:inued|'d)\b)")
# "Table 2 (continued)", "Table 2. Continued", "TABLE 2 (cont'd)": the rest of a table of the
# previous page.
_CONTINUED = re.compile(r"\s*(?:Table|TABLE)\s+(?:\d+|[IVX]+)\W{0,3}(?:cont(?:inued|inuation|'d|d)?\b\.?)\W*$",
                        re.IGNORECASE)

_WORD = re.compile(r"[^\W_]+")  # a run of letters/digits
_TOKEN = re.compile(r"[^\W_]+(?:-[^\W_]+)*")  # a word or a hyphenated compound
# pdfium replaces a line-end hyphen by U+FFFE and merges the lines; a hyphen before a newline
# is the same break when pdfium did not recognise it (a line-end soft hyphen becomes U+FFFE).
_BREAK = re.compile(r"\ufffe\n?|[-\u2010]\n")
# Ligature glyphs that some fonts map to "fi " with a spurious space ("fi ndings", "Th is").
_LIGATURE_SPLIT = re.compile(r" (?<=(?:ff|fi|fl|Th) )(?=[a-z])")

@dataclass
class _Page:
    number: int
    lines: list[Line]
    bottom: float  # the media box in PDF space (not turned by the page's /Rotate)
    top: float
    rotated: bool
    tables: list[_FoundTable] = field(default_factory=list)
    title: str | None = None  # the first page's title lines, as printed
    printed: str = ""  # the first page's whole text, running lines and all


@dataclass
class _FoundTable:
    rows: list[list[str]]
    bbox: tuple[float, float, float, float]  # x0, y0, x1, y1 in PDF space
    caption: str | None = None
    title: str = "Table"
    caption_line: Line | None = None  # dropped from the flow text: the table block repeats it
    header_rows: int = 0  # rows above the rule under the header; 0: the rules do not say
    columns: list[tuple[float, float]] = field(default_factory=list)  # each column's x range
    continued: bool = False  # its rows continue the previous page's last table


def read_pdf(path: Path, source: str, *, tables: bool = True, data: bytes | None = None) -> Document:
    """Read one PDF (whose bytes are ``data``, if the caller has read them) into a Document with
    its pages and tables.

    ``tables=False`` skips the table pass (a few ms per page with a table caption), e.g. to
    measure the text path alone. Raises ReaderError for empty, non-PDF, corrupt, encrypted and
    text-less (scanned) files.
    """
    data = _read_bytes(path, data)
    pages, meta = _read_pages(data, tables)
    if not any(page.lines for page in pages):
        raise ReaderError("no text layer (scanned?); OCR is not supported")
    _drop_running_lines(pages)
    for page in pages:
        _drop_table_lines(page)
    return _assemble(pages, source, meta)


def _read_bytes(path: Path, data: bytes | None = None) -> bytes:
    try:
        data = path.read_bytes() if data is None else data
    except OSError as exc:
        raise ReaderError(f"cannot read file ({exc.strerror or exc.__class__.__name__})") from exc
    if not data.strip():
        raise ReaderError("empty file")
    if b"%PDF-" not in data[:1024]:
        raise ReaderError("not a PDF (no %PDF header)")
    # No test of the tail (%%EOF): files with junk after it, or cut just before it, are common
    # and pdfium reads them whole. Only what pdfium cannot open, or a page it cannot load, fails.
    return data


def _read_pages(data: bytes, tables: bool) -> tuple[list[_Page], PdfMetadata]:
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ReaderError(_open_error(str(exc))) from None
    try:
        pages: list[_Page] = []
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                pages.append(_read_page(page, index + 1, tables, _open_table(pages[-1]) if pages else None))
            finally:
                page.close()
        if not pages:
            raise ReaderError("corrupt PDF: no pages")
        return pages, pdf_meta.read_metadata(pdf, data)
    except pdfium.PdfiumError as exc:
        raise ReaderError(f"corrupt PDF: {exc}") from None
    finally:
        pdf.close()


def _read_page(page: pdfium.PdfPage, number: int, tables: bool, after: _FoundTable | None = None) -> _Page:
    """The page's text lines and, if asked and the page has a table caption, its tables:
    found while pdfium has the page parsed, which is what makes them cheap. ``after``: the
    previous page's table that reaches the foot of its page, which this page may continue."""
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        _, bottom, _, top = page.get_mediabox()
        read = _Page(number, page_lines(textpage, text), bottom, top, page.get_rotation() != 0)
        if number == 1:  # the title is read before running lines go: it may sit in the top margin
            read.title = pdf_meta.title_block(read.lines, pdf_meta.line_sizes(textpage, text, read.lines))
            read.printed = normalize(text)
        # A caption line holds "Table" or "TABLE": most pages are passed over without a regex.
        captioned = tables and ("Table" in text or "TABLE" in text) and any(_CAPTION.match(line.text) for line in read.lines)
        if captioned or (tables and after is not None and not read.rotated):
            words, edges = PageWords(textpage, text, read.lines, top), page_edges(page, top)
            read.tables = _page_tables(read, words, edges) if captioned else []
            if after is not None:
                _mark_continuation(read, words, edges, after)
        return read
    finally:
        textpage.close()


def _open_error(message: str) -> str:
    lowered = message.lower()
    if "password" in lowered:
        return "encrypted PDF (password required)"
    if "security" in lowered:
        return "encrypted PDF (unsupported security handler)"
    reason = re.search(r"PDFium: ([^)]*)\)", message)
    return f"corrupt PDF: {(reason.group(1) if reason else message).strip().lower()}"


# --- running headers and footers ---------------------------------------------------------


def _drop_running_lines(pages: list[_Page]) -> None:
    """Drop margin lines that repeat across pages (digits ignored) and lone page numbers."""
    # Each line's key if it lies in the margin, else None: computed once, used twice.
    keys_per_page = [[_margin_key(line) if _in_margin(line, page) else None for line in page.lines] for page in pages]
    counts = Counter(key for keys in keys_per_page for key in set(keys) if key is not None)
    needed = max(2, math.ceil(0.2 * len(pages)))
    for page, keys in zip(pages, keys_per_page):
        page.lines = [
            line
            for line, key in zip(page.lines, keys)
            if key is None
            or _CAPTION.match(line.text)  # "TABLE 2" atop several pages is no running header
            or not (counts[key] >= needed or _PAGE_NUMBER.fullmatch(line.text.strip()))
        ]


def _in_margin(line: Line, page: _Page) -> bool:
    band = _MARGIN_SHARE * (page.top - page.bottom)
    middle = (line.y0 + line.y1) / 2
    return middle > page.top - band or middle < page.bottom + band


def _margin_key(line: Line) -> str:
    return _SPACES.sub(" ", _DIGITS.sub("#", line.text.lower())).strip()


# --- tables ------------------------------------------------------------------------------
#
# Only pages with a "Table N" caption line are searched, with the words and ruling lines pdfium
# gives for the page it has parsed (measured down from the page top). Fully ruled tables are
# cut into cells by their rules (pdf_grid). Most journal tables have horizontal rules only;
# for a caption without a grid table, the table is taken as the text rows from the caption
# down to its last horizontal rule (plus closely following rows that still have several
# cells), and a row is cut into cells where words are further apart than about one character
# height.


def _page_tables(page: _Page, words: PageWords, edges: list[Edge]) -> list[_FoundTable]:
    tables = []
    for grid in grid_tables(edges, words.within):
        rows = [[normalize(cell or "") for cell in row] for row in grid.rows]
        rows = [row for row in rows if any(cell.strip() for cell in row)]
        if len(rows) >= 2 and max(map(len, rows)) >= 2:  # not a frame or a shaded row
            x0, top, x1, bottom = grid.bbox
            tables.append(_FoundTable(rows, (x0, page.top - bottom, x1, page.top - top), columns=grid.columns))
    captions = sorted((line for line in page.lines if _CAPTION.match(line.text)), key=lambda line: -line.y1)
    for i, caption in enumerate(captions):
        floor = captions[i + 1].y1 if i + 1 < len(captions) else 0.0  # the next caption's top
        free = [t for t in tables if t.caption is None]
        # A grid table under the caption and starting at its left edge (one that starts far
        # to the right lacks its label column: the rules below then give the whole table),
        # or one right above the caption, as some journals place it.
        below = [t for t in free if floor - 2 <= t.bbox[3] <= caption.y0 + 30 and t.bbox[0] <= caption.x0 + 20]
        above = [t for t in free if 0 <= t.bbox[1] - caption.y1 <= 30]
        if below:
            table = max(below, key=lambda t: t.bbox[3])
        elif above:
            table = min(above, key=lambda t: t.bbox[1])
        else:
            table = _ruled_table(words, edges, caption, floor, page)
            if table is None:
                continue
            tables.append(table)
        table.caption_line = caption
        table.caption = _SPACES.sub(" ", normalize(caption.text)).strip()
        table.title = f"Table {_CAPTION.match(caption.text).group(1)}"
    # A grid table without caption inside a captioned one is a part of it (its ruled cells).
    captioned = [t for t in tables if t.caption is not None]
    tables = [t for t in tables if t.caption is not None or not any(_overlap(t.bbox, c.bbox) for c in captioned)]
    return sorted(tables, key=lambda t: -t.bbox[3])


# --- a table continued on the next page ----------------------------------------------------


def _open_table(page: _Page) -> _FoundTable | None:
    """The page's lowest table if no text of its width follows it down to the bottom margin:
    it may go on on the next page."""
    if not page.tables:
        return None
    table = min(page.tables, key=lambda t: t.bbox[1])
    x0, y0, x1, _ = table.bbox
    floor = page.bottom + _MARGIN_SHARE * (page.top - page.bottom)
    for line in page.lines:
        middle = (line.y0 + line.y1) / 2
        if floor < middle < y0 - 2 and line.x1 > x0 and line.x0 < x1:
            return None
    return table if len(table.columns) >= 2 else None


def _mark_continuation(page: _Page, words: PageWords, edges: list[Edge], after: _FoundTable) -> None:
    """Mark the table atop ``page`` that continues ``after``: one captioned "Table 2
    (continued)" with the number of ``after``, or a block without caption that starts the page
    (a fully ruled grid, or rows down to the last horizontal rule); either with the columns of
    ``after`` (as many, at the same places). A block without caption that is not a continuation
    is not kept."""
    number = re.fullmatch(r"Table (\S+)", after.title)
    top_band = page.top - _MARGIN_SHARE * (page.top - page.bottom)
    candidate: _FoundTable | None = None
    first = max(page.tables, key=lambda t: t.bbox[3]) if page.tables else None
    if first is not None and first.caption is not None and _CONTINUED.match(first.caption):
        label = _CAPTION.match(first.caption)
        if number is not None and label is not None and label.group(1) == number.group(1):
            candidate = first
    else:
        captions = [line for line in page.lines if _CAPTION.match(line.text)]
        ceiling = max((line.y1 for line in captions), default=0.0)  # the block ends above them
        # Lines in the top margin above the block are running heads: the block starts under them.
        head = [line for line in page.lines if (line.y0 + line.y1) / 2 > top_band]
        start = min((line.y0 for line in head), default=page.top)
        pseudo = Line("", after.bbox[0], start - 0.5, after.bbox[2], start - 0.5)
        grids = [
            _FoundTable([[normalize(cell or "") for cell in row] for row in grid.rows],
                        (grid.bbox[0], page.top - grid.bbox[3], grid.bbox[2], page.top - grid.bbox[1]),
                        columns=grid.columns)
            for grid in grid_tables(edges, words.within)
        ]
        grids = [g for g in grids if g.bbox[1] > ceiling and g.bbox[3] <= start + 1]
        if grids:
            candidate = max(grids, key=lambda g: g.bbox[3])
            candidate.rows = [row for row in candidate.rows if any(cell.strip() for cell in row)]
        else:
            candidate = _ruled_table(words, edges, pseudo, ceiling, page)
        if candidate is not None:
            above = [line for line in page.lines if candidate.bbox[3] + 2 < (line.y0 + line.y1) / 2 < start]
            prose = any(len(row) < 2 and len(row[0]) > 50 for row in candidate.rows)
            if above or prose or len(candidate.rows) < 1:
                candidate = None
            else:
                page.tables.append(candidate)
                page.tables.sort(key=lambda t: -t.bbox[3])
    if candidate is None or not _same_columns(after.columns, candidate.columns):
        if candidate is not None and candidate.caption is None:
            page.tables.remove(candidate)
        return
    candidate.continued = True
    candidate.title = after.title
    if candidate.caption is None:
        candidate.columns = after.columns  # a third page compares with the same columns


def _same_columns(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> bool:
    """As many columns, each overlapping its counterpart and neither of its neighbours."""
    if len(a) != len(b) or len(a) < 2:
        return False

    def overlap(p: tuple[float, float], q: tuple[float, float]) -> bool:
        return p[0] < q[1] and q[0] < p[1]

    for k, column in enumerate(a):
        if not overlap(column, b[k]):
            return False
        if any(overlap(column, b[j]) for j in (k - 1, k + 1) if 0 <= j < len(b)):
            return False
    return True


def _drop_table_lines(page: _Page) -> None:
    """Take the table captions, and the lines inside the tables, out of the page's flow text:
    the table blocks repeat them."""
    if not page.tables:
        return
    captions = {id(table.caption_line) for table in page.tables}
    page.lines = [
        line
        for line in page.lines
        if id(line) not in captions and (page.rotated or not _inside_any(line, page.tables))
    ]


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _word_rows(words: list[Word]) -> list[list[Word]]:
    """Words grouped into text rows, top to bottom, each left to right."""
    rows: list[list[Word]] = []
    for word in sorted(words, key=attrgetter("top", "x0")):
        if rows and word.top - rows[-1][0].top < 2.5:
            rows[-1].append(word)
        else:
            rows.append([word])
    return [sorted(row, key=attrgetter("x0")) for row in rows]


def _ruled_table(words: PageWords, edges: list[Edge], caption: Line, floor: float, page: _Page) -> _FoundTable | None:
    """The rows under ``caption`` down to its last horizontal rule; None without rules."""
    top = page.top - caption.y0  # words and edges are measured down from the page top
    footer = page.bottom + _MARGIN_SHARE * (page.top - page.bottom)
    limit = page.top - max(floor, footer)  # footer boxes are not table rules
    candidates = [e for e in edges if e.horizontal and e.length >= 15 and top < e.top < limit]
    rules, x0, x1 = _rules_under(caption, candidates)
    if not rules:
        return None
    first_rule = min(e.top for e in rules)
    last_rule = max(e.top for e in rules)
    rows: list[list[str]] = []
    extents: list[list[tuple[float, float]]] = []
    tops: list[float] = []
    box_top = box_bottom = None
    # Rows are formed from the words in the table's width only: text in the next column
    # sits on baselines of its own.
    inside = [w for w in words.within((x0, top, x1, limit)) if w.x0 >= x0 and w.x1 <= x1]
    for row in _word_rows(inside):
        if row[0].top < top:
            continue
        if row[0].top >= limit:
            break
        cut = _cut(row)
        cells = [normalize(join_words(cell)) for cell in cut]
        row_top = min(w.top for w in row)
        if row_top < first_rule and len(cells) < 2 and not rows:
            continue  # the caption's second line
        if row_top > last_rule and (
            len(cells) < 2 or box_bottom is None or row_top - box_bottom > 1.5 * _row_height(row)
        ):
            break  # footnotes or running text after the table
        rows.append(cells)
        extents.append([(cell[0].x0, cell[-1].x1) for cell in cut])
        tops.append(row_top)
        box_top = row_top if box_top is None else box_top
        box_bottom = max(w.bottom for w in row)
    if len(rows) < 2 or box_top is None or box_bottom is None:
        return None
    return _FoundTable(rows, (x0, page.top - box_bottom, x1, page.top - box_top),
                       header_rows=_rows_above_header_rule(rules, x1 - x0, tops), columns=_text_columns(extents))


def _text_columns(extents: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """Each column's x range: where the text of the rows with a cell in every column lies."""
    width = max(map(len, extents), default=0)
    full = [row for row in extents if len(row) == width]
    return [(min(row[k][0] for row in full), max(row[k][1] for row in full)) for k in range(width)] if width else []


def _rows_above_header_rule(rules: list[Edge], width: float, tops: list[float]) -> int:
    """How many rows lie between the table's top rule and the next rule across its width (the
    rule under the header: a journal table's three rules are top, under the header, bottom);
    0 when the rules do not show a header of one to four rows."""
    across: list[float] = []
    for top in sorted(e.top for e in rules if e.length >= 0.8 * width):
        if not across or top - across[-1] > 2:
            across.append(top)
    if len(across) < 3:
        return 0
    header = sum(1 for top in tops if across[0] < top < across[1])
    before = sum(1 for top in tops if top <= across[0])
    return header if before == 0 and 1 <= header <= 4 and header < len(tops) else 0


def _rules_under(caption: Line, candidates: list[Edge]) -> tuple[list[Edge], float, float]:
    """The table's rules and its x range (with a margin). The rules start under the caption
    and may be drawn cell by cell: the x range grows by the rules that touch it."""
    x0, x1 = caption.x0, caption.x1
    rules: list[Edge] = []
    while True:
        touching = [e for e in candidates if e.x1 > x0 - 2 and e.x0 < x1 + 2]
        if len(touching) == len(rules):
            return rules, x0 - 2, x1 + 2
        rules = touching
        x0 = min(x0, *(e.x0 for e in rules))
        x1 = max(x1, *(e.x1 for e in rules))


def _cut(words: list[Word]) -> list[list[Word]]:
    """A text row cut into cells at gaps wider than most of a character height."""
    cells = [[words[0]]]
    for left, right in zip(words, words[1:]):
        if right.x0 - left.x1 > 0.8 * min(left.bottom - left.top, right.bottom - right.top):
            cells.append([])
        cells[-1].append(right)
    return cells


def _row_height(words: list[Word]) -> float:
    return max(w.bottom - w.top for w in words)


def _inside_any(line: Line, tables: list[_FoundTable]) -> bool:
    cx, cy = (line.x0 + line.x1) / 2, (line.y0 + line.y1) / 2
    return any(x0 - 2 <= cx <= x1 + 2 and y0 - 2 <= cy <= y1 + 2 for x0, y0, x1, y1 in (t.bbox for t in tables))


# --- text ------------------------------------------------------------------------------


def _assemble(pages: list[_Page], source: str, meta: PdfMetadata) -> Document:
    flows = [normalize(_page_flow(page.lines)) for page in pages]
    vocabulary = _Vocabulary.build(flows)
    parts: list[str] = []
    offset = 0
    spans: list[PageSpan] = []
    sections: list[SectionSpan] = []
    tables: list[Table] = []

    def add(text: str) -> tuple[int, int]:
        nonlocal offset
        start = offset
        parts.append(text)
        offset += len(text)
        return start, offset

    for page, flow in zip(pages, flows):
        if parts:
            add("\n\n")
        page_start = offset
        text = vocabulary.clean(flow)
        add(text)
        for found in page.tables:
            found.rows = [[_SPACES.sub(" ", vocabulary.clean(cell)).strip() for cell in row] for row in found.rows]
            if offset > page_start:
                add("\n\n")
            start, end = add(_render_table(found))
            tables.append(Table(page.number, found.rows, start, end, found.caption, header_rows=found.header_rows,
                                label=found.title if found.caption or found.continued else None, kind="pdf",
                                continued=found.continued))
            sections.append(SectionSpan(found.title, start, end))
        spans.append(PageSpan(page.number, page_start, offset))
    text = "".join(parts)
    # The first page's text with its running lines: a journal's name and year are often there.
    first_page = pages[0].printed
    first_pages = text[spans[0].start : spans[1].end] if len(spans) > 1 else first_page
    title = pages[0].title and _SPACES.sub(" ", vocabulary.clean(normalize(pages[0].title))).strip()
    return Document(
        source=source,
        format="pdf",
        text=text,
        title=pdf_meta.believed_title(title, meta, first_page),
        doi=pdf_meta.page_doi(first_page + "\n" + first_pages, meta),
        year=pdf_meta.page_year(first_page),
        journal=pdf_meta.believed_journal(meta, first_page),
        authors=pdf_meta.believed_authors(meta, first_page),
        pages=spans,
        sections=sections,
        tables=tables,
    )


def _page_flow(lines: list[Line]) -> str:
    """The page's lines in reading order; a blank line where the vertical gap shows a new
    paragraph or heading."""
    blocks = reading_order(lines)
    gaps = [
        above.y0 - below.y1
        for block in blocks
        for above, below in zip(block, block[1:])
        if above.y0 - below.y1 > -1
    ]
    heights = sorted(line.height for line in lines)
    paragraph_gap = None
    if len(gaps) >= 5:
        # A line's box is its glyphs: a paragraph gap is the usual gap plus most of a line.
        paragraph_gap = sorted(gaps)[len(gaps) // 2] + 0.6 * heights[len(heights) // 2]
    out: list[str] = []
    for block in blocks:
        for i, line in enumerate(block):
            if out:
                above = block[i - 1] if i else None
                wide = above is not None and paragraph_gap is not None and above.y0 - line.y1 > paragraph_gap
                out.append("\n\n" if wide else "\n")
            out.append(line.text.strip())
    return "".join(out)


def _render_table(table: _FoundTable) -> str:
    lines = [table.caption] if table.caption else []
    lines.extend(" | ".join(row) for row in table.rows)
    return "\n".join(lines)


@dataclass
class _Vocabulary:
    """Words of the whole document, to decide whether a line-end hyphen is real."""

    words: Counter[str]
    compounds: set[str]
    split_lefts: Counter[str]

    @classmethod
    def build(cls, texts: list[str]) -> _Vocabulary:
        words: Counter[str] = Counter()
        compounds: set[str] = set()
        split_lefts: Counter[str] = Counter()
        for text in texts:
            pieces = _BREAK.split(text)
            for i, piece in enumerate(pieces):
                tokens = _TOKEN.findall(piece.lower())
                # The halves of a word cut by a line end are not words of their own.
                if tokens and i + 1 < len(pieces) and piece.endswith(tokens[-1]):
                    tokens.pop()
                if tokens and i > 0 and piece.startswith(tokens[0]):
                    tokens.pop(0)
                if tokens:
                    compounds.update(token for token in tokens if "-" in token)
                    # The words of all tokens at once: tokens neither start nor end with "-".
                    words.update("-".join(tokens).split("-"))
                split_lefts.update(_word_before(piece, m.start()).lower() for m in _LIGATURE_SPLIT.finditer(piece))
        return cls(words, compounds, split_lefts)

    def clean(self, text: str) -> str:
        # Most table cells have neither a break (U+FFFE or a newline) nor a space.
        if "\ufffe" in text or "\n" in text:
            text = self._rejoin(text, _BREAK, self._join_break)
            text = text.replace("\ufffe", "-")  # a break marker not between two words
        return self._rejoin(text, _LIGATURE_SPLIT, self._join_ligature) if " " in text else text

    @staticmethod
    def _rejoin(text: str, mark: re.Pattern[str], decide: Callable[[str, str], str | None]) -> str:
        """Replace ``left<mark>right`` by ``decide(left, right)`` unless it returns None.

        The patterns match only the mark (fast: they start with a literal); the words on
        either side are looked up around it.
        """
        out: list[str] = []
        done = 0
        for match in mark.finditer(text):
            left = _word_before(text, match.start())
            right = _WORD.match(text, match.end())
            if not left or right is None or match.start() - len(left) < done:
                continue
            joined = decide(left, right.group())
            if joined is not None:
                out.append(text[done : match.start() - len(left)])
                out.append(joined)
                done = right.end()
        out.append(text[done:])
        return "".join(out)

    def _join_break(self, left: str, right: str) -> str:
        return f"{left}-{right}" if self.keeps_hyphen(left, right) else left + right

    def keeps_hyphen(self, left: str, right: str) -> bool:
        """Keep "HER2-positive", "anti-HER2", "placebo-controlled"; join "phos-phatidyl"."""
        if f"{left}-{right}".lower() in self.compounds:
            return True
        if (left + right).lower() in self.words:
            return False
        if any(ch.isdigit() for ch in left + right) or right[0].isupper() or left[-1].isupper():
            return True
        # Two words of their own whose join is never seen: a compound written with a hyphen.
        return len(left) > 2 and len(right) > 2 and left.lower() in self.words and right.lower() in self.words

    def _join_ligature(self, left: str, right: str) -> str | None:
        """"fi ndings" -> "findings", "Th is" -> "This"; "staff is" stays."""
        if not right.islower() or self.words[left.lower()] > self.split_lefts[left.lower()]:
            return None  # the left part is a word of its own elsewhere
        known = (left + right).lower() in self.words
        return left + right if known or right not in self.words else None


def _word_before(text: str, end: int) -> str:
    r"""The run of letters and digits that ends at ``end`` (or just before a newline there),
    at most 64 long: what ``[^\W_]+$`` finds in ``text[end - 64 : end]``, walked back in
    Python, which is quicker than a regex search that tries every start."""
    limit = max(0, end - 64)
    if end > limit and text[end - 1] == "\n":
        end -= 1
    start = end
    while start > limit and text[start - 1].isalnum():  # isalnum() is [^\W_]
        start -= 1
    return text[start:end]


# --- character normalisation --------------------------------------------------------------


def normalize(text: str) -> str:
    """Ligatures, odd spaces and math letters made plain; "·", "–", "−" and digits untouched."""
    text = text.replace("\u00ad\n", "\ufffe")
    # Most texts have none of the chars to replace: looking for one is quicker than
    # str.translate's lookup of every char. The regex has the chars of the BMP only (a range
    # beyond it makes every test slow); math letters are beyond it, seen by the UTF-16 length.
    if _odd_chars().search(text) or beyond_bmp(text):
        return text.translate(_translation())
    return text


@cache
def _odd_chars() -> re.Pattern[str]:
    """A character class of the BMP chars that normalize() replaces, as ranges."""
    ranges: list[list[int]] = []
    for code in sorted(code for code in _translation() if code <= 0xFFFF):
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return re.compile("[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges) + "]")


@cache
def _translation() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0xFB00, 0xFB07):  # ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ
        table[code] = unicodedata.normalize("NFKC", chr(code))
    for code in (0x00A0, 0x1680, 0x202F, 0x205F, 0x3000, *range(0x2000, 0x200B)):
        table[code] = " "  # no-break, thin, hair, en/em spaces
    for code in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF):
        table[code] = ""  # zero-width
    table[0x2028] = table[0x2029] = "\n"
    table[ord("\t")] = " "
    for code in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F):
        table[code] = ""  # control chars from fonts without a usable encoding
    table[0x00AD] = ""  # soft hyphen inside a word; at a line end normalize() made it U+FFFE
    for code in (*range(0xFF01, 0xFF5F), *range(0x1D400, 0x1D800)):  # full-width, math letters
        plain = unicodedata.normalize("NFKC", chr(code))
        if plain != chr(code) and len(plain) == 1:
            table[code] = plain
    return table
