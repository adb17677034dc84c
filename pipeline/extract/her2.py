"""HER2 criteria, by regular expression over a sentence, then settled over the document.

HER2 criteria follow the ASCO/CAP 2018 HER2 testing guideline vocabulary (IHC 0/1+/2+/3+,
ISH HER2:CEP17 ratio >= 2.0 with copy number >= 4.0; HER2-low = IHC 1+ or 2+ without
amplification) and the HERACLES criteria for colorectal cancer (IHC 3+ in > 50% of cells, or
IHC 2+ with HER2:CEP17 >= 2 in > 50% of cells).

Each construction is one rule (its id in the record's ``rule``, an example of each in
pipeline/data/her2.json):

- her2.status / her2.status_before: a status written with words or signs ("HER2-positive",
  "overexpression of HER2"). With no method it gets method "status"; when the same phrase says
  how it was tested ("HER2-positive by FISH", "... on IHC and ISH", "IHC-confirmed HER2
  overexpression", "HER2 amplification in circulating tumour DNA") it gets that method, one
  criterion per method named.
- her2.ihc_score, her2.free_score, her2.ihc_range: IHC scores ("IHC 3+", "scored 2+ by IHC",
  "IHC 1+ to 3+"); a listed pair ("IHC 1+/2+") is two criteria.
- her2.ihc_with_ish: IHC 2+ joined to an ISH test and its result ("IHC 2+/ISH+", "IHC 2+ with
  positive in situ hybridisation", "IHC 2+ confirmed by FISH or SISH"): one ISH criterion per
  method named, its threshold "IHC 2+" (or the ratio that follows).
- her2.ish_result, her2.ish_result_before, her2.result_by_method: an ISH result on its own
  ("FISH-negative", "negative FISH", "positive by FISH").
- her2.ratio: a HER2:CEP17 ratio is the threshold of the ISH criterion it qualifies; with no
  ISH criterion in its clause it is one itself (method: the ISH test named beside it, result:
  "amplified" when its clause defines amplification, else "positive").
- her2.ihc_cells: the share of stained cells after an IHC criterion ("in more than 50% of
  tumour cells") is an IHC positivity criterion with that threshold.
- her2.score_in_context (document level, settle_her2): a score with a score verb ("they scored
  2+") in the sentence after one about HER2 IHC testing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline.extract.context import SentenceView, holds_any
from pipeline.extract.marker_common import DISEASE_NEXT, HER2_AT, SIGN_END, SPACED
from pipeline.extract.marker_vocabulary import her2_vocabulary, words_pattern
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
# The words come from pipeline/data/her2.json (pipeline.extract.marker_vocabulary); the patterns that
# join them are built once, on first use. Runs of spaces are read with possessive quantifiers
# (\s*+) where two of them could otherwise share a long run and backtrack over it.


@dataclass(frozen=True)
class Her2Patterns:
    method_word: str  # any method: "IHC", "fluorescence in situ hybridisation (FISH)", "ctDNA"
    ish_acronym: str  # "FISH", "ISH", ...
    ish_any: str  # an ISH method, spelled out (maybe with its acronym in brackets) or as an acronym
    method_after: re.Pattern
    method_before: re.Pattern
    method_of_sentence: re.Pattern
    method_of_sentence_cue: re.Pattern
    status: re.Pattern
    status_before: re.Pattern
    negation_before: re.Pattern
    negation_after: re.Pattern
    ihc_with_ish: re.Pattern
    ish_result: re.Pattern
    ish_result_before: re.Pattern
    result_by_method: re.Pattern
    copy_number: re.Pattern
    ngs: re.Pattern
    ihc_context: re.Pattern
    amplification_word: re.Pattern


@lru_cache(maxsize=1)
def patterns() -> Her2Patterns:
    vocab = her2_vocabulary()
    ish = vocab.methods_of_kind("in situ")
    ish_acronym = words_pattern([a for m in ish for a in m.acronyms], as_written=True)
    ish_long = words_pattern([n for m in ish for n in m.names])
    # "in situ hybridisation (ISH)", "in situ hybridisation [ISH]", "FISH"
    ish_any = rf"(?:{ish_long}(?:\s*+[(\[]{ish_acronym}[)\]])?|\b{ish_acronym})"
    others = [m for m in vocab.methods.values() if m.kind != "in situ"]
    method_word = (rf"(?:{ish_any}"
                   + "".join(f"|\\b{words_pattern(m.acronyms, as_written=True)}|{words_pattern(m.names)}"
                             for m in others)
                   + ")")
    # several methods: "immunohistochemistry and in situ hybridisation", "IHC/ISH", "IHC or FISH"
    methods = rf"{method_word}(?:\s*+(?:and/or|and|or|/|,)\s*+{method_word}){{0,3}}"
    result_word = words_pattern([f for forms in vocab.results.values() for f in forms])
    before = vocab.results_before
    first_before = words_pattern([f for forms in before.values() for f in forms])
    second_before = words_pattern(before["overexpression"] + before["amplified"])
    ish_word = words_pattern(vocab.ish_results)
    ish_list = rf"{ish_any}(?:\s*+(?:and/or|and|or|/)\s*+{ish_any}){{0,3}}"
    ngs = vocab.methods["NGS"]
    ihc = vocab.methods["IHC"]
    ihc_word = rf"(?:\b{words_pattern(ihc.acronyms, as_written=True)}|{words_pattern(ihc.names)})"
    return Her2Patterns(
        method_word=method_word,
        ish_acronym=ish_acronym,
        ish_any=ish_any,
        # "HER2-positive patients confirmed by FISH", "HER2 amplification (by NGS)", "HER2 overexpression on IHC",
        # "HER2-positive on immunohistochemistry and in situ hybridisation", "HER2 amplification in ctDNA"
        # ("in" and "from" only before a blood test: see _method_near)
        method_after=re.compile(
            r"(?<!\s)\s*+\(?\s*+(?:(?<!\w)\w++\s+){0,2}?"
            r"(?:(?:as\s+)?(?:confirmed|determined|assessed|defined|tested|measured|detected|evaluated|documented"
            r"|scored|found|identified|seen)\s+(?:\w+ly\s+)?)?"
            r"(?P<prep>by|using|via|on|per|in|from)\s+(?:(?:central(?:ly)?|local(?:ly)?|a|an|the)\s+)*"
            rf"(?P<method>{methods})"
        ),
        # "FISH-confirmed HER2-positive", "IHC-determined HER2 overexpression" (text just before the status)
        method_before=re.compile(rf"(?P<method>{method_word})[\s-]+(?:{'|'.join(METHOD_BEFORE_VERBS)})[\s-]+$"),
        # the sentence itself says HER2 was tested with one method:
        # "immunohistochemistry was used to identify ... HER2 overexpression", "HER2 was assessed by IHC"
        method_of_sentence=re.compile(
            rf"{method_word}\w*\s+(?:\w+\s+){{0,2}}(?:was|were)\s+(?:used|performed)\s+to\s+"
            r"(?:identify|detect|determine|assess|evaluate|measure)"
            rf"|(?:assessed|determined|detected|measured|evaluated|examined|analy[sz]ed|tested)\s+"
            rf"(?:(?:centrally|locally)\s+)?(?:by|using|with)\s+{method_word}",
        ),
        # method_of_sentence without its method words: every match of it holds a match of this.
        # Tried first, it spares a long sentence the slow search (issue 15: method_word starts with
        # case-free alternatives, which re cannot skip to, and costs about 0.4 µs a character).
        method_of_sentence_cue=re.compile(
            r"(?:was|were)\s+(?:used|performed)\s+to\s+(?:identify|detect|determine|assess|evaluate|measure)"
            r"|(?:assessed|determined|detected|measured|evaluated|examined|analy[sz]ed|tested)\s+"
            r"(?:(?:centrally|locally)\s+)?(?:by|using|with)\s"
        ),
        # "HER2-positive", "HER2 gene amplification", "HER2 status was negative", "HER2+", "HER2(-)",
        # "HER2-positive or -negative"
        status=re.compile(
            rf"{HER2_NAME}(?:(?P<sign>{PLUS}|{MINUS})"
            r"|(?:[\s-]*(?:gene|protein|oncogene|receptor))?(?:\s+(?:status|expression))?"
            r"(?:\s+(?:is|was|were|are|being))?(?P<not>\s+not)?[\s:–-]*+"
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
            rf"(?<!or )\b{words_pattern(vocab.negation_before)}\b[\s-]*+(?:\w+[\s-]+)?$"
        ),
        # "HER2 amplification was not detected"
        negation_after=re.compile(rf"(?<!\s)\s*+(?:was|were|is|are)\s+{words_pattern(vocab.negation_after)}(?![A-Za-z])"),
        # "IHC 2+/ISH+", "IHC 2+ with positive in situ hybridisation [ISH]", "IHC 2+ and ISH-negative",
        # "IHC 2+ confirmed by FISH or SISH", "IHC 2+ (FISH-amplified)"
        ihc_with_ish=re.compile(
            rf"{ihc_word}\s*+(?:score\s+(?:of\s+)?)?2\s?\+\s*+"
            r"(?:(?:tumou?rs?|cases|disease|samples|cancers?|specimens)\s+(?:that\s+(?:were|was)\s+)?)?"
            r"(?:(?P<confirmed>(?:and\s+|but\s+)?(?:confirmed|verified)\s+(?:by|with|on)\s+)"
            r"|(?:/|&|\(|,|and|with|plus|but)?\s*+(?:(?:an?|the)\s+)?)"
            rf"(?:(?P<before>{ish_word})\s+)?(?P<methods>{ish_list})"
            rf"(?:[\s-]*+(?P<word>{ish_word})(?![A-Za-z])|(?P<sign>{PLUS}|{MINUS}))?"
        ),
        # "FISH-positive", "ISH+", "FISH non-amplified", "ISH-", "fluorescence in situ hybridization (FISH)-positive"
        ish_result=re.compile(
            rf"(?P<method>{ish_any})"
            rf"(?:[\s-]*+(?P<word>{ish_word})(?![A-Za-z])"
            rf"|(?P<sign>{PLUS}|{MINUS}))"
        ),
        # "negative FISH", "a positive in situ hybridization (ISH) result"; not "HER2-positive FISH-tested"
        ish_result_before=re.compile(rf"(?<![\w-])(?P<word>{ish_word})\s+(?P<method>{ish_any})(?![\w-])"),
        # "... or positive by FISH" (the result word, then the method), in a sentence about HER2
        result_by_method=re.compile(
            rf"(?<![\w-])(?P<word>{ish_word})\s+(?:by|on)\s+(?P<method>{ish_long}|{ish_acronym})"
        ),
        copy_number=re.compile(
            rf"\b{words_pattern(vocab.copy_number)}\s*+(?:\([A-Z]+\)\s*+)?[:=]?\s*+(?:of\s*+)?(≥|>=|>|≤|<)?\s*+"
            r"(\d+(?:\.\d+)?)"
        ),
        ngs=re.compile(rf"\b(?:{words_pattern(ngs.acronyms, as_written=True)}|{words_pattern(ngs.names)}"
                       r"|(?i:sequencing))\b"),
        ihc_context=re.compile(rf"{ihc_word}\b"),
        amplification_word=re.compile(rf"{words_pattern(before['amplified'])}|(?P<positive>(?i:positiv\w*))"),
    )


def _method_name(surface: str) -> str:
    """Canonical method of a ``method_word`` match ("in situ hybridisation (FISH)" -> FISH)."""
    bracket = re.search(r"[(\[](\w+)[)\]]$", surface)
    vocab = her2_vocabulary()
    return vocab.method_of(bracket.group(1) if bracket else surface.strip()) or "ISH"


def _method_names(surface: str) -> list[str]:
    """The canonical methods of a list of methods ("IHC and ISH"), in order, once each."""
    return list(dict.fromkeys(_method_name(m.group(0)) for m in re.finditer(patterns().method_word, surface)))


def _result_of(word: str) -> str:
    if word in ("+", "-"):
        return "positive" if word == "+" else "negative"
    return her2_vocabulary().result_of(word)


def _sign_result(sign: str) -> str:
    return "positive" if "+" in sign else "negative"


# a sign after the name: "HER2+", "HER2(+)", "HER2-", "HER2(-)" (see marker_common.SIGN_END)
PLUS = rf"(?:\+|\s?\(\+\))(?![\w+])|{SPACED}\+{DISEASE_NEXT}"
MINUS = rf"(?:-|−|–|\s?\([-−]\)){SIGN_END}|{SPACED}[−-]{DISEASE_NEXT}"

# ---------------------------------------------------------------------------- HER2 scores
# an IHC score; a bare digit only when a range follows ("1-3+"); IHC 0 has no plus sign
SCORE_ITEM = r"(?:[0-3]\s?\+|[0-3](?=\s*(?:-|–|to|through)\s*[0-3]\s?\+)|0(?![\d.,%+\w]))"
# "FISH-confirmed HER2-positive": the verbs of method_before (written as they are: the pattern
# reads them case-sensitively), looked for before the pattern is tried.
METHOD_BEFORE_VERBS = ("confirmed", "determined", "defined", "assessed", "detected", "proven", "tested")
SCORE_DIGIT = re.compile(r"[0-3]")  # in every score: a sentence without one has no IHC score to look for
SCORE_JOIN = r"\s*+(?:/|,|or|and|to|through|-|–)\s*+(?:IHC\s*+)?"
IHC_SCORE = re.compile(
    rf"(?:\bIHC|(?i:immunohistochemi(?:stry|cal(?:ly)?))|{HER2_AT})"
    r"\s*+(?:[\[(]\s*IHC\s*[\])]\s*+)?(?:IHC\s*+)?(?:(?:score[sd]?|scoring)\s*+(?:of\s*+|as\s*+)?)?[:=]?\s*+"
    rf"(?P<scores>{SCORE_ITEM}(?:{SCORE_JOIN}{SCORE_ITEM})*+)(?!\d)",
)
# a list or range of scores standing alone, read as IHC when followed by the method
# ("3+ by IHC", "ranging from 1+ to 3+ on immunohistochemistry") or in a sentence about HER2 testing
FREE_SCORES = re.compile(
    rf"(?<![\w+.])(?P<scores>{SCORE_ITEM}(?:{SCORE_JOIN}{SCORE_ITEM})*+)(?!\d)"
    r"(?P<by>\s*+(?:by|on|with|using|at)\s+(?:IHC|(?i:immunohistochemi\w*)))?"
)
# a score after a score verb, read in the sentence after one about HER2 IHC testing ("they scored 2+")
SCORED = re.compile(rf"\b(?i:scor(?:e|es|ed|ing))\s+(?:(?:of|as|at)\s+)?(?P<scores>{SCORE_ITEM}(?:{SCORE_JOIN}{SCORE_ITEM})*+)(?!\d)")
IHC_TESTING = re.compile(r"\bIHC\b|immunohisto|\bscor(?:e|es|ed|ing)\b", re.IGNORECASE)
NOT_HER2_SCALE = re.compile(r"(?:\b(?i:grade|stage)\s*|\b[GTN]|[≥>]\s*)$")  # "grade 2+", "T3+" are not IHC scores
RANGE_JOIN = re.compile(r"\d\s?\+?\s*(?:-|–|to|through)\s*\d")
HER2_ANYWHERE = re.compile(rf"{HER2_AT}|{HER2_FULL}")
# "HER2:CEP17 ratio of 2.0 or more", "HER2/CEP17 >= 2", "HER2:CEP17 ratio above 2.0"
RATIO = re.compile(
    rf"{HER2_AT}\s*+[:/]\s*+CEP\s*+17\s*+(?:ratio\s*+)?(?:of\s*+)?(≥|>=|>|≤|<=|<|=|at\s+least|above|over|greater\s+than|more\s+than)?"
    r"\s*+(\d+(?:\.\d+)?)(\s*+or\s+(?:more|greater|higher|above))?",
    re.IGNORECASE,
)
RATIO_OPS = {"at least": ">=", "≥": ">=", ">=": ">=", "above": ">", "over": ">", "greater than": ">",
             "more than": ">", ">": ">", "≤": "<=", "<=": "<=", "<": "<", "=": "", "": ""}
# the share of stained cells an IHC criterion needs: "in more than 50% of tumour cells", "in ≥10% of cells"
IHC_CELLS = re.compile(
    r"\b(?:in|of|on)\s+(?P<op>more\s+than|greater\s+than|over|at\s+least|≥|>=|>)?\s*+(?P<share>\d+(?:\.\d+)?)\s*%"
    r"(?P<more>\s+or\s+more)?\s+of\s+(?:the\s+)?(?P<cells>(?:[a-z]+\s+){0,2}?cells)\b",
    re.IGNORECASE,
)
CELL_OPS = {"more than": ">", "greater than": ">", "over": ">", ">": ">", "at least": ">=", "≥": ">=", ">=": ">="}
CLAUSE_END = re.compile(r"[;.\n]")  # a criterion's words stay in its clause

# Every pattern above needs one of these: a HER2 name, IHC or immunohistochemistry, an ISH
# acronym or "in situ". Sentences without any (most) are skipped at the cost of one search
# (the look-ahead of the first letters lets re skip most positions at once).
HER2_TRIGGER = re.compile(r"(?=[hHeEiI])(?:(?i:her[- ]?2|erbb|epidermal\s+growth|immunohisto|in[\s-]+situ)|IHC|ISH)")
# Words (lower case) one of which is in every case-insensitive match of HER2_TRIGGER: looked
# for in the lower-case text (SentenceView.lowered), they rule out most sentences much faster.
HER2_CUES = ("her2", "her-2", "her 2", "erbb", "epidermal", "immunohisto", "situ")


@dataclass
class Found:
    start: int
    end: int
    method: str
    result: str
    threshold: str | None
    rule: str


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
    found = _ihc_scores(text) if SCORE_DIGIT.search(text) else []
    # The ISH patterns need an ISH acronym or "in situ", the ratio "CEP17": most sentences name neither.
    ish = _ish_results(text) if "ISH" in text or "situ" in view.lowered else []
    if "cep" in view.lowered:
        ish += _ratios(text, ish)
    found += ish
    if "%" in text and found:
        found += _ihc_cells(text, found)
    found += _statuses(text)
    return [_record(view, f) for f in _outermost(found)]


def _record(view: SentenceView, f: Found) -> Her2Record:
    return Her2Record(start=view.start + f.start, end=view.start + f.end, text=view.text[f.start:f.end],
                      sentence=view.sentence.index, rule=f.rule, method=f.method, result=f.result,
                      threshold=f.threshold)


def _outermost(found: list[Found]) -> list[Found]:
    """Without the criteria read again inside a longer match of the same criterion ("ISH-negative"
    inside "IHC 2+ and ISH-negative"): the longer one says more (its threshold)."""
    if len(found) < 2:
        return found
    by_criterion: dict[tuple, list[int]] = {}
    for i, f in enumerate(found):
        by_criterion.setdefault((f.method, f.result), []).append(i)
    inner = set()
    for places in by_criterion.values():
        # In order of start, the longer first, a match lies inside a longer one iff a match of
        # another span came before it reaching as far (every pair compared was quadratic in a
        # sentence of thousands of statuses).
        reach = reach_before = -1
        span = None
        for i in sorted(places, key=lambda i: (found[i].start, -found[i].end)):
            if (found[i].start, found[i].end) != span:
                span, reach_before = (found[i].start, found[i].end), reach
            if reach_before >= found[i].end:
                inner.add(i)
            reach = max(reach, found[i].end)
    return [f for i, f in enumerate(found) if i not in inner]


def _ihc_scores(text: str) -> list[Found]:
    """IHC scores, lists of scores ("2+ or 3+", each a criterion) and ranges ("1+ to 3+", "1-3+")."""
    found: list[Found] = []
    matches = [m for m in IHC_SCORE.finditer(text)
               if re.search(HER2_AT + r"|\bIHC\b|immunohisto", text[max(0, m.start() - 40): m.end()], re.I)]
    # free scores count in a sentence about HER2 testing, or beside an IHC score ("scored IHC 3+ ... scored 2+")
    about_testing = (HER2_ANYWHERE.search(text) or matches) and IHC_TESTING.search(text)
    for m in FREE_SCORES.finditer(text):
        if "+" not in m.group("scores") or any(o.start() <= m.start() < o.end() for o in matches):
            continue
        if NOT_HER2_SCALE.search(text[max(0, m.start() - 8): m.start()]):
            continue
        if m.group("by") or about_testing:
            matches.append(m)
    for m in matches:
        found += _scores(m, "her2.ihc_score" if m.re is IHC_SCORE else "her2.free_score")
    return found


def _scores(m: re.Match, rule: str) -> list[Found]:
    scores = m.group("scores")
    if RANGE_JOIN.search(scores):  # a range is one criterion, written as the text writes it
        return [Found(m.start(), m.end(), "IHC", re.sub(r"\s+", " ", scores.strip()), None, "her2.ihc_range")]
    return [Found(m.start(), m.end(), "IHC", d if d == "0" else f"{d}+", None, rule)
            for d in dict.fromkeys(re.findall(r"[0-3]", scores))]


def _ish_results(text: str) -> list[Found]:
    """ISH criteria: after IHC 2+, on their own, and the result word before the test."""
    p = patterns()
    found: list[Found] = []
    for m in p.ihc_with_ish.finditer(text):
        if m.group("word"):
            result = _result_of(m.group("word"))
        elif m.group("sign"):
            result = _sign_result(m.group("sign"))
        elif m.group("before"):
            result = _result_of(m.group("before"))
        elif m.group("confirmed") or RATIO.match(text, _skip_joining_words(text, m.end())):
            result = "positive"  # "IHC 2+ confirmed by FISH", "IHC 2+ with FISH HER2:CEP17 >= 2"
        else:
            continue  # "IHC 2+ with FISH testing": no result
        for method in _method_names(m.group("methods")):
            found.append(Found(m.start(), m.end(), method, result, "IHC 2+", "her2.ihc_with_ish"))
    for m in p.ish_result.finditer(text):
        result = _result_of(m.group("word")) if m.group("word") else _sign_result(m.group("sign"))
        found.append(Found(m.start(), m.end(), _method_name(m.group("method")), result, None, "her2.ish_result"))
    if HER2_ANYWHERE.search(text) or p.ihc_context.search(text):
        for m in p.ish_result_before.finditer(text):
            found.append(Found(m.start(), m.end(), _method_name(m.group("method")), _result_of(m.group("word")), None,
                               "her2.ish_result_before"))
    if HER2_ANYWHERE.search(text):
        for m in p.result_by_method.finditer(text):
            found.append(Found(m.start(), m.end(), _method_name(m.group("method")), _result_of(m.group("word")), None,
                               "her2.result_by_method"))
    return found


def _skip_joining_words(text: str, at: int) -> int:
    """Where the words after ``at`` that join a criterion to its ratio end ("with a", "and a")."""
    m = re.compile(r"\s*+(?:\(|,)?\s*+(?:(?:with|and|showing|having|of)\s+)?(?:(?:an?|the)\s+)?").match(text, at)
    return m.end() if m else at


def _ratios(text: str, ish: list[Found]) -> list[Found]:
    """HER2:CEP17 ratios: the threshold of the ISH criterion they follow in their clause, else an
    ISH criterion of their own."""
    p = patterns()
    found: list[Found] = []
    for m in RATIO.finditer(text):
        op = ">=" if m.group(3) else RATIO_OPS.get(re.sub(r"\s+", " ", (m.group(1) or "").lower()), m.group(1))
        threshold = re.sub(r"\s+", " ", f"HER2:CEP17 {op} {m.group(2)}")
        clause_start = max((e.end() for e in CLAUSE_END.finditer(text, 0, m.start())), default=0)
        before = [f for f in ish if clause_start <= f.end <= m.start() and m.start() - f.end <= 80]
        if before:
            last = max(f.end for f in before)
            for f in before:
                if f.end == last:
                    f.threshold = threshold
            continue
        # the test named just before the ratio ("a FISH HER2/CEP17 ratio") or just after it ("... by FISH")
        near = [x for x in re.finditer(p.ish_any, text[max(clause_start, m.start() - 30): m.end() + 30])]
        method = _method_name(near[-1].group(0)) if near else "ISH"
        words = list(p.amplification_word.finditer(text, clause_start, m.start()))
        result = "amplified" if words and not words[-1].group("positive") else "positive"
        found.append(Found(m.start(), m.end(), method, result, threshold, "her2.ratio"))
    return found


def _ihc_cells(text: str, found: list[Found]) -> list[Found]:
    """The share of stained cells that follows an IHC criterion: IHC positivity with that threshold."""
    cells: list[Found] = []
    for m in IHC_CELLS.finditer(text):
        if not any(f.method == "IHC" and f.end <= m.start() for f in found):
            continue
        if not (m.group("op") or m.group("more")):
            continue  # "in 10% of cells" is a share, not a cut-off
        op = CELL_OPS[re.sub(r"\s+", " ", m.group("op").lower())] if m.group("op") else ">="
        cells_named = re.sub(r"\s+", " ", m.group("cells"))
        threshold = f"{op} {m.group('share')}% of {cells_named}"
        cells.append(Found(m.start(), m.end(), "IHC", "positive", threshold, "her2.ihc_cells"))
    return cells


def _statuses(text: str) -> list[Found]:
    """HER2 statuses written with words or signs, with the methods the phrase names."""
    p = patterns()
    sentence_method = None
    if _says_method(text):
        names = set(_method_names(text))
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
        methods, end = _methods_near(text, m)
        methods = methods or ([sentence_method] if sentence_method else ["status"])
        for word in words:
            result = _result_of(word)
            if negated and result in ("positive", "overexpression", "amplified"):
                result = "negative"
            for method in methods:
                threshold = None
                if method == "status" and result == "amplified" and _ngs_near(text, m):
                    method = "NGS"
                if method == "NGS":
                    cn = p.copy_number.search(text, m.end(), min(len(text), m.end() + 60))
                    if cn:
                        threshold = f"copy number {cn.group(1) or ''}{cn.group(2)}".replace("number ≥", "number >=")
                if method == "status" and word.lower() == "diffuse positive" and p.ihc_context.search(text):
                    method = "IHC"  # "immunohistochemistry showed ... HER2 diffuse positive"
                found.append(Found(m.start(), end, method, result, threshold, rule))
    return found


def _says_method(text: str) -> bool:
    """Whether the sentence says HER2 was tested with a method (``method_of_sentence``)."""
    p = patterns()
    return bool(p.method_of_sentence_cue.search(text) and p.method_of_sentence.search(text))


def _ngs_near(text: str, m: re.Match) -> bool:
    """Whether sequencing is named in the clause of a status ("HER2 amplification on NGS (copy
    number 12)"), not merely somewhere in the sentence or table."""
    start = max((e.end() for e in CLAUSE_END.finditer(text, max(0, m.start() - 80), m.start())),
                default=max(0, m.start() - 80))
    end = next((e.start() for e in CLAUSE_END.finditer(text, m.end(), m.end() + 80)), min(len(text), m.end() + 80))
    return patterns().ngs.search(text, start, end) is not None


def _methods_near(text: str, m: re.Match) -> tuple[list[str], int]:
    """The methods the status phrase names after it ("by FISH", "on IHC and ISH", "in ctDNA") or
    just before it ("FISH-confirmed"), and where the phrase ends with them."""
    p = patterns()
    after = p.method_after.match(text, m.end())
    if after and not re.search(r"[;.]", text[m.end(): after.start("method")]):
        names = _method_names(after.group("method"))
        blood = {x.name for x in her2_vocabulary().methods_of_kind("blood")}
        if after.group("prep") not in ("in", "from") or set(names) <= blood:
            return names, after.end()
    window = text[max(0, m.start() - 40): m.start()]
    before = p.method_before.search(window) if holds_any(window, METHOD_BEFORE_VERBS) else None
    if before:
        return [_method_name(before.group("method"))], m.end()
    return [], m.end()


def _cannot_show(method: str) -> set[str]:
    """Results a method does not give: IHC sees protein, not gene copies; ISH and sequencing see copies."""
    kind = her2_vocabulary().methods[method].kind
    return {"amplified"} if kind == "protein" else {"overexpression"}


# ---------------------------------------------------------------------------- the document
# A heading (a sentence of its own, "Background") or an inline label ("Background: ...") opens
# a part of the document; statuses in the title and in a background part name the population and
# stand as criteria of their own ("HER2-amplified colorectal tumours regress ...").
HEADING = re.compile(
    r"(?<!\s)\s*+(?P<word>background|introduction|context|rationale|objectives?|aims?|purpose|methods?|patients and methods"
    r"|design|results?|findings|conclusions?|interpretation|discussion)\s*+(?::|$)",
    re.IGNORECASE,
)
FRAMING_HEADINGS = {"background", "introduction", "context", "rationale"}


def settle_her2(views: list[SentenceView], records: list) -> list:
    """Document-level view of the HER2 criteria.

    - Scores in the sentence after one about HER2 IHC testing ("HER2 was scored by IHC. Eleven
      tumours scored 3+") are read there (her2.score_in_context).
    - If one sentence says HER2 was assessed with a single method ("HER2 was determined by IHC"),
      the document's bare statuses are results of that method (when it can show them).
    - A bare status is dropped when it repeats a status phrase that named its test, that test
      being the only one the document names ("HER2-positive ... confirmed by FISH" covers a later
      "HER2-positive"; where tissue and blood tests are both named, "HER2-amplified" is neither),
      or when it is "HER2 overexpression" beside IHC 3+ (what overexpression means); but a status
      in the title or a background part stands as a criterion of its own, as do negative statuses.
    """
    records = records + _scores_in_context(views)
    her2 = [r for r in records if r.type == "her2"]
    if not any(r.method == "status" for r in her2):
        return records  # only bare statuses are settled
    p = patterns()
    declared = set()
    for view in views:
        if _mentions_her2(view) and HER2_ANYWHERE.search(view.text) and _says_method(view.text):
            declared |= set(_method_names(view.text))
    if len(declared) == 1:
        method = declared.pop()
        for r in her2:
            if r.method == "status" and r.result not in _cannot_show(method):
                r.method = method
    tests = {r.method for r in her2 if r.method != "status"}
    tested = set()
    if len(tests) == 1:  # "HER2-positive" is "FISH-positive" where FISH is the only test named
        tested = {r.result for r in her2 if r.method != "status" and r.rule in ("her2.status", "her2.status_before")}
    if any(r.method == "IHC" and r.result == "3+" for r in her2):
        tested.add("overexpression")
    tested.discard("negative")  # "ISH-negative" inside a HER2-low definition is not "HER2-negative"
    framing = _framing_sentences(views)
    return [r for r in records if not (r.type == "her2" and r.method == "status" and r.result in tested
                                       and r.sentence not in framing)]


def _framing_sentences(views: list[SentenceView]) -> set[int]:
    """The sentence indices of the title (the document's first sentence) and of background parts."""
    framing = {0} if views and views[0].sentence.index == 0 else set()
    section, part = None, None
    for view in views:
        if view.sentence.section != section:
            section, part = view.sentence.section, None
        heading = HEADING.match(view.text)
        if heading:
            part = heading.group("word").lower()
        if part in FRAMING_HEADINGS:
            framing.add(view.sentence.index)
    return framing


def _scores_in_context(views: list[SentenceView]) -> list[Her2Record]:
    """her2.score_in_context: "Eleven tumours scored 3+" after a sentence about HER2 IHC testing."""
    found: list[Her2Record] = []
    for previous, view in zip(views, views[1:]):
        if "+" not in view.text or "scor" not in view.lowered or previous.sentence.section != view.sentence.section:
            continue
        if HER2_ANYWHERE.search(view.text) or IHC_SCORE.search(view.text):
            continue  # extract_her2 reads the sentence itself
        if not (HER2_ANYWHERE.search(previous.text) and patterns().ihc_context.search(previous.text)):
            continue
        for m in SCORED.finditer(view.text):
            if not NOT_HER2_SCALE.search(view.text[max(0, m.start("scores") - 8): m.start("scores")]):
                found += [_record(view, f) for f in _scores(m, "her2.score_in_context")]
    return found
