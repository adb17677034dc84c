"""Golden cases for HER2 criteria and biomarkers (tests/golden/markers.json): each small document
must yield exactly the listed criteria and statuses after the whole analysis (the per-sentence
rules, then the document-level HER2 settlement), as an export would hold them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.document import Document
from pipeline.extract import analyse

CASES = json.loads((Path(__file__).parent / "golden" / "markers.json").read_text(encoding="utf-8"))["cases"]


def _param(case: dict):
    marks = [pytest.mark.xfail(reason=case["xfail"], strict=True)] if "xfail" in case else []
    return pytest.param(case, id=case["id"], marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_golden_markers(nlp, case):
    records = analyse(Document(source="case.txt", format="text", text=case["text"])).records
    her2 = [r for r in records if r.type == "her2"]
    if "her2" in case:
        assert {(r.method, r.result) for r in her2} == {tuple(pair) for pair in case["her2"]}, \
            [(r.method, r.result, r.rule, r.text) for r in her2]
    for key, threshold in case.get("thresholds", {}).items():
        method, result = key.split("/")
        assert threshold in {r.threshold for r in her2 if (r.method, r.result) == (method, result)}, \
            [(r.method, r.result, r.threshold) for r in her2]
    if "biomarkers" in case:
        found = {(r.gene, r.status) for r in records if r.type == "biomarker"}
        assert found == {tuple(pair) for pair in case["biomarkers"]}, found
    for r in records:
        if r.type in ("her2", "biomarker"):
            assert case["text"][r.start:r.end] == r.text
