"""Choose a file's format from its first bytes; the extension only matters for .pdf and .xml.

Content wins over the name because files get saved under the wrong one: a PubMed efetch result
saved as .txt is still PubMed XML, and a .pdf that is really an HTML error page must say so.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from pipeline.errors import ReaderError, UnknownFormat

PUBMED_ROOTS = frozenset({"PubmedArticleSet", "PubmedArticle", "PubmedBookArticle"})
JATS_ROOT = "article"
# Top-level elements of the JATS extracts that come without an <article> root.
JATS_FRAGMENT_ROOTS = frozenset({"abstract", "sec", "body", "front"})
XML_SUFFIXES = frozenset({".xml", ".nxml"})

_PDF_MAGIC = b"%PDF-"
_PDF_MAGIC_WITHIN = 1024  # some PDFs carry junk before the header; readers accept 1 KiB of it
_BINARY_CONTROL_SHARE = 0.05  # more C0 control bytes than this is not text
_BINARY_HIGH_SHARE = 0.30  # nor is invalid UTF-8 with this many bytes >= 0x80
# The bytes counted, by what deleting them takes off the head's length (a C-speed count).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\f\r") + b"\x7f"
_HIGH_BYTES = bytes(range(0x80, 0x100))

# XML prolog items before the root element: declaration/PIs, comments, DOCTYPE (with subset).
_PROLOG_ITEM = re.compile(
    r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE\s+([^\s\[>]+)[^\[>]*(?:\[.*?\]\s*)?>)", re.DOTALL
)
_DOCTYPE_NAME = re.compile(r"\s*<!DOCTYPE\s+([^\s\[>]+)")
_ROOT_TAG = re.compile(r"\s*<([A-Za-z_][\w:.-]*)")
_RIS_START = re.compile(r"^TY  -", re.MULTILINE)
_WOS_START = re.compile(r"^(?:FN|PT) \S")  # Web of Science "tagged" export, a RIS sibling
_MEDLINE_TAG = re.compile(r"[A-Z][A-Z0-9]{1,3} *- ")


def detect_format(path: Path, head: bytes) -> str:
    """The format of the file at ``path`` whose first bytes are ``head``.

    Returns "pdf", "pubmed-xml", "jats", "medline", "ris" or "text". Raises ReaderError for an
    empty file, a .pdf without PDF bytes or UTF-16 text, and UnknownFormat for binary content or
    XML of another kind.
    """
    suffix = path.suffix.lower()
    if not head:
        raise ReaderError("empty file")
    if _PDF_MAGIC in head[:_PDF_MAGIC_WITHIN]:
        return "pdf"
    if suffix == ".pdf":
        raise ReaderError("not a PDF (no %PDF header)")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ReaderError("UTF-16 text; re-save as UTF-8")
    if _looks_binary(head):
        raise UnknownFormat("binary content of unknown format")

    # Sniffing only: a bad byte is reported later by the reader that decodes the whole file.
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    start = text.lstrip()
    if start.startswith("<"):
        root = xml_root(start)
        if root in PUBMED_ROOTS:
            return "pubmed-xml"
        if root == JATS_ROOT or root in JATS_FRAGMENT_ROOTS:
            return "jats"
        if suffix in XML_SUFFIXES:
            raise UnknownFormat(f"XML with unrecognised root element <{root or '?'}>")
    lines = start.split("\n", 50)[:50]
    if _RIS_START.search("\n".join(lines)) or _WOS_START.match(lines[0]):
        return "ris"
    if _is_medline(lines):
        return "medline"
    if suffix in XML_SUFFIXES:
        raise UnknownFormat(f"a {suffix} file that does not hold XML")
    return "text"


def xml_root(text: str) -> str | None:
    """Local name of the root element of the XML starting ``text`` (prolog skipped).

    Falls back to the DOCTYPE name when the head ends before the root element.
    """
    pos, doctype = 0, None
    while match := _PROLOG_ITEM.match(text, pos):
        doctype = match.group(1) or doctype
        pos = match.end()
    if match := _ROOT_TAG.match(text, pos):
        name = match.group(1)
    elif match := _DOCTYPE_NAME.match(text, pos):  # DOCTYPE cut off by the end of the head
        name = match.group(1)
    else:
        name = doctype
    return name.rsplit(":", 1)[-1] if name else None


def _looks_binary(head: bytes) -> bool:
    """True for content that is not text in any 8-bit encoding (control bytes, random bytes)."""
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls / len(head) > _BINARY_CONTROL_SHARE:
        return True
    try:
        # The head may end inside a multi-byte character: decode it as an unfinished stream.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return False
    except UnicodeDecodeError:
        high = len(head) - len(head.translate(None, _HIGH_BYTES))
        return high / len(head) > _BINARY_HIGH_SHARE


def _is_medline(lines: list[str]) -> bool:
    """MEDLINE/.nbib: starts with "PMID- ", or with two lines of 4-column "XXXX- " tags."""
    lines = [line.rstrip("\r") for line in lines]
    if lines and lines[0].startswith("PMID-"):
        return True
    tagged = [line for line in lines[:10] if len(line) >= 6 and _MEDLINE_TAG.fullmatch(line[:6])]
    return bool(lines) and lines[0] in tagged and len(tagged) >= 2
