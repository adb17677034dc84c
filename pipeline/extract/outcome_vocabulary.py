"""Cue words of the outcome readers, as data: ``pipeline/data/outcome_words.json``.

Each list is one rule's vocabulary ("safety", "number_words", "design_cues"...), with what it is
for and an example. On load the file is checked: every list the code reads must be there and no
other, each with only the known keys, and each list's pattern must match its own example. A
list becomes one regular expression (an alternation of literal words, no nested quantifiers,
so it runs in linear time) and, for the code's cheap tests, a set of its lower-case words.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline.extract.lexicon import DATA, LexiconError, load_lists

FILE = "outcome_words.json"
# The lists the outcome readers use; outcome_words.json holds exactly these.
LISTS = frozenset({
    "safety", "other_measure", "clause_turn", "mean", "other_quantity", "number_words", "design_cues",
    "design_after", "threshold_after", "witness_verbs", "possession_verbs", "patient_nouns", "group_nouns",
    "endpoint_adjectives", "response_lasting", "negated_verb", "prior_response", "negators", "uniform", "anaphora",
    "threshold_before", "change_before", "change_after", "label_nouns", "subgroup_nouns", "subgroup_prepositions",
    "where_prepositions", "range_words",
})
LIST_KEYS = {"about", "example", "words", "patterns", "values", "case_sensitive"}


@dataclass(frozen=True)
class WordList:
    name: str
    words: frozenset[str]  # lower case, "*" endings kept
    values: dict[str, int]  # number words -> value (empty for other lists)
    alternation: str  # "(?:...)" of the words and patterns, to put into larger patterns
    pattern: re.Pattern  # the alternation as a whole word
    # Lower-case words one of which every match holds (in ``context.lowered`` text), for a plain
    # test before the pattern; None for a list with patterns, whose matches no word gives.
    gate: tuple[str, ...] | None = None

    def search(self, text: str) -> re.Match | None:
        return self.pattern.search(text)


def _word_regex(word: str) -> str:
    """'toxicit*' -> 'toxicit\\w*'; 'side effect*' -> 'side\\s+effect\\w*'."""
    wild = word.endswith("*")
    parts = [re.escape(part) for part in word.rstrip("*").split()]
    return r"\s+".join(parts) + (r"\w*" if wild else "")


def _build(name: str, entry: dict) -> WordList:
    if not isinstance(entry, dict) or set(entry) - LIST_KEYS or not {"about", "example"} <= set(entry):
        raise LexiconError(f"{FILE}: {name}: expected 'about', 'example' and some of {sorted(LIST_KEYS - {'about', 'example'})}")
    values = entry.get("values", {})
    words = [*entry.get("words", []), *values]
    patterns = entry.get("patterns", [])
    if not words and not patterns:
        raise LexiconError(f"{FILE}: {name}: no words, patterns or values")
    if not all(isinstance(v, int) for v in values.values()):
        raise LexiconError(f"{FILE}: {name}: values must be whole numbers")
    # Longest first, so "side effects" is tried before "side".
    branches = [_word_regex(w) for w in sorted(words, key=len, reverse=True)] + list(patterns)
    alternation = "(?:" + "|".join(branches) + ")"
    flags = 0 if entry.get("case_sensitive") else re.IGNORECASE
    try:
        pattern = re.compile(rf"(?<!\w){alternation}(?!\w)", flags)
    except re.error as error:
        raise LexiconError(f"{FILE}: {name}: bad pattern ({error})") from error
    if not pattern.search(entry["example"]):
        raise LexiconError(f"{FILE}: {name}: its example {entry['example']!r} does not match")
    gate = None if patterns else _covering({max(w.rstrip("*").split(), key=len).lower() for w in words})
    return WordList(name, frozenset(w.lower() for w in words), {k.lower(): v for k, v in values.items()},
                    alternation, pattern, gate)


def _covering(words: set[str]) -> tuple[str, ...]:
    """The fewest of ``words`` that every one of them holds: ("range", "ranges") -> ("range",)."""
    return tuple(sorted(w for w in words if not any(o != w and o in w for o in words)))


@lru_cache(maxsize=1)
def word_lists() -> dict[str, WordList]:
    """All lists of outcome_words.json, checked (see the module docstring)."""
    return {name: _build(name, entry) for name, entry in load_lists(DATA / FILE, LISTS).items()}


def words(name: str) -> WordList:
    return word_lists()[name]


RULES_FILE = "outcome_rules.json"


@dataclass(frozen=True)
class RuleCatalogue:
    """``outcome_rules.json``: the parts of outcome rule ids, "outcome.<figure>.<reading>"."""

    figures: dict[str, dict]  # pattern name -> {"about", "example"}
    readings: dict[str, dict]  # reading name -> {"about", "example", "confidence"}

    def rule(self, figure: str, reading: str) -> str:
        """The rule id of a record; an unknown part is a programming error, caught by the tests."""
        if figure not in self.figures or reading not in self.readings:
            raise LexiconError(f"{RULES_FILE}: no rule part {figure!r} or {reading!r}")
        return f"outcome.{figure}.{reading}"

    def confidence(self, reading: str) -> float:
        return self.readings[reading]["confidence"]


@lru_cache(maxsize=1)
def rule_catalogue() -> RuleCatalogue:
    data = json.loads((DATA / RULES_FILE).read_text(encoding="utf-8"))
    if set(data) != {"_source", "figures", "readings"}:
        raise LexiconError(f"{RULES_FILE}: expected the keys '_source', 'figures' and 'readings', found {sorted(data)}")
    for part, keys in (("figures", {"about", "example"}), ("readings", {"about", "example", "confidence"})):
        for name, entry in data[part].items():
            if not isinstance(entry, dict) or set(entry) != keys:
                raise LexiconError(f"{RULES_FILE}: {part} {name}: expected the keys {sorted(keys)}")
    for name, entry in data["readings"].items():
        if not 0 < entry["confidence"] <= 1:
            raise LexiconError(f"{RULES_FILE}: reading {name}: confidence must be in (0, 1]")
    return RuleCatalogue(data["figures"], data["readings"])
