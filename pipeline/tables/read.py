"""Figures from the cells of a table: ``table_outcomes(tables, views, usable)``.

A cell is a figure of an endpoint when its column header names the endpoint (rows are trials
or arms: "ORR, % (95% CI)" over "38.1 (27.7–49.3)") or its row's first cell does (rows are
endpoints, columns are arms). The endpoint's header, and the other one, say the measure and
unit ("mPFS, mo" -> median months; "ORR, %" -> rate; "HR" -> hazard ratio; "12-month OS, %" ->
landmark), whether a bracketed low–high is a 95% CI ("(95% CI)") or not ("(range)", "IQR"),
and whether "18 (32)" is a count and its percentage ("n (%)"). The other axis says what the
figure is of: the trial named in the row's first cell (or column header, or caption), the drugs
of its regimen cell (the NER's DRUG mentions, canonical as regimen records have them), the
total of an "N" column or an "(n = 53)", and the arm (brackets in the first cell, a dose in the
regimen cell, a cohort column header). A cell the reading does not cover, "NR" and "–" give no
figure; neither do tables of baseline characteristics or adverse events, or rows of toxicities.

Every record points at its cell: ``text[start:end]`` is the cell's figure, footnote marks left
out; ``sentence`` is the sentence holding the cell.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache

from pipeline.extract.context import Mention, SentenceView
from pipeline.extract.lexicon import load_lexicons
from pipeline.extract.outcomes import RATE_ENDPOINTS, SAFETY, TIME_ENDPOINTS
from pipeline.extract.treatments import regimen_drugs
from pipeline.extract.trials import TrialNames, trial_names
from pipeline.records import OutcomeRecord
from pipeline.tables.cells import (
    GROUP_SIZE, N_HEADER, P_HEADER, REGIMEN_HEADER, TRAILING_MARKS, CellReading, Hints, hints, read_cell,
    read_p_value,
)
from pipeline.tables.guards import guards
from pipeline.tables.model import Cell, Table

# A table of these is not one of efficacy figures (unless its caption also names efficacy).
NOT_EFFICACY = re.compile(r"\b(?:baseline|characteristics?|demographics?|adverse|toxicit\w*|safety|side[- ]effects?|"
                          r"treatment[- ]related|grade\s*[≥>]?\s*\d|any grade)\b", re.IGNORECASE)
COMPARISON = re.compile(r"\b(?:vs\.?|versus|compared|or)\b", re.IGNORECASE)
CITATION = re.compile(r"\bet al\b")
EVENTS = re.compile(r"\b(?:events?|deaths?|censored|at risk|progressions)\b", re.IGNORECASE)
EFFICACY = re.compile(r"\b(?:efficacy|activity|response|survival|outcomes?|endpoints?)\b", re.IGNORECASE)
BRACKETED = re.compile(r"[(\[]([^()\[\]]+)[)\]]")
# Words of a header that say how a figure is given, not which arm it is of. White space before
# "95% CI" is taken from where its run starts (the look-behind: no white space before its first
# character), so a search does not re-scan a long run from each of its positions.
MEASURE_WORDS = re.compile(
    r"[(\[]?+(?:\s(?<!\s\s)\s*)?\d{2}\s?%\s*(?:CI|C\.I\.|CrI)\s*[)\]]?|\b(?:n|no\.)\s*(?:/\s*N\s*)?[(\[]\s*%\s*[)\]]|[(\[]\s*%\s*[)\]]|%|"
    r"(?<![-\d])\b(?:median|mean|months?|mo|weeks?|rate|value|estimate|range|IQR|HR|OR|hazard ratio|odds ratio|"
    r"p[- ]?value|95\s?%\s*CI|CI|results?|values?|estimates?|outcomes?)\b",
    re.IGNORECASE,
)
EDGE_PUNCTUATION = " ,;:/-–—|"  # not "+": "IHC 3+"
CONNECTOR = re.compile(r"(?<!\S)(?:\+|&|/|plus|and|with|or|followed by|then|→)(?!\S)", re.IGNORECASE)
ARM_HEADER = re.compile(r"\b(?:cohorts?|sub-?groups?|subsets?|groups?|dose levels?|doses?|parts?|strat(?:um|a)|"
                        r"analys[ie]s)\b", re.IGNORECASE)
# "SD" as a standard deviation, "stable disease" written out, responses that are not a tumour's
# and words of a tumour's response: pipeline/data/table_guards.json.
DEVIATION, STABLE_DISEASE = guards()["deviation"], guards()["stable_disease"]
OTHER_RESPONSE, TUMOUR_RESPONSE = guards()["other_response"], guards()["tumour_response"]
RESPONSE_CATEGORIES = {"CR", "PR", "PD", "ORR", "DCR", "CBR"}
GENERIC_ARM_WORDS = {"alone", "only", "monotherapy", "combination", "combined", "therapy", "regimen", "treatment"}


# ----------------------------------------------------------------------------- mentions by offset


class _Mentions:
    """The NER's mentions of the whole document, found by the cell they lie in."""

    def __init__(self, views: list[SentenceView]):
        self.by_label: dict[str, tuple[list[int], list[Mention]]] = {}
        for attr in ("endpoints", "drugs", "trials"):
            found = sorted((m for v in views for m in getattr(v, attr)), key=lambda m: m.start)
            self.by_label[attr] = ([m.start for m in found], found)

    def within(self, attr: str, start: int, end: int) -> list[Mention]:
        starts, found = self.by_label[attr]
        i = bisect.bisect_left(starts, start)
        out = []
        while i < len(found) and found[i].start < end:
            if found[i].end <= end:
                out.append(found[i])
            i += 1
        return out

    def in_cells(self, attr: str, cells: list[Cell]) -> list[Mention]:
        return [m for c in cells for m in self.within(attr, c.start, c.end)]


class _NoMentions:
    """No NER mentions: ``_endpoints_of`` then reads the cells with the vocabulary alone."""

    def in_cells(self, attr: str, cells: list[Cell]) -> list[Mention]:
        return []


_NO_MENTIONS = _NoMentions()


@lru_cache(maxsize=1)
def _endpoint_patterns() -> tuple[re.Pattern, re.Pattern, dict[str, str]]:
    """The endpoint vocabulary as two patterns: short forms ("ORR", "mPFS") case-sensitive,
    phrases not; for cells the NER's mentions miss ("ORR†", "mDoR", a word glued to a "|")."""
    lex = load_lexicons().endpoints
    exact = sorted((s for s in lex if len(s) <= 5 and any(c.isupper() for c in s)), key=len, reverse=True)
    phrases = sorted((s for s in lex if s not in exact), key=len, reverse=True)
    canon = {s.lower(): c for s, c in lex.items() if s not in exact} | {s: c for s, c in lex.items() if s in exact}
    # "mDoR", "cORR": a median's or a confirmed response's short form.
    short = re.compile(r"(?<![A-Za-z])[mc]?(" + "|".join(map(re.escape, exact)) + r")(?![A-Za-z])")
    long = re.compile(r"(?<![A-Za-z])(" + "|".join(map(re.escape, phrases)) + r")(?![A-Za-z])", re.IGNORECASE)
    return short, long, canon


def _endpoints_of(cells: list[Cell], mentions: _Mentions) -> set[str]:
    """The endpoints the cells name: the NER's, else the vocabulary's."""
    found = {m.canonical for m in mentions.in_cells("endpoints", cells)}
    if found or not cells:
        return found
    short, long, canon = _endpoint_patterns()
    for cell in cells:
        found.update(canon[m.group(1)] for m in short.finditer(cell.text))
        found.update(canon[m.group(1).lower()] for m in long.finditer(cell.text))
    return found


# ----------------------------------------------------------------------------- what a row or column is of


@dataclass
class _Context:
    """What the figures of a row (or, rows being endpoints, of a column) are of."""

    trial: str | None = None
    drugs: list[str] | None = None
    arm: list[str] = field(default_factory=list)
    total: int | None = None

    def completed(self, other: _Context) -> _Context:
        return _Context(self.trial or other.trial, self.drugs or other.drugs,
                        self.arm + [a for a in other.arm if a not in self.arm], self.total or other.total)


def table_outcomes(tables: list[Table], views: list[SentenceView], usable: list[SentenceView]) -> list[OutcomeRecord]:
    """The outcome records of ``tables``; ``views`` are all the document's sentences, ``usable``
    those outside back matter (a table starting in back matter is not read)."""
    if not tables:
        return []
    mentions = _Mentions(views)
    names = trial_names(usable)
    named = names.trials(t.canonical for v in usable for t in v.trials if t.label != "REGISTRY")
    document_trial = names.name_of(next(iter(named))) if len(named) == 1 else None
    starts = [v.sentence.start for v in views]
    readable = {v.sentence.index for v in usable}

    def sentence_of(offset: int) -> int:
        return views[max(0, bisect.bisect_right(starts, offset) - 1)].sentence.index

    records: list[OutcomeRecord] = []
    for index, table in enumerate(tables):
        if sentence_of(table.start) in readable:
            records.extend(_TableReader(table, index, mentions, names, sentence_of, document_trial).records())
    return records


class _TableReader:
    def __init__(self, table: Table, index: int, mentions: _Mentions, names: TrialNames, sentence_of,
                 document_trial: str | None):
        self.table, self.index, self.mentions, self.names, self.sentence_of = table, index, mentions, names, sentence_of
        self.document_trial = document_trial
        self._responses: bool | None = None  # whether the table names categories of response

    # ------------------------------------------------------------------ endpoints
    def _endpoints(self, cells: list[Cell]) -> set[str]:
        return self._without_deviation(_endpoints_of(cells, self.mentions), " ".join(c.text for c in cells))

    def _without_deviation(self, found: set[str], text: str) -> set[str]:
        """``found`` without "SD" where it is a standard deviation: said next to a mean or
        "±" ("Mean (SD)", "% (SD)", "mean ± SD"), or in a table naming no other category of
        response (CR, PR, PD, ORR, DCR...) nor "stable disease"; and without a response that
        is not a tumour's ("virologic response", "molecular response")."""
        if found & RESPONSE_CATEGORIES and OTHER_RESPONSE.search(text) and not TUMOUR_RESPONSE.search(text):
            found = found - RESPONSE_CATEGORIES
        if "SD" not in found:
            return found
        if DEVIATION.search(text) or not self._response_table():
            return found - {"SD"}
        return found

    def _response_table(self) -> bool:
        if self._responses is None:
            table = self.table
            cells = [c for row in table.rows for c in row if c.is_header or c.column == 0]
            said = {m.canonical for m in self.mentions.in_cells("endpoints", cells)} | _endpoints_of(cells, _NO_MENTIONS)
            if table.caption is not None:
                said |= {m.canonical for m in self.mentions.within("endpoints", table.caption.start, table.caption.end)}
            text = " ".join([c.text for c in cells] + ([table.caption.text] if table.caption else []))
            self._responses = bool(said & RESPONSE_CATEGORIES) or bool(STABLE_DISEASE.search(text))
        return self._responses

    # ------------------------------------------------------------------ the table
    def records(self) -> list[OutcomeRecord]:
        table = self.table
        caption = table.caption.text if table.caption else ""
        corner = " ".join(c.text for c in table.column_header(0))
        if (NOT_EFFICACY.search(caption) and not EFFICACY.search(caption)) or NOT_EFFICACY.search(corner):
            return []
        columns = [self._column(j) for j in range(table.columns)]
        if any(NOT_EFFICACY.search(col.text) and not col.endpoints for col in columns[1:]):
            return []  # "Any grade | Grade ≥3" columns: a table of toxicities
        self._caption_endpoint(columns)
        caption_context = self._caption_context()
        # "Data are n (%)", "median (95% CI)": what the caption, corner or notes say of every cell.
        said = " ".join([caption, corner, *(f.text for f in table.footnotes)])
        overall = hints(said)
        self.table_hints = Hints(ci=overall.ci, range=overall.range, count_percent=overall.count_percent)
        records: list[OutcomeRecord] = []
        previous = _Context()
        group, group_hints = _Context(), Hints()
        for r in range(table.header_rows, len(table.rows)):
            if r in table.ragged:
                continue  # its cells' columns are not known
            row = table.rows[r]
            stub = [c for c in row if c.column == 0]
            data = [c for c in row if c.column > 0]
            if not stub and _spans_value_columns(data, table.columns):
                stub, data = data, []  # "| | HER2 IHC 3+ (over every value column) |": a group label
            if not data:
                if stub:  # a group label over the rows below it ("HER2 IHC 3+", "Best response, n (%)")
                    group, group_hints = self._context(stub), hints(" ".join(c.text for c in stub))
                    if self._endpoints(stub):
                        group = _Context()  # an endpoint over its categories: no arm
                continue
            if stub and (SAFETY.search(" ".join(c.text for c in stub)) or EVENTS.search(" ".join(c.text for c in stub))):
                continue  # toxicities; "Events, n (%)" counts events, not patients with a response
            # A row with an empty first cell is of the trial or arm of the row above.
            if stub:
                previous = self._context(stub)
            regimen = self._context([c for c in data if columns[c.column].role == "regimen"])
            cohort = self._context([c for c in data if columns[c.column].role == "arm"])
            context = _Context(previous.trial or regimen.trial or cohort.trial, regimen.drugs or previous.drugs,
                               list(dict.fromkeys(previous.arm + cohort.arm + regimen.arm)),
                               previous.total or regimen.total or cohort.total)
            context = self._with_total(context, row, columns)
            row_endpoints = self._endpoints(stub)
            row_hints = hints(" ".join(c.text for c in stub)).merged(group_hints)
            records.extend(self._row(r, row, columns, row_endpoints, row_hints,
                                     context.completed(group).completed(caption_context)))
        return records

    def _column(self, j: int) -> _Column:
        header = self.table.column_header(j)
        text = " ".join(c.text for c in header)
        endpoints = self._endpoints(header)
        plain = TRAILING_MARKS.sub("", header[-1].text).strip() if header else ""
        if j == 0:
            role = "stub"
        elif N_HEADER.fullmatch(plain) and not endpoints:
            role = "n"
        elif P_HEADER.fullmatch(plain):
            role = "p"
        elif REGIMEN_HEADER.search(text) and not endpoints and self._text_column(j):
            role = "regimen"
        elif ARM_HEADER.search(text) and not endpoints and self._text_column(j):
            role = "arm"
        else:
            role = "value"
        context = _Context()
        if not endpoints and role == "value":
            context = self._context(header, header=True)
        return _Column(j, role, text, endpoints, hints(text), header, context, bool(EVENTS.search(text)))

    def _text_column(self, j: int) -> bool:
        """Whether the body cells of column ``j`` hold words, not data ("Arm A (n = 40)" over
        figures heads an arm's figures, "Regimen" over drug names a column of regimens)."""
        cells = [c for row in self.table.body for c in row if c.column == j]
        return bool(cells) and not any(read_cell(c.text) is not None for c in cells)

    def _caption_endpoint(self, columns: list[_Column]) -> None:
        """A table whose caption (or top-left cell) names one endpoint and whose headers and rows
        name none ("Table 3. Objective response by subgroup", "PFS rate | 6 months | 12 months"):
        every figure column is of that endpoint."""
        if any(col.endpoints for col in columns[1:]):
            return
        if any(self._endpoints([c for c in row if c.column == 0]) for row in self.table.body):
            return
        caption, corner = self.table.caption, self.table.column_header(0)
        found = self._without_deviation({m.canonical for m in self.mentions.within("endpoints", caption.start, caption.end)},
                                        caption.text) if caption else set()
        said = caption.text if caption else ""
        if not found and corner:
            found, said = self._endpoints(corner), " ".join(c.text for c in corner)
        if len(found) == 1:
            for col in columns:
                if col.role == "value":
                    col.endpoints = set(found)
                    col.hints = col.hints.merged(hints(said))
                    col.context = _Context()

    def _caption_context(self) -> _Context:
        """What the caption says of every row: its one trial, its one regimen ("Table 2. Activity
        of T-DXd in SUNRISE-2"; not when it compares two). A table naming no trial in its
        rows, headers or caption, in a document naming one trial, is of that trial."""
        caption = self.table.caption
        trial, drugs = None, None
        if caption is not None:
            found = {m.canonical for m in self.mentions.within("trials", caption.start, caption.end) if m.label != "REGISTRY"}
            if len(found) == 1:
                trial = self.names.name_of(next(iter(found)))
            if not COMPARISON.search(caption.text):
                drugs = regimen_drugs(self.mentions.within("drugs", caption.start, caption.end)) or None
        if trial is None and self.document_trial and not self._names_trials():
            trial = self.document_trial
        return _Context(trial=trial, drugs=drugs)

    def _names_trials(self) -> bool:
        """Whether any cell names a trial, or a study by its authors ("Lee et al.")."""
        cells = [c for row in self.table.rows for c in row]
        return bool(self.mentions.in_cells("trials", cells)) or any(CITATION.search(c.text) for c in cells)

    def _context(self, cells: list[Cell], header: bool = False) -> _Context:
        """Trial, drugs, arm and group size said by ``cells``: a row's first cell(s) or
        regimen cell(s), or a column's header cells (``header``)."""
        trials = self.mentions.in_cells("trials", cells)
        named = [t for t in trials if t.label != "REGISTRY"] or trials
        trial = self.names.name_of(named[0].canonical) if named else None
        drugs = regimen_drugs(self.mentions.in_cells("drugs", cells)) or None
        arm = []
        for cell in cells:
            part = self._arm_part(cell, header)
            if part and part not in arm:
                arm.append(part)
        size = next((m for m in (GROUP_SIZE.search(c.text) for c in cells) if m), None)
        return _Context(trial, drugs, arm, int(size.group(1)) if size else None)

    def _arm_part(self, cell: Cell, header: bool) -> str | None:
        """The words of a cell that tell an arm apart, once the trial and drug names and the
        group size are taken out: "(cohort A)" after a trial name, a dose ("5.4 mg/kg"), a
        cohort ("Cohort B: T-DXd"), or the whole cell when it names neither ("Fu et al.").
        A cell naming an endpoint (rows being endpoints) names no arm."""
        if self._endpoints([cell]):
            return None
        text = TRAILING_MARKS.sub("", cell.text)
        chars = list(text)
        for m in self.mentions.within("trials", cell.start, cell.end) + self.mentions.within("drugs", cell.start, cell.end):
            for k in range(m.start - cell.start, min(len(chars), m.end - cell.start)):
                chars[k] = " "
        rest = GROUP_SIZE.sub(" ", "".join(chars))
        rest = MEASURE_WORDS.sub(" ", rest)  # "Median, mo" and "HR (95% CI)" rows name no arm
        if len(rest.split()) < len(text.split()):  # names were taken out: so are the words joining them
            rest = CONNECTOR.sub(" ", rest)
            parts = [BRACKETED.sub(" ", rest), *BRACKETED.findall(rest)]
        else:
            parts = [rest]
        parts = [" ".join(p.split()).strip(EDGE_PUNCTUATION) for p in parts]
        parts = [p for p in parts if re.search(r"[A-Za-z0-9]", p) and p.lower() not in GENERIC_ARM_WORDS]
        return ", ".join(parts) or None

    def _with_total(self, context: _Context, row: list[Cell], columns: list[_Column]) -> _Context:
        for cell in row:
            if columns[cell.column].role == "n":
                reading = read_cell(cell.text)
                if reading is not None and reading.kind == "integer":
                    return _Context(context.trial, context.drugs, context.arm, int(reading.value))
        return context

    # ------------------------------------------------------------------ one row
    def _row(self, r: int, row: list[Cell], columns: list[_Column], row_endpoints: set[str], row_hints: Hints,
             context: _Context) -> list[OutcomeRecord]:
        figures: list[_Figure] = []
        pending_ranges: list[tuple[Cell, CellReading, str]] = []
        pending_counts: list[tuple[Cell, CellReading, str]] = []
        p_values = []
        for cell in row:
            column = columns[cell.column]
            if column.role == "p":
                p = read_p_value(cell.text)
                if p:
                    p_values.append(p)
                continue
            if column.role != "value" or column.events or not self._single(row, cell):
                continue
            reading = read_cell(cell.text)
            if reading is None or reading.kind == "none":
                continue
            endpoint, from_column = self._endpoint(column.endpoints, row_endpoints)
            if endpoint is None:
                continue
            if reading.kind == "range":
                pending_ranges.append((cell, reading, endpoint))
                continue
            if reading.kind == "count":
                pending_counts.append((cell, reading, endpoint))
                continue
            own, other = (column.hints, row_hints) if from_column else (row_hints, column.hints)
            other = other.merged(self.table_hints)
            cell_context = context if from_column else column.context.completed(context)
            if from_column and len(self.table.column_header(cell.column)) > 1:
                cell_context = cell_context.completed(self._upper_context(cell.column))
            figures.append(_Figure(cell, reading, endpoint, own.merged(other), cell_context))
        for cell, reading, endpoint in pending_ranges:
            # A CI in a column of its own: the figure just before it, of the same endpoint.
            before = [f for f in figures if f.cell.column < cell.column and f.endpoint == endpoint]
            if before and before[-1].reading.ci_low is None and not before[-1].hints.range:
                f = before[-1]
                f.reading.ci_low, f.reading.ci_high, f.reading.ci_text = reading.ci_low, reading.ci_high, reading.ci_text
                f.ci_cell = True
                if columns[cell.column].hints.ci:  # "95% CI" over the column of ranges
                    f.hints = f.hints.merged(Hints(ci=True))
        for cell, reading, endpoint in pending_counts:
            near = [f for f in figures if f.endpoint == endpoint and f.reading.count is None]
            if near:
                f = min(near, key=lambda f: abs(f.cell.column - cell.column))
                f.reading.count, f.reading.total = reading.count, reading.total
            elif endpoint in RATE_ENDPOINTS:  # "ORR, n/N" alone: a count of responders
                column = columns[cell.column]
                figures.append(_Figure(cell, reading, endpoint, column.hints.merged(row_hints), context, count_only=True))
        records = [rec for f in figures if (rec := self._record(f)) is not None]
        if p_values and len(p_values) == 1:
            ratios = [rec for rec in records if rec.measure in ("hr", "or")]
            for rec in ratios or records:
                rec.p_value = p_values[0]
        return records

    def _single(self, row: list[Cell], cell: Cell) -> bool:
        """Whether ``cell`` is the only piece of its column in the row (a wrapped cell is text)."""
        return sum(1 for c in row if c.column == cell.column) == 1

    def _endpoint(self, column: set[str], row: set[str]) -> tuple[str | None, bool]:
        """The endpoint of a cell and whether its column header names it (else its row does)."""
        if len(column) == 1 and not (row - column):
            return next(iter(column)), True
        if not column and len(row) == 1:
            return next(iter(row)), False
        return None, False  # none, or two that disagree

    @staticmethod
    def _count_and_percent(reading: CellReading, total: int | None) -> bool:
        """"2 (3.8)" in a column of 53 patients: the bracket is the count's percentage."""
        if not total or reading.value is None or reading.value != int(reading.value):
            return False
        return abs(100 * reading.value / total - reading.bracket_number) <= 0.6

    def _upper_context(self, j: int) -> _Context:
        """A spanning header above a column's own header ("Cohort A" over "ORR | mPFS")."""
        upper = [c for c in self.table.column_header(j)[:-1] if not self._endpoints([c])]
        return self._context(upper, header=True) if upper else _Context()

    # ------------------------------------------------------------------ one figure
    def _record(self, f: _Figure) -> OutcomeRecord | None:
        reading, h = f.reading, f.hints
        value, count, confidence = reading.value, reading.count, 1.0
        if reading.bracket_number is not None:
            if not (reading.bracket_percent or h.count_percent or self._count_and_percent(reading, f.context.total)):
                return None  # "18 (32)": which is the count is not said
            value, count = reading.bracket_number, int(reading.value) if reading.value == int(reading.value) else None
            if count is None:
                return None
        measure, unit, point = _measure(f.endpoint, reading, h)
        if measure is None:
            return None
        if f.count_only:
            measure, unit = "count", None
        if measure == "count":
            count = int(value)
        elif unit is None and measure in ("rate", "median", "landmark"):
            confidence = 0.8  # no unit said: a count could pass for a rate
        ci_low, ci_high, ci_text = reading.ci_low, reading.ci_high, reading.ci_text
        if ci_low is not None:
            if h.range and not h.ci:
                ci_low = ci_high = ci_text = None  # a median's range, not its CI
            elif not (ci_low <= value and (ci_high is None or value <= ci_high)):
                if not f.ci_cell:
                    return None  # "4 (5–9)" is not a value and its CI: the reading is wrong
                ci_low = ci_high = ci_text = None
            elif not h.ci:
                confidence = min(confidence, 0.8)  # a bracketed range read as the CI
        if measure == "rate" and value > 100:
            return None
        total = reading.total if reading.total is not None else (f.context.total if measure in ("rate", "landmark", "count") else None)
        if measure == "rate" and unit == "%" and count is not None and total:
            if abs(100 * count / total - value) > 1.5:
                count = total = None
                confidence = min(confidence, 0.8)
        if measure == "rate" and f.endpoint in TIME_ENDPOINTS:
            confidence = min(confidence, 0.6)  # a rate of a time-to-event endpoint with no time point
        arm = ([point] if point else []) + f.context.arm
        cell = f.cell
        end = cell.start + reading.length
        kind = ("count" if measure == "count" else "count_value" if reading.bracket_number is not None
                else "value_count" if reading.count is not None and reading.ci_low is None
                else "value_ci" if ci_low is not None else "value")
        return OutcomeRecord(
            start=cell.start, end=end, text=cell.text[: reading.length], sentence=self.sentence_of(cell.start),
            rule=f"table.{'cells' if f.ci_cell and ci_low is not None else 'cell'}.{kind}",
            confidence=confidence, needs_review=confidence < 1.0,
            endpoint=f.endpoint, measure=measure, value=value, value_text=reading.value_text if reading.bracket_number is None
            else _bracket_text(cell.text), unit=unit,
            ci_low=ci_low, ci_high=ci_high, ci_text=ci_text, count=count, total=total, p_value=reading.p_value,
            trial=f.context.trial, drugs=f.context.drugs, arm=", ".join(arm) or None,
            table_idx=self.index, table_row=cell.row, table_column=cell.column,
        )


@dataclass
class _Column:
    index: int
    role: str  # "stub", "n", "p", "regimen", "value"
    text: str  # the header cells' text, top level first
    endpoints: set[str]
    hints: Hints
    header: list[Cell]
    context: _Context  # what a header without an endpoint says (rows being endpoints): the arm
    events: bool = False  # "PFS events, n/N": counts of events, no figure of the endpoint


@dataclass
class _Figure:
    cell: Cell
    reading: CellReading
    endpoint: str
    hints: Hints
    context: _Context
    count_only: bool = False
    ci_cell: bool = False  # the CI came from a column of its own


def _measure(endpoint: str, reading: CellReading, h: Hints) -> tuple[str | None, str | None, str | None]:
    """(measure, unit, time point) of a figure of ``endpoint``; measure None when the figure
    cannot be one of the endpoint ("ORR ... 6 months")."""
    if h.ratio:
        return h.ratio, None, None
    if reading.kind == "integer" and endpoint in RATE_ENDPOINTS and (
            h.count and not (h.percent or h.duration) or h.count_percent):
        return "count", None, None  # "CR, n": a number of patients; "0" under "n (%)"
    unit = reading.unit
    if unit is None:
        if h.percent or h.count_percent or reading.bracket_percent:
            unit = "%"
        elif h.duration:
            unit = h.duration
    if unit not in (None, "%"):
        if h.rate:
            return None, None, None  # a duration where a rate is said: the reading is wrong
        return ("median", unit, None) if endpoint in TIME_ENDPOINTS else (None, None, None)
    if unit == "%":
        if endpoint in TIME_ENDPOINTS and h.time_point:
            return "landmark", "%", h.time_point
        return "rate", "%", None
    if endpoint in TIME_ENDPOINTS:
        if h.time_point or h.rate:
            return ("landmark", None, h.time_point) if h.time_point else ("rate", None, None)
        return "median", None, None
    return ("rate", None, None) if endpoint in RATE_ENDPOINTS else (None, None, None)


def _bracket_text(text: str) -> str:
    m = re.search(r"[(\[]\s*(\d+(?:[.·]\d+)?)", text)
    return m.group(1) if m else text


def _spans_value_columns(cells: list[Cell], columns: int) -> bool:
    """One cell, no figure, spanning all the value columns of a table of three columns or
    more (after an empty first cell)."""
    if len(cells) != 1 or columns < 3:
        return False
    cell = cells[0]
    return cell.column == 1 and cell.colspan >= 2 and cell.column + cell.colspan >= columns and read_cell(cell.text) is None


def sentences_within(tables: list[Table], sentences) -> set[int]:
    """The indexes of the sentences that start inside one of ``tables`` (its rows' blocks)."""
    inside: set[int] = set()
    if not tables:
        return inside
    starts = [s.start for s in sentences]
    for table in tables:
        for start, end in table.parts:
            i = bisect.bisect_left(starts, start)
            while i < len(sentences) and sentences[i].start < end:
                inside.add(sentences[i].index)
                i += 1
    return inside
