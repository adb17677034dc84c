"""Counts of patients with an outcome, and "complete"/"partial" standing for a kind of response.

GOLD_FORMAT.md: measure "count" is a count of patients given without a percentage; its value is
the count, its unit null. A count given with a percentage ("four partial responses (15%)") is
that rate's count instead. Each reading below is one rule (``outcome.count.<reading>``, listed with
an example in ``pipeline/data/outcome_rules.json``); its words come from ``outcome_words.json``:

- negated: "no complete responses were seen", "with no complete responses:", "No objective
  response occurred in cohort B or cohort C" (one record per coordinated group, its label the arm)
- none_of: "none of the 15 patients in cohort B responded" (count 0 of 15)
- neither_nor: "Neither cohort B (n = 15) nor cohort C (n = 18) produced a single response"
- elliptic_none: "..., whereas a matched cohort had none", "12 of 30 patients responded, ... and
  none of the 20 patients in cohort C" (the response named before)
- uniform: "made up entirely of partial responses" (no complete response)
- before_endpoint: "four partial responses", "the T-DXd arm included 11 complete responses"
- patients_had: "Eleven patients had stable disease", "1 X- and 1 Y-treated patient had PD"
- seen_in: "Objective response was seen in 8 X-, 6 Y-, and 4 Z-treated patients", "Best
  response was partial response (PR) in 4 pts"
- short_form: "Best response: PR 15, SD 18, PD 7", "4 PR and 7 SD" after a response was named
  (short forms that also mean other things, "PR" and "SD", only count there)
- response_type: "one of which was complete", "two of them completely", "One of these was
  complete (4%; ...)" after a response was named, in the sentence or the one before.

Only response-type endpoints (measure "rate" in endpoints.json: ORR, CR, PR, SD...) are counted.
Every pattern here is an alternation of words with bounded repetitions, run on windows of a
bounded number of characters around an endpoint mention, so the cost grows linearly with the text.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from operator import itemgetter

from pipeline.extract.context import Mention, MentionIndex, holds_any
from pipeline.extract.figures import COUNT, THRESHOLD_BEFORE, Figure, clause_before, count_value, is_design_figure
from pipeline.extract.lexicon import _is_short_form, load_endpoint_vocabulary
from pipeline.extract.outcome_vocabulary import words

ENDPOINTS = load_endpoint_vocabulary()
COUNTED = ENDPOINTS.of_measure("rate")
RESPONSE = ENDPOINTS.response  # what "responses" name, the antecedent of "one of which was complete"
NONE_COUNT_ENDPOINT = ENDPOINTS.none_if_all_partial  # what "entirely partial" responses have none of
RESPONSE_TYPE = "RESPONSE_TYPE"  # label of "complete"/"partial" standing for CR/PR
VERB = "ENDPOINT_VERB"  # label the NER gives "responded" (nlp.ENDPOINT_VERB)
BARE = "COUNT_WORD"  # label of "response" alone (nlp.COUNT_WORD), read only by the count readings

ADJ = words("endpoint_adjectives").alternation
PATIENT = words("patient_nouns").alternation
POSSESS = words("possession_verbs").alternation
WITNESS = words("witness_verbs").alternation
NEG = words("negators").alternation
GROUP_NOUN = words("group_nouns").alternation
ANAPHORA = words("anaphora").alternation
UNIFORM = words("uniform").alternation
I = re.IGNORECASE

WINDOW = 160  # characters searched before or after a mention
ADJECTIVES = rf"(?:(?:{ADJ})\s+){{0,2}}"
# One item of a list of counts: "8 afatinib-", "1 trastuzumab-treated", "8 of 27", "Eleven".
ITEM = rf"{COUNT}(?:\s+of\s+(?:the\s+)?\d+)?(?:\s+(?!(?:and|or|of)\b)[A-Za-z][\w+/-]*){{0,2}}"
ITEM_PARTS = re.compile(rf"({COUNT})(?:\s+of\s+(?:the\s+)?(\d+))?((?:\s+(?!(?:and|or|of)\b)[A-Za-z][\w+/-]*){{0,2}})", I)
# A list of counts ends with "and": "8 X-, 6 Y-, and 4 Z-treated" (not "10 centers enrolled, 231").
LIST = rf"{ITEM}(?:(?:\s*,\s*{ITEM}){{0,5}}\s*,?\s+and\s+{ITEM})?"
# A group and its label: "cohort B (n = 15)", "the IHC 1+ cohort C", "the T-DXd arm".
LABEL = r"(?-i:[A-Z0-9][\w+]*)(?!\w)"  # "B", "A+B", "2": a capital letter or a digit first, in any case of the rest
GROUP_LABEL = rf"(?:{GROUP_NOUN})\s+{LABEL}"
GROUP_ITEM = (rf"(?<![\w+/-])(?:the\s+)?(?:(?!(?:nor|or|and)\b)[\w+/-]+\s+){{0,3}}?(?:{GROUP_NOUN})(?:\s+{LABEL})?"
              rf"(?:\s*[(\[]\s*n\s*=\s*\d+\s*[)\]])?")
GROUP_CORE = re.compile(rf"(?<![\w+/-])(?:{GROUP_LABEL}|(?!(?:or|and|nor|the|a|an)\b)[\w+/-]+\s+(?:{GROUP_NOUN})(?!\w))", I)
LABELLED_GROUP = re.compile(rf"(?<![\w+/-]){GROUP_LABEL}", I)
GROUP_SIZE = re.compile(r"[(\[]\s*n\s*=\s*(\d+)\s*[)\]]", I)
GROUPS_AFTER = re.compile(rf"\s+(?:in|among)\s+({GROUP_ITEM}(?:(?:\s*,\s*|\s+(?:or|and|nor)\s+){GROUP_ITEM}){{0,4}})", I)
GROUP_ITEMS = re.compile(GROUP_ITEM, I)
AMONG_PATIENTS = re.compile(rf"\s+(?:in|among)\s+(?:the\s+|all\s+)?(\d+)\s+(?:[\w+/-]+\s+)?(?:{PATIENT})\b", I)

# Text before a mention (matched at the end of a window)
COUNT_BEFORE = re.compile(rf"(?<![\w.,/=-])({COUNT})\s+{ADJECTIVES}\Z", I)
SUBJECT_GROUP = re.compile(rf"(?:the\s+)?({GROUP_CORE.pattern})\s+(?:{POSSESS})\s+\Z", I)
# "patients in cohort A", "patients with RAS wild-type tumours": where the patients counted are.
PATIENTS_WHERE = rf"(?:\s+{words('where_prepositions').alternation}\s+(?:(?!(?:who|that)\b)[\w+/-]+\s+){{0,3}}?[\w+/-]+)?"
PATIENTS_HAD = re.compile(
    rf"(?<![\w.,/=-])({LIST})\s+(?:{PATIENT})({PATIENTS_WHERE})(?:\s+(?:who|that))?\s+(?:{POSSESS})\s+(?:an?\s+|any\s+)?"
    rf"{ADJECTIVES}\Z", I)
PATIENTS_VERB = re.compile(rf"(?<![\w.,/=-])({LIST})\s+(?:{PATIENT})({PATIENTS_WHERE})(?:\s+(?:who|that))?(?:\s+had)?\s+\Z", I)
NEGATED_BEFORE = re.compile(rf"(?<!\w)({NEG})\s+{ADJECTIVES}\Z", I)
SUBGROUP_BEFORE = re.compile(
    rf"(?:{PATIENT}|{words('subgroup_nouns').alternation})\s+{words('subgroup_prepositions').alternation}\s+\Z", I)
UNIFORM_BEFORE = re.compile(rf"(?<!\w)(?:{UNIFORM})\s+(?:of\s+)?{ADJECTIVES}\Z", I)
COPULA_BEFORE = re.compile(r"\b(?:was|were)\s+\Z", I)
LABEL_OR_LIMIT_BEFORE = re.compile(rf"(?:\b(?:{words('label_nouns').alternation}|of|n)|[=<>≤≥])\s*\Z", I)
DENOMINATOR_BEFORE = re.compile(r"\b(?:of|among|in)\s+(?:the\s+|all\s+|these\s+)?\Z", I)
# Text after a mention (matched at its end)
DEFINITION = r"(?:\s*[(\[][^()\[\]]{1,20}[)\]])?"
SEEN_IN = re.compile(
    rf"{DEFINITION}\s+(?:(?:was|were|is|are|has\s+been|have\s+been|had\s+been)\s+)?(?:{WITNESS})\s+(?:in|among)\s+"
    rf"(?:the\s+|a\s+total\s+of\s+)?({LIST})\s+(?:{PATIENT})\b", I)
PREDICATE_IN = re.compile(rf"{DEFINITION}\s+(?:in|among)\s+({LIST})\s+(?:{PATIENT})\b", I)
WITNESSED = re.compile(
    rf"\s+(?:(?:was|were|is|are|has\s+been|have\s+been|had\s+been|could\s+be|can\s+be)\s+)?(?:{WITNESS})\b", I)
CLAUSE_END = re.compile(r"\s*(?:[,.;:)\]]|\Z)")
PERCENT_AFTER = re.compile(r"\s*[(\[]\s*\d+(?:[.·]\d+)?\s*%")
SHORT_FORM_JOIN = re.compile(r"\s*(?:[,;/]\s*(?:and\s+)?|\s+and\s+|\s)\s*")  # between "CR 0" and "PR 5"
RESPONSE_CUE_GAP = re.compile(r"\s*(?:[:=]|,|was|were|of)?\s*", I)  # "Best response: PR 15"
# "PR 15", "SD: 18", "CR n = 0" (not "PR 1+", "SD 5.2", "PD 7 months").
SHORT_FORM_COUNT = re.compile(
    r"\s*+(?:[:=]\s*+)?(?:n\s*+=\s*+)?(\d+)(?![.,·]\d)(?!\s*(?:%|[-–/]\s*\d|\+|mg|months?|mo\b|weeks?|wks?|years?|days?))", I)
# Free-standing phrases
RESPONSE_TYPE_WORDS = "|".join(map(re.escape, ENDPOINTS.response_types))
RESPONSE_TYPE_PHRASE = re.compile(
    rf"(?<![\w.,/-])({COUNT})\s+(?:of\s+(?:{ANAPHORA})\s+)?(?:(?:was|were|being)\s+)?({RESPONSE_TYPE_WORDS})(?:ly)?"
    rf"(?=\s*(?:[,;.:)(\[]|and\b|or\b|\Z))", I)
ALL_PARTIAL = re.compile(
    r"\ball\s+(?:of\s+(?:them|which|these|those)\s+|(?:the\s+)?(?:confirmed\s+)?responses\s+)?(?:were|being)\s+partial\b", I)
NONE_OF = re.compile(r"\bnone\s+of\s+(?:the\s+|these\s+|those\s+|them\b)?\s*(?:(\d+)\s+)?", I)
BARE_RESPONSE = re.compile(
    r"\bresponses?\b(?=\s*(?:[,.;:)\]]|\Z|(?:was|were|is|are|has|have|had|occurred|in|among|to|with|after)\b))", I)
# What may follow "none of the 20" when the clause ends there: "patients in cohort C".
NONE_OF_REST = re.compile(
    rf"(?:(?:{PATIENT})\b)?(?:\s*\b(?:in|with|among)\s+([^,.;:()]{{1,40}}?))?(?=\s*(?:[,.;:)]|\Z|(?:and|but|whereas)\b))", I)
HAD_NONE = re.compile(rf"(?<!\w)(?:{POSSESS})\s+none\b(?!\s+of)|\bnone\s+(?:did|responded)\b", I)
NEITHER_NOR = re.compile(r"\bneither\s+([^;:.]{1,80}?)\s+nor\s+([^;:.]{1,80}?)(?=\s+(?:" + POSSESS + r"|responded)\b)", I)
BEFORE_NEITHER_ENDPOINT = re.compile(rf"\s+(?:{POSSESS})\s+(?:a\s+single\s+|any\s+|an?\s+)?{ADJECTIVES}\Z", I)
POSSESSED_BEFORE = re.compile(rf"(?<!\w)(?:{POSSESS})\s+(?:an?\s+|any\s+)?{ADJECTIVES}\Z", I)


@dataclass
class Count:
    """A count read from a sentence (offsets within it)."""

    endpoint: str
    count: int
    start: int
    end: int
    value_text: str  # the words that give the count: "four", "no", "Neither", "entirely"
    reading: str
    total: int | None = None
    arm: str | None = None


@dataclass
class ResponseType:
    """"complete" in "one of which was complete": a mention of CR, with its count."""

    mention: Mention
    count: int
    number_start: int
    number_text: str


def response_types(text: str, mentions: list[Mention], response_before: bool) -> list[ResponseType]:
    """"complete"/"partial" standing for CR/PR after a response was named: earlier in the
    sentence, or (``response_before``) in the sentence before when this one names no endpoint
    before it."""
    low = text.lower()
    if not holds_any(low, ENDPOINTS.response_types):
        return []
    found = []
    first_end = min((e.end for e in mentions), default=len(text) + 1)
    first_response_end = min((e.end for e in mentions if e.canonical == RESPONSE), default=len(text) + 1)
    for m in RESPONSE_TYPE_PHRASE.finditer(text):
        if not (first_response_end <= m.start() or (response_before and first_end > m.start())):
            continue
        canonical = ENDPOINTS.response_types[m.group(2).lower()]
        mention = Mention(m.start(2), m.end(), m.group(0)[m.start(2) - m.start():], RESPONSE_TYPE, canonical)
        found.append(ResponseType(mention, count_value(m.group(1)), m.start(1), m.group(1)))
    return found


def read_counts(text: str, mentions: list[Mention], figures: list[Figure],
                types: list[ResponseType], response_before: bool) -> list[Count]:
    """The counts of the sentence ``text``. A count that a percentage follows becomes that
    figure's ``count`` (the figure is changed) instead of a Count."""
    figure_spans = [(f.extent[0], f.extent[1], None) for f in figures]  # (as they are now)
    taken: Spans | None = None  # indexed at the first count: most sentences have none
    kept = Spans()
    counts: list[Count] = []

    def add(count: Count) -> None:
        """Keep ``count`` unless it overlaps a figure or another reading's count (the records of
        one reading for coordinated groups overlap), or is a design's assumption."""
        nonlocal taken
        if taken is None:
            taken = Spans(figure_spans)
        start, end = count.start, count.end
        if taken.overlapping(start, end) or is_design_figure(text, start, end):
            return
        if any(c.reading != count.reading for c in kept.overlapping(start, end)):
            return
        counts.append(count)
        kept.add(start, end, count)

    low = text.lower()
    counted = [m for m in mentions if m.canonical in COUNTED and m.label not in (RESPONSE_TYPE, BARE)]
    counted = MentionIndex([*counted, *_bare_responses(text, low, counted)])
    nouns = MentionIndex([m for m in counted if m.label != VERB and not m.text.lower().endswith(("rate", "rates"))])
    by_start = sorted((f for f in figures if f.kind == "percent"), key=lambda f: f.start)
    figures = FigureIndex(by_start)
    first_response_end = min((e.end for e in mentions if e.canonical == RESPONSE), default=len(text) + 1)
    for m in nouns:
        before = text[max(0, m.start - WINDOW) : m.start]
        offset = m.start - len(before)
        after_start = m.end
        # (the readings of the words before need some: "ORR 30%" at the start of a sentence has none)
        if before and not before.isspace():
            _negated(text, m, before, offset, add)
            _uniform(m, before, offset, response_before or first_response_end <= m.start, add)
            if _count_before(text, m, before, offset, figures, add):
                continue
            if _patients_had(text, m, before, offset, PATIENTS_HAD, figures, add):
                continue
        _seen_in(text, m, before, after_start, figures, add)
    for m in counted:
        if m.label == VERB:
            before = text[max(0, m.start - WINDOW) : m.start]
            _patients_had(text, m, before, m.start - len(before), PATIENTS_VERB, figures, add)
    if first_response_end <= len(text) or response_before:
        _short_forms(text, mentions, figures, add)
    # (in this order: a count overlapping an earlier reading's is not kept)
    if "none" in low:
        _none_of(text, counted, add)
    if "neither" in low:
        _neither_nor(text, counted, add)
    if "none" in low:
        _had_none(text, nouns, add)
    if "partial" in low and first_response_end <= len(text):
        for a in ALL_PARTIAL.finditer(text):
            add(Count(NONE_COUNT_ENDPOINT, 0, a.start(), a.end(), a.group(0).split()[0], "uniform"))
    for t in types:
        figure = _percent_right_after(text, t.mention.end, figures)
        if figure is not None:
            if figure.count is None:
                figure.count = t.count
                figure.extent[0] = min(figure.extent[0], t.number_start)
            continue
        add(Count(t.mention.canonical, t.count, t.number_start, t.mention.end, t.number_text, "response_type"))
    counts.sort(key=lambda c: (c.start, c.end))
    return counts


def _bare_responses(text: str, low: str, mentions: list[Mention]) -> list[Mention]:
    """"response" alone ("no response was seen", "a single response"), which the lexicon does
    not tag (it would tie figures to "response evaluation"): a response to count, when what
    follows ends the clause or is a verb or preposition."""
    if "respons" not in low:  # (``low``: the text in lower case)
        return []
    index = MentionIndex(mentions)
    return [Mention(m.start(), m.end(), m.group(0), BARE, RESPONSE) for m in BARE_RESPONSE.finditer(text)
            if index.covering(m.start()) is None]


_span_key = itemgetter(0, 1)


class Spans:
    """Character spans, with what each stands for, asked for those overlapping a span: a
    logarithmic look-up (spans are short: at most ``longest`` characters)."""

    def __init__(self, spans=()):
        self.spans = sorted(spans, key=_span_key) if spans else []
        self.starts = [span[0] for span in self.spans]
        self.longest = max([b - a for a, b, _ in self.spans]) if self.spans else 0

    def add(self, start: int, end: int, what) -> None:
        i = bisect.bisect_right(self.starts, start)
        self.starts.insert(i, start)
        self.spans.insert(i, (start, end, what))
        self.longest = max(self.longest, end - start)

    def overlapping(self, start: int, end: int) -> list:
        first = bisect.bisect_left(self.starts, start - self.longest)
        last = bisect.bisect_left(self.starts, end)
        return [what for a, b, what in self.spans[first:last] if b > start]


class FigureIndex:
    """The percentages of a sentence by position."""

    def __init__(self, figures: list[Figure]):
        self.figures = figures
        self.starts = [f.start for f in figures]

    def first_after(self, pos: int) -> Figure | None:
        i = bisect.bisect_right(self.starts, pos)
        return self.figures[i] if i < len(self.figures) else None


def _percent_right_after(text: str, pos: int, figures: FigureIndex) -> Figure | None:
    """The percentage in a bracket right at ``pos``: "complete (4%", "responses (15%"."""
    m = PERCENT_AFTER.match(text, pos)
    if not m:
        return None
    figure = figures.first_after(pos)
    return figure if figure is not None and figure.start < m.end() else None


def _count_before(text, m: Mention, before: str, offset: int, figures, add) -> bool:
    """"four partial responses", "the T-DXd arm included 11 complete responses"."""
    found = COUNT_BEFORE.search(before)
    if not found or LABEL_OR_LIMIT_BEFORE.search(before, 0, found.start()) or _limit_before(before, found.start()):
        return False
    count = count_value(found.group(1))
    figure = _percent_right_after(text, m.end, figures)
    if figure is not None:
        if figure.count is None:
            figure.count = count
        return True
    subject = SUBJECT_GROUP.search(before, 0, found.start())
    start = offset + found.start()
    add(Count(m.canonical, count, start, m.end, found.group(1), "before_endpoint",
              arm=_group_arm(subject.group(1)) if subject else None))
    return True


def before_window(text: str, m: Mention) -> str:
    return text[max(0, m.start - WINDOW) : m.start]


def _short_forms(text, mentions: list[Mention], figures, add) -> None:
    """"Best response: PR 15, SD 18, PD 7", "CR 0, PR 5", "4 PR and 7 SD": counts of response
    types written as short forms. As "PR" and "SD" also mean other things (progesterone
    receptor, standard deviation), a count is read only right after "response:" or next to the
    count of another short form."""
    found: list[tuple[Mention, Count]] = []
    for m in mentions:
        if m.canonical not in COUNTED or m.canonical == RESPONSE or not _is_short_form(m.text):
            continue
        after = SHORT_FORM_COUNT.match(text, m.end)
        if after:
            if not PERCENT_AFTER.match(text, after.end()):  # "PR 15 (35.7%)": a rate, not read here
                found.append((m, Count(m.canonical, int(after.group(1)), m.start, after.end(), after.group(1), "short_form")))
            continue
        if m.label == BARE:  # a number before: "4 PR and 7 SD" ("1 CR" of the lexicon is read as a noun)
            before = before_window(text, m)
            count = COUNT_BEFORE.search(before)
            if count and count.group(1).isdigit() and not LABEL_OR_LIMIT_BEFORE.search(before, 0, count.start()) \
                    and not PERCENT_AFTER.match(text, m.end):
                start = m.start - len(before) + count.start()
                found.append((m, Count(m.canonical, int(count.group(1)), start, m.end, count.group(1), "short_form")))
    if not found:
        return
    responses = MentionIndex([m for m in mentions if m.canonical == RESPONSE])
    for i, (m, count) in enumerate(found):
        neighbours = [found[j][1] for j in (i - 1, i + 1) if 0 <= j < len(found) and found[j][1].endpoint != count.endpoint]
        listed = any(SHORT_FORM_JOIN.fullmatch(text, min(c.end, count.end), max(c.start, count.start)) for c in neighbours)
        cue = responses.last_ending_by(count.start)
        after_cue = cue is not None and RESPONSE_CUE_GAP.fullmatch(text, cue.end, count.start)
        if listed or after_cue:
            add(count)


def _limit_before(before: str, end: int) -> bool:
    """"at least 7 responses": a threshold, not a count."""
    return THRESHOLD_BEFORE.search(before[max(0, end - 20) : end]) is not None


def _patients_had(text, m: Mention, before: str, offset: int, pattern: re.Pattern, figures, add) -> bool:
    """"Eleven patients had stable disease", "8 of 27 patients had an objective response",
    "1 lapatinib- and 1 trastuzumab-treated patient had progressive disease", "Eleven patients
    responded"."""
    found = pattern.search(before)
    if not found or DENOMINATOR_BEFORE.search(before, 0, found.start()) or _limit_before(before, found.start()):
        return False
    items = list(ITEM_PARTS.finditer(found.group(1)))
    figure = _percent_right_after(text, m.end, figures)
    if figure is not None:
        if len(items) == 1 and figure.count is None:
            figure.count = count_value(items[0].group(1))
        return True
    start = offset + found.start(1)
    where = found.group(2)
    for item in items:
        total = int(item.group(2)) if item.group(2) else None
        if len(items) > 1:
            arm = _item_arm(item.group(3))
        else:
            arm = _group_arm(where) if where and GROUP_CORE.search(where) else None
        add(Count(m.canonical, count_value(item.group(1)), start + item.start(), m.end, item.group(1), "patients_had",
                  total=total, arm=arm))
    return True


def _seen_in(text, m: Mention, before: str, after_start: int, figures, add) -> None:
    """"Objective response was seen in 8 X-, 6 Y- and 4 Z-treated patients", "Best response was
    partial response (PR) in 4 pts"."""
    window = text[after_start : after_start + WINDOW]
    found = SEEN_IN.match(window)
    if not found and COPULA_BEFORE.search(before):
        found = PREDICATE_IN.match(window)
    if not found:
        return
    items = list(ITEM_PARTS.finditer(found.group(1)))
    figure = _percent_right_after(text, after_start + found.end(), figures)
    if figure is not None:
        if len(items) == 1 and figure.count is None:
            figure.count = count_value(items[0].group(1))
        return
    if re.match(r"\s*[(\[]\s*\d", window[found.end() :]):
        return  # "in 4 patients (22%; ...)" read as a rate, or a bracket evx cannot tell
    base = after_start + found.start(1)
    for item in items:
        total = int(item.group(2)) if item.group(2) else None
        arm = _item_arm(item.group(3)) if len(items) > 1 else None
        add(Count(m.canonical, count_value(item.group(1)), m.start, base + item.end(), item.group(1), "seen_in",
                  total=total, arm=arm))


def _item_arm(modifiers: str) -> str | None:
    """"afatinib-" and "trastuzumab-treated" of a list of counts name their groups."""
    label = re.sub(r"-(?:treated|receiving|allocated|assigned)$", "", modifiers.strip()).rstrip("-").strip()
    return label or None


def _negated(text, m: Mention, before: str, offset: int, add) -> None:
    """"no complete responses were seen", "with no complete responses:", "No objective response
    occurred in cohort B or cohort C" (a record per group)."""
    found = NEGATED_BEFORE.search(before)
    if not found or SUBGROUP_BEFORE.search(before, 0, found.start()):
        return
    witnessed = WITNESSED.match(text, m.end)
    rest = witnessed.end() if witnessed else m.end
    groups = GROUPS_AFTER.match(text, rest)
    among = None if groups else AMONG_PATIENTS.match(text, rest)  # "among the 8 patients with ..."
    end = groups.end() if groups else among.end() if among else rest
    if not witnessed and not CLAUSE_END.match(text, end):
        return  # "patients with no objective response had ...": a subgroup, not a count
    start = offset + found.start()
    word = found.group(1)
    items = list(GROUP_ITEMS.finditer(groups.group(1))) if groups else []
    if len(items) < 2:
        arm = _group_arm(items[0].group(0)) if items else None
        total = _group_size(items[0].group(0)) if items else int(among.group(1)) if among else None
        add(Count(m.canonical, 0, start, end, word, "negated", total=total, arm=arm))
        return
    for item in items:
        add(Count(m.canonical, 0, start, groups.start(1) + item.end(), word, "negated",
                  total=_group_size(item.group(0)), arm=_group_arm(item.group(0))))


def _group_arm(phrase: str) -> str | None:
    """The label of a group phrase: "cohort B" of "the IHC 2+/ISH-negative cohort B (n = 15)"."""
    core = LABELLED_GROUP.search(phrase) or GROUP_CORE.search(phrase)
    if core:
        return core.group(0)
    label = GROUP_SIZE.sub("", phrase).strip(" ,")
    label = re.sub(r"^(?:the|a|an)\s+", "", label, flags=I)
    return label or None


def _group_size(phrase: str) -> int | None:
    size = GROUP_SIZE.search(phrase)
    return int(size.group(1)) if size else None


def _uniform(m: Mention, before: str, offset: int, response_named: bool, add) -> None:
    """"made up entirely of partial responses" (``response_named``: after a response was named):
    no complete response."""
    if m.canonical != ENDPOINTS.response_types["partial"] or not response_named:
        return
    found = UNIFORM_BEFORE.search(before)
    if not found:
        return
    add(Count(NONE_COUNT_ENDPOINT, 0, offset + found.start(), m.end, found.group(0).split()[0], "uniform"))


def _none_of(text, counted: MentionIndex, add) -> None:
    """"none of the 15 patients in cohort B responded", "None of the patients had a complete response"
    (read where the text holds "none")."""
    for found in NONE_OF.finditer(text):
        m = counted.first_from(found.end())
        rest = NONE_OF_REST.match(text, found.end())
        if rest and (m is None or m.start > rest.end()):
            # "12 of 30 patients responded, ... and none of the 20 patients in cohort C."
            antecedent = counted.last_ending_by(found.start())
            if antecedent is not None:
                group = rest.group(1) or ""
                add(Count(antecedent.canonical, 0, found.start(), rest.end(), found.group(0).split()[0], "elliptic_none",
                          total=int(found.group(1)) if found.group(1) else None,
                          arm=_group_arm(group) if GROUP_CORE.search(group) else None))
            continue
        if m is None or m.start - found.end() > 100:
            continue
        between = text[found.end() : m.start]
        if re.search(r"[;:.]|\d", between):
            continue
        verb_before = POSSESSED_BEFORE.search(between)
        if (m.label == VERB) == bool(verb_before):  # "responded" alone; a noun after "had (a)"
            continue
        arm = _group_arm(between) if GROUP_CORE.search(between) else None
        total = int(found.group(1)) if found.group(1) else None
        add(Count(m.canonical, 0, found.start(), m.end, found.group(0).split()[0], "none_of", total=total, arm=arm))


def _neither_nor(text, counted: MentionIndex, add) -> None:
    """"Neither cohort B (n = 15) nor cohort C (n = 18) produced a single response": a record
    per group (read where the text holds "neither")."""
    for found in NEITHER_NOR.finditer(text):
        m = counted.first_from(found.end())
        if m is None or m.start - found.end() > 60:
            continue
        between = text[found.end() : m.start]
        if not (BEFORE_NEITHER_ENDPOINT.fullmatch(between) or m.label == VERB and not between.strip()):
            continue
        word = found.group(0).split()[0]
        for g in (1, 2):
            phrase = found.group(g)
            add(Count(m.canonical, 0, found.start(), m.end if g == 2 else found.end(1), word, "neither_nor",
                      total=_group_size(phrase), arm=_group_arm(phrase)))


def _had_none(text, nouns: MentionIndex, add) -> None:
    """"Confirmed responses occurred in 30%, whereas a matched cohort had none" (read where the
    text holds "none")."""
    for found in HAD_NONE.finditer(text):
        antecedent = nouns.last_ending_by(found.start())
        if antecedent is None:
            continue
        clause = clause_before(text, found.start())
        arm = _group_arm(clause) if GROUP_CORE.search(clause) else None
        word = re.search("none", found.group(0), I).group(0)
        add(Count(antecedent.canonical, 0, found.start(), found.end(), word, "elliptic_none", arm=arm))
