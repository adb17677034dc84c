"""HER2 criteria and other biomarker statuses, by regular expression over a sentence.

HER2 criteria follow the ASCO/CAP 2018 HER2 testing guideline vocabulary (IHC 0/1+/2+/3+,
ISH HER2:CEP17 ratio >= 2.0 with copy number >= 4.0) and the HERACLES criteria for colorectal
cancer (IHC 3+ in > 50% of cells, or IHC 2+ with HER2:CEP17 >= 2 in > 50% of cells).
"""

from __future__ import annotations

import re
from functools import lru_cache

from pipeline.extract.context import SentenceView
from pipeline.extract.lexicon import load_lexicons
from pipeline.records import BiomarkerRecord, Her2Record

HER2 = r"(?<![A-Za-z0-9-])(?:HER-?2(?:/neu)?|ERBB-?2|ErbB-?2|c-erbB-?2)"
HER2_AT = r"(?:HER-?2(?:/neu)?|ERBB-?2|ErbB-?2|c-erbB-?2)"  # may be glued to a word ("theHER2")
ISH_METHOD = r"(FISH|CISH|SISH|DISH|ISH)"
IHC_SCORE = re.compile(
    rf"(?:\bIHC|immunohistochemistry|{HER2_AT})\s*(?:\(IHC\)\s*)?(?:IHC\s*)?(?:score\s*(?:of\s*)?)?[:=]?\s*([0-3])\s?\+(?!\s*\d)",
)
IHC_ISH = re.compile(rf"\bIHC\s*2\s?\+\s*(?:/|and|with|plus|&)?\s*(?:{ISH_METHOD}|ISH)\s*(?:\+|positive|-positive|amplified)")
ISH_RESULT = re.compile(rf"\b{ISH_METHOD}[\s-]*(positive|negative|amplified|non-amplified|\+(?![\w+]))", re.IGNORECASE)
RATIO = re.compile(
    rf"{HER2_AT}\s*[:/]\s*CEP\s*17\s*(?:ratio\s*)?(?:of\s*)?(≥|>=|>|≤|<|=)?\s*(\d+(?:\.\d+)?)", re.IGNORECASE
)
COPY_NUMBER = re.compile(
    r"\b(?:copy number|gene copy number|GCN|CN)\s*(?:\([A-Z]+\)\s*)?[:=]?\s*(?:of\s*)?(≥|>=|>|≤|<)?\s*(\d+(?:\.\d+)?)",
    re.IGNORECASE,
)
STATUS = re.compile(
    rf"{HER2_AT}(?:\s*\((?:also known as )?[A-Za-z0-9/ ]+\))?[\s-]*"
    r"(positive|negative|low|ultralow|overexpress(?:ed|ing|ion)|amplified|amplification|\+(?![\w+])|diffuse positive)"
    r"(?:\s+(?:or|and|and/or)\s+(overexpression|amplification))?",
    re.IGNORECASE,
)
NGS = re.compile(r"\b(?:NGS|next[- ]generation sequencing|sequencing)\b", re.IGNORECASE)
IHC_CONTEXT = re.compile(r"\b(?:IHC|immunohistochemi\w*)\b", re.IGNORECASE)

RESULT_WORDS = {
    "positive": "positive", "+": "positive", "diffuse positive": "positive", "negative": "negative",
    "low": "low", "ultralow": "low", "amplified": "amplified", "amplification": "amplified",
    "overexpressed": "overexpression", "overexpressing": "overexpression", "overexpression": "overexpression",
    "non-amplified": "negative",
}


def extract_her2(view: SentenceView) -> list[Her2Record]:
    text = view.text
    found: list[tuple[int, int, str, str | None, str | None, str]] = []  # start, end, method, result, threshold, rule

    for m in IHC_ISH.finditer(text):
        found.append((m.start(), m.end(), "IHC", "2+", None, "her2.ihc_ish"))
        found.append((m.start(), m.end(), m.group(1) or "ISH", "positive", None, "her2.ihc_ish"))
    for m in IHC_SCORE.finditer(text):
        if re.search(HER2_AT + r"|\bIHC\b", text[max(0, m.start() - 40) : m.end()]):
            found.append((m.start(), m.end(), "IHC", f"{m.group(1)}+", None, "her2.ihc_score"))
    for m in ISH_RESULT.finditer(text):
        result = RESULT_WORDS.get(m.group(2).lower(), "positive")
        found.append((m.start(), m.end(), m.group(1).upper(), result, None, "her2.ish"))
    for m in RATIO.finditer(text):
        op = {">=": "≥", "=": ""}.get(m.group(1) or "", m.group(1) or "")
        threshold = f"HER2:CEP17 {op} {m.group(2)}".replace("  ", " ")
        method = next((g for g in ("FISH", "CISH", "SISH") if g in text), "ISH")
        found.append((m.start(), m.end(), method, "amplified", threshold.replace("≥", ">="), "her2.ratio"))
    for m in STATUS.finditer(text):
        word = m.group(1).lower()
        result = RESULT_WORDS.get(word, "positive")
        method = "status"
        threshold = None
        if result == "amplified" and NGS.search(text):
            method = "NGS"
            cn = COPY_NUMBER.search(text, m.end(), min(len(text), m.end() + 60))
            if cn:
                threshold = f"copy number {cn.group(1) or ''}{cn.group(2)}".replace("number ≥", "number >=")
        elif word == "diffuse positive" and IHC_CONTEXT.search(text):
            method = "IHC"  # "immunohistochemistry showed ... HER2 diffuse positive"
        found.append((m.start(), m.end(), method, result, threshold, "her2.status"))
        if m.group(2):
            found.append((m.start(), m.end(), "status", RESULT_WORDS[m.group(2).lower()], None, "her2.status"))
    records = []
    for start, end, method, result, threshold, rule in found:
        records.append(
            Her2Record(start=view.start + start, end=view.start + end, text=text[start:end],
                       sentence=view.sentence.index, rule=rule, method=method, result=result, threshold=threshold)
        )
    return records


# ---------------------------------------------------------------------------- biomarkers
STATUS_WORDS = (
    r"wild[- ]?type|WT|mutant|mutated|mutations?|positive|negative|amplified|amplification|high|low|"
    r"deficient|proficient|stable|unstable|\+(?![\w+])|−(?!\d)|-(?=[\s,;)/]|$)"
)
BIOMARKER_STATUS = {
    "wild-type": "wild-type", "wildtype": "wild-type", "wild type": "wild-type", "wt": "wild-type",
    "mutant": "mutated", "mutated": "mutated", "mutation": "mutated", "mutations": "mutated",
    "positive": "positive", "+": "positive", "negative": "negative", "−": "negative", "-": "negative",
    "amplified": "amplified", "amplification": "amplified", "high": "high", "low": "low",
    "deficient": "deficient", "proficient": "proficient", "stable": "stable", "unstable": "high",
}
SPECIAL_MARKERS = {"MSI-H": ("MSI", "high"), "MSS": ("MSI", "stable"), "dMMR": ("MMR", "deficient"), "pMMR": ("MMR", "proficient")}


@lru_cache(maxsize=1)
def _gene_pattern() -> re.Pattern:
    genes = load_lexicons().genes
    surfaces = sorted((s for s in genes if s not in SPECIAL_MARKERS), key=len, reverse=True)
    alternation = "|".join(re.escape(s) for s in surfaces)
    gene = rf"(?<![A-Za-z0-9-])(?:{alternation})(?![A-Za-z0-9])"
    return re.compile(
        rf"(?P<genes>{gene}(?:\s*(?:,|and|or|and/or|/)\s*{gene})*)"
        rf"(?P<detail>\s*(?:exon\s*\d+(?:\s*(?:,|and)\s*\d+)*|codon\s*\d+|V600E|gene|status|expression|protein))?"
        rf"(?:\s*(?:was|were|is|are|both|all|being|tumou?rs?)){{0,2}}[\s:-]*"
        rf"(?P<status>(?i:{STATUS_WORDS}))(?![A-Za-z0-9])",
    )


def extract_biomarkers(view: SentenceView) -> list[BiomarkerRecord]:
    genes = load_lexicons().genes
    text = view.text
    records = []
    for m in _gene_pattern().finditer(text):
        status = BIOMARKER_STATUS.get(m.group("status").lower())
        if status is None:
            continue
        detail = (m.group("detail") or "").strip() or None
        if detail in ("gene", "status", "expression", "protein"):
            detail = None
        names = re.split(r"\s*(?:,|and/or|and|or|/)\s*", m.group("genes"))
        for surface in names:
            gene = genes.get(surface.strip())
            if gene:
                records.append(_biomarker(view, m, gene, status, detail))
    for surface, (gene, status) in SPECIAL_MARKERS.items():
        for m in re.finditer(rf"(?<![A-Za-z0-9]){re.escape(surface)}(?![A-Za-z0-9])", text):
            records.append(_biomarker(view, m, gene, status, None))
    return records


def _biomarker(view: SentenceView, m: re.Match, gene: str, status: str, detail: str | None) -> BiomarkerRecord:
    return BiomarkerRecord(start=view.start + m.start(), end=view.start + m.end(), text=m.group(0),
                           sentence=view.sentence.index, rule="biomarker.status", gene=gene, status=status, detail=detail)
