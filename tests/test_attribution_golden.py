"""Golden cases for a figure's context (tests/golden/attribution.json): each document must give
its figures the trial, arm, regimen and N listed, by the rules listed. Known misses carry
"xfail" with the reason and run as strict xfails, so a fix is noticed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.document import Document
from pipeline.extract import analyse

CASES = json.loads((Path(__file__).parent / "golden" / "attribution.json").read_text(encoding="utf-8"))["cases"]
FIELDS = ("trial", "arm", "drugs", "total", "needs_review")


def _params():
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=case["xfail"])] if case.get("xfail") else []
        yield pytest.param(case, id=case["id"], marks=marks)


@pytest.mark.parametrize("case", _params())
def test_figures_get_their_context(nlp, case):
    analysis = analyse(Document(source="case.txt", format="text", text=case["text"]))
    outcomes = [r for r in analysis.records if r.type == "outcome"]
    for expected in case["outcomes"]:
        found = [o for o in outcomes if o.value == pytest.approx(expected["value"])]
        assert len(found) == 1, (expected["value"], [(o.endpoint, o.value) for o in outcomes])
        record = found[0]
        for name in FIELDS:
            if name in expected:
                assert getattr(record, name) == expected[name], (expected["value"], name, getattr(record, name), record.attribution)
        if "arm_rule" in expected:
            assert record.attribution.get("arm") == expected["arm_rule"], record.attribution
    values = {o.value for o in outcomes}
    for value in case.get("absent", []):
        assert value not in values
    studies = [r for r in analysis.records if r.type == "study"]
    for expected in case.get("studies", []):
        match = [s for s in studies if s.name == expected["name"]]
        assert match, [(s.name, s.role) for s in studies]
        for name, value in expected.items():
            assert getattr(match[0], name) == value, (name, getattr(match[0], name))


def test_every_attribution_names_a_rule_and_every_ref_resolves(nlp):
    for case in CASES:
        analysis = analyse(Document(source="case.txt", format="text", text=case["text"]))
        refs = {r.ref for r in analysis.records if r.type in ("study", "arm")}
        for record in analysis.records:
            if record.type == "outcome":
                assert all(rule.count(".") >= 1 for rule in record.attribution.values()), record.attribution
                assert record.study_ref is None or record.study_ref in refs
                assert record.arm_ref is None or record.arm_ref in refs
            if record.type in ("study", "arm"):
                assert case["text"][record.start : record.end] == record.text
