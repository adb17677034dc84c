"""End to end over a slice of the shared development corpus: ingest, query, export, score."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

# Abstracts whose figures are checked below (PubMed ids of the PICO breast-cancer set).
SLICE = ["20113825", "19786670", "25605862", "17407159"]


@pytest.fixture(scope="module")
def slice_db(tmp_path_factory, shared_corpus):
    folder = tmp_path_factory.mktemp("slice")
    for pmid in SLICE:
        shutil.copy(shared_corpus / "pico-breast" / f"{pmid}.txt", folder / f"{pmid}.txt")
    seed = next((shared_corpus / "seed").glob("000_*.txt"))
    shutil.copy(seed, folder / seed.name)
    db = tmp_path_factory.mktemp("db") / "evidence.db"
    result = CliRunner().invoke(app, ["ingest", str(folder), "--db", str(db), "--quiet"])
    assert result.exit_code == 0, result.output
    return db


def rows(db, sql, *params):
    with sqlite3.connect(db) as con:
        return con.execute(sql, params).fetchall()


def test_landmark_and_hazard_ratio_with_ci_and_trial(slice_db):
    found = rows(slice_db, "SELECT endpoint, measure, value, ci_low, ci_high, p_value, trial FROM outcome_evidence "
                           "WHERE document LIKE '%20113825.txt' ORDER BY value")
    assert ("EFS", "hr", 0.59, 0.38, 0.9, "0.013", "NOAH") in found
    assert ("EFS", "landmark", 71.0, 61.0, 78.0, None, "NOAH") in found
    assert ("EFS", "landmark", 56.0, 46.0, 65.0, None, "NOAH") in found


def test_versus_medians_and_named_trial(slice_db):
    found = rows(slice_db, "SELECT endpoint, measure, value, unit, trial FROM outcome_evidence "
                           "WHERE document LIKE '%19786670.txt'")
    assert ("PFS", "median", 4.8, "months", "TAnDEM") in found
    assert ("PFS", "median", 2.4, "months", "TAnDEM") in found
    assert ("PFS", "hr", 0.63, None, "TAnDEM") in found


def test_respectively_style_pairs_and_p_values(slice_db):
    found = rows(slice_db, "SELECT endpoint, measure, value, unit, p_value FROM outcome_evidence "
                           "WHERE document LIKE '%17407159.txt'")
    assert ("TTP", "median", 84.0, "days", "<.0001") in found
    assert ("TTP", "median", 174.0, "days", "<.0001") in found
    assert ("OS", "median", 860.0, "days", ".0001") in found


def test_case_report_trials_in_outcome_evidence(slice_db):
    found = rows(slice_db, "SELECT trial, endpoint, value, count, total FROM outcome_evidence "
                           "WHERE document LIKE '%000_%'")
    assert ("HERACLES-A", "ORR", 30.0, 8, 27) in found
    assert any(r[0] == "MyPathway" and r[1] == "ORR" for r in found)
    assert any(r[0] == "DESTINY-CRC01" and r[2] == 57.5 for r in found)


def test_every_record_points_at_its_text(slice_db):
    text_of = dict(rows(slice_db, "SELECT id, text FROM document"))
    for table in ("outcome", "trial", "regimen", "her2_criterion", "biomarker"):
        for doc_id, start, end, text, sentence in rows(slice_db, f"SELECT document_id, start, end, text, sentence_text FROM {table}"):
            assert text_of[doc_id][start:end] == text
            assert text in sentence or sentence in text_of[doc_id]


def test_export_scores_on_the_slice(slice_db, tmp_path, shared_corpus):
    """The shared scorer reads evx's export: outcomes of the slice are found precisely."""
    import importlib.util

    scorer_path = shared_corpus.parent / "tools" / "evx_score.py"
    spec = importlib.util.spec_from_file_location("evx_score", scorer_path)
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    out = tmp_path / "export.jsonl"
    result = CliRunner().invoke(app, ["export", "--db", str(slice_db), "--format", "jsonl", "--out", str(out)])
    assert result.exit_code == 0, result.output
    docs = tmp_path / "docs.txt"
    docs.write_text("\n".join(f"{p}.txt" for p in SLICE))
    score = scorer.score(str(out), str(shared_corpus / "gold"), None, [f"{p}.txt" for p in SLICE])
    assert score["outcome"]["p"] >= 0.9
    assert score["outcome"]["r"] >= 0.8
    assert all(json.loads(line)["doc"] for line in out.read_text().splitlines())
