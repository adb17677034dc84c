"""``evx eval``: the same matching as the shared scorer, and findings a person can work from."""

from __future__ import annotations

import importlib.util
import json
import random
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.evaluate import evaluate, group_records

from conftest import SHARED


def _write_gold(folder: Path, doc: str, **fields) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{Path(doc).stem}.json").write_text(json.dumps({"doc": doc, **fields}), encoding="utf-8")


def _outcome(doc, endpoint, value, **extra):
    return {"type": "outcome", "doc": doc, "endpoint": endpoint, "measure": extra.pop("measure", "rate"),
            "value": value, "unit": extra.pop("unit", "%"), **extra}


def test_outcomes_match_by_endpoint_value_and_unit_then_attributes_are_checked(tmp_path):
    gold = tmp_path / "gold"
    _write_gold(gold, "a.txt", outcomes=[
        {"endpoint": "ORR", "measure": "rate", "value": 30, "unit": "%", "ci": [17, 47], "N": 27,
         "trial": "HERACLES-A", "drugs": ["trastuzumab", "lapatinib"], "text": "30%"},
        {"endpoint": "PFS", "measure": "median", "value": 21, "unit": "weeks", "ci": None, "text": "21 weeks"},
        {"endpoint": "OS", "measure": "median", "value": 46, "unit": "weeks", "ci": None, "text": "46 weeks"},
    ])
    preds = group_records([
        _outcome("/x/a.txt", "ORR", 30.04, ci_low=17, ci_high=47, total=27, trial="HERACLES A",
                 drugs=["Lapatinib", "trastuzumab"]),
        _outcome("/x/a.txt", "PFS", 21, measure="median", unit="months"),  # wrong unit: no match
        _outcome("/x/a.txt", "OS", 46, measure="median", unit="w", ci_low=1, ci_high=2),  # CI wrong
    ])
    result = evaluate(preds, gold)
    outcome = result.tallies["outcome"]
    assert (outcome.tp, outcome.pred, outcome.gold) == (2, 3, 3)
    assert result.accuracies["ci"].right == 1 and result.accuracies["ci"].asked == 2
    assert (result.accuracies["trial"].right, result.accuracies["total"].right, result.accuracies["drugs"].right) == (1, 1, 1)
    kinds = sorted((f.kind, f.what) for f in result.findings)
    assert ("miss", "PFS median 21weeks") in kinds
    assert ("false positive", "PFS median 21months") in kinds
    assert any(kind == "wrong ci" for kind, _ in kinds)


def test_trials_regimens_and_markers_are_scored_as_sets(tmp_path):
    gold = tmp_path / "gold"
    _write_gold(
        gold, "b.txt",
        trials=[{"name": "DESTINY-CRC01", "aliases": [], "nct": "NCT03384940", "text": "x"},
                {"name": "MOUNTAINEER", "aliases": [], "nct": None, "text": "y"}],
        regimens=[{"drugs": ["tucatinib", "trastuzumab"], "other": []}, {"drugs": ["trastuzumab deruxtecan"]}],
        her2_criteria=[{"method": "IHC", "result": "3+"}, {"method": "ISH", "result": "amplified"}],
        biomarkers=[{"gene": "RAS", "status": "wild-type"}],
    )
    preds = group_records([
        {"type": "trial", "doc": "b.txt", "name": "NCT03384940", "nct": None},  # the id finds the trial
        {"type": "trial", "doc": "b.txt", "name": "HER2CLIMB", "nct": None},
        {"type": "regimen", "doc": "b.txt", "drugs": ["trastuzumab", "tucatinib"]},
        {"type": "regimen", "doc": "b.txt", "drugs": ["trastuzumab"]},
        {"type": "her2", "doc": "b.txt", "method": "ihc", "result": "3+"},
        {"type": "biomarker", "doc": "b.txt", "gene": "RAS", "status": "wild type"},
    ])
    t = evaluate(preds, gold).tallies
    assert (t["trial"].tp, t["trial"].pred, t["trial"].gold) == (1, 2, 2)
    assert (t["regimen"].tp, t["regimen"].pred, t["regimen"].gold) == (1, 2, 2)
    assert (t["drug"].tp, t["drug"].pred, t["drug"].gold) == (2, 2, 3)
    assert (t["her2"].tp, t["her2"].gold) == (1, 2)
    assert t["biomarker"].f1 == 1.0


def _shared_scorer():
    path = SHARED / "tools" / "evx_score.py"
    if not path.exists():
        pytest.skip("../shared/tools/evx_score.py is not available")
    spec = importlib.util.spec_from_file_location("evx_score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _perturbed_predictions(gold_dir: Path, seed: int) -> list[dict]:
    """Predictions made from the gold with random drops, value shifts, stray items and lost
    attributes, so every branch of the matching is exercised."""
    rng = random.Random(seed)
    records = []
    for path in sorted(gold_dir.glob("*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        doc = "/somewhere/" + gold["doc"]
        for o in gold.get("outcomes", []):
            if rng.random() < 0.15:
                continue
            ci = o.get("ci") if rng.random() < 0.8 else None
            records.append({"type": "outcome", "doc": doc, "endpoint": o["endpoint"], "measure": o.get("measure"),
                            "value": o["value"] + (rng.choice([0, 0, 0.04, 0.2, 5])), "unit": o.get("unit"),
                            "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None,
                            "total": o.get("N") if rng.random() < 0.7 else None,
                            "trial": o.get("trial") if rng.random() < 0.7 else None,
                            "drugs": o.get("drugs") if rng.random() < 0.6 else None})
            if rng.random() < 0.1:
                records.append({**records[-1], "endpoint": rng.choice(["ORR", "pCR", "OS"]), "measure": "rate", "unit": "%"})
        for t in gold.get("trials", []):
            if rng.random() < 0.85:
                records.append({"type": "trial", "doc": doc, "name": rng.choice([t["name"], *(t.get("aliases") or [t["name"]])]),
                                "nct": t.get("nct")})
        if rng.random() < 0.3:
            records.append({"type": "trial", "doc": doc, "name": "STRAY-1", "nct": None})
        for r in gold.get("regimens", []):
            drugs = list(r.get("drugs") or [])
            if drugs and rng.random() < 0.2:
                drugs = drugs[:-1] or ["placebo"]
            records.append({"type": "regimen", "doc": doc, "drugs": drugs, "other": []})
        for h in gold.get("her2_criteria", []):
            if rng.random() < 0.8:
                records.append({"type": "her2", "doc": doc, "method": h["method"], "result": rng.choice([h["result"], "positive"])})
        for b in gold.get("biomarkers", []):
            if rng.random() < 0.8:
                records.append({"type": "biomarker", "doc": doc, "gene": b["gene"], "status": b["status"]})
    return records


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_figures_agree_with_the_shared_scorer(shared_corpus, tmp_path, seed):
    scorer = _shared_scorer()
    gold = shared_corpus / "gold"
    records = _perturbed_predictions(gold, seed)
    pred_file = tmp_path / "pred.jsonl"
    pred_file.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    theirs = scorer.score(str(pred_file), str(gold), str(shared_corpus / "pico-breast"))
    ours = evaluate(group_records(records), gold, shared_corpus / "pico-breast").to_dict()
    ours.pop("findings")
    assert ours == theirs


def test_eval_command_scores_an_export_and_lists_findings(shared_corpus, tmp_path):
    gold = shared_corpus / "gold"
    records = _perturbed_predictions(gold, 7)
    pred_file = tmp_path / "pred.jsonl"
    pred_file.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "--gold", str(gold), "--pred", str(pred_file), "--kind", "outcome",
                                      "--findings", "5"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "gold documents: 71"
    assert any(line.startswith("outcome ") for line in lines)
    listed = lines[lines.index(next(l for l in lines if l.startswith("findings ("))) + 1:]
    # A table (doc, type, finding, what, text) whose long cells wrap onto lines of their own.
    assert listed[0].split() == ["doc", "type", "finding", "what", "text"] and set(listed[1]) == {"-"}
    assert len([line for line in listed if re.match(r"\S+ +outcome ", line)]) == 5
    assert listed[-1].startswith("... and ") and "…" not in result.output


def test_eval_command_needs_something_to_score_against():
    result = CliRunner().invoke(app, ["eval"])
    assert result.exit_code == 2
