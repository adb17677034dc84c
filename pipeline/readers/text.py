"""Plain-text reader: one UTF-8 file, one document, text kept as written."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from pipeline.document import Document
from pipeline.errors import ReaderError
from pipeline.readers.builder import clean_doi, clean_pmcid

_MAX_TITLE = 300  # a first line longer than this is a paragraph, not a title
_PMID_STEM = re.compile(r"[0-9]{1,9}")
# A line that states an identifier ("DOI: 10.1200/JCO.2019.1", "PMID: 12345", "PMCID: PMC123"),
# near the top of the text, where a saved article keeps its header: further down such lines
# belong to the references.
_HEAD_LINES = 40
_ID_LINE = re.compile(
    r"\s*(?:(?P<label>doi|pmid|pmcid)\b\s*[:=]?\s*|(?=https?://(?:dx\.)?doi\.org/))(?P<value>\S+?)[.;,]?\s*",
    re.IGNORECASE,
)


def decode_utf8(data: bytes, offset: int = 0) -> str:
    """Decode UTF-8 (a BOM is dropped) or raise ReaderError naming the first bad byte, counted
    from the start of the file (``data`` starts at byte ``offset`` of it)."""
    try:
        return data.decode("utf-8-sig" if offset == 0 else "utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start]
        hint = ""
        if bad >= 0xA0 or bad in (0x92, 0x93, 0x94, 0x96, 0x97):  # typical Latin-1/CP1252 letters
            hint = ", probably Latin-1/Windows-1252"
        where = f"invalid byte 0x{bad:02x} at offset {offset + exc.start}{hint}"
        raise ReaderError(f"not UTF-8 text ({where}); re-save as UTF-8") from None


def iter_lines(stream: BinaryIO) -> Iterator[str]:
    """The lines of a UTF-8 file read from ``stream``, one at a time, without their ends: what
    ``normalise_newlines(decode_utf8(data)).split("\n")`` gives of the whole file, in the
    memory of one line. ReaderError names the offset of a byte that is not UTF-8."""
    offset, ended = 0, True
    for raw in stream:  # split at b"\n", which no multi-byte UTF-8 character contains (nor b"\r")
        line = decode_utf8(raw, offset)
        offset += len(raw)
        ended = line.endswith("\n")  # else the last line, unterminated
        if ended:
            line = line[:-2] if line.endswith("\r\n") else line[:-1]
        yield from normalise_newlines(line).split("\n")  # a lone CR ends a line too
    if ended:
        yield ""  # as split() gives after a final newline (or of an empty file)


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR become LF; NUL characters are dropped."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def read_text(data: bytes, source: str, stem: str = "") -> list[Document]:
    """Read a plain-text file. A file named by a PMID ("12439707.txt") gets that PMID."""
    text = normalise_newlines(decode_utf8(data))
    if not text.strip():  # an empty document would be stored, with nothing to find in it
        raise ReaderError("no text, only blank space")
    first_line = next((line.strip() for line in text.split("\n") if line.strip()), "")
    ids = _stated_ids(text)
    return [
        Document(
            source=source,
            format="text",
            text=text,
            title=first_line if first_line and len(first_line) < _MAX_TITLE else None,
            pmid=ids.get("pmid") or (stem if _PMID_STEM.fullmatch(stem) else None),
            doi=clean_doi(ids.get("doi")),
            pmcid=clean_pmcid(ids.get("pmcid")),
        )
    ]


def _stated_ids(text: str) -> dict[str, str]:
    """The DOI, PMID and PMCID that lines of their own state in the first lines of ``text``
    (the first of each kind)."""
    found: dict[str, str] = {}
    for line in text.split("\n", _HEAD_LINES)[:_HEAD_LINES]:
        match = _ID_LINE.fullmatch(line) if len(line) < 200 else None
        if not match:
            continue
        label = (match.group("label") or "doi").lower()
        value = match.group("value")
        if label == "pmid" and not value.isdigit():
            continue
        found.setdefault(label, value)
    return found
