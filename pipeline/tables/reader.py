"""The tables a reader found (``Document.tables``: JATS ``<table-wrap>``, PDF tables) as grids of
cells with offsets: ``reader_tables(document)``.

A reader renders each table into the text as one line per row, cells joined by " | ", the rows
ending the table's block; so every cell's offsets follow from the rows' strings alone, and
``text[cell.start:cell.end] == cell.text`` holds even for a cell holding a "|". A table whose
rendered rows are not where the reader says (a layout stored by an older reader) is left out.

Grid columns come from the source's spans: a JATS cell's colspan covers that many columns and
its rowspan takes its columns in the rows below, so the next cells of those rows start further
right. Header rows are the JATS ``<thead>`` rows (and the rows right under them that have no
first cell and no data: "| Placebo, n = 27 | Palmvitee, n = 29"; not a row whose one cell spans
all the value columns, a group label), the PDF rows above the rule
under the header, else the rows above the first row holding data (at most MAX_HEADER_ROWS).

A PDF row is cut into cells at gaps between words, so a row with an empty cell has fewer
cells and which column is empty is not known: such a row is kept but marked ``ragged`` (its
cells are in order, not in columns) and gives no figure. Two cases are placed: a header row one
cell short (the empty top-left cell) sits from column 1, and a row of one cell that is no
figure is a group label in column 0. An upper PDF header cell spans the empty cells after it.
"""

from __future__ import annotations

from pipeline.document import Document
from pipeline.document import Table as ReaderTable
from pipeline.tables.cells import read_cell
from pipeline.tables.model import Cell, Span, Table
from pipeline.tables.text import time_points_only

SEPARATOR = " | "
MAX_HEADER_ROWS = 4


def reader_tables(document: Document) -> list[Table]:
    """The reader's tables of ``document`` as grids, in text order; a PDF table continued on
    the next page is one table (see ``joined``)."""
    tables: list[Table] = []
    previous: Table | None = None  # the table of the reader's table before, if it was read
    for found in document.tables:
        table = reader_table(document, found)
        if table is not None and found.continued and previous is not None and previous.kind == "pdf" \
                and table.kind == "pdf" and table.columns == previous.columns:
            table = joined(previous, table)
            tables[tables.index(previous)] = table
        elif table is not None:
            tables.append(table)
        previous = table
    return sorted(tables, key=lambda t: t.start)


def joined(first: Table, rest: Table) -> Table:
    """``first`` with the rows of ``rest``, its continuation on the next page, after its own:
    rows of ``rest`` repeating a header row of ``first`` are dropped, the others are body rows.
    Cells keep their offsets (so their pages); the table's blocks are both parts'."""
    header = [[(c.column, c.text) for c in row] for row in first.header]
    skip = 0
    while skip < len(rest.rows) and [(c.column, c.text) for c in rest.rows[skip]] in header:
        skip += 1
    rows = list(first.rows)
    ragged = set(first.ragged)
    for r in range(skip, len(rest.rows)):
        at = len(rows)
        own_header = r < rest.header_rows  # read as a header of the part alone: here a body row
        rows.append([Cell(c.text, at, c.column, c.start, c.end, False, c.column == 0 and r not in rest.ragged,
                          1 if own_header else c.colspan, c.rowspan) for c in rest.rows[r]])
        if r in rest.ragged:
            ragged.add(at)
    return Table(rows, first.header_rows, first.columns, first.start, rest.end, first.kind, caption=first.caption,
                 footnotes=first.footnotes + rest.footnotes, label=first.label, page=first.page,
                 ragged=frozenset(ragged), blocks=first.parts + rest.parts)


def reader_table(document: Document, found: ReaderTable) -> Table | None:
    text = document.text
    if not found.rows:
        return None
    rendered = "\n".join(SEPARATOR.join(row) for row in found.rows)
    start = found.end - len(rendered)
    if start < found.start or text[start : found.end] != rendered:
        return None
    kind = found.kind or ("pdf" if document.format == "pdf" else "jats")
    placed = _placed(found, kind)
    header_rows = _header_rows(found, placed)
    rows: list[list[Cell]] = []
    ragged: set[int] = set()
    pos = start
    columns = max((col + span for row in placed for col, span, _ in row if col is not None), default=1)
    for r, (strings, row_places) in enumerate(zip(found.rows, placed)):
        is_header = r < header_rows
        cells: list[Cell] = []
        if any(col is None for col, _, _ in row_places):
            ragged.add(r)
        for k, (raw, (col, colspan, rowspan)) in enumerate(zip(strings, row_places)):
            lead = len(raw) - len(raw.lstrip())
            body = raw.strip()
            if body:
                column = col if col is not None else k
                cells.append(Cell(body, r, column, pos + lead, pos + lead + len(body), is_header,
                                  not is_header and column == 0 and r not in ragged, colspan, rowspan))
            pos += len(raw) + len(SEPARATOR)
        pos += 1 - len(SEPARATOR)  # the line break after the row's last cell
        rows.append(cells)
    if kind == "pdf" and found.spans is None:
        rows = _spanning_headers(rows, header_rows, columns, ragged)
    return Table(rows, header_rows, columns, start, found.end, kind, caption=_caption(text, found, start),
                 footnotes=_notes(text, found), label=found.label,
                 page=found.page if found.page is not None else document.page_at(start), ragged=frozenset(ragged))


Place = tuple[int | None, int, int]  # grid column (None: not known), colspan, rowspan


def _placed(found: ReaderTable, kind: str) -> list[list[Place]]:
    """Each cell's grid column, colspan and rowspan."""
    if found.spans is not None and len(found.spans) == len(found.rows) and all(
            len(s) == len(r) for s, r in zip(found.spans, found.rows)):
        return _spanned(found.spans)
    if kind != "pdf":
        return [[(k, 1, 1) for k in range(len(row))] for row in found.rows]
    width = max(len(row) for row in found.rows)
    placed: list[list[Place]] = []
    header = found.header_rows or _data_free_top(found.rows)
    for r, row in enumerate(found.rows):
        filled = [cell for cell in row if cell.strip()]
        if len(row) == width and width > 1:
            placed.append([(k, 1, 1) for k in range(len(row))])
        elif r < header and r == header - 1 and len(row) == width - 1:
            placed.append([(k + 1, 1, 1) for k in range(len(row))])  # the empty top-left cell
        elif len(filled) == 1 and row[0].strip() and read_cell(row[0]) is None:
            placed.append([(0, 1, 1)] + [(None, 1, 1)] * (len(row) - 1))  # a group label
        else:
            placed.append([(None, 1, 1)] * len(row))
    return placed


def _spanned(spans: list[list[list[int]]]) -> list[list[Place]]:
    """Grid columns of cells with colspans and rowspans: a cell starts at the first column not
    taken by a cell above reaching down into its row."""
    taken: dict[int, int] = {}  # column -> rows it is still taken for
    placed: list[list[Place]] = []
    for row in spans:
        here = {col for col, left in taken.items() if left > 0}
        out: list[Place] = []
        col = 0
        for colspan, rowspan in row:
            while col in here:
                col += 1
            out.append((col, colspan, rowspan))
            for c in range(col, col + colspan):
                here.add(c)
                if rowspan > 1:
                    taken[c] = max(taken.get(c, 0), rowspan)
            col += colspan
        taken = {c: left - 1 for c, left in taken.items() if left - 1 > 0}
        placed.append(out)
    return placed


def _data_row(row: list[str]) -> bool:
    """A row holding data: a cell after its first that reads as a figure, range, count or
    "NR"/"–" (the time points heading landmark columns, "6 months | 12 months", do not)."""
    rest = [cell for cell in row[1:] if cell.strip()]
    return any(read_cell(cell) is not None for cell in rest) and not time_points_only(rest)


def _data_free_top(rows: list[list[str]]) -> int:
    """How many rows come before the first row holding data; 0 when that is more than
    MAX_HEADER_ROWS (or no row holds data): the header is then not known."""
    first = next((r for r, row in enumerate(rows) if _data_row(row)), None)
    return first if first is not None and first <= MAX_HEADER_ROWS else 0


def _header_rows(found: ReaderTable, placed: list[list[Place]]) -> int:
    """The source's header rows and the sub-header rows right under them (no first cell, no
    data), else the rows above the first data row. A row of one first cell closing the header
    is a group label over the rows below ("On-treatment response"): a body row."""
    if found.header_rows:
        n = found.header_rows
        columns = max((col + span for row in placed for col, span, _ in row if col is not None), default=1)
        while (n < len(found.rows) and n < found.header_rows + 2 and not _data_row(found.rows[n])
               and not any(col == 0 and cell.strip() for cell, (col, _, _) in zip(found.rows[n], placed[n]))
               and sum(1 for cell in found.rows[n] if cell.strip()) >= 1
               and not full_width_label(found.rows[n], placed[n], columns)):
            n += 1
        n = n if n < len(found.rows) else found.header_rows
    else:
        n = _data_free_top(found.rows)
    while n > 1 and _label_only(found.rows[n - 1], placed[n - 1]) and not all(
            _label_only(found.rows[r], placed[r]) for r in range(n - 1)):
        n -= 1
    return n


def full_width_label(row: list[str], places: list[Place], columns: int) -> bool:
    """A row whose one cell spans every value column ("| HER2 IHC 3+ |" over the columns after
    an empty first cell) and is no figure: a group label over the rows below it."""
    filled = [(cell, place) for cell, place in zip(row, places) if cell.strip()]
    if len(filled) != 1 or columns < 3:
        return False
    cell, (col, colspan, _) = filled[0]
    return col is not None and col <= 1 and colspan >= 2 and col + colspan >= columns and read_cell(cell) is None


def _label_only(row: list[str], places: list[Place]) -> bool:
    filled = [(cell, place) for cell, place in zip(row, places) if cell.strip()]
    return len(filled) == 1 and filled[0][1][0] == 0


def _spanning_headers(rows: list[list[Cell]], header_rows: int, columns: int, ragged: set[int]) -> list[list[Cell]]:
    """An upper header cell of a PDF table spans the empty cells after it (over a lower
    header), as in plain-text tables."""
    out = []
    for r, row in enumerate(rows):
        if r >= header_rows - 1 or r in ragged:
            out.append(row)
            continue
        spanned = []
        for i, cell in enumerate(row):
            following = row[i + 1].column if i + 1 < len(row) else columns
            spanned.append(Cell(cell.text, cell.row, cell.column, cell.start, cell.end, True, False,
                                max(1, following - cell.column), cell.rowspan))
        out.append(spanned)
    return out


def _caption(text: str, found: ReaderTable, rows_start: int) -> Span | None:
    """Where the caption is written: the heading line above the rows (JATS) or the block's
    first line (PDF)."""
    if not found.caption:
        return None
    at = text.rfind(found.caption, max(0, min(found.start, rows_start) - len(found.caption) - 400), rows_start)
    return Span(found.caption, at, at + len(found.caption)) if at != -1 else None


def _notes(text: str, found: ReaderTable) -> list[Span]:
    if not found.notes:
        return []
    at = text.find(found.notes, found.end, found.end + 4 + len(found.notes))
    return [Span(found.notes, at, at + len(found.notes))] if at != -1 else []
