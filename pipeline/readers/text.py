"""Plain-text reader: one UTF-8 file, one document, text kept as written."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from pipeline.document import Document
from pipeline.errors import ReaderError

_MAX_TITLE = 300  # a first line longer than this is a paragraph, not a title
_PMID_STEM = re.compile(r"[0-9]{1,9}")


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
    return [
        Document(
            source=source,
            format="text",
            text=text,
            title=first_line if first_line and len(first_line) < _MAX_TITLE else None,
            pmid=stem if _PMID_STEM.fullmatch(stem) else None,
        )
    ]
