"""evx's abbreviation detector runs scispaCy's algorithm (candidate filter, Schwartz-Hearst
matching) on token texts instead of spaCy Spans: it must find what scispaCy's own functions find."""

import random
from collections import defaultdict

import pytest
from scispacy.abbreviation import filter_matches, find_abbreviation

from pipeline.extract.nlp import _bracketed_runs, _occurrences, build_nlp
from pipeline.tokens import Words, keep_text, positions, run_positions


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
    return [(long.start, long.end, sorted((s.start, s.end) for s in shorts)) for long, shorts in occurrences.items()]


def _as_offsets(pairs):
    return [(long_start, long_end, sorted(shorts)) for (long_start, long_end), shorts in pairs]


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


def test_run_positions_finds_what_positions_finds():
    """The one-pass search of every short form's uses gives, run by run, what a scan per run
    gave: runs sharing a first word, overlapping, repeated or at the end of the tokens."""
    rng = random.Random(15)
    vocabulary = ["PFS", "OS", "HR", "(", ")", "a", "B", "B", " ", "\n"]
    for _ in range(2000):
        tokens = [rng.choice(vocabulary) for _ in range(rng.randint(0, 30))]
        runs = list({tuple(rng.choice(vocabulary) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(1, 6))})
        found = run_positions(tokens, runs)
        assert list(found) == runs
        for run in runs:
            assert found[run] == list(positions(tokens, list(run))), (tokens, run)


def test_every_use_of_each_short_form(nlp):
    """Each definition keeps its short form and every other use of it, in a text where the short
    forms sit side by side, in brackets and at the very end."""
    text = ("Progression-free survival (PFS) and overall survival (OS) were long; hazard ratio (HR) 0.5. "
            "PFS was 8 months, OS 20 months (HR 0.5, PFS HR 0.6). Epirubicin and cyclophosphamide (EC) "
            "then EC again, PFS at last: PFS")
    doc = made(nlp, text)
    tokens = Words.of(doc).tokens
    found = [(doc[start:end].text, shorts) for (start, end), shorts in _occurrences(doc)]
    assert [long for long, _ in found] == ["Progression-free survival", "overall survival", "hazard ratio",
                                           "Epirubicin and cyclophosphamide"]
    for (long, shorts), short in zip(found, ["PFS", "OS", "HR", "EC"]):
        assert sorted(shorts) == [(i, i + 1) for i in positions(tokens, [short])], long


def test_bracketed_runs_are_the_matchers_short_runs_in_its_order(nlp):
    """``_bracketed_runs`` gives the runs of scispaCy's Matcher pattern ``( any+ )`` that have at
    most 8 tokens inside (the only ones its filter keeps), in the Matcher's order, brackets
    nested, unclosed or at either end of the text."""
    from spacy.matcher import Matcher

    matcher = Matcher(nlp.vocab)
    matcher.add("parenthesis", [[{"ORTH": "("}, {"OP": "+"}, {"ORTH": ")"}]])
    rng = random.Random(8)
    for _ in range(1500):
        text = " ".join(rng.choice(["(", ")", "a", "PFS", "(OS)", "2"]) for _ in range(rng.randint(0, 30)))
        doc = made(nlp, text)
        expected = [(start, end) for _, start, end in matcher(doc) if end - start - 2 <= 8]
        assert [(start, end) for _, start, end in _bracketed_runs(doc)] == expected, repr(text)


def test_doc_abbreviations_are_scispacys_spans_built_when_read(nlp):
    """evx keeps the pairs as offsets; ``doc._.abbreviations`` still gives scispaCy's Spans, each
    use of a short form with its ``_.long_form``."""
    doc = nlp("Overall survival (OS) was long. OS was 20 months; objective response rate (ORR) 40%.")
    found = [(span.text, span.start_char, span._.long_form.text) for span in doc._.abbreviations]
    assert sorted(found) == [("ORR", 75, "objective response rate"), ("OS", 18, "Overall survival"),
                             ("OS", 32, "Overall survival")]


def test_a_doc_the_detector_has_not_seen_has_no_abbreviations(nlp):
    """``abbreviation_pairs`` of a doc that skipped the detector reads ``doc._.abbreviations``,
    whose getter must not ask ``abbreviation_pairs`` again (it recursed without end)."""
    from pipeline.tokens import abbreviation_pairs

    doc = made(nlp, "Overall survival (OS) was long.")
    assert abbreviation_pairs(doc) == [] and doc._.abbreviations == []
