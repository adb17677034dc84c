"""Fully ruled tables: cells cut by ruling lines, the way pdfplumber's table finder does it.

Edges within 3 points of one another are snapped to their mean position and joined along
their line; wherever a vertical edge meets a horizontal one is a corner; each corner and the
nearest corners right of it and below it that ruling lines connect make a cell; cells sharing
corners make a table. A cell's text is the words whose middle lies inside it, one line per
text row. Coordinates are measured down from the page top, like the words and edges.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass
from itertools import groupby
from typing import Callable

from pipeline.readers.pdf_geometry import Box, Edge, Word, join_words

_SNAP = 3.0  # points: edges this close are one line
_JOIN = 3.0  # points: pieces of one line this close are one edge
_MIN_LENGTH = 3.0  # points: shorter edges are not rules
_MEET = 3.0  # points: a vertical and a horizontal edge this close meet
_LINE_TOLERANCE = 3.0  # points: words whose tops are this close share a text line

Point = tuple[float, float]


@dataclass
class GridTable:
    bbox: Box
    rows: list[list[str | None]]  # None where no cell covers the column in that row
    columns: list[tuple[float, float]]  # each grid column's left and right, in points


def grid_tables(edges: list[Edge], words_within: Callable[[Box], list[Word]]) -> list[GridTable]:
    """The page's fully ruled tables, top to bottom, each with the text of its cells;
    ``words_within(box)`` gives (at least) the words inside a box."""
    merged = _merged(edges)
    # Two rows and two columns of cells need three rules each way.
    if len({e.x0 for e in merged if not e.horizontal}) < 3 or len({e.top for e in merged if e.horizontal}) < 3:
        return []
    tables = [cells for cells in _group(_Corners(merged).cells()) if _rows_and_columns(cells)]
    return [GridTable(_outline(cells), _cell_texts(cells, words_within(_outline(cells))), _columns(cells))
            for cells in tables]


def _columns(cells: list[Box]) -> list[tuple[float, float]]:
    lefts = sorted({cell[0] for cell in cells})
    return list(zip(lefts, [*lefts[1:], max(cell[2] for cell in cells)]))


def _rows_and_columns(cells: list[Box]) -> bool:
    """Whether the cells make two rows and two columns at least: one row or one column of
    cells is a frame or a shaded row, no table, so its cells' text is not gathered."""
    return len({cell[0] for cell in cells}) >= 2 and len({cell[1] for cell in cells}) >= 2


# --- edges -------------------------------------------------------------------------------


def _merged(edges: list[Edge]) -> list[Edge]:
    """Edges snapped to common lines and joined along them; short pieces dropped."""
    merged: list[Edge] = []
    for horizontal in (True, False):
        lines = _snapped([e for e in edges if e.horizontal == horizontal and e.length >= 1])
        for _, line in groupby(sorted(lines, key=_position), key=_position):
            merged.extend(_joined(list(line)))
    return [e for e in merged if e.length >= _MIN_LENGTH]


def _position(edge: Edge) -> float:
    return edge.top if edge.horizontal else edge.x0


def _snapped(edges: list[Edge]) -> list[Edge]:
    """Each run of edge positions with steps of at most _SNAP moved to the run's mean."""
    by_position = sorted(edges, key=_position)
    out: list[Edge] = []
    start = 0
    for i in range(1, len(by_position) + 1):
        if i == len(by_position) or _position(by_position[i]) > _position(by_position[i - 1]) + _SNAP:
            run = by_position[start:i]
            mean = sum(map(_position, run)) / len(run)
            out.extend(_moved(edge, mean) for edge in run)
            start = i
    return out


def _moved(edge: Edge, position: float) -> Edge:
    if edge.horizontal:
        return Edge(edge.x0, position, edge.x1, position, horizontal=True)
    return Edge(position, edge.top, position, edge.bottom, horizontal=False)


def _joined(line: list[Edge]) -> list[Edge]:
    """Edges on one line joined where they overlap or nearly touch."""

    def span(edge: Edge) -> tuple[float, float]:
        return (edge.x0, edge.x1) if edge.horizontal else (edge.top, edge.bottom)

    joined: list[Edge] = []
    for edge in sorted(line, key=span):
        start, end = span(edge)
        if joined and start <= span(joined[-1])[1] + _JOIN:
            last = joined[-1]
            if end > span(last)[1]:
                if last.horizontal:
                    joined[-1] = Edge(last.x0, last.top, end, last.bottom, horizontal=True)
                else:
                    joined[-1] = Edge(last.x0, last.top, last.x1, end, horizontal=False)
        else:
            joined.append(edge)
    return joined


# --- corners and cells ---------------------------------------------------------------------


class _Corners:
    """Points where a vertical edge meets a horizontal one, each with the indexes of the
    vertical and of the horizontal edges through it."""

    def __init__(self, edges: list[Edge]) -> None:
        verticals = [(i, e) for i, e in enumerate(edges) if not e.horizontal]
        horizontals = sorted(((i, e) for i, e in enumerate(edges) if e.horizontal), key=lambda p: p[1].top)
        tops = [e.top for _, e in horizontals]
        self.through: dict[Point, tuple[set[int], set[int]]] = {}
        for i, v in verticals:
            # Only the horizontals at the height of the vertical edge can meet it.
            first, end = bisect_left(tops, v.top - _MEET), bisect_right(tops, v.bottom + _MEET)
            for j, h in horizontals[first:end]:
                if h.x0 - _MEET <= v.x0 <= h.x1 + _MEET:
                    through = self.through.setdefault((v.x0, h.top), (set(), set()))
                    through[0].add(i)
                    through[1].add(j)

    def cells(self) -> list[Box]:
        """For each corner, the smallest box whose four corners ruling lines connect."""
        points = sorted(self.through)
        column: dict[float, list[Point]] = defaultdict(list)  # points by x, top to bottom
        row: dict[float, list[Point]] = defaultdict(list)  # points by top, left to right
        for point in points:
            column[point[0]].append(point)
            row[point[1]].append(point)
        cells = (self._smallest_cell(point, column[point[0]], row[point[1]]) for point in points)
        return [cell for cell in cells if cell is not None]

    def _smallest_cell(self, corner: Point, column: list[Point], row: list[Point]) -> Box | None:
        # Lazily below: the nearest corners usually make the cell, and the rest need no test.
        below = (p for p in column if p[1] > corner[1] and self._connected(corner, p))
        right = [p for p in row if p[0] > corner[0] and self._connected(corner, p)]
        for down in below:
            for across in right:
                opposite = (across[0], down[1])
                if opposite in self.through and self._connected(opposite, across) and self._connected(opposite, down):
                    return (corner[0], corner[1], opposite[0], opposite[1])
        return None

    def _connected(self, a: Point, b: Point) -> bool:
        """Whether one ruling line runs through both corners."""
        if a[0] == b[0] and self.through[a][0] & self.through[b][0]:
            return True
        return a[1] == b[1] and bool(self.through[a][1] & self.through[b][1])


def _group(cells: list[Box]) -> list[list[Box]]:
    """Cells that share corners, directly or through other cells, as tables of two or more
    cells, top to bottom."""
    sharing: dict[Point, list[int]] = defaultdict(list)  # the cells at each corner
    for i, cell in enumerate(cells):
        for point in _box_corners(cell):
            sharing[point].append(i)
    seen: set[int] = set()
    tables: list[list[Box]] = []
    for first in range(len(cells)):
        if first in seen:
            continue
        seen.add(first)
        table, queue = [], [first]
        while queue:
            cell = cells[queue.pop()]
            table.append(cell)
            for point in _box_corners(cell):
                for other in sharing[point]:
                    if other not in seen:
                        seen.add(other)
                        queue.append(other)
        tables.append(table)
    tables.sort(key=lambda table: min((cell[1], cell[0]) for cell in table))
    return [table for table in tables if len(table) > 1]


def _box_corners(box: Box) -> tuple[Point, Point, Point, Point]:
    x0, top, x1, bottom = box
    return (x0, top), (x0, bottom), (x1, top), (x1, bottom)


def _outline(cells: list[Box]) -> Box:
    return (
        min(c[0] for c in cells),
        min(c[1] for c in cells),
        max(c[2] for c in cells),
        max(c[3] for c in cells),
    )


# --- text ----------------------------------------------------------------------------------


def _cell_texts(cells: list[Box], words: list[Word]) -> list[list[str | None]]:
    """Rows of cell texts: cells grouped by top, placed in the columns of all cell lefts."""
    lefts = sorted({cell[0] for cell in cells})
    words = _inside(_outline(cells), words)
    rows = []
    for _, group in groupby(sorted(cells, key=lambda c: (c[1], c[0])), key=lambda c: c[1]):
        row_cells = list(group)
        row_words = _inside(_outline(row_cells), words)  # fewer words to test per cell
        by_left = {cell[0]: cell for cell in row_cells}
        rows.append([_text(_inside(by_left[x], row_words)) if x in by_left else None for x in lefts])
    return rows


def _inside(box: Box, words: list[Word]) -> list[Word]:
    """The words whose middle lies in ``box``."""
    x0, top, x1, bottom = box
    return [w for w in words if x0 <= (w.x0 + w.x1) / 2 < x1 and top <= (w.top + w.bottom) / 2 < bottom]


def _text(words: list[Word]) -> str:
    """Text lines (words whose tops are close) joined by newlines."""
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: w.top):
        if lines and word.top <= lines[-1][-1].top + _LINE_TOLERANCE:
            lines[-1].append(word)
        else:
            lines.append([word])
    return "\n".join(join_words(sorted(line, key=lambda w: w.x0)) for line in lines)
