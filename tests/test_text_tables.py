"""Plain-text tables: detection (tab, pipe, aligned columns), the grid with exact offsets, and
the figures read from the cells, end to end through ``analyse``. Every table here is made up."""

from __future__ import annotations

import time

import pytest

from pipeline.document import Document
from pipeline.document import Table as ReaderTable
from pipeline.extract import analyse
from pipeline.tables.text import text_tables

SPACE = """Table 1 Response and survival with HER2-directed treatment in the trials we pooled

Trial              Treatment                    Patients, n   ORR, % (95% CI)      Median PFS, months
SUNRISE-2          Trastuzumab + tucatinib      61            41.0 (28.6–54.3)a    7.9
CALDERA-1 (arm B)  Pertuzumab 420 mg + T-DM1    44            22.7 (11.5–37.8)     NR
Lee et al., Korea  Lapatinib + capecitabine     20            –                    3.1*

a Independent central review. NR, not reached.
Across the pooled trials the ORR was 35% overall.
"""

# Endpoints as rows, arms as columns; units and CI in the row labels.
TAB = (
    "Table 2. Outcomes by cohort in the MERIDIAN-3 study\n\n"
    "Endpoint\tCohort A: T-DXd 5.4 mg/kg (n = 40)\tCohort B: T-DXd 6.4 mg/kg (n = 24)\n"
    "Objective response rate, n (%)\t15 (37.5)\t7 (29.2)\n"
    "Disease control rate, % (95% CI)\t80.0 (64.4–90.9)\t70.8 (48.9–87.4)\n"
    "Median DoR, months (range)\t6.2 (1.4–11.0)\tNE\n"
    "12-month OS rate, %\t58\t49\n"
    "\nAbbreviations: NE, not estimable.\n"
)

# Units in the cells, not in the header.
PIPE = """Summary of the phase 2 results.

| Study | Regimen | N | ORR | PFS | OS |
|---|---|---:|---|---|---|
| SUNRISE-2 | tucatinib + trastuzumab | 61 | 41.0% (28.6–54.3) | 7.9 mo (5.5–10.1) | 21.4 mo |
| CALDERA-1 | pertuzumab + trastuzumab | 30 | 20% | 2.8 mo | not reached |

Data cut-off March 2023.
"""

# A spanning header (the arm) over value and CI sub-columns; endpoints as rows.
TWO_LEVEL = """Table 3. Efficacy by arm

                   Tucatinib + trastuzumab        Trastuzumab alone
Endpoint           Value       95% CI             Value      95% CI
ORR, %             44.1        31.2–57.6          18.0       8.6–31.4
Median PFS, mo     8.3         6.1–10.0           4.0        2.9–5.6
PFS HR             0.52        0.35–0.77          –          –
"""

# Tab-separated, two-level: an endpoint over "n/N | %" and over "months | 95% CI".
TAB_TWO_LEVEL = (
    "Table 6\tResponses\n\n"
    "\tORR\t\tMedian OS\t\n"
    "Trial\tn/N\t%\tmonths\t95% CI\n"
    "SUNRISE-2\t25/61\t41.0\t21.4\t16.0-27.5\n"
    "CALDERA-1\t6/30\t20.0\t13.0\t9.8-NR\n"
)

# Markdown allows one header row above its rule: the sub-headers come under it.
PIPE_TWO_LEVEL = """| Trial | ORR | | mPFS | |
|---|---|---|---|---|
| | % | 95% CI | mo | 95% CI |
| SUNRISE-2 | 41.0 | 28.6–54.3 | 7.9 | 5.5–10.1 |
| CALDERA-1 | 20.0 | 7.7–38.6 | 2.8 | 1.9–4.0 |
"""

# Endpoints as rows with their units in the cells: a row the sentence extractor could read too.
UNITS_IN_ROWS = """| Endpoint | Cohort A (n = 40) | Cohort B (n = 24) |
|---|---|---|
| ORR | 37.5% (22.7–54.2) | 29.2% |
| Median PFS | 6.9 months | 4.1 months |
"""

# Trials as columns, group sizes in their headers; a toxicity row and a count row.
TRIAL_COLUMNS = """Head-to-head summary:

| Outcome            | SUNRISE-2 (N=61) | CALDERA-1 (N=30) |
|--------------------|------------------|------------------|
| ORR, % (95% CI)    | 41.0 (28.6-54.3) | 20.0 (7.7-38.6)  |
| mPFS, mo           | 7.9              | 2.8              |
| Grade ≥3 AEs, %    | 18               | 25               |
| CR, n              | 2                | 0                |
"""

# Group labels over rows and a regimen wrapped onto a second line.
GROUPED = """Table 5 Activity by HER2 level

Cohort                     Regimen               ORR, %   DCR, %   Median PFS, mo
HER2 IHC 3+
  MERIDIAN-3 cohort A      T-DXd 6.4 mg/kg       52.1     85.4     8.1
  SUNRISE-2                Tucatinib +           44.0     79.0     7.7
                           trastuzumab
HER2 IHC 2+/ISH+
  MERIDIAN-3 cohort B      T-DXd 6.4 mg/kg       30.0     70.0     5.2
"""

# A row with an empty first cell: another arm of the trial above.
CONTINUED = """Trial        Regimen            N    ORR, %
SUNRISE-2    Tucatinib 300 mg   61   41.0
             Tucatinib 150 mg   30   26.7
CALDERA-1    Pertuzumab         44   22.7
"""

# The endpoint in the caption only; counts and rates in columns of their own.
BY_SUBGROUP = """Table 4. Objective response rate by subgroup in SUNRISE-2

Subgroup                 n/N      % (95% CI)
RAS wild-type            20/45    44.4 (29.6–60.0)
RAS mutant               5/16     31.3 (11.0–58.7)
"""

# A two-line arm header with group sizes; a group label saying "n (%)" over response
# categories; footnote marks and short forms the NER does not know ("ORR†", "mDoR", "6-mo").
BEST_RESPONSE = """Table 2 Best response in CALDERA-1 (investigator assessed)

                               Cohort A            Cohort B
                               (n = 53)            (n = 15)
Best overall response, n (%)
  Complete response            2 (3.8)             0
  Partial response             22 (41.5)           0
  Not evaluable                3 (5.7)             1 (6.7)
ORR†, % (95% CI)               45.3 (31.6–59.6)    0 (0–21.8)
mDoR, mo (95% CI)              7.0 (5.8–9.5)       NE
6-mo PFS, %                    62                  20

† Confirmed responses.
"""

# Cohort and dose in columns of their own.
COHORT_COLUMNS = (
    "Study\tCohort\tDose\tN\tcORR, %\tmPFS, mo\n"
    "MERIDIAN-3\tA (IHC 3+)\t6.4 mg/kg\t40\t52.5\t8.1\n"
    "MERIDIAN-3\tB (IHC 2+)\t6.4 mg/kg\t22\t31.8\t5.0\n"
)

# Endpoints as columns and statistics as rows; an events row; time points heading landmark rates.
STATISTICS_AS_ROWS = """               PFS                 OS
Median, mo     8.2 (4.2–10.3)      24.1 (20.3–36.7)
HR (95% CI)    0.62 (0.47–0.81)    0.71 (0.50–0.99)
Events, n (%)  45 (73.8)           30 (49.2)

Landmark PFS rate     6 months    12 months
SUNRISE-2             62          35
"""

# A follow-up in the first cell is an arm, not the time point of a landmark.
FOLLOW_UP = """Trial                            N    Median OS, months   OS rate, %
SUNRISE-2 (4.5-year follow-up)   61   21.4                 –
CALDERA-1 (36-month follow-up)   30   13.0                 52
"""

# Trials over their arms, each trial's name written over the first of its columns; group sizes
# on a third header line; a hazard ratio written across both arms of a trial.
RANDOMISED = """Table 4 Outcomes in the two randomised trials

                        SUNRISE-2                         CALDERA-1
                        T-DXd          Chemotherapy       T-DXd          Chemotherapy
                        (n = 80)       (n = 40)           (n = 60)       (n = 30)
ORR, %                  51.3           14.3               42.0           10.0
Median OS, months       12.5           8.4                11.0           7.9
OS HR (95% CI)          0.59 (0.39–0.88)                  0.70 (0.50–0.98)
"""

# The caption names the trial and its one regimen; the rows are cohorts.
CAPTION_REGIMEN = """Table 7. Activity of tucatinib plus trastuzumab in CALDERA-1

Cohort       N    ORR, %
A (RAS WT)   40   45.0
B (RAS MT)   12   16.7

Table 8. Tucatinib plus trastuzumab versus trastuzumab in CALDERA-1

Arm          N    ORR, %
Doublet      40   45.0
Single       38   13.2
"""

NOT_EFFICACY = """Table 1. Baseline characteristics

Characteristic                          Cohort A (n = 40)    Cohort B (n = 24)
Age, median (range), y                  61 (34–80)           58 (29–77)
Prior lines, median                     3                    2
Best response to prior therapy, n (%)   12 (30)              6 (25)

Table 4. Treatment-emergent adverse events

Event                 Any grade, n (%)    Grade ≥3, n (%)
Diarrhoea             22 (55.0)           3 (7.5)
Disease progression   4 (10.0)            4 (10.0)
"""

PROSE = """The objective response rate was 41%.  Median progression-free survival was 7.9
months.  Both figures held at the final analysis of 61 patients, and 12 had a response
lasting 6 months or more.  Median overall survival was 21.4 months in 2023.
One line  with  double  spaces  and 12  numbers  2019.

References
1.  Smith J, Lee K.  Tucatinib in colorectal cancer.  Lancet Oncol  2021;22:779–89.
2.  Brown A.  Pertuzumab and trastuzumab.  J Clin Oncol  2019;37:1021–30.
3.  Green B.  HER2 in colorectal cancer.  Ann Oncol  2020;31:55–61.
"""


def doc(text: str, **kw) -> Document:
    return Document(source="t.txt", format="text", text=text, **kw)


def grid(table) -> list[list[tuple[int, int, str]]]:
    return [[(c.column, c.colspan, c.text) for c in row] for row in table.rows]


def table_figures(text: str) -> list[tuple]:
    """(endpoint, measure, value, unit, ci, count, total, trial, drugs, arm) of the records read
    from table cells; each checked to point at its cell and its sentence."""
    document = doc(text)
    analysis = analyse(document)
    out = []
    for r in analysis.records:
        if r.type != "outcome" or not r.rule.startswith("table."):
            continue
        assert text[r.start : r.end] == r.text
        sentence = analysis.sentences[r.sentence]
        assert sentence.start <= r.start and r.end <= sentence.end
        ci = None if r.ci_low is None and r.ci_high is None else (r.ci_low, r.ci_high)
        out.append((r.endpoint, r.measure, r.value, r.unit, ci, r.count, r.total, r.trial,
                    tuple(r.drugs) if r.drugs else None, r.arm))
    return out


# ----------------------------------------------------------------------------- detection and grid


def test_space_aligned_grid_caption_and_footnotes():
    document = doc(SPACE)
    [table] = text_tables(document)
    assert table.kind == "space" and table.header_rows == 1 and table.columns == 5
    assert grid(table)[0] == [(0, 1, "Trial"), (1, 1, "Treatment"), (2, 1, "Patients, n"), (3, 1, "ORR, % (95% CI)"),
                              (4, 1, "Median PFS, months")]
    assert grid(table)[2] == [(0, 1, "CALDERA-1 (arm B)"), (1, 1, "Pertuzumab 420 mg + T-DM1"), (2, 1, "44"),
                              (3, 1, "22.7 (11.5–37.8)"), (4, 1, "NR")]
    assert [row[0].is_stub for row in table.body] == [True, True, True]
    assert not any(c.is_stub for c in table.header[0]) and all(c.is_header for c in table.header[0])
    for row in table.rows:
        for cell in row:
            assert SPACE[cell.start : cell.end] == cell.text
    assert SPACE[table.start : table.end].startswith("Trial ") and SPACE[table.start : table.end].endswith("3.1*")
    assert table.caption.text.startswith("Table 1 Response and survival")
    assert [f.text for f in table.footnotes] == ["a Independent central review. NR, not reached."]


def test_tab_separated_grid():
    [table] = text_tables(doc(TAB))
    assert table.kind == "tab" and table.header_rows == 1 and table.columns == 3
    assert grid(table)[3] == [(0, 1, "Median DoR, months (range)"), (1, 1, "6.2 (1.4–11.0)"), (2, 1, "NE")]
    assert all(TAB[c.start : c.end] == c.text for row in table.rows for c in row)
    assert [f.text for f in table.footnotes] == ["Abbreviations: NE, not estimable."]


def test_pipe_table_rule_ends_the_header():
    [table] = text_tables(doc(PIPE))
    assert table.kind == "pipe" and table.header_rows == 1 and table.columns == 6 and len(table.body) == 2
    assert grid(table)[1][3] == (3, 1, "41.0% (28.6–54.3)")
    assert all(PIPE[c.start : c.end] == c.text for row in table.rows for c in row)
    assert table.caption is None


def test_two_level_header_spans_its_sub_columns():
    [table] = text_tables(doc(TWO_LEVEL))
    assert table.header_rows == 2 and table.columns == 5
    assert grid(table)[0] == [(1, 2, "Tucatinib + trastuzumab"), (3, 2, "Trastuzumab alone")]
    assert [c.text for c in table.column_header(4)] == ["Trastuzumab alone", "95% CI"]
    assert [c.text for c in table.column_header(0)] == ["Endpoint"]


def test_tab_two_level_header_spans_the_empty_cells_after_it():
    [table] = text_tables(doc(TAB_TWO_LEVEL))
    assert table.header_rows == 2
    assert grid(table)[0] == [(1, 2, "ORR"), (3, 2, "Median OS")]
    assert [c.text for c in table.column_header(2)] == ["ORR", "%"]


def test_group_labels_and_wrapped_cells():
    [table] = text_tables(doc(GROUPED))
    assert table.header_rows == 1
    assert grid(table)[1] == [(0, 1, "HER2 IHC 3+")]
    # The wrapped regimen stays in its row: two pieces of column 1.
    assert [c.text for c in table.cells_at(3, 1)] == ["Tucatinib +", "trastuzumab"]
    assert len(table.rows) == 6


def test_prose_single_lines_and_references_are_not_tables():
    assert text_tables(doc(PROSE)) == []
    assert text_tables(doc("The ORR was 41%  and  the DCR 80%  in 61  patients.")) == []
    assert text_tables(doc("HER2 was scored IHC 3+ | ISH+ in most.\nThe rest | were low.")) == []


def test_blank_line_and_prose_end_a_table():
    text = SPACE.replace("3.1*\n", "3.1*\nThe rows above come from the trials we pooled and the rest.\n")
    [table] = text_tables(doc(text))
    assert len(table.body) == 3 and text[table.start : table.end].endswith("3.1*")
    two = text_tables(doc(NOT_EFFICACY))
    assert [len(t.body) for t in two] == [3, 2]
    assert [t.caption.text for t in two] == ["Table 1. Baseline characteristics", "Table 4. Treatment-emergent adverse events"]


def test_tables_the_reader_found_are_left_to_it():
    text = "Table 1\nStudy | ORR | PFS\nSUNRISE-2 | 41% | 7.9 months\nCALDERA-1 | 20% | 2.8 months\n"
    start = text.index("Study")
    rows = [line.split(" | ") for line in text[start:].strip().split("\n")]
    assert len(text_tables(doc(text))) == 1
    assert text_tables(doc(text, tables=[ReaderTable(None, rows, start, len(text) - 1)])) == []


def test_detection_is_cheap_on_long_prose():
    text = ("The median PFS was 7.9 months.  The ORR was 41% in 61 patients.\n" * 20000)
    began = time.perf_counter()
    assert text_tables(doc(text)) == []
    assert time.perf_counter() - began < 2.0


# ----------------------------------------------------------------------------- figures from the cells


def test_trials_as_rows_endpoints_as_columns(nlp):
    assert table_figures(SPACE) == [
        ("ORR", "rate", 41.0, "%", (28.6, 54.3), None, 61, "SUNRISE-2", ("trastuzumab", "tucatinib"), None),
        ("PFS", "median", 7.9, "months", None, None, None, "SUNRISE-2", ("trastuzumab", "tucatinib"), None),
        ("ORR", "rate", 22.7, "%", (11.5, 37.8), None, 44, "CALDERA-1", ("pertuzumab", "trastuzumab emtansine"),
         "arm B, 420 mg"),
        # "–" and "NR" give nothing; the footnote mark is not part of "3.1*"'s figure.
        ("PFS", "median", 3.1, "months", None, None, None, None, ("lapatinib", "capecitabine"), "Lee et al., Korea"),
    ]


def test_table_cells_are_not_read_again_as_prose_but_the_notes_are(nlp):
    document = doc(SPACE)
    analysis = analyse(document)
    outcomes = [r for r in analysis.records if r.type == "outcome"]
    [table] = text_tables(document)
    inside = [r for r in outcomes if table.start <= r.start < table.end]
    assert inside and all(r.rule.startswith("table.cell") for r in inside)
    assert [(r.rule, r.value, r.text) for r in outcomes if not r.rule.startswith("table.")] == [("outcome.percent.after_endpoint", 35.0, "35%")]
    # Every row of the table is a sentence of its own.
    rows = [s.text for s in analysis.sentences if table.start <= s.start < table.end]
    assert len(rows) == 4 and rows[1].startswith("SUNRISE-2") and rows[1].endswith("7.9")
    by_text = {r.text: r for r in inside}
    assert by_text["41.0 (28.6–54.3)"].rule == "table.cell.value_ci"
    assert analysis.sentences[by_text["41.0 (28.6–54.3)"].sentence].text == rows[1]


def test_rows_the_sentence_extractor_could_read_are_read_once(nlp):
    analysis = analyse(doc(UNITS_IN_ROWS))
    outcomes = [r for r in analysis.records if r.type == "outcome"]
    assert [(r.rule, r.endpoint, r.value, r.total, r.arm) for r in outcomes] == [
        ("table.cell.value_ci", "ORR", 37.5, 40, "Cohort A"),
        ("table.cell.value", "ORR", 29.2, 24, "Cohort B"),
        ("table.cell.value", "PFS", 6.9, None, "Cohort A"),
        ("table.cell.value", "PFS", 4.1, None, "Cohort B"),
    ]


def test_endpoints_as_rows_arms_as_columns(nlp):
    arm_a, arm_b = "Cohort A: 5.4 mg/kg", "Cohort B: 6.4 mg/kg"
    tdxd = ("trastuzumab deruxtecan",)
    assert table_figures(TAB) == [
        ("ORR", "rate", 37.5, "%", None, 15, 40, "MERIDIAN-3", tdxd, arm_a),
        ("ORR", "rate", 29.2, "%", None, 7, 24, "MERIDIAN-3", tdxd, arm_b),
        ("DCR", "rate", 80.0, "%", (64.4, 90.9), None, 40, "MERIDIAN-3", tdxd, arm_a),
        ("DCR", "rate", 70.8, "%", (48.9, 87.4), None, 24, "MERIDIAN-3", tdxd, arm_b),
        # "(range)": the bracket of a median is not its CI.
        ("DoR", "median", 6.2, "months", None, None, None, "MERIDIAN-3", tdxd, arm_a),
        ("OS", "landmark", 58.0, "%", None, None, 40, "MERIDIAN-3", tdxd, "12-month, " + arm_a),
        ("OS", "landmark", 49.0, "%", None, None, 24, "MERIDIAN-3", tdxd, "12-month, " + arm_b),
    ]


def test_units_in_the_cells(nlp):
    tt = ("tucatinib", "trastuzumab")
    assert table_figures(PIPE) == [
        ("ORR", "rate", 41.0, "%", (28.6, 54.3), None, 61, "SUNRISE-2", tt, None),
        ("PFS", "median", 7.9, "months", (5.5, 10.1), None, None, "SUNRISE-2", tt, None),
        ("OS", "median", 21.4, "months", None, None, None, "SUNRISE-2", tt, None),
        ("ORR", "rate", 20.0, "%", None, None, 30, "CALDERA-1", ("pertuzumab", "trastuzumab"), None),
        ("PFS", "median", 2.8, "months", None, None, None, "CALDERA-1", ("pertuzumab", "trastuzumab"), None),
    ]


def test_two_level_header_with_ci_columns_and_a_hazard_ratio(nlp):
    tt = ("tucatinib", "trastuzumab")
    assert table_figures(TWO_LEVEL) == [
        ("ORR", "rate", 44.1, "%", (31.2, 57.6), None, None, None, tt, None),
        ("ORR", "rate", 18.0, "%", (8.6, 31.4), None, None, None, ("trastuzumab",), None),
        ("PFS", "median", 8.3, "months", (6.1, 10.0), None, None, None, tt, None),
        ("PFS", "median", 4.0, "months", (2.9, 5.6), None, None, None, ("trastuzumab",), None),
        ("PFS", "hr", 0.52, None, (0.35, 0.77), None, None, None, tt, None),
    ]


def test_tab_two_level_counts_and_ci_in_columns_of_their_own(nlp):
    assert table_figures(TAB_TWO_LEVEL) == [
        ("ORR", "rate", 41.0, "%", None, 25, 61, "SUNRISE-2", None, None),
        ("OS", "median", 21.4, "months", (16.0, 27.5), None, None, "SUNRISE-2", None, None),
        ("ORR", "rate", 20.0, "%", None, 6, 30, "CALDERA-1", None, None),
        # "9.8-NR" is no CI evx can give numbers for.
        ("OS", "median", 13.0, "months", None, None, None, "CALDERA-1", None, None),
    ]


def test_pipe_sub_headers_under_the_rule(nlp):
    [table] = text_tables(doc(PIPE_TWO_LEVEL))
    assert table.header_rows == 2 and grid(table)[0] == [(0, 1, "Trial"), (1, 2, "ORR"), (3, 2, "mPFS")]
    assert table_figures(PIPE_TWO_LEVEL) == [
        ("ORR", "rate", 41.0, "%", (28.6, 54.3), None, None, "SUNRISE-2", None, None),
        ("PFS", "median", 7.9, "months", (5.5, 10.1), None, None, "SUNRISE-2", None, None),
        ("ORR", "rate", 20.0, "%", (7.7, 38.6), None, None, "CALDERA-1", None, None),
        ("PFS", "median", 2.8, "months", (1.9, 4.0), None, None, "CALDERA-1", None, None),
    ]


def test_trials_as_columns_skip_toxicity_rows(nlp):
    assert table_figures(TRIAL_COLUMNS) == [
        ("ORR", "rate", 41.0, "%", (28.6, 54.3), None, 61, "SUNRISE-2", None, None),
        ("ORR", "rate", 20.0, "%", (7.7, 38.6), None, 30, "CALDERA-1", None, None),
        ("PFS", "median", 7.9, "months", None, None, None, "SUNRISE-2", None, None),
        ("PFS", "median", 2.8, "months", None, None, None, "CALDERA-1", None, None),
        ("CR", "count", 2.0, None, None, 2, 61, "SUNRISE-2", None, None),
        ("CR", "count", 0.0, None, None, 0, 30, "CALDERA-1", None, None),
    ]


def test_group_labels_and_wrapped_regimens(nlp):
    figures = table_figures(GROUPED)
    assert len(figures) == 9
    assert figures[0] == ("ORR", "rate", 52.1, "%", None, None, None, "MERIDIAN-3", ("trastuzumab deruxtecan",),
                          "cohort A, 6.4 mg/kg, HER2 IHC 3+")
    assert figures[3] == ("ORR", "rate", 44.0, "%", None, None, None, "SUNRISE-2", ("tucatinib", "trastuzumab"),
                          "HER2 IHC 3+")
    assert figures[8][2] == 5.2 and figures[8][9] == "cohort B, 6.4 mg/kg, HER2 IHC 2+/ISH+"


def test_a_row_without_a_first_cell_is_of_the_trial_above(nlp):
    assert table_figures(CONTINUED) == [
        ("ORR", "rate", 41.0, "%", None, None, 61, "SUNRISE-2", ("tucatinib",), "300 mg"),
        ("ORR", "rate", 26.7, "%", None, None, 30, "SUNRISE-2", ("tucatinib",), "150 mg"),
        ("ORR", "rate", 22.7, "%", None, None, 44, "CALDERA-1", ("pertuzumab",), None),
    ]


def test_endpoint_named_by_the_caption_only(nlp):
    assert table_figures(BY_SUBGROUP) == [
        ("ORR", "rate", 44.4, "%", (29.6, 60.0), 20, 45, "SUNRISE-2", None, "RAS wild-type"),
        ("ORR", "rate", 31.3, "%", (11.0, 58.7), 5, 16, "SUNRISE-2", None, "RAS mutant"),
    ]


def test_response_categories_counts_and_short_forms(nlp):
    assert table_figures(BEST_RESPONSE) == [
        # "2 (3.8)" in a cohort of 53: a count and its percentage; "0" under "n (%)": a count.
        ("CR", "rate", 3.8, "%", None, 2, 53, "CALDERA-1", None, "Cohort A"),
        ("CR", "count", 0.0, None, None, 0, 15, "CALDERA-1", None, "Cohort B"),
        ("PR", "rate", 41.5, "%", None, 22, 53, "CALDERA-1", None, "Cohort A"),
        ("PR", "count", 0.0, None, None, 0, 15, "CALDERA-1", None, "Cohort B"),
        # "Not evaluable" is no endpoint.
        ("ORR", "rate", 45.3, "%", (31.6, 59.6), None, 53, "CALDERA-1", None, "Cohort A"),
        ("ORR", "rate", 0.0, "%", (0.0, 21.8), None, 15, "CALDERA-1", None, "Cohort B"),
        # Its own "mo" wins over the group's "n (%)".
        ("DoR", "median", 7.0, "months", (5.8, 9.5), None, None, "CALDERA-1", None, "Cohort A"),
        ("PFS", "landmark", 62.0, "%", None, None, 53, "CALDERA-1", None, "6-month, Cohort A"),
        ("PFS", "landmark", 20.0, "%", None, None, 15, "CALDERA-1", None, "6-month, Cohort B"),
    ]


def test_cohort_and_dose_columns_make_the_arm(nlp):
    assert table_figures(COHORT_COLUMNS) == [
        ("ORR", "rate", 52.5, "%", None, None, 40, "MERIDIAN-3", None, "A (IHC 3+), 6.4 mg/kg"),
        ("PFS", "median", 8.1, "months", None, None, None, "MERIDIAN-3", None, "A (IHC 3+), 6.4 mg/kg"),
        ("ORR", "rate", 31.8, "%", None, None, 22, "MERIDIAN-3", None, "B (IHC 2+), 6.4 mg/kg"),
        ("PFS", "median", 5.0, "months", None, None, None, "MERIDIAN-3", None, "B (IHC 2+), 6.4 mg/kg"),
    ]


def test_statistics_as_rows_and_time_points_as_columns(nlp):
    tables = text_tables(doc(STATISTICS_AS_ROWS))
    assert [t.header_rows for t in tables] == [1, 1]  # "6 months | 12 months" heads the second
    assert table_figures(STATISTICS_AS_ROWS) == [
        # The first table names no trial: it is of the one trial the document names.
        ("PFS", "median", 8.2, "months", (4.2, 10.3), None, None, "SUNRISE-2", None, None),
        ("OS", "median", 24.1, "months", (20.3, 36.7), None, None, "SUNRISE-2", None, None),
        ("PFS", "hr", 0.62, None, (0.47, 0.81), None, None, "SUNRISE-2", None, None),
        ("OS", "hr", 0.71, None, (0.5, 0.99), None, None, "SUNRISE-2", None, None),
        # No median of 6 or 12 months: those are the time points of the rates below them.
        ("PFS", "landmark", 62.0, None, None, None, None, "SUNRISE-2", None, "6-month"),
        ("PFS", "landmark", 35.0, None, None, None, None, "SUNRISE-2", None, "12-month"),
    ]


def test_a_follow_up_in_the_first_cell_is_the_arm(nlp):
    assert table_figures(FOLLOW_UP) == [
        ("OS", "median", 21.4, "months", None, None, None, "SUNRISE-2", None, "4.5-year follow-up"),
        ("OS", "median", 13.0, "months", None, None, None, "CALDERA-1", None, "36-month follow-up"),
        ("OS", "rate", 52.0, "%", None, None, 30, "CALDERA-1", None, "36-month follow-up"),
    ]


def test_trials_over_arms_and_a_ratio_across_them(nlp):
    [table] = text_tables(doc(RANDOMISED))
    assert table.header_rows == 3 and grid(table)[0] == [(1, 2, "SUNRISE-2"), (3, 2, "CALDERA-1")]
    tdxd = ("trastuzumab deruxtecan",)
    assert table_figures(RANDOMISED) == [
        ("ORR", "rate", 51.3, "%", None, None, 80, "SUNRISE-2", tdxd, None),
        ("ORR", "rate", 14.3, "%", None, None, 40, "SUNRISE-2", None, "Chemotherapy"),
        ("ORR", "rate", 42.0, "%", None, None, 60, "CALDERA-1", tdxd, None),
        ("ORR", "rate", 10.0, "%", None, None, 30, "CALDERA-1", None, "Chemotherapy"),
        ("OS", "median", 12.5, "months", None, None, None, "SUNRISE-2", tdxd, None),
        ("OS", "median", 8.4, "months", None, None, None, "SUNRISE-2", None, "Chemotherapy"),
        ("OS", "median", 11.0, "months", None, None, None, "CALDERA-1", tdxd, None),
        ("OS", "median", 7.9, "months", None, None, None, "CALDERA-1", None, "Chemotherapy"),
        ("OS", "hr", 0.59, None, (0.39, 0.88), None, None, "SUNRISE-2", tdxd, None),
        ("OS", "hr", 0.7, None, (0.5, 0.98), None, None, "CALDERA-1", tdxd, None),
    ]


def test_the_caption_gives_trial_and_regimen_unless_it_compares(nlp):
    tt = ("tucatinib", "trastuzumab")
    assert table_figures(CAPTION_REGIMEN) == [
        ("ORR", "rate", 45.0, "%", None, None, 40, "CALDERA-1", tt, "A (RAS WT)"),
        ("ORR", "rate", 16.7, "%", None, None, 12, "CALDERA-1", tt, "B (RAS MT)"),
        ("ORR", "rate", 45.0, "%", None, None, 40, "CALDERA-1", None, "Doublet"),
        ("ORR", "rate", 13.2, "%", None, None, 38, "CALDERA-1", None, "Single"),
    ]


def test_a_p_value_column_goes_to_the_ratio_of_its_row(nlp):
    text = ("Endpoint\tT-DXd (n = 80)\tChemotherapy (n = 40)\tHR (95% CI)\tP\n"
            "Median PFS, months\t5.6\t3.5\t0.47 (0.31–0.71)\t<0.001\n")
    analysis = analyse(doc(text))
    found = {(r.value, r.measure, r.p_value) for r in analysis.records if r.type == "outcome"}
    assert found == {(5.6, "median", None), (3.5, "median", None), (0.47, "hr", "<0.001")}


def test_baseline_and_adverse_event_tables_yield_no_outcomes(nlp):
    assert len(text_tables(doc(NOT_EFFICACY))) == 2
    records = analyse(doc(NOT_EFFICACY)).records
    assert [r for r in records if r.type == "outcome"] == []


@pytest.mark.parametrize("cell, expected", [
    ("38.1 (27.7–49.3)", (38.1, 27.7, 49.3, None, None)),
    ("32 (18/57)", (32.0, None, None, 18, 57)),
    ("18/57 (31.6)", (31.6, None, None, 18, 57)),
    ("45.3b", (45.3, None, None, None, None)),
    ("13.4 (8.9–NR)", (13.4, 8.9, None, None, None)),
])
def test_cell_readings(cell, expected):
    from pipeline.tables.cells import read_cell

    r = read_cell(cell)
    assert (r.value, r.ci_low, r.ci_high, r.count, r.total) == expected


@pytest.mark.parametrize("cell", ["NR", "–", "-", "not reached", "NE (12.1–NE)", "n/a"])
def test_cells_without_a_number(cell):
    from pipeline.tables.cells import read_cell

    assert read_cell(cell).kind == "none" and read_cell(cell).value is None


@pytest.mark.parametrize("cell", ["Trastuzumab + lapatinib", "IHC 3+", "2019;37:1021–30", "12 of 40 responded"])
def test_labels_are_not_data(cell):
    from pipeline.tables.cells import read_cell

    assert read_cell(cell) is None


# ----------------------------------------------------------------------------- the development set


def test_crc_dev_outcomes_hold(nlp, shared_corpus):
    """The HER2 colorectal development set, with its table of trials: outcome precision and
    recall, and the attributes of matched figures, stay at the levels reached with tables."""
    from pipeline.evaluate import evaluate, group_records, records_from_documents

    folder = shared_corpus / "crc-dev"
    result = evaluate(group_records(records_from_documents(sorted(folder.glob("*.txt")))), folder / "gold")
    outcome = result.tallies["outcome"]
    assert outcome.precision >= 0.94 and outcome.recall >= 0.75, outcome
    for attribute, floor in {"ci": 0.93, "trial": 0.69, "total": 0.27, "drugs": 0.54, "arm": 0.23}.items():
        assert result.accuracies[attribute].value >= floor, (attribute, result.accuracies[attribute])

