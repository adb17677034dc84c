"""Pathological documents are analysed in bounded time (issue 15): small versions of the classes
``bench/hostile.py`` times at 1 MB, each well under its bound when the code is linear, and far
over it when a pattern or a loop goes quadratic again (they took minutes before)."""

from __future__ import annotations

import time

import pytest

import pipeline.extract
from pipeline.document import Document
from pipeline.errors import TooManyFigures
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
    began = time.process_time()  # CPU time: a loaded machine must not fail it
    analysis = analyse(Document(source=f"{name}.txt", format="text", text=text))
    took = time.process_time() - began
    assert took < BOUND, f"{name}: {took:.1f} s"
    assert all(0 <= r.start <= r.end <= len(text) for r in analysis.records)


def _cpu_seconds(text: str) -> float:
    began = time.process_time()  # this process's CPU time: other jobs on the machine do not count
    analysis = analyse(Document(source="figures.txt", format="text", text=text))
    took = time.process_time() - began
    assert len(analysis.records) == text.count("ORR")
    return took


def test_cost_per_figure_sentence_does_not_grow_with_the_document(nlp, monkeypatch):
    """Issue 15: each sentence holding a figure costs the same in a document of 2,000 such
    sentences as in one of 20,000. Work that grows with the earlier sentences or records (a
    scan back, a cache that forgets, a re-sort) makes the long one cost several times more per
    sentence; the bound is generous for timing noise."""
    monkeypatch.setattr(pipeline.extract, "MAX_FIGURE_SENTENCES", 0)  # 20,000 is past the default limit
    piece = "ORR 10%. "
    _cpu_seconds(piece * 200)  # warm
    small = min(_cpu_seconds(piece * 2_000) for _ in range(2)) / 2_000
    large = _cpu_seconds(piece * 20_000) / 20_000
    assert large < 2.0 * small, f"{large * 1e6:.0f} µs per sentence of 20,000, {small * 1e6:.0f} µs of 2,000"


def test_a_data_dump_of_figures_fails_fast_with_its_reason(nlp, monkeypatch):
    """Past MAX_FIGURE_SENTENCES sentences naming an endpoint, a document is refused once it is
    segmented, before any figure is read: 100,000 of them (900 kB) took 8 s to extract."""
    monkeypatch.setattr(pipeline.extract, "MAX_FIGURE_SENTENCES", 1_000)
    analyse(Document(source="under.txt", format="text", text="ORR 10%. " * 1_000))  # at the limit: read
    began = time.process_time()
    with pytest.raises(TooManyFigures) as failure:
        analyse(Document(source="dump.txt", format="text", text="ORR 10%. PFS 3 months. " * 20_000))
    assert time.process_time() - began < BOUND
    assert str(failure.value).startswith("an endpoint is named in 40,000 sentences, over the limit of 1,000 per document")
