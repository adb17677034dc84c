"""A table as rows of cells, whatever the source: plain text (pipeline.tables.text), JATS
``<table-wrap>`` and PDF tables (pipeline.tables.reader, from the reader's ``Document.tables``).

Every offset is a character offset into the document text, so ``text[cell.start:cell.end] ==
cell.text`` for every cell and a figure read from a cell points back to where it is written.
Rows are header rows first, then body rows; a cell names the grid column it starts in and how
many columns it covers (a spanning header over sub-columns has ``colspan`` > 1). Empty cells are
not kept. A cell wrapped over two lines of a plain-text table is one Cell per line, with the same
row and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """A piece of text around a table (its caption, a footnote) and where it is."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Cell:
    text: str  # as written, white space around it trimmed
    row: int  # index into Table.rows (header rows first)
    column: int  # the first grid column the cell covers, 0-based
    start: int
    end: int
    is_header: bool = False
    is_stub: bool = False  # in the first column, which names what a body row is about
    colspan: int = 1
    rowspan: int = 1  # a JATS cell over the rows below it (it is kept in its first row only)

    def covers(self, column: int) -> bool:
        return self.column <= column < self.column + self.colspan


@dataclass
class Table:
    rows: list[list[Cell]]  # header rows, then body rows; each row's cells in column order
    header_rows: int  # how many of ``rows`` are header rows
    columns: int
    start: int  # the first header or body line ... the end of the last row
    end: int
    kind: str  # where it comes from: "tab", "pipe", "space" (plain text), "jats", "pdf"
    caption: Span | None = None
    footnotes: list[Span] = field(default_factory=list)
    label: str | None = None  # "Table 2", as the source numbers it
    page: int | None = None
    # Rows whose cells' grid columns are not known (a PDF row cut into fewer cells than the
    # table has columns: which one is empty is not said). They are kept, not read.
    ragged: frozenset[int] = frozenset()
    # Where its rows are written: one block, or one per page for a PDF table continued on the
    # next page (start ... end then also covers the text between the blocks, which is not the
    # table's). Empty: the one block start ... end.
    blocks: tuple[tuple[int, int], ...] = ()

    @property
    def parts(self) -> tuple[tuple[int, int], ...]:
        return self.blocks or ((self.start, self.end),)

    @property
    def header(self) -> list[list[Cell]]:
        return self.rows[: self.header_rows]

    @property
    def body(self) -> list[list[Cell]]:
        return self.rows[self.header_rows :]

    def cells_at(self, row: int, column: int) -> list[Cell]:
        """The cells of ``row`` that cover ``column`` (two or more for a wrapped cell)."""
        return [c for c in self.rows[row] if c.covers(column)]

    def column_header(self, column: int) -> list[Cell]:
        """The header cells over ``column``, top level first (a spanning header, then its
        sub-column's own header)."""
        return [c for i, row in enumerate(self.header) if i not in self.ragged for c in row if c.covers(column)]
