"""Golden cases for hard text: each sentence must yield exactly the listed outcome figures.

A case with "xfail" (its reason) is a known miss: it must fail, so that a fix is noticed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.document import Document
from pipeline.extract import analyse

CASES = json.loads((Path(__file__).parent / "golden" / "outcomes.json").read_text(encoding="utf-8"))["cases"]


def outcomes_of(text: str):
    analysis = analyse(Document(source="case.txt", format="text", text=text))
    return [r for r in analysis.records if r.type == "outcome"]


def _param(case: dict):
    marks = [pytest.mark.xfail(strict=True, reason=case["xfail"])] if case.get("xfail") else []
    return pytest.param(case, id=case["id"], marks=marks)


def test_cases_are_well_formed():
    assert len({c["id"] for c in CASES}) == len(CASES)
    for case in CASES:
        assert set(case) <= {"id", "text", "outcomes", "absent", "xfail"}, case["id"]
        # every case asserts something: figures to find, or values that must not come out
        assert case["outcomes"] or case.get("absent"), case["id"]


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_golden_outcomes(nlp, case):
    found = outcomes_of(case["text"])
    assert len(found) == len(case["outcomes"]), [(r.endpoint, r.value) for r in found]
    for expected, record in zip(case["outcomes"], found):
        for field, value in expected.items():
            got = getattr(record, field)
            if isinstance(value, float) or isinstance(got, float):
                assert got == pytest.approx(value), (field, got, value)
            else:
                assert got == value, (field, got, value)
    values = {r.value for r in found}
    for value in case.get("absent", []):
        assert value not in values


def test_every_outcome_points_at_its_text(nlp):
    for case in CASES:
        analysis = analyse(Document(source="case.txt", format="text", text=case["text"]))
        for record in analysis.records:
            assert case["text"][record.start : record.end] == record.text
            assert record.value_text in record.text if record.type == "outcome" else True
