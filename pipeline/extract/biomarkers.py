"""Biomarker statuses other than HER2 (RAS, BRAF, MMR/MSI, hormone receptors, Ki67...), by regular
expression over a sentence; the markers and their surface forms come from pipeline/data/biomarkers.json, their
status words from pipeline/data/biomarker_statuses.json."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline.extract.context import SentenceView
from pipeline.extract.lexicon import load_lexicons
from pipeline.extract.marker_common import DISEASE_NEXT, HER2_AT, HER2_AT_CAPITALS, SIGN_END, SPACED
from pipeline.extract.marker_vocabulary import biomarker_vocabulary, words_pattern
from pipeline.records import BiomarkerRecord

HER2_IN_LIST = re.compile(HER2_AT)  # a receptor status shared with HER2 (see extract_biomarkers)

# The status words, the kinds of marker (which decide how a status is read) and the markers
# whose name carries a status come from pipeline/data/biomarker_statuses.json.
SIGN_STATUS = rf"\+(?![\w+])|\s?\(\+\)|(?:-|−){SIGN_END}|\s?\([-−]\)|{SPACED}[+−-]{DISEASE_NEXT}"
SIGNS = {"+": "positive", "(+)": "positive", "-": "negative", "−": "negative", "(-)": "negative", "(−)": "negative"}
THRESHOLD = (r"\s*(?:labell?ing\s+index|index|expression|levels?|score|staining)?\s*(?:of\s*)?"
             r"(?:(?P<op>≥|>=|>|≤|<=|<)\s*\d+(?:\.\d+)?\s*%"
             r"|\d+(?:\.\d+)?\s*%\s*or\s+(?P<dir>higher|more|greater|above|less|lower|below))")
DETAIL_ONLY = ("gene", "status", "expression", "protein")  # words the detail group reads that are no detail


def _kind(name: str) -> frozenset[str]:
    """The markers of a kind of biomarker_statuses.json ("mutable", "hormone receptor"...)."""
    return biomarker_vocabulary().kinds[name]


def _named() -> dict[str, tuple[str, str]]:
    return biomarker_vocabulary().named


@lru_cache(maxsize=1)
def _gene_names() -> dict[str, str]:
    """surface -> canonical marker; spelled-out (lower-case) names are also found by their lower case."""
    genes = dict(load_lexicons().genes)
    genes.update({s.lower(): g for s, g in list(genes.items()) if s.islower()})
    return genes


@dataclass(frozen=True)
class MarkerPatterns:
    status_after: re.Pattern  # "KRAS exon 2 wild-type", "ER+", "BRAF mutations were not detected"
    status_before: re.Pattern  # "wild-type KRAS", "high Ki67", "deficient mismatch repair"
    cutoff: re.Pattern  # "Ki-67 index of 20% or higher"
    gene: re.Pattern  # one marker name
    mutation_negated: re.Pattern  # "no KRAS mutation" (the text before the match)
    negation_after: re.Pattern  # "... were not detected" (after the match)


@lru_cache(maxsize=1)
def _gene_patterns() -> MarkerPatterns:
    vocab = biomarker_vocabulary()
    surfaces = sorted((s for s in _gene_names() if s not in vocab.named), key=len, reverse=True)
    # spelled-out names also start sentences and titles ("Hormone Receptor-Positive"); acronyms keep their case
    alternation = "|".join(rf"(?i:{re.escape(s)})" if s.islower() else re.escape(s) for s in surfaces)
    # HER2 may sit in a list of receptors ("ER, PR and HER2 negative"): it is read, not recorded, here
    alternation += "|" + HER2_AT
    # a marker, maybe with its acronym in brackets: "estrogen receptor (ER)", "hormone receptor (HR)"
    gene = rf"(?<![A-Za-z0-9-])(?:{alternation})(?![A-Za-z0-9])(?:\s*\([A-Za-z0-9-]{{1,10}}\)(?=[\s-]))?"
    # items joined by commas, slashes and words; "ER- and PR-positive" shares the later word
    join = r"(?:\s*,\s*(?:and/or\s+|and\s+|or\s+)?|-?\s+(?:and/or|and|or)\s+|\s*/\s*|\s*&\s*)"
    # (at most eight: a bounded list keeps a failed match from retrying every shorter list of a long run)
    genes_group = rf"(?P<genes>{gene}(?:{join}{gene}){{0,7}})"
    detail = (r"(?P<detail>\s*(?:exon\s*\d+(?:\s*(?:,|and)\s*\d+)*|codon\s*\d+|V600E|[A-Z]\d{2,4}[A-Z](?![a-z])"
              rf"|{'|'.join(DETAIL_ONLY)}))?")
    status_word = words_pattern([f for forms in vocab.statuses.values() for f in forms])
    before_word = words_pattern([f for entry in vocab.statuses_before for f in entry.forms])
    return MarkerPatterns(
        status_after=re.compile(
            rf"{genes_group}{detail}"
            rf"(?:(?P<sign>{SIGN_STATUS})"
            rf"|(?:\s*(?:was|were|is|are|both|all|being|tumou?rs?)){{0,2}}[\s:–-]*"
            rf"(?P<status>{status_word})(?![A-Za-z0-9]))"
            # "RAS WT or mutant": both statuses
            rf"(?:\s*+(?:or|and|and/or|/)\s*+(?P<second>{words_pattern(vocab.second_statuses)})(?![\w-]))?",
        ),
        status_before=re.compile(
            rf"(?<![A-Za-z-])(?P<status>{before_word})[\s-]+(?:\([^()]{{1,15}}\)\s*)?{genes_group}"
        ),
        cutoff=re.compile(rf"{genes_group}{THRESHOLD}"),
        gene=re.compile(gene),
        mutation_negated=re.compile(rf"\b{words_pattern(vocab.mutation_negation)}\s+(?:\w+\s+)?$"),
        negation_after=re.compile(rf"(?<!\s)\s*+(?:was|were|is|are)\s+{words_pattern(vocab.negation_after)}(?![A-Za-z])"),
    )


@lru_cache(maxsize=1)
def _marker_cues() -> tuple[re.Pattern, tuple[str, ...]]:
    """What every marker name holds, for cheap tests: a name written with capitals (matched as
    written) its part from the first capital on ("RAS" of "all-RAS"), all found by a pattern
    that Python's re scans for fast; a lower-case name (matched in any case) its last word,
    looked for in the lower-case text (SentenceView.lowered)."""
    names = [*_gene_names(), *_named()]
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
    """Whether the sentence names a marker (``gene`` of _gene_patterns) or a named one ("dMMR");
    the cheap tests of has_marker_cue rule most sentences out first."""
    if not has_marker_cue(view.text, view.lowered):
        return False
    return _gene_patterns().gene.search(view.text) is not None or any(surface in view.text for surface in _named())


def extract_biomarkers(view: SentenceView) -> list[BiomarkerRecord]:
    text = view.text
    # Each pattern but the named markers starts from a marker name: one test rules most sentences out.
    if not _names_marker(view):
        return []
    p, vocab = _gene_patterns(), biomarker_vocabulary()
    receptors, hormone_receptors, mutable = _kind("receptor"), _kind("hormone receptor"), _kind("mutable")
    records = []
    for m in p.status_after.finditer(text):
        status = SIGNS.get(m.group("sign").strip()) if m.group("sign") else vocab.status_of(m.group("status"))
        if status is None:
            continue
        if status == "mutated" and (p.mutation_negated.search(text[max(0, m.start() - 30): m.start()])
                                    or p.negation_after.match(text, m.end())):
            status = "wild-type"  # "no KRAS mutation", "BRAF mutations were not detected"
        detail = (m.group("detail") or "").strip() or None
        if detail in DETAIL_ONLY:
            detail = None
        attached = m.group("status") is None or text[m.start("status") - 1] == "-"  # "ER-low", "ER+"
        with_her2 = status in ("positive", "negative") and HER2_IN_LIST.search(m.group("genes")) is not None
        for gene in _genes_of(m):
            if with_her2 and gene not in receptors:
                continue  # a receptor status shared with HER2: "ER, PR and HER2 negative", not "KRAS and HER2-negative"
            if gene in hormone_receptors and status in ("high", "low") and not attached:
                continue  # "PR was high" is a partial-response rate; "ER-low" is a receptor status
            gene_status = status
            if status == "absent":
                gene_status = "wild-type" if gene in mutable else "negative"
            records.append(_biomarker(view, m, gene, gene_status, detail, "biomarker.status_after"))
            second = vocab.status_of(m.group("second")) if m.group("second") else None
            if second is not None and second != gene_status:
                records.append(_biomarker(view, m, gene, second, detail, "biomarker.second_status"))
    for m in p.status_before.finditer(text):
        before = vocab.before(m.group("status"))
        for gene in _genes_of(m):
            if before is not None and gene in before.markers:
                records.append(_biomarker(view, m, gene, before.status, None, "biomarker.status_before"))
    for m in p.cutoff.finditer(text) if "%" in text else ():  # (a cut-off is a percentage)
        above = m.group("op") in ("≥", ">=", ">") or m.group("dir") in ("higher", "more", "greater", "above")
        for gene in _genes_of(m):
            if gene in _kind("proliferation"):
                records.append(_biomarker(view, m, gene, "high" if above else "low", None, "biomarker.cutoff"))
            elif gene in hormone_receptors:
                records.append(_biomarker(view, m, gene, "positive" if above else "negative", None, "biomarker.cutoff"))
    for surface, (gene, status) in _named().items():
        if surface not in text:  # (as the pattern needs: most sentences are ruled out before it is built)
            continue
        for m in re.finditer(rf"(?<![A-Za-z0-9]){re.escape(surface)}(?![A-Za-z0-9])", text):
            records.append(_biomarker(view, m, gene, status, None, "biomarker.named"))
    return records


def _genes_of(m: re.Match) -> list[str]:
    """The canonical markers a matched list names, read the way breast and colorectal abstracts mean them."""
    return list(_genes_named(m.group("genes")))


@lru_cache(maxsize=4096)  # the same few lists ("HER2", "ER and PR") come back in sentence after sentence
def _genes_named(listed: str) -> tuple[str, ...]:
    genes = _gene_names()
    names = []
    # the list's items, read with the same pattern that found them ("BRCA1/2" and "HER2/neu" are one item)
    for item in _gene_patterns().gene.finditer(listed):
        surface = re.sub(r"\s*\([^()]*\)$", "", item.group(0))  # drop a bracketed acronym
        gene = genes.get(surface) or genes.get(surface.lower())
        if gene and gene not in names:
            names.append(gene)
    # "BRCA1 and/or BRCA2 mutation": one fact about BRCA1/2
    if "BRCA1" in names and "BRCA2" in names:
        names = [g for g in names if g not in ("BRCA1", "BRCA2")] + ["BRCA1/2"]
    # "ER or PR positive" is the definition of hormone-receptor positive
    if set(names) == {"ER", "PR"} and re.search(r"\bor\b", listed):
        names = ["HR"]
    return tuple(names)


def _biomarker(view: SentenceView, m: re.Match, gene: str, status: str, detail: str | None,
               rule: str) -> BiomarkerRecord:
    return BiomarkerRecord(start=view.start + m.start(), end=view.start + m.end(), text=m.group(0),
                           sentence=view.sentence.index, rule=rule, gene=gene, status=status, detail=detail)
