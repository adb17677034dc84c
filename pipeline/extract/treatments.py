"""Trial mentions and regimens (drug combinations) of a sentence."""

from __future__ import annotations

import re

from pipeline.extract.context import Mention, SentenceView
from pipeline.records import RegimenRecord, TrialRecord

# Words that join the drugs of one regimen: "trastuzumab plus pertuzumab", "tegafur, pyrotinib
# combined with radiotherapy", "mXELIRI ... combined with trastuzumab".
JOINER = re.compile(
    r"^\s*(?:,|\+|/|-|–|plus|and|with|combined with|in combination with|in conjunction with|together with|"
    r"followed by|then|or|and/or|,\s*and|,\s*followed by)\s*$",
    re.IGNORECASE,
)
# A dose between two drugs does not separate them: "tucatinib 300 mg twice daily and trastuzumab".
DOSE = re.compile(
    r"\s*\(?\d+(?:\.\d+)?\s*(?:mg|µg|mcg|g|IU|AUC)(?:/(?:m2|m²|kg))?(?:/(?:day|d|week))?\)?"
    r"(?:\s*(?:(?:once|twice|three times)\s+(?:daily|a day|weekly)|orally|intravenously|i\.v\.|p\.o\.|"
    r"(?:every|each)\s+\d+\s+(?:weeks?|days?)|q\dw|on days? [\d, and-]+|daily|weekly))*",
    re.IGNORECASE,
)
MODALITY = re.compile(
    r"\b(?:(?:whole[- ]brain |stereotactic |external[- ]beam |hypofractionated |adjuvant |concurrent )?"
    r"(?:radiotherapy|radiation therapy|irradiation|chemoradiotherapy|chemoradiation|WBRT|SBRT|surgery|"
    r"resection|mastectomy|oophorectomy))\b(?:\s*\(?\d+(?:\.\d+)?\s*Gy(?:/\d+\s*f\w*)?\)?)?",
    re.IGNORECASE,
)
MODALITY_NAMES = {"wbrt": "radiotherapy", "sbrt": "radiotherapy", "irradiation": "radiotherapy",
                  "radiation therapy": "radiotherapy", "chemoradiation": "chemoradiotherapy",
                  "resection": "surgery", "mastectomy": "surgery"}


def extract_trials(view: SentenceView) -> list[TrialRecord]:
    named = [t for t in view.trials if t.label != "REGISTRY"]
    ids = {t.canonical: _registry_owner(view, t, named) for t in view.trials if t.label == "REGISTRY"}
    records = []
    for t in view.trials:
        if t.label == "REGISTRY":
            nct = t.canonical
        else:
            nct = next((rid for rid, owner in ids.items() if owner is t), None)
        records.append(
            TrialRecord(start=t.start, end=t.end, text=t.text, sentence=view.sentence.index,
                        rule=f"trial.{t.label.lower()}", name=t.canonical, nct=nct)
        )
    return records


def _registry_owner(view: SentenceView, registry: Mention, named: list[Mention]) -> Mention | None:
    """The named trial a registry id identifies: "DESTINY-CRC02 (NCT04744831)", or the only
    trial named in the sentence."""
    before = [t for t in named if t.end <= registry.start and registry.start - t.end <= 40]
    if before:
        return before[-1]
    return named[0] if len(named) == 1 else None


def regimen_groups(view: SentenceView) -> list[list[Mention]]:
    """Drug and modality mentions grouped into regimens by the words between them."""
    text, base = view.text, view.start
    mentions = list(view.drugs)
    for m in MODALITY.finditer(text):
        name = m.group(0).lower()
        canonical = next((v for k, v in MODALITY_NAMES.items() if k in name), None)
        canonical = canonical or ("radiotherapy" if "radio" in name else "surgery" if "surg" in name else name.split()[-1])
        mentions.append(Mention(base + m.start(), base + m.end(), m.group(0), "MODALITY", canonical))
    mentions.sort(key=lambda m: m.start)
    groups: list[list[Mention]] = []
    for m in mentions:
        if groups:
            previous = groups[-1][-1]
            between = text[previous.end - base : m.start - base]
            # "mFOLFOX6 (oxaliplatin, leucovorin, and fluorouracil)": a backbone's components
            # in parentheses belong to the backbone, not to the regimen a second time.
            if previous.label == "BACKBONE" and between.strip().startswith("(") and m.label == "DRUG":
                groups[-1].append(Mention(m.start, m.end, m.text, "COMPONENT", m.canonical))
                continue
            if groups[-1][-1].label == "COMPONENT" and re.match(r"^\s*(?:,|and|,\s*and)\s*$", between):
                groups[-1].append(Mention(m.start, m.end, m.text, "COMPONENT", m.canonical))
                continue
            between = re.sub(r"^\s*\)\s*", " ", between) if groups[-1][-1].label == "COMPONENT" else between
            between = DOSE.sub(" ", between)
            if JOINER.match(between):
                groups[-1].append(m)
                continue
        groups.append([m])
    return [g for g in groups if any(m.label in ("DRUG", "BACKBONE") for m in g)]


def regimen_drugs(group: list[Mention]) -> list[str]:
    drugs = []
    for m in group:
        if m.label in ("DRUG", "BACKBONE") and m.canonical not in drugs:
            drugs.append(m.canonical)
    return drugs


def extract_regimens(view: SentenceView, groups: list[list[Mention]]) -> list[RegimenRecord]:
    """One record per regimen group of the sentence (``groups`` from ``regimen_groups(view)``)."""
    records = []
    for group in groups:
        other = []
        for m in group:
            if m.label == "MODALITY" and m.canonical not in other:
                other.append(m.canonical)
        start, end = group[0].start, group[-1].end
        records.append(
            RegimenRecord(start=start, end=end, text=view.text[start - view.start : end - view.start],
                          sentence=view.sentence.index, rule="regimen.joined" if len(group) > 1 else "regimen.single",
                          drugs=regimen_drugs(group), other=other)
        )
    return records
