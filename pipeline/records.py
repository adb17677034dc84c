"""What extractors yield: records with provenance, before they are stored.

Field meanings and vocabularies follow the project's gold format (GOLD_FORMAT.md in the shared
corpus): endpoints ORR, DCR, CBR, CR, PR, SD, PD, PFS, OS, TTP, DoR, DFS, EFS, RFS, iDFS, pCR, TTF;
measures rate, median, hr, or, landmark, count; units "%", "months", "weeks", "days", "years".

Offsets (``start``, ``end``) index the document text; ``sentence`` is the index of the sentence
(in segmentation order) that holds the record; ``rule`` names the rule that produced it, so a
wrong number can be traced back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RECORD_TYPES = ("outcome", "trial", "regimen", "her2", "biomarker", "study", "arm")


@dataclass(kw_only=True)
class Record:
    start: int
    end: int
    text: str
    sentence: int
    rule: str
    confidence: float = 1.0
    needs_review: bool = False

    type: str = ""  # set by subclasses


@dataclass(kw_only=True)
class OutcomeRecord(Record):
    type: str = "outcome"
    endpoint: str
    measure: str  # rate | median | hr | or | landmark | count
    value: float
    value_text: str  # the number exactly as written ("57.5", "95·3")
    unit: str | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_text: str | None = None
    count: int | None = None
    total: int | None = None
    p_value: str | None = None  # as written: "0.001", "<0.001"
    trial: str | None = None
    drugs: list[str] | None = None
    arm: str | None = None
    population: str | None = None
    study_ref: str | None = None  # the study it belongs to, as StudyRecord.ref ("study:MOUNTAINEER")
    arm_ref: str | None = None  # its arm, as ArmRecord.ref ("study:MOUNTAINEER/cohort:A+B")
    # field -> the rule that settled it ("trial": "trial.paragraph", "total": "n.arm_size", ...)
    attribution: dict[str, str] = field(default_factory=dict)
    # A figure read from a table cell: the table's place among the document's tables (0-based,
    # as table_cell.table_idx) and the cell's row and grid column (0-based, header rows first).
    table_idx: int | None = None
    table_row: int | None = None
    table_column: int | None = None


@dataclass(kw_only=True)
class TrialRecord(Record):
    type: str = "trial"
    name: str
    nct: str | None = None


@dataclass(kw_only=True)
class RegimenRecord(Record):
    type: str = "regimen"
    drugs: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class Her2Record(Record):
    type: str = "her2"
    method: str  # IHC, ISH, FISH, CISH, SISH, NGS, ddPCR, ctDNA, status
    result: str | None = None  # 3+, 2+, positive, amplified, overexpression, negative, low
    threshold: str | None = None


@dataclass(kw_only=True)
class StudyRecord(Record):
    """A study of the document's study model (pipeline.study): the one the paper reports
    (role "primary"; ``name`` None when the paper does not name it) or one it cites. Its span is
    the first mention; ``size`` the most specific patient count stated for it."""

    type: str = "study"
    ref: str  # unique within the document; outcomes point at it
    name: str | None = None
    role: str = "cited"
    registry_id: str | None = None
    drugs: list[str] | None = None
    drugs_rule: str | None = None
    size: int | None = None
    size_kind: str | None = None  # enrolled | treated | evaluable
    size_text: str | None = None


@dataclass(kw_only=True)
class ArmRecord(Record):
    """An arm, cohort, dose level or crossover group of a study, with its regimen and size."""

    type: str = "arm"
    ref: str
    study_ref: str
    label: str
    kind: str  # cohort | dose | regimen | crossover
    drugs: list[str] | None = None
    drugs_rule: str | None = None
    size: int | None = None
    size_text: str | None = None


@dataclass(kw_only=True)
class BiomarkerRecord(Record):
    type: str = "biomarker"
    gene: str
    status: str | None = None
    detail: str | None = None
