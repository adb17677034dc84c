"""The extractors rule most sentences out with cheap tests before their slow patterns run
(plain word tests in the lower-case text, patterns Python's re scans fast). A cheap test must
never rule out text the slow pattern matches: over the dev abstracts, and over made-up text with
the characters re.IGNORECASE reads as ASCII letters ("ſ", "K", "İ", "ı"), each gives the same
answer as the pattern alone."""

import itertools
import random
import re

import pytest

from pipeline.analysis import Sentence
from pipeline.extract import biomarkers, figures, her2, outcomes, trials
from pipeline.extract.context import SentenceView, lowered
from pipeline.segment import INLINE_LABEL, _inline_labels

ODD_LETTERS = ["ſ", "\u212a", "İ", "ı", "\u00a0", "–"]


def _view(text: str) -> SentenceView:
    return SentenceView(Sentence(0, 0, len(text), 0, None, text))


def _texts(shared_corpus) -> list[str]:
    return [f.read_text(encoding="utf-8") for f in sorted((shared_corpus / "pico-breast").glob("*.txt"))]


def _sentences(shared_corpus) -> list[str]:
    return [s for text in _texts(shared_corpus) for s in re.split(r"(?<=[.;:])\s+|\n", text) if s.strip()]


def _made_up(words: list[str], count: int = 5000) -> list[str]:
    """Random runs of ``words``, odd letters and separators."""
    rnd = random.Random(0)
    parts = [*words, *(w.upper() for w in words), *ODD_LETTERS, " ", "-", "(", "2", ": ", ". ", "\n"]
    odd = {w: w.replace("s", "ſ").replace("k", "\u212a").replace("i", "ı") for w in words}
    parts += list(odd.values())
    return ["".join(rnd.choice(parts) for _ in range(rnd.randint(1, 8))) for _ in range(count)]


def _her2(text: str) -> bool:
    return her2.HER2_TRIGGER.search(text) is not None


def _ratio(text: str) -> bool:
    return outcomes.RATIO_WORD.search(text) is not None


def _marker(text: str) -> bool:
    return (biomarkers._gene_patterns().gene.search(text) is not None
            or any(surface in text for surface in biomarkers._named()))


CHECKS = [
    (her2._mentions_her2, _her2, ["her2", "her-2", "erbb2", "epidermal growth", "immunohistochemistry", "in situ",
                                     "IHC", "ISH"]),
    (outcomes._names_ratio, _ratio, ["hazard", "odds", "HR", "OR", "HRs"]),
    (biomarkers._names_marker, _marker, ["estrogen receptor", "p53", "KRAS", "all-RAS", "erbB-2", "MSI-H", "dMMR",
                                      "mismatch repair", "tumour mutational burden", "ER", "Ki67"]),
]


@pytest.mark.parametrize("cheap, slow, words", CHECKS, ids=["her2", "ratio", "marker"])
def test_sentence_checks_agree_with_their_patterns(cheap, slow, words, shared_corpus) -> None:
    texts = _sentences(shared_corpus) + _made_up(words)
    assert any(slow(text) for text in texts)
    for text in texts:
        assert cheap(_view(text)) == slow(text), text


@pytest.mark.parametrize("cue, words", [
    (her2.has_her2_cue, CHECKS[0][2]),
    (outcomes.has_ratio_cue, CHECKS[1][2]),
    (biomarkers.has_marker_cue, CHECKS[2][2]),
], ids=["her2", "ratio", "marker"])
def test_a_document_holds_every_cue_its_sentences_hold(cue, words, shared_corpus) -> None:
    """analyse skips an extractor for a document whose text holds none of its cues: a sentence
    (a slice of the text) holding one must make the whole text hold one."""
    def holds(text: str) -> bool:
        return cue(text, lowered(text))

    made_up = _made_up(words)
    cases = [(sentence, text) for text in _texts(shared_corpus) for sentence in re.split(r"(?<=[.;:])\s+|\n", text)]
    cases += [(middle, before + middle + after) for before, middle, after in zip(made_up, made_up[1:], made_up[2:])]
    assert any(holds(sentence) for sentence, _ in cases)
    for sentence, text in cases:
        if holds(sentence):
            assert holds(text), (sentence, text)


@pytest.mark.parametrize("pattern, cue, in_lower_case", [
    (trials.REGISTRY_ID, trials.REGISTRY_CUE, False),
    (trials.COOP_TRIAL, trials.COOP_CUE, False),
    (trials.PROTOCOL_CODE, trials.PROTOCOL_CUE, True),
], ids=["registry", "cooperative group", "protocol"])
def test_trial_cues_hold_in_every_match(pattern, cue, in_lower_case, shared_corpus) -> None:
    made_up = _made_up(["study", "trial", "protocol", "no. ", "egf", "100151", "NCT", "01234567", "NSABP", "B-31"])
    for text in _texts(shared_corpus) + made_up:
        if pattern.search(text):
            assert cue.search(lowered(text) if in_lower_case else text), text


def test_her2_and_marker_patterns_hold_the_words_tested_first(shared_corpus) -> None:
    """extract_her2 tries the ISH patterns only on text holding "ISH" or "situ" (in lower case),
    the HER2:CEP17 ratio on text holding "cep"; extract_biomarkers the cut-offs on text with "%"."""
    words = ["FISH", "ISH", "in situ hybridization", "HER2", "HER2/CEP17 ratio 2.2", "IHC 2+", "positive by", "negative", "ER",
             "Ki67", "PR", "≥", "14%", "or higher"]
    cues = [
        ((her2.patterns().ihc_with_ish, her2.patterns().ish_result, her2.patterns().ish_result_before,
          her2.patterns().result_by_method),
         lambda text: "ISH" in text or "situ" in lowered(text)),
        ((her2.RATIO,), lambda text: "cep" in lowered(text)),
        ((biomarkers._gene_patterns().cutoff,), lambda text: "%" in text),
    ]
    texts = _sentences(shared_corpus) + _made_up(words, count=20000)
    for patterns, cue in cues:
        for pattern in patterns:
            matched = [text for text in texts if pattern.search(text)]
            assert matched, pattern
            for text in matched:
                assert cue(text), text


def test_before_patterns_end_as_the_cheap_test_says(shared_corpus) -> None:
    words = [*figures.BEFORE_WORD_ENDS, "moreover", "again", "n =", "1 -", "≥", "<", "or =", "of", "was"]
    # the text before every number (up to 80 characters: the patterns end where ``before`` does)
    befores = [text[max(0, m.start() - 80) : m.start()] for text in _texts(shared_corpus) for m in re.finditer(r"\d", text)]
    befores += _made_up(words)
    slow = (figures.THRESHOLD_BEFORE, figures.CHANGE_BEFORE, figures.SIZE_BEFORE, figures.RANGE_END_BEFORE)
    matched = 0
    for before in befores:
        if any(p.search(before) for p in slow):
            matched += 1
            assert figures._may_end_before_pattern(before), before
    assert matched


def test_inline_labels_are_found_as_by_the_pattern(shared_corpus) -> None:
    labels = ["RESULTS", "Methods", "case presentation", "Conclusions", ": ", ":\n", ". ", ".\n", "\n", "x"]
    for text in itertools.chain(_texts(shared_corpus), _made_up(labels)):
        assert [m.span() for m in _inline_labels(text)] == [m.span() for m in INLINE_LABEL.finditer(text)], text
