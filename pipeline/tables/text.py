"""Tables written in plain text: tab-separated lines, pipe tables (``| a | b |`` with ``|---|``
rules) and columns aligned with runs of two or more spaces.

A table is a run of consecutive lines of one layout: a blank line, a prose line, a caption or a
footnote/abbreviation line ends it. Header rows are the lines above the first row holding data
(a number, a range, a count, "NR", "–"); a table needs such a row. Aligned columns are cut where
no data row has text: the gaps the rows share, so single spaces inside a cell never cut it; a
header cell over several of those columns (a two-level header) spans them. A single line, prose
with double spaces after its full stops and reference lists are not tables: their "cells" do not
hold data, or do not line up.

The work is linear in the text: every line is classified once with a few patterns, and a text
holding no tab, no "|" and no double space is not looked at further. Tables the reader already
found (``Document.tables``: JATS, PDF) are left to it.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import operator
import re
from dataclasses import dataclass

from pipeline.document import Document
from pipeline.tables.cells import read_cell
from pipeline.tables.model import Cell, Span, Table

GAP = re.compile(r"(?<=\S) {2,}(?=\S)")  # between two cells of an aligned row
CHUNK = re.compile(r"\S+(?: \S+)*")  # the text between gaps (single spaces kept)
# "|---|:---:|", "---|---", "+-----+" and "-----  -----" / "=====" rules.
RULE_SOURCE = r"[ \t]*+[|+]?(?:[ \t]*+:?[-=—–_]{3,}:?[ \t]*+[|+]?)+[ \t]*"
CAPTION_SOURCE = r"[ \t]*(?:Table|TABLE)\s+(?:[A-Z]?\d+[A-Za-z]?|[IVX]+)\b"
# Lines that close a table: footnotes ("a Cohort A.", "* p < 0.05", "† ..."), notes and
# abbreviation lists ("ORR, objective response rate; mo, months").
FOOTNOTE_SOURCE = (
    r"[ \t]*(?:[*†‡§¶#]+\s*\S|[a-f]\s+[A-Z(]|\(?[a-f]\)\s*\S|"
    r"(?:Abbreviations?|Notes?|Source|Key|Data are|Values are)\b\s*[:.,]?|[A-Za-z0-9/+-]{1,14},\s+[a-z][^;|\t]{2,80}(?:;|\.\s*$))"
)
RULE, CAPTION, FOOTNOTE = re.compile(RULE_SOURCE), re.compile(CAPTION_SOURCE), re.compile(FOOTNOTE_SOURCE)
# A rule (the whole line), else a caption, else a footnote, in one look at a line: the group that
# matched names the line's kind.
RULE_CAPTION_OR_FOOTNOTE = re.compile(rf"(?P<rule>{RULE_SOURCE})\Z|(?P<caption>{CAPTION_SOURCE})|(?P<footnote>{FOOTNOTE_SOURCE})")
MAX_HEADER_LINES = 3
MAX_CELL_WORDS = 12  # a longer "cell" is prose
MAX_LINE = 1000  # characters: longer lines are paragraphs, not rows


@dataclass(slots=True)
class _Line:
    start: int  # offset of the line in the text
    text: str  # without its line break

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def text_tables(document: Document) -> list[Table]:
    """The plain-text tables of ``document``, in text order, outside the reader's tables."""
    text = document.text
    if "\t" not in text and "|" not in text and "  " not in text:
        return []
    taken = [(t.start, t.end) for t in document.tables]
    # The lines as two lists, not an object each: a text may have 100,000 lines.
    starts, texts = _lines(text)
    kinds = [_kind(start, line, taken) for start, line in zip(starts, texts)]
    tables: list[Table] = []
    i = 0
    while i < len(texts):
        kind = kinds[i]
        if kind in ("tab", "pipe"):
            j = i
            while j < len(texts) and (kinds[j] == kind or kinds[j] == "rule" and kind == "pipe"):
                j += 1
            table = _delimited(starts[i:j], texts[i:j], kinds[i:j], kind)
            i = j
        elif kind == "space":
            j = _space_run_end(texts, kinds, i)
            table = _aligned([_Line(starts[k], texts[k]) for k in range(i, j)])
            i = j
        else:
            i += 1
            continue
        if table is not None:
            _surroundings(table, starts, texts, text)
            tables.append(table)
    return tables


def _lines(text: str) -> tuple[list[int], list[str]]:
    """Each line's offset in the text and its text without its line break ("\\n", "\\r\\n")."""
    texts = text.split("\n")
    # A line starts after the lines before it and their line breaks (one character each).
    starts = list(map(operator.add, itertools.accumulate(map(len, texts), initial=0), itertools.count()))
    starts.pop()  # (the offset past the last line)
    if "\r" in text:
        texts = [line.rstrip("\r") for line in texts]
    return starts, texts


def _kind(start: int, line: str, taken: list[tuple[int, int]]) -> str:
    """"blank", "tab", "pipe", "rule", "space" (cells apart by 2+ spaces), "caption", "footnote",
    "reader" (inside a table the reader found) or "text"."""
    body = line.strip()
    if not body:
        return "blank"
    if len(line) > MAX_LINE:
        return "text"
    if taken and any(a <= start < b for a, b in taken):
        return "reader"
    opening = RULE_CAPTION_OR_FOOTNOTE.match(line)
    if opening:
        return opening.lastgroup
    if "\t" in body:
        return "tab"
    if body[0] == "|" or " | " in body:
        return "pipe"
    if GAP.search(body):
        return "space"
    return "text"


# ----------------------------------------------------------------------------- tab and pipe tables


@functools.lru_cache(maxsize=4096)
def _reads_as_data(cell: str) -> bool:
    """Whether a cell reads as data (``read_cell``), remembered: tables repeat their cells ("NR",
    "–", "0", a dose), and reading one tries several patterns."""
    return read_cell(cell) is not None


def _holds_data(row: list[tuple[int, int, str] | None]) -> bool:
    """Whether a cell of the row other than its first reads as data."""
    for cell in itertools.islice(row, 1, None):  # (a loop: a generator a row costs more than the test)
        if cell and _reads_as_data(cell[2]):
            return True
    return False


def _delimited(starts: list[int], texts: list[str], kinds: list[str], kind: str) -> Table | None:
    """Rows split on tabs or pipes, from the lines of a run (their offsets, texts and kinds). A
    pipe table's rule ends its header; otherwise the header is the lines (at most
    MAX_HEADER_LINES) above the first data row."""
    sep = "\t" if kind == "tab" else "|"
    rows: list[list[tuple[int, int, str] | None]] = []  # per row, per column: (start, end, text) or None
    row_starts: list[int] = []  # each row's line start
    rule_at = None
    for start, line, line_kind in zip(starts, texts, kinds):
        if line_kind == "rule":
            if rule_at is None and rows:
                rule_at = len(rows)
            continue
        rows.append(_split(start, line, sep))
        row_starts.append(start)
    if len(rows) < 2 or max(map(len, rows)) < 2:
        return None
    if kind == "pipe" and rule_at is None and len(set(map(len, rows))) != 1:
        return None  # pipes in text that do not make a grid

    data_rows = [i for i, row in enumerate(rows) if _holds_data(row)]
    if len(data_rows) > 1 and time_points_only([s[2] for s in rows[data_rows[0]][1:] if s]):
        data_rows = data_rows[1:]  # "6 months | 12 months" over the rates: a header
    if not data_rows or any(_prose(s[2]) for r in rows for s in r if s):
        return None
    if rule_at is not None:
        # Header rows a Markdown writer had to put under the rule ("| | % | 95% CI |") too.
        header_rows = data_rows[0] if rule_at < data_rows[0] <= rule_at + MAX_HEADER_LINES else rule_at
    else:
        header_rows = min(data_rows[0], MAX_HEADER_LINES)
        drop = data_rows[0] - header_rows
        rows, row_starts = rows[drop:], row_starts[drop:]
    columns = max(len(r) for r in rows)
    cells: list[list[Cell]] = []
    for i, row in enumerate(rows):
        is_header = i < header_rows
        out = []
        for j, span in enumerate(row):
            if span is None:
                continue
            colspan = 1
            if is_header and i < header_rows - 1:
                # An upper header cell spans the empty cells after it, over a lower header.
                k = j + 1
                while k < columns and (k >= len(row) or row[k] is None):
                    k += 1
                colspan = k - j
            start, end, cell_text = span
            out.append(Cell(cell_text, i, j, start, end, is_header, not is_header and j == 0, colspan))
        cells.append(out)
    end = max(c.end for row in cells for c in row)
    return Table(cells, header_rows, columns, row_starts[0], end, kind)


def _split(start: int, line: str, sep: str) -> list[tuple[int, int, str] | None]:
    """The cells of a line (at offset ``start``) split on ``sep``, trimmed, as (start, end, text)
    in the document (None: empty). The outer pipes of ``| a | b |`` open and close the row;
    they make no cells."""
    parts = line.split(sep)
    pos = start  # where the current part starts
    if sep == "|":
        if not parts[0].strip():
            pos += len(parts[0]) + 1
            del parts[0]
        if parts and not parts[-1].strip():
            parts.pop()
    cells: list[tuple[int, int, str] | None] = []
    for part in parts:
        body = part.strip()
        if body:
            # (the first occurrence of the trimmed text is after the white space it lost)
            cell_start = pos + part.find(body)
            cells.append((cell_start, cell_start + len(body), body))
        else:
            cells.append(None)
        pos += len(part) + 1
    return cells


# "6 months", "12 mo", "2 years": a time point heading a column of landmark rates.
TIME_LABEL = re.compile(r"\d+\s?-?\s?(?:months?|mos?|weeks?|wks?|years?|yrs?|days?)", re.IGNORECASE)


def time_points_only(cells: list[str]) -> bool:
    """Whether the cells that read as data are all time points (and there is one)."""
    data = [c for c in cells if read_cell(c) is not None]
    return bool(data) and all(TIME_LABEL.fullmatch(c.strip()) for c in data)


def _prose(cell: str) -> bool:
    return len(cell.split()) > MAX_CELL_WORDS


# ----------------------------------------------------------------------------- aligned columns


def _space_run_end(texts: list[str], kinds: list[str], i: int) -> int:
    """The end of the run of aligned lines from ``i``: aligned rows and rules, with lines of a
    wrapped cell (indented, no gap) or a short group label (e.g. "HER2 IHC 3+") between rows."""
    j = i + 1
    while j < len(texts):
        kind = kinds[j]
        if kind in ("space", "rule"):
            j += 1
        elif kind == "text" and _bridged(texts, kinds, i, j):
            j += 1
        else:
            break
    return j


def _bridged(texts: list[str], kinds: list[str], i: int, j: int) -> bool:
    line = texts[j]
    body = line.strip()
    indent = len(line) - len(line.lstrip())
    base = len(texts[i]) - len(texts[i].lstrip())
    if indent >= base + 2 and len(body.split()) <= MAX_CELL_WORDS:
        return True  # a wrapped cell
    return (len(body) <= 50 and not body.endswith(".") and j + 1 < len(texts) and kinds[j + 1] == "space"
            and len(body.split()) <= 6)


def _chunks(line: _Line) -> list[tuple[int, int]]:
    """(start, end) within the line of each run of text between gaps."""
    return [(m.start(), m.end()) for m in CHUNK.finditer(line.text)]


def _aligned(lines: list[_Line]) -> Table | None:
    rules = [RULE.fullmatch(line.text) is not None for line in lines]
    chunks = [[] if rule else _chunks(line) for line, rule in zip(lines, rules)]
    if any(len(line.text[a:b].split()) > MAX_CELL_WORDS for line, cs in zip(lines, chunks) for a, b in cs):
        return None  # prose
    base = min(len(line.text) - len(line.text.lstrip()) for line, rule in zip(lines, rules) if not rule)
    data = [i for i, (line, cs) in enumerate(zip(lines, chunks)) if _is_data_row(line, cs, base)]
    if len(data) > 1 and time_points_only([lines[data[0]].text[a:b] for a, b in chunks[data[0]][1:]]):
        data = data[1:]  # "6 months   12 months" over the rates: a header
    is_data = set(data)
    if not data:
        return None
    first = data[0]
    top = first
    while top > 0 and first - top < MAX_HEADER_LINES and (chunks[top - 1] or rules[top - 1]):
        top -= 1
    header_lines = [i for i in range(top, first) if not rules[i]]
    # A one-cell line right above the data, after the header, is a group label: a body row.
    while header_lines and len(chunks[header_lines[-1]]) == 1 and any(len(chunks[i]) > 1 for i in header_lines[:-1]):
        first = header_lines.pop()
    if not header_lines and len(data) < 2:
        return None
    headed = bool(header_lines) and len(chunks[header_lines[-1]]) >= 2
    fitting = _fitting_rows(data, chunks, headed)
    cores = _column_cores([(lines[i], chunks[i]) for i in fitting])
    # Without a header, a few lines that happen to share a gap are not a table.
    if len(cores) < 2 or not headed and len(data) < (3 if len(cores) == 2 else 2):
        return None
    if not _lined_up([chunks[i] for i in fitting], cores):
        return None
    rows: list[list[Cell]] = []
    for level, i in enumerate(header_lines):
        rows.append(_header_row(lines[i], chunks[i], cores, len(rows), last=level == len(header_lines) - 1))
    header_rows = len(rows)
    for i in range(first, len(lines)):
        if rules[i] or not chunks[i]:
            continue
        cells = _body_cells(lines[i], chunks[i], cores, len(rows))
        indent = len(lines[i].text) - len(lines[i].text.lstrip())
        wrapped = (i not in is_data and rows[header_rows:] and indent > base
                   and all(c.column > 0 for c in cells))
        if wrapped:
            # The next line of the cells of the row above: same row, same columns.
            row = len(rows) - 1
            rows[row].extend(Cell(c.text, row, c.column, c.start, c.end, False, False, c.colspan) for c in cells)
            rows[row].sort(key=lambda c: (c.column, c.start))
        else:
            rows.append(cells)
    start = lines[header_lines[0] if header_lines else first].start
    end = max(c.end for row in rows for c in row)
    return Table(rows, header_rows, len(cores), start, end, "space")


def _is_data_row(line: _Line, chunks: list[tuple[int, int]], base: int) -> bool:
    """A row holding data: a cell other than its first that reads as a number, range, count
    or "NR"/"–" (an indented row's first cell counts: its first column is empty)."""
    if not chunks:
        return False
    indent = len(line.text) - len(line.text.lstrip())
    rest = chunks if indent > base else chunks[1:]
    return any(_reads_as_data(line.text[a:b]) for a, b in rest) and (len(chunks) >= 2 or indent > base)


def _fitting_rows(data: list[int], chunks: list[list[tuple[int, int]]], headed: bool) -> list[int]:
    """The data rows that give the columns: all of them, but a row with a cell across columns
    the full rows keep apart ("HR 0.59 (0.39–0.88)" under two arms) is placed, not measured."""
    most = max(len(chunks[i]) for i in data)
    full = [i for i in data if len(chunks[i]) == most]
    if len(full) < (1 if headed else 2):
        return data
    cores = _column_cores([(None, chunks[i]) for i in full])
    return [i for i in data if all(sum(1 for core in cores if _overlap(a, b, core)) <= 1 for a, b in chunks[i])]


def _column_cores(rows: list[tuple[_Line | None, list[tuple[int, int]]]]) -> list[tuple[int, int]]:
    """Columns as (start, end) of the text the data rows hold in them: the positions covered by
    some row's cell, cut where no row has text. Linear in the rows' length."""
    width = max(line_chunks[-1][1] for _, line_chunks in rows)
    cover = [0] * (width + 1)
    for _, line_chunks in rows:
        for a, b in line_chunks:
            cover[a] += 1
            cover[b] -= 1
    cores, running, open_at = [], 0, None
    for pos in range(width + 1):
        running += cover[pos]
        if running > 0 and open_at is None:
            open_at = pos
        elif running == 0 and open_at is not None:
            cores.append((open_at, pos))
            open_at = None
    return cores


ALIGNMENT_SLACK = 2  # characters


def _lined_up(rows: list[list[tuple[int, int]]], cores: list[tuple[int, int]]) -> bool:
    """Whether the data rows' cells line up in every column: they start together (left
    aligned), end together (right aligned) or share a centre, give or take ALIGNMENT_SLACK.
    Prose lines that happen to share a gap do not."""
    for core in cores:
        pieces = [(a, b) for chunks in rows for a, b in chunks if _overlap(a, b, core)]
        if len(pieces) < 2:
            continue
        if not any(max(xs) - min(xs) <= ALIGNMENT_SLACK for xs in (
                [a for a, _ in pieces], [b for _, b in pieces], [a + b for a, b in pieces])):
            return False
    return True


def _overlap(a: int, b: int, core: tuple[int, int]) -> int:
    return max(0, min(b, core[1]) - max(a, core[0]))


def _column_of(a: int, b: int, cores: list[tuple[int, int]]) -> int:
    """The column a piece of text at [a, b) of a line belongs to: the one it overlaps most,
    else the nearest."""
    best = max(range(len(cores)), key=lambda j: (_overlap(a, b, cores[j]), -abs(a - cores[j][0])))
    if _overlap(a, b, cores[best]):
        return best
    return min(range(len(cores)), key=lambda j: min(abs(a - cores[j][0]), abs(a - cores[j][1])))


def _header_row(line: _Line, chunks: list[tuple[int, int]], cores, row: int, last: bool) -> list[Cell]:
    """A header line's cells. On the last header line a cell heads one column (when it has one
    cell per column, in order); above it a cell heads every column it lies over."""
    if last and len(chunks) == len(cores):
        spans = [(j, 1, a, b) for j, (a, b) in enumerate(chunks)]
    else:
        owner: dict[int, int] = {}  # column -> chunk covering most of it
        for k, (a, b) in enumerate(chunks):
            for j, core in enumerate(cores):
                if _overlap(a, b, core) and (j not in owner or _overlap(a, b, core) > _overlap(*chunks[owner[j]], core)):
                    owner[j] = k
        spans = []
        for k, (a, b) in enumerate(chunks):
            mine = sorted(j for j, o in owner.items() if o == k)
            if not mine or last:
                mine = [_column_of(a, b, cores)]
            spans.append((mine[0], mine[-1] - mine[0] + 1, a, b))
        if not last and len(spans) >= 2:
            # Group headers written over the first of their sub-columns ("SUNRISE-2" over
            # "T-DXd   Chemotherapy"): each reaches the column before the next one.
            for k, (column, colspan, a, b) in enumerate(spans):
                stop = spans[k + 1][0] if k + 1 < len(spans) else len(cores)
                if column > 0 and stop > column + colspan:
                    spans[k] = (column, stop - column, a, b)
    return _merged(line, spans, row, header=True)


def _body_cells(line: _Line, chunks: list[tuple[int, int]], cores, row: int) -> list[Cell]:
    return _merged(line, [(_column_of(a, b, cores), 1, a, b) for a, b in chunks], row, header=False)


def _merged(line: _Line, spans: list[tuple[int, int, int, int]], row: int, header: bool) -> list[Cell]:
    """Cells from (column, colspan, start, end) pieces of a line; pieces of one column (a cell
    with a double space inside) are one cell."""
    cells: list[Cell] = []
    for column, colspan, a, b in spans:
        if cells and cells[-1].column == column:
            prev = cells[-1]
            a = prev.start - line.start
            colspan = max(colspan, prev.colspan)
            cells.pop()
        cells.append(Cell(line.text[a:b], row, column, line.start + a, line.start + b, header,
                          not header and column == 0, colspan))
    return cells


# ----------------------------------------------------------------------------- caption and notes

CAPTION_REACH = 3  # paragraphs above a table searched for its "Table n" caption


def _surroundings(table: Table, starts: list[int], texts: list[str], text: str) -> None:
    """The table's caption (the nearest "Table n ..." paragraph above it, at most CAPTION_REACH
    paragraphs up) and footnotes (the lines right after it, and the next paragraph when it
    opens like a footnote or abbreviation list). ``starts`` and ``texts``: the text's lines."""
    first = bisect.bisect_left(starts, table.start)
    if first == len(starts) or starts[first] != table.start:
        return
    paragraphs = 0
    k = first - 1
    while k >= 0 and paragraphs < CAPTION_REACH:
        kind_blank = not texts[k].strip()
        if kind_blank:
            if k + 1 < first and texts[k + 1].strip():
                paragraphs += 1
        elif CAPTION.match(texts[k]):
            end = k
            while (end + 1 < first and texts[end + 1].strip() and not GAP.search(texts[end + 1].strip())
                   and not RULE.fullmatch(texts[end + 1])):
                end += 1
            start = starts[k] + len(texts[k]) - len(texts[k].lstrip())
            caption_end = starts[end] + len(texts[end])
            table.caption = Span(text[start:caption_end], start, caption_end)
            break
        k -= 1
    after = next((k for k in range(first, len(texts)) if starts[k] + len(texts[k]) >= table.end), len(texts)) + 1
    # The footnote lines right after the table (and its closing rule), then the next paragraph
    # if it opens like one.
    k = after
    while k < len(texts) and RULE.fullmatch(texts[k]):
        k += 1
    after = k
    while k < len(texts) and FOOTNOTE.match(texts[k]):
        k += 1
    notes = list(range(after, k))
    while k < len(texts) and texts[k].strip():
        k += 1
    if k + 1 < len(texts) and FOOTNOTE.match(texts[k + 1]):
        k += 1
        # Its footnote lines, and the lines a footnote runs on to (not after a full stop).
        while k < len(texts) and texts[k].strip() and (
                FOOTNOTE.match(texts[k]) or not texts[k - 1].rstrip().endswith(".")):
            notes.append(k)
            k += 1
    for k in notes:
        line = texts[k]
        start = starts[k] + len(line) - len(line.lstrip())
        table.footnotes.append(Span(line.strip(), start, start + len(line.strip())))
