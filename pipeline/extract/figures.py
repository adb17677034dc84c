"""Numbers in a sentence: candidate figures (percentages, durations, hazard/odds ratios) with
their confidence intervals, counts (n/N) and p-values, found with regular expressions.

Every figure keeps its text form, its offsets relative to the sentence and the name of the
pattern that found it (``Figure.rule``: "percent", "duration.with_range", "ratio.list"...), which
becomes the first part of its record's rule id. Numbers that are not results are left out here:
thresholds ("at least 6 months", "30% or more"), relative changes, follow-up times, group sizes,
and the assumptions of a trial's design ("null ORR 10%", "assuming an ORR of 30%", "power 0.85").
Attaching a figure to an endpoint, trial or regimen is done in ``outcomes``; counts of patients
without a percentage in ``counts``. Word lists come from ``pipeline/data/outcome_words.json``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from pipeline.extract.context import holds_any, lowered
from pipeline.extract.outcome_vocabulary import words

NUM = r"\d+(?:[.·]\d+)?"
NUMBER_WORDS = words("number_words").values  # "one" -> 1 ... "ninety" -> 90
# A count: digits or number words ("eight", "Thirty-one").
COUNT = rf"(?:\d+|{words('number_words').alternation}(?:[- ]{words('number_words').alternation})?)"
DASH = r"(?:-|‐|‑|‒|–|—|−|to)"  # hyphen, the Unicode dashes, minus, "to"
UNIT_WORDS = {
    "month": "months", "months": "months", "mo": "months", "mos": "months",
    "week": "weeks", "weeks": "weeks", "wk": "weeks", "wks": "weeks",
    "day": "days", "days": "days", "year": "years", "years": "years", "yr": "years", "yrs": "years",
}
DURATION_UNIT = r"(?:months?|mos?|weeks?|wks?|days?|years?|yrs?)\b"

PERCENT = re.compile(rf"(?<![\w.·])({NUM})\s?(?:%|percent\b)")
DURATION = re.compile(rf"(?<![\w.·-])({NUM})\s*({DURATION_UNIT})")
# A value written before a coordinated one that carries the unit: "11.5 and 13%", "4.8 v 2.4 months".
LIST_JOIN = r"(?:,\s*and|,|and|or|vs\.?|versus|v\.?|compared with)"
# An optional bracket after a value: its count "(23/37)" or arm "(ribociclib)".
AFTER_VALUE = r"(?:\s*[(\[][^()\[\]]{1,30}[)\]])?"
MAX_LIST = 10  # values before the one that carries the unit
# Characters around a number that the patterns read before and after it (all of them are much
# shorter): the slices stay small however long the sentence.
REACH = 200
CI_REACH = 25  # characters between a value and its CI
# (No two white-space runs side by side and a bounded list: "1 and 1 and ..." stays linear.)
LEADING_VALUE = re.compile(
    rf"(?<![\w.·%-])({NUM})(?={AFTER_VALUE}\s*(?:%\s*)?(?:{LIST_JOIN}|to)\s+(?:{NUM}{AFTER_VALUE}\s*(?:%\s*)?{LIST_JOIN}\s*){{0,{MAX_LIST}}}"
    rf"{NUM}\s*(?:%|{DURATION_UNIT}))"
)
# "2.8 (2.1-4.6) months": a median with its CI between the value and the unit.
DURATION_WITH_RANGE = re.compile(rf"(?<![\w.·-])({NUM})\s*[(\[]\s*({NUM})\s*{DASH}\s*({NUM})\s*[)\]]\s*({DURATION_UNIT})")
RATIO = re.compile(
    rf"\b((?i:hazard|odds) ratios?|HRs?|ORs?)\b(?:\s*[\[(](?:HR|OR)[\])])?[^\d%;()\[\]]{{0,30}}?(?:[=:,]\s*|\bof\s+|\bwas\s+|\s)\(?({NUM})(?!\s*%)"
)
# "The hazard ratio for an event in the X group, as compared with Y, was 0.54": a longer reach
# when a verb introduces the value.
RATIO_STATED = re.compile(rf"\b((?i:hazard|odds) ratio)s?\b(?:[^\d%;()\[\]]|\B\d){{0,100}}?\b(?:was|were|is|of)\s+({NUM})(?!\s*%)")
# Further ratios of a list, each with its CI: "were 2.36 (95% CI, 1.49-3.75), 1.20 (...) and 0.61".
NEXT_RATIO = re.compile(rf"^\s*[(\[][^()\[\]]*[)\]]\s*(?:,|;|and|,\s*and)\s+({NUM})(?=\s*[(\[]\s*\d{{2}}\s?%)")
# "(95% CI, 1.49-3.75)". White space before the level is taken from where its run starts, not
# from inside it (the look-behind: no white space before its first character), so a search
# does not re-scan a long run from each of its positions. The later runs are possessive: what
# follows each (a separator, a bracket, a sign or digit, a unit, a dash) never starts with white
# space, so giving some back never matches, and after "95% CI" a long run of white space would
# otherwise be retried cubically.
CI = re.compile(
    rf"[(\[,;]?+(?:\s(?<!\s\s)\s*)?(\d{{2}}(?:[.·]\d+)?)\s?(?:%|percent)\s*+"
    rf"(?:CI|C\.I\.|[Cc]onfidence [Ii]ntervals?(?:\s*+[(\[]CI[)\]])?|CrI)\s*+[,:=]?\s*+[(\[]?\s*+"
    rf"([-−+]?{NUM})\s*+(?:%|{DURATION_UNIT})?\s*+(?:{DASH}|,)\s*+([-−+]?{NUM})\s*+(?:%|{DURATION_UNIT})?\s*+[)\]]?"
)
BARE_RANGE = re.compile(rf"^\s*[(\[]\s*({NUM})\s*%?\s*{DASH}\s*({NUM})\s*%?\s*(?=[;)\]])")
P_VALUE = re.compile(r"\b(?:[Pp](?:[- ]?values?)?|log-rank [Pp])\s*(=|<|>|≤|≥|<=|>=|&lt;)\s*(0?[.·]\d+(?:\s*[x×]\s*10\s*[-−]\s*\d+)?|1(?:\.0+)?)")
N_OF_N_AFTER = re.compile(r"^\s*\)\s*of\s+(?:the\s+)?(\d+)\b")  # "8 (30%) of 27"
COUNT_REACH = 100  # characters before a percentage searched for its count
# "8 (" before "30%)", "Eighteen of them (" before "32%)", "12 patients (" before "44%)".
N_BEFORE_PAREN = re.compile(
    rf"(?<![\w.,])({COUNT})(?:\s+of\s+(?:{words('anaphora').alternation})|\s+(?:[A-Za-z][\w-]*\s+)?{words('patient_nouns').alternation})?"
    rf"\s*\(\s*$", re.IGNORECASE)
# "10 of 36 patients (28%)", "eight of the 27 patients (", "4 of 14 patients with RAS-mutant tumours responded (".
N_OF_N_BEFORE = re.compile(rf"(?<![\w.,])({COUNT})\s+of\s+(?:the\s+)?(\d+)\s+(?:[A-Za-z][\w+/-]*\s+){{0,6}}\(\s*$",
                           re.IGNORECASE)
# "Of 57 patients (": the patients a percentage is of, not its count.
DENOMINATOR_BEFORE = re.compile(r"\b(?:of|among|in total)\s*$", re.IGNORECASE)
# "(31/82; 95% CI ...)": a count bracket the CI follows inside.
COUNT_BEFORE_CI = re.compile(r"\s*+(?:%\s*+)?[(\[]\s*+\d++\s*+/\s*+\d++\s*+(?:[;,]\s*+)?")
# "43.8% among the 16 patients who...", "52.2% among the 23 who could be evaluated": the total.
TOTAL_AFTER = re.compile(
    rf"\s*(?:among|in|of)\s+(?:the\s+|all\s+|these\s+)?(\d+)\s+(?:who\b|(?:[a-z][\w-]*\s+){{0,2}}{words('patient_nouns').alternation}\b)",
    re.IGNORECASE)
SLASH_COUNT = re.compile(r"\s*+(?:%\s*+)?[(\[]\s*+(\d+)(?:\s*+/|\s++of\s++)\s*+(\d+)\s*+[)\];,]")  # "61.2 (23/37)", "37.8% (31/82; 95% CI"
TIME_POINT = re.compile(rf"\b(\d+|{words('number_words').alternation})[- ](year|month|mo|yr|week|wk)s?\b", re.IGNORECASE)
AT_TIME_POINT = re.compile(rf"\bat\s+(\d+)\s+({DURATION_UNIT})", re.IGNORECASE)
# A value after a comparison is a threshold, not a result: "PFS >= 5 months", "(>=14%) Ki67".
THRESHOLD_BEFORE = re.compile(rf"(?:[<>≤≥]\s*=?|[<>]\s*or\s*=|\b{words('threshold_before').alternation})\s*-?\s*$", re.IGNORECASE)
# A relative change or a difference between arms is not an arm's figure: "reduced the risk by 38%",
# "a 14% reduction", "an improvement of 9.4 months", "about 12 months longer".
CHANGE_BEFORE = re.compile(rf"(?:\bby|\b{words('change_before').alternation}\s*(?:of|,|:|=)?)\s*[~∼≈]?\s*$", re.IGNORECASE)
CHANGE_AFTER = re.compile(rf"^\s*(?:%\s*)?(?:relative\s+|absolute\s+)?{words('change_after').alternation}\b", re.IGNORECASE)
# "(73-92%)": the upper end of a range is not a figure of its own.
RANGE_END_BEFORE = re.compile(r"\d\s*[-‐‑‒–—−]\s*$")
# A group size written "(n = 76)" or "(N=124)": the total of the figure it follows.
GROUP_SIZE = re.compile(r"[(\[]\s*[nN]\s*=\s*(\d+)\s*[)\],;]")
GROUP_SIZE_REACH = 60  # characters after a figure
# "group 1, 74%": a label's number, not a value sharing the unit of the next one.
LABEL_BEFORE = re.compile(rf"\b{words('label_nouns').alternation}\s*$", re.IGNORECASE)
# "n = 42, 23.5%": a group size, not a figure.
SIZE_BEFORE = re.compile(r"\b[nN]\s*=\s*$")
# "2/48 (4%) and 10/49 (20%) deaths": counts of events, not rates of an endpoint.
EVENTS_AFTER = re.compile(r"^[^.;%]{0,3}(?:\s*and\s+[\d/]+\s*\(\s*\d+(?:\.\d+)?\s*%\s*\))?\s*(?:deaths|events|relapses|recurrences)\b")
# "a 34 month median follow-up", "at 64% data maturity".
FOLLOW_UP_AFTER = re.compile(r"^\s*+(?:-?\s*+(?:months?|years?)\s++)?(?:median\s++)?(?:follow[- ]?up|data maturity|maturity)\b", re.IGNORECASE)
# "an ORR of 30% or more could be claimed": a threshold.
THRESHOLD_AFTER = re.compile(rf"\s*+(?:(?:%|percent)\s*+)?{words('threshold_after').alternation}\b", re.IGNORECASE)
# "ranged from 9.7% to 45.3%", "varied between 20 and 40%": a range over studies or groups.
RANGE_BEFORE = re.compile(
    rf"\b{words('range_words').alternation}\s+(?:from\s+|between\s+)?(?:(?:about|approximately)\s+)?"
    rf"(?:{NUM}\s*(?:%|percent|{DURATION_UNIT})?\s*(?:to|and|-|–)\s*)?$", re.IGNORECASE)
_RANGE_GATE = words("range_words").gate
# Where the clause of a figure starts, for its design words: a bracket, a semicolon or colon, a
# clause after a comma ("..., so that", "..., and").
CLAUSE_START = re.compile(r"[(\[;:]|,\s+(?:and|but|so|whereas|while|which)\b|\.\s")
CLAUSE_REACH = 160  # characters before a figure searched for the start of its clause
DESIGN = words("design_cues").pattern
# "an ORR of 30% was assumed", "a 40% ORR was considered meaningful", "80% power", "a cORR of 15% (H0)".
DESIGN_AFTER = re.compile(
    rf"\s*+(?:(?:%|percent)\s*+)?(?:[A-Za-z]{{2,5}}\s++)?(?:(?:was|were|is|are|would be|will be)\s+{words('design_after').alternation}\b|power\b"
    rf"|[(\[]\s*(?:H0|H1|P0|P1|null)\b)", re.IGNORECASE)


def to_float(text: str) -> float:
    """'95·3' (Lancet middle dot) and '95.3' both read as 95.3; '−5.5' (minus sign) as -5.5."""
    return float(text.replace("·", ".").replace("−", "-"))


def count_value(text: str) -> int:
    """'8' -> 8, 'Eighteen' -> 18, 'thirty-one' -> 31."""
    if text.isdigit():
        return int(text)
    return sum(NUMBER_WORDS[part] for part in re.split(r"[- ]", text.lower()))


@dataclass(eq=False)
class Figure:
    kind: str  # "percent", "duration", "hr", "or"
    value: float
    value_text: str
    start: int  # offsets within the sentence
    end: int
    rule: str = ""  # the pattern that found it: "percent", "duration.with_range", "ratio.list"...
    unit: str | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_text: str | None = None
    count: int | None = None
    total: int | None = None
    p_value: str | None = None
    extent: list[int] = field(default_factory=list)  # [start, end] of value + CI + counts


def find_figures(sentence: str) -> list[Figure]:
    """All candidate figures of a sentence, in order, with CI, n/N and p attached."""
    ci_spans = [(m.start(), m.end(), m) for m in CI.finditer(sentence)] if _may_hold_ci(sentence) else []

    def inside_ci(pos: int) -> bool:
        i = bisect.bisect_right(ci_spans, (pos, float("inf"))) - 1  # the last CI starting at or before pos
        return i >= 0 and ci_spans[i][1] > pos  # (CIs do not overlap: finditer)

    figures: list[Figure] = []
    taken: set[int] = set()
    ratios = [*RATIO.finditer(sentence), *(RATIO_STATED.finditer(sentence) if "ratio" in sentence else ())] \
        if _may_hold_ratio(sentence) else ()
    for m in ratios:
        kind = "hr" if m.group(1).lower().startswith(("h", "hr")) else "or"
        start, end = m.start(2), m.end(2)
        rule = "ratio" if m.re is RATIO else "ratio.stated"
        while start not in taken and not inside_ci(start):
            if not is_design_figure(sentence, start, end):  # "designed to detect a hazard ratio of 0.67"
                figures.append(Figure(kind, to_float(sentence[start:end]), sentence[start:end], start, end, rule=rule))
            taken.add(start)
            following = NEXT_RATIO.match(sentence[end : end + REACH])
            if not following:
                break
            start, end = end + following.start(1), end + following.end(1)
            rule = "ratio.list"
    for m in PERCENT.finditer(sentence):
        if inside_ci(m.start(1)) or _is_ci_level(sentence, m.end()) or m.start(1) in taken:
            continue
        if not _reads_as_result(sentence, m.start(1), m.end()):
            continue
        figures.append(Figure("percent", to_float(m.group(1)), m.group(1), m.start(1), m.end(), unit="%", rule="percent"))
        taken.add(m.start(1))
    durations = holds_any(sentence, DURATION_CUES)
    for m in DURATION_WITH_RANGE.finditer(sentence) if durations else ():
        if inside_ci(m.start(1)) or not _reads_as_result(sentence, m.start(1), m.end()):
            continue
        low, high, value = to_float(m.group(2)), to_float(m.group(3)), to_float(m.group(1))
        if low <= value <= high:
            unit = UNIT_WORDS.get(m.group(4).lower().rstrip("."), None)
            figures.append(Figure("duration", value, m.group(1), m.start(1), m.end(), unit=unit, ci_low=low,
                                  ci_high=high, ci_text=sentence[m.end(1) : m.start(4)].strip(" ([])"),
                                  rule="duration.with_range"))
            taken.update((m.start(1), m.start(2), m.start(3)))
    for m in DURATION.finditer(sentence) if durations else ():
        if inside_ci(m.start(1)) or m.start(1) in taken or _is_time_point(sentence, m):
            continue
        if not _reads_as_result(sentence, m.start(1), m.end()):
            continue
        unit = UNIT_WORDS.get(m.group(2).lower().rstrip("."), None)
        figures.append(Figure("duration", to_float(m.group(1)), m.group(1), m.start(1), m.end(), unit=unit, rule="duration"))
        taken.add(m.start(1))
    # (a leading value borrows the unit of a percentage or duration found above: without one, none)
    for m in LEADING_VALUE.finditer(sentence) if any(f.kind in ("percent", "duration") for f in figures) else ():
        if m.start(1) in taken or inside_ci(m.start(1)):
            continue
        follower = _next_figure(figures, m.end())
        # The value whose unit this one borrows must be the one right after it, still a figure.
        if follower is None or follower.kind not in ("percent", "duration") or follower.start - m.end(1) > 30:
            continue
        before = sentence[max(0, m.start(1) - REACH) : m.start(1)]
        if SIZE_BEFORE.search(before) or THRESHOLD_BEFORE.search(before) or LABEL_BEFORE.search(before):
            continue
        figures.append(Figure(follower.kind, to_float(m.group(1)), m.group(1), m.start(1), m.end(1), unit=follower.unit,
                              rule=f"{follower.kind}.shared_unit"))
        taken.add(m.start(1))
    figures.sort(key=lambda f: f.start)
    for figure in figures:
        figure.extent = [figure.start, figure.end]
        _attach_ci(sentence, figure, ci_spans)
        if figure.kind == "percent":
            _attach_counts(sentence, figure)
    _attach_p_values(sentence, figures)
    _attach_group_sizes(sentence, figures)
    _attach_totals_after(sentence, figures)
    return figures


# Plain tests that rule patterns out before they run: each finds a part of every match.
DURATION_CUES = ("mo", "wk", "week", "day", "yr", "year")  # DURATION_UNIT (case-sensitive)
CI_LEVEL = re.compile(r"\s*(?:CI|C\.I\.|[Cc]onfidence|CrI)\b")  # right after the "95%" of a CI


def _may_hold_ci(sentence: str) -> bool:
    """Whether CI may match: it needs a percent sign or "percent", and one of CI_LEVEL's words."""
    return ("%" in sentence or "percent" in sentence) and (
        "CI" in sentence or "C.I." in sentence or "onfidence" in sentence or "CrI" in sentence)


def _may_hold_ratio(sentence: str) -> bool:
    """Whether RATIO or RATIO_STATED may match: "HR", "OR", or "hazard" or "odds" in any case."""
    if "HR" in sentence or "OR" in sentence:
        return True
    low = lowered(sentence)
    return "hazard" in low or "odds" in low


def _next_figure(figures: list[Figure], pos: int) -> Figure | None:
    after = [f for f in figures if f.start >= pos]
    return min(after, key=lambda f: f.start) if after else None


def _reads_as_result(sentence: str, start: int, end: int) -> bool:
    """False for thresholds, relative changes, differences, group sizes, follow-up times and
    the assumptions of a design."""
    before, after = sentence[max(0, start - REACH) : start], sentence[end : end + REACH]
    return not (
        (_may_end_before_pattern(before) and (
            THRESHOLD_BEFORE.search(before) or CHANGE_BEFORE.search(before) or SIZE_BEFORE.search(before)
            or RANGE_END_BEFORE.search(before)))
        or CHANGE_AFTER.match(after) or FOLLOW_UP_AFTER.match(after) or EVENTS_AFTER.match(after)
        or THRESHOLD_AFTER.match(after) or is_design_figure(sentence, start, end)
        or (_RANGE_GATE is None or holds_any(lowered(before), _RANGE_GATE)) and RANGE_BEFORE.search(before)
    )


def is_design_figure(sentence: str, start: int, end: int) -> bool:
    """Whether the number at ``start:end`` is an assumption of the design: its clause holds a
    design word before it ("null ORR 10%", "assuming an ORR of 30%", "power 0.85"), or says
    after it that it was assumed ("an ORR of 30% was assumed")."""
    return bool(DESIGN.search(clause_before(sentence, start)) or DESIGN_AFTER.match(sentence, end))


def clause_before(sentence: str, start: int) -> str:
    """The text from the start of the clause holding position ``start`` up to it (at most
    CLAUSE_REACH characters)."""
    window = sentence[max(0, start - CLAUSE_REACH) : start]
    last = None
    for last in CLAUSE_START.finditer(window):
        pass
    return window[last.end() :] if last else window


# What the *_BEFORE patterns above can end on, white space after it aside: a word ending so (any
# case), or one of the signs. Searching a long ``before`` with them is slow; this test is not.
BEFORE_WORD_ENDS = tuple(sorted({phrase.split()[-1] for phrase in words("threshold_before").words | words("change_before").words}
                               | {"by", "of"}))
BEFORE_WORD_LONGEST = max(map(len, BEFORE_WORD_ENDS))
BEFORE_SIGNS = frozenset("<>≤≥=,:~∼≈-‐‑‒–—−")


def _may_end_before_pattern(before: str) -> bool:
    """Whether THRESHOLD_BEFORE, CHANGE_BEFORE, SIZE_BEFORE or RANGE_END_BEFORE may match at
    the end of ``before``: its last character other than white space is one of BEFORE_SIGNS,
    or ends one of BEFORE_WORD_ENDS."""
    trimmed = before.rstrip()
    last = trimmed[-1:]
    if last in BEFORE_SIGNS:
        return True
    return last.isalpha() and lowered(trimmed[-BEFORE_WORD_LONGEST - 1 :]).endswith(BEFORE_WORD_ENDS)


def _is_ci_level(sentence: str, end: int) -> bool:
    """The 95 of '95% CI' is a confidence level, not a figure."""
    return CI_LEVEL.match(sentence, end, end + 20) is not None


def _is_time_point(sentence: str, m: re.Match) -> bool:
    """'at 24 months', 'follow-up of 36 months', '3-year': times that are not results."""
    before = sentence[max(0, m.start() - 40) : m.start()].lower()
    if re.search(r"(?:\bat|\bafter|\bwithin|\bfor|\bover|\bup to|\bevery|\bfollow-?up(?: of| was| time)?|\bq)\s*$", before):
        return True
    follow_up = re.search(r"follow[- ]?up\b((?:[^.;]|\.\d){0,25})$", before)
    # ... unless the follow-up had its own time before this one: "at a median follow-up of 18
    # months, and was 9.8 months in cohort B".
    if follow_up and not re.search(rf"{NUM}\s*{DURATION_UNIT}", follow_up.group(1)):
        return True
    after = sentence[m.end() : m.end() + 8]
    # "1 year of trastuzumab", "12 weeks of treatment": a treatment length, not a result.
    return after.startswith(("-", " of age", " old")) or bool(re.match(r"\s+of\s+[A-Za-z]", after))


def _attach_ci(sentence: str, figure: Figure, ci_spans) -> None:
    if figure.ci_low is not None:
        return  # read with the value ("2.8 (2.1-4.6) months")
    rest_start = figure.end
    for a, b, m in ci_spans[bisect.bisect_left(ci_spans, (rest_start,)) :]:
        if a - rest_start > CI_REACH:
            break
        gap = sentence[rest_start:a]
        # The CI follows the value closely: "57.5% (95% CI 40.9–73.0)", "0.62; 95% CI, 0.48 to 0.80",
        # also inside the bracket of its count: "37.8% (31/82; 95% CI 27.3–49.2)".
        if (not re.search(rf"{NUM}", gap) or COUNT_BEFORE_CI.fullmatch(gap)):
            low, high = to_float(m.group(2)), to_float(m.group(3))
            if low <= figure.value <= high or figure.kind in ("hr", "or"):
                figure.ci_low, figure.ci_high, figure.ci_text = low, high, m.group(0).strip(" ,;([")
                figure.extent[1] = max(figure.extent[1], b)
            return
    m = BARE_RANGE.match(sentence[rest_start : rest_start + REACH])
    if m:  # "56% [46-65; ...": a bracketed range right after the value is its CI
        low, high = to_float(m.group(1)), to_float(m.group(2))
        if low <= figure.value <= high:
            figure.ci_low, figure.ci_high, figure.ci_text = low, high, m.group(0).strip(" ([")
            figure.extent[1] = rest_start + m.end()


def _attach_counts(sentence: str, figure: Figure) -> None:
    before = sentence[max(0, figure.start - COUNT_REACH) : figure.start]
    offset = figure.start - len(before)
    after = sentence[figure.end : figure.end + REACH]
    # (both patterns before the figure end in an opening bracket: "8 (", "10 of 36 patients (")
    m = N_OF_N_BEFORE.search(before) if before.rstrip().endswith("(") else None
    if m:
        figure.count, figure.total = count_value(m.group(1)), int(m.group(2))
        figure.extent[0] = offset + m.start()
        _check_count(figure)
        return
    m = N_BEFORE_PAREN.search(before) if before.rstrip().endswith("(") else None
    if m and not DENOMINATOR_BEFORE.search(before, 0, m.start()):
        figure.count = count_value(m.group(1))
        figure.extent[0] = offset + m.start()
        total = N_OF_N_AFTER.match(after)
        if total:
            figure.total = int(total.group(1))
            figure.extent[1] = figure.end + total.end()
        return
    m = SLASH_COUNT.match(sentence, figure.end, figure.end + REACH)
    if not m and figure.extent[1] > figure.end:  # after the CI: "35.7% [95% CI 21.6-52.0] (15/42)"
        m = SLASH_COUNT.match(sentence, figure.extent[1], figure.extent[1] + REACH)
    if m:
        figure.count, figure.total = int(m.group(1)), int(m.group(2))
        figure.extent[1] = max(figure.extent[1], m.end())
    _check_count(figure)


def _check_count(figure: Figure) -> None:
    """A count that does not give the percentage is not this figure's count."""
    if figure.count is not None and figure.total and abs(100 * figure.count / figure.total - figure.value) > 1.5:
        figure.count = figure.total = None


def _attach_totals_after(sentence: str, figures: list[Figure]) -> None:
    """"43.8% among the 16 patients who...": the total written right after a percentage."""
    for figure in figures:
        if figure.kind != "percent" or figure.total is not None:
            continue
        m = TOTAL_AFTER.match(sentence, figure.extent[1])
        if m:
            total = int(m.group(1))
            if total and (figure.count is None or abs(100 * figure.count / total - figure.value) <= 1.5):
                figure.total = total


def _attach_group_sizes(sentence: str, figures: list[Figure]) -> None:
    """Totals from group sizes: the "(n = 76)" right after a figure ("77.2% in vaccinated
    patients (n = 76)"), or, when the arms' sizes are all given before their figures ("A (n = 72)
    versus B (n = 36) was 9.5 versus 5.6 months"), one size per figure in order."""
    sizes = list(GROUP_SIZE.finditer(sentence)) if "=" in sentence else []
    if not sizes or not figures:
        return
    for i, figure in enumerate(figures):
        if figure.total is not None:
            continue
        stop = min(figure.extent[1] + GROUP_SIZE_REACH, figures[i + 1].start if i + 1 < len(figures) else len(sentence))
        size = next((m for m in sizes if figure.extent[1] <= m.start() < stop), None)
        if size is not None:
            figure.total = int(size.group(1))
    leading = [m for m in sizes if m.end() <= figures[0].start]
    run = [f for f in figures if f.kind == figures[0].kind]
    if len(leading) == len(run) > 1 and all(f.total is None for f in run) and len(leading) == len(sizes):
        for figure, size in zip(run, leading):
            figure.total = int(size.group(1))


def _attach_p_values(sentence: str, figures: list[Figure]) -> None:
    """A p-value applies to the figures before it that no earlier p-value took; when a hazard
    or odds ratio stands right before it, to that ratio alone ("71% vs 56%; HR 0.59; p=0.013")."""
    last = 0
    for m in P_VALUE.finditer(sentence):
        op = m.group(1).replace("&lt;", "<")
        text = m.group(2) if op == "=" else op + m.group(2)
        before = [f for f in figures if last <= f.start < m.start() and f.p_value is None]
        if before and before[-1].kind in ("hr", "or"):
            before = before[-1:]
        for figure in before:
            figure.p_value = text
        last = m.end()


def time_point(text: str) -> str | None:
    """'3-year', 'Three-year', 'at 24 months', '12-mo' -> '3-year', '24-month', '12-month': the
    first time point of ``text``."""
    m = TIME_POINT.search(text)
    if m:
        return _time_point_name(m)
    m = AT_TIME_POINT.search(text)
    return _time_point_name(m) if m else None


TIME_POINT_REACH = 300  # characters before a figure searched for its time point


def time_point_before(text: str, pos: int) -> str | None:
    """The time point nearest before ``pos``: "3-year OS 87%, 5-year OS 80%" gives 80% the 5-year."""
    window_start = max(0, pos - TIME_POINT_REACH)
    last = None
    for pattern in (TIME_POINT, AT_TIME_POINT):
        for m in pattern.finditer(text, window_start, pos):
            if last is None or m.start() > last.start():
                last = m
    return _time_point_name(last) if last else None


def _time_point_name(m: re.Match) -> str:
    if m.re is TIME_POINT:
        n = m.group(1).lower()
        n = str(NUMBER_WORDS.get(n, n))
        unit = {"yr": "year", "mo": "month", "wk": "week"}.get(m.group(2).lower(), m.group(2).lower())
        return f"{n}-{unit}"
    unit = UNIT_WORDS.get(m.group(2).lower(), "months").rstrip("s")
    return f"{m.group(1)}-{unit}"
