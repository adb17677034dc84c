"""Outcome figures: a number tied to an efficacy endpoint in the same sentence.

A figure is kept only when an endpoint governs it: the nearest endpoint mention before it (or
just after it, "30% ORR", "67.7% of patients had stable disease"), with no safety wording in
between; so toxicity percentages, baseline characteristics and prevalence figures are left out.
Coordinated endpoints share their figures in order ("median OS and PFS of 46 and 21 weeks"; "10
and 35 months in arm A and 12 and 37 months in arm B"). A verb states an endpoint too ("4 of 14
patients responded (28.6%)"), and after a response "complete" and "partial" alone name CR and PR
("one of which was complete (4%)"). A median after a response with words of lasting between is
its duration ("responses lasted a median of 5.9 months"). Measures follow the gold format: rate,
median, hr, or, landmark, and count (``counts``: "four partial responses", "no complete responses
were seen").

Each record's rule is "outcome.<figure>.<reading>": the pattern that found the number
(``Figure.rule``) and how it was tied to its endpoint; both parts, with an example and the
confidence of the reading, are listed in ``pipeline/data/outcome_rules.json``. A reading evx is
unsure of gets confidence < 1 and needs_review. Word lists are data (``outcome_words.json``,
``endpoints.json``).
"""

from __future__ import annotations

import bisect
import re

from pipeline.extract.context import Mention, MentionIndex, SentenceView, has_digit
from pipeline.extract.counts import BARE, RESPONSE, RESPONSE_TYPE, VERB, Count, read_counts, response_types
from pipeline.extract.figures import Figure, find_figures, time_point, time_point_before
from pipeline.extract.lexicon import load_endpoint_vocabulary
from pipeline.extract.outcome_vocabulary import rule_catalogue, words
from pipeline.records import OutcomeRecord

ENDPOINTS = load_endpoint_vocabulary()
RATE_ENDPOINTS = ENDPOINTS.of_measure("rate")
TIME_ENDPOINTS = ENDPOINTS.of_measure("time")
RESPONDING = ENDPOINTS.lasting  # endpoints whose lasting is the duration of response
RULES = rule_catalogue()
SAFETY = words("safety").pattern
# Other measured outcomes that take over the figures after them: "breast conservation surgery
# (BCS; 67% vs 68%)", "70% of patients crossed over".
OTHER_MEASURE = words("other_measure").pattern
TURN = words("clause_turn").alternation
# A new clause that turns away from the endpoint: "...; however, 70% of patients ...".
CLAUSE_TURN = re.compile(rf";\s*{TURN}\b", re.IGNORECASE)
# The same after a comma, between a figure and an endpoint after it: "9.7% of them responded,
# although disease control reached 77.4%".
COMMA_TURN = re.compile(rf"[,;]\s*{TURN}\b", re.IGNORECASE)
# A sentence break the segmenter missed ("... cohort C. Drug-related ..."): no endpoint governs
# across it. "vs.", "et al." and "approx." are not breaks.
SENTENCE_BREAK = re.compile(r"(?:\b(?!(?:vs|v|al|approx|ca|resp|no|fig)\.)\w+|[)\]])\.\s+[A-Z][a-z]", re.IGNORECASE)
# What a hazard or odds ratio is of, when its own words say so: "hazard ratio for death, 0.81",
# "a 20% lower risk of death (HR 0.80)" (endpoints.json, ratio_events).
RATIO_EVENT = ENDPOINTS.ratio_events
# A sentence measuring something else, whose ratios are not the previous sentence's endpoint.
OTHER_QUANTITY = words("other_quantity").pattern
RATIO_EVENT_REACH = 120  # characters before a ratio searched for its event
VERSUS = re.compile(r"\b(?:vs\.?|versus|v\.?|compared with)\s", re.IGNORECASE)
# A new subject after a closed group of figures: "clinical responses (58.6% ... C) and decrease
# in tumor area (61.8% ...": the figures after it are not the endpoint's.
NEW_SUBJECT = re.compile(r"[)\]]\s*,?\s*(?:and|while|whereas|but)\s+(?:the\s+)?[a-z][a-z-]+(?:\s+[a-z][a-z-]+)+\s*(?:[(\[]|$)")
VERB_LIKE = re.compile(r"\b(?:\w+(?:ed|ly)|with|was|were|is|are|than|for|by)\b")
# "Mean PFS was 5.4 months": a mean is not one of the measures evx reports.
MEAN_BEFORE = re.compile(rf"{words('mean').pattern.pattern}\s*$", re.IGNORECASE)
DEFINITION = re.compile(r"^\s*\((?![^()]*(?:%|\d\s*(?:months?|weeks?|years?)))[^()]*\)")  # holds no figure
COORDINATION = re.compile(r"^\s*(?:,|and|or|/|,\s*and|and/or)\s*$")
# A verb stating an endpoint governs the figure in the bracket right after it: "responded (28.6%".
VERB_BRACKET = re.compile(r"\s*[(\[]\s*")
NEGATED_VERB = re.compile(rf"{words('negated_verb').alternation}\s+(?:\w+\s+)?\Z", re.IGNORECASE)
PRIOR_RESPONSE = re.compile(rf"\s+to\s+(?:the\s+|their\s+|a\s+)?{words('prior_response').alternation}\b", re.IGNORECASE)
# "67.7% of patients had stable disease", "9.7% of them responded", "(30.3%; ...) had responded":
# the figure's own clause names its endpoint after it.
PATIENT = words("patient_nouns").alternation
POSSESS = words("possession_verbs").alternation
STATED_AFTER = re.compile(
    rf"\s*(?:of\s+(?:(?:the|all|these|those|them|evaluable|assessable|treated)\s+)*(?:(?:{PATIENT})\s+)?)?"
    rf"(?:(?:who|that)\s+)?(?P<negated>(?:{words('negated_verb').alternation})\s+|did\s+not\s+)?(?:(?:had|have|has)\s+)?"
    rf"(?:(?:{POSSESS})\s+(?:an?\s+)?(?:(?:{words('endpoint_adjectives').alternation})\s+)?)?",
    re.IGNORECASE)
NOT_STATED = Mention(0, 0, "", "NOT", "")  # "30% of patients did not respond": no figure of the endpoint
STATED_AFTER_REACH = 40  # characters between a figure and the endpoint its clause names after it
RESPONSE_LASTING = words("response_lasting").pattern
RATIO_WORD = re.compile(r"(?i:hazard|odds)|\b(?:HR|OR)s?\b")  # all that figures.RATIO(_STATED) start with
RATIO_CUES = ("hazard", "odds")  # one of them (lower case) in every case-insensitive RATIO_WORD match
MAX_GAP = 160  # characters between an endpoint and its figure


def extract_outcomes(view: SentenceView, previous: SentenceView | None = None) -> list[OutcomeRecord]:
    """The outcome figures of ``view``; ``previous`` is the sentence before it in its section,
    whose one endpoint a ratio standing alone may belong to ("... OS ... . HR, 0.68; 95% CI"), and
    whose response "complete" or "partial" may refer to ("One of these was complete (4%)")."""
    text, base = view.text, view.start
    digit = has_digit(text)
    response_before = previous is not None and any(e.canonical == RESPONSE for e in previous.endpoints)
    # Cheap exits first: without an endpoint only a hazard or odds ratio can be a record, or a
    # response type after a sentence naming a response; without a digit, only a count in words.
    if not view.endpoints and not (digit and _names_ratio(view)) and not response_before:
        return []
    endpoints = [_relative(e, base) for e in view.endpoints]
    types = response_types(text, endpoints, response_before)
    if not endpoints and not types and not (digit and _names_ratio(view)):
        return []
    if types:  # (the view's endpoints are in text order)
        endpoints = sorted([*endpoints, *(t.mention for t in types)], key=lambda e: e.start)
    figures = find_figures(text) if digit else []
    counts = read_counts(text, endpoints, figures, types, response_before) if endpoints else []
    records = [_count_record(view, c) for c in counts]
    # "response" alone names no figure's endpoint
    endpoints = MentionIndex([e for e in endpoints if e.label != BARE])
    if not figures or not (endpoints or any(f.kind in ("hr", "or") for f in figures)):
        records.sort(key=lambda r: r.start)
        return records
    earlier = {e.canonical for e in previous.endpoints if e.label not in (BARE, VERB)} \
        if previous is not None and not endpoints else set()
    governed: dict[tuple, list[Figure]] = {}
    following: list[tuple[Figure, Mention, str]] = []
    last_figure_end: dict[Mention, int] = {}  # endpoint -> end of the last figure it governed
    for figure in figures:
        stated = _stated_after(text, endpoints, figure)
        if stated is NOT_STATED:
            continue
        if stated:
            following.append((figure, stated, "endpoint_follows"))
            continue
        group = _governing_group(text, endpoints, figure, last_figure_end)
        if group:
            governed.setdefault(tuple(group), []).append(figure)
            last_figure_end[group[-1]] = figure.extent[1]
            continue
        if not endpoints and figure.kind in ("hr", "or") and len(earlier) == 1 and not OTHER_QUANTITY.search(text):
            event = _ratio_event(text, [], figure)
            if event:
                following.append((figure, event, "event_words"))
            else:
                mention = Mention(figure.start, figure.start, "", "UNSURE", next(iter(earlier)))
                following.append((figure, mention, "previous_sentence"))
            continue
        after = _following_endpoint(text, endpoints, figure)
        if after:
            following.append((figure, after, "endpoint_follows"))
        elif figure.kind in ("hr", "or"):
            event = _ratio_event(text, endpoints, figure)
            if event:
                following.append((figure, event, "event_words" if event.label == "EVENT" else "sole_endpoint"))
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
                if k > 1:
                    reading = "coordinated" if shared else "coordinated_unsure"
                else:
                    reading = {VERB: "after_endpoint_verb", RESPONSE_TYPE: "response_type"}.get(endpoint.label,
                                                                                                "after_endpoint")
                record = _record(view, figure, endpoint, reading)
                if record:
                    records.append(record)
    for figure, endpoint, reading in following:
        record = _record(view, figure, endpoint, reading)
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


def _governing_group(text: str, endpoints: MentionIndex, figure: Figure,
                     last_figure_end: dict[Mention, int]) -> list[Mention] | None:
    """The endpoint (or coordinated endpoints) before ``figure`` that it belongs to. The distance
    counts from the endpoint's previous figure, so a list of figures can run on after it."""
    # A verb governs only the figure in the bracket right after it and the list going on from
    # there ("responded (28.6%; ...), as did 27 of 68 ... (39.7%)"); otherwise it is passed over.
    # A verb or response type inside the figure's count governs it too: "4 of 14 patients ...
    # responded (28.6%", "seven were partial (26%".
    before = _mentions_before(text, endpoints, figure, last_figure_end)
    last = next(before, None)
    if last is None:
        return None
    # The words between the endpoint, or the last figure it governed, and this figure. A
    # definition in brackets right after the endpoint is not a new subject: "pCR (grade 1 and 2
    # of Chevallier's classification) was observed in 11.5 and 13%".
    previous_end = last_figure_end.get(last)
    if previous_end is None:
        gap = text[last.end : figure.start]
        if "(" in gap:
            gap = DEFINITION.sub("", gap, count=1)
    else:
        gap = text[previous_end : figure.start]
    # (white space alone, "ORR 30%", holds none of the words and signs these patterns need)
    if gap.strip() and (SAFETY.search(gap) or OTHER_MEASURE.search(gap) or CLAUSE_TURN.search(gap)
                        or _new_subject(gap) or SENTENCE_BREAK.search(gap)):
        return None
    if figure.kind == "duration" and MEAN_BEFORE.search(text[max(0, last.start - 12) : last.start]):
        return None
    if figure.start - last.end > MAX_GAP and (previous_end is None or figure.start - previous_end > MAX_GAP):
        return None
    group = [last]
    for e in before:
        if last.label in (VERB, RESPONSE_TYPE) or e.label in (VERB, RESPONSE_TYPE):
            break  # only endpoint names are coordinated: "one of which was complete, and responses"
        if COORDINATION.match(text[e.end : group[0].start]) and e.canonical != group[0].canonical:
            group.insert(0, e)
        else:
            break
    return group


def _mentions_before(text: str, endpoints: MentionIndex, figure: Figure, last_figure_end: dict[Mention, int]):
    """The mentions that may govern ``figure``, nearest first."""
    mentions = endpoints.mentions
    for i in range(bisect.bisect_right(endpoints.ends, figure.start) - 1, -1, -1):
        e = mentions[i]
        if e.end > figure.extent[0] and e.label not in (VERB, RESPONSE_TYPE):
            continue
        if e.label == VERB and not _verb_governs(text, e, figure, last_figure_end):
            continue
        yield e


def _verb_governs(text: str, verb: Mention, figure: Figure, last_figure_end: dict[Mention, int]) -> bool:
    """Whether the verb ``verb`` ("responded") may govern ``figure``: it stands right before the
    figure's bracket, or governed the figure before in the list; "did not respond" and
    "responded to prior therapy" govern nothing."""
    if NEGATED_VERB.search(text, max(0, verb.start - 20), verb.start) or PRIOR_RESPONSE.match(text, verb.end):
        return False
    if verb in last_figure_end:
        return figure.start - last_figure_end[verb] <= MAX_GAP
    opening = VERB_BRACKET.fullmatch(text, verb.end, figure.start)
    return opening is not None and text[verb.end : figure.start].strip() != ""


def _stated_after(text: str, endpoints: MentionIndex, figure: Figure) -> Mention | None:
    """The endpoint the figure's own clause names right after it: "67.7% (95% CI: 50 to 85) of
    patients had stable disease", "9.7% of them responded", "(30.3%; 95% CI 17-47) had
    responded". Between them only "of (the) patients", "who", and a verb such as "had"; so
    "ORR 38.1% DCR 80%" (nothing between) is not read so. NOT_STATED when the clause says the
    figure is not of it: "30% of patients did not respond", "10% had responded to prior therapy"."""
    end = figure.extent[1]
    e = endpoints.first_from(end)
    if e is None or e.start - end > STATED_AFTER_REACH or e.label == RESPONSE_TYPE:
        return None
    gap = text[end : e.start]
    stated = STATED_AFTER.fullmatch(gap) if gap.strip() else None
    if stated is None:
        return None
    if stated.group("negated") or e.label == VERB and PRIOR_RESPONSE.match(text, e.end):
        return NOT_STATED
    return e


def _new_subject(gap: str) -> bool:
    """A noun phrase after a closed group of figures ("...) and decrease in tumor area ("), not
    a clause going on about the same endpoint ("...) and further increased with X (")."""
    return any(not VERB_LIKE.search(m.group(0)) for m in NEW_SUBJECT.finditer(gap))


def _paired_by_versus(text: str, figures: list[Figure], run: int) -> bool:
    """Whether figures come in runs of ``run`` joined by "vs" ("98% vs 81% and 98% vs 83%")."""
    return all(VERSUS.search(text[figures[i].end : figures[i + 1].start])
               for i in range(len(figures) - 1) if (i + 1) % run)


def _ratio_event(text: str, endpoints: MentionIndex | list[Mention], figure: Figure) -> Mention | None:
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
        e = next(iter(endpoints))
        return Mention(e.start, e.end, e.text, "UNSURE", e.canonical)
    return None


def _following_endpoint(text: str, endpoints: MentionIndex, figure: Figure) -> Mention | None:
    """'a 30% ORR', '22 (31.9%) achieved objective responses': the endpoint right after."""
    e = endpoints.first_from(figure.extent[1])
    if e is None:
        return None
    gap = text[figure.extent[1] : e.start]
    if len(gap) <= 30 and not re.search(r"\d|;|\bvs\b|versus", gap) and not SAFETY.search(gap) \
            and not COMMA_TURN.search(gap) and e.label != RESPONSE_TYPE:
        if e.label == VERB and (NEGATED_VERB.search(text, max(0, e.start - 20), e.start)
                                or PRIOR_RESPONSE.match(text, e.end)):
            return None
        return e
    return None


def _record(view: SentenceView, figure: Figure, endpoint: Mention, reading: str) -> OutcomeRecord | None:
    name = endpoint.canonical
    arm = None
    confidence = RULES.confidence(reading)
    if figure.kind in ("hr", "or"):
        measure = figure.kind
    elif figure.kind == "duration":
        if name not in TIME_ENDPOINTS:
            # "ORR ... 6 months" is not a response rate; "responses lasted a median of 5.9
            # months" is the duration of response.
            if name not in RESPONDING or endpoint.end > figure.start or not RESPONSE_LASTING.search(
                    view.text, endpoint.end, figure.start):
                return None
            name, reading = ENDPOINTS.response_duration, "response_lasting"
            confidence = min(confidence, RULES.confidence(reading))
        measure = "median"
    elif name in TIME_ENDPOINTS:
        # A percentage of a time-to-event endpoint is a rate at a time point ("3-year OS 87%").
        point = time_point_before(view.text, figure.start) or time_point(view.text[figure.end : figure.end + 40])
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
        rule=RULES.rule(figure.rule, reading),
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


def _count_record(view: SentenceView, count: Count) -> OutcomeRecord:
    """A count of patients (measure "count"): value and ``count`` are the count, unit none."""
    confidence = RULES.confidence(count.reading)
    return OutcomeRecord(
        start=view.start + count.start,
        end=view.start + count.end,
        text=view.text[count.start : count.end],
        sentence=view.sentence.index,
        rule=RULES.rule("count", count.reading),
        confidence=confidence,
        needs_review=confidence < 1.0,
        endpoint=count.endpoint,
        measure="count",
        value=float(count.count),
        value_text=count.value_text,
        count=count.count,
        total=count.total,
        arm=count.arm,
    )
