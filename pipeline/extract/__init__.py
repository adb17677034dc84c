"""Extraction stage: ``analyse(document) -> Analysis``.

Segments the document (pipeline.segment), runs the NER (pipeline.extract.nlp), then the
per-sentence extractors, and finally resolves every figure against the document's study model
(``pipeline.study``): its trial, arm or cohort, regimen and N, each with the rule that settled it.
"""

from __future__ import annotations

import bisect
import gc
import os
import re
from contextlib import contextmanager

from pipeline.analysis import Analysis
from pipeline.document import Document
from pipeline.errors import TooManyFigures
from pipeline.extract.context import SentenceView, lowered, sentence_views
from pipeline.extractor import EXTRACTOR_VERSION, RULES_VERSION  # noqa: F401 - re-exported here
from pipeline.extract.biomarkers import extract_biomarkers, has_marker_cue
from pipeline.extract.her2 import extract_her2, has_her2_cue, settle_her2
from pipeline.extract.nlp import build_nlp
from pipeline.extract.outcomes import extract_outcomes, has_ratio_cue
from pipeline.extract.treatments import document_regimen_groups, extract_regimens
from pipeline.extract.trials import extract_trials, trial_names
from pipeline.records import OutcomeRecord, Record
from pipeline.segment import Segmentation, extractable, segment
from pipeline.study import StudyModel, attribute, build_study_model, study_records


# Sentences naming an endpoint, at most, in one document. Papers of the development sets name
# one in at most 1,150 sentences a megabyte (a 60-page article: ~150); a text past this limit is
# a data dump, and each such sentence costs ~40 us of extraction: 100,000 of them, 900 kB of
# "ORR 10%.", took 8 s. 0: no limit.
MAX_FIGURE_SENTENCES = int(os.environ.get("EVX_MAX_FIGURE_SENTENCES", "5000"))


def analyse(document: Document) -> Analysis:
    with _cyclic_collector_paused():
        return _analyse(document)


@contextmanager
def _cyclic_collector_paused():
    """An analysis builds objects that live until it ends (a few per sentence: views, contexts,
    records) and next to no reference cycles. Run as they pile up, the cyclic collector walked
    all of them again and again, a sixth of the time of a document of 50,000 short sentences
    and more the longer it is; paused, the few cycles are collected after the analysis."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _analyse(document: Document) -> Analysis:
    # Tables written in the text are read as tables: their lines start sentences, their cells
    # give figures, the sentence extractor of outcomes skips them (imported here: pipeline.tables
    # reads numbers with pipeline.extract's patterns, so either package may be imported first).
    from pipeline.tables.read import sentences_within, table_outcomes
    from pipeline.tables.reader import reader_tables
    from pipeline.tables.model import Span
    from pipeline.tables.text import text_tables

    nlp = build_nlp()
    # The reader's tables (JATS, PDF) and those written in the text, in text order: a table's
    # place in this list is its table_idx.
    tables = sorted(reader_tables(document) + text_tables(document), key=lambda t: t.start)
    # Every line of a table's blocks starts a sentence (not the text between the two pages'
    # blocks of a continued PDF table).
    seg = segment(document, nlp, [Span("", start, end) for t in tables for start, end in t.parts])
    _check_figure_sentences(seg)
    views = sentence_views(seg.pieces, seg.sentences)
    usable = [v for v in views if extractable(seg.sections[v.sentence.section])]
    # Regimens of each sentence, grouped once, reading the whole document: records and figure
    # attribution both use them.
    groups = document_regimen_groups(usable)
    # Most documents name no HER2 test, no other marker and no hazard or odds ratio: one look at
    # the whole text for the cue words a sentence needs spares each sentence the extractor's own
    # test (without an endpoint, only a ratio can be an outcome).
    text, low = document.text, lowered(document.text)
    her2_cue, marker_cue, ratio_cue = has_her2_cue(text, low), has_marker_cue(text, low), has_ratio_cue(text, low)
    records: list[Record] = []
    outcomes: list[tuple[SentenceView, OutcomeRecord]] = []
    in_tables = sentences_within(tables, seg.sentences)
    for i, view in enumerate(usable):
        previous = usable[i - 1] if i and usable[i - 1].sentence.section == view.sentence.section else None
        records.extend(extract_trials(view))
        records.extend(extract_regimens(view, groups[view.sentence.index]))
        if her2_cue:
            records.extend(extract_her2(view))
        if marker_cue:
            records.extend(extract_biomarkers(view))
        # (after a sentence naming an endpoint, "One of these was complete (4%)" may be a figure)
        if (view.endpoints or ratio_cue or (previous is not None and previous.endpoints)) and view.sentence.index not in in_tables:
            outcomes.extend((view, outcome) for outcome in extract_outcomes(view, previous))
    records = settle_her2(usable, records)
    model = _attribute(document, usable, outcomes, [r for r in records if r.type == "trial"], groups, records,
                       seg.sections)
    records = _without_family_names(records, model)
    records.extend(study_records(model, document.text, seg.sentences))
    records.extend(o for _, o in outcomes)
    records.extend(_linked(table_outcomes(tables, views, usable), model))
    records = _distinct(records)
    records.sort(key=lambda r: (r.start, r.type))
    return Analysis(seg.sections, seg.sentences, seg.abbreviations, records, tables)


def _check_figure_sentences(seg: Segmentation) -> None:
    """TooManyFigures past MAX_FIGURE_SENTENCES sentences naming an endpoint: counted on the
    NER's spans, before the sentences' views are built (a second, on 100,000 sentences)."""
    if not MAX_FIGURE_SENTENCES:
        return
    spans = [(shift, doc.spans.get("evx_endpoints", [])) for shift, doc in seg.pieces]
    if sum(len(group) for _, group in spans) <= MAX_FIGURE_SENTENCES:
        return  # fewer mentions than the limit: fewer sentences too
    starts = [sentence.start for sentence in seg.sentences]
    named = len({bisect.bisect_right(starts, shift + span.start_char) for shift, group in spans for span in group})
    if named > MAX_FIGURE_SENTENCES:
        raise TooManyFigures(f"an endpoint is named in {named:,} sentences, over the limit of "
                             f"{MAX_FIGURE_SENTENCES:,} per document (a data dump, not a paper; "
                             "EVX_MAX_FIGURE_SENTENCES sets another limit, 0 none)")


def _attribute(document: Document, usable: list[SentenceView], outcomes,
               trial_records, groups: dict[int, list], records: list[Record], sections) -> StudyModel:
    """Builds the study model and resolves every figure's trial, arm, regimen and N against it."""
    names = trial_names(usable)
    for record in trial_records:
        record.name = names.display.get(record.name, record.name)
    named = names.trials(t.canonical for v in usable for t in v.trials if t.label != "REGISTRY")
    registries = {t.canonical for v in usable for t in v.trials if t.label == "REGISTRY"}
    # A registry id stands for the named trial it identifies: "NOAH ... registered, ISRCTN...".
    owner = {t.nct: t.name for t in trial_records if t.nct and t.nct != t.name}
    if len(named) == 1:
        owner.update({rid: names.name_of(next(iter(named))) for rid in registries if rid not in owner})
    title_end = _title_end(document)
    reading = build_study_model(document.text, usable, sections, trial_records, groups, names, owner, title_end)
    primary = reading.model.primary
    for record in trial_records:  # a registry id the study model gave to the paper's own trial
        if primary is not None and primary.name and record.name == primary.registry and record.name != primary.name:
            record.name, record.nct = primary.name, primary.registry
    attribute(reading, outcomes, groups, records)
    return reading.model


COHORT_LABEL = re.compile(r"\b(?:cohorts?|arms?|groups?|parts?)\s+([A-Z]|\d{1,2})\b", re.IGNORECASE)


def _linked(records: list[OutcomeRecord], model: StudyModel) -> list[OutcomeRecord]:
    """Table figures pointed at the study model: the study their row or column names, and its
    one arm their arm label names ("Cohort A: 5.4 mg/kg" -> cohort A; a dose arm by its dose).
    A label naming no arm, or several, links none: the arm stays as written."""
    for record in records:
        study = model.named(record.trial) if record.trial else None
        if study is None:
            continue
        record.study_ref = study.key
        record.attribution["study_ref"] = "table.trial"
        if not record.arm:
            continue
        ids = {m.group(1).upper() for m in COHORT_LABEL.finditer(record.arm)}
        label = record.arm.lower()
        arms = [a for a in study.arms if (a.kind == "cohort" and a.ids and a.ids == ids)
                or (a.kind == "dose" and not ids and a.label.lower() in label)]
        if len(arms) == 1:
            record.arm_ref = f"{study.key}/{arms[0].key}"
            record.attribution["arm_ref"] = "table.arm_label"
    return records


def _title_end(document: Document) -> int | None:
    """Where the reader's title ends in the text, if the text opens with it."""
    if document.title:
        at = document.text.find(document.title[:60])
        if 0 <= at < 400:
            return at + len(document.title)
    return None


def _without_family_names(records: list[Record], model: StudyModel) -> list[Record]:
    """A trial record whose name the study model set aside as a family name ("HERACLES" beside
    "HERACLES-A") is not a trial of its own."""
    return [r for r in records if r.type != "trial" or r.nct or r.name not in model.family_names]


def _distinct(records: list[Record]) -> list[Record]:
    """One record per distinct fact for everything but outcomes (first mention kept)."""
    seen = set()
    kept = []
    for r in sorted(records, key=lambda r: r.start):
        key = _fact_key(r)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        kept.append(r)
    return kept


def _fact_key(r: Record):
    if r.type == "trial":
        return ("trial", r.name.lower())
    if r.type == "regimen":
        return ("regimen", frozenset(r.drugs), frozenset(r.other))
    if r.type == "her2":
        return ("her2", r.method, r.result, r.threshold)
    if r.type == "biomarker":
        return ("biomarker", r.gene, r.status, r.detail)
    return None
