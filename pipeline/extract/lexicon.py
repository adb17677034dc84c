"""Lexicons: rules as data, loaded from pipeline/data with importlib.resources and checked on load.

The drug lexicon is the offline DrugBank/MeSH/MedlinePlus dictionary shipped by the
`drug-named-entity-recognition` package (MIT), read directly from its data file so no
download or network call happens, completed by evx's own brand/code-name aliases and minus
a stoplist of ordinary words.

That data file unpickles into ~400 MB of Python objects for the ~50,000 names evx keeps, and
the memory stays with the process. So the names are filtered once, in a child process, into a
small JSON cache (``$EVX_CACHE_DIR``, else ``$XDG_CACHE_HOME/evx`` or ``~/.cache/evx``) keyed
by the package's file and evx's own lexicon code and data; every later process loads the cache
in a few milliseconds.
"""

from __future__ import annotations

import bz2
import hashlib
import importlib.util
import json
import os
import pickle
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path

DATA = resources.files("pipeline") / "data"


class LexiconError(ValueError):
    """A data file is malformed (unknown key, wrong type)."""


def _load_json(name: str, key: str) -> dict:
    data = json.loads((DATA / name).read_text(encoding="utf-8"))
    unknown = set(data) - {key, "_source"}
    if unknown or key not in data or not isinstance(data[key], dict):
        raise LexiconError(f"{name}: expected keys '_source' and '{key}' (object), found {sorted(data)}")
    return data[key]


def load_lists(path, known: frozenset[str]) -> dict:
    """The "lists" of the data file at ``path`` (next to its "_source"): exactly the ``known``
    lists, each left for its reader to check."""
    name = path.name
    data = json.loads(path.read_text(encoding="utf-8"))
    if set(data) != {"_source", "lists"} or not isinstance(data["lists"], dict):
        raise LexiconError(f"{name}: expected the keys '_source' and 'lists', found {sorted(data)}")
    names = set(data["lists"])
    if names != known:
        raise LexiconError(f"{name}: unknown lists {sorted(names - known)}, missing lists {sorted(known - names)}")
    return data["lists"]


@dataclass(frozen=True)
class Lexicons:
    endpoints: dict[str, str]  # surface form -> canonical endpoint
    trials: dict[str, str]  # lower-cased surface -> canonical trial name
    drug_aliases: dict[str, str]  # lower-cased brand/code -> INN
    backbones: dict[str, str]  # lower-cased -> canonical spelling ("mfolfox6" -> "mFOLFOX6")
    genes: dict[str, str]  # surface -> canonical gene
    drugs: dict[str, str]  # lower-cased variant -> lower-case canonical name
    drug_stoplist: frozenset[str]
    backbone_components: dict[str, frozenset[str]]  # canonical backbone -> its drugs (INN)

    @cached_property
    def drug_prefixes(self) -> frozenset[str]:
        """Every leading run of words of every drug and backbone name ("gm", "gm csf"...), plus
        "fec" and "fec 100" for FEC100 (written "FEC 100"). The NER extends a word run only while
        it is one of these, so a word that starts no name costs one look-up."""
        prefixes = set()
        for name in (*self.drugs, *self.backbones):
            words = name.split()
            prefixes.update(" ".join(words[:i]) for i in range(1, len(words) + 1))
        for name in self.backbones:
            spaced = re.fullmatch(r"([a-z]+)(\d+)", name)
            if spaced:
                prefixes.update((spaced.group(1), f"{spaced.group(1)} {spaced.group(2)}"))
        return frozenset(prefixes)

    @cached_property
    def trial_first_words(self) -> frozenset[str]:
        return frozenset(name.split()[0] for name in self.trials)



@dataclass(frozen=True)
class EndpointVocabulary:
    """``endpoints.json``: the one place evx keeps what it knows about endpoint words."""

    names: dict[str, str]  # surface form -> canonical endpoint, prefixed short forms ("mPFS") included
    measures: dict[str, str]  # canonical -> "rate" (response-type, counted in patients) or "time"
    verbs: dict[str, str]  # lower-case verb stating an endpoint ("responded") -> canonical
    count_words: dict[str, str]  # word naming an endpoint only when counted ("response", "PR": exact case)
    long_form_modifiers: frozenset[str]  # "median" of "median duration of response (mDoR)"
    shared_heads: frozenset[str]  # "survival" of "progression-free and overall survival"
    response_types: dict[str, str]  # "complete" -> "CR"
    long_form_stems: tuple[str, ...]  # what an endpoint abbreviation's long form holds ("respon")
    qualified_survival: frozenset[str]
    progression_as_event: frozenset[str]
    ratio_events: list[tuple[str, re.Pattern]]  # (endpoint, what a ratio's words say it is of), in order
    response: str  # what "responses" name: ORR
    response_duration: str  # what their lasting is: DoR
    lasting: frozenset[str]  # endpoints whose median may be that lasting ("responses lasted ...")
    none_if_all_partial: str  # what "entirely partial responses" have none of: CR

    def of_measure(self, measure: str) -> frozenset[str]:
        return frozenset(c for c, m in self.measures.items() if m == measure)


ENDPOINT_KEYS = {"measure", "example", "names", "verbs", "count_words"}
ENDPOINT_MEASURES = {"rate", "time"}
# rule section of endpoints.json -> the key holding its content
ENDPOINT_RULES = {"abbreviation_prefixes": "prefixes", "long_form_modifiers": "words", "shared_heads": "words",
                  "response_types": "types", "long_form_stems": "words", "qualified_survival": "words",
                  "progression_as_event": "words", "ratio_events": "events", "responses": "roles"}
RESPONSE_ROLES = {"response", "duration", "lasting", "none_if_all_partial"}


@lru_cache(maxsize=1)
def load_endpoint_vocabulary() -> EndpointVocabulary:
    """Read and check ``endpoints.json``: unknown keys, measures and endpoints are errors."""
    name = "endpoints.json"
    data = json.loads((DATA / name).read_text(encoding="utf-8"))
    unknown = set(data) - {"_source", "endpoints", *ENDPOINT_RULES}
    if unknown or "_source" not in data or not isinstance(data.get("endpoints"), dict):
        raise LexiconError(f"{name}: unknown or missing keys {sorted(unknown) or ['endpoints']}")
    names: dict[str, str] = {}
    measures: dict[str, str] = {}
    verbs: dict[str, str] = {}
    count_words: dict[str, str] = {}
    for canonical, entry in data["endpoints"].items():
        if not isinstance(entry, dict) or set(entry) - ENDPOINT_KEYS or entry.get("measure") not in ENDPOINT_MEASURES \
                or not entry.get("names") or not entry.get("example"):
            raise LexiconError(f"{name}: endpoint {canonical}: expected a measure ({sorted(ENDPOINT_MEASURES)}), an "
                               f"example and names, and only the keys {sorted(ENDPOINT_KEYS)}")
        measures[canonical] = entry["measure"]
        names.update((surface, canonical) for surface in entry["names"])
        verbs.update((verb.lower(), canonical) for verb in entry.get("verbs", []))
        count_words.update((word, canonical) for word in entry.get("count_words", []))
    rules = {}
    for section, key in ENDPOINT_RULES.items():
        rule = data.get(section)
        if not isinstance(rule, dict) or set(rule) != {"about", "example", key}:
            raise LexiconError(f"{name}: {section}: expected the keys 'about', 'example' and '{key}'")
        rules[section] = rule[key]
    for prefix, applies in rules["abbreviation_prefixes"].items():
        if set(applies) - {"measure", "endpoints"} or set(applies.get("endpoints", [])) - set(measures):
            raise LexiconError(f"{name}: abbreviation prefix {prefix!r}: unknown key or endpoint in {applies}")
        wanted = {c for c, m in measures.items() if m == applies.get("measure")} | set(applies.get("endpoints", []))
        names.update((prefix + surface, canonical) for surface, canonical in list(names.items())
                     if canonical in wanted and _is_short_form(surface))
    if set(rules["response_types"].values()) - set(measures):
        raise LexiconError(f"{name}: response_types name unknown endpoints")
    if set(rules["ratio_events"]) - set(measures):
        raise LexiconError(f"{name}: ratio_events name unknown endpoints")
    roles = rules["responses"]
    if set(roles) != RESPONSE_ROLES or {roles["response"], roles["duration"], roles["none_if_all_partial"],
                                          *roles["lasting"]} - set(measures):
        raise LexiconError(f"{name}: responses: expected the roles {sorted(RESPONSE_ROLES)}, each an endpoint")
    try:
        ratio_events = [(endpoint, re.compile(pattern, re.IGNORECASE))
                        for endpoint, patterns in rules["ratio_events"].items() for pattern in patterns]
    except re.error as error:
        raise LexiconError(f"{name}: ratio_events: bad pattern ({error})") from error
    return EndpointVocabulary(
        names=names, measures=measures, verbs=verbs, count_words=count_words,
        long_form_modifiers=frozenset(rules["long_form_modifiers"]),
        shared_heads=frozenset(rules["shared_heads"]),
        response_types=dict(rules["response_types"]),
        long_form_stems=tuple(rules["long_form_stems"]),
        qualified_survival=frozenset(rules["qualified_survival"]),
        progression_as_event=frozenset(rules["progression_as_event"]),
        ratio_events=ratio_events,
        response=roles["response"],
        response_duration=roles["duration"],
        lasting=frozenset(roles["lasting"]),
        none_if_all_partial=roles["none_if_all_partial"],
    )


def _is_short_form(surface: str) -> bool:
    """"PFS", "DoR": one word of at most five characters that starts with a capital letter."""
    return len(surface) <= 5 and " " not in surface and surface[:1].isupper()


@lru_cache(maxsize=1)
def load_lexicons() -> Lexicons:
    endpoints = dict(load_endpoint_vocabulary().names)
    trials = {}
    for canonical, aliases in _load_json("trials.json", "trials").items():
        for surface in [canonical, *aliases]:
            trials[surface.lower()] = canonical
    aliases = _drug_aliases()
    backbone_data = _load_json("backbones.json", "backbones")
    backbones = {name.lower(): name for name in backbone_data}
    components = {name: frozenset(drugs) for name, drugs in backbone_data.items()}
    genes = {}
    for canonical, surfaces in _load_json("biomarkers.json", "genes").items():
        for surface in surfaces:
            genes[surface] = canonical
    stoplist = _drug_stoplist()
    drugs = _cached_drug_dictionary()
    return Lexicons(endpoints, trials, aliases, backbones, genes, drugs, stoplist, components)


def _drug_aliases() -> dict[str, str]:
    return {k.lower(): v.lower() for k, v in _load_json("drug_aliases.json", "aliases").items()}


def _drug_stoplist() -> frozenset[str]:
    return frozenset(
        line.strip().lower()
        for line in (DATA / "drug_stoplist.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )


def _cached_drug_dictionary() -> dict[str, str]:
    """The drug names, from the cache, made first if missing (see the module docstring)."""
    inputs = [Path(__file__), Path(str(DATA / "drug_stoplist.txt")), Path(str(DATA / "drug_aliases.json"))]
    cache = _cache_dir() / f"drugs-{_cache_key(inputs)}.json"
    try:
        return json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        target = cache
    except OSError:  # no writable cache: build into a temporary file for this process only
        target = Path(tempfile.mkdtemp(prefix="evx-")) / cache.name
    # The child's peak memory goes when it exits; this process only reads the result.
    subprocess.run([sys.executable, "-c", "import sys; from pipeline.extract.lexicon import write_drug_dictionary; "
                    "write_drug_dictionary(sys.argv[1])", str(target)], check=True)
    return json.loads(target.read_text(encoding="utf-8"))


def _cache_key(inputs: list[Path]) -> str:
    """Changes with the package's dictionary file and with evx's code and data that filter it."""
    source = _package_dictionary()
    stat = source.stat()
    key = hashlib.sha256(f"{source}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    for file in inputs:
        key.update(file.read_bytes())
    return key.hexdigest()[:16]


def _cache_dir() -> Path:
    if os.environ.get("EVX_CACHE_DIR"):
        return Path(os.environ["EVX_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "evx"


def _package_dictionary() -> Path:
    # Located without importing the package: its __init__ loads the whole dictionary (~3 s, ~350 MB).
    spec = importlib.util.find_spec("drug_named_entity_recognition")
    if spec is None or not spec.submodule_search_locations:
        raise LexiconError("the drug-named-entity-recognition package is not installed")
    return Path(spec.submodule_search_locations[0]) / "drug_ner_dictionary.pkl.bz2"


def write_drug_dictionary(target: str) -> None:
    """Filter the package's dictionary into ``target`` (JSON), written whole or not at all."""
    drugs = _drug_dictionary(_drug_stoplist(), _drug_aliases())
    partial = Path(f"{target}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(drugs), encoding="utf-8")  # insertion order kept
    os.replace(partial, target)


def _drug_dictionary(stoplist: frozenset[str], aliases: dict[str, str]) -> dict[str, str]:
    """variant -> canonical drug name (lower case), from the package's dictionary."""
    with bz2.open(_package_dictionary(), "rb") as fh:
        # The package's own data file (trusted, installed from PyPI with the package).
        data = pickle.load(fh)  # noqa: S301
    about = data["drug_canonical_to_data"]
    drugs: dict[str, str] = {}
    for variant, canonicals in data["drug_variant_to_canonical"].items():
        if len(variant) < 4 or variant in stoplist or not canonicals:
            continue
        # Combination products ("abacavir, dolutegravir, and lamivudine") are not single drugs.
        canonical = canonicals[0]
        if "," in canonical or " and " in canonical or canonical.lower() in stoplist:
            continue
        # MeSH-only entries are drug classes, proteins and enzymes ("protein kinases",
        # "cyclin d1"); a drug has a DrugBank or MedlinePlus entry.
        info = about.get(canonical, {})
        if "drugbank_id" not in info and "medline_plus_id" not in info:
            continue
        drugs[variant] = _inn(canonical)
    drugs.update(aliases)
    return drugs


def _inn(canonical: str) -> str:
    """Canonical names as the gold format wants them: lower-case INN without salt words."""
    name = canonical.lower()
    for prefix in ("ado-", "fam-"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    return name
