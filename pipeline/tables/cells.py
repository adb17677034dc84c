"""What a table cell holds, read with anchored patterns: a figure ("38.1 (27.7–49.3)",
"32 (18/57)", "18 (31.6%)", "4.7 mo"), a range in a CI column ("27.7–49.3"), a count ("18/57"),
a plain integer (an N column), or no number at all ("NR", "–", "not reached"); and what a
header says about the cells under it (endpoint aside): unit, CI, "n (%)", ratio, time point.

A cell is read whole or not at all: a cell the patterns do not cover yields nothing, so a
number is never taken out of a sentence-like cell. Footnote marks (a, b, *, †...) after a
figure are left out of its span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.extract.figures import DASH, NUM, NUMBER_WORDS, UNIT_WORDS, to_float

SIGNED = r"[-−]?\d+(?:[.·]\d+)?"
UNIT = r"(?:%|months?|mos?\.?|weeks?|wks?|days?|years?|yrs?)"
# Marks after a figure: symbols (with or without a space) or a letter a-f right after it. The
# symbols and spaces are one run, ending on a symbol, taken from where the run starts (the
# look-behind): started inside a long run of white space a search would re-scan it from each
# position, and as "(?:\s*[*...]+)+" a run of symbols before more text was retried exponentially.
TRAILING_MARKS = re.compile(r"(?:(?<=[\d)\]%])[a-f](?:[\s*†‡§¶#ᵃᵇᶜᵈᵉᶠ]*[*†‡§¶#ᵃᵇᶜᵈᵉᶠ])?"
                            r"|(?<![\s*†‡§¶#ᵃᵇᶜᵈᵉᶠ])[\s*†‡§¶#ᵃᵇᶜᵈᵉᶠ]*[*†‡§¶#ᵃᵇᶜᵈᵉᶠ])$")
NO_NUMBER = re.compile(
    r"(?:NR|NE|NA|N/A|n/a|ND|NC|NAv|not (?:yet )?(?:reached|estimable|evaluable|applicable|reported|available|assessed)|"
    r"[-–—−‒]+|\.{1,3})(?:\s*[(\[].*[)\]])?",
    re.IGNORECASE,
)
BRACKET_CI = (rf"(?:(?:95\s?%\s*)?CI[:,]?\s*)?(?P<lo>{SIGNED})\s*(?P<u2>{UNIT})?\s*(?:{DASH}|,|;)\s*"
              rf"(?P<hi>{NUM}|NR|NE)\s*(?P<u3>{UNIT})?")
FIGURE = re.compile(
    rf"(?P<v>{NUM})\s*(?P<u>{UNIT})?"
    rf"(?:\s*[(\[]\s*(?:{BRACKET_CI}|(?P<n>\d+)\s*/\s*(?P<N>\d+)|(?P<p>{NUM})\s*(?P<pu>%)?|[nN]\s*=\s*(?P<size>\d+))\s*[)\]])?"
    rf"(?:\s*(?P<u4>{UNIT}))?"
    rf"(?:\s*[;,]?\s*[Pp]\s*(?P<pop>[=<>≤≥])\s*(?P<pv>0?[.·]\d+))?",
    re.IGNORECASE,
)
COUNT_FIRST = re.compile(rf"(?P<n>\d+)\s*/\s*(?P<N>\d+)\s*[(\[]\s*(?P<v>{NUM})\s*%?\s*[)\]]")  # "18/57 (31.6)"
# "18/57". The count is read from its first digit (the look-behind: no digit before it), so a
# search does not re-read a long run of digits from each of its positions.
COUNT = re.compile(r"(?P<n>\d(?<!\d\d)\d*)\s*/\s*(?P<N>\d+)")
RANGE = re.compile(rf"[(\[]?\s*(?P<lo>{SIGNED})\s*%?\s*(?:{DASH}|,)\s*(?P<hi>{NUM})\s*%?\s*[)\]]?")
P_CELL = re.compile(r"(?P<op>[<>≤≥=])?\s*(?P<pv>0?[.·]\d+|1(?:\.0+)?)")


@dataclass
class CellReading:
    """What a cell says. ``kind``: "figure", "range" (a bare low–high), "count" ("18/57"),
    "integer", "none" ("NR", "–"). ``length``: how much of the cell (from its start) the reading
    covers, footnote marks left out."""

    kind: str
    length: int
    value: float | None = None
    value_text: str | None = None
    unit: str | None = None  # "%" or a duration unit, as written in the cell
    ci_low: float | None = None
    ci_high: float | None = None
    ci_text: str | None = None
    count: int | None = None
    total: int | None = None
    p_value: str | None = None
    bracket_number: float | None = None  # "18 (32)": the number in brackets, meaning unknown yet
    bracket_percent: bool = False  # "18 (32%)": that number is a percentage


def read_cell(text: str) -> CellReading | None:
    """The reading of a whole cell, or None when it is not one of the forms above."""
    body = TRAILING_MARKS.sub("", text).rstrip()
    if not body:
        return None
    length = len(body)
    if NO_NUMBER.fullmatch(body):
        return CellReading("none", length)
    if body.isdigit():
        return CellReading("integer", length, value=float(body), value_text=body)
    m = COUNT_FIRST.fullmatch(body)
    if m:
        count, total = int(m["n"]), int(m["N"])
        return CellReading("figure", length, value=to_float(m["v"]), value_text=m["v"], unit="%" if "%" in body else None,
                           count=count, total=total)
    m = COUNT.fullmatch(body)
    if m:
        return CellReading("count", length, value=float(m["n"]), value_text=m["n"], count=int(m["n"]), total=int(m["N"]))
    m = FIGURE.fullmatch(body)
    if m:
        return _figure(m, length)
    m = RANGE.fullmatch(body)
    if m and (body[0] in "([" or "," not in body):
        return CellReading("range", length, ci_low=to_float(m["lo"]), ci_high=to_float(m["hi"]),
                           ci_text=body.strip("()[] "))
    return None


def _figure(m: re.Match, length: int) -> CellReading:
    units = [u for u in (m["u"], m["u4"], m["u2"], m["u3"]) if u]
    unit = None
    if units:
        word = units[0].lower().rstrip(".")
        unit = "%" if word == "%" else UNIT_WORDS.get(word)
    reading = CellReading("figure", length, value=to_float(m["v"]), value_text=m["v"], unit=unit)
    if m["lo"] is not None:
        reading.ci_low = to_float(m["lo"])
        reading.ci_high = None if m["hi"].upper() in ("NR", "NE") else to_float(m["hi"])
        reading.ci_text = m.group(0)[m.start("lo") - m.start() : m.end("hi") - m.start()]
    elif m["n"] is not None:
        reading.count, reading.total = int(m["n"]), int(m["N"])
    elif m["p"] is not None:
        reading.bracket_number, reading.bracket_percent = to_float(m["p"]), bool(m["pu"])
    elif m["size"] is not None:
        reading.total = int(m["size"])
    if m["pv"] is not None:
        reading.p_value = m["pv"] if m["pop"] == "=" else m["pop"] + m["pv"]
    return reading


def read_p_value(text: str) -> str | None:
    """A p-value cell ("0.003", "<0.001") as written, else None."""
    body = TRAILING_MARKS.sub("", text).strip()
    m = P_CELL.fullmatch(body)
    if not m:
        return None
    return m["pv"] if m["op"] in (None, "=") else m["op"] + m["pv"]


# ----------------------------------------------------------------------------- what a header says

CI_DECLARED = re.compile(r"\b\d{2}\s?%\s*(?:CI|C\.I\.|confidence intervals?|CrI)\b|\bCI\b", re.IGNORECASE)
RATE_DECLARED = re.compile(r"\b(?:rates?|proportion|percentage)\b", re.IGNORECASE)
RANGE_DECLARED = re.compile(r"\b(?:range|IQR|interquartile)\b", re.IGNORECASE)
PERCENT_DECLARED = re.compile(r"%|\bpercent(?:age)?\b", re.IGNORECASE)
# "n (%)", "No. (%)", "n/N (%)": cells hold a count, then its percentage in brackets.
COUNT_PERCENT = re.compile(r"\b(?:n|no\.?|number)\s*(?:/\s*N)?\s*[(\[]\s*%\s*[)\]]", re.IGNORECASE)
# "CR, n", "Responders (n)", "No. of responders": a count of patients.
COUNT_DECLARED = re.compile(r"(?:^|[,(\[]\s*)(?:n|no\.?)\s*[)\]]?\s*$|^\s*(?:no\.|number) of\b", re.IGNORECASE)
# A duration unit word; the header's unit unless a number stands right before it, which makes it
# a time point ("12-month PFS", "OS at 24 months").
DURATION_WORD = re.compile(r"\b(months?|mos?|weeks?|wks?|days?|years?|yrs?)\b", re.IGNORECASE)
NUMBER_BEFORE = re.compile(r"\d\s*-?\s*$")
HAZARD_RATIO = re.compile(r"\b(?:HRs?|hazard ratios?)\b", re.IGNORECASE)
ODDS_RATIO = re.compile(r"\b(?:ORs?\b(?!R)|odds ratios?)\b")
P_HEADER = re.compile(r"(?:p|P)(?:[- ]?values?)?|(?:log-rank|two-sided)\s+[pP]", re.IGNORECASE)
N_HEADER = re.compile(
    r"(?:n|no\.?|number)(?:\s+(?:of\s+)?(?:patients|pts|subjects|participants|evaluable|treated|enrolled))?"
    r"|(?:patients|pts|subjects|evaluable(?:\s+patients)?)\s*(?:,\s*|[(\[]\s*)(?:n|no\.?)\s*[)\]]?",
    re.IGNORECASE,
)
GROUP_SIZE = re.compile(r"[(\[,]\s*[nN]\s*=\s*(\d+)\s*[)\]]?")  # "Cohort A (n = 53)"
REGIMEN_HEADER = re.compile(r"\b(?:regimens?|treatments?|therap(?:y|ies)|arms?|interventions?|drugs?|agents?|"
                            r"combinations?)\b", re.IGNORECASE)


@dataclass
class Hints:
    """What header (or stub) text says about the figures it governs."""

    percent: bool = False
    duration: str | None = None  # "months", "weeks", ...
    ci: bool = False  # "(95% CI)": a bracketed low–high is a confidence interval
    range: bool = False  # "(range)", "IQR": a bracketed low–high is not a CI
    count_percent: bool = False  # "n (%)"
    count: bool = False  # "CR, n", "Responders (n)": cells hold a number of patients
    ratio: str | None = None  # "hr" | "or"
    time_point: str | None = None  # "12-month" in "12-month OS, %"
    rate: bool = False  # "PFS rate": a proportion of patients, not a time

    def says_unit(self) -> bool:
        return bool(self.percent or self.duration or self.count_percent or self.count or self.ratio or self.rate)

    def merged(self, other: Hints) -> Hints:
        """These hints, completed by ``other``'s where these say nothing: its unit and measure
        only when these name none ("mDoR, mo" under "Best response, n (%)" stays in months),
        except a ratio."""
        unit = self if self.says_unit() else other
        ci = self if self.ci or self.range else other
        # A ratio said on either side wins: "HR (95% CI)" over a row "Median PFS, months".
        return Hints(unit.percent, unit.duration, ci.ci, ci.range, unit.count_percent, unit.count,
                     self.ratio or other.ratio, self.time_point or other.time_point, unit.rate)


def hints(text: str) -> Hints:
    without_ci = CI_DECLARED.sub(" ", text)
    duration = next((m for m in DURATION_WORD.finditer(text) if not NUMBER_BEFORE.search(text[: m.start()])), None)
    ratio = "hr" if HAZARD_RATIO.search(text) else ("or" if ODDS_RATIO.search(text) else None)
    return Hints(
        percent=bool(PERCENT_DECLARED.search(without_ci)),
        duration=UNIT_WORDS.get(duration.group(1).lower()) if duration else None,
        ci=bool(CI_DECLARED.search(text)),
        range=bool(RANGE_DECLARED.search(text)),
        count_percent=bool(COUNT_PERCENT.search(text)),
        count=bool(COUNT_DECLARED.search(text)),
        ratio=ratio,
        time_point=header_time_point(text),
        rate=bool(RATE_DECLARED.search(text)),
    )


# "12-month OS", "OS at 24 months", "6-mo PFS", "2-yr OS": a landmark's time point; not a
# follow-up ("6.7-year follow-up", "24-month follow-up").
TIME_POINT = re.compile(
    r"(?<![\d.·])\b(\d+|one|two|three|four|five|six|ten|twelve)\s?-?\s?(months?|mos?|years?|yrs?|weeks?|wks?)\b"
    r"(?!\s*-?\s*(?:follow|f/u))",
    re.IGNORECASE,
)
TIME_UNITS = {"m": "month", "y": "year", "w": "week"}


def header_time_point(text: str) -> str | None:
    m = TIME_POINT.search(text)
    if not m:
        return None
    n = m.group(1).lower()
    return f"{NUMBER_WORDS.get(n, n)}-{TIME_UNITS[m.group(2)[0].lower()]}"
