"""Biomarker statuses other than HER2 (RAS, BRAF, MMR/MSI, hormone receptors, Ki67...), by regular
expression over a sentence; the markers and their surface forms come from pipeline/data/biomarkers.json."""

from __future__ import annotations

import re
from functools import lru_cache

from pipeline.extract.context import SentenceView
from pipeline.extract.lexicon import load_lexicons
from pipeline.extract.marker_common import (DISEASE_NEXT, HER2_AT, HER2_AT_CAPITALS, NEGATION_AFTER, SIGN_END,
                                            SPACED)
from pipeline.records import BiomarkerRecord

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
