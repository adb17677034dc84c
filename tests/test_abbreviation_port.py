"""evx's abbreviation detector runs scispaCy's algorithm (candidate filter, Schwartz-Hearst
matching) on token texts instead of spaCy Spans: it must find what scispaCy's own functions find."""

import random
from collections import defaultdict

import pytest
from scispacy.abbreviation import filter_matches, find_abbreviation

from pipeline.extract.nlp import _bracketed_runs, _occurrences, build_nlp
from pipeline.tokens import Words, keep_text, positions


@pytest.fixture(scope="module")
def nlp():
    return build_nlp()


def scispacy_occurrences(doc):
    """scispaCy's AbbreviationDetector, step by step, on the same bracketed candidates."""
    matches = [(match, start + 1, end - 1) for match, start, end in _bracketed_runs(doc)]
    occurrences, seen_long, seen_short, rules = defaultdict(set), set(), set(), []
    for long_candidate, short_candidate in filter_matches(matches, doc):
        short, long = find_abbreviation(long_candidate, short_candidate)
        if long is None or long.text in seen_long or short.text in seen_short:
            continue
        seen_long.add(long.text)
        seen_short.add(short.text)
        occurrences[long].add(short)
        rules.append((long, [t.text for t in short]))
    tokens = Words.of(doc).tokens
    for long, short_words in rules:
        for i in positions(tokens, short_words):
            occurrences[long].add(doc[i:i + len(short_words)])
    return _as_offsets(occurrences.items())


def _as_offsets(pairs):
    return [(long.start, long.end, sorted((s.start, s.end) for s in shorts)) for long, shorts in pairs]


def made(nlp, text):
    doc = nlp.make_doc(text)
    keep_text(doc, text)
    return doc


def test_same_abbreviations_as_scispacy_on_the_dev_abstracts(nlp, shared_corpus):
    found = 0
    for path in sorted((shared_corpus / "pico-breast").glob("*.txt"))[:300]:
        doc = made(nlp, path.read_text(encoding="utf-8"))
        expected = scispacy_occurrences(doc)
        assert _as_offsets(_occurrences(doc)) == expected, path.name
        found += len(expected)
    assert found > 100  # the abstracts define abbreviations: the check compared something


def test_same_abbreviations_as_scispacy_on_made_up_text(nlp):
    words = ["progression", "free", "survival", "PFS", "overall", "OS", "Hazard", "ratio", "HR", "a", "of", "(", ")",
             "(", ")", "İstanbul", "IS", "ß", "x-ray", "XR", "anti-HER2", "AH", "T-DM1", "5-FU", "FU", "e.g.", "Ki67",
             "K", "2", "vs.", "epirubicin", "cyclophosphamide", "EC", "(EC)", "(PFS)", "ſurvival", "ﬁrst", "Σ"]
    separators = [" ", " ", " ", "", "  ", "\n", " \n ", "-", "/"]
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice(words) + rng.choice(separators) for _ in range(rng.randint(1, 25)))
        doc = made(nlp, text)
        assert _as_offsets(_occurrences(doc)) == scispacy_occurrences(doc), repr(text)
