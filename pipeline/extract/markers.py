"""HER2 criteria and other biomarker statuses, by regular expression over a sentence.

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
from functools import lru_cache

from pipeline.extract.context import SentenceView
from pipeline.extract.lexicon import load_lexicons
from pipeline.records import BiomarkerRecord, Her2Record

# ---------------------------------------------------------------------------- HER2 names
HER2_AT = r"(?:HER[- ]?2(?:/neu)?|ERBB-?2|ErbB-?2|erbB-?2|c-erbB-?2)"  # may be glued to a word ("theHER2")
HER2_AT_CAPITALS = r"HER|ERBB|ErbB|B-?2"  # what each HER2_AT name holds from its first capital on
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


# a sign after a marker may be set off by a (thin) space when a disease word follows: "HER2 + metastatic"
SPACED = r"[ \u2009\u202f\u00a0]"
DISEASE_NEXT = (rf"(?={SPACED}+(?:metastatic|advanced|early|locally|breast|gastric|BC|MBC|mBC|EBC|ABC|disease"
                r"|tumou?rs?|cancers?|patients|subtypes?)\b)")
PLUS = rf"(?:\+|\s?\(\+\))(?![\w+])|{SPACED}\+{DISEASE_NEXT}"
# a minus ends the word: "HER2-", "HER2(-)"; not "HER2-targeted", nor a hyphen broken over a line ("HER2-\namplified")
# nor a suspended hyphen, whose word comes later: "ER- and PR-positive", "HER2- and HER3-targeted"
SIGN_END = r"(?=[,;:/)(\]&]|[^\S\n]|\n(?![a-z])|$)(?!\s+(?:and/or|and|or)\s+\S{1,40}?-[a-z])"
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
NEGATION_AFTER = re.compile(
    r"\s*(?:was|were|is|are)\s+(?:not\s+(?:detected|found|identified|present|observed|seen)|absent|undetect\w*)"
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


# ---------------------------------------------------------------------------- biomarkers
# how a status is read depends on what kind of marker it is
HORMONE_RECEPTORS = {"ER", "PR", "HR"}
RECEPTORS = HORMONE_RECEPTORS | {"PD-L1", "AR", "HLA-A2"}  # expressed or not: positive / negative
PROLIFERATION = {"Ki67"}  # high / low, or a percentage cut-off
MUTABLE = {"RAS", "KRAS", "NRAS", "BRAF", "PIK3CA", "PTEN", "BRCA1/2", "BRCA1", "BRCA2", "EGFR", "FGFR1", "MET",
           "NTRK", "ESR1", "TP53"}

STATUS_WORDS = (
    r"wild[- ]?type|WT|non-?mutated|un-?mutated|non-?mutant|mutant|mutated|mutations?|mutation[- ]positive"
    r"|carriers?|positive|positivity|co-?positive|negative|negativity|amplified|amplification|high|low"
    r"|deficient|deficiency|proficient|stable|unstable|instability[- ]high|instability"
    r"|not\s+(?:detected|found|identified)|absent|undetectable"
)
SIGN_STATUS = rf"\+(?![\w+])|\s?\(\+\)|(?:-|−){SIGN_END}|\s?\([-−]\)|{SPACED}[+−-]{DISEASE_NEXT}"
BIOMARKER_STATUS = {
    "wild-type": "wild-type", "wildtype": "wild-type", "wild type": "wild-type", "wt": "wild-type",
    "non-mutated": "wild-type", "nonmutated": "wild-type", "unmutated": "wild-type", "un-mutated": "wild-type",
    "non-mutant": "wild-type", "nonmutant": "wild-type",
    "mutant": "mutated", "mutated": "mutated", "mutation": "mutated", "mutations": "mutated",
    "mutation-positive": "mutated", "mutation positive": "mutated", "carrier": "mutated", "carriers": "mutated",
    "positive": "positive", "positivity": "positive", "copositive": "positive", "co-positive": "positive",
    "+": "positive", "(+)": "positive",
    "negative": "negative", "negativity": "negative", "−": "negative", "-": "negative", "(-)": "negative",
    "(−)": "negative",
    "amplified": "amplified", "amplification": "amplified", "high": "high", "low": "low",
    "deficient": "deficient", "deficiency": "deficient", "proficient": "proficient", "stable": "stable",
    "unstable": "high", "instability-high": "high", "instability high": "high", "instability": "high",
    "absent": "absent", "undetectable": "absent",
}
# markers whose name carries the status
SPECIAL_MARKERS = {"MSI-H": ("MSI", "high"), "MSI-L": ("MSI", "low"), "MSS": ("MSI", "stable"),
                   "dMMR": ("MMR", "deficient"), "pMMR": ("MMR", "proficient"),
                   "BRCAm": ("BRCA1/2", "mutated"), "gBRCAm": ("BRCA1/2", "mutated")}
# the status word before the marker: "high Ki67", "wild-type KRAS", "deficient mismatch repair"
PREFIX_STATUS = {"high": PROLIFERATION | {"MSI", "TMB", "PD-L1"}, "elevated": PROLIFERATION | {"TMB"},
                 "low": PROLIFERATION | {"MSI", "TMB", "PD-L1"},
                 "wild-type": MUTABLE, "wild type": MUTABLE, "wildtype": MUTABLE,
                 "mutant": MUTABLE, "mutated": MUTABLE, "deficient": {"MMR"}, "proficient": {"MMR"},
                 "positive for": RECEPTORS, "negative for": RECEPTORS}
MUTATION_NEGATED = re.compile(r"(?:\bno|\bwithout|\babsence\s+of|\black\s+of|\bnegative\s+for)\s+(?:\w+\s+)?$",
                              re.IGNORECASE)
THRESHOLD = (r"\s*(?:labell?ing\s+index|index|expression|levels?|score|staining)?\s*(?:of\s*)?"
             r"(?:(?P<op>≥|>=|>|≤|<=|<)\s*\d+(?:\.\d+)?\s*%"
             r"|\d+(?:\.\d+)?\s*%\s*or\s+(?P<dir>higher|more|greater|above|less|lower|below))")


@lru_cache(maxsize=1)
def _gene_names() -> dict[str, str]:
    """surface -> canonical marker; spelled-out (lower-case) names are also found by their lower case."""
    genes = dict(load_lexicons().genes)
    genes.update({s.lower(): g for s, g in list(genes.items()) if s.islower()})
    return genes


@lru_cache(maxsize=1)
def _gene_patterns() -> tuple[re.Pattern, re.Pattern, re.Pattern, re.Pattern]:
    surfaces = sorted((s for s in _gene_names() if s not in SPECIAL_MARKERS), key=len, reverse=True)
    # spelled-out names also start sentences and titles ("Hormone Receptor-Positive"); acronyms keep their case
    alternation = "|".join(rf"(?i:{re.escape(s)})" if s.islower() else re.escape(s) for s in surfaces)
    # HER2 may sit in a list of receptors ("ER, PR and HER2 negative"): it is read, not recorded, here
    alternation += "|" + HER2_AT
    # a marker, maybe with its acronym in brackets: "estrogen receptor (ER)", "hormone receptor (HR)"
    gene = rf"(?<![A-Za-z0-9-])(?:{alternation})(?![A-Za-z0-9])(?:\s*\([A-Za-z0-9-]{{1,10}}\)(?=[\s-]))?"
    # items joined by commas, slashes and words; "ER- and PR-positive" shares the later word
    join = r"(?:\s*,\s*(?:and/or\s+|and\s+|or\s+)?|-?\s+(?:and/or|and|or)\s+|\s*/\s*|\s*&\s*)"
    genes_group = rf"(?P<genes>{gene}(?:{join}{gene})*)"
    detail = (r"(?P<detail>\s*(?:exon\s*\d+(?:\s*(?:,|and)\s*\d+)*|codon\s*\d+|V600E|[A-Z]\d{2,4}[A-Z](?![a-z])"
              r"|gene|status|expression|protein))?")
    suffix = re.compile(
        rf"{genes_group}{detail}"
        rf"(?:(?P<sign>{SIGN_STATUS})"
        rf"|(?:\s*(?:was|were|is|are|both|all|being|tumou?rs?)){{0,2}}[\s:-]*"
        rf"(?P<status>(?i:{STATUS_WORDS}))(?![A-Za-z0-9]))",
    )
    prefix = re.compile(
        rf"(?<![A-Za-z-])(?P<status>(?i:{'|'.join(PREFIX_STATUS)}))[\s-]+(?:\([^()]{{1,15}}\)\s*)?{genes_group}"
    )
    threshold = re.compile(rf"{genes_group}{THRESHOLD}")
    return suffix, prefix, threshold, re.compile(gene)


@lru_cache(maxsize=1)
def _marker_cues() -> tuple[re.Pattern, tuple[str, ...]]:
    """What every marker name holds, for cheap tests: a name written with capitals (matched as
    written) its part from the first capital on ("RAS" of "all-RAS"), all found by a pattern
    that Python's re scans for fast; a lower-case name (matched in any case) its last word,
    looked for in the lower-case text (SentenceView.lowered)."""
    names = [*_gene_names(), *SPECIAL_MARKERS]
    capitals = {name[next((i for i, c in enumerate(name) if c.isupper()), 0):] for name in names if not name.islower()}
    words = {re.findall(r"[^\W_]+", name)[-1] for name in names if name.islower()}
    pattern = "|".join(re.escape(c) for c in sorted(capitals, key=lambda c: (-len(c), c))) + "|" + HER2_AT_CAPITALS
    return re.compile(pattern), tuple(sorted(words))


def has_marker_cue(text: str, low: str) -> bool:
    """Whether ``text`` holds what a marker name holds (_marker_cues), ``low`` being its
    ``lowered`` form. Like has_her2_cue, true of a document when true of any of its sentences."""
    capitals, words = _marker_cues()
    return capitals.search(text) is not None or any(word in low for word in words)


def _names_marker(view: SentenceView) -> bool:
    """Whether the sentence names a marker (``gene`` of _gene_patterns) or a SPECIAL_MARKERS
    one; the cheap tests of has_marker_cue rule most sentences out first."""
    if not has_marker_cue(view.text, view.lowered):
        return False
    return _gene_patterns()[3].search(view.text) is not None or any(surface in view.text for surface in SPECIAL_MARKERS)


def extract_biomarkers(view: SentenceView) -> list[BiomarkerRecord]:
    text = view.text
    suffix, prefix, threshold, gene = _gene_patterns()
    # Each pattern but the named markers starts from a marker name: one test rules most sentences out.
    if not _names_marker(view):
        return []
    records = []
    for m in suffix.finditer(text):
        word = (m.group("sign") or m.group("status")).lower().strip()
        status = BIOMARKER_STATUS.get(re.sub(r"\s+", " ", word))
        if status is None and word.startswith("not"):
            status = "absent"  # "was not detected"
        if status is None:
            continue
        if status == "mutated" and (MUTATION_NEGATED.search(text[max(0, m.start() - 30): m.start()])
                                    or NEGATION_AFTER.match(text, m.end())):
            status = "wild-type"  # "no KRAS mutation", "BRAF mutations were not detected"
        detail = (m.group("detail") or "").strip() or None
        if detail in ("gene", "status", "expression", "protein"):
            detail = None
        attached = m.group("status") is None or text[m.start("status") - 1] == "-"  # "ER-low", "ER+"
        for gene in _genes_of(m):
            if re.search(HER2_AT, m.group("genes")) and status in ("positive", "negative") and gene not in RECEPTORS:
                continue  # a receptor status shared with HER2: "ER, PR and HER2 negative", not "KRAS and HER2-negative"
            if gene in HORMONE_RECEPTORS and status in ("high", "low") and not attached:
                continue  # "PR was high" is a partial-response rate; "ER-low" is a receptor status
            gene_status = status
            if status == "absent":
                gene_status = "wild-type" if gene in MUTABLE else "negative"
            records.append(_biomarker(view, m, gene, gene_status, detail))
    for m in prefix.finditer(text):
        word = re.sub(r"\s+", " ", m.group("status").lower())
        for gene in _genes_of(m):
            if gene in PREFIX_STATUS[word]:
                records.append(_biomarker(view, m, gene, BIOMARKER_STATUS.get(word.split()[0], word), None,
                                          "biomarker.prefix"))
    for m in threshold.finditer(text) if "%" in text else ():  # (a cut-off is a percentage)
        above = m.group("op") in ("≥", ">=", ">") or m.group("dir") in ("higher", "more", "greater", "above")
        for gene in _genes_of(m):
            if gene in PROLIFERATION:
                records.append(_biomarker(view, m, gene, "high" if above else "low", None, "biomarker.cutoff"))
            elif gene in HORMONE_RECEPTORS:
                records.append(_biomarker(view, m, gene, "positive" if above else "negative", None, "biomarker.cutoff"))
    for surface, (gene, status) in SPECIAL_MARKERS.items():
        if surface not in text:  # (as the pattern needs: most sentences are ruled out before it is built)
            continue
        for m in re.finditer(rf"(?<![A-Za-z0-9]){re.escape(surface)}(?![A-Za-z0-9])", text):
            records.append(_biomarker(view, m, gene, status, None, "biomarker.named"))
    return records


def _genes_of(m: re.Match) -> list[str]:
    """The canonical markers a matched list names, read the way breast and colorectal abstracts mean them."""
    genes = _gene_names()
    names = []
    # the list's items, read with the same pattern that found them ("BRCA1/2" and "HER2/neu" are one item)
    for item in _gene_patterns()[3].finditer(m.group("genes")):
        surface = re.sub(r"\s*\([^()]*\)$", "", item.group(0))  # drop a bracketed acronym
        gene = genes.get(surface) or genes.get(surface.lower())
        if gene and gene not in names:
            names.append(gene)
    # "BRCA1 and/or BRCA2 mutation": one fact about BRCA1/2
    if "BRCA1" in names and "BRCA2" in names:
        names = [g for g in names if g not in ("BRCA1", "BRCA2")] + ["BRCA1/2"]
    # "ER or PR positive" is the definition of hormone-receptor positive
    if set(names) == {"ER", "PR"} and re.search(r"\bor\b", m.group("genes")):
        names = ["HR"]
    return names


def _biomarker(view: SentenceView, m: re.Match, gene: str, status: str, detail: str | None,
               rule: str = "biomarker.status") -> BiomarkerRecord:
    return BiomarkerRecord(start=view.start + m.start(), end=view.start + m.end(), text=m.group(0),
                           sentence=view.sentence.index, rule=rule, gene=gene, status=status, detail=detail)
