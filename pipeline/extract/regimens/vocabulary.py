"""The regimen reader's vocabulary: modality, placebo, drug-class, earlier-treatment and connector
cue words and the patterns built from them.
"""

from __future__ import annotations

import re

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
