"""Vocabulary of the HER2 and biomarker rules: word lists in pipeline/data, checked on load.

Rules as data, matchers as code: the words (result words, method names, status words, negation
cues...) live in ``her2.json`` and ``biomarker_statuses.json``; the patterns that join them live
in pipeline.extract.her2 and pipeline.extract.biomarkers. Each file names its ``_source`` and
lists every rule id with an example sentence the rule reads (tests/test_marker_vocabulary.py
runs them all). A key the loader does not know is an error, not ignored.

How a form is matched (``words_pattern``): in any case; a space stands for any run of spaces
or hyphens ("in situ" also reads "in-situ"), a hyphen for an optional hyphen or space
("co-positive" also reads "copositive" and "co positive"). Only method acronyms ("IHC",
"FISH") and named markers ("MSI-H", "dMMR") are matched as written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pipeline.extract.lexicon import DATA, LexiconError, load_lexicons

RULE_ID = re.compile(r"(?:her2|biomarker)\.[a-z][a-z_]*")
METHOD_KINDS = ("protein", "in situ", "sequencing", "blood")  # what a HER2 test looks at
HER2_RESULTS = ("3+", "2+", "1+", "0", "positive", "amplified", "overexpression", "negative", "low")  # GOLD_FORMAT
MARKER_STATUSES = ("wild-type", "mutated", "amplified", "positive", "negative", "high", "stable", "deficient",
                   "proficient", "fusion", "loss", "low", "absent")  # "absent": wild-type or negative by marker kind


class VocabularyError(LexiconError):
    """A vocabulary file is malformed: unknown or missing key, wrong type, unknown value."""


# ---------------------------------------------------------------------------- matching forms


def normal_form(surface: str) -> str:
    """The key a matched surface is looked up by: lower case, without spaces and hyphens."""
    return re.sub(r"[\s\-‐‑–]+", "", surface.lower())


def words_pattern(forms: Iterable[str], as_written: bool = False) -> str:
    """One non-capturing alternation of ``forms``, longest first, read as the module says."""
    parts = []
    for form in sorted(set(forms), key=lambda f: (-len(f), f)):
        words = [re.escape(w).replace(r"\-", "[- ]?") for w in form.split()]
        parts.append(r"[\s-]+".join(words))
    body = "|".join(parts)
    return f"(?:{body})" if as_written else f"(?i:{body})"


# ---------------------------------------------------------------------------- checking a file


def _words(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(w, str) and w.strip() for w in value):
        raise VocabularyError(f"{where}: expected a non-empty list of words")
    return value


def _object(value: Any, where: str, keys: Iterable[str] | None = None) -> dict:
    if not isinstance(value, dict):
        raise VocabularyError(f"{where}: expected an object")
    if keys is not None:
        keys = set(keys)
        if set(value) != keys:
            raise VocabularyError(f"{where}: expected keys {sorted(keys)}, found {sorted(value)}")
    return value


def _word_map(value: Any, where: str, allowed: Iterable[str] | None = None) -> dict[str, list[str]]:
    """{canonical: [forms]}: every canonical allowed, no form given two canonicals."""
    value = _object(value, where)
    seen: dict[str, str] = {}
    for canonical, forms in value.items():
        if allowed is not None and canonical not in allowed:
            raise VocabularyError(f"{where}: unknown value {canonical!r} (known: {', '.join(allowed)})")
        for form in _words(forms, f"{where}.{canonical}"):
            key = normal_form(form)
            if seen.setdefault(key, canonical) != canonical:
                raise VocabularyError(f"{where}: {form!r} is listed under {seen[key]!r} and {canonical!r}")
    return value


def _rules(value: Any, where: str, prefix: str) -> dict[str, str]:
    value = _object(value, where)
    for rule, example in value.items():
        if not RULE_ID.fullmatch(rule) or not rule.startswith(prefix + "."):
            raise VocabularyError(f"{where}: {rule!r} is not a rule id like '{prefix}.some_pattern'")
        if not isinstance(example, str) or not example.strip():
            raise VocabularyError(f"{where}.{rule}: expected an example sentence")
    return value


def _checked(name: str, data: Any, shape: dict[str, Callable[[Any, str], Any]]) -> dict[str, Any]:
    """``data`` with each key checked by its function in ``shape``; '_source' is required."""
    data = _object(data, name)
    unknown, missing = set(data) - set(shape) - {"_source"}, (set(shape) | {"_source"}) - set(data)
    if unknown or missing:
        raise VocabularyError(f"{name}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    if not isinstance(data["_source"], str) or not data["_source"].strip():
        raise VocabularyError(f"{name}: '_source' must say where the words come from")
    return {key: check(data[key], f"{name}: {key}") for key, check in shape.items()}


def _read(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------- HER2


@dataclass(frozen=True)
class Method:
    name: str  # canonical: IHC, ISH, FISH, CISH, SISH, DISH, NGS, ddPCR, ctDNA
    kind: str  # one of METHOD_KINDS
    acronyms: tuple[str, ...]  # matched as written
    names: tuple[str, ...]  # matched in any case


@dataclass(frozen=True)
class Her2Vocabulary:
    methods: dict[str, Method]
    results: dict[str, list[str]]  # canonical result -> forms written after HER2 ("HER2-positive")
    results_before: dict[str, list[str]]  # canonical result -> forms written before HER2 ("overexpression of")
    ish_results: list[str]  # forms an ISH result is written with ("FISH-negative"), each one of ``results``
    negation_before: list[str]  # "without HER2 overexpression"
    negation_after: list[str]  # "HER2 amplification was not detected"
    copy_number: list[str]  # names of a gene copy number ("GCN")
    rules: dict[str, str]  # rule id -> example
    _result_keys: dict[str, str] = field(default_factory=dict, repr=False)  # normal_form -> result
    _method_keys: dict[str, str] = field(default_factory=dict, repr=False)  # acronym or normal_form -> method

    def __post_init__(self) -> None:
        for mapping in (self.results, self.results_before):
            self._result_keys.update({normal_form(f): canonical for canonical, forms in mapping.items() for f in forms})
        for m in self.methods.values():
            self._method_keys.update({normal_form(n): m.name for n in m.names})
            self._method_keys.update({a: m.name for a in m.acronyms})

    def result_of(self, surface: str) -> str:
        """The canonical result of a form of ``results``, ``results_before`` or ``ish_results``."""
        return self._result_keys[normal_form(surface)]

    def method_of(self, surface: str) -> str | None:
        """The canonical method of an acronym (as written) or a name (any case)."""
        return self._method_keys.get(surface) or self._method_keys.get(normal_form(surface))

    def methods_of_kind(self, *kinds: str) -> list[Method]:
        return [m for m in self.methods.values() if m.kind in kinds]


def _method(value: Any, where: str) -> dict:
    value = _object(value, where, ("kind", "acronyms", "names"))
    if value["kind"] not in METHOD_KINDS:
        raise VocabularyError(f"{where}.kind: {value['kind']!r} is not one of {METHOD_KINDS}")
    _words(value["acronyms"], f"{where}.acronyms")
    _words(value["names"], f"{where}.names")
    return value


def _methods(value: Any, where: str) -> dict:
    return {name: _method(entry, f"{where}.{name}") for name, entry in _object(value, where).items()}


def check_her2_vocabulary(data: Any) -> Her2Vocabulary:
    """The HER2 vocabulary from the parsed ``her2.json``; VocabularyError if it is malformed."""
    checked = _checked("her2.json", data, {
        "methods": _methods,
        "results": lambda v, w: _word_map(v, w, HER2_RESULTS),
        "results_before": lambda v, w: _word_map(v, w, HER2_RESULTS),
        "ish_results": _words,
        "negation_before": _words,
        "negation_after": _words,
        "copy_number": _words,
        "rules": lambda v, w: _rules(v, w, "her2"),
    })
    known = {normal_form(f) for forms in checked["results"].values() for f in forms}
    for form in checked["ish_results"]:
        if normal_form(form) not in known:
            raise VocabularyError(f"her2.json: ish_results: {form!r} is not one of the results")
    methods = {name: Method(name, e["kind"], tuple(e["acronyms"]), tuple(e["names"]))
               for name, e in checked["methods"].items()}
    return Her2Vocabulary(methods, checked["results"], checked["results_before"], checked["ish_results"],
                          checked["negation_before"], checked["negation_after"], checked["copy_number"],
                          checked["rules"])


@lru_cache(maxsize=1)
def her2_vocabulary() -> Her2Vocabulary:
    return check_her2_vocabulary(_read("her2.json"))


# ---------------------------------------------------------------------------- biomarkers


@dataclass(frozen=True)
class StatusBefore:
    status: str  # canonical status
    forms: tuple[str, ...]  # "wild-type", "positive for"
    markers: frozenset[str]  # the markers it may stand before ("high" before Ki67 but not before KRAS)


@dataclass(frozen=True)
class BiomarkerVocabulary:
    statuses: dict[str, list[str]]  # canonical status -> forms written after a marker ("KRAS-mutated")
    statuses_before: list[StatusBefore]
    named: dict[str, tuple[str, str]]  # a marker name that carries its status: "MSI-H" -> (MSI, high)
    kinds: dict[str, frozenset[str]]  # kind of marker -> markers; decides how a status is read
    second_statuses: list[str]  # forms that may follow a status after "or": "RAS wild-type or mutant"
    mutation_negation: list[str]  # "no KRAS mutation"
    negation_after: list[str]  # "KRAS mutations were not detected"
    rules: dict[str, str]  # rule id -> example
    _status_keys: dict[str, str] = field(default_factory=dict, repr=False)  # normal_form -> status

    def __post_init__(self) -> None:
        self._status_keys.update({normal_form(f): status for status, forms in self.statuses.items() for f in forms})

    def status_of(self, surface: str) -> str | None:
        return self._status_keys.get(normal_form(surface))

    def before(self, surface: str) -> StatusBefore | None:
        key = normal_form(surface)
        return next((s for s in self.statuses_before if key in {normal_form(f) for f in s.forms}), None)


def check_biomarker_vocabulary(data: Any, genes: Iterable[str]) -> BiomarkerVocabulary:
    """The biomarker vocabulary from the parsed ``biomarker_statuses.json``; ``genes`` are the
    canonical markers of biomarkers.json, the only ones a kind or a rule may name."""
    genes = set(genes)

    def kinds(value: Any, where: str) -> dict[str, frozenset[str]]:
        found: dict[str, frozenset[str]] = {}
        for kind, members in _object(value, where).items():
            expanded: set[str] = set()
            for member in _words(members, f"{where}.{kind}"):
                if member in found:  # an earlier kind
                    expanded |= found[member]
                elif member in genes:
                    expanded.add(member)
                else:
                    raise VocabularyError(f"{where}.{kind}: {member!r} is neither a marker nor an earlier kind")
            found[kind] = frozenset(expanded)
        return found

    checked = _checked("biomarker_statuses.json", data, {
        "statuses": lambda v, w: _word_map(v, w, MARKER_STATUSES),
        "kinds": kinds,
        "statuses_before": lambda v, w: v,  # checked below, once the kinds are known
        "named": _object,
        "second_statuses": _words,
        "mutation_negation": _words,
        "negation_after": _words,
        "rules": lambda v, w: _rules(v, w, "biomarker"),
    })
    known_kinds = checked["kinds"]

    def markers(members: list[str], where: str) -> frozenset[str]:
        out: set[str] = set()
        for member in _words(members, where):
            if member not in known_kinds and member not in genes:
                raise VocabularyError(f"{where}: {member!r} is neither a marker nor a kind")
            out |= known_kinds.get(member, {member})
        return frozenset(out)

    before = []
    if not isinstance(checked["statuses_before"], list):
        raise VocabularyError("biomarker_statuses.json: statuses_before: expected a list")
    for i, entry in enumerate(checked["statuses_before"]):
        where = f"biomarker_statuses.json: statuses_before[{i}]"
        entry = _object(entry, where, ("status", "forms", "markers"))
        if entry["status"] not in MARKER_STATUSES:
            raise VocabularyError(f"{where}.status: unknown status {entry['status']!r}")
        before.append(StatusBefore(entry["status"], tuple(_words(entry["forms"], f"{where}.forms")),
                                   markers(entry["markers"], f"{where}.markers")))
    named = {}
    for surface, entry in checked["named"].items():
        where = f"biomarker_statuses.json: named.{surface}"
        entry = _object(entry, where, ("marker", "status"))
        if entry["marker"] not in genes or entry["status"] not in MARKER_STATUSES:
            raise VocabularyError(f"{where}: unknown marker or status {entry}")
        named[surface] = (entry["marker"], entry["status"])
    known = {normal_form(f) for forms in checked["statuses"].values() for f in forms}
    for form in checked["second_statuses"]:
        if normal_form(form) not in known:
            raise VocabularyError(f"biomarker_statuses.json: second_statuses: {form!r} is not one of the statuses")
    return BiomarkerVocabulary(checked["statuses"], before, named, known_kinds, checked["second_statuses"],
                               checked["mutation_negation"], checked["negation_after"], checked["rules"])


@lru_cache(maxsize=1)
def biomarker_vocabulary() -> BiomarkerVocabulary:
    return check_biomarker_vocabulary(_read("biomarker_statuses.json"), set(load_lexicons().genes.values()))
