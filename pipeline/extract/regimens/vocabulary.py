"""The regimen reader's vocabulary: modality, placebo, drug-class, earlier-treatment and connector
cue words and the patterns built from them.

The literal word lists (cue words, class members, connector phrases, dose filler...) are data,
``pipeline/data/regimen_words.json``: each list with what it is for and an example. On load the
file is checked: exactly the lists below, each with only the keys 'about', 'example' and
'words', words of the right shape, and an example holding one of its words. The patterns stay
here, next to the comments on why they are written as they are.
"""

from __future__ import annotations

import json
import re

from pipeline.extract.lexicon import DATA, LexiconError

FILE = "regimen_words.json"
# The lists the regimen reader uses, and the shape of their words; regimen_words.json holds exactly these.
LISTS = {
    "modality_words": list, "modality_names": dict, "placebo_words": list, "class_members": dict,
    "class_words": list, "anthracycline_backbones": list, "prior_words": list, "prior_tail_words": list,
    "connectors_and": list, "connectors_or": list, "connectors_vs": list, "connectors_wow": list, "filler": list,
    "dose_words": list, "arm_words": list, "abbreviated_modifiers": list, "not_abbreviations": list,
}
LIST_KEYS = {"about", "example", "words"}


def _strings(value) -> bool:
    return isinstance(value, list) and all(isinstance(w, str) for w in value)


def load_words() -> dict[str, list | dict]:
    """The lists of regimen_words.json, checked (see the module docstring)."""
    data = json.loads((DATA / FILE).read_text(encoding="utf-8"))
    if set(data) != {"_source", "lists"} or not isinstance(data["lists"], dict):
        raise LexiconError(f"{FILE}: expected the keys '_source' and 'lists', found {sorted(data)}")
    names = set(data["lists"])
    if names != set(LISTS):
        raise LexiconError(f"{FILE}: unknown lists {sorted(names - set(LISTS))}, missing lists {sorted(set(LISTS) - names)}")
    for name, entry in data["lists"].items():
        if not isinstance(entry, dict) or set(entry) != LIST_KEYS or not isinstance(entry["example"], str):
            raise LexiconError(f"{FILE}: {name}: expected the keys {sorted(LIST_KEYS)}")
        words = entry["words"]
        if LISTS[name] is list:
            shaped = _strings(words)
        elif name == "class_members":  # class name -> its drugs
            shaped = isinstance(words, dict) and all(_strings(v) and v for v in words.values())
        else:  # spelling -> canonical name
            shaped = isinstance(words, dict) and all(isinstance(v, str) for v in words.values())
        if not shaped or not words:
            raise LexiconError(f"{FILE}: {name}: 'words' must be a non-empty {LISTS[name].__name__} of names")
        if not any(w and w.lower() in entry["example"].lower() for w in words):
            raise LexiconError(f"{FILE}: {name}: its example {entry['example']!r} holds none of its words")
    return {name: entry["words"] for name, entry in data["lists"].items()}


_WORDS = load_words()

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
MODALITY_WORDS = tuple(_WORDS["modality_words"])
MODALITY_NAMES = dict(_WORDS["modality_names"])  # first match wins

PLACEBO = re.compile(r"\b(?:[Pp]lacebos?|PBO)\b(?!-controlled)")
DRUG_PLACEBO = re.compile(r"^[ -]?(?:(?:matched|matching)\s+)?placebos?\b", re.IGNORECASE)

# Drug classes: placeholders in a statement ("palbociclib with an aromatase inhibitor or
# fulvestrant"), and, when the document gives exactly one regimen of the class, that regimen
# ("zoledronic acid plus chemotherapy").
_MEMBERS = {name: frozenset(drugs) for name, drugs in _WORDS["class_members"].items()}
CYTOTOXICS = _MEMBERS["chemotherapy"]
ENDOCRINE = _MEMBERS["endocrine therapy"]
AROMATASE_INHIBITORS = _MEMBERS["aromatase inhibitor"]
TAXANES = _MEMBERS["taxane"]
ANTHRACYCLINES = _MEMBERS["anthracycline"]
ANTI_HER2 = _MEMBERS["anti-her2 therapy"]
# The class patterns; their members are in regimen_words.json ("class_members").
_CLASS_PATTERNS = {
    "chemotherapy": r"chemotherap(?:y|ies)|cytotoxic (?:therapy|treatment|agents?)",
    "endocrine therapy": r"(?:endocrine|hormon(?:e|al)) (?:therap(?:y|ies)|treatment)|hormonotherapy",
    "aromatase inhibitor": r"(?:non-?steroidal |steroidal )?aromatase inhibitors?",
    "taxane": r"taxanes?",
    "anthracycline": r"anthracyclines?",
    "cdk4/6 inhibitor": r"CDK ?4/6 inhibitors?|cyclin-dependent kinase (?:4/6|4 and 6) inhibitors?",
    "anti-her2 therapy": (r"anti-HER2 (?:therapy|therapies|treatment|agents?|antibod(?:y|ies))|"
                          r"HER2-(?:targeted|directed) (?:therapy|therapies|treatment|agents?)"),
    "ovarian suppression": r"(?:LHRH|LH-RH|GnRH) (?:agonists?|analogues?|analogs?)|ovarian (?:function )?suppression",
    "fluoropyrimidine": r"fluoropyrimidines?",
    "platinum": r"platinum(?:-based)? (?:chemotherapy|agents?|compounds?|salts?)|platinums?",
    "anti-egfr therapy": r"anti-EGFR (?:therapy|therapies|treatment|agents?|antibod(?:y|ies)|monoclonal antibod(?:y|ies))",
    "anti-vegf therapy": r"anti-VEGF(?:R)? (?:therapy|therapies|treatment|agents?|antibod(?:y|ies))",
}
if list(_MEMBERS) != list(_CLASS_PATTERNS):
    raise LexiconError(f"{FILE}: class_members: expected the classes {list(_CLASS_PATTERNS)}, found {list(_MEMBERS)}")
CLASSES: dict[str, tuple[str, frozenset[str]]] = {
    # name: (pattern, member drugs; backbones count as chemotherapy and, with an anthracycline, as such)
    name: (pattern, _MEMBERS[name]) for name, pattern in _CLASS_PATTERNS.items()
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
CLASS_WORDS = tuple(_WORDS["class_words"])
ANTHRACYCLINE_BACKBONES = frozenset(_WORDS["anthracycline_backbones"])

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
PRIOR_WORDS = tuple(_WORDS["prior_words"])
# A drug name that names no treatment: "mammalian target of rapamycin".
NOT_GIVEN_LEAD = re.compile(r"\btarget of\s*$", re.IGNORECASE)
# ... or what follows it: "adjuvant anthracyclines ... were allowed" (eligibility) ...
PRIOR_TAIL = re.compile(r"^[^.;]{0,40}?\b(?:was|were|is|are)\s+(?:not\s+)?(?:allowed|permitted|prohibited|excluded)\b",
                        re.IGNORECASE)
PRIOR_TAIL_WORDS = tuple(_WORDS["prior_tail_words"])  # one of them in every such tail
# ... or a word fused to the drug: "trastuzumab-pretreated", "doxorubicin-induced", "(G-CSF)-supported".
PRIOR_SUFFIX = re.compile(
    r"^\s*+(?:\([^()]*+\)\s*+)?(?:-?\s*+(?:pre-?treated|refractory|resistant|resistance|naive|naïve|induced|exposed|"
    r"experienced|intolerant|failure|failing)|-\s*+(?:mediated|supported|related|associated))\b",
    re.IGNORECASE,
)

# The words (lower case, see ``_lowered``) a sentence needs for the slow case-insensitive
# patterns to find anything in it: searched for once in the whole document, they spare most
# sentences the patterns.
CUES = {"modality": MODALITY_WORDS, "class": CLASS_WORDS, "placebo": tuple(_WORDS["placebo_words"])}

# ---------------------------------------------------------------- connectors
AND, OR, VS, WOW, COMMA, BREAK = "AND", "OR", "VS", "WOW", "COMMA", "BREAK"
CONNECTORS = {AND: _WORDS["connectors_and"], OR: _WORDS["connectors_or"], VS: _WORDS["connectors_vs"],
              WOW: _WORDS["connectors_wow"]}
CONNECTOR_KIND = {phrase: kind for kind, phrases in CONNECTORS.items() for phrase in phrases}
# Dose, schedule and route words between two drugs do not separate them.
FILLER = frozenset(_WORDS["filler"])
NUMBERISH = re.compile(r"(?<!\S)\S*\d\S*")  # (?<!\S): tried at word starts only, where all matches start
# The filler words of a dose itself ("75 mg/m2 once daily"); other filler alone ("on the day of")
# between two drugs does not join them.
DOSE_WORDS = frozenset(_WORDS["dose_words"])
DOTTED_DOSING = re.compile(r"\b(?:[bt]\.i\.d|q\.i\.d|q\.d|o\.d|p\.o|i\.v|s\.c|i\.m)\.?(?!\w)", re.IGNORECASE)
UNIT = re.compile(r"\b(?:mg|µg|μg|mcg|g|iu|units?|ml)(?:\s*/\s*(?:m²|m|kg|day|d|wk|week|dose|ml|min))+\b", re.IGNORECASE)
WORD = re.compile(r"[a-zà-ÿ]+(?:[-'][a-zà-ÿ]+)*|\+/-|\+/−|[,;+/±&–-]")
BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
BRACKET = re.compile(r"[()\[\]]")
OPENING_ONLY = re.compile(r"\s*[(\[]\s*")
UP_TO = re.compile(r"\bup to\b")
# The separators that open or close a phrase. The closing ones are taken from where their run of
# white space, commas and semicolons starts (the look-behind: none of them before its first
# character), so a search does not re-scan a long run from each of its positions.
OUTER_SEPARATORS = re.compile(r"^(?:[,;]\s*)+|[\s,;](?<![\s,;][\s,;])[\s,;]*(?<=[,;])$")
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
    r"^(?:\s*+,\s*+respectively\b|\s*+[^\s(\[](?>(?:[^.;]|\.\d)*?(?:%|\b(?:months?|weeks?|years?|days?)\b))"
    r"(?:[^.;]|\.\d)*\brespectively\b)",
    re.IGNORECASE,
)
# The word every RESPECTIVELY match holds (lower case, see ``_lowered``): looked for first, since
# RESPECTIVELY scans the rest of the sentence once per statement (issue 15: quadratic in a
# sentence of 3,000 characters); a word test, not a case-insensitive search (10x the time).
RESPECTIVELY_WORDS = ("respectively",)
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
ARM_WORDS = tuple(_WORDS["arm_words"])
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
ABBREVIATED_MODIFIERS = tuple(_WORDS["abbreviated_modifiers"])  # (in this order in a pattern)
NOT_ABBREVIATIONS = frozenset(_WORDS["not_abbreviations"])
MAX_ARMS = 12  # a statement never gives more regimens than this
ITEM_RANK = {"DRUG": 1, "BACKBONE": 1, "MODALITY": 2, "REGIMEN": 3, "PLACEBO": 4, "CLASS": 5}  # on a tie, first
