"""The items of a sentence: drugs, backbones, modalities, placebos and drug classes it names, and
uses of the regimen and class abbreviations its document defines, one item per stretch of text."""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field

from pipeline.extract.context import Mention, SentenceView, holds_any
from pipeline.extract.context import lowered as _lowered
from pipeline.extract.regimens.vocabulary import (
    ABBREVIATION_WORD, CLASS_NAMES, CLASS_PATTERN, CUES, DRUG_PLACEBO, ITEM_RANK, MODALITY, MODALITY_NAMES,
    OPENING_ONLY, PLACEBO,
)


@dataclass(frozen=True)
class Item:
    """Something a regimen is made of, or a placeholder for a part of it."""

    start: int
    end: int
    text: str
    kind: str  # DRUG, BACKBONE, MODALITY, REGIMEN (an abbreviation), PLACEBO, CLASS
    mentions: tuple[Mention, ...]  # the drug, backbone and modality mentions it stands for
    key: str  # what makes two items the same: canonical name, class name, abbreviation
    classes: frozenset[str] = frozenset()  # class placeholders (also inside an abbreviation)
    alone: bool = False

    @property
    def empty(self) -> bool:
        return self.kind in ("PLACEBO", "CLASS")



FEW_TERMS = 8  # up to this many terms, a substring test each is cheaper than one pattern for all


@dataclass
class DocumentTerms:
    """What the document itself defines: regimen abbreviations, class abbreviations ("CT")."""

    regimens: dict[str, tuple[Item, ...]] = field(default_factory=dict)
    classes: dict[str, str] = field(default_factory=dict)  # "CT" -> "chemotherapy"
    _patterns: dict[str, tuple[int, re.Pattern]] = field(default_factory=dict, repr=False, compare=False)

    def any_in(self, kind: str, text: str) -> bool:
        """Whether ``text`` holds one of the ``kind`` ("regimens" or "classes") abbreviations,
        as a substring. A long review defines a hundred: past a few, one pattern for all of them
        (made again when terms were added; none is ever removed) rather than a test each in every
        sentence (0.4 s of a 1 MB text)."""
        defined = getattr(self, kind)
        if len(defined) <= FEW_TERMS:
            return holds_any(text, defined)
        count, pattern = self._patterns.get(kind, (0, None))
        if count != len(defined):
            pattern = re.compile("|".join(map(re.escape, defined)))
            self._patterns[kind] = (len(defined), pattern)
        return pattern.search(text) is not None


def _items(view: SentenceView, named: list[Item], terms: DocumentTerms) -> list[Item]:
    """The items of a sentence, one per stretch of text (``named``: its ``_named_items``)."""
    text, base = view.text, view.start
    items = list(named)
    for short, name in terms.classes.items() if terms.any_in("classes", text) else ():
        if short not in text:
            continue
        for m in re.finditer(rf"(?<![\w-]){re.escape(short)}(?![\w])", text):
            items.append(Item(base + m.start(), base + m.end(), short, "CLASS", (), name, frozenset({name})))
    for start, end, parts in _abbreviation_uses(text, terms):
        items.append(_abbreviation_item(base + start, base + end, text[start:end], parts))
    if not items:
        return items  # most sentences
    return _without_synonyms(_without_overlaps(items), text, base)


def _named_items(view: SentenceView, cues: set[str]) -> list[Item]:
    """The items the document's terms play no part in, overlaps kept: drugs, modalities,
    placebos, classes (``cues``: the sentence's, see ``_cues``)."""
    text, base = view.text, view.start
    items = [Item(m.start, m.end, m.text, m.label, (m,), m.canonical) for m in view.drugs]
    for m in MODALITY.finditer(text) if "modality" in cues else ():
        name = m.group(0).lower()
        canonical = next((v for k, v in MODALITY_NAMES.items() if k in name), None)
        canonical = canonical or ("radiotherapy" if "radio" in name else "surgery" if "surg" in name else name.split()[-1])
        mention = Mention(base + m.start(), base + m.end(), m.group(0), "MODALITY", canonical)
        items.append(Item(mention.start, mention.end, mention.text, "MODALITY", (mention,), canonical))
    for m in PLACEBO.finditer(text) if "placebo" in cues else ():
        items.append(Item(base + m.start(), base + m.end(), m.group(0), "PLACEBO", (), "placebo"))
    # "tamoxifen placebo", "anastrozole-matched placebo": the placebo of a drug (double dummy)
    for item in [i for i in items if i.kind == "DRUG"] if "placebo" in cues else ():
        dummy = DRUG_PLACEBO.match(text[item.end - base :])
        if dummy:
            end = item.end + dummy.end()
            items.append(Item(item.start, end, text[item.start - base : end - base], "PLACEBO", (), "placebo"))
    for m in CLASS_PATTERN.finditer(text) if "class" in cues else ():
        name = CLASS_NAMES[int(m.lastgroup[1:])]
        items.append(Item(base + m.start(), base + m.end(), m.group(0), "CLASS", (), name, frozenset({name})))
    return items


def _cues(views: list[SentenceView]) -> list[set[str]]:
    """For each of ``views`` (a document's sentences), the kinds of ``CUES`` it has a word of."""
    lowered = [view.lowered for view in views]
    starts = list(itertools.accumulate((len(text) + 1 for text in lowered), initial=0))
    document = "\n".join(lowered)
    found: list[set[str]] = [set() for _ in views]
    for kind, words in CUES.items():
        for word in words:
            at = document.find(word)
            while at >= 0:
                i = bisect.bisect_right(starts, at) - 1
                found[i].add(kind)
                at = document.find(word, starts[i + 1])  # on from the next sentence: this one has it
    return found


def _holds_any(text: str, words: tuple[str, ...]) -> bool:
    """Whether ``text`` holds one of ``words`` (see ``_lowered``)."""
    lowered = _lowered(text)
    return holds_any(lowered, words)


def _without_synonyms(items: list[Item], text: str, base: int) -> list[Item]:
    """A drug named again in brackets right after it is the same drug: "trastuzumab emtansine
    (T-DM1)" is one item; "nanoparticle albumin-bound paclitaxel (nab-paclitaxel)" is one
    item with the bracketed, more precise name."""
    kept: list[Item] = []
    for item in items:
        previous = kept[-1] if kept else None
        if (
            previous is not None and previous.kind == item.kind == "DRUG"
            and OPENING_ONLY.fullmatch(text[previous.end - base : item.start - base])
            and re.match(r"\s*[)\]]", text[item.end - base :])
        ):
            if previous.key != item.key:
                kept[-1] = Item(previous.start, item.end, text[previous.start - base : item.end - base], "DRUG",
                                item.mentions, item.key, item.classes, item.alone)
            continue
        kept.append(item)
    return kept


def _abbreviation_uses(text: str, terms: DocumentTerms):
    """Where the document's regimen abbreviations occur in ``text``: exactly ("LV", "ED"), or
    written together ("EDC" after "ED" and "C" were defined)."""
    if not terms.any_in("regimens", text):
        return
    shorts = [short for short in terms.regimens if short in text]
    for m in ABBREVIATION_WORD.finditer(text):
        word = m.group(1)
        if not holds_any(word, shorts):
            continue  # holds no abbreviation of the document
        for part_start, part in _abbreviation_parts(word, terms):
            yield m.start() + part_start, m.start() + part_start + len(part), [terms.regimens[part]]
        parts = _composed(word, terms.regimens)
        if parts and len(parts) > 1:
            yield m.start(), m.end(), [terms.regimens[p] for p in parts]


def _abbreviation_parts(word: str, terms: DocumentTerms):
    """``word`` itself, or its hyphen/± parts ("ED" and "C" in "ED±C"), when defined."""
    if word in terms.regimens:
        yield 0, word
        return
    offset = 0
    for part in re.split(r"([-+/±])", word):
        if part in terms.regimens:
            yield offset, part
        offset += len(part)


def _composed(word: str, defined: dict[str, tuple[Item, ...]]) -> list[str] | None:
    """``word`` as a concatenation of defined abbreviations: "EDC" = "ED" + "C"."""
    if word in defined:
        return [word]
    if not word.isalpha():
        return None
    for cut in range(len(word) - 1, 0, -1):
        head = word[:cut]
        if head in defined:
            rest = _composed(word[cut:], defined)
            if rest is not None:
                return [head, *rest]
    return None


def _abbreviation_item(start: int, end: int, text: str, definitions: list[tuple[Item, ...]]) -> Item:
    mentions, classes, keys = [], set(), []
    for definition in definitions:
        for item in definition:
            mentions += [Mention(start, end, text, m.label, m.canonical) for m in item.mentions]
            classes |= item.classes
            keys.append(item.key)
    return Item(start, end, text, "REGIMEN", tuple(mentions), "+".join(sorted(keys)), frozenset(classes))


def _without_overlaps(items: list[Item]) -> list[Item]:
    """One item per stretch of text: the longest (an abbreviation over the backbone inside it,
    "CP-CEF" over "CEF"); on a tie, a regimen abbreviation of several drugs over a drug
    abbreviation ("LL" for lapatinib plus letrozole, not letrozole), a drug over a class."""
    if len(items) < 2:
        return items

    def order(item: Item):
        several = item.kind == "REGIMEN" and len({m.canonical for m in item.mentions}) > 1
        return (-(item.end - item.start), 0 if several else ITEM_RANK[item.kind], item.start)

    # The kept items do not overlap, so in order of (start, end) their ends are in order too: an
    # item overlaps one iff the last kept one starting before its end ends after its start (a
    # look-up, not a pass over all kept items per item: 83,000 drug names took minutes).
    kept: list[Item] = []
    spans: list[tuple[int, int]] = []
    for item in sorted(items, key=order):
        before = bisect.bisect_left(spans, (item.end, -1))
        if not before or spans[before - 1][1] <= item.start:
            kept.append(item)
            bisect.insort(spans, (item.start, item.end))
    return sorted(kept, key=lambda i: i.start)
