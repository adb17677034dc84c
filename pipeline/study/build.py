"""Building a document's study model (``pipeline.study.model``) from its sentences, trial
mentions and regimens.

- **Studies**: every named trial; the *primary* one is the trial the title names, else the one
  the first Methods sentence names, else the only trial of a short text; a paper that names
  none but describes its own study ("This was a single-arm phase II trial") gets an unnamed
  primary study. A family name ("HERACLES" beside "HERACLES-A") is not a study of its own.
- **Regimen of a study**: the one regimen of the title, else of the sentence that names the
  study, else the one regimen all Methods sentences agree on.
- **Arms**: labelled groups ("cohort A", "cohorts A and B", "(A+B, n=84)"), dose levels where
  the text compares doses ("randomly assigned to 5.4 mg/kg or 6.4 mg/kg"), the regimens a
  comparative design names ("compared X with the physician's choice of Y or Z"), and crossover
  groups; each with the regimen the text gives it and its size ("53 entered cohort A",
  "Cohort C (n=30)", "125 to T-DXd").
- **Sizes**: "Of 914 patients screened, ... 27 were treated", "n=20 pts were enrolled and 18
  were evaluable", "Thirty-one patients were treated and could be assessed".
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from pipeline.analysis import Section
from pipeline.extract.context import DigitPattern, Mention, SentenceView, has_digit, holds_any
from pipeline.extract.treatments import regimen_drugs
from pipeline.study.cues import COUNT, NUMBER_GATE, NUMBER_WORD, alternation, covering, cues, number_of, word_gate
from pipeline.study.model import Arm, Size, Study, StudyModel

TITLE_REACH = 400  # characters: how far into a document its title may run
SHORT_TEXT = 6000  # characters: below this a text is read as one abstract

_C = cues()
GROUP_WORD = alternation(_C["group_words"])
ID_JOIN = r"\s*(?:\+|,\s*and|,|and|or|&|/)\s*"
# One kind of id per label, so "53 entered cohort A, 15 cohort B" keeps "15" out of cohort A.
GROUP_IDS = rf"(?:[A-Z](?![\w.-])(?:{ID_JOIN}[A-Z](?![\w.-]))*|\d{{1,2}}(?![\w.-])(?:{ID_JOIN}\d{{1,2}}(?![\w.-]))*)"
GROUP_LABEL = re.compile(rf"(?<![\w-])(?i:(?P<word>{GROUP_WORD}))\s+(?P<ids>{GROUP_IDS})")
BARE_IDS = re.compile(rf"(?<=\()\s*(?P<ids>[A-Z](?:\s*\+\s*[A-Z])+)(?![\w])")
# In the lower-cased text: a sentence without it has no labelled group (GROUP_LABEL, lower-cased).
GROUP_CUE = re.compile(rf"(?:{GROUP_WORD})\s+(?:[a-z]|\d{{1,2}})(?![\w.-])")
GROUP_GATE = covering(_C["group_words"])  # one of these in every GROUP_CUE match


def may_hold_group(low: str) -> bool:
    """GROUP_CUE's test of a lower-cased sentence, its plain word test first."""
    return holds_any(low, GROUP_GATE) and GROUP_CUE.search(low) is not None


# What joins the letters of a group label: "A+B", "A, B and C". White space before the joint is
# taken from where its run starts (the look-behind: no white space before its first character),
# so a search does not re-scan a long run from each of its positions.
ID_SPLIT = re.compile(r"(?:\s(?<!\s\s)\s*)?(?:\+|,\s*and|,|and|or|&|/)\s*")
# (the first digit is read before the look-behind that checks what precedes it: a pattern that
# starts with a character class lets re skip to where it can match; one that starts with a
# look-behind is tried at every position)
DOSE = re.compile(r"(?P<dose>\d(?<![\d.·]\d)\d*(?:[.·]\d+)?)\s*(?P<unit>mg/kg|mg/m2|mg/m²|mg)(?![\w/])")
DOSE_COMPARED = re.compile(r"^\s*(?:,|or|and|vs\.?|versus|to|compared with)\s*(?:\w+\s+){0,3}?$", re.IGNORECASE)
# A sentence that compares doses, not one that gives a loading and a maintenance dose.
DOSE_COMPARISON = re.compile(r"\b(?:randomi[sz]ed|randomly|versus|vs\.?|compared|comparing|doses|dose levels?|either)\b", re.IGNORECASE)
LOWER_DOSE = re.compile(r"\b(?:the\s+)?(?P<which>lower|lowest|higher|highest)\s+dose\b", re.IGNORECASE)
NOUN = alternation(_C["patient_nouns"])
SIZE_VERB = alternation(_C["size_kinds"])
SIZE_KIND = {re.sub(r"\s+", " ", k.lower()): v for k, v in _C["size_kinds"].items()}
# "27 patients were treated", "n=20 pts were enrolled", "Thirty-one patients were treated"
SIZE_NOUN_VERB = re.compile(
    rf"(?<![\w.·/-])(?:[nN]\s*=\s*)?(?P<n>{COUNT})\s+(?:[\w+-]+\s+)?(?:{NOUN})\s+(?:(?:were|was|had been|have been|could be)\s+)?"
    rf"(?:then\s+)?(?P<verb>{SIZE_VERB})\b", re.IGNORECASE)
# "..., and 27 were treated", "and 18 were evaluable", "32 could be assessed"
SIZE_BARE_VERB = re.compile(
    rf"(?:^|[,;]|\band)\s+(?P<n>{COUNT})\s+(?:were|was|had been|could be)\s+(?P<verb>{SIZE_VERB})\b", re.IGNORECASE)
# "Of 914 patients screened", "Of the 30 patients treated"
SIZE_OF = re.compile(rf"\b[Oo]f\s+(?:the\s+|all\s+)?(?P<n>{COUNT})\s+(?:[\w+-]+\s+)?(?:{NOUN})\s+(?P<verb>{SIZE_VERB})\b")
# "enrolled 57 patients", "to 57 patients with ...", "in 31 patients"
SIZE_VERB_NOUN = re.compile(
    rf"\b(?:(?P<verb>{SIZE_VERB})|gave|tested|administered|to|in)\s+(?P<n>\d{{1,5}})\s+(?:[\w+-]+\s+)?(?:{NOUN})\b"
    r"(?!\s*[(\[]\s*\d+(?:[.·]\d+)?\s*%)",  # "seen in 8 patients (9.3%)" counts events, not a group
    re.IGNORECASE)
# The same three with digits only: for a sentence with no number word, where COUNT's words (tried
# at every position, in either case) cannot match anyway.
SIZE_NOUN_VERB_DIGITS, SIZE_BARE_VERB_DIGITS, SIZE_OF_DIGITS = (
    re.compile(p.pattern.replace(COUNT, r"\d{1,5}"), p.flags) for p in (SIZE_NOUN_VERB, SIZE_BARE_VERB, SIZE_OF))
# SIZE_VERB_NOUN is looked for only where its count and patients are: its lead, right before
# such a count (within LEAD_REACH characters), is searched there alone.
COUNT_OF_PATIENTS = DigitPattern(rf"\d(?<=\s\d)(?=\d{{0,4}}\s+(?:[\w+-]+\s+)?(?:{NOUN})\b)", re.IGNORECASE)
LEAD_BEFORE_COUNT = re.compile(rf"\b(?:{SIZE_VERB}|gave|tested|administered|to|in)\s+$", re.IGNORECASE)
LEAD_REACH = 80
SAME_COUNT_ALSO = re.compile(rf"^\s*and\s+(?:could be|were|was)\s+(?P<verb>{SIZE_VERB})\b", re.IGNORECASE)
# A group's size right after its label: "cohort B (n = 15)", "Cohorts A+B, n=84", "Cohort C (TUC monotherapy, n=30)"
SIZE_AFTER_LABEL = re.compile(r"^\s*+(?:[(\[][^()\[\]]{0,60}?\b[nN]\s*=\s*(?P<a>\d+)\s*[)\],;]|,?\s*+[nN]\s*=\s*(?P<b>\d+))")
# ... and right before it: "53 entered cohort A", "15 cohort B", "82 patients at 5.4 mg/kg", "125 to T-DXd"
SIZE_BEFORE_LABEL = re.compile(
    rf"(?<![\w.·/-])(?P<n>\d{{1,5}})\s+(?:(?:{NOUN})\s+)?(?:(?:were|was)\s+)?(?:(?:{SIZE_VERB})\s+)?"
    rf"(?:(?:in(?:to)?|to|at|on|for|per)\s+)?(?:the\s+)?$", re.IGNORECASE)
CROSSOVER = re.compile(rf"(?i:{alternation(_C['crossover_words'])})")
CROSSOVER_TO = re.compile(rf"(?i:{alternation(_C['crossover_words'])})\s+(?:from\s+\S+\s+)?to\b")
CROSSOVER_CUE = re.compile(alternation(w.lower() for w in _C["crossover_words"]))  # in the lower-cased text
CROSSOVER_GATE = covering(word_gate(_C["crossover_words"]))  # one of these in every CROSSOVER_CUE match
CHOICE_LEAD = re.compile(rf"(?i:{alternation(_C['choice_lead'])})\s*$")
COMPARATIVE = re.compile(r"\b(?:randomi[sz]ed|randomly|versus|vs\.?|compared|comparing|choice)\b", re.IGNORECASE)
# "were randomized (2:1) to", "randomly assigned to receive": the arms follow; what comes before
# (eligibility: "who progressed after regimens that included trastuzumab") is no arm
ASSIGNED_TO = re.compile(r"\b(?:randomi[sz]ed|randomly\s+assigned|assigned|allocated)\s+(?:\([^()]{0,20}\)\s+)?(?:to|between)\b",
                         re.IGNORECASE)
ASSIGNED_CUES = ("randomi", "assigned", "allocated")
# "All patients received four cycles of FEC": a regimen every arm is given
ALL_RECEIVED = re.compile(r"\b(?:all|both)\s+(?:the\s+)?(?:patients|participants|women|subjects|arms|groups)\s+"
                          r"(?:(?:then|also|first|initially)\s+)?(?:received|were\s+(?:given|treated\s+with))\b", re.IGNORECASE)
# Read in the lower-cased text (``SentenceView.lowered``): a case-insensitive alternation runs
# several times slower than the same one on lower-case text.
OWN_STUDY = re.compile(alternation(_C["own_study_phrases"]))
OWN_STUDY_GATE = word_gate(_C["own_study_phrases"])
DEFINES_REGIMEN = re.compile(r"^\s*+(?:\([^()]*+\)\s*+)?(?::|received|were given|was given|were treated with|got)", re.IGNORECASE)
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
METHODS_SECTIONS = {"methods", "method", "study design", "design", "patients and methods", "materials and methods"}
SIZE_ORDER = {kind: i for i, kind in enumerate(_C["size_preference"])}


@dataclass
class SentenceContext:
    """What the study model knows of one sentence: its paragraph, whether it is background,
    the studies it names, and the study current at it (named here or earlier in the paragraph)."""

    view: SentenceView
    paragraph: int
    background: bool
    section_title: str
    named: list[tuple[Mention, str]] = field(default_factory=list)  # mention, study name
    current: str | None = None  # study name, or None for the document's own study / unknown
    current_rule: str | None = None
    own_study: bool | None = None  # whether it speaks of the paper's own study (read on demand)
    study: Study | None = None  # the study it speaks of (``study_of``), set once the model has its studies
    grouped: bool = False  # whether it may hold a labelled group ("cohort A"): GROUP_CUE
    sizes: list[Size] | None = None  # its patient numbers (``sentence_sizes``), read on demand


@dataclass
class DocumentReading:
    model: StudyModel
    sentences: list[SentenceContext]


def build_study_model(text: str, views: list[SentenceView], sections: list[Section], trial_records,
                      groups: dict[int, list[list[Mention]]], names, owner: dict[str, str],
                      title_end: int | None = None) -> DocumentReading:
    """The study model of a document and, per sentence, the study it speaks of."""
    contexts = _sentence_contexts(text, views, sections, names, owner)
    title = _title(contexts, title_end)
    families = _family_names({n for c in contexts for _, n in c.named})
    for c in contexts:
        c.named = [(m, n) for m, n in c.named if n not in families]
    model = StudyModel(family_names=families)
    for c in contexts:
        for mention, name in c.named:
            if model.named(name) is None:
                model.studies.append(Study(key=f"study:{name}", name=name, role="cited", start=mention.start,
                                           end=mention.end, rule="study.named"))
    for record in trial_records:
        study = model.named(owner.get(record.name) or names.name_of(record.name))
        if study is not None and record.nct and record.nct != study.name:
            study.registry = record.nct
    _choose_primary(model, contexts, title, len(text))
    _registries_of_the_primary(model, contexts)
    _walk_current(contexts, model)
    for c in contexts:
        c.study = study_of(model, c)
    common = _common_regimens(model, contexts, groups)
    # The sentences naming each study and those it is current at, in text order: a pass over
    # every sentence for every study cost 1.6 s on a review of a megabyte naming 180 trials.
    naming, current_at = defaultdict(list), defaultdict(list)
    for c in contexts:
        for name in dict.fromkeys(n for _, n in c.named):
            naming[name].append(c)
        current_at[c.current].append(c)
    for study in model.studies:
        own, current = (naming.get(study.name, []), current_at.get(study.name, [])) if study.name else ([], [])
        _study_regimen(study, contexts, own, current, groups, title, common.get(study.key))
        shared = common.get(study.key)
        if study.drugs and shared and not set(shared) <= set(study.drugs):
            study.drugs = [*study.drugs, *(d for d in shared if d not in study.drugs)]
            study.drugs_rule = (study.drugs_rule or "regimen.study") + "_and_common"
    _arms(model, contexts, groups, text)
    _add_common_regimens(model, common)
    _arm_terms(model, groups)
    _sizes(model, contexts)
    return DocumentReading(model, contexts)


# ---------------------------------------------------------------- sentences


def _sentence_contexts(text, views, sections, names, owner) -> list[SentenceContext]:
    background_titles = set(_C["background_sections"])
    contexts = []
    paragraph, previous_end, previous_section = 0, None, None
    for view in views:
        sentence = view.sentence
        if previous_end is not None and (sentence.section != previous_section
                                         or text.find("\n", previous_end, sentence.start) >= 0
                                         and PARAGRAPH_BREAK.search(text, previous_end, sentence.start)):
            paragraph += 1
        previous_end, previous_section = sentence.end, sentence.section
        title = (sections[sentence.section].title or "").strip().lower().rstrip(":")
        context = SentenceContext(view, paragraph, title in background_titles, title,
                                  grouped=may_hold_group(view.lowered))
        for t in view.trials:
            name = owner.get(t.canonical) or names.name_of(t.canonical)
            if t.label == "REGISTRY" and t.canonical not in owner and any(x.label != "REGISTRY" for x in view.trials):
                continue  # the id of a trial named beside it
            context.named.append((t, name))
        contexts.append(context)
    return contexts


def _title(contexts: list[SentenceContext], title_end: int | None) -> SentenceContext | None:
    """The title: the reader's, else a first line of the text that is short and stands alone."""
    if not contexts:
        return None
    first = contexts[0]
    view = first.view
    if view.start > TITLE_REACH:
        return None
    if title_end is not None:
        return first if view.start < title_end else None
    line = view.text.strip()
    return first if line and "\n" not in line and len(view.text) < 300 else None


def _family_names(names: set[str]) -> set[str]:
    """A name that others extend with a part or letter ("HERACLES" of "HERACLES-A", "HERACLES-B")."""
    return {n for n in names if any(o != n and re.match(rf"{re.escape(n)}[-\s][A-Za-z0-9]{{1,3}}$", o) for o in names)}


def _choose_primary(model: StudyModel, contexts: list[SentenceContext], title: SentenceContext | None,
                    length: int) -> None:
    chosen, rule = None, None
    if title is not None and len({n for _, n in title.named}) == 1:
        chosen, rule = title.named[0][1], "study.primary.title"
    if chosen is None:
        methods = [c for c in contexts if c.named and c.section_title in METHODS_SECTIONS]
        if methods and len({n for _, n in methods[0].named}) == 1:
            chosen, rule = methods[0].named[0][1], "study.primary.methods"
    named_outside_background = {n for c in contexts if not c.background for _, n in c.named}
    if (chosen is None and length < SHORT_TEXT and len(model.studies) == 1 and not _is_review(contexts)
            and model.studies[0].name in named_outside_background):
        chosen, rule = model.studies[0].name, "study.primary.only_trial"
    if chosen is not None:
        study = model.named(chosen)
        study.role, study.rule = "primary", rule
        return
    own = next((c for c in contexts if _speaks_of_own_study(c)), None)
    if own is not None and not _is_review(contexts):
        model.studies.insert(0, Study(key="study:this", name=None, role="primary", start=own.view.start,
                                      end=own.view.sentence.end, rule="study.primary.unnamed"))


def _registries_of_the_primary(model: StudyModel, contexts: list[SentenceContext]) -> None:
    """"In this phase 2 trial (NCT04744831)": a registry id named alone in a sentence about the
    paper's own study is the primary study's id, not a study of its own."""
    primary = model.primary
    if primary is None or primary.name is None:
        return
    for c in contexts:
        if c.background or len(c.named) != 1 or c.named[0][0].label != "REGISTRY" or not _speaks_of_own_study(c):
            continue
        registry = c.named[0][1]
        study = model.named(registry)
        if study is None or study is primary:
            continue
        primary.registry = primary.registry or registry
        model.studies.remove(study)
        for other in contexts:
            other.named = [(m, primary.name if n == registry else n) for m, n in other.named]


def _is_review(contexts: list[SentenceContext]) -> bool:
    """Several named trials and no sentence about a study of the paper's own."""
    names = {n for c in contexts for _, n in c.named}
    return len(names) > 1 and not any(_speaks_of_own_study(c) for c in contexts)


def _speaks_of_own_study(c: SentenceContext) -> bool:
    if c.own_study is None:
        low = c.view.lowered
        c.own_study = holds_any(low, OWN_STUDY_GATE) and OWN_STUDY.search(low) is not None
    return c.own_study


def _walk_current(contexts: list[SentenceContext], model: StudyModel) -> None:
    """The study each sentence speaks of: the last one named in it or earlier in its paragraph;
    else, outside background sections, the primary study. After a sentence naming several
    ("We compared ORBIT-2 and VERONA-3"), the paragraph's study is open: no guess."""
    primary = model.primary
    current, paragraph, open_ = None, None, False
    for c in contexts:
        if c.paragraph != paragraph:
            current, paragraph, open_ = None, c.paragraph, False
        if c.named:
            c.current, c.current_rule = c.named[-1][1], "trial.sentence"
            several = len({n for _, n in c.named}) > 1
            current, open_ = (None, True) if several else ((c.named[-1][1], "trial.paragraph"), False)
            continue
        if open_:
            continue
        if current is not None:
            c.current, c.current_rule = current
        elif primary is not None and not c.background:
            c.current, c.current_rule = primary.name, "trial.primary"


# ---------------------------------------------------------------- regimens of studies


def _common_regimens(model: StudyModel, contexts, groups) -> dict[str, list[str]]:
    """study key -> the regimen "all patients received" outside background ("All patients received
    four cycles of FEC100, followed by paclitaxel"): given in every arm, before or beside what
    the arms compare."""
    common: dict[str, list[str]] = {}
    for c in contexts:
        if c.background or "all " not in c.view.lowered and "both " not in c.view.lowered:
            continue
        m = ALL_RECEIVED.search(c.view.text)
        study = c.study if m else None
        if study is None or study.key in common:
            continue
        after = [g for g in groups.get(c.view.sentence.index, []) if min(x.start for x in g) >= c.view.start + m.end()]
        if after:
            common[study.key] = regimen_drugs(min(after, key=lambda g: min(x.start for x in g)))
    return common


def _add_common_regimens(model: StudyModel, common: dict[str, list[str]]) -> None:
    """Each arm with a regimen of its own also gets what all patients received."""
    for study in model.studies:
        shared = common.get(study.key)
        if not shared:
            continue
        for arm in study.arms:
            if arm.drugs and arm.kind in ("regimen", "cohort") and not set(shared) <= set(arm.drugs):
                arm.drugs = [*arm.drugs, *(d for d in shared if d not in arm.drugs)]
                arm.drugs_rule = "regimen.arm_and_common"


def _study_regimen(study: Study, contexts, own, current, groups, title, common: list[str] | None = None) -> None:
    """The regimen of ``study`` (``own``: the sentences naming it, ``current``: those it is
    current at)."""
    if study.role == "primary" and title is not None:
        found = groups.get(title.view.sentence.index, [])
        if found and len({_drug_key(g) for g in found}) == 1:
            study.drugs, study.drugs_rule = regimen_drugs(found[0]), "regimen.title"
            return
        if found:
            return  # a comparison: the arms carry the regimens
    for c in own:
        found = groups.get(c.view.sentence.index, [])
        if len(found) == 1 and len({n for _, n in c.named}) == 1:
            study.drugs, study.drugs_rule = regimen_drugs(found[0]), "regimen.naming_sentence"
            return
    current_sets = {_drug_key(g) for c in current for g in groups.get(c.view.sentence.index, [])}
    if study.role == "cited" and len(current_sets) == 1:
        study.drugs = list(regimen_drugs(next(g for c in current for g in groups.get(c.view.sentence.index, []))))
        study.drugs_rule = "regimen.where_named_or_current"
        return
    if study.role == "primary":
        sets = {_drug_key(g) for c in contexts if not c.background and c.current == study.name
                and not c.named for g in groups.get(c.view.sentence.index, [])}
        shared = tuple(sorted(common)) if common else None
        if shared is not None and len(sets - {shared}) == 1:
            # "randomized to 12 or 6 months of trastuzumab with docetaxel" + "All patients received FEC"
            sets = sets - {shared}
        if len(sets) == 1:
            wanted = next(iter(sets))
            first = next(g for c in contexts for g in groups.get(c.view.sentence.index, []) if _drug_key(g) == wanted)
            study.drugs, study.drugs_rule = regimen_drugs(first), "regimen.methods_agree"



def _drug_key(group: list[Mention]) -> tuple[str, ...]:
    """A regimen's drugs in an order-free form, to tell regimens apart."""
    return tuple(sorted(regimen_drugs(group)))


# ---------------------------------------------------------------- arms


def study_of(model: StudyModel, c: SentenceContext) -> Study | None:
    """The study a sentence speaks of: the one current at it; with none current (Background, or
    a paragraph left open by a sentence naming several studies), the paper's own study only if
    it is unnamed and the sentence is not Background: a paper about its own analysis of named
    trials keeps speaking of that analysis."""
    if c.current is not None:
        return model.named(c.current)
    primary = model.primary
    return primary if primary is not None and primary.name is None and not c.background else None


def label_ids(ids_text: str) -> frozenset[str]:
    return frozenset(i for i in ID_SPLIT.split(ids_text.strip()) if i)


def group_labels(view: SentenceView, known_ids: frozenset[str] = frozenset(), grouped: bool | None = None):
    """(start, end, word, ids) of the labelled groups of a sentence, absolute offsets; bare
    "(A+B" only where the document has labelled groups with those letters. ``grouped``: the
    sentence's GROUP_CUE test, if made already."""
    found = []
    if grouped if grouped is not None else may_hold_group(view.lowered):
        for m in GROUP_LABEL.finditer(view.text):
            found.append((view.start + m.start(), view.start + m.end(), m.group("word").lower(), label_ids(m.group("ids"))))
    if not known_ids or "(" not in view.text:
        return found
    for m in BARE_IDS.finditer(view.text):
        ids = label_ids(m.group("ids"))
        if ids <= known_ids and not any(a <= view.start + m.start() < b for a, b, _, _ in found):
            found.append((view.start + m.start("ids"), view.start + m.end("ids"), "cohort", ids))
    return sorted(found)


def _arm_key(word: str, ids: frozenset[str]) -> str:
    return f"{_group_kind(word)}:{'+'.join(sorted(ids))}"


def _group_kind(word: str) -> str:
    return {"arms": "arm", "groups": "group", "cohorts": "cohort", "parts": "part", "strata": "stratum"}.get(word, word)


def _label_text(word: str, ids: frozenset[str]) -> str:
    kind = _group_kind(word)
    return f"{kind}s {'+'.join(sorted(ids))}" if len(ids) > 1 else f"{kind} {next(iter(ids))}"


def _arms(model: StudyModel, contexts: list[SentenceContext], groups, text: str) -> None:
    known_ids = frozenset(i for c in contexts if c.grouped
                          for m in GROUP_LABEL.finditer(c.view.text) for i in label_ids(m.group("ids")))
    crossover_target = _crossover_target(contexts, groups)
    doses = _compared_doses(contexts)
    for c in contexts:
        study = c.study
        if study is None:
            continue
        view = c.view
        for start, end, word, ids in group_labels(view, known_ids, c.grouped):
            crossover = bool(CROSSOVER.search(text[max(view.start, start - 30) : start]))
            key = _arm_key(word, ids) + (":crossover" if crossover else "")
            arm = study.arm(key)
            if arm is None:
                arm = Arm(key=key, label=_label_text(word, ids) + (" crossover" if crossover else ""),
                          kind="crossover" if crossover else "cohort", ids=ids, start=start, end=end,
                          rule="arm.crossover" if crossover else "arm.group_label")
                if crossover and crossover_target:
                    arm.drugs, arm.drugs_rule = crossover_target, "regimen.crossover_target"
                study.arms.append(arm)
            if arm.drugs is None and not crossover:
                drugs = _regimen_defined_for(view, start, end, groups.get(view.sentence.index, []))
                if drugs:
                    arm.drugs, arm.drugs_rule = drugs, "regimen.defined_for_group"
            _size_around(arm, view, start, end)
        for m in DOSE.finditer(view.text) if doses else ():
            dose = dose_label(m)
            if dose not in doses:
                continue
            start, end = view.start + m.start(), view.start + m.end()
            key = f"dose:{dose}"
            arm = study.arm(key)
            if arm is None:
                arm = Arm(key=key, label=dose, kind="dose", ids=frozenset({dose}), start=start, end=end, rule="arm.dose_compared")
                arm.drugs, arm.drugs_rule = study.drugs, "regimen.study" if study.drugs else None
                study.arms.append(arm)
            _size_around(arm, view, start, end)
        _regimen_arms(study, c, groups, text)
    for study in model.studies:
        for arm in study.arms:
            if arm.drugs is None and arm.kind in ("cohort",) and study.drugs:
                arm.drugs, arm.drugs_rule = study.drugs, "regimen.study"


def dose_label(m: re.Match) -> str:
    return f"{m.group('dose').replace('·', '.')} {m.group('unit')}"


def _compared_doses(contexts: list[SentenceContext]) -> set[str]:
    """Doses the text compares: two or more of one unit joined by "or", "and", "vs" in a sentence."""
    compared = set()
    for c in contexts:
        if "mg" not in c.view.text or not DOSE_COMPARISON.search(c.view.text):
            continue
        found = list(DOSE.finditer(c.view.text))
        for a, b in zip(found, found[1:]):
            if a.group("unit") == b.group("unit") and dose_label(a) != dose_label(b) and DOSE_COMPARED.match(c.view.text[a.end() : b.start()]):
                compared |= {dose_label(a), dose_label(b)}
    return compared


def dose_arm_for_phrase(study: Study, phrase: str) -> Arm | None:
    """"the lower dose" / "the higher dose" -> the dose arm with the smallest / largest dose."""
    doses = [a for a in study.arms if a.kind == "dose"]
    if len(doses) < 2:
        return None
    value = lambda a: float(a.label.split()[0])
    return min(doses, key=value) if phrase.lower().startswith("low") else max(doses, key=value)


def _regimen_defined_for(view: SentenceView, start: int, end: int, found: list[list[Mention]]) -> list[str] | None:
    """"Cohorts A and B: X + Y", "cohort A received X": the regimen right after the label; "X given
    without Y (cohort C)": the regimen right before a bracketed label."""
    after = view.text[end - view.start :]
    if DEFINES_REGIMEN.match(after):
        stop = re.search(r"[;.]|\bcross", after)
        limit = end + (stop.start() if stop else len(after))
        following = [g for g in found if end <= min(m.start for m in g) < limit]
        if following:
            return regimen_drugs(min(following, key=lambda g: min(m.start for m in g)))
    before = view.text[: start - view.start]
    if before.rstrip().endswith("("):
        opening = start - (len(before) - len(before.rstrip())) - 1
        preceding = [g for g in found if 0 <= opening - max(m.end for m in g) <= 40]
        if preceding:
            return regimen_drugs(max(preceding, key=lambda g: max(m.end for m in g)))
    return None


def _crossover_target(contexts, groups) -> list[str] | None:
    for c in contexts:
        low = c.view.lowered
        for m in CROSSOVER_TO.finditer(c.view.text) if holds_any(low, CROSSOVER_GATE) and CROSSOVER_CUE.search(low) else ():
            at = c.view.start + m.end()
            after = [g for g in groups.get(c.view.sentence.index, []) if min(x.start for x in g) >= at]
            if after:
                return regimen_drugs(min(after, key=lambda g: min(x.start for x in g)))
    return None


def _regimen_arms(study: Study, c: SentenceContext, groups, text: str) -> None:
    """The arms of a comparative design: the regimens of a title or Methods sentence that compares
    ("A plus B versus B alone", "compared X with the physician's choice of Y or Z")."""
    found = groups.get(c.view.sentence.index, [])
    if len(found) < 2 or not COMPARATIVE.search(c.view.text) or any(a.kind == "regimen" for a in study.arms):
        return
    if c.background:
        return
    if holds_any(c.view.lowered, ASSIGNED_CUES) and (to := ASSIGNED_TO.search(c.view.text)):
        found = [g for g in found if min(m.start for m in g) >= c.view.start + to.end()]
    # "the physician's choice of irinotecan or paclitaxel" is one arm of alternatives.
    merged: list[list[Mention]] = []
    choice = False
    for g in sorted(found, key=lambda g: min(m.start for m in g)):
        first = min(m.start for m in g)
        lead = text[max(c.view.start, first - 40) : first]
        if merged and choice and re.fullmatch(r"\s*(?:,|or|,\s*or)\s*", text[max(m.end for m in merged[-1]) : first]):
            merged[-1] = merged[-1] + g
            continue
        choice = bool(CHOICE_LEAD.search(lead))
        merged.append(g)
    if len({_drug_key(g) for g in merged}) < 2:
        return
    for g in merged:
        drugs = regimen_drugs(g)
        key = "regimen:" + "+".join(sorted(drugs))
        if study.arm(key) is None:
            start, end = min(m.start for m in g), max(m.end for m in g)
            classes = [m for m in g if m.label == "CLASS"]
            spans = {(m.start, m.end) for m in classes}
            study.arms.append(Arm(key=key, label=_regimen_label(g, text, _shortest_spellings([c])), kind="regimen", ids=frozenset(drugs),
                                  drugs=drugs, drugs_rule="regimen.arm", start=start, end=end, rule="arm.compared_regimens",
                                  classes=frozenset(m.canonical for m in classes),
                                  class_only=bool(classes) and all((m.start, m.end) in spans for m in g if m.label != "CLASS")))


def _arm_terms(model: StudyModel, groups) -> None:
    """Class words and abbreviations that name one regimen arm ("CT: 63%, HT: 58%" where the arms
    were "CT (EC-T)" and "HT (exemestane)"; "the CT group" where the arms were "CT or CT + ZOL"):
    the one arm written with that class, else the one arm written as that class alone."""
    spellings: dict[str, str] = {}
    for found in groups.values():
        for g in found:
            for m in g:
                if m.label == "CLASS":
                    spellings.setdefault(m.text, m.canonical)
    if not spellings:
        return
    for study in model.studies:
        arms = [a for a in study.arms if a.kind == "regimen"]
        if len(arms) < 2 or not any(a.classes for a in arms):
            continue
        for word, name in spellings.items():
            holding = [a for a in arms if name in a.classes]
            alone = [a for a in holding if a.class_only and a.classes == {name}]
            chosen = holding if len(holding) == 1 else alone
            if len(chosen) == 1:
                study.arm_terms[word] = chosen[0].key


def _regimen_label(group: list[Mention], text: str, spellings: dict[str, str]) -> str:
    """An arm's label as written ("irinotecan or paclitaxel"); a one-drug arm by the drug's
    shortest spelling in the document ("T-DXd" for trastuzumab deruxtecan)."""
    drugs = {m.canonical for m in group if m.label in ("DRUG", "BACKBONE")}
    if len(drugs) == 1:
        return spellings.get(next(iter(drugs)), next(iter(drugs)))
    start, end = min(m.start for m in group), max(m.end for m in group)
    span = re.sub(r"\s*[(\[][^()\[\]]*[)\]]", "", text[start:end])
    return " ".join(span.split())


def _shortest_spellings(contexts) -> dict[str, str]:
    shortest: dict[str, str] = {}
    for c in contexts:
        for m in c.view.drugs:
            if m.canonical not in shortest or len(m.text) < len(shortest[m.canonical]):
                shortest[m.canonical] = m.text
    return shortest


# ---------------------------------------------------------------- sizes


def _size_around(arm: Arm, view: SentenceView, start: int, end: int) -> None:
    if arm.size is not None:
        return
    after = SIZE_AFTER_LABEL.match(view.text[end - view.start :])
    if after:
        n = int(after.group("a") or after.group("b"))
        arm.size = Size(n, "group", end, end + after.end(), view.text[end - view.start : end - view.start + after.end()].strip(), "size.after_label")
        return
    before = SIZE_BEFORE_LABEL.search(view.text[max(0, start - view.start - 60) : start - view.start])
    if before:
        offset = max(0, start - view.start - 60)
        n = int(before.group("n"))
        a = view.start + offset + before.start()
        arm.size = Size(n, "group", a, start, view.text[a - view.start : start - view.start].strip(), "size.before_label")


_NUMBER_WORD_LOW = re.compile(rf"\b{NUMBER_WORD.replace('(?i:', '(?:')}")  # in the lower-cased text


def sentence_sizes(c: SentenceContext) -> list[Size]:
    """The patient numbers a sentence states with what they count, in order (read once per
    sentence and kept with its context: the model and the attribution both ask)."""
    if c.sizes is None:
        c.sizes = _read_sizes(c.view)
    return c.sizes


# Tests in the lower-cased text that rule patterns out before they run (each is a necessary
# part of the matches it gates): all but SIZE_VERB_NOUN hold a size verb (most sentences hold
# none: tested first); SIZE_OF, SIZE_NOUN_VERB and SIZE_VERB_NOUN a count right before a
# patient noun; SIZE_BARE_VERB a count right before an auxiliary.
AUXILIARIES = ("were", "was", "been", "could be")
_LOW_NOUN = alternation(w.lower() for w in _C["patient_nouns"])
_NOUN_WORDS = covering(_C["patient_nouns"])
_DIGIT_NOUN_CUE = DigitPattern(rf"\d\s+(?:[\w+-]+\s+)?(?:{_LOW_NOUN})")
_DIGIT_AUXILIARY_CUE = DigitPattern(r"\d\s+(?:were|was|had\s+been|could\s+be)\s")
_VERB_CUE = re.compile(alternation(k.lower() for k in _C["size_kinds"]))
_VERB_GATE = word_gate(_C["size_kinds"])


def _read_sizes(view: SentenceView) -> list[Size]:
    """The sizes of a sentence, each pattern run only where its gates pass."""
    text, base, low = view.text, view.start, view.lowered
    verbs = holds_any(low, _VERB_GATE) and _VERB_CUE.search(low) is not None
    digit = has_digit(text)
    digit_noun = digit and _DIGIT_NOUN_CUE.of(low).search(low) is not None
    if not verbs and not digit_noun:
        return []  # most sentences
    number_word = verbs and holds_any(low, NUMBER_GATE) and _NUMBER_WORD_LOW.search(low) is not None
    count_noun = digit_noun or (number_word and holds_any(low, _NOUN_WORDS))
    # SIZE_BARE_VERB: a count right before its auxiliary
    auxiliaries = (verbs and holds_any(low, AUXILIARIES)
                   and (digit and _DIGIT_AUXILIARY_CUE.of(low).search(low) is not None or number_word))
    sizes: list[Size] = []
    of, noun_verb, bare_verb = (SIZE_OF, SIZE_NOUN_VERB, SIZE_BARE_VERB) if number_word else \
        (SIZE_OF_DIGITS, SIZE_NOUN_VERB_DIGITS, SIZE_BARE_VERB_DIGITS)
    for pattern, rule, cued in ((of, "size.of_n", count_noun and verbs), (noun_verb, "size.n_verb", count_noun and verbs),
                                (bare_verb, "size.and_n_verb", auxiliaries), (SIZE_VERB_NOUN, "size.verb_n", digit_noun)):
        if not cued:
            continue
        for m in pattern.finditer(text) if pattern is not SIZE_VERB_NOUN else _verb_noun_matches(text):
            n = number_of(m.group("n"))
            if n is None or any(s.start <= base + m.start("n") < s.end for s in sizes):
                continue
            verb = (m.groupdict().get("verb") or "treated").lower()
            kind = SIZE_KIND.get(re.sub(r"\s+", " ", verb), "treated")
            sizes.append(Size(n, kind, base + m.start(), base + m.end(), m.group(0).strip(), rule))
            also = SAME_COUNT_ALSO.match(text[m.end() :])
            if also:
                kind2 = SIZE_KIND.get(re.sub(r"\s+", " ", also.group("verb").lower()), "treated")
                sizes.append(Size(n, kind2, base + m.end(), base + m.end() + also.end(), also.group(0).strip(), rule + ".and"))
    return sorted(sizes, key=lambda s: s.start)


def _verb_noun_matches(text: str):
    """``SIZE_VERB_NOUN.finditer(text)``, each match found from its lead right before its count."""
    end = 0
    for count in COUNT_OF_PATIENTS.of(text).finditer(text):
        at = count.start()
        if at < end:
            continue
        lead = LEAD_BEFORE_COUNT.search(text, max(end, at - LEAD_REACH), at)
        m = SIZE_VERB_NOUN.match(text, lead.start()) if lead else None
        if m:
            yield m
            end = m.end()


def _sizes(model: StudyModel, contexts: list[SentenceContext]) -> None:
    """The size of each study: the most specific count (evaluable, treated, enrolled) stated
    where the study is current; screened counts are never a study's size."""
    for c in contexts:
        study = c.study
        if study is None:
            continue
        for size in sentence_sizes(c):
            if size.kind not in SIZE_ORDER:
                continue
            if _inside_group_label(size, c.view):
                continue
            if study.size is None or SIZE_ORDER[size.kind] < SIZE_ORDER[study.size.kind]:
                study.size = size


def _inside_group_label(size: Size, view: SentenceView) -> bool:
    """A count that is a group's ("53 entered cohort A") is not the study's."""
    rest = view.text[size.end - view.start : size.end - view.start + 20]
    return bool(re.match(rf"^\s*(?:the\s+)?(?i:{GROUP_WORD})\b", rest))
