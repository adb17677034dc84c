"""Readers: turn source files (PDF, plain text, PubMed XML, MEDLINE, RIS, PMC JATS) into Documents.

    for path in iter_source_files([Path("corpus")]):
        for doc in read_path(path):
            ...

``read_path`` raises ReaderError (short reason, no file name) when a file cannot be read; it parses
the whole file before yielding, so a failure means no document of that file was yielded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from pipeline.document import Document
from pipeline.errors import ReaderError
from pipeline.readers.detect import detect_format
from pipeline.readers.jats import read_jats
from pipeline.readers.medline import read_medline
from pipeline.readers.pubmed_xml import read_pubmed_xml
from pipeline.readers.ris import read_ris
from pipeline.readers.text import read_text
from pipeline.readers.walk import Problem, iter_source_files, printable, storable, walk_folder

__all__ = ["Problem", "detect_format", "iter_source_files", "printable", "read_path", "storable", "walk_folder"]

HEAD_BYTES = 8192  # enough for detection: XML prolog, first RIS/MEDLINE lines, PDF header

_PARSERS: dict[str, Callable[[bytes, str], list[Document]]] = {
    "pubmed-xml": read_pubmed_xml,
    "medline": read_medline,
    "ris": read_ris,
    "jats": read_jats,
}


def read_path(path: Path, source: str | None = None) -> Iterator[Document]:
    """Detect the format of ``path`` and yield its documents (one, or one per record).

    ``source`` names the documents (default ``str(path)``); multi-record formats append
    ``#PMID`` or ``#n``. Raises ReaderError (UnknownFormat for unrecognised content).
    """
    source = str(path) if source is None else source
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as exc:
        raise ReaderError(f"cannot open file: {exc.strerror or exc}") from None
    fmt = detect_format(path, head)
    if fmt == "pdf":
        from pipeline.readers.pdf import read_pdf  # lazy: PDF engines are heavy to import

        yield read_pdf(path, source)
        return
    # A head shorter than asked for is the whole file (an abstract): no need to read it again.
    yield from _read_parsed(path, fmt, source, head if len(head) < HEAD_BYTES else None)


def _read_parsed(path: Path, fmt: str, source: str, data: bytes | None = None) -> list[Document]:
    """Read (unless ``data`` holds the file) and parse the whole file before anything is yielded."""
    try:
        data = path.read_bytes() if data is None else data
    except OSError as exc:
        raise ReaderError(f"cannot read file: {exc.strerror or exc}") from None
    try:
        if fmt == "text":
            return read_text(data, source, stem=path.stem)
        return _PARSERS[fmt](data, source)
    except ReaderError:
        raise
    except (RecursionError, ValueError, KeyError, IndexError, AttributeError, TypeError) as exc:
        # A reader bug or a shape we did not foresee: fail this file, keep the batch going.
        raise ReaderError(f"could not parse {fmt} ({type(exc).__name__})") from exc
