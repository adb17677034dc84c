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
COORDINATION = re.compile(r"^\s*(?:,|and|or|/|,\s*and|and/or)\s*$")
MAX_GAP = 160  # characters between an endpoint and its figure


def extract_outcomes(view: SentenceView) -> list[OutcomeRecord]:
    text, base = view.text, view.start
    endpoints = [_relative(e, base) for e in view.endpoints]
    figures = find_figures(text)
    if not endpoints or not figures:
        return []
    governed: dict[tuple, list[Figure]] = {}
    following: list[tuple[Figure, Mention]] = []
    for figure in figures:
        group = _governing_group(text, endpoints, figure)
        if group:
            governed.setdefault(tuple(group), []).append(figure)
            continue
        after = _following_endpoint(text, endpoints, figure)
        if after:
            following.append((figure, after))
    records = []
    for group, group_figures in governed.items():
        # Figures of different kinds under one group ("ORR 30% ... 95% CI") are assigned per kind.
        by_kind: dict[str, list[Figure]] = {}
        for f in group_figures:
            by_kind.setdefault(f.kind, []).append(f)
        for kind_figures in by_kind.values():
            k = len(group)
            cyclic = k > 1 and len(kind_figures) % k == 0
            for i, figure in enumerate(kind_figures):
                endpoint = group[i % k] if cyclic else group[-1]
                unsure = k > 1 and not cyclic
                record = _record(view, figure, endpoint, unsure)
                if record:
                    records.append(record)
    for figure, endpoint in following:
        record = _record(view, figure, endpoint, unsure=False)
        if record:
            records.append(record)
    records.sort(key=lambda r: r.start)
    return records


def _relative(m: Mention, base: int) -> Mention:
    return Mention(m.start - base, m.end - base, m.text, m.label, m.canonical)


def _governing_group(text: str, endpoints: list[Mention], figure: Figure) -> list[Mention] | None:
    before = [e for e in endpoints if e.end <= figure.extent[0]]
    if not before:
        return None
    last = before[-1]
    gap = text[last.end : figure.start]
    if len(gap) > MAX_GAP or SAFETY.search(gap):
        return None
    group = [last]
    for e in reversed(before[:-1]):
        if COORDINATION.match(text[e.end : group[0].start]) and e.canonical != group[0].canonical:
            group.insert(0, e)
        else:
            break
    return group


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
