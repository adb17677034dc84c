"""What the report, the forest plots and the spreadsheet show, read from the database.

One query over ``outcome_evidence`` (the current, shown records with their curation) joined to
the record's sentence, so each figure can be highlighted at its stored offsets: the sentence's
own ``start`` gives where the figure's ``start``/``end`` fall inside ``sentence.text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from sqlalchemy import Engine

from pipeline.errors import EvxError
from pipeline.store.models import Endpoint

ENDPOINTS = get_args(Endpoint)  # the gold format's order: ORR, DCR, ... , PFS, OS, ...


@dataclass(frozen=True)
class Filters:
    """--trial / --endpoint / --drug: case-insensitive; trial and drug match part of the name."""

    trial: str | None = None
    endpoint: str | None = None
    drug: str | None = None

    def __bool__(self) -> bool:
        return any((self.trial, self.endpoint, self.drug))

    def describe(self) -> str:
        return ", ".join(f"{name} {value!r}" for name, value in vars(self).items() if value)


@dataclass
class Figure:
    """One efficacy figure of ``outcome_evidence`` with the pieces of its sentence."""

    id: int
    key: str
    document_id: int
    document: str
    title: str | None
    trial: str | None
    arm: str | None
    drugs: str | None
    total: int | None
    endpoint: str
    measure: str
    value: float
    value_text: str
    unit: str | None
    ci_low: float | None
    ci_high: float | None
    ci_text: str | None
    p_value: str | None
    page: int | None
    section: str | None
    text: str
    curation: str | None
    corrected_value: str | None
    curation_comment: str | None
    # The sentence cut at the figure's offsets: before, the figure, after. ``highlighted`` is
    # False when the stored offsets do not fall on the figure's text in its sentence (then the
    # whole sentence is in ``before``).
    before: str = ""
    figure: str = ""
    after: str = ""
    highlighted: bool = False

    @property
    def ci(self) -> str:
        if self.ci_low is None or self.ci_high is None:
            return ""
        return f"{_num(self.ci_low)}–{_num(self.ci_high)}"

    @property
    def shown_value(self) -> str:
        unit = self.unit or ""
        return f"{self.value_text}{'' if unit in ('%', '') else ' '}{unit}"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


_FIGURES = """
    SELECT e.outcome_id, e.evidence_key, e.document_id, e.document, e.title, e.trial, e.arm, e.drugs, e.total,
           e.endpoint, e.measure, e.value, e.value_text, e.unit, e.ci_low, e.ci_high, o.ci_text, e.p_value,
           e.page, e.section, o.text, e.curation, e.corrected_value, e.curation_comment,
           o.start, o."end", COALESCE(s.text, e.sentence), s.start
    FROM outcome_evidence AS e
    JOIN outcome AS o ON o.id = e.outcome_id
    LEFT JOIN sentence AS s ON s.document_id = o.document_id AND s.idx = o.sentence_idx
    WHERE (:trial IS NULL OR instr(lower(e.trial), lower(:trial)) > 0)  -- instr: "_" and "%" are no wildcards
      AND (:endpoint IS NULL OR lower(e.endpoint) = lower(:endpoint))
      AND (:drug IS NULL OR instr(lower(e.drugs), lower(:drug)) > 0)
    ORDER BY e.endpoint, e.trial IS NULL, e.trial, e.arm, e.measure, e.document, o.start
"""


def load_figures(engine: Engine, filters: Filters = Filters()) -> list[Figure]:
    """Every shown figure matching ``filters``, ordered by endpoint, trial, arm."""
    params = {"trial": filters.trial or None, "endpoint": filters.endpoint or None, "drug": filters.drug or None}
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(_FIGURES, params).all()
    figures = []
    for row in rows:
        *fields, start, end, sentence, sentence_start = row
        figure = Figure(*fields)
        figure.before, figure.figure, figure.after, figure.highlighted = split_sentence(
            sentence or figure.text, start, end, sentence_start, figure.text)
        figures.append(figure)
    return figures


def split_sentence(sentence: str, start: int, end: int, sentence_start: int | None, text: str) -> tuple[str, str, str, bool]:
    """``sentence`` cut at the record's document offsets ``start``/``end``. The cut is trusted
    only when it gives back the record's own text; else the sentence is shown unmarked."""
    if sentence_start is not None:
        lo, hi = start - sentence_start, end - sentence_start
        if 0 <= lo <= hi <= len(sentence) and sentence[lo:hi] == text:
            return sentence[:lo], sentence[lo:hi], sentence[hi:], True
    return sentence, "", "", False


def by_endpoint(figures: list[Figure]) -> list[tuple[str, list[Figure]]]:
    """(endpoint, its figures) in the gold format's endpoint order, empty ones left out."""
    groups: dict[str, list[Figure]] = {}
    for figure in figures:
        groups.setdefault(figure.endpoint, []).append(figure)
    return sorted(groups.items(), key=lambda item: ENDPOINTS.index(item[0]) if item[0] in ENDPOINTS else len(ENDPOINTS))


def require_evidence(engine: Engine, db_label: str, figures: list[Figure], filters: Filters) -> None:
    """An empty database, or filters that match nothing, is a clear error, not an empty page."""
    if figures:
        return
    with engine.connect() as conn:
        documents = conn.exec_driver_sql(
            "SELECT count(*) FROM document WHERE withdrawn_run IS NULL AND duplicate_of IS NULL").scalar_one()
    if not documents:
        raise EvxError(f"{db_label} holds no documents: run evx ingest first")
    if filters:
        raise EvxError(f"no efficacy figure in {db_label} matches {filters.describe()}")
    raise EvxError(f"{db_label} holds {documents} documents but no efficacy figure to report")
