"""Readers: turn source files (PDF, plain text, PubMed XML, MEDLINE, RIS, PMC JATS) into Documents.

    for path in iter_source_files([Path("corpus")]):
        for doc in read_path(path):
            ...

``read_path`` raises ReaderError (short reason, no file name) when a file cannot be read. Files of
one document are read whole; files of many records (PubMed XML, MEDLINE, RIS) are read as they
are parsed, a record at a time, so memory holds one record however large the file: the error
may then come after documents of the file were yielded (a record broken half way through), and
a caller that stores them must undo what it stored (``pipeline.ingest`` stores a file in one
transaction).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from pipeline.document import Document
from pipeline.errors import DocumentTooLarge, ReaderError
from pipeline.readers.detect import detect_format
from pipeline.readers.jats import read_jats
from pipeline.readers.medline import read_medline
from pipeline.readers.pubmed_xml import read_pubmed_xml
from pipeline.readers.ris import read_ris
from pipeline.readers.text import read_text
from pipeline.readers.walk import Problem, iter_source_files, printable, storable, walk_folder

if TYPE_CHECKING:
    from hashlib import _Hash as Hash

__all__ = ["DEFAULT_MAX_TEXT", "MULTI_RECORD", "Problem", "detect_format", "format_of", "iter_source_files", "printable", "read_path", "storable", "walk_folder"]

DEFAULT_MAX_TEXT = 5_000_000  # bytes of UTF-8 text in one document (5 MB; spaCy's nlp.max_length is 5,000,000 characters)
HEAD_BYTES = 8192  # enough for detection: XML prolog, first RIS/MEDLINE lines, PDF header

# Formats holding many records, read as a stream of them (from a binary file object).
_STREAMED: dict[str, Callable[[BinaryIO, str], Iterator[Document]]] = {
    "pubmed-xml": read_pubmed_xml,
    "medline": read_medline,
    "ris": read_ris,
}
MULTI_RECORD = frozenset(_STREAMED)
_REASONS = (RecursionError, ValueError, KeyError, IndexError, AttributeError, TypeError)  # reader bugs, unforeseen shapes


def read_path(path: Path, source: str | None = None, max_text: int | None = DEFAULT_MAX_TEXT,
              digest: Hash | None = None) -> Iterator[Document]:
    """Detect the format of ``path`` and yield its documents (one, or one per record).

    ``source`` names the documents (default ``str(path)``); multi-record formats append
    ``#PMID`` or ``#n``. Raises ReaderError (UnknownFormat for unrecognised content;
    DocumentTooLarge for a document of more than ``max_text`` bytes of UTF-8 text, None: no
    limit; a plain-text file over it is not even read).

    ``digest`` (a ``hashlib`` object), if given, is fed the file's bytes as they are read, all of
    them once the documents are consumed: the hash of what the documents were made of, even if
    the file is rewritten meanwhile (a hash taken before or after may be of another version).
    """
    source = str(path) if source is None else source
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ReaderError(f"cannot open file: {exc.strerror or exc}") from None
    with handle:
        try:
            head = handle.read(HEAD_BYTES)
            size = os.fstat(handle.fileno()).st_size
        except OSError as exc:
            raise ReaderError(f"cannot read file: {exc.strerror or exc}") from None
        fmt = detect_format(path, head)
        if fmt == "text" and max_text and size > max_text:
            raise DocumentTooLarge(f"text file of {_megabytes(size)} is over the limit of {_megabytes(max_text)} per document")
        streamed = fmt in _STREAMED and len(head) == HEAD_BYTES  # a short head is the whole file: parsed from it
        if streamed:
            handle.seek(0)  # parsed as it is read, from the start, through the digest
            documents: Iterable[Document] = _read_streamed(io.BufferedReader(_Hashed(handle, digest)) if digest else handle, fmt, source)
        else:
            data = head + _rest(handle) if len(head) == HEAD_BYTES else head  # a short head is the whole file
            if digest is not None:
                digest.update(data)
            if fmt == "pdf":
                from pipeline.readers.pdf import read_pdf  # lazy: PDF engines are heavy to import

                documents = [read_pdf(path, source, data=data)]
            elif fmt in _STREAMED:
                documents = _read_streamed(io.BytesIO(data), fmt, source)
            else:
                documents = _read_parsed(path, fmt, source, data)
        for document in documents:
            _check_size(document, max_text)
            yield document
        if digest is not None and streamed:
            _rest(handle, digest)  # bytes past the last record: part of the file's hash too


def _rest(handle: BinaryIO, digest: Hash | None = None) -> bytes:
    """The rest of ``handle``; with ``digest``, fed to it and not kept."""
    try:
        if digest is None:
            return handle.read()
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
        return b""
    except OSError as exc:
        raise ReaderError(f"cannot read file: {exc.strerror or exc}") from None


class _Hashed(io.RawIOBase):
    """A binary file that feeds every byte read from it to a digest."""

    def __init__(self, raw: BinaryIO, digest: Hash) -> None:
        self._raw, self._digest = raw, digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._digest.update(data)
        return len(data)


def format_of(path: Path) -> str:
    """The format ``read_path`` would read ``path`` in (ReaderError as it would raise)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as exc:
        raise ReaderError(f"cannot open file: {exc.strerror or exc}") from None
    return detect_format(path, head)


def _check_size(document: Document, max_text: int | None) -> None:
    """DocumentTooLarge if the document has more than ``max_text`` bytes of text: past some
    megabytes a text is not a paper, and its analysis would take minutes and gigabytes."""
    if not max_text or len(document.text) <= max_text // 4:  # 4 bytes at most per character
        return
    size = len(document.text.encode("utf-8", "surrogatepass"))
    if size > max_text:
        record = document.source.partition("#")[2]
        what = f"text of record {record}" if record else "text"
        raise DocumentTooLarge(f"{what} of {_megabytes(size)} is over the limit of {_megabytes(max_text)} per document")


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.3g} MB ({size:,} bytes)" if size % 100_000 else f"{size / 1e6:g} MB"


def _read_parsed(path: Path, fmt: str, source: str, data: bytes) -> list[Document]:
    """Parse the whole file (``data``) before anything is yielded."""
    try:
        if fmt == "text":
            return read_text(data, source, stem=path.stem)
        return read_jats(data, source)
    except ReaderError:
        raise
    except _REASONS as exc:
        # A reader bug or a shape we did not foresee: fail this file, keep the batch going.
        raise ReaderError(f"could not parse {fmt} ({type(exc).__name__})") from exc


def _read_streamed(handle: BinaryIO, fmt: str, source: str) -> Iterator[Document]:
    """The records of a multi-record file, parsed as they are read from ``handle``."""
    try:
        yield from _STREAMED[fmt](handle, source)
    except ReaderError:
        raise
    except OSError as exc:
        raise ReaderError(f"cannot read file: {exc.strerror or exc}") from None
    except _REASONS as exc:
        raise ReaderError(f"could not parse {fmt} ({type(exc).__name__})") from exc
