"""The study model of one document: the studies it reports or cites, their arms, cohorts and
subgroups, each with its regimen, selection and size, and where each fact was read.

Papers state a figure's context once (the title names the trial, Methods the regimen,
"Of 53 patients in cohort A, ..." the group and its size) and give the figures later. The
model collects that context per document so that every figure can be resolved against it
(``pipeline.study.attribution``). Every fact keeps the offsets of the text it was read from
and the id of the rule that read it, like the records themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Size:
    """A number of patients: ``kind`` is screened, enrolled, treated, evaluable or group."""

    value: int
    kind: str
    start: int
    end: int
    text: str
    rule: str


@dataclass
class Arm:
    """An arm, cohort, dose level or subgroup of a study.

    ``ids`` are the letters or numbers of a labelled group ("cohorts A and B" -> {"A", "B"}), so
    "cohorts A+B", "cohorts A and B" and "(A+B, n=84)" are one arm; a dose arm's id is its dose,
    a regimen arm's its drugs.
    """

    key: str  # unique within the document: "cohort:A+B", "dose:5.4 mg/kg", "regimen:a+b"
    label: str  # as a reviewer reads it: "cohorts A+B", "5.4 mg/kg", "T-DXd"
    kind: str  # cohort | dose | regimen | crossover
    ids: frozenset[str] = frozenset()
    drugs: list[str] | None = None
    drugs_rule: str | None = None
    selection: list[str] = field(default_factory=list)  # HER2 criteria / biomarkers that define it
    classes: frozenset[str] = frozenset()  # drug classes its regimen was written with ("CT (EC-T)": chemotherapy)
    class_only: bool = False  # written as a class alone ("CT or CT + ZOL": the first)
    size: Size | None = None
    start: int = 0  # first mention
    end: int = 0
    rule: str = ""


@dataclass
class Study:
    """A named trial (``name``), or the paper's own unnamed study (``name`` None)."""

    key: str
    name: str | None
    role: str  # "primary" (the study the paper reports) | "cited"
    registry: str | None = None
    drugs: list[str] | None = None
    drugs_rule: str | None = None
    size: Size | None = None
    arms: list[Arm] = field(default_factory=list)
    # words of the document that name one of its regimen arms by its class ("CT" -> the
    # chemotherapy arm, "HT" -> the hormone therapy arm): arm keys
    arm_terms: dict[str, str] = field(default_factory=dict)
    start: int = 0
    end: int = 0
    rule: str = ""

    def arm(self, key: str) -> Arm | None:
        return next((a for a in self.arms if a.key == key), None)


@dataclass
class StudyModel:
    studies: list[Study] = field(default_factory=list)
    # names that only head a family of the document's studies ("HERACLES" beside "HERACLES-A"):
    # not studies of their own
    family_names: set[str] = field(default_factory=set)

    @property
    def primary(self) -> Study | None:
        return next((s for s in self.studies if s.role == "primary"), None)

    def named(self, name: str | None) -> Study | None:
        return next((s for s in self.studies if name is not None and s.name == name), None)
