"""What a PDF says about the article it holds: title, authors, journal, year, DOI.

The document information dictionary is often a typesetter's job ticket ("TPM14126 844..853",
"untitled", a file name) and XMP packets belong to embedded images too ("Figure 5",
"CrossMark_Color_stacked"), so metadata is believed only where the first page prints it. The
title is read from the first page itself: the block of consecutive lines set in the largest type
(pdfium's font size times the text matrix's scale, which is how large the glyphs are drawn).
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from pipeline.readers.builder import clean_doi
from pipeline.readers.pdf_layout import Line, TextChars

_SAMPLED_CHARS = 24  # letters per line whose size is looked up: a title line is one size throughout
_MIN_TITLE_WORDS = 4  # "HHS Public Access", "Original Article", "Open Access" are banners
_MAX_TITLE_LINES = 6
_MAX_TITLE_WORDS = 60
_LARGER = 1.15  # a title is set at least this much larger than the page's body text
# Article-type labels set in the title's type above it ("Clinical Study", "Original Article").
_ARTICLE_TYPE = re.compile(
    r"(?:original|research|clinical|review|brief|short|case)?\s*(?:article|study|report|paper|communication|"
    r"contribution|research)s?",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W_]+")
_XMP_MAX = 1 << 18  # an XMP packet is a few kB (padding included); a larger one is no packet
_TAG = re.compile(r"<[^>]+>")
_ENTITY = re.compile(r"&(?:amp;)?(#x[0-9a-f]+|#\d+|[a-z]+);", re.IGNORECASE)
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'", "lsquo": "\u2018", "rsquo": "\u2019",
          "ldquo": "\u201c", "rdquo": "\u201d", "nbsp": " "}

DOI = re.compile(r"(?:doi(?:\.org)?\s*[:/]\s*|doi\s+)(10\.\d{4,9}/[^\s\"<>]+)", re.IGNORECASE)
_YEARS = (
    re.compile(r"(?:©|\(c\)|copyright)\s*(?:by\s+)?((?:19|20)\d{2})\b", re.IGNORECASE),
    re.compile(r"\bpublished(?:\s+online)?\s*:?\s*(?:\d{1,2}\s+)?[A-Z][a-z]+\.?\s+(?:\d{1,2},?\s+)?((?:19|20)\d{2})\b",
               re.IGNORECASE),
    re.compile(r"\(((?:19|20)\d{2})\)\s*\d+\s*:\s*\d"),  # a running head's citation: "Eur J Nutr (2016) 55:2389"
    re.compile(r"\bvol(?:ume)?\.?\s*\d+\b[^\n]{0,40}?\b((?:19|20)\d{2})\b", re.IGNORECASE),  # "Volume 28, Number 1, 2018"
)


@dataclass
class PdfMetadata:
    """What the information dictionary and the XMP packets of the file say."""

    titles: list[str] = field(default_factory=list)
    authors: list[list[str]] = field(default_factory=list)  # one list per source
    journals: list[str] = field(default_factory=list)
    dois: list[str] = field(default_factory=list)


def read_metadata(pdf: pdfium.PdfDocument, data: bytes) -> PdfMetadata:
    meta = PdfMetadata()
    info = {key: _plain(pdf.get_metadata_value(key)) for key in ("Title", "Author", "Subject")}
    if info["Title"]:
        meta.titles.append(info["Title"])
    if info["Author"]:
        # "A, B and C" or "A; B": the separators split with str methods (a regex alternation
        # of white space runs is retried from each space of a long run).
        names = [part for piece in re.split(r"[;,]", info["Author"]) for part in f" {piece} ".split(" and ")]
        meta.authors.append([name.strip() for name in names if name.strip()])
    if doi := DOI.search(info["Subject"]):  # BioMed Central: "Critical Care 2012, 16:R161. doi:10.1186/cc11484"
        meta.dois.append(_doi(doi.group(1)))
    # XMP packets are written uncompressed so that they can be found by scanning the file.
    for packet in _packets(data):
        meta.titles += [_plain(t) for t in _xmp_items(packet, "dc:title")]
        if creators := [_plain(c) for c in _xmp_items(packet, "dc:creator")]:
            meta.authors.append(creators)
        meta.journals += [_plain(j) for j in _xmp_values(packet, "prism:publicationName")]
        meta.dois += [_doi(d) for d in _xmp_values(packet, "prism:doi")]
    meta.titles = [t for t in meta.titles if t]
    meta.dois = [d for d in meta.dois if d]
    return meta


def line_sizes(textpage: pdfium.PdfTextPage, text: str, lines: list[Line]) -> list[float]:
    """The type size of each line: the median drawn size of its first letters (0: none)."""
    chars = TextChars(textpage, text)
    raw = textpage.raw
    matrix = pdfium_c.FS_MATRIX()
    sizes = []
    for line in lines:
        found = []
        for position, char in enumerate(line.text, start=line.start):
            if not char.isalpha():
                continue
            index = chars.at(position)
            if index >= 0 and pdfium_c.FPDFText_GetMatrix(raw, index, matrix):
                scale = abs(matrix.a * matrix.d - matrix.b * matrix.c) ** 0.5
                found.append(pdfium_c.FPDFText_GetFontSize(raw, index) * scale)
            if len(found) >= _SAMPLED_CHARS:
                break
        sizes.append(statistics.median(found) if found else 0.0)
    return sizes


def title_block(lines: list[Line], sizes: list[float]) -> str | None:
    """The first page's title: the lines set in the largest type that make a block of at least
    a few words (banners and logos are shorter), joined by newlines; None when no block stands
    out from the body text."""
    sized = [(size, line) for size, line in zip(sizes, lines) if size > 0 and _WORD.search(line.text)]
    if not sized:
        return None
    body = statistics.median(size for size, _ in sized)
    # Blocks of lines of one size, each line under the block's last or beside it on its row:
    # a line of another size between them (a side column, a logo) does not cut a block.
    blocks: list[tuple[float, list[Line]]] = []
    for size, line in sorted(sized, key=lambda pair: -pair[1].y1):  # top to bottom
        for block_size, block in reversed(blocks):
            gap = block[-1].y0 - line.y1
            if abs(size - block_size) <= 0.05 * block_size and -2 * size < gap < 1.2 * size:
                block.append(line)
                break
        else:
            blocks.append((size, [line]))
    candidates = []
    for size, block in blocks:
        while len(block) > 1 and _ARTICLE_TYPE.fullmatch(block[0].text.strip()):
            block = block[1:]  # "Clinical Study" over the title, in its type
        words = sum(len(_WORD.findall(line.text)) for line in block)
        if size >= _LARGER * body and _MIN_TITLE_WORDS <= words <= _MAX_TITLE_WORDS and len(block) <= _MAX_TITLE_LINES:
            candidates.append((size, words, block))
    if not candidates:
        return None
    top = max(size for size, _, _ in candidates)
    # Of the blocks in the largest type (a journal's name may share it), the one with most words.
    _, _, block = max((c for c in candidates if c[0] >= 0.95 * top), key=lambda c: c[1])
    return "\n".join(line.text.strip() for line in _reading_order(block))


def _reading_order(block: list[Line]) -> list[Line]:
    """Lines top to bottom, those sharing a row left to right."""
    rows: list[list[Line]] = []
    for line in block:  # already top to bottom
        if rows and line.y1 > rows[-1][0].y0 + 0.5 * line.height:
            rows[-1].append(line)
        else:
            rows.append([line])
    return [line for row in rows for line in sorted(row, key=lambda line: line.x0)]


def believed_title(title: str | None, meta: PdfMetadata, first_page: str) -> str | None:
    """The page's own title; else a metadata title the first page prints."""
    if title:
        return title
    page = normalised(first_page)
    for candidate in meta.titles:
        if len(_WORD.findall(candidate)) >= _MIN_TITLE_WORDS and normalised(candidate) in page:
            return candidate
    return None


def believed_authors(meta: PdfMetadata, first_page: str) -> list[str]:
    """The first metadata author list whose first author's surname the first page prints."""
    page = normalised(first_page)
    for names in meta.authors:
        if names and names[0].lower() not in ("unknown", "author", "administrator") and _surname(names[0]) in page:
            return names
    return []


def believed_journal(meta: PdfMetadata, first_page: str) -> str | None:
    page = normalised(first_page)
    return next((j for j in meta.journals if len(j) > 3 and normalised(j) in page), None)


def page_doi(first_pages: str, meta: PdfMetadata) -> str | None:
    """The DOI the first pages print (the article's is on its first page, or the second after
    a cover page); else the one metadata gives."""
    found = DOI.search(first_pages)
    if found:
        return _doi(found.group(1))
    return meta.dois[0] if len(set(meta.dois)) == 1 else None


def page_year(first_page: str) -> int | None:
    """The year of copyright, else of publication, else of the running head's citation or
    volume line."""
    for pattern in _YEARS:
        if found := pattern.search(first_page):
            return int(found.group(1))
    return None


def normalised(text: str) -> str:
    """Case, accents, punctuation and spacing ignored: "Effects of a ‘school-based’ ..." ->
    "effects of a school based ..."."""
    text = unicodedata.normalize("NFKD", text.replace("\ufffe", "")).casefold()
    return " ".join(_WORD.findall("".join(c for c in text if not unicodedata.combining(c))))


def _surname(name: str) -> str:
    name = normalised(name.split(",")[0] if "," in name else name)
    return name.split()[-1] if name else "\0"


def _doi(value: str) -> str | None:
    return clean_doi(value.rstrip(".,;)]"))


# Found with str.find, not a lazy ".*?" regex: that is retried from every opening tag, and a
# hostile file of openings without a closing one would take quadratic time.


def _packets(data: bytes) -> list[str]:
    """The XMP packets of the file, as text (``<x:xmpmeta ... </x:xmpmeta>``)."""
    found, at = [], 0
    while (start := data.find(b"<x:xmpmeta", at)) >= 0:
        end = data.find(b"</x:xmpmeta>", start)
        if end < 0:
            break  # no packet closes after this opening, nor after a later one
        if end - start <= _XMP_MAX:
            found.append(data[start:end].decode("utf-8", "replace"))
        at = end
    return found


def _between(text: str, opening: str, closing: str) -> list[str]:
    """What each ``opening`` tag (its attributes skipped) holds up to the next ``closing``."""
    found, at = [], 0
    while (start := text.find(opening, at)) >= 0:
        body = text.find(">", start)
        end = text.find(closing, body) if body >= 0 else -1
        if end < 0:
            break
        found.append(text[body + 1:end])
        at = end
    return found


def _xmp_items(packet: str, tag: str) -> list[str]:
    """The ``rdf:li`` items of the first element ``tag`` (an Alt, Seq or Bag)."""
    elements = _between(packet, f"<{tag}>", f"</{tag}>") or _between(packet, f"<{tag} ", f"</{tag}>")
    return _between(elements[0], "<rdf:li", "</rdf:li>") if elements else []


def _xmp_values(packet: str, tag: str) -> list[str]:
    """A simple property, as an element or as an attribute."""
    values = _between(packet, f"<{tag}>", f"</{tag}>")
    at = 0
    while (start := packet.find(f'{tag}="', at)) >= 0:
        end = packet.find('"', start + len(tag) + 2)
        if end < 0:
            break
        values.append(packet[start + len(tag) + 2:end])
        at = end
    return values


def _plain(value: str | None) -> str:
    """Markup and entities (some publishers write "&amp;lsquo;" in the title) resolved,
    spacing collapsed."""
    value = _ENTITY.sub(_entity, _TAG.sub("", value or ""))
    return " ".join(value.split())


def _entity(match: re.Match[str]) -> str:
    name = match.group(1).lower()
    if name.startswith("#"):
        code = int(name[2:], 16) if name.startswith("#x") else int(name[1:])
        return chr(code) if 0 < code < 0x110000 else ""
    return _NAMED.get(name, match.group())
