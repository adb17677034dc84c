"""HER2 criteria, by regular expression over a sentence, then settled over the document.

HER2 criteria follow the ASCO/CAP 2018 HER2 testing guideline vocabulary (IHC 0/1+/2+/3+,
ISH HER2:CEP17 ratio >= 2.0 with copy number >= 4.0; HER2-low = IHC 1+ or 2+ without
amplification) and the HERACLES criteria for colorectal cancer (IHC 3+ in > 50% of cells, or
IHC 2+ with HER2:CEP17 >= 2 in > 50% of cells).

A status stated with no method ("HER2-positive") gets method "status"; when the same phrase says
how it was tested ("HER2-positive by FISH", "IHC-confirmed HER2 overexpression") it gets that
method instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline.extract.context import SentenceView
from pipeline.extract.marker_common import DISEASE_NEXT, HER2_AT, SIGN_END, SPACED
from pipeline.extract.vocabulary import her2_vocabulary, words_pattern
from pipeline.records import Her2Record

# ---------------------------------------------------------------------------- HER2 names
# "human epidermal growth factor receptor 2", "... receptor-2", "... receptor type 2",
# "human epidermal growth factor 2", "epidermal growth factor receptor (HER)-2"
HER2_FULL = (
    r"(?i:(?:human\s+)?epidermal\s+growth\s+factor(?:\s+receptor)?(?:\s*\(HER\))?[\s-]*(?:type[\s-]*)?2)(?![\d.,]?\d)"
)
# the acronym may follow the full name in brackets, and "/neu" may trail: "... 2 (HER2)/neu-negative"
HER2_NAME = (
    rf"(?:{HER2_FULL}(?:\s*\(\s*{HER2_AT}\s*\))?"
    rf"|{HER2_AT}(?:\s*\((?:also known as |formerly )?[A-Za-z0-9/ ]{{1,20}}\))?)(?:/neu)?"
)

# ---------------------------------------------------------------------------- HER2 methods and results
# The words come from pipeline/data/her2.json (pipeline.extract.vocabulary); the patterns that
# join them are built once, on first use.


@dataclass(frozen=True)
class Her2Patterns:
    method_word: str  # any method: "IHC", "fluorescence in situ hybridisation (FISH)", "ctDNA"
    ish_acronym: str  # "FISH", "ISH", ...
    ish_long: str  # "in situ hybridisation", "silver in situ hybridization", ...
    method_after: re.Pattern
    method_before: re.Pattern
    method_of_sentence: re.Pattern
    status: re.Pattern
    status_before: re.Pattern
    negation_before: re.Pattern
    negation_after: re.Pattern
    ihc_ish: re.Pattern
    ish_result: re.Pattern
    result_by_method: re.Pattern
    copy_number: re.Pattern
    ngs: re.Pattern
    ihc_context: re.Pattern


@lru_cache(maxsize=1)
def patterns() -> Her2Patterns:
    vocab = her2_vocabulary()
    ish = vocab.methods_of_kind("in situ")
    ish_acronym = words_pattern([a for m in ish for a in m.acronyms], as_written=True)
    ish_long = words_pattern([n for m in ish for n in m.names])
    others = [m for m in vocab.methods.values() if m.kind != "in situ"]
    method_word = (rf"(?:{ish_long}(?:\s*\({ish_acronym}\))?|{ish_acronym}"
                   + "".join(f"|{words_pattern(m.acronyms, as_written=True)}|{words_pattern(m.names)}" for m in others)
                   + ")")
    result_word = words_pattern([f for forms in vocab.results.values() for f in forms])
    before = vocab.results_before
    first_before = words_pattern([f for forms in before.values() for f in forms])
    second_before = words_pattern(before["overexpression"] + before["amplified"])
    ish_word = words_pattern(vocab.ish_results)
    ngs = vocab.methods["NGS"]
    ihc = vocab.methods["IHC"]
    return Her2Patterns(
        method_word=method_word,
        ish_acronym=ish_acronym,
        ish_long=ish_long,
        # "HER2-positive patients confirmed by FISH", "HER2 amplification (by NGS)", "HER2 overexpression on IHC"
        method_after=re.compile(
            r"\s*\(?\s*(?:\w+\s+){0,2}?"
            r"(?:(?:as\s+)?(?:confirmed|determined|assessed|defined|tested|measured|detected|evaluated|documented|scored)\s+"
            r"(?:\w+ly\s+)?)?"
            r"(?:by|using|via|on|per)\s+(?:(?:central(?:ly)?|local(?:ly)?|a|an|the)\s+)*"
            rf"(?P<method>{method_word})"
        ),
        # "FISH-confirmed HER2-positive", "IHC-determined HER2 overexpression" (text just before the status)
        method_before=re.compile(
            rf"(?P<method>{method_word})[\s-]+(?:confirmed|determined|defined|assessed|detected|proven|tested)[\s-]+$"
        ),
        # the sentence itself says HER2 was tested with one method:
        # "immunohistochemistry was used to identify ... HER2 overexpression", "HER2 was assessed by IHC"
        method_of_sentence=re.compile(
            rf"{method_word}\w*\s+(?:\w+\s+){{0,2}}(?:was|were)\s+(?:used|performed)\s+to\s+"
            r"(?:identify|detect|determine|assess|evaluate|measure)"
            rf"|(?:assessed|determined|detected|measured|evaluated|examined|analy[sz]ed|tested)\s+"
            rf"(?:(?:centrally|locally)\s+)?(?:by|using|with)\s+{method_word}",
        ),
        # "HER2-positive", "HER2 gene amplification", "HER2 status was negative", "HER2+", "HER2(-)",
        # "HER2-positive or -negative"
        status=re.compile(
            rf"{HER2_NAME}(?:(?P<sign>{PLUS}|{MINUS})"
            r"|(?:[\s-]*(?:gene|protein|oncogene|receptor))?(?:\s+(?:status|expression))?"
            r"(?:\s+(?:is|was|were|are|being))?(?P<not>\s+not)?[\s-]*"
            rf"(?P<word>{result_word})(?![A-Za-z]))"
            rf"(?:\s*(?:or|and|and/or|vs\.?|versus|/)\s*-?\s*(?P<second>{result_word})(?![A-Za-z]))?",
        ),
        # the result word first: "overexpression of HER2", "tumours overexpressing HER2", "amplified HER2 gene",
        # "low HER2 expression", "negative for HER2"
        status_before=re.compile(
            rf"(?<![A-Za-z])(?P<word>{first_before})"
            rf"(?:\s+(?:and|or|and/or)\s+(?P<second>{second_before}))?"
            rf"\s+(?:of\s+)?(?:the\s+)?{HER2_NAME}"
            r"(?P<tail>(?:[\s-]*(?:gene|protein|oncogene|receptor))?(?:[\s-]+(?:expression|expressing))?)",
        ),
        # "without HER2 overexpression", "no HER2 amplification", "non-HER2-positive" -> negative
        negation_before=re.compile(
            rf"(?<!or )\b{words_pattern(vocab.negation_before)}\b[\s-]*(?:\w+[\s-]+)?$"
        ),
        # "HER2 amplification was not detected"
        negation_after=re.compile(rf"\s*(?:was|were|is|are)\s+{words_pattern(vocab.negation_after)}(?![A-Za-z])"),
        ihc_ish=re.compile(
            rf"\bIHC\s*2\s?\+\s*(?:/|and|with|plus|&)?\s*(?:{ish_acronym})\s*(?:\+|positive|-positive|amplified)"
        ),
        # "FISH-positive", "ISH+", "FISH non-amplified", "ISH-", "fluorescence in situ hybridization (FISH)-positive"
        ish_result=re.compile(
            rf"(?P<method>{ish_long}(?:\s*\({ish_acronym}\))?|\b{ish_acronym})"
            rf"(?:[\s-]*(?P<word>{ish_word})(?![A-Za-z])"
            rf"|(?P<sign>{PLUS}|{MINUS}))"
        ),
        # "... or positive by FISH" (the result word, then the method), in a sentence about HER2
        result_by_method=re.compile(
            rf"(?<![\w-])(?P<word>{ish_word})\s+(?:by|on)\s+(?P<method>{ish_long}|{ish_acronym})"
        ),
        copy_number=re.compile(
            rf"\b{words_pattern(vocab.copy_number)}\s*(?:\([A-Z]+\)\s*)?[:=]?\s*(?:of\s*)?(≥|>=|>|≤|<)?\s*(\d+(?:\.\d+)?)"
        ),
        ngs=re.compile(rf"\b(?:{words_pattern(ngs.acronyms, as_written=True)}|{words_pattern(ngs.names)}"
                       r"|(?i:sequencing))\b"),
        ihc_context=re.compile(rf"\b(?:{words_pattern(ihc.acronyms, as_written=True)}|{words_pattern(ihc.names)})\b"),
    )


def _method_name(surface: str) -> str:
    """Canonical method of a ``method_word`` match ("in situ hybridisation (FISH)" -> FISH)."""
    bracket = re.search(r"\((\w+)\)$", surface)
    vocab = her2_vocabulary()
    return vocab.method_of(bracket.group(1) if bracket else surface.strip()) or "ISH"


def _result_of(word: str) -> str:
    if word in ("+", "-"):
        return "positive" if word == "+" else "negative"
    return her2_vocabulary().result_of(word)


# a sign after the name: "HER2+", "HER2(+)", "HER2-", "HER2(-)" (see marker_common.SIGN_END)
PLUS = rf"(?:\+|\s?\(\+\))(?![\w+])|{SPACED}\+{DISEASE_NEXT}"
MINUS = rf"(?:-|−|–|\s?\([-−]\)){SIGN_END}|{SPACED}[−-]{DISEASE_NEXT}"

# ---------------------------------------------------------------------------- HER2 scores
# an IHC score; a bare digit only when a range follows ("1-3+"); IHC 0 has no plus sign
SCORE_ITEM = r"(?:[0-3]\s?\+|[0-3](?=\s*(?:-|–|to|through)\s*[0-3]\s?\+)|0(?![\d.,%+\w]))"
SCORE_JOIN = r"\s*(?:/|,|or|and|to|through|-|–)\s*(?:IHC\s*)?"
IHC_SCORE = re.compile(
    rf"(?:\bIHC|(?i:immunohistochemi(?:stry|cal(?:ly)?))|{HER2_AT})"
    r"\s*(?:[\[(]\s*IHC\s*[\])]\s*)?(?:IHC\s*)?(?:(?:score[sd]?|scoring)\s*(?:of\s*|as\s*)?)?[:=]?\s*"
    rf"(?P<scores>{SCORE_ITEM}(?:{SCORE_JOIN}{SCORE_ITEM})*)(?!\d)",
)
# a list or range of scores standing alone, read as IHC when followed by the method
# ("3+ by IHC", "ranging from 1+ to 3+ on immunohistochemistry") or in a sentence about HER2 testing
FREE_SCORES = re.compile(
    rf"(?<![\w+.])(?P<scores>{SCORE_ITEM}(?:{SCORE_JOIN}{SCORE_ITEM})*)(?!\d)"
    r"(?P<by>\s*(?:by|on|with|using|at)\s+(?:IHC|(?i:immunohistochemi\w*)))?"
)
IHC_TESTING = re.compile(r"\bIHC\b|immunohisto|\bscor(?:e|es|ed|ing)\b", re.IGNORECASE)
NOT_HER2_SCALE = re.compile(r"(?:\b(?i:grade|stage)\s*|\b[GTN]|[≥>]\s*)$")  # "grade 2+", "T3+" are not IHC scores
RANGE_JOIN = re.compile(r"\d\s?\+?\s*(?:-|–|to|through)\s*\d")
HER2_ANYWHERE = re.compile(rf"{HER2_AT}|{HER2_FULL}")
RATIO = re.compile(
    rf"{HER2_AT}\s*[:/]\s*CEP\s*17\s*(?:ratio\s*)?(?:of\s*)?(≥|>=|>|≤|<|=|at\s+least|above)?\s*(\d+(?:\.\d+)?)"
    r"(\s*or\s+(?:more|greater|higher|above))?",
    re.IGNORECASE,
)

# Every pattern above needs one of these: a HER2 name, IHC or immunohistochemistry, an ISH
# acronym or "in situ". Sentences without any (most) are skipped at the cost of one search
# (the look-ahead of the first letters lets re skip most positions at once).
HER2_TRIGGER = re.compile(r"(?=[hHeEiI])(?:(?i:her[- ]?2|erbb|epidermal\s+growth|immunohisto|in[\s-]+situ)|IHC|ISH)")
# Words (lower case) one of which is in every case-insensitive match of HER2_TRIGGER: looked
# for in the lower-case text (SentenceView.lowered), they rule out most sentences much faster.
HER2_CUES = ("her2", "her-2", "her 2", "erbb", "epidermal", "immunohisto", "situ")

Found = tuple[int, int, str, str, str | None, str]  # start, end, method, result, threshold, rule


def has_her2_cue(text: str, low: str) -> bool:
    """Whether ``text`` holds "IHC", "ISH" or, in ``low`` (its ``lowered`` form), one of HER2_CUES.
    Plain substrings: a document holds one when any of its sentences does, so analyse tests the
    whole text once and skips extract_her2 for most documents."""
    return "IHC" in text or "ISH" in text or any(cue in low for cue in HER2_CUES)


def _mentions_her2(view: SentenceView) -> bool:
    """Whether HER2_TRIGGER occurs in the sentence (see HER2_CUES)."""
    return has_her2_cue(view.text, view.lowered) and HER2_TRIGGER.search(view.text) is not None


def extract_her2(view: SentenceView) -> list[Her2Record]:
    text = view.text
    if not _mentions_her2(view):
        return []
    p = patterns()
    found: list[Found] = []
    found += _ihc_scores(text)
    # The ISH patterns need an ISH acronym or "in situ", the ratio "CEP17": most sentences name neither.
    ish = "ISH" in text or "situ" in view.lowered
    for m in p.ihc_ish.finditer(text) if ish else ():
        found.append((m.start(), m.end(), "IHC", "2+", None, "her2.ihc_ish"))
        found.append((m.start(), m.end(), _method_name(re.search(p.ish_acronym, m.group(0)).group(0)), "positive",
                      None, "her2.ihc_ish"))
    for m in p.ish_result.finditer(text) if ish else ():
        if m.group("word"):
            result = _result_of(m.group("word"))
        else:
            result = "positive" if "+" in m.group("sign") else "negative"
        found.append((m.start(), m.end(), _method_name(m.group("method")), result, None, "her2.ish_result"))
    if ish and HER2_ANYWHERE.search(text):
        for m in p.result_by_method.finditer(text):
            found.append((m.start(), m.end(), _method_name(m.group("method")), _result_of(m.group("word")), None,
                          "her2.result_by_method"))
    for m in RATIO.finditer(text) if "cep" in view.lowered else ():
        op = "≥" if m.group(3) or re.match(r"at|above", m.group(1) or "", re.I) else m.group(1) or ""
        op = {">=": "≥", "=": ""}.get(op, op)
        threshold = f"HER2:CEP17 {op} {m.group(2)}".replace("  ", " ")
        method = next((g for g in ("FISH", "CISH", "SISH") if g in text), "ISH")
        found.append((m.start(), m.end(), method, "amplified", threshold.replace("≥", ">="), "her2.ratio"))
    found += _statuses(text)
    return [
        Her2Record(start=view.start + start, end=view.start + end, text=text[start:end], sentence=view.sentence.index,
                   rule=rule, method=method, result=result, threshold=threshold)
        for start, end, method, result, threshold, rule in found
    ]


def _ihc_scores(text: str) -> list[Found]:
    """IHC scores, lists of scores ("2+ or 3+") and ranges ("1+ to 3+", "1-3+")."""
    found: list[Found] = []
    matches = [m for m in IHC_SCORE.finditer(text)
               if re.search(HER2_AT + r"|\bIHC\b|immunohisto", text[max(0, m.start() - 40): m.end()], re.I)]
    about_testing = HER2_ANYWHERE.search(text) and IHC_TESTING.search(text)
    for m in FREE_SCORES.finditer(text):
        if "+" not in m.group("scores") or any(o.start() <= m.start() < o.end() for o in matches):
            continue
        if NOT_HER2_SCALE.search(text[max(0, m.start() - 8): m.start()]):
            continue
        if m.group("by") or about_testing:
            matches.append(m)
    for m in matches:
        rule = "her2.ihc_score" if m.re is IHC_SCORE else "her2.free_score"
        scores = m.group("scores")
        digits = re.findall(r"[0-3]", scores)
        if RANGE_JOIN.search(scores):  # a range is one criterion, written as the text writes it
            found.append((m.start(), m.end(), "IHC", re.sub(r"\s+", " ", scores.strip()), None, "her2.ihc_range"))
        elif sorted(set(digits)) == ["1", "2"]:  # IHC 1+ or 2+: the HER2-low band
            found.append((m.start(), m.end(), "IHC", "low", "IHC 1+/2+", "her2.ihc_low"))
        else:
            for d in dict.fromkeys(digits):
                found.append((m.start(), m.end(), "IHC", d if d == "0" else f"{d}+", None, rule))
    return found


def _statuses(text: str) -> list[Found]:
    """HER2 statuses written with words or signs, with the method when the phrase names one."""
    p = patterns()
    sentence_method = p.method_of_sentence.search(text)
    if sentence_method:
        names = {_method_name(m.group(0)) for m in re.finditer(p.method_word, text)}
        sentence_method = names.pop() if len(names) == 1 else None  # several methods: which one is unclear
    found: list[Found] = []
    hits = []  # (match, result words, rule)
    for m in p.status.finditer(text):
        if m.group("sign"):
            words = ["+" if "+" in m.group("sign") else "-"]
        else:
            words = [m.group("word")] + ([m.group("second")] if m.group("second") else [])
        hits.append((m, words, "her2.status"))
    for m in p.status_before.finditer(text):
        word = m.group("word").lower()
        if word == "low" and "express" not in m.group("tail"):
            continue  # "low" before HER2 only in "low HER2 expression"
        hits.append((m, [m.group("word")] + ([m.group("second")] if m.group("second") else []), "her2.status_before"))
    for m, words, rule in hits:
        negated = ((m.re is p.status and m.group("not"))
                   or p.negation_before.search(text[max(0, m.start() - 25): m.start()])
                   or p.negation_after.match(text, m.end()))
        method = _method_near(text, m) or sentence_method or "status"
        for word in words:
            result = _result_of(word)
            if negated and result in ("positive", "overexpression", "amplified"):
                result = "negative"
            threshold = None
            if method == "status" and result == "amplified" and p.ngs.search(text):
                method = "NGS"
            if method == "NGS":
                cn = p.copy_number.search(text, m.end(), min(len(text), m.end() + 60))
                if cn:
                    threshold = f"copy number {cn.group(1) or ''}{cn.group(2)}".replace("number ≥", "number >=")
            if method == "status" and word.lower() == "diffuse positive" and p.ihc_context.search(text):
                method = "IHC"  # "immunohistochemistry showed ... HER2 diffuse positive"
            found.append((m.start(), m.end(), method, result, threshold, rule))
    return found


def _method_near(text: str, m: re.Match) -> str | None:
    p = patterns()
    after = p.method_after.match(text, m.end())
    if after and not re.search(r"[;.]", text[m.end(): after.start("method")]):
        return _method_name(after.group("method"))
    before = p.method_before.search(text[max(0, m.start() - 40): m.start()])
    if before:
        return _method_name(before.group("method"))
    return None


def _cannot_show(method: str) -> set[str]:
    """Results a method does not give: IHC sees protein, not gene copies; ISH and sequencing see copies."""
    kind = her2_vocabulary().methods[method].kind
    return {"amplified"} if kind == "protein" else {"overexpression"}


def settle_her2(views: list[SentenceView], records: list) -> list:
    """Document-level view of the HER2 criteria.

    A bare status stands for a criterion only when the document never says how HER2 was tested:
    if one sentence says HER2 was assessed with a single method ("HER2 was determined by IHC"),
    the document's bare statuses are results of that method; and a bare status is dropped when a
    method already gives the same result ("HER2-positive ... confirmed by FISH" covers a later
    "HER2-positive"; IHC 3+ is what "HER2 overexpression" means).
    """
    her2 = [r for r in records if r.type == "her2"]
    if not any(r.method == "status" for r in her2):
        return records  # only bare statuses are settled
    p = patterns()
    declared = set()
    for view in views:
        if _mentions_her2(view) and HER2_ANYWHERE.search(view.text) and p.method_of_sentence.search(view.text):
            declared |= {_method_name(m.group(0)) for m in re.finditer(p.method_word, view.text)}
    if len(declared) == 1:
        method = declared.pop()
        for r in her2:
            if r.method == "status" and r.result not in _cannot_show(method):
                r.method = method
    # a negative result is left alone: "ISH-negative" inside a HER2-low definition is not "HER2-negative"
    tested = {r.result for r in her2 if r.method != "status"} - {"negative"}
    if "3+" in tested:
        tested.add("overexpression")
    return [r for r in records if not (r.type == "her2" and r.method == "status" and r.result in tested)]
