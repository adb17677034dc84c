"""Figures resolved against the study model: each outcome gets its trial, arm (cohort, dose,
regimen arm, subgroup), regimen and N, and for each the rule that settled it
(``OutcomeRecord.attribution``). Where the text does not settle a field it stays empty and the
figure is flagged ``needs_review``; a guess is never written as a fact.

Order of evidence, nearest first:

- **trial**: a trial named in the figure's sentence (before the figure, else after it); the
  trial of its paragraph; the paper's own (primary) study outside background sections.
- **arm**: a label next to the figure ("45.3% in cohort A", "with the lower dose", "27.5% with
  chemotherapy"), else earlier in its sentence ("In cohort A the ORR was ..."); figures given in
  turn ("30% and 28% of the tissue- and ctDNA-positive groups", "x vs y" after a design that
  named its arms in that order, "respectively" after a sentence naming the groups); the one
  group of the previous sentences of the paragraph; for a hazard or odds ratio, the first-named
  (experimental) arm. A subgroup ("with RAS-mutant tumours", "who had received earlier
  anti-HER2 therapy") is added to the arm.
- **drugs**: the arm's regimen, else a regimen next to the figure, else the study's.
- **N**: the figure's own denominator ("8 (30%) of 27", "31/82"), else a size next to it
  ("among the 23 who could be evaluated", "(n=28)"), else its arm's size, else, when the figure
  has no arm, subgroup or comparison, its study's size (evaluable, treated, enrolled).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from pipeline.extract.context import Mention, SentenceView, holds_any
from pipeline.extract.treatments import CYTOTOXICS, regimen_drugs
from pipeline.records import Record
from pipeline.study.build import (DOSE, LOWER_DOSE, SIZE_AFTER_LABEL, DocumentReading, dose_arm_for_phrase, dose_label,
                                  group_labels, label_ids, sentence_sizes)
from pipeline.study.cues import COUNT, alternation, cues, number_of
from pipeline.study.model import Arm, Size, Study

_C = cues()
SIZE_PREFERENCE = {kind: i for i, kind in enumerate(_C["size_preference"])}
# What may stand between a figure and a label that belongs to it: "45.3% in cohort A", "14.3% with
# chemotherapy", "28.6% of patients with RAS-mutant tumours".
POST_GAP = re.compile(
    r"^[\s,;:)\]]*(?:[(\[][^()\[\]]{0,60}[)\]]\s*,?\s*)?(?:(?:in|among|for|with|at|on|of|by|from)\s+(?:the\s+|those\s+|all\s+|an?\s+)?"
    r"(?:(?:patients|pts|women|participants)\s+(?:in|with|given|receiving|treated\s+with|on|of)\s+(?:the\s+)?)?"
    r"|among\s+(?:the\s+)?\d+\s+(?:patients|pts)\s+)?[(\[]?\s*$",  # "53.7 months (ribociclib)"
    re.IGNORECASE)
POST_GAP_REACH = 100  # room for the figure's own bracket: 37.8% (31/82; 95% CI ...) with the lower dose
AMONG_SIZE = re.compile(rf"^[^.;]{{0,25}}?\b(?:among|of)\s+(?:the\s+|those\s+|all\s+)?(?P<n>{COUNT})\b(?!\s*(?:%|months?|weeks?|years?|mg))")
PRIOR_CUE = re.compile(alternation(w.lower() for w in _C["prior_therapy_lead"]))  # in the lower-cased text
SUBGROUP_PRIOR = re.compile(
    rf"(?i:{alternation(_C['prior_therapy_lead'])})\s+(?:(?:earlier|prior|previous|already)\s+)?"
    r"(?P<what>[\w-]+(?:\s+[\w-]+)?\s+(?:therapy|therapies|treatment|drugs|agents))")
GROUP_NOUNS = ("groups", "cohorts", "arms", "subgroups", "subsets", "populations")
COORDINATED_GROUPS = re.compile(
    r"\b(?:of|in|among|for)\s+(?:the\s+)?(?P<a>[\w+/-]+(?:\s[\w+/-]+)?)\s+(?:and|or|vs\.?|versus)\s+(?P<b>[\w+/-]+(?:\s[\w+/-]+)?)\s+"
    rf"(?:{'|'.join(GROUP_NOUNS)})\b", re.IGNORECASE)
RESPECTIVELY = re.compile(r"\brespectively\b", re.IGNORECASE)
LABEL_COLON = re.compile(r"^\s*:")
VERSUS_OR_AND = re.compile(r"^[^.;\d]{0,40}?(?:\bvs?\.?(?=\s)|\bversus\b|\band\b|\bagainst\b|\bcompared with\b|,)", re.IGNORECASE)
ANALYSIS = re.compile(
    r"\b(?:primary|final|interim|updated|expanded|exploratory|long-term)\s+(?:analysis|cohort|follow-up)\b|"
    r"\b(?:after\s+)?\d+(?:[.·]\d+)?\s+years?\s+of\s+follow-?up\b|\b\d+(?:[.·]\d+)?-year\s+follow-?up\b|"
    r"\bfirst\s+\d{1,4}\s+(?:patients|pts)(?:\s+(?:treated|enrolled))?", re.IGNORECASE)
ANALYSIS_CUES = ("analys", "cohort", "follow", "first", "update")  # every ANALYSIS or THAT_ANALYSIS match holds one
# ANALYSIS in the lower-cased text, without case folding at every position: tried first
ANALYSIS_LOWER = re.compile(ANALYSIS.pattern)
THAT_ANALYSIS = re.compile(r"\b(?:that|this|the same)\s+(?:analysis|update|cohort)\b", re.IGNORECASE)
ARM_ROLE_WORD = re.compile(r"\b(?:(?P<combination>combination|combined)(?:\s+(?:therapy|treatment|arm|group))?|"
                           r"(?:monotherapy|single[- ]agent|alone|placebo|control)(?:\s+(?:arm|group))?)\b", re.IGNORECASE)
CLASS_WORD = re.compile(rf"\b(?i:{alternation(_C['class_words'])})\b")
CONFIDENCE = {"trial.sentence": 1.0, "trial.sentence_after": 0.9, "trial.paragraph": 0.9, "trial.primary": 0.9,
              "arm.next_to_figure": 1.0, "arm.earlier_in_sentence": 0.9, "arm.in_turn": 0.8, "arm.carried": 0.8,
              "arm.ratio_first_named": 0.8, "arm.stated_with_figure": 1.0}


@dataclass
class Item:
    """Something next to a figure that says whose it is."""

    start: int
    end: int
    kind: str  # arm | subgroup | regimen
    label: str
    arm: Arm | None = None
    drugs: list[str] | None = None


def attribute(reading: DocumentReading, outcomes, groups: dict[int, list[list[Mention]]], records: list[Record]) -> None:
    """Fill trial, arm, drugs and total of each (view, outcome) pair, with the rules used."""
    if not outcomes:
        return
    # marker statuses and HER2 criteria next to a figure name its subgroup ("HER2 3+ status")
    biomarkers = sorted((r for r in records if r.type in ("biomarker", "her2")), key=lambda r: r.start)
    marker_starts = [r.start for r in biomarkers]

    def markers_in(view) -> list:
        """The marker and HER2 records that start in the sentence."""
        return biomarkers[bisect.bisect_left(marker_starts, view.start) : bisect.bisect_left(marker_starts, view.sentence.end)]
    by_sentence: dict[int, list] = {}
    for view, outcome in outcomes:
        by_sentence.setdefault(view.sentence.index, []).append((view, outcome))
    # What earlier sentences of the paragraph said is read only when a figure needs it (most
    # sentences have none): their arm items, analyses and sizes, each worked out once.
    items_of: dict[int, list[Item]] = {}

    def items_at(c, study) -> list[Item]:
        index = c.view.sentence.index
        if index not in items_of:
            items_of[index] = _items(c.view, study, groups.get(index, []), markers_in(c.view), c.grouped)
        return items_of[index]

    def arms_at(c, study) -> tuple[str | None, list[Item]] | None:
        # an arm item needs a group label, arms of the study, or "X and Y groups" (see _items)
        if not (c.grouped or (study is not None and (study.arms or study.arm_terms))
                or holds_any(c.view.lowered, GROUP_NOUNS)):
            return None
        arms = [i for i in items_at(c, study) if i.kind == "arm"]
        return (study.key if study else None, arms) if arms else None

    named_analyses: dict[int, Item | None] = {}

    def named_analysis(c) -> Item | None:
        """The analysis the sentence names itself (asked of it as the figures' sentence and as an
        earlier sentence of the paragraph: read once)."""
        index = c.view.sentence.index
        if index not in named_analyses:
            named_analyses[index] = _analysis(c.view, None)
        return named_analyses[index]

    earlier: dict[int, list] = {}  # paragraph -> [(context, study)] of the sentences read so far
    latest: dict[tuple, tuple[int, object]] = {}  # what the earlier sentences gave (_newest)
    for c in reading.sentences:
        view = c.view
        study = c.study
        before = earlier.setdefault(c.paragraph, [])
        pairs = by_sentence.get(view.sentence.index, ())
        if len(pairs) > 1:
            pairs = sorted(pairs, key=lambda p: p[1].start)
        if pairs:
            key = study.key if study else None
            # the arms of the last earlier sentence naming any, for figures of the same study
            carried = _newest(latest, ("arms", c.paragraph), before, arms_at) if study is not None else None
            sizes = _newest(latest, ("sizes", c.paragraph, key), before, lambda p, s: (s.key if s else None) == key
                            and [z for z in sentence_sizes(p) if z.kind in SIZE_PREFERENCE]) or []
            previous_analysis = _newest(latest, ("analysis", c.paragraph), before, lambda p, _: named_analysis(p))
            analysis = named_analysis(c) or (_analysis(view, previous_analysis) if previous_analysis else None)
            facts = SentenceFacts(analysis, sizes, sentence_sizes(c))
            _attribute_sentence(reading, c, study, [o for _, o in pairs], items_at(c, study), carried, facts)
        before.append((c, study))


def _newest(latest: dict[tuple, tuple[int, object]], what: tuple, before: list, found):
    """The newest truthy ``found(context, study)`` of the paragraph's earlier sentences ``before``,
    each sentence asked once for ``what`` (``latest`` keeps how far back it was asked and the
    answer): scanning the whole paragraph back for every sentence with figures was quadratic, and
    100,000 short figures in one paragraph ran for hours."""
    asked, last = latest.get(what, (0, None))
    for i in range(len(before) - 1, asked - 1, -1):
        result = found(*before[i])
        if result:
            last = result
            break
    latest[what] = (len(before), last)
    return last


@dataclass
class SentenceFacts:
    """What the paragraph said before a sentence that its figures may need."""

    analysis: Item | None  # the analysis the figures belong to ("6.7-year follow-up")
    sizes: list[Size]  # sizes stated by the last sentence that stated any, in this study
    stated: list[Size]  # sizes the sentence itself states


def _analysis(view: SentenceView, previous: Item | None) -> Item | None:
    """An analysis named in the sentence, or the paragraph's last one when the sentence points
    back to it ("The response rate in that analysis was 28%")."""
    if not holds_any(view.lowered, ANALYSIS_CUES):
        return None
    m = ANALYSIS.search(view.text) if ANALYSIS_LOWER.search(view.lowered) else None
    if m:
        label = m.group(0)
        years = re.match(r"(?i)(?:after\s+)?(\S+)\s+years?\s+of\s+follow-?up", label)
        if years:
            label = f"{years.group(1)}-year follow-up"
        return Item(view.start + m.start(), view.start + m.end(), "analysis", " ".join(label.split()))
    if previous is not None and THAT_ANALYSIS.search(view.text):
        return previous
    return None


def _items(view: SentenceView, study: Study | None, found: list[list[Mention]], biomarkers,
           grouped: bool | None = None) -> list[Item]:
    items: list[Item] = []
    known = frozenset(i for a in (study.arms if study else []) for i in a.ids)
    if study is not None:
        for start, end, word, ids in group_labels(view, known, grouped):
            arm = _arm_by_ids(study, ids, view.text[max(0, start - view.start - 30) : start - view.start])
            items.append(Item(start, end, "arm", arm.label if arm else view.text[start - view.start : end - view.start], arm))
        doses = {a.label: a for a in study.arms if a.kind == "dose"}
        if doses:
            for m in DOSE.finditer(view.text):
                arm = doses.get(dose_label(m))
                if arm is not None:
                    items.append(Item(view.start + m.start(), view.start + m.end(), "arm", arm.label, arm))
        for m in LOWER_DOSE.finditer(view.text) if "dose" in view.lowered else ():
            arm = dose_arm_for_phrase(study, m.group("which"))
            if arm is not None:
                items.append(Item(view.start + m.start(), view.start + m.end(), "arm", arm.label, arm))
        regimen_arms = [a for a in study.arms if a.kind == "regimen"]
        for g in found:
            drugs = regimen_drugs(g)
            start, end = min(m.start for m in g), max(m.end for m in g)
            if any(i.start <= start < i.end for i in items):
                continue
            arm = _arm_by_drugs(regimen_arms, drugs)
            items.append(Item(start, end, "arm" if arm else "regimen", arm.label if arm else view.text[start - view.start : end - view.start],
                              arm, arm.drugs if arm else drugs))
        for word, key in study.arm_terms.items():
            if word not in view.text:
                continue
            arm = study.arm(key)
            for m in re.finditer(rf"(?<![\w-]){re.escape(word)}(?![\w-])", view.text):
                start = view.start + m.start()
                if not any(i.start <= start < i.end for i in items):
                    items.append(Item(start, view.start + m.end(), "arm", arm.label, arm))
        cytotoxic_arms = [a for a in regimen_arms if a.drugs and set(a.drugs) <= CYTOTOXICS]
        if len(cytotoxic_arms) == 1:
            for m in CLASS_WORD.finditer(view.text):
                start = view.start + m.start()
                if not any(i.start <= start < i.end for i in items):
                    items.append(Item(start, view.start + m.end(), "arm", cytotoxic_arms[0].label, cytotoxic_arms[0]))
        # "with the combination (55%) than with monotherapy (42%)": the arm of most drugs, the one-drug arm
        if len(regimen_arms) == 2:
            by_size = sorted(regimen_arms, key=lambda a: len(a.drugs or ()))
            if len(by_size[0].drugs or ()) < len(by_size[1].drugs or ()):
                for m in ARM_ROLE_WORD.finditer(view.text):
                    start = view.start + m.start()
                    if not any(i.start <= start < i.end for i in items):
                        arm = by_size[1] if m.group("combination") else by_size[0]
                        items.append(Item(start, view.start + m.end(), "arm", arm.label, arm))
    else:
        for g in found:
            start, end = min(m.start for m in g), max(m.end for m in g)
            items.append(Item(start, end, "regimen", view.text[start - view.start : end - view.start], None, regimen_drugs(g)))
    for m in COORDINATED_GROUPS.finditer(view.text) if holds_any(view.lowered, GROUP_NOUNS) else ():
        for name in ("a", "b"):
            label = m.group(name)
            if m.group(name) and not any(i.start <= view.start + m.start(name) < i.end for i in items):
                items.append(Item(view.start + m.start(name), view.start + m.end(name), "arm", label))
    for r in biomarkers:  # (those of the sentence)
        if view.start <= r.start < view.sentence.end and not any(i.start <= r.start < i.end for i in items):
            items.append(Item(r.start, r.end, "subgroup", _subgroup_label(r)))
    for m in SUBGROUP_PRIOR.finditer(view.text) if PRIOR_CUE.search(view.lowered) else ():
        what = re.sub(r"(?i)\b(?:drugs|agents|treatment)$", "therapy", " ".join(m.group("what").split()))
        items.append(Item(view.start + m.start(), view.start + m.end(), "subgroup", "prior " + what))
    return sorted(items, key=lambda i: i.start)


def _subgroup_label(record) -> str:
    """A marker subgroup as written ("RAS-mutant", "KRAS-mutated"), unless the words that give its
    status lie outside the record's text ("without KRAS mutations": "KRAS wild-type")."""
    text = " ".join(record.text.split())
    if record.type == "her2":
        return text
    status = (record.status or "").lower()
    if status and not re.search(r"(?i)wild|wt\b|negative|neg\b|-\s*$|mut|positive|\+|amplif|high|low|stable|defici|profici|fusion|loss", text):
        return f"{record.gene} {status}"
    if status in ("wild-type", "negative") and re.search(r"(?i)mut", text):
        return f"{record.gene} {status}"
    return text


def _arm_by_ids(study: Study, ids: frozenset[str], before: str) -> Arm | None:
    crossover = re.search(r"(?i)cross", before) is not None
    matches = [a for a in study.arms if a.ids == ids and a.kind in ("cohort", "crossover")]
    if crossover:
        matches = [a for a in matches if a.kind == "crossover"] or matches
    else:
        matches = [a for a in matches if a.kind != "crossover"] or matches
    return matches[0] if matches else None


def _arm_by_drugs(arms: list[Arm], drugs: list[str]) -> Arm | None:
    wanted = set(drugs)
    exact = [a for a in arms if set(a.drugs or ()) == wanted]
    if exact:
        return exact[0]
    holding = [a for a in arms if wanted and wanted <= set(a.drugs or ())]
    return holding[0] if len(holding) == 1 else None


def _attribute_sentence(reading: DocumentReading, c, study: Study | None, outcomes, items: list[Item],
                        carried, facts: SentenceFacts) -> None:
    view = c.view
    claimed = _claimed_after(view, outcomes, items)
    runs = _runs(outcomes)
    in_turn = _in_turn(view, runs, items, claimed, carried, study)
    resolved: dict[int, tuple[Item | None, str | None]] = {}
    unclaimed = [it for it in items if it not in claimed.values()]
    regimen_arms = [a for a in study.arms if a.kind == "regimen"] if study else []
    run_of = {id(o): r for r in runs for o in r}
    for i, o in enumerate(outcomes):
        segment_start = outcomes[i - 1].end if i else view.start
        own = [it for it in unclaimed if segment_start <= it.start < o.start]
        # a labelled group before a regimen: "Cohort C (TUC monotherapy, n=30): ORR 3.3%"
        owners = [it for it in own if it.kind == "arm"] or [it for it in own if it.kind == "regimen"]
        earlier = [it for it in unclaimed if it.start < o.start and it.kind in ("arm", "regimen")]
        run = run_of[id(o)]
        if id(o) in in_turn:
            resolved[id(o)] = in_turn[id(o)]
        elif o.measure in ("hr", "or") and (ratio := _ratio_arm(items, o, regimen_arms)) is not None:
            resolved[id(o)] = (ratio, "arm.ratio_first_named")
        elif id(o) in claimed:
            resolved[id(o)] = (claimed[id(o)], "arm.next_to_figure")
        elif owners:
            resolved[id(o)] = (owners[-1], "arm.next_to_figure")
        elif o.measure in ("hr", "or") and len(regimen_arms) >= 2:
            # a ratio compares the arms; it is reported as the first-named (experimental) arm's
            resolved[id(o)] = (Item(o.start, o.start, "arm", regimen_arms[0].label, regimen_arms[0]), "arm.ratio_first_named")
        elif earlier:
            resolved[id(o)] = (earlier[-1], "arm.earlier_in_sentence")
        elif (len(run) == 1 and carried is not None and study is not None and carried[0] == study.key
              and len(_distinct(carried[1])) == 1):
            resolved[id(o)] = (carried[1][-1], "arm.carried")
        else:
            resolved[id(o)] = (None, None)
    _remaining_arm_of_design(runs, resolved, study)
    for i, o in enumerate(outcomes):
        rules = dict(o.attribution)
        _trial(o, c, reading, rules)
        main, rule = resolved[id(o)]
        if rule:
            rules["arm"] = rule
        preset = _preset_arm(o, study)
        if preset is not None:
            main, rules["arm"] = preset, "arm.stated_with_figure"
        sub = _subgroup(view, o, outcomes[i - 1].end if i else view.start,
                        outcomes[i + 1].start if i + 1 < len(outcomes) else view.sentence.end, items, claimed)
        _apply(o, study, main, sub, rules, view, facts, outcomes)
        o.attribution = rules
        _confidence(o, rules, study, reading)


def _ratio_arm(items: list[Item], o, regimen_arms: list[Arm]) -> Item | None:
    """The arm a hazard or odds ratio is reported for: in a design of regimen arms, its first-named
    (experimental) arm when the sentence compares it ("9.2 months with HT and 14.2 months with
    T-DM1 (hazard ratio, 0.59)" in a trial of T-DM1 versus HT); else the first arm the sentence
    names before the ratio ("Patients in the X arm ... compared with patients receiving Y
    (hazard ratio = 0.63)", "arm B/arm A hazard ratio"). Arms other figures of the sentence
    claimed count too."""
    named = _distinct([it for it in items if it.start < o.start and it.arm])
    keys = [it.arm.key for it in named]
    if len(regimen_arms) >= 2 and len(named) >= 2 and regimen_arms[0].key in keys and all(it.arm.kind == "regimen" for it in named):
        return next(it for it in named if it.arm.key == regimen_arms[0].key)
    return named[0] if len(named) >= 2 else None


def _claimed_after(view: SentenceView, outcomes, items: list[Item]) -> dict[int, Item]:
    """id(outcome) -> the label right after it that belongs to it ("45.3% in cohort A")."""
    claimed: dict[int, Item] = {}
    if not items:
        return claimed
    for i, o in enumerate(outcomes):
        limit = outcomes[i + 1].start if i + 1 < len(outcomes) else view.sentence.end
        following = [it for it in items if o.end <= it.start < limit and it.kind in ("arm", "regimen")]
        if following and LABEL_COLON.match(reading_text(view, following[0].end, limit)):
            continue  # "CT: 63%, HT: 58%": a label with a colon heads the next figure
        if following:
            gap = reading_text(view, o.end, following[0].start)
            if len(gap) <= POST_GAP_REACH and POST_GAP.match(gap):
                claimed[id(o)] = following[0]
    return claimed


def _runs(outcomes) -> list[list]:
    """Figures of one endpoint and measure in a sentence, in order (a ratio stands alone)."""
    runs: dict[tuple, list] = {}
    for o in outcomes:
        key = (o.endpoint, o.measure, o.arm if o.measure == "landmark" else None) if o.measure not in ("hr", "or") else id(o)
        runs.setdefault(key, []).append(o)
    return list(runs.values())


def _subgroup(view, o, segment_start: int, limit: int, items: list[Item], claimed) -> Item | None:
    # before the figure in its clause, or inside its own span ("9 of 20 patients with KRAS wild-type tumours (45%")
    if not items:
        return None
    own = [it for it in items if segment_start <= it.start < o.end and it.kind == "subgroup"]
    if own:
        return own[-1]
    after = [it for it in items if it.kind == "subgroup" and o.end <= it.start < limit]
    if after:
        gap = reading_text(view, o.end, after[0].start)
        if len(gap) <= POST_GAP_REACH and POST_GAP.match(gap):
            return after[0]
    return None


def reading_text(view: SentenceView, start: int, end: int) -> str:
    return view.text[start - view.start : end - view.start]


def _trial(o, c, reading: DocumentReading, rules: dict) -> None:
    before = [(m, n) for m, n in c.named if m.start <= o.start]
    if before:
        o.trial, rules["trial"] = before[-1][1], "trial.sentence"
    elif c.named:
        o.trial, rules["trial"] = c.named[0][1], "trial.sentence_after"
    elif c.current is not None:
        o.trial, rules["trial"] = c.current, c.current_rule
    else:
        o.trial = None
        if reading.model.primary is not None and not c.background:
            rules["trial"] = "trial.primary_unnamed"


def _in_turn(view: SentenceView, runs, items: list[Item], claimed, carried, study: Study | None) -> dict[int, tuple[Item, str]]:
    """Figures given in turn: a run of one endpoint's figures takes the groups in the order they
    were named: right after the run ("30% and 28% of the tissue- and ctDNA-positive groups"),
    before it with "respectively", in the previous sentence of the paragraph ("Their DCRs were
    60.0% and 22.2%"), or in the design's order ("5.6 versus 3.5 months" in a two-arm trial)."""
    assigned: dict[int, tuple[Item, str]] = {}
    labels = [it for it in items if it.kind == "arm"]
    free = [it for it in labels if it not in claimed.values()]
    regimen_arms = [a for a in study.arms if a.kind == "regimen"] if study else []
    for whole in runs:
        for run, since, limit, split in _stretches(whole, items, view):
            _in_turn_stretch(view, run, since, limit, split, labels, free, carried, study, regimen_arms, assigned)
    return assigned


def _stretches(run, items: list[Item], view: SentenceView):
    """A run's figures in stretches with no label among them ("a% and b% in the X and Y groups,
    respectively, and c% and d% in the X and Y groups, respectively"), each with where the
    labels that may be its own begin (after the stretch before) and end (at the next stretch)."""
    if len(run) < 2:
        return []  # (a stretch has two figures or more)
    marks = [it for it in items if it.kind in ("arm", "regimen")]
    parts: list[list] = [[run[0]]]
    for a, b in zip(run, run[1:]):
        if any(a.end <= it.start < b.start for it in marks):
            parts.append([b])
        else:
            parts[-1].append(b)
    bounds = [view.start] + [p[-1].end for p in parts[:-1]]
    limits = [p[0].start for p in parts[1:]] + [view.sentence.end]
    return [(p, since, limit, len(parts) > 1) for p, since, limit in zip(parts, bounds, limits) if len(p) >= 2]


def _in_turn_stretch(view: SentenceView, run, since: int, limit: int, split: bool, labels: list[Item], free: list[Item],
                     carried, study: Study | None, regimen_arms: list[Arm], assigned: dict) -> None:
    """One stretch of figures given in turn; a stretch of a run that has labels among its
    figures (``split``) takes only the labels right after it ("with EDC (23.0% versus 15.4% ED"
    is read figure by figure)."""
    if not all(VERSUS_OR_AND.match(reading_text(view, a.end, b.start)) for a, b in zip(run, run[1:])):
        return
    after = _per_group(_distinct([it for it in labels if run[-1].end <= it.start < limit]), len(run), study)
    before = _per_group(_distinct([it for it in free if since <= it.start and it.end <= run[0].start], last=True), len(run), study)
    respectively = "respectively" in view.lowered and RESPECTIVELY.search(view.text) is not None
    choice = None
    if len(after) >= len(run) and not respectively or len(after) == len(run):
        choice = (after[: len(run)], "arm.in_turn")
    elif split:
        pass
    elif (respectively or _joined_by_versus(view, run)) and len(_distinct(before)) == len(run):
        choice = (_distinct(before), "arm.in_turn")
    elif not before and carried is not None and study is not None and carried[0] == study.key and len(_distinct(carried[1])) == len(run):
        choice = (_distinct(carried[1]), "arm.in_turn_previous_sentence")
    elif not before and len(regimen_arms) == len(run):
        choice = ([Item(0, 0, "arm", a.label, a) for a in regimen_arms], "arm.in_turn_of_design")
    if choice:
        for o, item in zip(run, choice[0]):
            assigned[id(o)] = (item, choice[1])


def _joined_by_versus(view: SentenceView, run) -> bool:
    return all(re.search(r"\b(?:vs?\.?|versus|against|compared with)\s", reading_text(view, a.end, b.start)) for a, b in zip(run, run[1:]))


def _per_group(items: list[Item], wanted: int, study: Study | None) -> list[Item]:
    """"in arms A and B, respectively": one label of several groups stands for each in turn."""
    if (len(items) != 1 or items[0].arm is None or items[0].arm.kind != "cohort" or len(items[0].arm.ids) != wanted
            or study is None):
        return items
    label = items[0]
    word = label.label.split()[0].rstrip("s")
    split = []
    for i in sorted(label.arm.ids):
        arm = next((a for a in study.arms if a.ids == frozenset({i}) and a.kind == "cohort"), None)
        split.append(Item(label.start, label.end, "arm", arm.label if arm else f"{word} {i}", arm))
    return split


def _remaining_arm_of_design(runs, resolved, study: Study | None) -> None:
    """"51.3% with the conjugate and 14.3% with chemotherapy": in a run as long as the design has
    arms, the one figure left without an arm takes the one arm the others left."""
    arms = [a for a in study.arms if a.kind == "regimen"] if study else []
    for run in runs:
        if len(run) != len(arms) or len(run) < 2:
            continue
        open_ = [o for o in run if resolved[id(o)][0] is None]
        taken = {resolved[id(o)][0].arm.key for o in run if resolved[id(o)][0] is not None and resolved[id(o)][0].arm}
        left = [a for a in arms if a.key not in taken]
        if len(open_) == 1 and len(left) == 1:
            resolved[id(open_[0])] = (Item(0, 0, "arm", left[0].label, left[0]), "arm.remaining_of_design")


def _distinct(items: list[Item], last: bool = False) -> list[Item]:
    """One item per arm, in the order of their first mentions (``last``: of their last ones,
    for the labels named right before figures: "the benefit of ZOL with CT ... (CT versus
    CT-Z: 70.6% versus 94.1%)")."""
    seen, kept = set(), []
    for it in (reversed(items) if last else items):
        key = it.arm.key if it.arm else it.label
        if key not in seen:
            seen.add(key)
            kept.append(it)
    return kept[::-1] if last else kept


def _preset_arm(o, study: Study | None) -> Item | None:
    """An arm the figure's reading already named ("No objective response occurred in cohort B"):
    matched to the study's arm of that label, for its size and regimen."""
    if not o.arm or o.measure == "landmark":
        return None
    if study is None:
        return Item(o.start, o.start, "arm", o.arm)
    ids = None
    m = re.search(r"(?i:cohorts?|arms?|groups?|parts?)\s+(.+)$", o.arm)
    if m:
        ids = label_ids(m.group(1))
    arm = next((a for a in study.arms if ids and a.ids == ids and a.kind == "cohort"), None)
    if arm is None:
        named = [a for a in study.arms if a.kind in ("regimen", "dose") and a.label.lower() in o.arm.lower()]
        arm = named[0] if len(named) == 1 else None
    return Item(o.start, o.start, "arm", o.arm, arm)


def _apply(o, study: Study | None, main: Item | None, sub: Item | None, rules: dict, view: SentenceView,
           facts: SentenceFacts, outcomes) -> None:
    arm = main.arm if main is not None else None
    labels = []
    if main is not None and main.kind == "arm":
        labels.append(main.label)
    if sub is not None and labels and _normal(sub.label) in _normal(labels[0]):
        sub = None  # the arm's label says it already: "the HER2-low cohort"
    if sub is not None:
        labels.append(sub.label)
        rules["subgroup"] = "arm.subgroup_next_to_figure"
    if facts.analysis is not None:
        labels.append(facts.analysis.label)
        rules["analysis"] = "arm.analysis_named" if facts.analysis.start >= view.start else "arm.analysis_that"
    if o.measure == "landmark" and o.arm:
        labels.append(o.arm)  # the time point stays in the arm, as the gold format asks
    o.arm = ", ".join(dict.fromkeys(labels)) or None
    o.study_ref = study.key if study else None
    o.arm_ref = f"{study.key}/{arm.key}" if arm and study else None
    # drugs
    if arm is not None and arm.drugs:
        o.drugs, rules["drugs"] = list(arm.drugs), arm.drugs_rule or "regimen.arm"
    elif main is not None and main.drugs:
        o.drugs, rules["drugs"] = list(main.drugs), "regimen.next_to_figure"
    elif study is not None and study.drugs and not [a for a in study.arms if a.kind == "regimen"]:
        o.drugs, rules["drugs"] = list(study.drugs), study.drugs_rule or "regimen.study"
    else:
        o.drugs = None
    # N
    consistent = None if o.count is None else _consistent_size(o, [
        *facts.sizes, *facts.stated, *([arm.size] if arm is not None and arm.size else []),
        *([study.size] if study is not None and study.size else [])])
    if o.total is not None:
        rules["total"] = "n.stated_with_figure"
    elif consistent is not None:
        # "This study included 69 patients ... 22 (31.9%) responded": 22/69 is 31.9%
        o.total, rules["total"] = consistent, "n.count_agrees_with_size"
    elif o.measure not in ("hr", "or"):
        rest = reading_text(view, o.end, view.sentence.end)
        among = AMONG_SIZE.match(rest) if "of" in rest or "among" in rest else None  # (words it needs)
        if among and number_of(among.group("n")) is not None:
            o.total, rules["total"] = number_of(among.group("n")), "n.among_after_figure"
        elif sub is not None and (size := _size_after(view, sub)) is not None:
            o.total, rules["total"] = size, "n.subgroup_size"
        elif sub is None and arm is not None and arm.size is not None:
            o.total, rules["total"] = arm.size.value, "n.arm_size"
        elif sub is None and main is None and (total := _sentence_total(o, outcomes)) is not None:
            o.total, rules["total"] = total, "n.same_sentence_figure"
        elif sub is None and main is None and facts.sizes and (study is None or not study.arms):
            best = min(facts.sizes, key=lambda z: SIZE_PREFERENCE[z.kind])
            o.total, rules["total"] = best.value, f"n.paragraph_{best.kind}"
        elif sub is None and main is None and study is not None and study.size is not None and not study.arms:
            o.total, rules["total"] = study.size.value, f"n.study_{study.size.kind}"


def _normal(label: str) -> str:
    return re.sub(r"[^a-z0-9+]", "", label.lower())


def _consistent_size(o, sizes: list[Size]) -> int | None:
    """The one stated size that the figure's count and percentage agree with, to a rounding."""
    if o.count is None or o.unit != "%" or not o.value:
        return None
    fits = {z.value for z in sizes if z.value and z.value >= o.count and abs(100 * o.count / z.value - o.value) <= 0.6}
    return next(iter(fits)) if len(fits) == 1 else None


def _size_after(view: SentenceView, item: Item) -> int | None:
    """"RAS wild-type subset (n=12)": the size written right after a subgroup."""
    rest = re.sub(r"^\s*(?:subset|subgroup|cohort|population|tumou?rs|disease|patients)?", "", reading_text(view, item.end, view.sentence.end))
    m = SIZE_AFTER_LABEL.match(rest)
    return int(m.group("a") or m.group("b")) if m else None


def _sentence_total(o, outcomes) -> int | None:
    """"10 of 33 patients (30.3%) had responded, ... disease control in 70%": the denominator of
    the sentence's other rate, when it gives one and all that give one agree."""
    totals = {x.total for x in outcomes if x is not o and x.total is not None and x.measure == "rate" and x.attribution.get("total") != "n.arm_size"}
    return next(iter(totals)) if len(totals) == 1 and o.measure in ("rate", "count") else None


def _confidence(o, rules: dict, study: Study | None, reading: DocumentReading) -> None:
    """The figure's confidence falls with the weakest attribution; an unsettled one is flagged."""
    weakest = min([CONFIDENCE.get(rule, 1.0) for rule in rules.values()] + [1.0])
    o.confidence = min(o.confidence, weakest)
    unsettled = (o.trial is None and study is None and any(s.name for s in reading.model.studies)) or (
        study is not None and o.arm is None and len([a for a in study.arms if a.kind != "crossover"]) > 1)
    if unsettled or o.confidence < 0.85:
        o.needs_review = True
