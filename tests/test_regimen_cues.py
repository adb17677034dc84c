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


def _first_chars(items) -> tuple[set[str], bool]:
    """The characters a parsed pattern (``re._parser`` items) can start with, and whether it can
    match the empty string; zero-width assertions are skipped."""
    from re import _constants as c

    chars: set[str] = set()
    for op, av in items:
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue
        if op is c.LITERAL:
            return chars | {chr(av)}, False
        if op is c.IN:
            for item_op, item in av:
                assert item_op in (c.LITERAL, c.RANGE), item_op  # a class of letters, no \w
                chars |= {chr(item)} if item_op is c.LITERAL else set(map(chr, range(item[0], item[1] + 1)))
            return chars, False
        if op is c.BRANCH:
            found = [_first_chars(branch.data) for branch in av[1]]
        elif op is c.SUBPATTERN:
            found = [_first_chars(av[3].data)]
        else:
            assert op in (c.MAX_REPEAT, c.MIN_REPEAT), op
            first, empty = _first_chars(av[2].data)
            found = [(first, empty or av[0] == 0)]
        chars |= {ch for first, _ in found for ch in first}
        if not any(empty for _, empty in found):
            return chars, False
    return chars, True


@pytest.mark.parametrize("pattern", [t.MODALITY, t.CLASS_PATTERN], ids=["MODALITY", "CLASS_PATTERN"])
def test_first_letter_look_ahead_lets_every_alternative_through(pattern: re.Pattern) -> None:
    """The patterns open with ``\\b(?=[letters])`` to skip word starts early: every alternative
    after it must start with one of those letters."""
    from re import _parser

    m = re.match(r"\\b\(\?=\[([a-z]+)\]\)", pattern.pattern)
    assert m, pattern.pattern[:40]
    first, empty = _first_chars(_parser.parse(pattern.pattern[m.end():], pattern.flags).data)
    assert not empty and {ch.lower() for ch in first} <= set(m.group(1))
