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

from pipeline.extract.context import SentenceView
from pipeline.extract.marker_common import DISEASE_NEXT, HER2_AT, NEGATION_AFTER, SIGN_END, SPACED
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

# ---------------------------------------------------------------------------- HER2 methods
ISH_ACRONYM = r"(?:FISH|CISH|SISH|DISH|ISH)"
ISH_LONG = r"(?i:(?:(?:fluorescen(?:ce|t)|chromogenic|silver|dual(?:[- ]probe)?)\s+)?in[\s-]+situ\s+hybridi[sz]ation)"
METHOD_WORD = (
    rf"(?:{ISH_LONG}(?:\s*\({ISH_ACRONYM}\))?|{ISH_ACRONYM}|IHC|(?i:immunohistochemi\w*)"
    r"|NGS|(?i:next[- ]generation\s+sequencing)|ddPCR|(?i:droplet\s+digital\s+PCR)|ctDNA"
    r"|(?i:circulating\s+tumou?r\s+DNA))"
)


def _method_name(surface: str) -> str:
    """Canonical method of a METHOD_WORD match."""
    acronym = re.search(ISH_ACRONYM + r"(?=\)|$)", surface)
    if acronym:
        return acronym.group(0)
    low = surface.lower()
    if "situ" in low:
        for prefix, name in (("fluoresc", "FISH"), ("chromogen", "CISH"), ("silver", "SISH"), ("dual", "DISH")):
            if low.startswith(prefix):
                return name
        return "ISH"
    if low.startswith(("ihc", "immunohisto")):
        return "IHC"
    if low.startswith(("ngs", "next")):
        return "NGS"
    if low.startswith(("ddpcr", "droplet")):
        return "ddPCR"
    return "ctDNA"


# "HER2-positive patients confirmed by FISH", "HER2 amplification (by NGS)", "HER2 overexpression on IHC"
METHOD_AFTER = re.compile(
    r"\s*\(?\s*(?:\w+\s+){0,2}?"
    r"(?:(?:as\s+)?(?:confirmed|determined|assessed|defined|tested|measured|detected|evaluated|documented|scored)\s+"
    r"(?:\w+ly\s+)?)?"
    r"(?:by|using|via|on|per)\s+(?:(?:central(?:ly)?|local(?:ly)?|a|an|the)\s+)*"
    rf"(?P<method>{METHOD_WORD})"
)
# "FISH-confirmed HER2-positive", "IHC-determined HER2 overexpression" (text just before the status)
METHOD_BEFORE = re.compile(
    rf"(?P<method>{METHOD_WORD})[\s-]+(?:confirmed|determined|defined|assessed|detected|proven|tested)[\s-]+$"
)
# the sentence itself says HER2 was tested with one method:
# "immunohistochemistry was used to identify ... HER2 overexpression", "HER2 was assessed by IHC"
METHOD_OF_SENTENCE = re.compile(
    rf"{METHOD_WORD}\w*\s+(?:\w+\s+){{0,2}}(?:was|were)\s+(?:used|performed)\s+to\s+"
    r"(?:identify|detect|determine|assess|evaluate|measure)"
    rf"|(?:assessed|determined|detected|measured|evaluated|examined|analy[sz]ed|tested)\s+"
    rf"(?:(?:centrally|locally)\s+)?(?:by|using|with)\s+{METHOD_WORD}",
)

# ---------------------------------------------------------------------------- HER2 results
RESULT_WORD = (
    r"positive|positivity|co-?positive|negative|negativity|ultra-?low|low"
    r"|over-?express(?:ed|ing|ion|or|ers?)|amplified|amplification|non-?amplified|un-?amplified"
    r"|non-?over-?express(?:ed|ing|ion)|diffuse positive|zero|null"
)
RESULT_WORDS = {
    "positive": "positive", "positivity": "positive", "copositive": "positive", "co-positive": "positive",
    "+": "positive", "diffuse positive": "positive",
    "negative": "negative", "negativity": "negative", "-": "negative", "zero": "negative", "null": "negative",
    "low": "low", "ultralow": "low", "ultra-low": "low",
    "amplified": "amplified", "amplification": "amplified",
}


def _result_of(word: str) -> str:
    w = word.lower()
    if w in RESULT_WORDS:
        return RESULT_WORDS[w]
    if w.startswith(("non", "un")):
        return "negative"  # non-amplified, non-overexpressing
    if "express" in w:
        return "overexpression"
    return "positive"


# a sign after the name: "HER2+", "HER2(+)", "HER2-", "HER2(-)" (see marker_common.SIGN_END)
PLUS = rf"(?:\+|\s?\(\+\))(?![\w+])|{SPACED}\+{DISEASE_NEXT}"
MINUS = rf"(?:-|−|–|\s?\([-−]\)){SIGN_END}|{SPACED}[−-]{DISEASE_NEXT}"
# "HER2-positive", "HER2 gene amplification", "HER2 status was negative", "HER2+", "HER2(-)",
# "HER2-positive or -negative"
STATUS = re.compile(
    rf"{HER2_NAME}(?:(?P<sign>{PLUS}|{MINUS})"
    r"|(?:[\s-]*(?:gene|protein|oncogene|receptor))?(?:\s+(?:status|expression))?"
    r"(?:\s+(?:is|was|were|are|being))?(?P<not>\s+not)?[\s-]*"
    rf"(?P<word>{RESULT_WORD})(?![A-Za-z]))"
    rf"(?:\s*(?:or|and|and/or|vs\.?|versus|/)\s*-?\s*(?P<second>{RESULT_WORD})(?![A-Za-z]))?",
)
# the result word first: "overexpression of HER2", "tumours overexpressing HER2", "amplified HER2 gene",
# "low HER2 expression", "negative for HER2"
STATUS_BEFORE = re.compile(
    r"(?<![A-Za-z])(?P<word>over-?express(?:ion|es|ing|ed)?|amplification|amplified|(?i:positive|negative)\s+for|low)"
    r"(?:\s+(?:and|or|and/or)\s+(?P<second>over-?expression|amplification))?"
    rf"\s+(?:of\s+)?(?:the\s+)?{HER2_NAME}"
    r"(?P<tail>(?:[\s-]*(?:gene|protein|oncogene|receptor))?(?:[\s-]+(?:expression|expressing))?)",
)
# "without HER2 overexpression", "no HER2 amplification", "non-HER2-positive" -> negative
NEGATION_BEFORE = re.compile(
    r"(?:(?<!or )\bwithout|\bno|\bnot|\black(?:ing)?\s+of|\bnon|\babsence\s+of)\b[\s-]*(?:\w+[\s-]+)?$",
    re.IGNORECASE,
)

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
IHC_ISH = re.compile(rf"\bIHC\s*2\s?\+\s*(?:/|and|with|plus|&)?\s*(?:{ISH_ACRONYM})\s*(?:\+|positive|-positive|amplified)")
# "FISH-positive", "ISH+", "FISH non-amplified", "ISH-", "fluorescence in situ hybridization (FISH)-positive"
ISH_RESULT = re.compile(
    rf"(?P<method>{ISH_LONG}(?:\s*\({ISH_ACRONYM}\))?|\b{ISH_ACRONYM})"
    r"(?:[\s-]*(?P<word>(?i:positive|negative|amplified|amplification|non-?amplified|unamplified))(?![A-Za-z])"
    rf"|(?P<sign>{PLUS}|{MINUS}))"
)
# "... or positive by FISH" (the result word, then the method), in a sentence about HER2
RESULT_BY_METHOD = re.compile(
    r"(?<![\w-])(?P<word>positive|negative|amplified|non-?amplified)\s+(?:by|on)\s+"
    rf"(?P<method>{ISH_LONG}|{ISH_ACRONYM})"
)
HER2_ANYWHERE = re.compile(rf"{HER2_AT}|{HER2_FULL}")
RATIO = re.compile(
    rf"{HER2_AT}\s*[:/]\s*CEP\s*17\s*(?:ratio\s*)?(?:of\s*)?(≥|>=|>|≤|<|=|at\s+least|above)?\s*(\d+(?:\.\d+)?)"
    r"(\s*or\s+(?:more|greater|higher|above))?",
    re.IGNORECASE,
)
COPY_NUMBER = re.compile(
    r"\b(?:copy number|gene copy number|GCN|CN)\s*(?:\([A-Z]+\)\s*)?[:=]?\s*(?:of\s*)?(≥|>=|>|≤|<)?\s*(\d+(?:\.\d+)?)",
    re.IGNORECASE,
)
NGS = re.compile(r"\b(?:NGS|next[- ]generation sequencing|sequencing)\b", re.IGNORECASE)
IHC_CONTEXT = re.compile(r"\b(?:IHC|immunohistochemi\w*)\b", re.IGNORECASE)

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
    found: list[Found] = []
    found += _ihc_scores(text)
    # The ISH patterns need an ISH acronym or "in situ", the ratio "CEP17": most sentences name neither.
    ish = "ISH" in text or "situ" in view.lowered
    for m in IHC_ISH.finditer(text) if ish else ():
        found.append((m.start(), m.end(), "IHC", "2+", None, "her2.ihc_ish"))
        found.append((m.start(), m.end(), _method_name(re.search(ISH_ACRONYM, m.group(0)).group(0)), "positive",
                      None, "her2.ihc_ish"))
    for m in ISH_RESULT.finditer(text) if ish else ():
        if m.group("word"):
            result = _result_of(m.group("word"))
        else:
            result = "positive" if "+" in m.group("sign") else "negative"
        found.append((m.start(), m.end(), _method_name(m.group("method")), result, None, "her2.ish"))
    if ish and HER2_ANYWHERE.search(text):
        for m in RESULT_BY_METHOD.finditer(text):
            found.append((m.start(), m.end(), _method_name(m.group("method")), _result_of(m.group("word")), None,
                          "her2.ish"))
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
        scores = m.group("scores")
        digits = re.findall(r"[0-3]", scores)
        if RANGE_JOIN.search(scores):  # a range is one criterion, written as the text writes it
            found.append((m.start(), m.end(), "IHC", re.sub(r"\s+", " ", scores.strip()), None, "her2.ihc_range"))
        elif sorted(set(digits)) == ["1", "2"]:  # IHC 1+ or 2+: the HER2-low band
            found.append((m.start(), m.end(), "IHC", "low", "IHC 1+/2+", "her2.ihc_low"))
        else:
            for d in dict.fromkeys(digits):
                found.append((m.start(), m.end(), "IHC", d if d == "0" else f"{d}+", None, "her2.ihc_score"))
    return found


def _statuses(text: str) -> list[Found]:
    """HER2 statuses written with words or signs, with the method when the phrase names one."""
    sentence_method = METHOD_OF_SENTENCE.search(text)
    if sentence_method:
        names = {_method_name(m.group(0)) for m in re.finditer(METHOD_WORD, text)}
        sentence_method = names.pop() if len(names) == 1 else None  # several methods: which one is unclear
    found: list[Found] = []
    hits = []  # (match, result words, rule)
    for m in STATUS.finditer(text):
        if m.group("sign"):
            words = ["+" if "+" in m.group("sign") else "-"]
        else:
            words = [m.group("word")] + ([m.group("second")] if m.group("second") else [])
        hits.append((m, words, "her2.status"))
    for m in STATUS_BEFORE.finditer(text):
        word = m.group("word").lower()
        if word == "low" and "express" not in m.group("tail"):
            continue  # "low" before HER2 only in "low HER2 expression"
        first = "negative" if word.startswith("negative") else "positive" if word.startswith("positive") else word
        hits.append((m, [first] + ([m.group("second")] if m.group("second") else []), "her2.status_before"))
    for m, words, rule in hits:
        negated = ((m.re is STATUS and m.group("not"))
                   or NEGATION_BEFORE.search(text[max(0, m.start() - 25): m.start()])
                   or NEGATION_AFTER.match(text, m.end()))
        method = _method_near(text, m) or sentence_method or "status"
        for word in words:
            result = _result_of(word)
            if negated and result in ("positive", "overexpression", "amplified"):
                result = "negative"
            threshold = None
            if method == "status" and result == "amplified" and NGS.search(text):
                method = "NGS"
            if method == "NGS":
                cn = COPY_NUMBER.search(text, m.end(), min(len(text), m.end() + 60))
                if cn:
                    threshold = f"copy number {cn.group(1) or ''}{cn.group(2)}".replace("number ≥", "number >=")
            if method == "status" and word.lower() == "diffuse positive" and IHC_CONTEXT.search(text):
                method = "IHC"  # "immunohistochemistry showed ... HER2 diffuse positive"
            found.append((m.start(), m.end(), method, result, threshold, rule))
    return found


def _method_near(text: str, m: re.Match) -> str | None:
    after = METHOD_AFTER.match(text, m.end())
    if after and not re.search(r"[;.]", text[m.end(): after.start("method")]):
        return _method_name(after.group("method"))
    before = METHOD_BEFORE.search(text[max(0, m.start() - 40): m.start()])
    if before:
        return _method_name(before.group("method"))
    return None


# results a method does not give: IHC sees protein, not gene copies; ISH and sequencing see copies
CANNOT_SHOW = {"IHC": {"amplified"},
               **{m: {"overexpression"} for m in ("FISH", "CISH", "SISH", "DISH", "ISH", "NGS", "ddPCR", "ctDNA")}}


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
    declared = set()
    for view in views:
        if _mentions_her2(view) and HER2_ANYWHERE.search(view.text) and METHOD_OF_SENTENCE.search(view.text):
            declared |= {_method_name(m.group(0)) for m in re.finditer(METHOD_WORD, view.text)}
    if len(declared) == 1:
        method = declared.pop()
        for r in her2:
            if r.method == "status" and r.result not in CANNOT_SHOW.get(method, ()):
                r.method = method
    # a negative result is left alone: "ISH-negative" inside a HER2-low definition is not "HER2-negative"
    tested = {r.result for r in her2 if r.method != "status"} - {"negative"}
    if "3+" in tested:
        tested.add("overexpression")
    return [r for r in records if not (r.type == "her2" and r.method == "status" and r.result in tested)]
