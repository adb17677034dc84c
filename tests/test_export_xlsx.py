"""evx export --format xlsx: an extraction-form workbook whose cells are the export's values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import report_world
from pipeline.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    folder = tmp_path_factory.mktemp("xlsx")
    db = report_world.build(folder / "evidence.db", 6)
    result = runner.invoke(app, ["export", "--db", str(db), "--format", "xlsx", "--out", str(folder / "form.xlsx")])
    assert result.exit_code == 0, result.output
    jsonl = runner.invoke(app, ["export", "--db", str(db), "--format", "jsonl"])
    return folder / "form.xlsx", [json.loads(line) for line in jsonl.stdout.splitlines()]


def sheet_rows(path: Path, name: str) -> list[dict]:
    sheet = load_workbook(path, read_only=True)[name]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def test_outcome_sheet_is_the_extraction_form_of_the_exported_outcomes(exported) -> None:
    path, records = exported
    outcomes = [r for r in records if r["type"] == "outcome"]
    rows = sheet_rows(path, "outcomes")
    assert len(rows) == len(outcomes) > 20
    verdicts = {}
    for row, record in zip(rows, outcomes):
        assert row["key"] == record["key"]
        assert row["study"] == record["trial"] and row["arm"] == record["arm"]
        assert row["regimen"] == " + ".join(record["drugs"])
        assert row["N"] == record["total"] and row["endpoint"] == record["endpoint"] and row["measure"] == record["measure"]
        assert row["value"] == record["value"] and row["unit"] == record["unit"]
        assert (row["CI low"], row["CI high"], row["CI level %"]) == (record["ci_low"], record["ci_high"], record["ci_level"])
        assert row["p"] == record["p_value"]
        assert (row["source"], row["page"], row["sentence"]) == (record["doc"], record["page"], record["sentence"])
        if row["verdict"]:
            verdicts[row["verdict"]] = row
    assert sorted(verdicts) == ["accepted", "corrected", "rejected"]
    assert verdicts["corrected"]["corrected value"] == "99.9"


def test_every_record_type_has_its_sheet_with_the_export_values(exported) -> None:
    path, records = exported
    book = load_workbook(path)
    assert book.sheetnames == ["outcomes", "trials", "regimens", "HER2 criteria", "biomarkers", "studies", "arms"]
    trials = [r for r in records if r["type"] == "trial"]
    rows = sheet_rows(path, "trials")
    assert [(r["name"], r["nct"], r["source"], r["text"], r["key"]) for r in rows] == [
        (t["name"], t["nct"], t["doc"], t["text"], t["key"]) for t in trials]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.bold for cell in sheet[1])
        for column in sheet.iter_cols():  # fitted to the longest cell, up to 60 characters
            longest = max(len(str(c.value)) for c in column if c.value is not None)
            assert sheet.column_dimensions[column[0].column_letter].width == min(longest, 60) + 2


@pytest.mark.parametrize("case", ["no-out", "unwritable"])
def test_xlsx_needs_a_writable_out_file(case: str, exported, tmp_path: Path) -> None:
    path, _ = exported
    db = path.parent / "evidence.db"
    (tmp_path / "file").write_text("x")
    out = [] if case == "no-out" else ["--out", str(tmp_path / "file" / "form.xlsx")]
    result = runner.invoke(app, ["export", "--db", str(db), "--format", "xlsx", *out])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("evx: ") and ("--out" in lines[0] or "cannot write" in lines[0])
    assert [p.name for p in tmp_path.iterdir()] == ["file"]  # no temporary file left
