"""Words and ruling lines of a PDF page for the table pass, from what pdfium has parsed.

Everything here is measured down from the page top (``top`` < ``bottom``), as on a printed
page and in pdfplumber, whose table logic this feeds; glyph boxes and path points come from
pdfium in PDF user space (y grows upwards) and are turned over with the page's top.
"""

from __future__ import annotations

import ctypes
import math
import re
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from pipeline.readers.pdf_layout import Line, TextChars, unchecked

# A word is a run of non-blank text; U+FFFE (a line-end hyphen where pdfium merged the two
# lines) ends the word on its own line.
_WORD = re.compile(r"[^\s\ufffe]+\ufffe?")
_LINE_ENDS = "\r\n\ufffe"
# Glyphs of one word further apart than this (points) are two words, as for pdfplumber.
_WORD_GAP = 1.5
_EMS_PER_GLYPH = 1.0  # no glyph is wider than an em: a wider word hides a gap
_DESCENT = 0.22  # a usual font descent below the baseline, in font sizes
# A path this thin (points) is a ruling line along its long side, whatever it is drawn as.
_RULE_THICKNESS = 3.0
_FLAT = 0.01  # points: a segment this close to level (or upright) is horizontal (vertical)

Box = tuple[float, float, float, float]  # x0, top, x1, bottom
_PdfBox = tuple[float, float, float, float]  # x0, y0, x1, y1 in PDF space
Matrix = tuple[float, float, float, float, float, float]  # a b c d e f, as in PDF
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@dataclass(slots=True)
class Word:
    """A run of non-blank text and its box, measured down from the page top."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    line_start: bool = False  # the word begins one of pdfium's text lines


@dataclass(slots=True)
class Edge:
    """A ruling line or one side of a drawn box, measured down from the page top."""

    x0: float
    top: float
    x1: float
    bottom: float
    horizontal: bool

    @property
    def length(self) -> float:
        return self.x1 - self.x0 if self.horizontal else self.bottom - self.top


class PageWords:
    """The words of a page's text lines with pdfplumber's boxes: across, from the first
    glyph's origin to the last one's advance; down, a font size from just below the baseline.

    A word is placed by its first glyph's baseline and size, not by its glyphs' boxes: the
    words of a table row share a baseline, while fonts differ in descent (a math minus has
    none) and a raised footnote mark would lift the box. Only the first and the last glyph
    are measured, and only for the lines asked for (the table regions), which keeps this
    cheap; a word wider than an em per glyph holds a gap pdfium put no space in (between
    table cells, say) and is cut there glyph by glyph.
    """

    def __init__(self, textpage: pdfium.PdfTextPage, text: str, lines: list[Line], page_top: float) -> None:
        self._glyphs = _Glyphs(textpage, text)
        self._text = text
        self._lines = lines
        self._page_top = page_top
        self._measured: dict[int, list[Word]] = {}  # the words of a line, by its start

    def within(self, box: Box) -> list[Word]:
        """The words of the lines that reach into ``box`` (x0, top, x1, bottom, measured
        down from the page top); words outside it are left for the caller to drop."""
        x0, top, x1, bottom = box
        words: list[Word] = []
        for line in self._lines:
            line_top, line_bottom = self._page_top - line.y1, self._page_top - line.y0
            if line.x1 >= x0 and line.x0 <= x1 and line_bottom >= top and line_top <= bottom:
                if line.start not in self._measured:
                    self._measured[line.start] = self._line_words(line)
                words.extend(self._measured[line.start])
        return words

    def _line_words(self, line: Line) -> list[Word]:
        """The words of one pdfium line, the first flagged if it starts the line."""
        glyphs, text, page_top = self._glyphs, self._text, self._page_top
        words: list[Word] = []
        for match in _WORD.finditer(text, line.start, line.start + len(line.text)):
            word, start = match.group(), match.start()
            span = glyphs.span(start, start + len(word) - 1)
            if span is None or span[3] - span[0] > _EMS_PER_GLYPH * len(word) * span[2] + 1:
                pieces = _cut_at_gaps(glyphs, word, start, page_top)
            else:
                x, y, size, right = span
                pieces = [_word(word, (x, y), size, right, page_top)]
            if pieces and (start == 0 or text[start - 1] in _LINE_ENDS):
                pieces[0].line_start = True
            words.extend(pieces)
        return words


def join_words(words: list[Word]) -> str:
    """The text of words on one row, left to right: spaced, except where pdfium began a new
    line at a word that continues the word before on its baseline (it does after a
    superscript: "10⁹" "/L"; a raised footnote mark before a word stays apart)."""
    parts = [words[0].text]
    for left, right in zip(words, words[1:]):
        glued = right.line_start and right.x0 - left.x1 <= _WORD_GAP and abs(right.top - left.top) < 1
        parts.append(right.text if glued else " " + right.text)
    return "".join(parts)


def _cut_at_gaps(glyphs: _Glyphs, word: str, start: int, page_top: float) -> list[Word]:
    """``word`` cut where its glyphs are more than _WORD_GAP apart."""
    words: list[Word] = []
    begin = 0  # where the last word starts in ``word``
    right = -math.inf
    for offset in range(len(word)):
        char = glyphs.char(start + offset)
        box, origin = glyphs.box(char), glyphs.origin(char)
        if box is None or origin is None:
            continue
        if words and box[0] - right <= _WORD_GAP:
            words[-1].text = word[begin : offset + 1]
            words[-1].x1 = max(words[-1].x1, box[2])
        else:
            begin = offset
            words.append(_word(word[offset], origin, glyphs.size(char), box[2], page_top))
        right = box[2]
    return words


def _word(text: str, origin: tuple[float, float], size: float, x1: float, page_top: float) -> Word:
    """A word from its first glyph's ``origin`` (font ``size``) to ``x1``."""
    bottom = page_top - origin[1] + _DESCENT * size
    return Word(text, origin[0], x1, bottom - size, bottom)


class _Glyphs:
    """pdfium's glyph measures, looked up by position in the page text."""

    def __init__(self, textpage: pdfium.PdfTextPage, text: str) -> None:
        self.char = TextChars(textpage, text).at
        self._raw = textpage.raw
        self._box = pdfium_c.FS_RECTF()
        self._matrix = pdfium_c.FS_MATRIX()
        self._x, self._y = ctypes.c_double(), ctypes.c_double()
        # Output pointers made once, for the unchecked calls (see pdf_layout.unchecked).
        self._box_pointer, self._matrix_pointer = ctypes.byref(self._box), ctypes.byref(self._matrix)
        self._x_pointer, self._y_pointer = ctypes.byref(self._x), ctypes.byref(self._y)

    def span(self, first: int, last: int) -> tuple[float, float, float, float] | None:
        """Where the text from position ``first`` to ``last`` starts on its baseline (x, y),
        the first glyph's font size and where the last glyph's advance ends; None if a glyph
        has no measures. (What origin, size and box give, in one call per word.)"""
        head, tail = self.char(first), self.char(last)
        if (
            head < 0
            or tail < 0
            or not _GET_CHAR_ORIGIN(self._raw, head, self._x_pointer, self._y_pointer)
            or not _GET_LOOSE_CHAR_BOX(self._raw, tail, self._box_pointer)
        ):
            return None
        return self._x.value, self._y.value, self.size(head), self._box.right

    def box(self, char: int) -> _PdfBox | None:
        """The glyph's loose box (x0, y0, x1, y1) in PDF space: its advance across, the
        font's ascent and descent up and down."""
        if char < 0 or not _GET_LOOSE_CHAR_BOX(self._raw, char, self._box_pointer):
            return None
        return self._box.left, self._box.bottom, self._box.right, self._box.top

    def origin(self, char: int) -> tuple[float, float] | None:
        """Where the glyph starts on its baseline, in PDF space."""
        if char < 0 or not _GET_CHAR_ORIGIN(self._raw, char, self._x_pointer, self._y_pointer):
            return None
        return self._x.value, self._y.value

    def size(self, char: int) -> float:
        """The glyph's font size on the page: the size in text space scaled by its matrix."""
        size = _GET_FONT_SIZE(self._raw, char)
        if _GET_MATRIX(self._raw, char, self._matrix_pointer):
            size *= math.hypot(self._matrix.c, self._matrix.d)
        return size


_GET_CHAR_ORIGIN = unchecked(pdfium_c.FPDFText_GetCharOrigin)
_GET_LOOSE_CHAR_BOX = unchecked(pdfium_c.FPDFText_GetLooseCharBox)
_GET_FONT_SIZE = unchecked(pdfium_c.FPDFText_GetFontSize)
_GET_MATRIX = unchecked(pdfium_c.FPDFText_GetMatrix)


def page_edges(page: pdfium.PdfPage, page_top: float) -> list[Edge]:
    """Horizontal and vertical edges of the page's drawn paths, form XObjects included.

    A thin path (a rule, whether stroked as a line or filled as a rectangle) is one edge
    along its middle; other paths give their level and upright segments, so a box gives its
    four sides, as pdfplumber's edges do.
    """
    edges: list[Edge] = []
    raw = page.raw
    count = pdfium_c.FPDFPage_CountObjects(raw)
    _collect_edges([_GET_OBJECT(raw, i) for i in range(count)], _IDENTITY, page_top, edges)
    return edges


# A page holds an object per run of text, a path a segment per point: the calls made for each
# go unchecked (see pdf_layout.unchecked).
_GET_OBJECT = unchecked(pdfium_c.FPDFPage_GetObject)
_GET_TYPE = unchecked(pdfium_c.FPDFPageObj_GetType)
_GET_DRAW_MODE = unchecked(pdfium_c.FPDFPath_GetDrawMode)
_GET_BOUNDS = unchecked(pdfium_c.FPDFPageObj_GetBounds)
_GET_SEGMENT = unchecked(pdfium_c.FPDFPath_GetPathSegment)
_GET_SEGMENT_TYPE = unchecked(pdfium_c.FPDFPathSegment_GetType)
_GET_POINT = unchecked(pdfium_c.FPDFPathSegment_GetPoint)
_GET_CLOSE = unchecked(pdfium_c.FPDFPathSegment_GetClose)


def _collect_edges(objects: list, outer: Matrix, page_top: float, edges: list[Edge]) -> None:
    """Edges of ``objects``, whose coordinates ``outer`` maps to the page."""
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    bounds = [ctypes.byref(value) for value in (left, bottom, right, top)]
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    draw_mode = ctypes.byref(fill), ctypes.byref(stroke)
    for obj in objects:
        kind = _GET_TYPE(obj)
        if kind == pdfium_c.FPDF_PAGEOBJ_FORM:
            count = pdfium_c.FPDFFormObj_CountObjects(obj)
            children = [pdfium_c.FPDFFormObj_GetObject(obj, i) for i in range(count)]
            _collect_edges(children, _compose(_matrix(obj), outer), page_top, edges)
            continue
        if kind != pdfium_c.FPDF_PAGEOBJ_PATH or not _GET_DRAW_MODE(obj, *draw_mode):
            continue
        if not (fill.value or stroke.value):
            continue  # an invisible path
        if not _GET_BOUNDS(obj, *bounds):
            continue
        x0, y0, x1, y1 = _bounds(outer, left.value, bottom.value, right.value, top.value)
        if min(x1 - x0, y1 - y0) <= _RULE_THICKNESS:
            edges.append(_rule(x0, y0, x1, y1, page_top))
        else:
            edges.extend(_segment_edges(obj, _compose(_matrix(obj), outer), page_top))


def _rule(x0: float, y0: float, x1: float, y1: float, page_top: float) -> Edge:
    """The edge along the middle of a thin box, in the direction of its long side."""
    if x1 - x0 >= y1 - y0:
        middle = page_top - (y0 + y1) / 2
        return Edge(x0, middle, x1, middle, horizontal=True)
    middle = (x0 + x1) / 2
    return Edge(middle, page_top - y1, middle, page_top - y0, horizontal=False)


def _segment_edges(path: object, matrix: Matrix, page_top: float) -> list[Edge]:
    """The level and upright straight pieces of ``path``, one subpath after another."""
    x, y = ctypes.c_float(), ctypes.c_float()
    point_pointers = ctypes.byref(x), ctypes.byref(y)
    start = last = None  # the current subpath's first and last points on the page
    edges: list[Edge] = []
    bezier_points = 0
    for i in range(pdfium_c.FPDFPath_CountSegments(path)):
        segment = _GET_SEGMENT(path, i)
        kind = _GET_SEGMENT_TYPE(segment)
        if kind == pdfium_c.FPDF_SEGMENT_BEZIERTO:
            bezier_points += 1
            if bezier_points % 3:
                continue  # a control point: a curve is taken as the chord to its end point
        _GET_POINT(segment, *point_pointers)
        point = _apply(matrix, x.value, y.value)
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO or start is None:
            start = last = point
            continue
        _add_edge(last, point, page_top, edges)
        last = point
        if _GET_CLOSE(segment):
            _add_edge(point, start, page_top, edges)
    return edges


def _add_edge(a: tuple[float, float], b: tuple[float, float], page_top: float, edges: list[Edge]) -> None:
    (ax, ay), (bx, by) = a, b
    if abs(ay - by) < _FLAT and abs(ax - bx) >= _FLAT:
        edges.append(Edge(min(ax, bx), page_top - ay, max(ax, bx), page_top - ay, horizontal=True))
    elif abs(ax - bx) < _FLAT and abs(ay - by) >= _FLAT:
        edges.append(Edge(ax, page_top - max(ay, by), ax, page_top - min(ay, by), horizontal=False))


def _matrix(obj: object) -> Matrix:
    matrix = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(obj, matrix):
        return _IDENTITY
    return (matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f)


def _compose(inner: Matrix, outer: Matrix) -> Matrix:
    """The matrix that applies ``inner`` and then ``outer``."""
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _apply(matrix: Matrix, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = matrix
    return a * x + c * y + e, b * x + d * y + f


def _bounds(matrix: Matrix, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
    """The box ``matrix`` maps (x0, y0, x1, y1) to, as (x0, y0, x1, y1)."""
    if matrix == _IDENTITY:
        return x0, y0, x1, y1
    corners = [_apply(matrix, x, y) for x in (x0, x1) for y in (y0, y1)]
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    return min(xs), min(ys), max(xs), max(ys)
