"""What a document defines for itself: regimen abbreviations ("lapatinib with vinorelbine (LV)",
"CP-CEF (carboplatin and paclitaxel followed by CEF)") and class abbreviations
("chemotherapy (CT)"), found by reading its sentences once with the terms known so far."""

from __future__ import annotations

import re

from pipeline.extract.context import SentenceView
from pipeline.extract.lexicon import load_lexicons
from pipeline.extract.regimens.items import DocumentTerms, Item, _items, _named_items
from pipeline.extract.regimens.statements import Statement, _arms, _resolve_lists, _statements
from pipeline.extract.regimens.vocabulary import (
    ABBREVIATED_MODIFIERS, ABBREVIATION_AFTER, ABBREVIATION_BEFORE, AND, CLASS_ABBREVIATION, CLASS_NAMES,
    NOT_ABBREVIATIONS,
)


class _Reading:
    """A sentence of the document, read twice: for the document's terms, then for its regimens
    with all the terms. Its statements are made again only where terms defined in between
    change its items."""

    def __init__(self, view: SentenceView, cues: set[str]):
        self.view = view
        self.named = _named_items(view, cues)
        self.items: list[Item] = []
        self._statements: list[Statement] = []  # no items, no statements
        self._terms_seen: tuple[int, int] | None = None

    def statements(self, terms: DocumentTerms) -> list[Statement]:
        # terms are only ever added: as many as last time are the same terms
        seen = (len(terms.classes), len(terms.regimens))
        if seen != self._terms_seen:
            items = _items(self.view, self.named, terms)
            if items != self.items:
                matters = _may_matter(self.view, items)
                self.items, self._statements = items, _statements(self.view, items) if matters else []
            self._terms_seen = seen
        return self._statements


def _may_matter(view: SentenceView, items: list[Item]) -> bool:
    """Whether the statements of a sentence can give a regimen of the document (one needs a drug
    or a class) or define a term (that needs a bracket): modalities and placebo alone do not."""
    return ("(" in view.text or "[" in view.text
            or any(i.classes or any(m.label in ("DRUG", "BACKBONE") for m in i.mentions) for i in items))


def _document_terms(readings: list[_Reading]) -> DocumentTerms:
    terms = DocumentTerms()
    for reading in readings:
        first = next((item for item in reading.named if item.kind == "CLASS"), None)
        if first is None or "(" not in reading.view.text:
            continue  # no class abbreviated
        # from the first class on: none starts before it
        for m in CLASS_ABBREVIATION.finditer(reading.view.text, first.start - reading.view.start):
            name = CLASS_NAMES[int(next(k for k, v in m.groupdict().items() if v)[1:])]
            terms.classes.setdefault(m.group(m.lastindex), name)
    for reading in readings:
        for statement in reading.statements(terms):
            _define_after(reading.view, statement, terms)
        _define_before(reading.view, reading.items, terms)
    return terms


def _define_after(view: SentenceView, statement: Statement, terms: DocumentTerms) -> None:
    """"lapatinib with vinorelbine (LV)": the abbreviation names the combination before it,
    as far back as its letters reach ("epirubicin-docetaxel (ED)", "capecitabine (C)", "weekly
    paclitaxel [wPTX]"), else the whole combination ("doxorubicin and cyclophosphamide followed
    by paclitaxel (ACP)")."""
    text, base = view.text, view.start
    if "(" not in text and "[" not in text:
        return  # no abbreviation in brackets
    for k, item in enumerate(statement.items):
        m = ABBREVIATION_AFTER.match(text[item.end - base :])
        if not m or not _may_abbreviate(m.group(1)):
            continue
        short = m.group(1)
        if short in terms.classes:
            continue  # "neoadjuvant chemotherapy (NAC)" names the class
        kinds = _resolve_lists(statement)  # (only where an abbreviation follows: rarely)
        j = k
        while j > 0 and kinds[j - 1] == AND:
            j -= 1
        chain = statement.items[j : k + 1]
        suffixes = [chain[s:] for s in range(len(chain) - 1, -1, -1)]
        fitting = next((c for c in suffixes if _spells(short, _long_form(text, base, c[0], item), initials=True)), None)
        fitting = fitting or next((c for c in suffixes if _spells(short, _long_form(text, base, c[0], item))), None)
        if fitting is None and len(short) == 1:
            continue  # "(A)", "(B)": arm labels, not a drug's initial
        definition = fitting or chain
        if any(i.mentions for i in definition):
            terms.regimens.setdefault(short, tuple(definition))


def _long_form(text: str, base: int, first: Item, last: Item) -> str:
    """The words from ``first`` to ``last``, with a schedule word before ("weekly paclitaxel")."""
    before = re.search(rf"\b(?:{'|'.join(ABBREVIATED_MODIFIERS)})\s+$", text[: first.start - base], re.IGNORECASE)
    start = first.start - base - (len(before.group(0)) if before else 0)
    return text[start : last.end - base]


def _spells(short: str, long: str, initials: bool = False) -> bool:
    """Whether ``short`` can abbreviate ``long``: its first letter starts ``long`` and its
    other letters follow in order (after Schwartz and Hearst); with ``initials``, every letter
    starts a word ("LL" is lapatinib plus letrozole, not letrozole alone)."""
    letters = [c.lower() for c in short if c.isalnum()]
    if initials:
        rest = iter(w[0] for w in re.findall(r"[a-z0-9]+", long.lower()))
    else:
        rest = iter(long.lower())
    return long[:1].lower() == letters[0] and all(c in rest for c in letters)


def _define_before(view: SentenceView, items: list[Item], terms: DocumentTerms) -> None:
    """"CP-CEF (carboplatin and weekly paclitaxel followed by CEF)": a name before a bracket
    whose first statement is one regimen."""
    text, base = view.text, view.start
    if sum(1 for i in items if i.mentions) < 2:
        return  # a regimen of one drug is no name's definition
    for m in re.finditer(r"[(\[]", text):
        close = _closing(text, m.start())
        inside = [i for i in items if base + m.end() <= i.start and i.end <= base + close]
        if sum(1 for i in inside if i.mentions) < 2:
            continue
        name = ABBREVIATION_BEFORE.search(text[: m.end()])
        if not name or not _may_abbreviate(name.group(1)) or name.group(1) in terms.regimens:
            continue
        start = base + name.start(1)
        if any(i.start < start + len(name.group(1)) and i.end > start and i.end - i.start >= len(name.group(1))
               for i in items):
            continue  # the name is itself an item ("trastuzumab (...)")
        first = _statements(view, inside)
        if not first or first[0].items[0] is not inside[0]:
            continue
        arms = _arms(first[0])
        if len(arms) == 1 and sum(1 for i in arms[0][0] if i.mentions) >= 2:
            terms.regimens.setdefault(name.group(1), tuple(arms[0][0]))


def _closing(text: str, open_at: int) -> int:
    """Offset of the bracket closing the one at ``open_at``, or the end of ``text``."""
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] in "([":
            depth += 1
        elif text[i] in ")]":
            depth -= 1
            if depth == 0:
                return i
    return len(text)


def _may_abbreviate(short: str) -> bool:
    lex = load_lexicons()
    return (
        len(short) <= 10 and any(c.isupper() for c in short) and short not in NOT_ABBREVIATIONS
        and short not in lex.endpoints and short.lower() not in lex.drugs and short.lower() not in lex.backbones
    )
