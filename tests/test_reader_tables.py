"""The reader's tables (JATS ``<table-wrap>``, PDF tables rendered as " | " rows) read as tables:
the grid with exact offsets, header rows, spans, caption and notes, and the figures of their
cells with table, row and column. Every table here is made up for evx."""

from __future__ import annotations

import pytest

from pipeline.document import Document
from pipeline.document import Table as ReaderTable
from pipeline.extract import analyse
from pipeline.readers.jats import read_jats
from pipeline.tables.reader import reader_tables


def jats(*tables: str, body: str = "") -> Document:
    xml = ("<article><front><article-meta><title-group><article-title>HER2-directed therapy in colorectal cancer"
           "</article-title></title-group></article-meta></front><body><sec><title>Results</title>"
           f"<p>{body or 'Responses were seen in both cohorts.'}</p>{''.join(tables)}</sec></body></article>")
    [document] = read_jats(xml.encode(), "made-up.nxml")
    return document


# Rows are trials; a two-level header: "ORR" over "%" and "95% CI" (colspan), the first three
# headers over both header rows (rowspan); a footnote mark after a figure; "NR".
TRIALS = """<table-wrap id="t2"><label>Table 2</label>
<caption><p>Activity of HER2-directed regimens in the pooled trials</p></caption>
<table><thead>
<tr><th rowspan="2">Trial</th><th rowspan="2">Regimen</th><th rowspan="2">N</th><th colspan="2">ORR</th>
<th>Median PFS, months</th></tr>
<tr><th>%</th><th>95% CI</th><th>(95% CI)</th></tr>
</thead><tbody>
<tr><td>SUNRISE-2</td><td>tucatinib + trastuzumab</td><td>61</td><td>41.0</td><td>28.6–54.3</td><td>7.9 (5.5–10.1)</td></tr>
<tr><td>CALDERA-1</td><td>pertuzumab + trastuzumab</td><td>30</td><td>20.0<sup>a</sup></td><td>7.7–38.6</td><td>NR</td></tr>
</tbody></table>
<table-wrap-foot><fn><p><sup>a</sup> Assessed by the investigators. NR, not reached.</p></fn></table-wrap-foot>
</table-wrap>"""

# Rows are endpoints, columns are cohorts with their sizes.
ENDPOINTS = """<table-wrap id="t3"><label>Table 3</label>
<caption><p>Efficacy by cohort in the MERIDIAN-3 study</p></caption>
<table><thead>
<tr><th>Endpoint</th><th>Cohort A: T-DXd 5.4 mg/kg (n = 40)</th><th>Cohort B: T-DXd 6.4 mg/kg (n = 24)</th></tr>
</thead><tbody>
<tr><td>ORR, % (95% CI)</td><td>37.5 (22.7–54.2)</td><td>29.2 (12.6–51.1)</td></tr>
<tr><td>Median PFS, months (95% CI)</td><td>6.9 (4.1–8.7)</td><td>4.1 (2.8–NE)</td></tr>
<tr><td>Median OS, months</td><td>NR</td><td>13.4</td></tr>
</tbody></table></table-wrap>"""

BASELINE = """<table-wrap id="t1"><label>Table 1</label>
<caption><p>Baseline characteristics of the patients</p></caption>
<table><thead><tr><th>Characteristic</th><th>Cohort A (n = 40)</th><th>Cohort B (n = 24)</th></tr></thead>
<tbody>
<tr><td>Age, median (range), years</td><td>61 (34–80)</td><td>58 (39–77)</td></tr>
<tr><td>ECOG performance status 0, n (%)</td><td>20 (50.0)</td><td>11 (45.8)</td></tr>
<tr><td>Prior response to anti-EGFR therapy, n (%)</td><td>12 (30.0)</td><td>6 (25.0)</td></tr>
</tbody></table></table-wrap>"""

ADVERSE = """<table-wrap id="t4"><label>Table 4</label>
<caption><p>Treatment-related adverse events</p></caption>
<table><thead><tr><th rowspan="2">Event</th><th colspan="2">Cohort A (n = 40)</th></tr>
<tr><th>Any grade, n (%)</th><th>Grade ≥3, n (%)</th></tr></thead>
<tbody>
<tr><td>Nausea</td><td>20 (50.0)</td><td>2 (5.0)</td></tr>
<tr><td>Disease progression leading to death</td><td>1 (2.5)</td><td>1 (2.5)</td></tr>
</tbody></table></table-wrap>"""


def outcomes(document: Document):
    analysis = analyse(document)
    return analysis, [r for r in analysis.records if r.type == "outcome"]


def by_value(records, value: float):
    [record] = [r for r in records if r.value == value]
    return record


def test_jats_grid_has_header_rows_spans_offsets_caption_and_notes() -> None:
    document = jats(TRIALS)
    [table] = reader_tables(document)
    text = document.text
    assert (table.kind, table.label, table.header_rows, table.columns) == ("jats", "Table 2", 2, 6)
    assert table.caption.text == "Activity of HER2-directed regimens in the pooled trials"
    assert text[table.caption.start : table.caption.end] == table.caption.text
    [note] = table.footnotes
    assert text[note.start : note.end] == note.text and "investigators" in note.text
    cells = [c for row in table.rows for c in row]
    assert all(text[c.start : c.end] == c.text for c in cells)
    orr = next(c for c in table.rows[0] if c.text == "ORR")
    assert (orr.column, orr.colspan, orr.is_header) == (3, 2, True)
    trial = table.rows[0][0]
    assert (trial.text, trial.rowspan) == ("Trial", 2)
    # The second header row starts right of the three headers reaching down into it.
    assert [(c.column, c.text) for c in table.rows[1]] == [(3, "%"), (4, "95% CI"), (5, "(95% CI)")]
    assert [c.text for c in table.column_header(4)] == ["ORR", "95% CI"]
    stubs = [c.text for row in table.body for c in row if c.is_stub]
    assert stubs == ["SUNRISE-2", "CALDERA-1"]


def test_jats_rows_of_trials_give_figures_with_their_cell() -> None:
    document = jats(TRIALS)
    analysis, records = outcomes(document)
    text = document.text
    assert all(r.rule.startswith("table.") for r in records)
    orr = by_value(records, 41.0)
    assert (orr.endpoint, orr.measure, orr.unit, orr.ci_low, orr.ci_high) == ("ORR", "rate", "%", 28.6, 54.3)
    assert (orr.trial, orr.drugs, orr.total) == ("SUNRISE-2", ["tucatinib", "trastuzumab"], 61)
    assert (orr.table_idx, orr.table_row, orr.table_column) == (0, 2, 3)
    assert text[orr.start : orr.end] == orr.text == "41.0"
    pfs = by_value(records, 7.9)
    assert (pfs.endpoint, pfs.measure, pfs.unit, pfs.ci_low, pfs.ci_high) == ("PFS", "median", "months", 5.5, 10.1)
    assert (pfs.table_row, pfs.table_column, pfs.trial) == (2, 5, "SUNRISE-2")
    caldera = by_value(records, 20.0)
    assert (caldera.trial, caldera.ci_low, caldera.ci_high, caldera.total) == ("CALDERA-1", 7.7, 38.6, 30)
    assert text[caldera.start : caldera.end] == "20.0"  # the footnote mark left out
    assert (caldera.table_row, caldera.table_column) == (3, 3)
    assert len(records) == 3  # "NR" is no figure
    assert [t.kind for t in analysis.tables] == ["jats"]


def test_jats_rows_of_endpoints_with_cohorts_as_columns() -> None:
    document = jats(ENDPOINTS)
    _, records = outcomes(document)
    text = document.text
    assert all(text[r.start : r.end] == r.text for r in records)
    a = by_value(records, 37.5)
    assert (a.endpoint, a.measure, a.unit, a.ci_low, a.ci_high, a.total) == ("ORR", "rate", "%", 22.7, 54.2, 40)
    assert (a.table_idx, a.table_row, a.table_column) == (0, 1, 1)
    assert "Cohort A" in a.arm and "5.4 mg/kg" in a.arm
    b = by_value(records, 29.2)
    assert (b.table_row, b.table_column, b.total) == (1, 2, 24) and "Cohort B" in b.arm
    pfs = by_value(records, 4.1)
    assert (pfs.endpoint, pfs.measure, pfs.unit, pfs.ci_low, pfs.ci_high) == ("PFS", "median", "months", 2.8, None)
    assert (pfs.table_row, pfs.table_column) == (2, 2)
    os_ = by_value(records, 13.4)
    assert (os_.endpoint, os_.measure, os_.unit, os_.table_row, os_.table_column) == ("OS", "median", "months", 3, 2)
    assert len(records) == 5  # 6.9, 4.1, 37.5, 29.2, 13.4; "NR" none
    assert {r.trial for r in records} == {"MERIDIAN-3"}


def test_baseline_and_adverse_event_tables_yield_no_outcomes() -> None:
    document = jats(BASELINE, ADVERSE, body="Patients were enrolled in MERIDIAN-3 between 2019 and 2021.")
    analysis, records = outcomes(document)
    assert [t.label for t in analysis.tables] == ["Table 1", "Table 4"]
    assert records == []


def test_figures_in_a_table_are_read_once() -> None:
    """The sentence extractor skips the table's lines: a figure is not taken twice."""
    document = jats(ENDPOINTS, TRIALS)
    analysis, records = outcomes(document)
    assert len(records) == 8
    assert all(r.rule.startswith("table.") for r in records)
    assert sorted({r.table_idx for r in records}) == [0, 1]


def pdf_document() -> Document:
    """A PDF reader's document: the page's text, then the table's block (caption line, then
    one line per row, cells joined by " | "). The row of HERACLES-X lost a cell: its columns
    are not known."""
    rows = [
        ["Study", "Patients, n", "ORR, % (95% CI)", "Median OS, months"],
        ["SUNRISE-2", "61", "41.0 (28.6–54.3)", "21.4"],
        ["CALDERA-1 (cohort B)", "30", "20.0 (7.7–38.6)*", "NR"],
        ["HERACLES-X", "27", "10.1"],
    ]
    page = "Results\n\nThe pooled trials are shown in Table 1."
    caption = "Table 1. Response and survival in the pooled trials"
    block = caption + "\n" + "\n".join(" | ".join(row) for row in rows)
    text = page + "\n\n" + block
    start = len(page) + 2
    from pipeline.document import PageSpan

    return Document("made-up.pdf", "pdf", text, pages=[PageSpan(1, 0, len(text))],
                    tables=[ReaderTable(1, rows, start, len(text), caption, label="Table 1", kind="pdf")])


def test_pdf_table_rows_give_figures_and_a_ragged_row_none() -> None:
    document = pdf_document()
    [table] = reader_tables(document)
    text = document.text
    assert (table.kind, table.page, table.header_rows, table.columns, table.ragged) == ("pdf", 1, 1, 4, {3})
    assert all(text[c.start : c.end] == c.text for row in table.rows for c in row)
    assert text[table.caption.start : table.caption.end].startswith("Table 1. Response")
    analysis, records = outcomes(document)
    assert all(r.rule.startswith("table.") for r in records)
    orr = by_value(records, 41.0)
    assert (orr.endpoint, orr.unit, orr.ci_low, orr.ci_high, orr.total, orr.trial) == ("ORR", "%", 28.6, 54.3, 61, "SUNRISE-2")
    assert (orr.table_idx, orr.table_row, orr.table_column) == (0, 1, 2)
    assert text[orr.start : orr.end] == "41.0 (28.6–54.3)"
    b = by_value(records, 20.0)
    assert (b.trial, b.arm, b.table_row) == ("CALDERA-1", "cohort B", 2)
    assert text[b.start : b.end] == "20.0 (7.7–38.6)"  # no "*"
    os_ = by_value(records, 21.4)
    assert (os_.endpoint, os_.measure, os_.unit, os_.table_column) == ("OS", "median", "months", 3)
    assert not [r for r in records if r.value == 10.1]  # the ragged row: which column is not known
    assert len(records) == 3


def test_a_table_whose_rendered_rows_are_elsewhere_is_left_out() -> None:
    document = pdf_document()
    found = document.tables[0]
    moved = ReaderTable(found.page, found.rows, found.start, found.end - 1, found.caption, kind="pdf")
    assert reader_tables(Document(document.source, "pdf", document.text, tables=[moved])) == []


@pytest.mark.parametrize("spans, columns", [
    ([[[1, 3], [1, 1]], [[1, 1]], [[1, 1]]], [[0, 1], [1], [1]]),  # a first cell over three rows
    ([[[2, 1], [1, 1]], [[1, 1], [1, 1], [1, 1]]], [[0, 2], [0, 1, 2]]),  # a first cell over two columns
])
def test_spans_place_cells_in_grid_columns(spans, columns) -> None:
    from pipeline.tables.reader import _spanned

    assert [[col for col, _, _ in row] for row in _spanned(spans)] == columns


# ----------------------------------------------------------------------------- stored tables


def test_tables_are_stored_cell_by_cell_and_figures_name_their_cell(tmp_path) -> None:
    import json
    import sqlite3

    from pipeline.export import export_records
    from pipeline.store import load_file, open_store

    document = jats(ENDPOINTS, TRIALS)
    db = tmp_path / "e.db"
    engine = open_store(db, create=True)
    load_file(engine, "made-up.nxml", "0" * 64, [(document, analyse(document))], "test-1")
    with sqlite3.connect(db) as conn:
        tables = conn.execute("SELECT idx, kind, label, caption, header_rows, n_rows, n_columns FROM doc_table "
                              "ORDER BY idx").fetchall()
        assert tables == [
            (0, "jats", "Table 3", "Efficacy by cohort in the MERIDIAN-3 study", 1, 4, 3),
            (1, "jats", "Table 2", "Activity of HER2-directed regimens in the pooled trials", 2, 4, 6),
        ]
        cells = conn.execute("SELECT table_idx, row_idx, column_idx, colspan, rowspan, is_header, is_stub, text, "
                             "start, \"end\" FROM table_cell").fetchall()
        assert all(document.text[start:end] == text for *_, text, start, end in cells)
        assert (1, 0, 3, 2, 1, 1, 0, "ORR") in [c[:8] for c in cells]
        assert (1, 2, 0, 1, 1, 0, 1, "SUNRISE-2") in [c[:8] for c in cells]
        # The figure's cell, joined back from the evidence view.
        [row] = conn.execute(
            "SELECT o.value, o.table_label, c.text FROM outcome_evidence AS o JOIN table_cell AS c "
            "ON c.document_id = o.document_id AND c.table_idx = o.table_idx AND c.row_idx = o.table_row "
            "AND c.column_idx = o.table_column WHERE o.value = 41.0").fetchall()
        assert row == (41.0, "Table 2", "41.0")
    exported = [json.loads(r.model_dump_json()) for r in export_records(engine, ["outcome"])]
    orr = next(r for r in exported if r["value"] == 37.5)
    assert (orr["table_idx"], orr["table_row"], orr["table_column"], orr["rule"]) == (0, 1, 1, "table.cell.value_ci")


def test_table_figures_point_at_the_study_and_arm_of_the_model() -> None:
    document = jats(ENDPOINTS, body="In the MERIDIAN-3 study, 64 patients were enrolled: 40 in cohort A received T-DXd "
                                    "5.4 mg/kg and 24 in cohort B received T-DXd 6.4 mg/kg.")
    _, records = outcomes(document)
    a, b = by_value(records, 37.5), by_value(records, 29.2)
    assert (a.study_ref, a.arm_ref) == ("study:MERIDIAN-3", "study:MERIDIAN-3/cohort:A")
    assert (b.study_ref, b.arm_ref) == ("study:MERIDIAN-3", "study:MERIDIAN-3/cohort:B")
    assert a.attribution == {"study_ref": "table.trial", "arm_ref": "table.arm_label"}


def _grouped(label_row: str) -> str:
    """Rows of regimens under full-width group labels; ``label_row`` is a row template."""
    return f"""<table-wrap id="t5"><label>Table 5</label><caption><p>Response by HER2 status</p></caption>
<table><thead><tr><th>Regimen</th><th>N</th><th>ORR, % (95% CI)</th><th>Median PFS, months</th></tr></thead><tbody>
{label_row.format("HER2 IHC 3+")}
<tr><td>tucatinib + trastuzumab</td><td>40</td><td>52.5 (36.1–68.5)</td><td>8.1</td></tr>
<tr><td>pertuzumab + trastuzumab</td><td>30</td><td>40.0 (22.7–59.4)</td><td>5.3</td></tr>
{label_row.format("Cohort B")}
<tr><td>tucatinib + trastuzumab</td><td>20</td><td>10.0 (1.2–31.7)</td><td>2.9</td></tr>
</tbody></table></table-wrap>"""


@pytest.mark.parametrize("label_row", [
    '<tr><td colspan="4">{}</td></tr>',  # over the whole row
    '<tr><td></td><td colspan="3">{}</td></tr>',  # over the value columns, the first cell empty
])
def test_full_width_label_rows_are_the_group_of_the_rows_under_them(label_row) -> None:
    document = jats(_grouped(label_row))
    [table] = reader_tables(document)
    assert table.header_rows == 1  # the label row right under <thead> is no header row
    analysis, records = outcomes(document)
    got = {r.value: (r.endpoint, r.arm, r.drugs, r.table_row) for r in records}
    assert got[52.5] == ("ORR", "HER2 IHC 3+", ["tucatinib", "trastuzumab"], 2)
    assert got[5.3] == ("PFS", "HER2 IHC 3+", ["pertuzumab", "trastuzumab"], 3)
    assert got[10.0] == ("ORR", "Cohort B", ["tucatinib", "trastuzumab"], 5)
    assert got[2.9][1] == "Cohort B"
    assert by_value(records, 52.5).total == 40
    assert len(records) == 6


def test_table_guard_words_are_checked_data(tmp_path, monkeypatch) -> None:
    """The table reader's guard lists come from pipeline/data/table_guards.json; each list's
    pattern matches its own example, and a list whose example does not match is refused."""
    import json

    from pipeline.extract.lexicon import LexiconError
    from pipeline.tables import guards as module
    from pipeline.tables import read

    patterns = module.guards()
    assert set(patterns) == module.LISTS
    assert read.DEVIATION is patterns["deviation"] and read.DEVIATION.search("Age, mean ± SD")
    assert read.OTHER_RESPONSE.search("molecular complete response") and not read.OTHER_RESPONSE.search("complete response")
    assert read.TUMOUR_RESPONSE.search("tumour response") and not read.TUMOUR_RESPONSE.search("tumours")
    data = json.loads((module.DATA / module.FILE).read_text(encoding="utf-8"))
    data["lists"]["stable_disease"]["example"] = "Standard deviation"
    (tmp_path / module.FILE).write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(module, "DATA", tmp_path)
    module.guards.cache_clear()
    try:
        with pytest.raises(LexiconError, match="does not match"):
            module.guards()
    finally:
        module.guards.cache_clear()
