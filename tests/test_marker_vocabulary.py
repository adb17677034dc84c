"""The HER2 and biomarker vocabularies (pipeline/data/her2.json, biomarker_statuses.json): checked
on load, every rule declared with an example that the rule reads, every rule in the code declared."""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from pathlib import Path

import pytest

from pipeline.document import Document
from pipeline.extract import analyse, her2
from pipeline.extract.lexicon import load_lexicons
from pipeline.extract.marker_vocabulary import (VocabularyError, biomarker_vocabulary, check_biomarker_vocabulary,
                                         check_her2_vocabulary, her2_vocabulary, words_pattern)

DATA = resources.files("pipeline") / "data"
EXTRACT = Path(her2.__file__).parent


def _raw(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _genes() -> set[str]:
    return set(load_lexicons().genes.values())


# ---------------------------------------------------------------------------- checked on load


def test_the_shipped_files_load():
    assert "FISH" in her2_vocabulary().methods
    assert biomarker_vocabulary().status_of("Wild type") == "wild-type"
    assert her2_vocabulary().result_of("Over-expressing") == "overexpression"


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(colour="blue"), "unknown keys"),
    (lambda d: d.pop("_source"), "missing keys"),
    (lambda d: d["results"].update(great=["great"]), "unknown value"),
    (lambda d: d["methods"]["IHC"].update(kind="vibes"), "kind"),
    (lambda d: d["methods"]["IHC"].update(aliases=["x"]), "expected keys"),
    (lambda d: d["results"]["negative"].append("positive"), "listed under"),
    (lambda d: d["ish_results"].append("sparkly"), "not one of the results"),
    (lambda d: d["rules"].update({"her2.Bad-Name": "x"}), "not a rule id"),
    (lambda d: d["rules"].update({"her2.empty": ""}), "example"),
])
def test_a_malformed_her2_file_is_rejected(change, message):
    data = copy.deepcopy(_raw("her2.json"))
    change(data)
    with pytest.raises(VocabularyError, match=message):
        check_her2_vocabulary(data)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(extra={}), "unknown keys"),
    (lambda d: d["statuses"].update(sparkly=["sparkly"]), "unknown value"),
    (lambda d: d["kinds"].update(odd=["NOT-A-GENE"]), "neither a marker nor an earlier kind"),
    (lambda d: d["statuses_before"].append({"status": "high", "forms": ["big"], "markers": ["nobody"]}), "neither"),
    (lambda d: d["statuses_before"].append({"status": "high", "forms": ["big"]}), "expected keys"),
    (lambda d: d["named"].update({"XYZ": {"marker": "KRAS", "status": "tall"}}), "unknown marker or status"),
    (lambda d: d["rules"].update({"her2.status": "x"}), "not a rule id"),
    (lambda d: d["second_statuses"].append("tall"), "not one of the statuses"),
])
def test_a_malformed_biomarker_file_is_rejected(change, message):
    data = copy.deepcopy(_raw("biomarker_statuses.json"))
    change(data)
    with pytest.raises(VocabularyError, match=message):
        check_biomarker_vocabulary(data, _genes())


def test_forms_read_hyphens_spaces_and_case_as_documented():
    pattern = re.compile(rf"^{words_pattern(['co-positive', 'in situ'])}$")
    for text in ("co-positive", "copositive", "co positive", "Co-Positive", "in situ", "in-situ", "IN  SITU"):
        assert pattern.match(text), text
    assert not pattern.match("co--positive")
    acronym = re.compile(rf"^{words_pattern(['FISH'], as_written=True)}$")
    assert acronym.match("FISH") and not acronym.match("fish")


# ---------------------------------------------------------------------------- every rule has an example


def _rules_of(example: str) -> set[str]:
    """The rules of the records the whole analysis makes of ``example`` (settle_her2 included)."""
    return {r.rule for r in analyse(Document(source="example.txt", format="text", text=example)).records}


@pytest.mark.parametrize("rule, example", sorted(her2_vocabulary().rules.items()))
def test_each_her2_rule_reads_its_example(nlp, rule, example):
    assert rule in _rules_of(example), example


@pytest.mark.parametrize("rule, example", sorted(biomarker_vocabulary().rules.items()))
def test_each_biomarker_rule_reads_its_example(nlp, rule, example):
    assert rule in _rules_of(example), example


@pytest.mark.parametrize("module, prefix, vocab", [
    ("her2.py", "her2", her2_vocabulary), ("biomarkers.py", "biomarker", biomarker_vocabulary)])
def test_every_rule_the_code_names_is_declared(module, prefix, vocab):
    used = set(re.findall(rf'"({prefix}\.[a-z_]+)"', (EXTRACT / module).read_text(encoding="utf-8")))
    assert used, module
    assert used <= set(vocab().rules), used - set(vocab().rules)
    assert set(vocab().rules) <= used, set(vocab().rules) - used  # no rule left in the data that no code makes
