"""Extraction stage: ``analyse(document) -> Analysis``.

Segments the document (pipeline.segment), runs the NER (pipeline.extract.nlp), then the
per-sentence extractors, and finally ties figures to trials and regimens across sentences:
a figure belongs to the trial named in its sentence, else in the two sentences before it in the
same section, else, in an abstract that names a single trial, to that trial.
"""

from __future__ import annotations

from pipeline.analysis import Analysis
from pipeline.document import Document
from pipeline.extract.context import SentenceView, lowered, sentence_views
from pipeline.extractor import EXTRACTOR_VERSION, RULES_VERSION  # noqa: F401 - re-exported here
from pipeline.extract.markers import extract_biomarkers, extract_her2, has_her2_cue, has_marker_cue, settle_her2
from pipeline.extract.nlp import build_nlp
from pipeline.extract.outcomes import extract_outcomes, has_ratio_cue
from pipeline.extract.treatments import document_regimen_groups, extract_regimens, nearest_regimen, regimen_drugs
from pipeline.extract.trials import extract_trials, trial_names
from pipeline.records import OutcomeRecord, Record
from pipeline.segment import extractable, segment

TRIAL_LOOKBACK = 2  # sentences
ABSTRACT_LENGTH = 6000  # characters: below this a document is read as one abstract


def analyse(document: Document) -> Analysis:
    # Tables written in the text are read as tables: their lines start sentences, their cells
    # give figures, the sentence extractor of outcomes skips them (imported here: pipeline.tables
    # reads numbers with pipeline.extract's patterns, so either package may be imported first).
    from pipeline.tables.read import sentences_within, table_outcomes
    from pipeline.tables.text import text_tables

    nlp = build_nlp()
    tables = text_tables(document)
    seg = segment(document, nlp, tables)
    views = sentence_views(seg.doc, seg.sentences)
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
        if (view.endpoints or ratio_cue) and view.sentence.index not in in_tables:
            outcomes.extend((view, outcome) for outcome in extract_outcomes(view, previous))
    records = settle_her2(usable, records)
    _attribute(document, views, usable, outcomes, [r for r in records if r.type == "trial"], groups)
    records.extend(o for _, o in outcomes)
    records.extend(table_outcomes(tables, views, usable))
    records = _distinct(records)
    records.sort(key=lambda r: (r.start, r.type))
    return Analysis(seg.sections, seg.sentences, seg.abbreviations, records)


def _attribute(document: Document, views: list[SentenceView], usable: list[SentenceView], outcomes,
               trial_records, groups: dict[int, list]) -> None:
    names = trial_names(usable)
    for record in trial_records:
        record.name = names.display.get(record.name, record.name)
    named = names.trials(t.canonical for v in usable for t in v.trials if t.label != "REGISTRY")
    registries = {t.canonical for v in usable for t in v.trials if t.label == "REGISTRY"}
    # A registry id stands for the named trial it identifies: "NOAH ... registered, ISRCTN...".
    owner = {t.nct: t.name for t in trial_records if t.nct and t.nct != t.name}
    if len(named) == 1:
        owner.update({rid: next(iter(named)) for rid in registries if rid not in owner})
    single_trial = None
    if len(document.text) < ABSTRACT_LENGTH:
        if len(named) == 1:
            single_trial = next(iter(named))
        elif not named and len(registries) == 1:
            single_trial = next(iter(registries))
    for view, outcome in outcomes:
        source = next((v for v in _recent(views, view) if v.trials), None)
        if source is not None:
            mentions = [t for t in source.trials if t.label != "REGISTRY"] or source.trials
            before = [t for t in mentions if t.start <= outcome.start] if source is view else mentions
            name = (before or mentions)[-1].canonical
            outcome.trial = owner.get(name) or names.name_of(name)
        else:
            outcome.trial = single_trial and names.name_of(single_trial)
        outcome.drugs = _regimen_for(views, view, source, groups, outcome)


def _recent(views: list[SentenceView], view: SentenceView):
    """``view``, then the sentences before it in its section, at most TRIAL_LOOKBACK back."""
    i = view.sentence.index
    for j in range(i, max(-1, i - TRIAL_LOOKBACK - 1), -1):
        if views[j].sentence.section != view.sentence.section:
            return
        yield views[j]


def _regimen_for(views: list[SentenceView], view: SentenceView, source: SentenceView | None,
                 groups: dict[int, list], outcome: OutcomeRecord) -> list[str] | None:
    """The drugs of a figure: the regimen of its sentence (the nearest, when it names several),
    else of the sentence naming its trial, else of the closest of the previous sentences in its
    section that names one regimen."""
    recent = list(_recent(views, view))
    candidates = recent[:1] + ([source] if source is not None and source is not view else []) + recent[1:]
    for candidate in candidates:
        found = groups[candidate.sentence.index]
        if len(found) == 1:
            return regimen_drugs(found[0])
        if len(found) > 1 and candidate is view:
            return regimen_drugs(nearest_regimen(found, outcome.start, outcome.end))
        if len(found) > 1:
            return None  # several regimens: which one the figure belongs to is not said here
    return None


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
