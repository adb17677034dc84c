"""Regimens (drug combinations) of a sentence and of a document.

How a regimen statement is read:

  items       drugs and backbones (from the NER), regimen abbreviations the document defines
              ("lapatinib with vinorelbine (LV)", "CP-CEF (carboplatin and paclitaxel followed by
              CEF)"), modalities, and placeholders that take an arm's place without adding a
              drug: placebo and drug classes ("chemotherapy", "an aromatase inhibitor").
  connectors  the words between two items once parentheses, doses and schedules are removed:
              AND  "plus", "+", "-", "/", "with", "combined with", "followed by" (sequential
                   treatment is one regimen), ...
              OR   "or", "and/or"; a comma list takes the word that ends it ("A, B, or C")
              VS   "versus", "vs", "compared with"; "compared A with B"; "the A and B arms"
              WOW  "with or without", "±": what follows is optional
              anything else ends the statement.
  arms        a statement splits at VS, then at an OR between whole arms ("A plus B or C plus
              D", "A plus B or B alone"). An OR next to a placeholder or after "with or without"
              is a choice for one slot: "A or placebo plus B" gives A+B and B; "A with or without
              B or C" gives A, A+B, A+C.

Statements about earlier treatment ("progressed on prior trastuzumab", "taxane-pretreated")
are no regimens. The document then settles what single sentences cannot (see
``document_regimen_groups``): named backbones, classes standing for the document's own
chemotherapy, and single drugs that only repeat part of a combination.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from dataclasses import dataclass, field

from pipeline.extract.context import Mention, SentenceView
from pipeline.extract.context import lowered as _lowered
from pipeline.extract.lexicon import load_lexicons
from pipeline.records import RegimenRecord

# (?=[...]) after \b: the first letters of the alternatives (any case), so that the rest is tried
# only at the word starts that can match: twice as fast. tests/test_regimen_cues.py checks them.
MODALITY = re.compile(
    r"\b(?=[acehimorsw])"
    r"(?:(?:whole[- ]brain |stereotactic |external[- ]beam |hypofractionated |adjuvant |concurrent )?"
    r"(?:radiotherapy|radiation therapy|irradiation|chemoradiotherapy|chemoradiation|WBRT|SBRT|surgery|"
    r"resection|mastectomy|oophorectomy))\b(?:\s*\(?\d+(?:\.\d+)?\s*Gy(?:/\d+\s*f\w*)?\)?)?",
    re.IGNORECASE,
)
# Every modality holds one of these words (see CUES).
MODALITY_WORDS = ("radi", "brt", "surgery", "resection", "ectomy")
MODALITY_NAMES = {"wbrt": "radiotherapy", "sbrt": "radiotherapy", "irradiation": "radiotherapy",
                  "radiation therapy": "radiotherapy", "chemoradiation": "chemoradiotherapy",
                  "resection": "surgery", "mastectomy": "surgery"}

PLACEBO = re.compile(r"\b(?:[Pp]lacebos?|PBO)\b(?!-controlled)")
DRUG_PLACEBO = re.compile(r"^[ -]?(?:(?:matched|matching)\s+)?placebos?\b", re.IGNORECASE)

# Drug classes: placeholders in a statement ("palbociclib with an aromatase inhibitor or
# fulvestrant"), and, when the document gives exactly one regimen of the class, that regimen
# ("zoledronic acid plus chemotherapy").
CYTOTOXICS = frozenset({
    "paclitaxel", "nab-paclitaxel", "docetaxel", "doxorubicin", "epirubicin", "pegylated liposomal doxorubicin",
    "liposomal doxorubicin", "cyclophosphamide", "fluorouracil", "capecitabine", "tegafur", "carboplatin",
    "cisplatin", "gemcitabine", "vinorelbine", "eribulin", "methotrexate", "ixabepilone", "irinotecan",
    "oxaliplatin", "mitoxantrone", "etoposide", "utidelone", "leucovorin",
})
ENDOCRINE = frozenset({"tamoxifen", "toremifene", "fulvestrant", "letrozole", "anastrozole", "exemestane",
                       "goserelin", "leuprorelin", "leuprolide", "triptorelin", "megestrol acetate"})
AROMATASE_INHIBITORS = frozenset({"letrozole", "anastrozole", "exemestane"})
TAXANES = frozenset({"paclitaxel", "nab-paclitaxel", "docetaxel"})
ANTHRACYCLINES = frozenset({"doxorubicin", "epirubicin", "pegylated liposomal doxorubicin", "liposomal doxorubicin"})
ANTI_HER2 = frozenset({"trastuzumab", "pertuzumab", "lapatinib", "neratinib", "tucatinib", "pyrotinib",
                       "trastuzumab emtansine", "trastuzumab deruxtecan", "margetuximab", "inetetamab"})
CLASSES: dict[str, tuple[str, frozenset[str]]] = {
    # name: (pattern, member drugs; backbones count as chemotherapy and, with an anthracycline, as such)
    "chemotherapy": (r"chemotherap(?:y|ies)|cytotoxic (?:therapy|treatment|agents?)", CYTOTOXICS),
    "endocrine therapy": (r"(?:endocrine|hormon(?:e|al)) (?:therap(?:y|ies)|treatment)|hormonotherapy", ENDOCRINE),
    "aromatase inhibitor": (r"(?:non-?steroidal |steroidal )?aromatase inhibitors?", AROMATASE_INHIBITORS),
    "taxane": (r"taxanes?", TAXANES),
    "anthracycline": (r"anthracyclines?", ANTHRACYCLINES),
    "cdk4/6 inhibitor": (r"CDK ?4/6 inhibitors?|cyclin-dependent kinase (?:4/6|4 and 6) inhibitors?",
                         frozenset({"palbociclib", "ribociclib", "abemaciclib"})),
    "anti-her2 therapy": (r"anti-HER2 (?:therapy|therapies|treatment|agents?|antibod(?:y|ies))|"
                          r"HER2-(?:targeted|directed) (?:therapy|therapies|treatment|agents?)", ANTI_HER2),
    "ovarian suppression": (r"(?:LHRH|LH-RH|GnRH) (?:agonists?|analogues?|analogs?)|ovarian (?:function )?suppression",
                            frozenset({"goserelin", "leuprorelin", "leuprolide", "triptorelin"})),
    "fluoropyrimidine": (r"fluoropyrimidines?", frozenset({"fluorouracil", "capecitabine", "tegafur"})),
    "platinum": (r"platinum(?:-based)? (?:chemotherapy|agents?|compounds?|salts?)|platinums?",
                 frozenset({"cisplatin", "carboplatin", "oxaliplatin"})),
    "anti-egfr therapy": (r"anti-EGFR (?:therapy|therapies|treatment|agents?|antibod(?:y|ies)|monoclonal antibod(?:y|ies))",
                          frozenset({"cetuximab", "panitumumab"})),
    "anti-vegf therapy": (r"anti-VEGF(?:R)? (?:therapy|therapies|treatment|agents?|antibod(?:y|ies))",
                          frozenset({"bevacizumab", "ramucirumab", "aflibercept"})),
}
# (\b before the alternatives: tried only at word starts, the pattern is twice as fast; and only
# at those starting with one of the alternatives' first letters, as in MODALITY)
CLASS_PATTERN = re.compile(
    r"\b(?=[acefghlnopst])"
    r"(?:" + "|".join(rf"(?P<c{i}>(?:{pattern})\b)" for i, (pattern, _) in enumerate(CLASSES.values())) + ")",
    re.IGNORECASE,
)
CLASS_NAMES = list(CLASSES)
# Every class name holds one of these words (see CUES).
CLASS_WORDS = ("chemotherap", "cytotoxic", "endocrine", "hormon", "aromatase", "taxane", "anthracycline", "cdk",
               "cyclin", "her2", "lhrh", "lh-rh", "gnrh", "ovarian", "fluoropyrimidine", "platinum", "egfr", "vegf")
ANTHRACYCLINE_BACKBONES = {"AC", "EC", "FEC", "FEC100", "FEC75", "CEF", "FAC", "TAC"}

# An item's own qualifier that makes it an arm: "capecitabine alone", "docetaxel monotherapy".
ALONE = re.compile(r"^\s*(?:alone|monotherapy|as (?:a )?(?:single agent|monotherapy)|single[- ]agent)\b", re.IGNORECASE)

# Earlier treatment, not a regimen of the study: the words before a statement...
_STRONG_PRIOR = (
    r"previously treated with|pre-?treated with|treated previously with|"
    r"progress(?:ed|ion|ing)(?: of disease)? (?:on|after|during|following|with|despite)|"
    r"relaps(?:ed|e|ing) (?:on|after|during|following)|recurr(?:ed|ence) (?:on|after|during|following)|"
    r"refractory to|resistan(?:t|ce) to|failure (?:of|on|with)|failed|failing|intoleran(?:t|ce) (?:of|to)|"
    r"(?:prior |previous )?exposure to|exposed to|naive to|naïve to|ineligible for|unsuitable for|history of|"
    r"completed|completion of|completing"
)
_WEAK_PRIOR = r"after|prior|previous|previously received"
_PRIOR_FILL = (r"both|a|an|the|any|one|or|more|lines?|of|prior|previous|treatment|therapy|with|including|and|"
               r"\(neo\)adjuvant|adjuvant|neoadjuvant|approximately|about|at least|\S*\d\S*|years?|months?")
PRIOR_LEAD = re.compile(
    rf"\b(?:(?:{_STRONG_PRIOR})(?:\s+\S+){{0,5}}?|(?:{_WEAK_PRIOR})(?:\s+(?:{_PRIOR_FILL}))*)\s*[(\[]?\s*$",
    re.IGNORECASE,
)
# Every earlier-treatment lead holds one of these words (lower case, see ``_lowered``).
PRIOR_WORDS = ("treated", "progress", "relaps", "recurr", "refractory", "resistan", "fail", "intoleran", "expos",
               "naive", "naïve", "ineligible", "unsuitable", "history", "complet", "after", "prior", "previous")
# A drug name that names no treatment: "mammalian target of rapamycin".
NOT_GIVEN_LEAD = re.compile(r"\btarget of\s*$", re.IGNORECASE)
# ... or what follows it: "adjuvant anthracyclines ... were allowed" (eligibility) ...
PRIOR_TAIL = re.compile(r"^[^.;]{0,40}?\b(?:was|were|is|are)\s+(?:not\s+)?(?:allowed|permitted|prohibited|excluded)\b",
                        re.IGNORECASE)
PRIOR_TAIL_WORDS = ("allowed", "permitted", "prohibited", "excluded")  # one of them in every such tail
# ... or a word fused to the drug: "trastuzumab-pretreated", "doxorubicin-induced", "(G-CSF)-supported".
PRIOR_SUFFIX = re.compile(
    r"^\s*(?:\([^()]*\))?\s*(?:-?\s*(?:pre-?treated|refractory|resistant|resistance|naive|naïve|induced|exposed|"
    r"experienced|intolerant|failure|failing)|-\s*(?:mediated|supported|related|associated))\b",
    re.IGNORECASE,
)

# The words (lower case, see ``_lowered``) a sentence needs for the slow case-insensitive
# patterns to find anything in it: searched for once in the whole document, they spare most
# sentences the patterns.
CUES = {"modality": MODALITY_WORDS, "class": CLASS_WORDS, "placebo": ("placebo", "pbo")}

# ---------------------------------------------------------------- connectors
AND, OR, VS, WOW, COMMA, BREAK = "AND", "OR", "VS", "WOW", "COMMA", "BREAK"
CONNECTORS = {
    AND: ["", "and", "plus", "+", "/", "-", "–", "&", "with", "combined with", "in combination with",
          "in conjunction with", "together with", "along with", "followed by", "then", "and then",
          "subsequently", "and subsequently", "added to", "in addition to", "to", "after", "before", "during",
          "for the duration of", "duration", "combination with", "combined", "was with", "were with",
          "was combined with", "were combined with", "is with", "are with"],
    OR: ["or", "and / or", "or to", "or by", "or alternatively", "or with"],
    VS: ["versus", "vs", "v", "compared with", "compared to", "relative to", "than", "against", "or versus"],
    WOW: ["±", "with or without", "with and without", "or without", "and without", "or in combination with",
          "or combined with", "or plus"],
}
CONNECTOR_KIND = {phrase: kind for kind, phrases in CONNECTORS.items() for phrase in phrases}
# Dose, schedule and route words between two drugs do not separate them.
FILLER = frozenset("""
mg g kg µg μg mcg iu units unit auc ml min m day days d daily weekly week weeks wk month months year years yr
h hours hour cycle cycles course courses dose doses dosing loading maintenance every each per of on for at a an
the once twice thrice times bid tid qd qw po iv im sc orally oral intravenously intravenous intramuscular
intramuscularly subcutaneous subcutaneously infusion infusions injection injections tablet tablets capsule
capsules continuous continuously schedule off area under curve respectively both total administered given
concurrent concurrently concomitant concomitantly sequential sequentially adjuvant neoadjuvant preoperative
postoperative perioperative low-dose high-dose dose-dense metronomic standard standard-dose additional n
starting initial initially fixed flat reference matching identical mesylate hydrochloride acetate sulfate tartrate
one two three four five six seven eight nine ten eleven twelve fifteen sixteen eighteen twenty
""".split())
NUMBERISH = re.compile(r"(?<!\S)\S*\d\S*")  # (?<!\S): tried at word starts only, where all matches start
# The filler words of a dose itself ("75 mg/m2 once daily"); other filler alone ("on the day of")
# between two drugs does not join them.
DOSE_WORDS = frozenset("mg auc day days daily weekly week weeks once twice bid tid orally oral iv".split())
DOTTED_DOSING = re.compile(r"\b(?:[bt]\.i\.d|q\.i\.d|q\.d|o\.d|p\.o|i\.v|s\.c|i\.m)\.?(?!\w)", re.IGNORECASE)
UNIT = re.compile(r"\b(?:mg|µg|μg|mcg|g|iu|units?|ml)(?:\s*/\s*(?:m²|m|kg|day|d|wk|week|dose|ml|min))+\b", re.IGNORECASE)
WORD = re.compile(r"[a-zà-ÿ]+(?:[-'][a-zà-ÿ]+)*|\+/-|\+/−|[,;+/±&–-]")
BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
BRACKET = re.compile(r"[()\[\]]")
OPENING_ONLY = re.compile(r"\s*[(\[]\s*")
UP_TO = re.compile(r"\bup to\b")
OUTER_SEPARATORS = re.compile(r"^(?:[,;]\s*)+|(?:\s*[,;])+$")
LONG_WORD = re.compile(r"[a-z]{3,}")
COMPARE_LEAD = re.compile(r"\b(?:compar(?:e|ed|es|ing|ison|able)|similar|between|differ(?:ed|ent|ence)?|"
                          r"superior|inferior|equivalent)\b", re.IGNORECASE)
COMPARED_WITH = re.compile(r"\bcompared (?:with|to)\s*$", re.IGNORECASE)
# "both PLD and capecitabine", "the respective efficacy of A and B": each on its own.
EACH_LEAD = re.compile(r"\b(?:both|respective)\b(?:\s+[\w-]+){0,5}\s*[(\[]?\s*$", re.IGNORECASE)
PLURAL_ARMS = re.compile(r"^\s*(?:treatment\s+)?(?:arms|groups|cohorts)\b", re.IGNORECASE)
# "A and B were 15.9 and 14.5 months, respectively", "received A and B, respectively" (but not
# doses: "fluorouracil, epirubicin, and cyclophosphamide (500, 100, and 500 mg/m2, respectively)").
RESPECTIVELY = re.compile(
    r"^(?:\s*,\s*respectively\b|\s*[^\s(\[](?:[^.;]|\.\d)*?(?:%|\b(?:months?|weeks?|years?|days?)\b)"
    r"(?:[^.;]|\.\d)*\brespectively\b)",
    re.IGNORECASE,
)
# What ends the clause after "compare A and B" ("... in Japanese patients").
CLAUSE_END = re.compile(r"^\s*(?:$|[.,;:]|(?:in|among|for|as|at|on|when|with regard to)\b)", re.IGNORECASE)
# A result, a tally or a group size between two drugs: they are reported apart, not given
# together ("3% for lapatinib-capecitabine and 5% for trastuzumab-capecitabine", "100 for
# carmofur and 50 for carboquone", "eribulin (n = 554) and").
RESULT = re.compile(r"\d\s*%|\b[Pp]\s*[=<>≤]|\bmedian\b|\d[.·]\d+\s*(?:months?|weeks?|years?|days?)\b|"
                    r"(?:^|[\s,;(])\d+\s+(?:for|in|with|patients|women|received|were)\b")
GROUP_SIZE = re.compile(r"\bn\s*=\s*\d", re.IGNORECASE)
# "8 afatinib-, 6 lapatinib-, and 4 trastuzumab-treated patients": words cut at a hyphen.
HANGING_HYPHEN = re.compile(r"^\s*-\s*[,;]|^\s*-\s+(?:and|or)\b")
# "Patients in the control group received vinorelbine": an arm.
ARM_LEAD = re.compile(r"\b(?:arm|group|cohort)(?:\s+[A-Z0-9])?\s*(?:\([^()]*\)\s*)?(?:received|were given|was given|"
                      r"were treated with|was treated with|:)\s*$", re.IGNORECASE)
ARM_WORDS = ("arm", "group", "cohort")
# "CT-P6, a trastuzumab biosimilar": an apposition, not a list.
APPOSITION = re.compile(r"^\s*,\s*(?:a|an|the)\b", re.IGNORECASE)

# Regimen abbreviations: "(LV)", "(HT; n = 70)", "[EC-T]" after a regimen, or "CP-CEF (...)" before one.
ABBREVIATION = r"[A-Za-z][A-Za-z0-9]*(?:[-+/±][A-Za-z0-9]+)*"
# not a measured value: "(BMD, -17.6)"
ABBREVIATION_AFTER = re.compile(rf"^\s*[(\[]\s*({ABBREVIATION})\s*(?:[)\]=]|[;,](?!\s*[-−+]\d)|$)")
ABBREVIATION_WORD = re.compile(rf"(?<![\w-])({ABBREVIATION})(?![\w])")
ABBREVIATION_BEFORE = re.compile(rf"(?<![\w-])({ABBREVIATION})\s*[(\[]$")
# "chemotherapy (CT)"
CLASS_ABBREVIATION = re.compile(rf"(?:{CLASS_PATTERN.pattern})\s*\(({ABBREVIATION})\)", re.IGNORECASE)
# Words an abbreviation may take a letter from besides the drug: "weekly paclitaxel (wPTX)".
ABBREVIATED_MODIFIERS = ("weekly", "daily", "oral", "intravenous", "low-dose", "high-dose", "dose-dense",
                         "metronomic", "liposomal", "pegylated", "biweekly")
NOT_ABBREVIATIONS = {"n", "N", "HR", "CI", "OR", "RR", "AE", "AEs", "ITT", "IV", "PO", "SC", "IM", "BID", "TID",
                     "QD", "NS", "NA", "NR", "vs", "AUC", "Gy", "ET", "CT"}
MAX_ARMS = 12  # a statement never gives more regimens than this
ITEM_RANK = {"DRUG": 1, "BACKBONE": 1, "MODALITY": 2, "REGIMEN": 3, "PLACEBO": 4, "CLASS": 5}  # on a tie, first


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


@dataclass
class Statement:
    items: list[Item]
    connectors: list[str]  # kinds between consecutive items
    phrases: list[str]  # the connector words, for "compared A with B"
    lead: str  # text before the first item (since the previous statement)
    tail: str  # text after the last item
    closing: list[bool] = field(default_factory=list)  # the connector closes a bracket


# ---------------------------------------------------------------- trials


# ---------------------------------------------------------------- items of a sentence


@dataclass
class DocumentTerms:
    """What the document itself defines: regimen abbreviations, class abbreviations ("CT")."""

    regimens: dict[str, tuple[Item, ...]] = field(default_factory=dict)
    classes: dict[str, str] = field(default_factory=dict)  # "CT" -> "chemotherapy"


def _items(view: SentenceView, named: list[Item], terms: DocumentTerms) -> list[Item]:
    """The items of a sentence, one per stretch of text (``named``: its ``_named_items``)."""
    text, base = view.text, view.start
    items = list(named)
    for short, name in terms.classes.items():
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
    return any(w in lowered for w in words)


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
    shorts = [short for short in terms.regimens if short in text]
    if not shorts:
        return
    for m in ABBREVIATION_WORD.finditer(text):
        word = m.group(1)
        if not any(short in word for short in shorts):
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

    kept: list[Item] = []
    for item in sorted(items, key=order):
        if all(item.end <= k.start or item.start >= k.end for k in kept):
            kept.append(item)
    return sorted(kept, key=lambda i: i.start)


# ---------------------------------------------------------------- connectors and statements


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
    prior_lead = any(w in lowered for w in PRIOR_WORDS)
    prior_tail = any(w in lowered for w in PRIOR_TAIL_WORDS)
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
    elif ands and (PLURAL_ARMS.match(statement.tail) or RESPECTIVELY.match(statement.tail)):
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
    several = len(arms) > 1 and sum(1 for regimen in arms if any(i.mentions for i in regimen)) > 1
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


# ---------------------------------------------------------------- a sentence


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


# ---------------------------------------------------------------- records


def regimen_drugs(group: list[Mention]) -> list[str]:
    drugs = []
    for m in group:
        if m.label in ("DRUG", "BACKBONE") and m.canonical not in drugs:
            drugs.append(m.canonical)
    return drugs


def nearest_regimen(groups: list[list[Mention]], start: int, end: int) -> list[Mention]:
    """The regimen nearest to a figure at [start, end) of the same sentence. Results are mostly
    written figure first ("9.5 months in the A group and 4.6 months in the B group"), so a
    regimen before the figure counts as twice as far."""
    def distance(group: list[Mention]) -> int:
        first, last = min(m.start for m in group), max(m.end for m in group)
        if last <= start:
            return 2 * (start - last)
        return max(0, first - end)
    return min(groups, key=distance)


def extract_regimens(view: SentenceView, groups: list[list[Mention]]) -> list[RegimenRecord]:
    """One record per regimen group of the sentence (``groups`` from ``document_regimen_groups``)."""
    records = []
    for group in groups:
        other = []
        for m in group:
            if m.label == "MODALITY" and m.canonical not in other:
                other.append(m.canonical)
        start, end = min(m.start for m in group), max(m.end for m in group)
        records.append(
            RegimenRecord(start=start, end=end, text=view.text[start - view.start : end - view.start],
                          sentence=view.sentence.index, rule="regimen.joined" if len(group) > 1 else "regimen.single",
                          drugs=regimen_drugs(group), other=other)
        )
    return records
