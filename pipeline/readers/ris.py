"""RIS reader (reference-manager export), also reading the Web of Science "tagged" sibling format.

RIS: records run from "TY  - " to "ER  - "; a field is a 2-character tag, two spaces, "- ", the
value; a line without a tag continues the previous value. Web of Science: "PT J" opens a record,
"ER" closes it, tags are followed by one space and continuation lines are indented by 3 spaces.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from pipeline.document import Document
from pipeline.errors import ReaderError
from pipeline.readers.builder import clean_doi, clean_pmcid, find_year, title_and_abstract
from pipeline.readers.medline import Record, first_value
from pipeline.readers.text import iter_lines

_RIS_TAG = re.compile(r"([A-Z][A-Z0-9])  -(?: (.*))?$")
_WOS_TAG = re.compile(r"([A-Z][A-Z0-9])(?: (.*))?$")
_WOS_START = re.compile(r"(?:FN|PT) \S")
_PMID_NOTE = re.compile(r"\bPMID:?\s*(\d{1,9})\b")
_PMCID_NOTE = re.compile(r"\b(PMC\d{1,9})\b")

# Which tags hold which field, per dialect (first tag with a value wins).
_RIS_FIELDS = {
    "title": ("TI", "T1", "CT", "BT"),
    "abstract": ("AB", "N2"),
    "doi": ("DO",),
    "year": ("PY", "Y1", "DA"),
    "journal": ("JO", "JF", "T2", "JA"),
    "pmid": ("AN",),
    "authors": ("AU", "A1"),
}
_WOS_FIELDS = {
    "title": ("TI",),
    "abstract": ("AB",),
    "doi": ("DI",),
    "year": ("PY",),
    "journal": ("SO", "J9"),
    "pmid": ("PM",),
    "authors": ("AF", "AU"),  # AF: full names
}


def read_ris(stream: BinaryIO, source: str) -> Iterator[Document]:
    """Every record of the file read from ``stream``, one at a time; source is ``source#PMID``,
    or ``source#n`` (1-based) without a PMID."""
    lines = iter_lines(stream)
    head = []  # the blank lines before the first one with text, which tells the dialect
    for line in lines:
        head.append(line)
        if line.strip():
            break
    lines = itertools.chain(head, lines)
    if _WOS_START.match(head[-1].lstrip() if head else ""):
        records, fields = iter_wos(lines), _WOS_FIELDS
    else:
        records, fields = iter_ris(lines), _RIS_FIELDS
    n = 0
    for n, record in enumerate(records, start=1):
        yield _document(record, fields, source, n)
    if n == 0:
        raise ReaderError("no RIS records (expected 'TY  - ' ... 'ER  - ')")


def iter_ris(lines: Iterable[str]) -> Iterator[Record]:
    """Split RIS lines into records; lines outside TY..ER (numbering, blank lines) are ignored.
    A line without a tag continues the previous value."""
    return _split_records(lines, _RIS_TAG, "TY", lambda line: bool(line.strip()))


def iter_wos(lines: Iterable[str]) -> Iterator[Record]:
    """Split the lines of a Web of Science tagged export into records (PT ... ER); continuation
    lines are indented by three spaces; the file header (FN, VR) and end (EF) are outside records."""
    return _split_records(lines, _WOS_TAG, "PT", lambda line: line.startswith("   "))


def _split_records(lines: Iterable[str], tag_re: re.Pattern, start_tag: str, continues) -> Iterator[Record]:
    """Records from a tagged export: ``start_tag`` opens one (closing any left open), ``ER``
    closes it, other tags append a value, and lines for which ``continues(line)`` is true
    extend the last value."""
    current: Record | None = None
    last_tag = ""
    for line in lines:
        match = tag_re.match(line)
        if not match:
            if current is not None and last_tag and continues(line):
                _continue(current, last_tag, line)
            continue
        tag, value = match.group(1), (match.group(2) or "").strip()
        if tag == start_tag:
            if current is not None:  # the previous record lacked its ER line
                yield current
            current = {}
        if current is None:
            continue
        if tag == "ER":
            yield current
            current, last_tag = None, ""
            continue
        current.setdefault(tag, []).append(value)
        last_tag = tag
    if current is not None:
        yield current


def _continue(record: Record, tag: str, line: str) -> None:
    """Join a continuation line to the last value of ``tag`` with one space."""
    values = record[tag]
    values[-1] = f"{values[-1]} {line.strip()}".strip()


def _document(record: Record, fields: dict[str, tuple[str, ...]], source: str, n: int) -> Document:
    def get(name: str) -> str | None:
        return first_value(record, *fields[name])

    title = get("title") or ""
    abstract = get("abstract") or ""
    pmid = _pmid(record, get("pmid"))
    text, sections = title_and_abstract(title, abstract)
    return Document(
        source=f"{source}#{pmid or n}",
        format="ris",
        text=text,
        title=title or None,
        pmid=pmid,
        doi=clean_doi(get("doi")),
        journal=get("journal"),
        year=find_year(get("year")),
        authors=next(([a for a in record[tag] if a] for tag in fields["authors"] if any(record.get(tag, []))), []),
        pmcid=_pmcid(record),
        sections=sections,
    )


def _pmcid(record: Record) -> str | None:
    """A "PMCID: PMC123" note in any field (reference managers keep it in notes or the
    accession)."""
    for values in record.values():
        for value in values:
            if match := _PMCID_NOTE.search(value):
                return clean_pmcid(match.group(1))
    return None


def _pmid(record: Record, accession: str | None) -> str | None:
    """The accession number when it is a PMID, else a "PMID: n" note in any field."""
    if accession and accession.isdigit():
        return accession
    for values in record.values():
        for value in values:
            if match := _PMID_NOTE.search(value):
                return match.group(1)
    return None
