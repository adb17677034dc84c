"""Outcome figures: a number tied to an efficacy endpoint in the same sentence.

A figure is kept only when an endpoint governs it: the nearest endpoint mention before it (or
just after it, "30% ORR"), with no safety wording in between; so toxicity percentages,
baseline characteristics and prevalence figures are left out. Coordinated endpoints share
their figures in order ("median OS and PFS of 46 and 21 weeks"; "10 and 35 months in arm A and
12 and 37 months in arm B"). Measures follow the gold format: rate, median, hr, or, landmark.
An attachment evx is unsure of gets confidence < 1 and needs_review.
"""

from __future__ import annotations

import re

from pipeline.extract.context import Mention, SentenceView
from pipeline.extract.figures import Figure, find_figures, time_point
from pipeline.records import OutcomeRecord

RATE_ENDPOINTS = {"ORR", "DCR", "CBR", "pCR", "CR", "PR", "SD", "PD"}
TIME_ENDPOINTS = {"PFS", "OS", "TTP", "DoR", "DFS", "EFS", "RFS", "iDFS", "TTF"}
SAFETY = re.compile(
    r"\b(?:adverse|toxicit\w*|grade\s*[≥>]?\s*[1-5]|neutropeni\w*|diarrh\w*|nausea|vomit\w*|fatigue|rash|"
    r"cardiac|cardiotox\w*|hepatotox\w*|neuropath\w*|side[- ]effects?|discontinu\w*|alopecia|an(?:a)?emia|"
    r"thrombocytopeni\w*|febrile|leukopeni\w*|baseline|prevalence|incidence)\b",
    re.IGNORECASE,
)
# Other measured outcomes that take over the figures after them: "breast conservation surgery
# (BCS; 67% vs 68%)", "70% of patients crossed over".
OTHER_MEASURE = re.compile(
    r"\b(?:breast[- ]conserv\w*|conservation surgery|surgery rates?|cross(?:ed)?[- ]?over|compliance|adherence|"
    r"number of (?:patients|women|cases))\b",
    re.IGNORECASE,
)
# A new clause that turns away from the endpoint: "...; however, 70% of patients ...".
CLAUSE_TURN = re.compile(r";\s*(?:however|but|whereas|although|while|in contrast)\b", re.IGNORECASE)
# What a hazard or odds ratio is of, when its own words say so: "hazard ratio for death, 0.81",
# "a 20% lower risk of death (HR 0.80)". Relapse and recurrence are disease-free survival events.
RATIO_EVENT = [
    ("PFS", re.compile(r"\b(?:(?:risk of|for)\s+(?:disease\s+)?progression|progression or death)\b", re.IGNORECASE)),
    ("DFS", re.compile(r"\b(?:(?:risk of|for)\s+(?:an?\s+)?(?:relapse|recurrence|event)|(?:relapse|recurrence) or death)\b",
                       re.IGNORECASE)),
    ("OS", re.compile(r"\b(?:death|dying|mortality)\b", re.IGNORECASE)),
]
# A sentence measuring something else, whose ratios are not the previous sentence's endpoint.
OTHER_QUANTITY = re.compile(r"\b(?:time to|scores?|index|duration of)\b", re.IGNORECASE)
RATIO_EVENT_REACH = 120  # characters before a ratio searched for its event
VERSUS = re.compile(r"\b(?:vs\.?|versus|v\.?|compared with)\s", re.IGNORECASE)
# A new subject after a closed group of figures: "clinical responses (58.6% ... C) and decrease
# in tumor area (61.8% ...": the figures after it are not the endpoint's.
NEW_SUBJECT = re.compile(r"[)\]]\s*,?\s*(?:and|while|whereas|but)\s+(?:the\s+)?[a-z][a-z-]+(?:\s+[a-z][a-z-]+)+\s*(?:[(\[]|$)")
VERB_LIKE = re.compile(r"\b(?:\w+(?:ed|ly)|with|was|were|is|are|than|for|by)\b")
# "Mean PFS was 5.4 months": a mean is not one of the measures evx reports.
MEAN_BEFORE = re.compile(r"\b(?:mean|average)\s*$", re.IGNORECASE)
DEFINITION = re.compile(r"^\s*\((?![^()]*(?:%|\d\s*(?:months?|weeks?|years?)))[^()]*\)")  # holds no figure
COORDINATION = re.compile(r"^\s*(?:,|and|or|/|,\s*and|and/or)\s*$")
DIGIT = re.compile(r"\d")
RATIO_WORD = re.compile(r"(?i:hazard|odds)|\b(?:HR|OR)s?\b")  # all that figures.RATIO(_STATED) start with
RATIO_CUES = ("hazard", "odds")  # one of them (lower case) in every case-insensitive RATIO_WORD match
MAX_GAP = 160  # characters between an endpoint and its figure


def extract_outcomes(view: SentenceView, previous: SentenceView | None = None) -> list[OutcomeRecord]:
    """The outcome figures of ``view``; ``previous`` is the sentence before it in its section,
    whose one endpoint a ratio standing alone may belong to ("... OS ... . HR, 0.68; 95% CI")."""
    text, base = view.text, view.start
    # Cheap exits first: every figure has a digit, and without an endpoint only a hazard or odds
    # ratio can be a record.
    if not DIGIT.search(text) or not (view.endpoints or _names_ratio(view)):
        return []
    endpoints = [_relative(e, base) for e in view.endpoints]
    figures = find_figures(text)
    if not figures or not (endpoints or any(f.kind in ("hr", "or") for f in figures)):
        return []
    earlier = {e.canonical for e in previous.endpoints} if previous is not None and not endpoints else set()
    governed: dict[tuple, list[Figure]] = {}
    following: list[tuple[Figure, Mention]] = []
    last_figure_end: dict[Mention, int] = {}  # endpoint -> end of the last figure it governed
    for figure in figures:
        group = _governing_group(text, endpoints, figure, last_figure_end)
        if group:
            governed.setdefault(tuple(group), []).append(figure)
            last_figure_end[group[-1]] = figure.extent[1]
            continue
        if not endpoints and figure.kind in ("hr", "or") and len(earlier) == 1 and not OTHER_QUANTITY.search(text):
            event = _ratio_event(text, [], figure)
            name = event.canonical if event else next(iter(earlier))
            following.append((figure, Mention(figure.start, figure.start, "", "UNSURE", name)))
            continue
        after = _following_endpoint(text, endpoints, figure)
        if after:
            following.append((figure, after))
        elif figure.kind in ("hr", "or"):
            event = _ratio_event(text, endpoints, figure)
            if event:
                following.append((figure, event))
    records = []
    for group, group_figures in governed.items():
        # Figures of different kinds under one group ("ORR 30% ... 95% CI") are assigned per kind.
        by_kind: dict[str, list[Figure]] = {}
        for f in group_figures:
            by_kind.setdefault(f.kind, []).append(f)
        for kind_figures in by_kind.values():
            k = len(group)
            shared = k > 1 and len(kind_figures) % k == 0
            # "OS and PFS were 46 and 21 weeks" takes turns; "RFS and DDFS were 98% vs 81% and
            # 98% vs 83%" gives each endpoint a run of arm-by-arm figures.
            per_endpoint = len(kind_figures) // k if shared else 1
            runs = shared and per_endpoint > 1 and _paired_by_versus(text, kind_figures, per_endpoint)
            for i, figure in enumerate(kind_figures):
                if not shared:
                    endpoint = group[-1]
                else:
                    endpoint = group[i // per_endpoint] if runs else group[i % k]
                unsure = k > 1 and not shared
                record = _record(view, figure, endpoint, unsure)
                if record:
                    records.append(record)
    for figure, endpoint in following:
        record = _record(view, figure, endpoint, unsure=endpoint.label in ("EVENT", "UNSURE"))
        if record:
            records.append(record)
    records.sort(key=lambda r: r.start)
    return records


def has_ratio_cue(text: str, low: str) -> bool:
    """Whether ``text`` holds "HR" or "OR", or, in ``low`` (its ``lowered`` form), one of
    RATIO_CUES: every RATIO_WORD match does. Like her2.has_her2_cue, true of a document when
    true of any of its sentences."""
    return "HR" in text or "OR" in text or any(cue in low for cue in RATIO_CUES)


def _names_ratio(view: SentenceView) -> bool:
    """Whether RATIO_WORD occurs in the sentence; plain word tests rule most sentences out first."""
    return has_ratio_cue(view.text, view.lowered) and RATIO_WORD.search(view.text) is not None


def _relative(m: Mention, base: int) -> Mention:
    return Mention(m.start - base, m.end - base, m.text, m.label, m.canonical)


def _governing_group(text: str, endpoints: list[Mention], figure: Figure,
                     last_figure_end: dict[Mention, int]) -> list[Mention] | None:
    """The endpoint (or coordinated endpoints) before ``figure`` that it belongs to. The distance
    counts from the endpoint's previous figure, so a list of figures can run on after it."""
    before = [e for e in endpoints if e.end <= figure.extent[0]]
    if not before:
        return None
    last = before[-1]
    # A definition in brackets right after the endpoint is not a new subject: "pCR (grade 1 and 2
    # of Chevallier's classification) was observed in 11.5 and 13%".
    gap = DEFINITION.sub("", text[last.end : figure.start], count=1)
    if SAFETY.search(gap) or OTHER_MEASURE.search(gap) or CLAUSE_TURN.search(gap) or _new_subject(gap):
        return None
    if figure.kind == "duration" and MEAN_BEFORE.search(text[max(0, last.start - 12) : last.start]):
        return None
    if len(gap) > MAX_GAP:
        previous_end = last_figure_end.get(last)
        if previous_end is None or figure.start - previous_end > MAX_GAP:
            return None
    group = [last]
    for e in reversed(before[:-1]):
        if COORDINATION.match(text[e.end : group[0].start]) and e.canonical != group[0].canonical:
            group.insert(0, e)
        else:
            break
    return group


def _new_subject(gap: str) -> bool:
    """A noun phrase after a closed group of figures ("...) and decrease in tumor area ("), not
    a clause going on about the same endpoint ("...) and further increased with X (")."""
    return any(not VERB_LIKE.search(m.group(0)) for m in NEW_SUBJECT.finditer(gap))


def _paired_by_versus(text: str, figures: list[Figure], run: int) -> bool:
    """Whether figures come in runs of ``run`` joined by "vs" ("98% vs 81% and 98% vs 83%")."""
    return all(VERSUS.search(text[figures[i].end : figures[i + 1].start])
               for i in range(len(figures) - 1) if (i + 1) % run)


def _ratio_event(text: str, endpoints: list[Mention], figure: Figure) -> Mention | None:
    """A ratio no endpoint governs: the event its words name ("risk of death" -> OS), else the
    one endpoint its sentence names. Both are readings, so the record is marked for review."""
    window = text[max(0, figure.start - RATIO_EVENT_REACH) : figure.start]
    for name, pattern in RATIO_EVENT:
        m = None
        for m in pattern.finditer(window):
            pass
        if m is not None:
            start = figure.start - len(window) + m.start()
            return Mention(start, start + len(m.group(0)), m.group(0), "EVENT", name)
    names = {e.canonical for e in endpoints}
    if len(names) == 1:
        e = endpoints[0]
        return Mention(e.start, e.end, e.text, "UNSURE", e.canonical)
    return None


def _following_endpoint(text: str, endpoints: list[Mention], figure: Figure) -> Mention | None:
    """'a 30% ORR', '22 (31.9%) achieved objective responses': the endpoint right after."""
    for e in endpoints:
        if e.start >= figure.extent[1]:
            gap = text[figure.extent[1] : e.start]
            if len(gap) <= 30 and not re.search(r"\d|;|\bvs\b|versus", gap) and not SAFETY.search(gap):
                return e
            return None
    return None


def _record(view: SentenceView, figure: Figure, endpoint: Mention, unsure: bool) -> OutcomeRecord | None:
    name = endpoint.canonical
    arm = None
    confidence = 0.6 if unsure else 1.0
    if figure.kind in ("hr", "or"):
        measure = figure.kind
    elif figure.kind == "duration":
        if name not in TIME_ENDPOINTS:
            return None  # "ORR ... 6 months" is not a response rate
        measure = "median"
    elif name in TIME_ENDPOINTS:
        # A percentage of a time-to-event endpoint is a rate at a time point ("3-year OS 87%").
        point = time_point(view.text[: figure.start]) or time_point(view.text[figure.end : figure.end + 40])
        measure, arm = ("landmark", point) if point else ("rate", None)
        if point is None:
            confidence = min(confidence, 0.6)
    else:
        measure = "rate"
    start, end = figure.extent
    base = view.start
    return OutcomeRecord(
        start=base + start,
        end=base + end,
        text=view.text[start:end],
        sentence=view.sentence.index,
        rule=f"outcome.{figure.kind}",
        confidence=confidence,
        needs_review=confidence < 1.0,
        endpoint=name,
        measure=measure,
        value=figure.value,
        value_text=figure.value_text,
        unit=figure.unit if figure.kind in ("percent", "duration") else None,
        ci_low=figure.ci_low,
        ci_high=figure.ci_high,
        ci_text=figure.ci_text,
        count=figure.count,
        total=figure.total,
        p_value=figure.p_value,
        arm=arm,
    )
