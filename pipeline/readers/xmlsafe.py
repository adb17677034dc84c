"""Safe XML parsing for the readers: no entity declarations, no external references.

We parse with ``defusedxml``'s SAX reader rather than ElementTree because the SAX reader can run
with namespace processing switched off: real PMC/JATS files use ``xlink:``/``mml:`` prefixes they
never declare, which a namespace-aware parser rejects. Without namespaces, tags and attributes keep
their literal names (``"xlink:href"``), which is also all the readers need.
"""

from __future__ import annotations

import html.entities
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO
import xml.etree.ElementTree as ET
from xml.parsers import expat
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import InputSource

import defusedxml
from defusedxml.expatreader import DefusedExpatParser

from pipeline.errors import ReaderError

# Wrapper root for JATS fragments that hold several top-level elements (abstract, sec, ...).
FRAGMENT_ROOT = "evx-fragment"

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


class _NoDtdFetchParser(DefusedExpatParser):
    """defusedxml's SAX parser (namespaces off) that never asks for an external DTD.

    PubMed and PMC files name their DTD by URL; the stdlib SAX reader would request it (which
    defusedxml then refuses), so we switch parameter-entity parsing off: the DTD is not needed.
    """

    def reset(self) -> None:
        super().reset()
        self._parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)


class _TreeHandler(ContentHandler):
    """Builds an ElementTree from SAX events (namespace processing off)."""

    def __init__(self) -> None:
        super().__init__()
        self.builder = ET.TreeBuilder()

    def startElement(self, name: str, attrs) -> None:  # noqa: N802 (SAX API name)
        self.builder.start(name, dict(attrs.items()))

    def endElement(self, name: str) -> None:  # noqa: N802
        self.builder.end(name)

    def characters(self, content: str) -> None:
        self.builder.data(content)

    def skippedEntity(self, name: str) -> None:  # noqa: N802
        # An entity defined only in the (unread) external DTD, e.g. JATS "&beta;": the DTDs use
        # the standard HTML/ISO names, so map those; anything else is dropped.
        char = html.entities.html5.get(f"{name};")
        if char:
            self.builder.data(char)


class _RecordHandler(_TreeHandler):
    """Builds a tree of each record element only (see ``iter_records``), dropping the rest."""

    def __init__(self, tags: frozenset[str]) -> None:
        super().__init__()
        self.tags = tags
        self.depth = 0  # of the next element to start
        self.root: str | None = None
        self.record_depth: int | None = None  # of the record being built
        self.done: list[ET.Element] = []

    def take(self) -> list[ET.Element]:
        done, self.done = self.done, []
        return done

    def startElement(self, name: str, attrs) -> None:  # noqa: N802
        if self.record_depth is None and name in self.tags and (
                self.depth == 0 or (self.depth == 1 and self.root not in self.tags)):
            self.builder, self.record_depth = ET.TreeBuilder(), self.depth
        if self.depth == 0:
            self.root = name
        self.depth += 1
        if self.record_depth is not None:
            super().startElement(name, attrs)

    def endElement(self, name: str) -> None:  # noqa: N802
        self.depth -= 1
        if self.record_depth is not None:
            super().endElement(name)
            if self.depth == self.record_depth:
                self.done.append(self.builder.close())
                self.record_depth = None

    def characters(self, content: str) -> None:
        if self.record_depth is not None:
            super().characters(content)

    def skippedEntity(self, name: str) -> None:  # noqa: N802
        if self.record_depth is not None:
            super().skippedEntity(name)


def parse_xml(data: bytes, *, fragment: bool = False) -> ET.Element:
    """Parse ``data`` into an element tree, refusing entity declarations and external references.

    With ``fragment=True`` the content may hold several top-level elements; they are parsed as
    children of one ``<evx-fragment>`` root. Raises ReaderError with a one-line reason.
    """
    if fragment:
        data = _wrap_fragment(data)
    handler = _TreeHandler()
    parser = _NoDtdFetchParser()
    parser.setContentHandler(handler)
    source = InputSource()
    source.setByteStream(io.BytesIO(data))
    with _reader_errors():
        parser.parse(source)
    return handler.builder.close()


def iter_records(stream: BinaryIO, tags: frozenset[str], chunk: int = 1 << 16) -> Iterator[ET.Element]:
    """The record elements of the XML read from ``stream``, each as soon as it is complete: the
    root if its tag is one of ``tags``, else the root's children whose tag is. Whatever else the
    file holds is not kept, so memory holds one record at a time, however many the file has.

    The same parser as ``parse_xml`` (fed ``chunk`` bytes at a time, as ``parse_xml``'s is), with
    the same refusals: an entity declaration or an external reference fails the file at once,
    before anything after it is read. Raises ReaderError with a one-line reason, possibly after
    records were yielded (malformed XML further on).
    """
    handler = _RecordHandler(tags)
    parser = _NoDtdFetchParser()
    parser.setContentHandler(handler)
    while True:
        data = stream.read(chunk)
        with _reader_errors():
            if data:
                parser.feed(data)
            else:
                parser.close()
        yield from handler.take()
        if not data:
            return


@contextmanager
def _reader_errors() -> Iterator[None]:
    """The parser's refusals and syntax errors as ReaderError."""
    try:
        yield
    except defusedxml.EntitiesForbidden:
        # Checked before expansion, so an entity bomb fails here at once.
        raise ReaderError("XML entity declarations are not allowed") from None
    except (defusedxml.ExternalReferenceForbidden, defusedxml.DTDForbidden):
        raise ReaderError("XML external references are not allowed") from None
    except SAXParseException as exc:
        where = f"line {exc.getLineNumber()}, column {exc.getColumnNumber()}"
        raise ReaderError(f"malformed XML: {exc.getMessage()} ({where})") from None


def _wrap_fragment(data: bytes) -> bytes:
    """Put fragment content under one root so that it is a well-formed document."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReaderError(f"malformed XML: not UTF-8 (bad byte at offset {exc.start})") from None
    text = _XML_DECL.sub("", text, count=1)
    return f"<{FRAGMENT_ROOT}>{text}</{FRAGMENT_ROOT}>".encode()


# Inline elements whose leading newline+indent in pretty-printed XML is layout, not a space:
# PubMed writes "beta\n\t\t<sub>2</sub>-agonist" for "beta2-agonist".
_ATTACHED = frozenset({"sub", "sup"})
# Elements that separate words when flattened ("<title>A.</title><p>B</p>" -> "A. B").
_BREAKS = frozenset({"p", "title", "label", "break", "list-item", "td", "th", "AbstractText"})
_TRAILING_LAYOUT = re.compile(r"(?<![ \t\r\n])[ \t\r]*\n[ \t\r\n]*$")  # tried only where the run of layout starts
_ASCII_SPACE = re.compile(r"[ \t\r\n]+")


def inline_text(elem: ET.Element, skip: frozenset[str] = frozenset()) -> str:
    """The text of ``elem`` with markup flattened and layout whitespace collapsed to one space.

    Children whose tag is in ``skip`` are left out (their tail text is kept). Only ASCII
    whitespace is collapsed: no-break and thin spaces are kept as the source wrote them.
    """
    parts: list[str] = []

    def visit(node: ET.Element) -> None:
        if node.text:
            parts.append(node.text)
        for child in node:
            if child.tag not in skip:
                if child.tag in _ATTACHED and parts:
                    parts[-1] = _TRAILING_LAYOUT.sub("", parts[-1])
                if child.tag in _BREAKS:
                    parts.append(" ")
                visit(child)
                if child.tag in _BREAKS:
                    parts.append(" ")
            if child.tail:
                parts.append(child.tail)

    visit(elem)
    return _ASCII_SPACE.sub(" ", "".join(parts)).strip()
