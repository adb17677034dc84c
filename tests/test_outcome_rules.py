"""Outcome rules as data: the rule catalogue and the word lists are checked on load, every rule's
example yields a record of that rule, and the patterns stay linear on long repetitive text."""

from __future__ import annotations

import json
import re
import shutil
import time
import typing

import pytest

from pipeline.analysis import Sentence
from pipeline.document import Document
from pipeline.extract import analyse, counts, figures, lexicon, outcomes
from pipeline.extract import outcome_vocabulary as vocabulary
from pipeline.extract.context import Mention, SentenceView
from pipeline.store.models import Endpoint

CATALOGUE = vocabulary.rule_catalogue()


def _parts(rule: str) -> tuple[str, str]:
    """("duration.with_range", "after_endpoint") of "outcome.duration.with_range.after_endpoint"."""
    assert rule.startswith("outcome."), rule
    rest = rule[len("outcome."):]
    found = [(f, rest[len(f) + 1:]) for f in CATALOGUE.figures
             if rest.startswith(f + ".") and rest[len(f) + 1:] in CATALOGUE.readings]
    assert len(found) == 1, rule
    return found[0]


def _rules_of(text: str) -> set[tuple[str, str]]:
    analysis = analyse(Document(source="case.txt", format="text", text=text))
    return {_parts(r.rule) for r in analysis.records if r.type == "outcome"}


@pytest.mark.parametrize("figure", sorted(CATALOGUE.figures))
def test_each_figure_pattern_example_yields_it(nlp, figure):
    rules = _rules_of(CATALOGUE.figures[figure]["example"])
    assert figure in {f for f, _ in rules}, rules


@pytest.mark.parametrize("reading", sorted(CATALOGUE.readings))
def test_each_reading_example_yields_it_with_its_confidence(nlp, reading):
    example = CATALOGUE.readings[reading]["example"]
    analysis = analyse(Document(source="case.txt", format="text", text=example))
    found = [r for r in analysis.records if r.type == "outcome" and _parts(r.rule)[1] == reading]
    assert found, [r.rule for r in analysis.records]
    for record in found:
        assert record.confidence <= CATALOGUE.confidence(reading)
        assert record.needs_review == (record.confidence < 1)


def test_an_unknown_rule_part_is_an_error():
    with pytest.raises(lexicon.LexiconError):
        CATALOGUE.rule("percent", "guessed")


def test_endpoints_are_the_stored_vocabulary():
    """endpoints.json is the one list of endpoints; the store's column type must agree with it."""
    assert set(lexicon.load_endpoint_vocabulary().measures) == set(typing.get_args(Endpoint))
    assert outcomes.RATE_ENDPOINTS | outcomes.TIME_ENDPOINTS == set(typing.get_args(Endpoint))
    assert not outcomes.RATE_ENDPOINTS & outcomes.TIME_ENDPOINTS


def test_prefixed_short_forms_are_made_from_the_rule():
    names = lexicon.load_endpoint_vocabulary().names
    assert names["mPFS"] == "PFS" and names["mDoR"] == "DoR" and names["cORR"] == "ORR"
    assert "cPFS" not in names and "mORR" not in names


# ----------------------------------------------------------------------------- validation on load


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A copy of pipeline/data that vocabulary and lexicon read instead (their caches bypassed)."""
    for name in ("outcome_words.json", "outcome_rules.json", "endpoints.json"):
        shutil.copy(lexicon.DATA / name, tmp_path / name)
    monkeypatch.setattr(vocabulary, "DATA", tmp_path)
    monkeypatch.setattr(lexicon, "DATA", tmp_path)
    return tmp_path


def _edit(path, change):
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_the_data_files_load_as_they_are(data_copy):
    assert vocabulary.word_lists.__wrapped__()["number_words"].values["eighteen"] == 18
    assert vocabulary.rule_catalogue.__wrapped__().confidence("uniform") < 1
    assert lexicon.load_endpoint_vocabulary.__wrapped__().measures["DoR"] == "time"


@pytest.mark.parametrize("change, message", [
    (lambda d: d["lists"]["safety"].update(colour="red"), "safety"),
    (lambda d: d["lists"].update(spare={"about": "x", "example": "x", "words": ["x"]}), "unknown lists"),
    (lambda d: d["lists"].pop("negators"), "missing lists"),
    (lambda d: d["lists"]["design_cues"].update(example="the ORR was 40%"), "does not match"),
    (lambda d: d["lists"]["number_words"]["values"].update(dozen="12"), "whole numbers"),
    (lambda d: d.update(extra=1), "expected the keys"),
])
def test_a_bad_word_list_file_is_rejected(data_copy, change, message):
    _edit(data_copy / "outcome_words.json", change)
    with pytest.raises(lexicon.LexiconError, match=message):
        vocabulary.word_lists.__wrapped__()


@pytest.mark.parametrize("change", [
    lambda d: d["readings"]["negated"].update(confidence=1.5),
    lambda d: d["readings"]["negated"].pop("example"),
    lambda d: d["figures"]["percent"].update(note="x"),
])
def test_a_bad_rule_catalogue_is_rejected(data_copy, change):
    _edit(data_copy / "outcome_rules.json", change)
    with pytest.raises(lexicon.LexiconError):
        vocabulary.rule_catalogue.__wrapped__()


@pytest.mark.parametrize("change", [
    lambda d: d["endpoints"]["ORR"].update(kind="rate"),
    lambda d: d["endpoints"]["PFS"].update(measure="median"),
    lambda d: d["shared_heads"].update(words2=[]),
    lambda d: d.update(synonyms={}),
    lambda d: d["abbreviation_prefixes"]["prefixes"]["c"].update(endpoints=["XYZ"]),
    lambda d: d["responses"]["roles"].update(duration="XYZ"),
    lambda d: d["ratio_events"]["events"].update(OS=["(unclosed"]),
])
def test_a_bad_endpoint_file_is_rejected(data_copy, change):
    _edit(data_copy / "endpoints.json", change)
    with pytest.raises(lexicon.LexiconError):
        lexicon.load_endpoint_vocabulary.__wrapped__()


# ----------------------------------------------------------------------------- linear time

REPEATED = [
    "ORR 30% (95% CI 20-40), ",
    "1 and 1 and ",
    "12.5, 13.5, 14 and ",
    "no complete responses were seen in cohort B or cohort C or ",
    "four partial responses, ",
    "none of the 15 patients in cohort B responded ",
    "Neither cohort B (n = 15) nor ",
    "8 of 27 patients with stable disease had ",
    "one of which was complete, ",
    "null ORR 10%, power 0.85, alpha ",
    "responded (30%; ",
    "cohort cohort cohort patients patients had ",
    "Eighteen of them ( ",
]
MENTION = re.compile(r"ORR|complete responses|partial responses|stable disease|responded")
CANONICAL = {"ORR": "ORR", "complete responses": "CR", "partial responses": "PR", "stable disease": "SD", "responded": "ORR"}


@pytest.mark.parametrize("unit", REPEATED)
def test_patterns_stay_linear_on_long_repetitive_text(unit):
    """About 100 kB of one phrase over and over, read as one sentence: the figure patterns, the
    count readings and the outcome reader each finish in well under the limit (a pattern that
    backtracks, or a look-up per pair of mentions, takes minutes here)."""
    text = unit * (100_000 // len(unit))
    mentions = [Mention(m.start(), m.end(), m.group(0), "ENDPOINT_VERB" if m.group(0) == "responded" else "ENDPOINT",
                        CANONICAL[m.group(0)]) for m in MENTION.finditer(text)]
    started = time.process_time()  # CPU time: a loaded machine must not fail it
    found = figures.find_figures(text)
    types = counts.response_types(text, mentions, True)
    counts.read_counts(text, sorted([*mentions, *(t.mention for t in types)], key=lambda m: m.start), found, types, True)
    view = SentenceView(Sentence(0, 0, len(text), 0, None, text), endpoints=mentions)
    outcomes.extract_outcomes(view, view)
    for pattern in (figures.LEADING_VALUE, figures.N_OF_N_BEFORE, figures.N_BEFORE_PAREN, figures.TOTAL_AFTER,
                    counts.RESPONSE_TYPE_PHRASE, counts.NONE_OF, counts.NEITHER_NOR, counts.HAD_NONE,
                    counts.ALL_PARTIAL, counts.BARE_RESPONSE, outcomes.SENTENCE_BREAK, vocabulary.words("design_cues").pattern):
        pattern.findall(text)
    assert time.process_time() - started < 5.0
