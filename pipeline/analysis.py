"""What segmentation and extraction make of one document: sections, sentences,
abbreviations, records and tables, all as offsets into ``Document.text``."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.records import Record
from pipeline.tables.model import Table


@dataclass(frozen=True)
class Section:
    index: int
    title: str | None  # None for text before the first heading
    start: int
    end: int


@dataclass(frozen=True)
class Sentence:
    index: int
    start: int
    end: int
    section: int  # index into Analysis.sections
    page: int | None
    text: str


@dataclass(frozen=True)
class Abbreviation:
    short: str  # "PFS"
    long: str  # "progression-free survival"
    start: int  # offset of the defining short form
    end: int


@dataclass
class Analysis:
    sections: list[Section] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    abbreviations: list[Abbreviation] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)  # reader's and text tables; a record's table_idx indexes it
