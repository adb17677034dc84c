"""Lexicons: rules as data, loaded from pipeline/data with importlib.resources and checked on load.

The drug lexicon is the offline DrugBank/MeSH/MedlinePlus dictionary shipped by the
`drug-named-entity-recognition` package (MIT), read directly from its data file so no
download or network call happens, completed by evx's own brand/code-name aliases and minus
a stoplist of ordinary words.
"""

from __future__ import annotations

import bz2
import json
import pickle
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources

DATA = resources.files("pipeline") / "data"


class LexiconError(ValueError):
    """A data file is malformed (unknown key, wrong type)."""


def _load_json(name: str, key: str) -> dict:
    data = json.loads((DATA / name).read_text(encoding="utf-8"))
    unknown = set(data) - {key, "_source"}
    if unknown or key not in data or not isinstance(data[key], dict):
        raise LexiconError(f"{name}: expected keys '_source' and '{key}' (object), found {sorted(data)}")
    return data[key]


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

    # First words of the names: the NER looks a token up only if it starts some name.
    @cached_property
    def drug_first_words(self) -> frozenset[str]:
        """First words of every drug and backbone name ("fec" too for "fec100", written "FEC 100")."""
        return frozenset(
            [key.split()[0] for key in (*self.drugs, *self.backbones)]
            + [re.match(r"[a-z]*", key).group(0) for key in self.backbones]
        )

    @cached_property
    def trial_first_words(self) -> frozenset[str]:
        return frozenset(name.split()[0] for name in self.trials)



@lru_cache(maxsize=1)
def load_lexicons() -> Lexicons:
    endpoints = {}
    for canonical, synonyms in _load_json("endpoints.json", "endpoints").items():
        for surface in synonyms:
            endpoints[surface] = canonical
    trials = {}
    for canonical, aliases in _load_json("trials.json", "trials").items():
        for surface in [canonical, *aliases]:
            trials[surface.lower()] = canonical
    aliases = {k.lower(): v.lower() for k, v in _load_json("drug_aliases.json", "aliases").items()}
    backbone_data = _load_json("backbones.json", "backbones")
    backbones = {name.lower(): name for name in backbone_data}
    components = {name: frozenset(drugs) for name, drugs in backbone_data.items()}
    genes = {}
    for canonical, surfaces in _load_json("biomarkers.json", "genes").items():
        for surface in surfaces:
            genes[surface] = canonical
    stoplist = frozenset(
        line.strip().lower()
        for line in (DATA / "drug_stoplist.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )
    drugs = _drug_dictionary(stoplist, aliases)
    return Lexicons(endpoints, trials, aliases, backbones, genes, drugs, stoplist, components)


def _drug_dictionary(stoplist: frozenset[str], aliases: dict[str, str]) -> dict[str, str]:
    """variant -> canonical drug name (lower case), from the package's dictionary."""
    source = resources.files("drug_named_entity_recognition") / "drug_ner_dictionary.pkl.bz2"
    with source.open("rb") as raw, bz2.open(raw) as fh:
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
