"""Every HER2 and biomarker pattern runs in linear time: searched over ~100 kB of repetitive text
made of the pieces its matches start with (spaces, words, markers, lists), none may take more
than a fraction of a second. A pattern with nested or adjacent quantifiers that backtrack over
a long run (``\\s*\\s*``, ``(\\w+\\s+)*``, an unbounded list of items that then fails) takes
seconds here."""

from __future__ import annotations

import re
import time

import pytest

from pipeline.extract import biomarkers, her2

SIZE = 100_000
# CPU seconds for one pattern over one text: the slowest linear pattern takes about 0.25 s here,
# a backtracking one many seconds. CPU time, not the clock: a loaded machine must not fail it.
BUDGET = 1.5
GROWTH = 8  # 4x the text may take at most this many times longer (linear: 4, quadratic: 16)
PIECES = [" ", "\n", "a", "-", "+", "HER2 ", "HER2-", "HER2 (", "HER2 was not ", "HER2 amplification ", "IHC ",
          "IHC 2+ ", "IHC 2+ and ", "IHC 2+ with ", "2+ ", "1+/", "scored ", "FISH or ", "in situ ", "positive ",
          "HER2:CEP17 ", "in more than 50% of ", "by the ", "no ", "KRAS ", "KRAS and ", "KRAS, ", "ER/", "HER2, ",
          "RAS WT or ", "wild-type for ", "dMMR/"]


def _patterns() -> dict[str, re.Pattern]:
    found = {f"her2.{name}": value for name, value in vars(her2.patterns()).items() if isinstance(value, re.Pattern)}
    found |= {f"her2.{name}": value for name, value in vars(her2).items() if isinstance(value, re.Pattern)}
    found |= {f"biomarkers.{name}": value for name, value in vars(biomarkers._gene_patterns()).items()}
    found["biomarkers.cues"] = biomarkers._marker_cues()[0]
    return found


def test_the_patterns_are_all_found():
    names = set(_patterns())
    assert {"her2.ihc_with_ish", "her2.method_after", "her2.IHC_CELLS", "her2.RATIO", "her2.SCORED",
            "biomarkers.status_after"} <= names


@pytest.mark.parametrize("piece", PIECES)
def test_every_pattern_is_linear_on_repetitive_text(piece):
    text = (piece * (SIZE // len(piece) + 1))[:SIZE]
    slow = []
    for name, pattern in _patterns().items():
        took = _cpu_seconds(pattern, text)
        if took > BUDGET:
            slow.append((name, round(took, 2)))
        elif took > 0.1 and took > GROWTH * _cpu_seconds(pattern, text[: SIZE // 4]):  # too short to tell below
            slow.append((name, round(took, 2), "grows faster than the text"))
    assert not slow, slow


def _cpu_seconds(pattern: re.Pattern, text: str) -> float:
    start = time.process_time()
    for _ in pattern.finditer(text):
        pass
    return time.process_time() - start
