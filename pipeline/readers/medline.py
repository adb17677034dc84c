"""MEDLINE / .nbib reader (PubMed's "MEDLINE" export): one document per record.

Format: records separated by blank lines; a field is a tag left-justified in 4 columns, "- ",
then the value ("TI  - ..."); continuation lines are indented by 6 spaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from pipeline.document import Document
from pipeline.errors import ReaderError
from pipeline.readers.builder import clean_doi, clean_pmcid, find_year, title_and_abstract
from pipeline.readers.text import iter_lines

# The lookahead pins the "-" to column 5, so "AB - x" or prose with a dash is not a tag line.
_TAG_LINE = re.compile(r"(?=[A-Z][A-Z0-9 ]{3}-)([A-Z][A-Z0-9]{1,3}) *-(?: (.*))?$")

Record = dict[str, list[str]]


def read_medline(stream: BinaryIO, source: str) -> Iterator[Document]:
    """Every record of the MEDLINE file read from ``stream``, one at a time; source is
    ``source#PMID`` (``source#n`` without one)."""
    n = 0
    for n, record in enumerate(iter_records(iter_lines(stream)), start=1):
        yield _document(record, source, n)
    if n == 0:
        raise ReaderError("no MEDLINE records (expected lines like 'PMID- 12345')")


def iter_records(lines: Iterable[str]) -> Iterator[Record]:
    """Split MEDLINE lines into records mapping each tag to its values, in order."""
    current: Record = {}
    last_tag = ""
    for line in lines:
        match = _TAG_LINE.match(line)
        if not line.strip():
            if current:
                yield current
            current, last_tag = {}, ""
        elif match:
            tag, value = match.group(1), (match.group(2) or "").strip()
            if tag == "PMID" and "PMID" in current:  # a new record without a blank line first
                yield current
                current = {}
            current.setdefault(tag, []).append(value)
            last_tag = tag
        elif last_tag:  # continuation line: joined with one space
            values = current[last_tag]
            values[-1] = f"{values[-1]} {line.strip()}".strip()
        # Other lines before a record's first tag (e.g. a banner) are not part of any field.
    if current:
        yield current


def first_value(record: Record, *tags: str) -> str | None:
    """The first non-empty value of the first of ``tags`` that has one."""
    for tag in tags:
        for value in record.get(tag, []):
            if value:
                return value
    return None


def _document(record: Record, source: str, n: int) -> Document:
    pmid = first_value(record, "PMID")
    title = first_value(record, "TI", "BTI") or ""
    abstract = first_value(record, "AB") or ""
    doi = None
    for value in record.get("LID", []) + record.get("AID", []):
        if value.endswith("[doi]"):
            doi = clean_doi(value.removesuffix("[doi]"))
            break

    text, sections = title_and_abstract(title, abstract)
    return Document(
        source=f"{source}#{pmid or n}",
        format="medline",
        text=text,
        title=title or None,
        pmid=pmid,
        doi=doi,
        journal=first_value(record, "JT", "TA"),
        year=find_year(first_value(record, "DP")),
        # FAU is "Surname, Given Names"; older records have only AU ("Surname GN"); CN a group.
        authors=[a for a in record.get("FAU") or record.get("AU") or record.get("CN", []) if a],
        pmcid=clean_pmcid(first_value(record, "PMC")),
        sections=sections,
    )
