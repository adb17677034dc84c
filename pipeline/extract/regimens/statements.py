"""Statements and arms: a sentence's items in runs joined by connectors ("plus", "or", "versus",
"with or without"), statements about earlier treatment left out, and each statement split into
the regimens it gives ("A plus B or C" -> A+B, A+C; "A versus B")."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field

from pipeline.extract.context import SentenceView, holds_any
from pipeline.extract.regimens.items import Item, _holds_any
from pipeline.extract.regimens.vocabulary import (
    ALONE, AND, APPOSITION, ARM_LEAD, ARM_WORDS, BRACKET, BRACKETED, BREAK, CLAUSE_END, COMMA, COMPARE_LEAD,
    COMPARED_WITH, CONNECTOR_KIND, CONNECTORS, DOSE_WORDS, DOTTED_DOSING, EACH_LEAD, FILLER, GROUP_SIZE,
    HANGING_HYPHEN, LONG_WORD, MAX_ARMS, NOT_GIVEN_LEAD, NUMBERISH, OPENING_ONLY, OR, OUTER_SEPARATORS,
    PLURAL_ARMS, PRIOR_LEAD, PRIOR_SUFFIX, PRIOR_TAIL, PRIOR_TAIL_WORDS, PRIOR_WORDS, RESPECTIVELY, RESPECTIVELY_WORDS,
    RESULT, UNIT, UP_TO, VS, WORD, WOW,
)


@dataclass
class Statement:
    items: list[Item]
    connectors: list[str]  # kinds between consecutive items
    phrases: list[str]  # the connector words, for "compared A with B"
    lead: str  # text before the first item (since the previous statement)
    tail: str  # text after the last item
    closing: list[bool] = field(default_factory=list)  # the connector closes a bracket



@functools.lru_cache(maxsize=4096)  # the same few words join most items
def _connector(between: str) -> tuple[str, str, bool]:
    """(kind, phrase, alone): what the text between two items says; ``alone`` when it starts
    with "alone"/"monotherapy" about the item before. The phrase keeps "either" ("followed
    either by A or B": a choice for one slot)."""
    if APPOSITION.match(between) or HANGING_HYPHEN.match(between):
        return BREAK, "", False
    reported = bool(RESULT.search(between))
    text = between
    while BRACKETED.search(text):
        text = BRACKETED.sub(" ", text)
    alone = bool(ALONE.match(text))
    if alone:
        text = text[ALONE.match(text).end():]
    # An unclosed bracket opens an apposition ("FEC100 (fluorouracil, ..."), a lone closing one
    # ends it: neither separates the items.
    # (dotted dosing needs a ".", a unit a "/": the slow patterns only run where those are)
    text = BRACKET.sub(" ", DOTTED_DOSING.sub(" ", text) if "." in text else text)
    text = UP_TO.sub(" ", NUMBERISH.sub(" ", UNIT.sub(" ", text) if "/" in text else text))
    words = [w for w in WORD.findall(text.lower().replace("+/−", "±").replace("+/-", "±")) if w not in FILLER]
    either = "either" in words
    phrase = " ".join(w for w in words if w != "either")
    if reported and phrase not in CONNECTORS[VS]:
        return BREAK, phrase, alone
    if phrase and set(phrase.split()) <= {",", ";"}:
        return COMMA, phrase, alone
    phrase = OUTER_SEPARATORS.sub("", phrase)
    if not phrase and "(" not in between and "[" not in between:
        words = LONG_WORD.findall(UNIT.sub(" ", between).lower())
        if any(w not in DOSE_WORDS for w in words):
            return BREAK, phrase, alone  # "naproxen or placebo on the day of pegfilgrastim"
    kind = CONNECTOR_KIND.get(phrase, BREAK)
    if alone and phrase == "or with":
        kind = WOW  # "letrozole alone or with palbociclib"
    if kind == AND and phrase == "and" and GROUP_SIZE.search(between):
        return VS, phrase, alone
    return kind, ("either " + phrase if either else phrase), alone


def _given(text: str, base: int, items: list[Item], named_target: bool) -> tuple[str, list[Item]]:
    """The items that name a treatment, and the text with the others blanked: drugs fused to
    an earlier-treatment or side-effect word ("trastuzumab-pretreated", "doxorubicin-induced")
    are read as blank between the others, drug names of no treatment ("target of rapamycin")
    are left out (``named_target``: the text has the words)."""
    kept = []
    for item in items:
        if named_target and NOT_GIVEN_LEAD.search(text[: item.start - base]):
            continue
        after = text[item.end - base :]
        closed = after.lstrip(")]")
        suffix = PRIOR_SUFFIX.match(closed)
        if suffix:
            end = item.end - base + (len(after) - len(closed)) + suffix.end()
            text = text[: item.start - base] + " " * (end - (item.start - base)) + text[end:]
        else:
            kept.append(item)
    return text, kept


def _statements(view: SentenceView, items: list[Item]) -> list[Statement]:
    """The items of a sentence in runs joined by connectors, without statements about earlier
    treatment ("progressed on prior trastuzumab and lapatinib")."""
    base, lowered = view.start, view.lowered
    text, items = _given(view.text, base, items, "target of" in lowered)
    statements: list[Statement] = []
    previous_end = base
    for i, item in enumerate(items):
        if i > 0:
            between = text[items[i - 1].end - base : item.start - base]
            kind, phrase, alone = _connector(between)
            if items[i - 1].kind == item.kind == "DRUG" and OPENING_ONLY.fullmatch(between):
                kind = BREAK  # "ZA (denosumab, n = 1026; ZA, n = 1020)": a bracket of its own
            if alone:
                last = statements[-1]
                last.items[-1] = _alone(last.items[-1])
            if kind != BREAK:
                statements[-1].items.append(item)
                statements[-1].connectors.append(kind)
                statements[-1].phrases.append(phrase)
                statements[-1].closing.append(_closes_bracket(between))
                continue
            previous_end = items[i - 1].end
        statements.append(Statement([item], [], [], text[previous_end - base : item.start - base], ""))
    for statement in statements:
        after = text[statement.items[-1].end - base :]
        statement.tail = after
        if ALONE.match(after):
            statement.items[-1] = _alone(statement.items[-1])
    # leads and tails are parts of the sentence: they lack the words it lacks (and a lead is
    # searched only if it has one itself: the pattern is slow on long leads)
    prior_lead = holds_any(lowered, PRIOR_WORDS)
    prior_tail = holds_any(lowered, PRIOR_TAIL_WORDS)
    return [s for s in statements
            if not (prior_lead and _holds_any(s.lead, PRIOR_WORDS) and PRIOR_LEAD.search(s.lead))
            and not (prior_tail and PRIOR_TAIL.match(s.tail))]


def _closes_bracket(between: str) -> bool:
    return sum(between.count(c) for c in ")]") > sum(between.count(c) for c in "([")


def _alone(item: Item) -> Item:
    return Item(item.start, item.end, item.text, item.kind, item.mentions, item.key, item.classes, True)


def _resolve_lists(statement: Statement) -> list[str]:
    """Connector kinds with commas settled and comparisons made explicit."""
    kinds = list(statement.connectors)
    if not kinds:
        return kinds  # a single item: nothing to settle
    items = statement.items
    for i, kind in enumerate(kinds):
        if kind != COMMA:
            continue
        if "PLACEBO" in (items[i].kind, items[i + 1].kind):
            kinds[i] = OR  # "(484, ribociclib; 242, placebo)": a tally of arms
            continue
        if i == 0 and COMPARED_WITH.search(statement.lead):
            kinds[i] = VS  # "Compared with zoledronic acid, ibandronate patients ..."
            continue
        # A comma list takes the word that ends it: "A, B, or C" (alternatives), "A, B, and C"
        # or "A, B combined with C" (one combination); a list inside brackets ends with them
        # ("CMF (C 600 mg/m2, M 40 mg/m2, F 600 mg/m2) or D"). Without an ending the comma
        # ends a clause: "comparing AIs to tamoxifen, letrozole was ...".
        ending = None
        for j in range(i + 1, len(kinds)):
            if statement.closing[j]:
                ending = AND
                break
            if kinds[j] in (OR, VS) or (kinds[j] == AND and statement.phrases[j] == "and"):
                ending = kinds[j]
                break
        if ending is None:
            continued = AND in kinds[i + 1 :] or _closes_bracket(statement.tail)
            ending = AND if continued else BREAK
        kinds[i] = ending
    for i, phrase in enumerate(statement.phrases):
        if phrase == "/" and "PLACEBO" in (items[i].kind, items[i + 1].kind):
            kinds[i] = OR  # "gefitinib/placebo"
    ands = [i for i, p in enumerate(statement.phrases) if p == "and"]
    for i in ands:
        if items[i].key == items[i + 1].key:
            kinds[i] = VS  # "Navcap and Navcap followed by docetaxel"
    if VS in kinds:
        return kinds
    if COMPARE_LEAD.search(statement.lead[-80:]):
        # "compared eribulin with capecitabine", "to compare nab-paclitaxel and docetaxel in ..."
        pivots = [i for i, p in enumerate(statement.phrases) if p in ("with", "to")]
        if pivots:
            kinds[pivots[0]] = VS
        elif len(kinds) == 1 and ands and CLAUSE_END.match(statement.tail):
            kinds[0] = VS
    elif ands and EACH_LEAD.search(statement.lead):
        kinds[ands[0]] = VS
    elif ands and (PLURAL_ARMS.match(statement.tail)
                   or _holds_any(statement.tail, RESPECTIVELY_WORDS) and RESPECTIVELY.match(statement.tail)):
        # "in the LV and V arms", "eribulin and capecitabine were 15.9 and 14.5 months, respectively"
        kinds[ands[-1]] = VS
    return kinds


def _arms(statement: Statement) -> list[tuple[list[Item], bool]]:
    """The regimens a statement gives, each with whether it is stated as an arm."""
    items, kinds = statement.items, _resolve_lists(statement)
    if BREAK in kinds:  # a comma that ended a clause: read each part on its own
        return [arm for part in _parts(statement, kinds) for arm in _arms(part)]
    arms: list[tuple[list[Item], bool]] = []
    # VS, then OR between whole arms, split the statement into alternatives.
    pieces = _split(items, kinds, lambda i: kinds[i] == VS or (kinds[i] == OR and _whole_arms(items, kinds, statement.phrases, i)))
    for piece_items, piece_kinds in pieces:
        for regimen in _expand(piece_items, piece_kinds):
            arms.append(regimen)
    # Arms against placebo alone ("AZD8931 versus placebo") are one regimen on a background.
    # (a class stands for a regimen of the document: "CT or CT + ZOL" gives two arms)
    several = len(arms) > 1 and sum(1 for regimen in arms if any(i.mentions or i.classes for i in regimen)) > 1
    stated = several or (_holds_any(statement.lead, ARM_WORDS) and bool(ARM_LEAD.search(statement.lead)))
    return [(regimen, stated or any(i.alone or i.kind == "PLACEBO" for i in regimen)) for regimen in arms]


def _parts(statement: Statement, kinds: list[str]) -> list[Statement]:
    parts, start = [], 0
    for i, kind in enumerate(kinds + [BREAK]):
        if kind == BREAK:
            part = Statement(statement.items[start : i + 1], kinds[start:i], statement.phrases[start:i],
                             statement.lead if start == 0 else "", statement.tail if i == len(kinds) else "",
                             statement.closing[start:i])
            parts.append(part)
            start = i + 1
    return parts


def _split(items, kinds, cut):
    pieces, start = [], 0
    for i in range(len(kinds)):
        if cut(i):
            pieces.append((items[start : i + 1], kinds[start:i]))
            start = i + 1
    pieces.append((items[start:], kinds[start:]))
    return pieces


def _whole_arms(items: list[Item], kinds: list[str], phrases: list[str], i: int) -> bool:
    """Whether the OR between items i and i+1 separates whole arms rather than choices for one
    part of a regimen ("A or placebo plus B", "A, B, or placebo", "A with or without B or C")."""
    left, right = items[i], items[i + 1]
    if left.alone or any(item.alone for item in _chain(items, kinds, i + 1)):
        return True  # "A plus B or B alone"
    if left.key == right.key and len(_chain(items, kinds, i + 1)) > 1:
        return True  # "chemotherapy or chemotherapy plus zoledronic acid"
    run = _or_run(kinds, i)
    if run[0] > 0 and (kinds[run[0] - 1] == WOW or phrases[run[0] - 1].startswith("either")):
        return False  # "with or without A or B", "followed either by A or B"
    if len(_chain_before(kinds, i)) > 1 and len(_chain(items, kinds, i + 1)) > 1:
        return True  # "A plus B or placebo plus B"
    if i == 0 and left.kind == "CLASS":
        return True  # "(if not pretreated with) anthracyclines, or docetaxel and capecitabine"
    return not any(items[j].empty for j in range(run[0], run[1] + 1))


def _chain(items: list[Item], kinds: list[str], i: int) -> list[Item]:
    """Item i and the items joined after it by AND/WOW."""
    j = i
    while j < len(kinds) and kinds[j] in (AND, WOW):
        j += 1
    return items[i : j + 1]


def _chain_before(kinds: list[str], i: int) -> list[int]:
    """Indexes of item i and the items joined before it by AND/WOW."""
    j = i
    while j > 0 and kinds[j - 1] in (AND, WOW):
        j -= 1
    return list(range(j, i + 1))


def _or_run(kinds: list[str], i: int) -> tuple[int, int]:
    """First and last item index of the run of ORs around connector i."""
    start = i
    while start > 0 and kinds[start - 1] == OR:
        start -= 1
    end = i
    while end + 1 < len(kinds) and kinds[end + 1] == OR:
        end += 1
    return start, end + 1


def _expand(items: list[Item], kinds: list[str]) -> list[list[Item]]:
    """One alternative: slots joined by AND, each slot a choice (OR) or optional (WOW)."""
    if not kinds:
        return [list(items)]  # a single item
    slots: list[list[Item | None]] = [[items[0]]]
    for item, kind in zip(items[1:], kinds):
        if kind == OR:
            slots[-1].append(item)
        elif kind == WOW:
            slots.append([None, item])
        else:
            slots.append([item])
    regimens = []
    for choice in itertools.islice(itertools.product(*slots), MAX_ARMS):
        regimens.append([item for item in choice if item is not None])
    return regimens
