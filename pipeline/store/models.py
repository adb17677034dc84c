"""Record shapes, defined once.

Each record type has one ``*Fields`` class (its own fields). The SQLite table and the export
model of that type are both built from it, on top of the shared provenance in ``Evidence``:

    OutcomeFields + StoredEvidence   -> table ``outcome``          (what ingest writes)
    OutcomeFields + ExportedEvidence -> export model ``OutcomeExport`` (what ``evx export`` writes,
                                        and what ``schemas/evidence.schema.json`` is generated from)

Vocabularies (endpoint, measure, unit, HER2 method) follow GOLD_FORMAT.md and are checked when a
record is stored, so an export always validates against the schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, model_validator
from sqlalchemy import JSON, CheckConstraint, String
from sqlmodel import Field, SQLModel

Endpoint = Literal[
    "ORR", "DCR", "CBR", "CR", "PR", "SD", "PD", "PFS", "OS", "TTP", "DoR", "DFS", "EFS", "RFS",
    "iDFS", "pCR", "TTF",
]
Measure = Literal["rate", "median", "hr", "or", "landmark", "count"]
Unit = Literal["%", "months", "weeks", "days", "years"]
Her2Method = Literal["IHC", "ISH", "FISH", "CISH", "SISH", "NGS", "ddPCR", "ctDNA", "status"]

# SQLModel cannot map Literal or list types to columns by itself: vocabularies are TEXT,
# lists are JSON text.
_TEXT = {"sa_type": String}
_LIST = {"sa_type": JSON(none_as_null=True)}  # None stays SQL NULL, not "null"
_JSON = _LIST


# ----------------------------------------------------------------------------- documents


class StoredDocument(SQLModel, table=True):
    """One document as ingested. ``path`` is ``Document.source`` ("corpus/x.pdf", "x.xml#12345");
    ``file_path`` and ``sha256`` identify the source file it came from. ``layout`` keeps the
    pages, source sections and tables, so the document can be re-extracted without its file.
    A document whose file disappeared is kept, with the run that noticed in ``withdrawn_run``."""

    __tablename__ = "document"

    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(index=True)
    file_path: str = Field(index=True)
    sha256: str  # of the source file's bytes
    format: str
    title: str | None = None
    pmid: str | None = None
    doi: str | None = None
    journal: str | None = None
    year: int | None = None
    authors: list[str] | None = Field(default=None, **_LIST)  # "Surname, Given" where the source says
    pmcid: str | None = None
    text: str
    text_sha256: str = Field(index=True)  # of the text: part of every record's key
    layout: dict | None = Field(default=None, **_JSON)
    extractor_version: str
    ingested_at: datetime
    run_id: int | None = None  # the run that stored it
    withdrawn_run: int | None = None
    # The work (article) this is a copy of, and, when another copy of it is shown instead, that
    # copy's id: its records stay here but out of the views and exports (``pipeline.store.works``).
    work_id: int | None = Field(default=None, index=True)
    duplicate_of: int | None = None
    title_key: str | None = Field(default=None, index=True)  # normalised title | first author's surname


class Work(SQLModel, table=True):
    """One article, however many copies of it were ingested (a PDF and its JATS XML, a PubMed
    record): the copy whose records are shown (``primary_document``), why it was chosen over
    the others (``reason``), and the article's identity merged from all copies, the primary's
    first."""

    __tablename__ = "work"

    id: int | None = Field(default=None, primary_key=True)
    primary_document: int | None = None
    copies: int = 1  # documents of the work, withdrawn ones included
    reason: str | None = None  # "jats over pdf: same DOI"
    title: str | None = None
    authors: list[str] | None = Field(default=None, **_LIST)
    journal: str | None = None
    year: int | None = None
    pmid: str | None = Field(default=None, index=True)
    doi: str | None = None
    pmcid: str | None = None


class TextSketch(SQLModel, table=True):
    """A sample of a document's word 5-grams (those whose hash falls in 1/32 of the range), to
    find copies of one article whose identifiers are missing: two copies share most of the
    smaller one's sample (``pipeline.store.works``)."""

    __tablename__ = "text_sketch"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    hash: int = Field(index=True)


class SectionRow(SQLModel, table=True):
    __tablename__ = "section"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    idx: int  # 0-based order in the document ("index" is an SQL keyword)
    title: str | None = None
    start: int
    end: int


class SentenceRow(SQLModel, table=True):
    __tablename__ = "sentence"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    idx: int  # 0-based order in the document ("index" is an SQL keyword)
    start: int
    end: int
    page: int | None = None
    section: str | None = None  # section title
    text: str


class AbbreviationRow(SQLModel, table=True):
    __tablename__ = "abbreviation"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    short: str
    long: str
    start: int
    end: int


class DocTable(SQLModel, table=True):
    """A table of a document, as evx reads it (``pipeline.tables``): ``idx`` is its place among
    the document's tables in text order (an outcome's ``table_idx``); ``kind`` where it comes
    from: "jats", "pdf" (the reader's tables) or "tab", "pipe", "space" (written in plain text).
    ``start``/``end`` cover its rows in the document text."""

    __tablename__ = "doc_table"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    idx: int
    kind: str
    label: str | None = None  # "Table 2"
    page: int | None = None
    caption: str | None = None
    footnotes: str | None = None  # the table's notes, one per line
    header_rows: int
    n_rows: int
    n_columns: int
    start: int
    end: int


class TableCell(SQLModel, table=True):
    """One non-empty cell of a stored table (``doc_table`` by document and ``table_idx``):
    its row (header rows first) and first grid column, both 0-based, and its text at
    text[start:end]. A ragged row's cells (a PDF row with fewer cells than columns) have
    ``column_idx`` None: their columns are not known."""

    __tablename__ = "table_cell"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    table_idx: int
    row_idx: int
    column_idx: int | None = None
    colspan: int = 1
    rowspan: int = 1
    is_header: bool = False
    is_stub: bool = False
    text: str
    start: int
    end: int


class IngestError(SQLModel, table=True):
    """The last failure of a source file; cleared when the file next loads or is found unchanged."""

    __tablename__ = "ingest_error"

    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(index=True, unique=True)
    reason: str
    at: datetime
    run_id: int | None = None
    failures: int = 1  # runs in a row it failed with this reason, unchanged (same size and time stamp)
    size: int | None = None  # of the file that failed, when known
    mtime_ns: int | None = None


# ----------------------------------------------------------------------------- sources and runs


class SourceRoot(SQLModel, table=True):
    """A file or folder given to ``evx ingest``/``refresh``: ``evx refresh`` with no paths
    re-scans these. ``path`` is the form files are named by; ``abs_path`` finds it from any
    working directory."""

    __tablename__ = "source_root"

    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(unique=True)
    abs_path: str
    is_folder: bool
    added_run: int | None = None


class SourceFile(SQLModel, table=True):
    """What the database knows of one source file: the content it last loaded (sha256), by which
    extractor, and whether the file has since disappeared (``withdrawn_run``)."""

    __tablename__ = "source_file"

    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(unique=True)
    sha256: str
    documents: int
    extractor_version: str
    first_run: int | None = None
    changed_run: int | None = None  # the run that last loaded or re-extracted it
    withdrawn_run: int | None = None
    # Size and modification time when it was last hashed; a refresh that finds both unchanged
    # does not read the file again. mtime_ns is left empty for a file modified moments before
    # it was read (its next change could keep the same time stamp), so such files are hashed.
    size: int | None = None
    mtime_ns: int | None = None


RUN_STATUSES = ("running", "ok", "failed_files", "interrupted", "aborted")


class Run(SQLModel, table=True):
    """One ``evx ingest`` or ``evx refresh``. ``status``: running; ok; failed_files (finished,
    some files failed); interrupted (killed, noticed by a later run); aborted (stopped by an
    error that ended the run)."""

    __tablename__ = "runs"
    __table_args__ = (CheckConstraint(f"status IN {RUN_STATUSES}", name="run_status"),)

    id: int | None = Field(default=None, primary_key=True)
    command: str  # ingest | refresh
    started: datetime
    finished: datetime | None = None
    status: str = "running"
    extractor_version: str
    files_new: int = 0
    files_changed: int = 0
    files_reextracted: int = 0  # unchanged files analysed again from their stored text
    files_restored: int = 0  # withdrawn files that came back
    files_withdrawn: int = 0
    files_unchanged: int = 0
    files_failed: int = 0
    records_added: int = 0
    records_removed: int = 0
    records_changed: int = 0
    note: str | None = None  # why it was interrupted or aborted


class RunFailure(SQLModel, table=True):
    """A file that failed in a run (``ingest_error`` keeps only each file's latest failure)."""

    __tablename__ = "run_failure"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="runs.id", index=True)
    path: str
    reason: str


CHANGES = ("added", "removed", "changed")


class EvidenceChange(SQLModel, table=True):
    """One record added, removed or changed by a run, by its stable key. ``before`` and ``after``
    hold the record's fields (null for an added or removed record)."""

    __tablename__ = "evidence_change"
    __table_args__ = (CheckConstraint(f"change IN {CHANGES}", name="change_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = Field(default=None, index=True)
    key: str = Field(index=True)
    type: str
    document: str  # document path
    change: str
    before: dict | None = Field(default=None, **_JSON)
    after: dict | None = Field(default=None, **_JSON)


CURATION_STATUSES = ("accepted", "rejected", "corrected")


class Curation(SQLModel, table=True):
    """A reviewer's verdict on one record, attached by the record's key, so it outlives
    re-extraction. ``snapshot`` is the record as the reviewer saw it; ``orphaned_run`` is set by
    the run that found the record gone (and cleared if it comes back); nothing deletes a curation.

    Reviewers may also insert rows directly: ``key`` and ``status`` are required;
    ``corrected_value`` (the number as written) and ``corrections`` (other fields, JSON) go with
    "corrected"."""

    __tablename__ = "curation"
    __table_args__ = (CheckConstraint(f"status IN {CURATION_STATUSES}", name="curation_status"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    type: str | None = None
    document: str | None = None
    status: str
    corrected_value: str | None = None
    corrections: dict | None = Field(default=None, **_JSON)
    comment: str | None = None
    reviewer: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    snapshot: dict | None = Field(default=None, **_JSON)
    orphaned_run: int | None = None


# ----------------------------------------------------------------------------- provenance


class Evidence(SQLModel):
    """Provenance every record carries, stored and exported alike. Offsets index the stored
    document text. ``key`` is stable across re-extraction: it hashes the document text, the
    record type, its span and its identity fields (see ``pipeline.store.evidence``)."""

    key: str = Field(index=True, description="Stable id of this evidence across runs (evx changes, evx review).")
    page: int | None = None
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str
    section: str | None = None  # title of the section holding the sentence
    rule: str
    confidence: float = Field(default=1.0, ge=0, le=1)
    needs_review: bool = False
    extractor_version: str


class StoredEvidence(Evidence):
    """Columns of every record table."""

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    sentence_idx: int | None = None  # sentence.idx
    sentence_text: str | None = None


class _ExportHead(SQLModel):
    # Its own class so that ``type`` and ``doc`` lead every exported line, then what cites it.
    type: str
    doc: str = Field(description="Document path as ingested; path#PMID for multi-record files.")
    work: int | None = Field(default=None, description="The article: records of one work come from one of its copies.")
    title: str | None = None
    authors: list[str] | None = Field(default=None, description='As the source gives them, "Surname, Given" where it says.')
    journal: str | None = None
    year: int | None = None
    pmid: str | None = None
    doi: str | None = None
    pmcid: str | None = None


class ExportedEvidence(Evidence, _ExportHead):
    """Fields of every exported record. Every key is always written (null when unknown), so the
    schema marks them all required."""

    model_config = ConfigDict(
        json_schema_serialization_defaults_required=True,
        json_schema_extra={"additionalProperties": False},  # schema only: rows carry extra columns
    )

    sentence: str | None = Field(default=None, description="Text of the sentence holding the record.")


# ----------------------------------------------------------------------------- record types


class OutcomeFields(SQLModel):
    endpoint: Endpoint = Field(**_TEXT)
    measure: Measure = Field(**_TEXT)
    value: float
    value_text: str = Field(description="The number exactly as written.")
    unit: Unit | None = Field(default=None, **_TEXT)
    ci_low: float | None = None
    ci_high: float | None = None
    ci_text: str | None = None
    count: int | None = None
    total: int | None = None
    p_value: str | None = Field(default=None, description='As written: "0.001", "<0.001".')
    trial: str | None = None
    drugs: list[str] | None = Field(default=None, **_LIST)
    arm: str | None = Field(default=None, description="Arm, cohort, dose or subgroup the figure belongs to, as a label.")
    population: str | None = None
    study_ref: str | None = Field(default=None, description="The study record (same document) the figure belongs to.")
    arm_ref: str | None = Field(default=None, description="The arm record (same document) the figure belongs to.")
    attribution: dict[str, str] | None = Field(
        default=None, description='Field -> the rule that settled it: {"trial": "trial.paragraph", "total": "n.arm_size"}.',
        **_JSON)
    table_idx: int | None = Field(default=None, description="A figure read from a table: the table's place among the "
                                  "document's tables (0-based, as doc_table.idx); null for a figure of the running text.")
    table_row: int | None = Field(default=None, description="Its cell's row in the table (0-based, header rows first).")
    table_column: int | None = Field(default=None, description="Its cell's grid column in the table (0-based).")


class StudyFields(SQLModel):
    ref: str = Field(description="Id of the study within its document; outcome.study_ref points at it.")
    name: str | None = Field(default=None, description="Trial name; null for the paper's own unnamed study.")
    role: Literal["primary", "cited"] = Field(**_TEXT)
    registry_id: str | None = None
    drugs: list[str] | None = Field(default=None, **_LIST)
    drugs_rule: str | None = None
    size: int | None = Field(default=None, description="Patients: the most specific count stated (evaluable, treated, enrolled).")
    size_kind: str | None = None
    size_text: str | None = None


class ArmFields(SQLModel):
    ref: str = Field(description="Id of the arm within its document; outcome.arm_ref points at it.")
    study_ref: str
    label: str
    kind: Literal["cohort", "dose", "regimen", "crossover"] = Field(**_TEXT)
    drugs: list[str] | None = Field(default=None, **_LIST)
    drugs_rule: str | None = None
    size: int | None = None
    size_text: str | None = None


class TrialFields(SQLModel):
    name: str
    nct: str | None = None


class RegimenFields(SQLModel):
    drugs: list[str] = Field(default_factory=list, **_LIST)
    other: list[str] = Field(default_factory=list, **_LIST)


class Her2Fields(SQLModel):
    method: Her2Method = Field(**_TEXT)
    result: str | None = None
    threshold: str | None = None


class BiomarkerFields(SQLModel):
    gene: str
    status: str | None = None
    detail: str | None = None


class Outcome(OutcomeFields, StoredEvidence, table=True):
    __tablename__ = "outcome"


class Trial(TrialFields, StoredEvidence, table=True):
    __tablename__ = "trial"


class Regimen(RegimenFields, StoredEvidence, table=True):
    __tablename__ = "regimen"


class Her2Criterion(Her2Fields, StoredEvidence, table=True):
    __tablename__ = "her2_criterion"


class Biomarker(BiomarkerFields, StoredEvidence, table=True):
    __tablename__ = "biomarker"


class Study(StudyFields, StoredEvidence, table=True):
    __tablename__ = "study"


class StudyArm(ArmFields, StoredEvidence, table=True):
    __tablename__ = "study_arm"


class OutcomeExport(OutcomeFields, ExportedEvidence):
    """An efficacy figure."""

    type: Literal["outcome"] = "outcome"
    # Not a column: read from ci_text whenever a record is exported, so no migration is needed.
    ci_level: float | None = Field(default=None, description='Confidence level of the CI in percent as ci_text states '
                                   'it ("95% CI 14-50" -> 95); null when there is no CI or its text gives no level.')

    @model_validator(mode="after")
    def _ci_level_from_text(self) -> OutcomeExport:
        if self.ci_level is None:
            self.ci_level = ci_level(self.ci_text)
        return self


# "95% CI", "90 % confidence interval", "95%CrI", "97.5 percent C.I." (the forms the CI rule reads).
_CI_LEVEL = re.compile(r"(\d{2}(?:[.·]\d+)?)\s?(?:%|percent)\s*(?:CI\b|C\.I\.|[Cc]onfidence|CrI\b)")


def ci_level(ci_text: str | None) -> float | None:
    """The confidence level a CI's text states (95.0 for "95% CI 40.9–73.0"), or None."""
    m = _CI_LEVEL.search(ci_text or "")
    return float(m.group(1).replace("·", ".")) if m else None


class TrialExport(TrialFields, ExportedEvidence):
    """A named trial or registry id."""

    type: Literal["trial"] = "trial"


class RegimenExport(RegimenFields, ExportedEvidence):
    """A treatment combination given or evaluated."""

    type: Literal["regimen"] = "regimen"


class Her2Export(Her2Fields, ExportedEvidence):
    """How HER2 positivity is defined or measured."""

    type: Literal["her2"] = "her2"


class BiomarkerExport(BiomarkerFields, ExportedEvidence):
    """Another molecular status fact."""

    type: Literal["biomarker"] = "biomarker"


class StudyExport(StudyFields, ExportedEvidence):
    """A study the document reports (primary) or cites, from its study model."""

    type: Literal["study"] = "study"


class ArmExport(ArmFields, ExportedEvidence):
    """An arm, cohort, dose level or crossover group of a study."""

    type: Literal["arm"] = "arm"


@dataclass(frozen=True)
class RecordKind:
    """One record type: its name in records and exports, its table, its export model."""

    type: str
    table: type[StoredEvidence]
    export: type[ExportedEvidence]


# In the order of pipeline.records.RECORD_TYPES (a test checks).
RECORD_KINDS: dict[str, RecordKind] = {
    kind.type: kind
    for kind in (
        RecordKind("outcome", Outcome, OutcomeExport),
        RecordKind("trial", Trial, TrialExport),
        RecordKind("regimen", Regimen, RegimenExport),
        RecordKind("her2", Her2Criterion, Her2Export),
        RecordKind("biomarker", Biomarker, BiomarkerExport),
        RecordKind("study", Study, StudyExport),
        RecordKind("arm", StudyArm, ArmExport),
    )
}
