"""The export: JSONL that validates against the committed schema, CSV, type filter."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.output import LIST_DELIMITER
from pipeline.export import csv_columns, json_schema, schema_text
from pipeline.records import RECORD_TYPES
from pipeline.store import load_document, open_store
from conftest import VERSION, sample, write

SCHEMA_FILE = Path(__file__).parent.parent / "schemas" / "evidence.schema.json"
runner = CliRunner()


def test_committed_schema_is_the_generated_one() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), "regenerate: evx schema > schemas/evidence.schema.json"
    assert runner.invoke(app, ["schema"]).stdout == schema_text()


def test_schema_is_one_of_the_record_types_with_vocabularies() -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    types = [schema["$defs"][ref["$ref"].split("/")[-1]]["properties"]["type"]["const"] for ref in schema["oneOf"]]
    assert types == list(RECORD_TYPES)
    outcome = schema["$defs"]["OutcomeExport"]["properties"]
    assert "iDFS" in outcome["endpoint"]["enum"] and "landmark" in outcome["measure"]["enum"]
    assert {"enum": ["%", "months", "weeks", "days", "years"], "type": "string"} in outcome["unit"]["anyOf"]
    assert "ddPCR" in schema["$defs"]["Her2Export"]["properties"]["method"]["enum"]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database with every record type (built by hand) and two ingested text files."""
    path = tmp_path / "evidence.db"
    load_document(open_store(path, create=True), *sample(), sha256="a" * 64, extractor_version=VERSION)
    return path


@pytest.fixture
def ingested(db: Path, tmp_path: Path, fake_extractor: None) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    write(folder, "one.txt", "A title\nIn DESTINY-CRC01 the ORR was 45.3%.\n")
    write(folder, "two.txt", "Another title\nORR was 8% with ünïcode.\n")
    result = runner.invoke(app, ["ingest", str(folder), "--db", str(db), "--quiet"])
    assert result.exit_code == 0, result.output
    return db


def test_jsonl_export_validates_line_by_line(ingested: Path) -> None:
    result = runner.invoke(app, ["export", "--db", str(ingested)])
    assert result.exit_code == 0
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    lines = result.stdout.splitlines()
    records = [json.loads(line) for line in lines]
    for record in records:
        validator.validate(record)
    assert sorted(r["type"] for r in records) == sorted([*RECORD_TYPES, "outcome", "trial", "outcome"])
    assert [r["doc"] for r in records] == sorted(r["doc"] for r in records)  # grouped by document


def test_jsonl_record_contract(ingested: Path) -> None:
    records = [json.loads(line) for line in runner.invoke(app, ["export", "--db", str(ingested)]).stdout.splitlines()]
    keys = [r["key"] for r in records]
    assert len(set(keys)) == len(keys) and all(re.fullmatch(r"[0-9a-f]{20}", k) for k in keys)
    outcome = next(r for r in records if r["type"] == "outcome" and r["doc"] == "papers/heracles.txt")
    assert outcome == {
        "type": "outcome", "doc": "papers/heracles.txt", "work": outcome["work"], "title": "HERACLES-A",
        "authors": None, "journal": None, "year": None, "pmid": None, "doi": None, "pmcid": None,
        "key": outcome["key"], "page": 1, "start": outcome["start"],
        "end": outcome["end"], "text": "ORR of 30% (95% CI 14-50)", "section": "Results", "rule": "outcome.rate", "confidence": 0.9,
        "needs_review": False, "extractor_version": VERSION, "sentence": sample()[0].text.split("\n")[0],
        "endpoint": "ORR", "measure": "rate", "value": 30.0, "value_text": "30", "unit": "%", "ci_low": 14.0,
        "ci_high": 50.0, "ci_text": "14-50", "count": None, "total": None, "p_value": None, "trial": "HERACLES-A",
        "drugs": ["trastuzumab", "lapatinib"], "arm": None, "population": None,
        "study_ref": "study:HERACLES-A", "arm_ref": None, "attribution": {"trial": "trial.sentence"},
        "table_idx": None, "table_row": None, "table_column": None, "ci_level": None,  # "14-50" states no level
    }
    study = next(r for r in records if r["type"] == "study" and r["doc"] == "papers/heracles.txt")
    assert (study["ref"], study["name"], study["role"], study["size"]) == ("study:HERACLES-A", "HERACLES-A", "primary", 27)
    assert sample()[0].text[outcome["start"]:outcome["end"]] == outcome["text"]
    unicode = next(r for r in records if r["doc"].endswith("two.txt"))
    assert unicode["sentence"] == "ORR was 8% with ünïcode." and unicode["value"] == 8.0


def test_type_filter_and_out_file(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "trials.jsonl"
    result = runner.invoke(app, ["export", "--db", str(db), "--type", "trial,her2", "--out", str(out)])
    assert result.exit_code == 0 and result.stdout == ""
    assert "wrote 2 records" in result.stderr
    assert [json.loads(line)["type"] for line in out.read_text(encoding="utf-8").splitlines()] == ["trial", "her2"]
    bad = runner.invoke(app, ["export", "--db", str(db), "--type", "trial,drug"])
    assert bad.exit_code == 2 and "unknown record type drug" in bad.output


def test_csv_export_has_the_union_of_fields(db: Path) -> None:
    result = runner.invoke(app, ["export", "--db", str(db), "--format", "csv"])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == csv_columns()
    assert {"type", "doc", "endpoint", "nct", "other", "method", "gene"} <= set(rows[0])
    regimen = next(r for r in rows if r["type"] == "regimen")
    assert regimen["drugs"] == f"trastuzumab{LIST_DELIMITER}lapatinib" == "trastuzumab + lapatinib" and regimen["endpoint"] == ""
    biomarker = next(r for r in rows if r["type"] == "biomarker")
    assert biomarker["needs_review"] == "true" and biomarker["gene"] == "KRAS"
