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

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import ConfigDict
from sqlalchemy import JSON, String
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


# ----------------------------------------------------------------------------- documents


class StoredDocument(SQLModel, table=True):
    """One document as ingested. ``path`` is ``Document.source`` ("corpus/x.pdf", "x.xml#12345");
    ``file_path`` and ``sha256`` identify the source file it came from."""

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
    text: str
    extractor_version: str
    ingested_at: datetime


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


class IngestError(SQLModel, table=True):
    """The last failure of a source file; cleared when the file next loads."""

    __tablename__ = "ingest_error"

    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(index=True, unique=True)
    reason: str
    at: datetime


# ----------------------------------------------------------------------------- provenance


class Evidence(SQLModel):
    """Provenance every record carries, stored and exported alike. Offsets index the stored
    document text."""

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
    # Its own class so that ``type`` and ``doc`` lead every exported line.
    type: str
    doc: str = Field(description="Document path as ingested; path#PMID for multi-record files.")


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
    arm: str | None = None
    population: str | None = None


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


class OutcomeExport(OutcomeFields, ExportedEvidence):
    """An efficacy figure."""

    type: Literal["outcome"] = "outcome"


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
    )
}
