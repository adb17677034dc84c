"""The regimen extractor runs its slow case-insensitive patterns only on text holding one of
their cue words (treatments.CUES, PRIOR_WORDS...). A pattern given a new alternative without a
cue would silently stop finding it: every match over real text must lie in text with a cue."""

import re

import pytest

from pipeline.extract import treatments as t

def _unanchored(pattern: re.Pattern) -> re.Pattern:
    """The pattern free to match anywhere (leads end at "$", tails start at "^"), so that it
    is tried on far more text than the extractor gives it."""
    return re.compile(pattern.pattern.removeprefix("^").removesuffix("$"), pattern.flags)


CUED = [
    (t.MODALITY, t.MODALITY_WORDS),
    (t.CLASS_PATTERN, t.CLASS_WORDS),
    (t.PLACEBO, t.CUES["placebo"]),
    (_unanchored(t.PRIOR_LEAD), t.PRIOR_WORDS),
    (_unanchored(t.PRIOR_TAIL), t.PRIOR_TAIL_WORDS),
]


def _texts(shared_corpus) -> list[str]:
    files = sorted((shared_corpus / "pico-breast").glob("*.txt"))
    return [f.read_text(encoding="utf-8") for f in files]


@pytest.mark.parametrize("pattern, cues", CUED, ids=lambda x: getattr(x, "pattern", "cues")[:30])
def test_every_match_holds_a_cue_word(pattern: re.Pattern, cues: tuple[str, ...], shared_corpus) -> None:
    matches = 0
    for text in _texts(shared_corpus):
        for m in pattern.finditer(text):
            matches += 1
            assert any(cue in t._lowered(m.group(0)) for cue in cues), (pattern.pattern[:60], m.group(0))
    assert matches  # the dev abstracts use every one of these


@pytest.mark.parametrize("name", list(t.CLASSES))
def test_every_class_name_is_found_and_cued(name: str) -> None:
    sentence = f"Patients received {name} for six cycles."
    assert t.CLASS_PATTERN.search(sentence) or not re.search(r"\w", name)
    assert any(cue in t._lowered(sentence) for cue in t.CLASS_WORDS)
