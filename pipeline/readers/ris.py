"""RIS reader (reference-manager export), also reading the Web of Science "tagged" sibling format.

RIS: records run from "TY  - " to "ER  - "; a field is a 2-character tag, two spaces, "- ", the
value; a line without a tag continues the previous value. Web of Science: "PT J" opens a record,
"ER" closes it, tags are followed by one space and continuation lines are indented by 3 spaces.
"""

from __future__ import annotations

import re

from pipeline.document import Document
from pipeline.errors import ReaderError
from pipeline.readers.builder import clean_doi, find_year, title_and_abstract
from pipeline.readers.medline import Record, first_value
from pipeline.readers.text import decode_utf8, normalise_newlines

_RIS_TAG = re.compile(r"([A-Z][A-Z0-9])  -(?: (.*))?$")
_WOS_TAG = re.compile(r"([A-Z][A-Z0-9])(?: (.*))?$")
_WOS_START = re.compile(r"(?:FN|PT) \S")
_PMID_NOTE = re.compile(r"\bPMID:?\s*(\d{1,9})\b")

# Which tags hold which field, per dialect (first tag with a value wins).
_RIS_FIELDS = {
    "title": ("TI", "T1", "CT", "BT"),
    "abstract": ("AB", "N2"),
    "doi": ("DO",),
    "year": ("PY", "Y1", "DA"),
    "journal": ("JO", "JF", "T2", "JA"),
    "pmid": ("AN",),
}
_WOS_FIELDS = {
    "title": ("TI",),
    "abstract": ("AB",),
    "doi": ("DI",),
    "year": ("PY",),
    "journal": ("SO", "J9"),
    "pmid": ("PM",),
}


def read_ris(data: bytes, source: str) -> list[Document]:
    """Read every record; source is ``source#PMID``, or ``source#n`` (1-based) without a PMID."""
    text = normalise_newlines(decode_utf8(data))
    if _WOS_START.match(text.lstrip()):
        records, fields = parse_wos(text), _WOS_FIELDS
    else:
        records, fields = parse_ris(text), _RIS_FIELDS
    if not records:
        raise ReaderError("no RIS records (expected 'TY  - ' ... 'ER  - ')")
    return [_document(record, fields, source, n) for n, record in enumerate(records, start=1)]


def parse_ris(text: str) -> list[Record]:
    """Split RIS text into records; lines outside TY..ER (numbering, blank lines) are ignored.
    A line without a tag continues the previous value."""
    return _split_records(text, _RIS_TAG, "TY", lambda line: bool(line.strip()))


def parse_wos(text: str) -> list[Record]:
    """Split a Web of Science tagged export into records (PT ... ER); continuation lines are
    indented by three spaces; the file header (FN, VR) and end (EF) are outside records."""
    return _split_records(text, _WOS_TAG, "PT", lambda line: line.startswith("   "))


def _split_records(text: str, tag_re: re.Pattern, start_tag: str, continues) -> list[Record]:
    """Records from a tagged export: ``start_tag`` opens one (closing any left open), ``ER``
    closes it, other tags append a value, and lines for which ``continues(line)`` is true
    extend the last value."""
    records: list[Record] = []
    current: Record | None = None
    last_tag = ""
    for line in text.split("\n"):
        match = tag_re.match(line)
        if not match:
            if current is not None and last_tag and continues(line):
                _continue(current, last_tag, line)
            continue
        tag, value = match.group(1), (match.group(2) or "").strip()
        if tag == start_tag:
            if current is not None:  # the previous record lacked its ER line
                records.append(current)
            current = {}
        if current is None:
            continue
        if tag == "ER":
            records.append(current)
            current, last_tag = None, ""
            continue
        current.setdefault(tag, []).append(value)
        last_tag = tag
    if current is not None:
        records.append(current)
    return records


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
        sections=sections,
    )


def _pmid(record: Record, accession: str | None) -> str | None:
    """The accession number when it is a PMID, else a "PMID: n" note in any field."""
    if accession and accession.isdigit():
        return accession
    for values in record.values():
        for value in values:
            if match := _PMID_NOTE.search(value):
                return match.group(1)
    return None
