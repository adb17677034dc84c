"""Pathological documents are analysed in bounded time (issue 15): small versions of the classes
``bench/hostile.py`` times at 1 MB, each well under its bound when the code is linear, and far
over it when a pattern or a loop goes quadratic again (they took minutes before)."""

from __future__ import annotations

import time

import pytest

from pipeline.document import Document
from pipeline.extract import analyse

BOUND = 2.0  # seconds for one analysis


def _definitions(size: int) -> str:
    """A run of abbreviation definitions, "alpha beta gamma (ABG) " (bench/hostile.py's class)."""
    pieces = []
    for i in range(size // 23 + 1):  # 23 characters a definition
        a, b, c = (chr(97 + (i // 26 ** k) % 26) for k in range(3))
        pieces.append(f"{a}lpha {b}eta {c}amma ({(a + b + c).upper()}) ")
    return "".join(pieces)[:size]


CASES = {
    "100,000 nested brackets": lambda: "(" * 50_000 + ")" * 50_000,
    "one word of 300 kB": lambda: "a" * 300_000,
    "HER2 IHC repeated to 200 kB": lambda: "HER2 IHC " * 22_000,
    "a drug name repeated to 100 kB": lambda: "trastuzumab " * 8_000,
    "1,500 short figures": lambda: "ORR 10%. " * 1_500,
    "30 kB without punctuation": lambda: " ".join(["patients received trastuzumab and pertuzumab with a response rate of "
                                                   "forty percent in the HER2 positive cohort median progression free "
                                                   "survival was eight months"] * 200),
    "a text table of 10,000 lines": lambda: "a | b | c\n" * 10_000,
    "200 kB of spaces and newlines": lambda: " \n " * 70_000,
    "digits and dots": lambda: "1.1.1.1 " * 25_000,
    "confidence intervals left open": lambda: "10 (95% CI " * 20_000,
    # each short form's uses were searched in the whole text: 6 s for these 8,000 definitions
    "200 kB of abbreviation definitions": lambda: _definitions(200_000),
}


@pytest.mark.parametrize("name", CASES)
def test_pathological_document_in_bounded_time(nlp, name):
    text = CASES[name]()
    began = time.perf_counter()
    analysis = analyse(Document(source=f"{name}.txt", format="text", text=text))
    took = time.perf_counter() - began
    assert took < BOUND, f"{name}: {took:.1f} s"
    assert all(0 <= r.start <= r.end <= len(text) for r in analysis.records)
