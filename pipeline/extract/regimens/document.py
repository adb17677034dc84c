"""A document's regimens: each sentence's statements read with the terms the document defines,
then settled across the document (backbones written out, classes standing for the document's
own regimen, single drugs that repeat part of a combination)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.extract.context import Mention, SentenceView
from pipeline.extract.lexicon import load_lexicons
from pipeline.extract.regimens.items import DocumentTerms, Item, _cues, _items, _named_items
from pipeline.extract.regimens.statements import Statement, _arms, _statements
from pipeline.extract.regimens.terms import _document_terms, _Reading
from pipeline.extract.regimens.vocabulary import ANTHRACYCLINE_BACKBONES, CLASSES


@dataclass
class Regimen:
    items: list[Item]
    arm: bool  # one of several arms, "alone", or against placebo: stands on its own
    sentence: int
    implied: list[Mention] = field(default_factory=list)  # drugs the document adds
    generic: bool = False  # stands for several regimens of the document
    dropped: set[str] = field(default_factory=set)  # backbone components folded into the backbone
    _drugs: tuple[tuple[int, int], frozenset[str]] | None = field(default=None, init=False, repr=False, compare=False)

    def mentions(self) -> list[Mention]:
        found = [m for item in self.items for m in item.mentions if m.canonical not in self.dropped]
        found += self.implied
        found += [Mention(i.start, i.end, i.text, i.kind, i.key) for i in self.items if i.empty]
        return sorted(found, key=lambda m: (m.start, m.end))

    def drugs(self) -> frozenset[str]:
        # Asked for again and again. Only ``dropped`` and ``implied`` change, and they only
        # grow: while their sizes stay, so do the drugs.
        state = (len(self.dropped), len(self.implied))
        if self._drugs is None or self._drugs[0] != state:
            # those of mentions(), unsorted: placeholders name no drug
            given = [m for item in self.items for m in item.mentions if m.canonical not in self.dropped]
            drugs = frozenset(m.canonical for m in given + self.implied if m.label in ("DRUG", "BACKBONE"))
            self._drugs = (state, drugs)
        return self._drugs[1]

    def classes(self) -> frozenset[str]:
        return frozenset(c for item in self.items for c in item.classes)



def regimen_groups(view: SentenceView, terms: DocumentTerms | None = None) -> list[list[Mention]]:
    """The regimens of one sentence, read on its own (see ``document_regimen_groups``)."""
    cues = _cues([view])[0]
    statements = _statements(view, _items(view, _named_items(view, cues), terms or DocumentTerms()))
    regimens = _sentence_regimens(view, statements)
    _fold_backbones(regimens, {m.canonical for m in view.drugs if m.label == "BACKBONE"})
    return [g for g in (r.mentions() for r in regimens) if _has_drug(g)]


def _sentence_regimens(view: SentenceView, statements: list[Statement]) -> list[Regimen]:
    regimens = []
    for statement in statements:
        for items, arm in _arms(statement):
            regimens.append(Regimen(items, arm, view.sentence.index))
    return regimens


def _has_drug(group: list[Mention]) -> bool:
    return any(m.label in ("DRUG", "BACKBONE") for m in group)


# ---------------------------------------------------------------- the document


def document_regimen_groups(views: list[SentenceView]) -> dict[int, list[list[Mention]]]:
    """The regimens of every sentence, read with what the whole document says:

    - abbreviations the document defines for regimens ("LV", "CP-CEF") and classes ("CT");
    - drugs written out for a backbone the document names are that backbone
      ("cyclophosphamide, epirubicin, and 5-fluorouracil" is CEF where CEF is named);
    - a class stands for the document's one regimen of that class
      ("zoledronic acid plus chemotherapy" where the chemotherapy is FEC100 then paclitaxel);
    - a single drug that is not stated as an arm but belongs to one combination of the
      document is that combination ("the palbociclib group"), and is dropped when it belongs
      to several ("the efficacy of palbociclib ...").
    """
    readings = [_Reading(v, cues) for v, cues in zip(views, _cues(views))]
    terms = _document_terms(readings)
    regimens = [r for reading in readings for r in _sentence_regimens(reading.view, reading.statements(terms))
                if r.drugs() or r.classes()]  # the others (modalities, placebo alone) add nothing
    backbones = {m.canonical for v in views for m in v.drugs if m.label == "BACKBONE"}
    _fold_backbones(regimens, backbones)
    _fill_classes(regimens)
    regimens = _settle_singles(_without_unions_of_arms(regimens))
    groups: dict[int, list[list[Mention]]] = {v.sentence.index: [] for v in views}
    for regimen in regimens:
        if regimen.drugs():
            groups[regimen.sentence].append(regimen.mentions())
    return groups



def _fold_backbones(regimens: list[Regimen], named: set[str]) -> None:
    """A backbone's components inside a regimen are that backbone when it is in the regimen
    ("FEC100 (fluorouracil, epirubicin, cyclophosphamide)") or named in the document."""
    components = load_lexicons().backbone_components
    ordered = sorted(components, key=lambda b: -len(components[b]))
    named_ordered = [b for b in ordered if b in named]
    for regimen in regimens:
        drugs = regimen.drugs()
        for backbone in [b for b in ordered if b in drugs]:  # first the backbones the regimen names ...
            if backbone in drugs and components[backbone] <= drugs:  # "CMF (cyclophosphamide, ...)"
                regimen.dropped |= components[backbone]
                drugs = regimen.drugs()
        for backbone in named_ordered:  # ... then those the document names
            parts = components[backbone]
            if backbone not in drugs and parts <= drugs:
                first = min((m for m in regimen.mentions() if m.canonical in parts), key=lambda m: m.start)
                regimen.dropped |= parts
                regimen.implied.append(Mention(first.start, first.end, first.text, "BACKBONE", backbone))
                drugs = regimen.drugs()


def _class_members(name: str) -> frozenset[str]:
    members = CLASSES[name][1]
    backbones = set(load_lexicons().backbone_components)
    if name == "chemotherapy":
        return members | backbones
    if name == "anthracycline":
        return members | ANTHRACYCLINE_BACKBONES
    return members


def _open_classes(regimen: Regimen) -> set[str]:
    """Classes no drug of the regimen belongs to: "the CDK4/6 inhibitor palbociclib" names
    palbociclib's class, "palbociclib plus endocrine therapy" leaves a part open."""
    drugs = regimen.drugs()
    return {name for name in regimen.classes() if not drugs & _class_members(name)}


def _fill_classes(regimens: list[Regimen]) -> None:
    """"Zoledronic acid plus chemotherapy": the open class is the document's one regimen made
    of that class's drugs (the largest, when the others are part of it). A class alone is
    filled only where it is an arm ("versus chemotherapy alone")."""
    concrete = {r.drugs() for r in regimens if not r.classes() and r.drugs()}
    for regimen in regimens:
        if not regimen.classes() or (not regimen.drugs() and not regimen.arm):
            continue  # no class to fill
        for name in sorted(_open_classes(regimen)):
            own = regimen.drugs()
            members = _class_members(name)
            # the class's own regimen ("chemotherapy" = FEC100 then paclitaxel), or what a
            # combination adds to the drugs named ("palbociclib plus endocrine therapy" where
            # palbociclib is only given with fulvestrant)
            fits = {frozenset(s - own) for s in concrete if s - own and (s <= members or (own < s and s - own <= members))}
            largest = [f for f in fits if not any(f < g for g in fits)]
            if len(largest) > 1 and own:
                regimen.generic = True  # "palbociclib plus endocrine therapy" in a trial of two
            if len(largest) != 1:
                continue
            anchor = next(i for i in regimen.items if name in i.classes)
            for drug in sorted(largest[0]):
                regimen.implied.append(Mention(anchor.start, anchor.end, anchor.text, _label(drug), drug))


def _label(drug: str) -> str:
    return "BACKBONE" if drug in load_lexicons().backbone_components else "DRUG"


def _without_unions_of_arms(regimens: list[Regimen]) -> list[Regimen]:
    """"A randomised study of denosumab and zoledronic acid", where denosumab and zoledronic
    acid are each an arm: not stated as an arm, the two arms together are no regimen."""
    arms = {r.drugs() for r in regimens if r.arm and r.drugs()}
    kept = []
    for regimen in regimens:
        drugs = regimen.drugs()
        parts = [a for a in arms if a < drugs]
        if not regimen.arm and any(a | b == drugs and not a & b for a in parts for b in parts):
            continue
        kept.append(regimen)
    return kept


def _components_of(drugs: frozenset[str]) -> frozenset[str]:
    """The drugs inside the backbones of a regimen ("methotrexate" in CMF)."""
    components = load_lexicons().backbone_components
    return frozenset(d for b in drugs if b in components for d in components[b])


def _settle_singles(regimens: list[Regimen]) -> list[Regimen]:
    """A single drug not stated as an arm is the one combination of the document holding it,
    or, when several do, no regimen of its own."""
    combinations = {r.drugs() for r in regimens if len(r.drugs()) >= 2 or _components_of(r.drugs())}
    # A drug given alone in one arm: its other single mentions are that arm ("AC or AD", "with AC").
    arms = {r.drugs() for r in regimens if r.arm and len(r.drugs()) == 1}
    kept = []
    for regimen in regimens:
        drugs = regimen.drugs()
        if regimen.generic:
            continue
        if len(drugs) != 1 or regimen.arm or _open_classes(regimen) or drugs in arms:
            kept.append(regimen)
            continue
        holders = [c for c in combinations if drugs < c or drugs <= _components_of(c)]
        if not holders:
            kept.append(regimen)
        elif len(holders) == 1:
            anchor = regimen.items[0]
            if drugs <= _components_of(holders[0]):
                regimen.dropped |= drugs  # "methotrexate" in a CMF trial is CMF
            for drug in sorted(holders[0] - drugs):
                regimen.implied.append(Mention(anchor.start, anchor.end, anchor.text, _label(drug), drug))
            kept.append(regimen)
    return kept
