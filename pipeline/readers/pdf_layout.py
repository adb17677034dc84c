"""Page geometry for the PDF reader: pdfium text lines with boxes, and their reading order.

Coordinates are PDF user space (points, y grows upwards), as pdfium reports them.

Reading order: a page is cut into vertical bands at lines that cross the column gutter
(titles, full-width abstracts, wide tables); inside a band the left column is read before the
right one. Each side is searched for a gutter again, so three columns, or a side bar plus two
columns, also read column by column. pdfium joins text on one baseline into one line even
across a gutter, so a line keeps its wide blank gaps and is cut at the gutter when one of
them spans it.
"""

from __future__ import annotations

import bisect
import ctypes
import re
from dataclasses import dataclass, field
from itertools import accumulate, groupby
from operator import attrgetter
from typing import Any, Callable

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

# pdfium ends a text line with CRLF; a lone CR or LF can come from the PDF's own text.
_LINE = re.compile(r"[^\r\n]+")

# A column is at least this wide (points).
_MIN_COLUMN_WIDTH = 90.0
# Each side of a gutter needs this many lines at least _WIDE_LINE points (or half the side) wide.
_MIN_SIDE_LINES = 3
_WIDE_LINE = 100.0
# A blank stretch inside a line at least this wide (points, or share of the line height) may
# be a gutter; justified word spaces stay below it.
_MIN_GAP = 8.0
_MIN_GAP_HEIGHTS = 0.8


def unchecked(function: Callable[..., Any]) -> Callable[..., Any]:
    """A pdfium function without its declared argument types, for the calls made per line or
    per glyph: ctypes then passes the arguments as they are, which halves the cost of a call.
    Every argument must be an int, a bare handle (``.raw``) or a ``ctypes.byref`` pointer: a
    float is refused and a ctypes value would be passed by value."""
    return ctypes.CFUNCTYPE(function.restype)(ctypes.cast(function, ctypes.c_void_p).value)


_COUNT_RECTS = unchecked(pdfium_c.FPDFText_CountRects)
_GET_RECT = unchecked(pdfium_c.FPDFText_GetRect)


@dataclass(slots=True)
class Gap:
    """A wide blank stretch inside a line; the text right of it starts at ``offset``."""

    x0: float
    x1: float
    offset: int


@dataclass(slots=True)
class Line:
    """One pdfium text line and its box (x0, y0) lower left, (x1, y1) upper right."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    gaps: list[Gap] = field(default_factory=list)
    start: int = 0  # where the line's text starts in the page text

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def pieces(self) -> list[tuple[float, float]]:
        """x extents of the line's text between its wide gaps."""
        if not self.gaps:
            return [(self.x0, self.x1)]
        edges = [self.x0, *(x for gap in self.gaps for x in (gap.x0, gap.x1)), self.x1]
        return list(zip(edges[::2], edges[1::2]))

    def split(self, x: float) -> tuple[Line, Line] | None:
        """The line cut at the gap that spans ``x``, or None if no gap does."""
        for i, gap in enumerate(self.gaps):
            if gap.x0 <= x <= gap.x1:
                left_text, right_text = self.text[: gap.offset], self.text[gap.offset :]
                if not left_text.strip() or not right_text.strip():
                    return None
                right_gaps = [Gap(g.x0, g.x1, g.offset - gap.offset) for g in self.gaps[i + 1 :]]
                left = Line(left_text, self.x0, self.y0, gap.x0, self.y1, self.gaps[:i], self.start)
                right = Line(right_text, gap.x1, self.y0, self.x1, self.y1, right_gaps, self.start + gap.offset)
                return left, right
        return None


def page_lines(textpage: pdfium.PdfTextPage, text: str) -> list[Line]:
    """The page's text lines as pdfium emits them (``text`` is the text page's whole text),
    each with the union box of its text rects and its wide gaps.

    pdfium's line breaks are kept (it already joins words and marks line-end hyphen breaks
    with U+FFFE, merging the two physical lines into one).
    """
    chars = TextChars(textpage, text)
    rects = _LineRects(chars.raw)
    lines: list[Line] = []
    for match in _LINE.finditer(text):
        chunk = match.group()
        if chunk.isspace():
            continue
        start, end = match.span()
        first, last = (start, end - 1) if chars.simple else chars.span(start, end)
        if first < 0 or last < first:
            continue
        boxes = rects.of(first, last - first + 1)
        if not boxes:
            continue  # only invisible or zero-size glyphs
        if len(boxes) == 1:
            x0, y0, x1, y1 = boxes[0]
            if x1 > x0:
                lines.append(Line(chunk, x0, y0, x1, y1, start=start))
            continue
        # min/max over each coordinate's column: C loops, not one generator per side
        lefts, bottoms, rights, tops = zip(*boxes)
        x0, y0, x1, y1 = min(lefts), min(bottoms), max(rights), max(tops)
        if x1 > x0:
            gaps = _gaps(chars, boxes, y1 - y0, start, len(chunk))
            lines.append(Line(chunk, x0, y0, x1, y1, gaps, start))
    return lines


class _LineRects:
    """pdfium's text rects of a range of chars, as (x0, y0, x1, y1) boxes in PDF space."""

    def __init__(self, raw_textpage: object) -> None:
        self._raw = raw_textpage
        self._doubles = [ctypes.c_double() for _ in range(4)]  # left, top, right, bottom
        self._pointers = [ctypes.byref(double) for double in self._doubles]

    def of(self, first: int, count: int) -> list[tuple[float, float, float, float]]:
        raw, get_rect, pointers = self._raw, _GET_RECT, self._pointers
        left, top, right, bottom = self._doubles
        boxes = []
        for k in range(_COUNT_RECTS(raw, first, count)):
            get_rect(raw, k, *pointers)
            boxes.append((left.value, bottom.value, right.value, top.value))
        return boxes


def _gaps(chars: TextChars, rects: list[tuple[float, ...]], height: float, start: int, length: int) -> list[Gap]:
    """Wide gaps between the text rects of a one-row line (``height`` high), with the text
    offset after each."""
    row_height = max([r[3] - r[1] for r in rects])
    if height > 1.5 * row_height:
        return []  # two physical lines joined at a hyphen break: not one row
    gaps = []
    ordered = sorted(rects)
    reach = ordered[0][2]
    min_gap = max(_MIN_GAP, _MIN_GAP_HEIGHTS * row_height)
    for x0, y0, x1, y1 in ordered[1:]:
        if x0 - reach >= min_gap:
            char = pdfium_c.FPDFText_GetCharIndexAtPos(chars.raw, x0 + 0.5, (y0 + y1) / 2, 1.0, 1.0)
            offset = chars.position(char) - start if char >= 0 else -1
            if 0 < offset < length:
                gaps.append(Gap(reach, x0, offset))
        reach = max(reach, x1)
    gaps.sort(key=lambda gap: gap.offset)
    # Text order and x order must agree, or the offsets cannot cut the line.
    if [gap.x0 for gap in gaps] != sorted(gap.x0 for gap in gaps):
        return []
    return gaps


_BEYOND_BMP = re.compile("[\U00010000-\U0010FFFF]")


def beyond_bmp(text: str) -> bool:
    """Whether ``text`` has a char beyond the BMP (two UTF-16 units): quicker than a search."""
    return len(text.encode("utf-16-le", "surrogatepass")) > 2 * len(text)


class TextChars:
    """Positions in the page text (a Python str) as pdfium's char indexes, and back.

    pdfium's text indexes count UTF-16 units, so a char beyond the BMP (a math italic "𝑛")
    takes two; and they skip chars that have no text, which pdfium then maps. Where no char
    lacks text, a text index is the char index; on most pages no char is beyond the BMP
    either, and a position is its char index (``simple``).
    """

    def __init__(self, textpage: pdfium.PdfTextPage, text: str) -> None:
        self.raw = textpage.raw  # the bare handle: a pypdfium2 object costs a property call per C call
        self._wide = [match.start() for match in _BEYOND_BMP.finditer(text)] if beyond_bmp(text) else []
        self._wide_indexes = [position + i for i, position in enumerate(self._wide)]
        self._all_have_text = len(text) + len(self._wide) == pdfium_c.FPDFText_CountChars(self.raw)
        self.simple = self._all_have_text and not self._wide

    def at(self, position: int) -> int:
        """The char index of the text at ``position``; -1 if it has no char of its own."""
        if self.simple:
            return position
        index = position + bisect.bisect_left(self._wide, position) if self._wide else position
        return index if self._all_have_text else pdfium_c.FPDFText_GetCharIndexFromTextIndex(self.raw, index)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The char indexes of the first and the last position in [start, end) that have one."""
        if self.simple:
            return start, end - 1
        return self.first(start, end, step=1), self.first(end - 1, start - 1, step=-1)

    def first(self, start: int, stop: int, step: int) -> int:
        """The char index of the first position from ``start`` towards ``stop`` that has one."""
        for position in range(start, stop, step):
            char = self.at(position)
            if char >= 0:
                return char
        return -1

    def position(self, char: int) -> int:
        """The text position of char index ``char``."""
        if self.simple:
            return char
        index = char if self._all_have_text else pdfium_c.FPDFText_GetTextIndexFromCharIndex(self.raw, char)
        return index - bisect.bisect_left(self._wide_indexes, index)


def reading_order(lines: list[Line]) -> list[list[Line]]:
    """Blocks of lines in reading order; each block is one column run of one band."""
    if not lines:
        return []
    x0 = min(line.x0 for line in lines)
    x1 = max(line.x1 for line in lines)
    blocks: list[list[Line]] = []
    _order(lines, x0, x1, blocks, depth=0)
    return blocks


def _order(lines: list[Line], x0: float, x1: float, out: list[list[Line]], depth: int) -> None:
    gutter = _find_gutter(lines, x0, x1) if depth < 3 else None
    if gutter is None:
        out.append(_top_down(lines))
        return
    band: list[Line] = []

    def flush() -> None:
        if not band:
            return
        left = [line for line in band if line.x1 <= gutter]
        right = [line for line in band if line.x0 >= gutter]
        for side, lo, hi in ((left, x0, gutter), (right, gutter, x1)):
            if side:
                _order(side, lo, hi, out, depth + 1)
        band.clear()

    full: list[Line] = []
    for line in _top_down(lines):
        halves = line.split(gutter) if line.x0 < gutter < line.x1 else (line,)
        if halves is None:  # a full-width line closes the band above it
            flush()
            full.append(line)
            continue
        if full:
            out.append(full)
            full = []
        band.extend(halves)
    flush()
    if full:
        out.append(full)


def _find_gutter(lines: list[Line], x0: float, x1: float) -> float | None:
    """x of a column gutter: the middle of the widest strip crossed by the fewest lines, with
    text columns on both sides; None for a single column.

    Two candidates: the strip least covered by whole lines (a wide table, whose rows have
    gaps everywhere, then counts as crossing) and the one least covered by lines cut at their
    wide gaps (for pages where pdfium joined the two columns' lines). The one with more wide
    lines on its weaker side wins.
    """
    if x1 - x0 < 2 * _MIN_COLUMN_WIDTH or len(lines) < 2:
        return None
    lo = int(x0 + _MIN_COLUMN_WIDTH)
    hi = int(x1 - _MIN_COLUMN_WIDTH)
    if hi <= lo:
        return None
    whole = [(line.x0, line.x1) for line in lines]
    cut = any(line.gaps for line in lines)  # else each line is one piece
    pieces = [piece for line in lines for piece in line.pieces()] if cut else whole
    if not _sides_possible(pieces, x0, x1, lo, hi):
        return None  # a single column, most often: its coverage need not be measured
    least = _least_covered(whole, lo, hi)
    candidates = {least, _least_covered(pieces, lo, hi)} if cut else {least}
    best, best_support = None, _MIN_SIDE_LINES - 1
    for gutter in sorted(candidates):
        # Columns hold running text: wide lines on each side. This keeps table cells from
        # looking like columns. A side may hold further columns.
        support = min(_wide_pieces(pieces, x0, gutter), _wide_pieces(pieces, gutter, x1))
        if support > best_support:
            best, best_support = gutter, support
    return best


def _sides_possible(pieces: list[tuple[float, float]], x0: float, x1: float, lo: int, hi: int) -> bool:
    """Whether any gutter could have _MIN_SIDE_LINES wide pieces on both sides. A gutter lies
    in [lo, hi + 1], so its left side counts at most the pieces that end by hi + 1 and are as
    wide as the left side's width at lo asks; its right side likewise."""
    left_wide = min(0.5 * (lo - x0), _WIDE_LINE)
    right_wide = min(0.5 * (x1 - (hi + 1)), _WIDE_LINE)
    left = sum(1 for a, b in pieces if b <= hi + 1 and b - a >= left_wide)
    right = sum(1 for a, b in pieces if a >= lo and b - a >= right_wide)
    return min(left, right) >= _MIN_SIDE_LINES


def _wide_pieces(pieces: list[tuple[float, float]], left: float, right: float) -> int:
    """How many pieces between ``left`` and ``right`` span half that width or _WIDE_LINE."""
    wide = min(0.5 * (right - left), _WIDE_LINE)
    return sum(1 for a, b in pieces if left <= a and b <= right and b - a >= wide)


def _least_covered(spans: list[tuple[float, float]], lo: int, hi: int) -> float:
    """Middle of the widest run of x in [lo, hi] that the fewest spans cover."""
    diff = [0] * (hi - lo + 2)  # difference array of coverage per integer x
    for a, b in spans:
        first, last = int(a) + 1, int(b)  # the integer x from just right of a up to b
        if first < lo:
            first = lo
        if last > hi:
            last = hi
        if first <= last:
            diff[first - lo] += 1
            diff[last - lo + 1] -= 1
    coverage = list(accumulate(diff[:-1]))
    fewest = min(coverage)
    # Runs of equal coverage, measured in C (groupby, len): a page is some 400 x wide.
    best_start = best_len = start = 0
    for value, run in groupby(coverage):
        length = len(list(run))
        if value == fewest and length > best_len:
            best_start, best_len = start, length
        start += length
    return lo + best_start + best_len / 2


def _top_down(lines: list[Line]) -> list[Line]:
    """Lines sorted top to bottom; lines sharing a baseline row are read left to right."""
    rows: list[list[Line]] = []
    last = None
    for line in sorted(lines, key=_TOP, reverse=True):  # stable: ties keep their order
        if last is not None and _share_row(last, line):
            rows[-1].append(line)
        else:
            rows.append([line])
        last = line
    return [line for row in rows for line in (sorted(row, key=_LEFT) if len(row) > 1 else row)]


def _share_row(a: Line, b: Line) -> bool:
    """Whether the lines overlap in height by more than half the shorter one's height."""
    return min(a.y1, b.y1) - max(a.y0, b.y0) > 0.5 * min(a.y1 - a.y0, b.y1 - b.y0)


_TOP = attrgetter("y1")
_LEFT = attrgetter("x0")
