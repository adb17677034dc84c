"""Extractors for trials, regimens, HER2 criteria and biomarkers, and the seed case report."""

from __future__ import annotations

from pipeline.document import Document
from pipeline.extract import analyse


def records(text: str, kind: str):
    return [r for r in analyse(Document(source="t.txt", format="text", text=text)).records if r.type == kind]


def test_trial_names_ids_and_typos(nlp):
    text = ("In the HERACLES-A trail, patients received trastuzumab. The phase II study DESTINY-CRC02 "
            "(NCT04744831) enrolled 122 patients, as did the NSABP B-31 trial.")
    found = {(r.name, r.nct) for r in records(text, "trial")}
    assert ("HERACLES-A", None) in found
    assert ("DESTINY-CRC02", "NCT04744831") in found
    assert ("NCT04744831", "NCT04744831") in found
    assert ("NSABP B-31", None) in found


def test_drugs_genes_and_endpoints_are_not_trials(nlp):
    text = "The KRAS study and the PFS analysis of the trastuzumab trial were in phase II study reports."
    assert records(text, "trial") == []


def test_unknown_acronym_before_trial_word(nlp):
    names = {r.name for r in records("Results of the FALCONER trial are awaited.", "trial")}
    assert names == {"FALCONER"}


def test_regimens_group_joined_drugs_and_map_brand_names(nlp):
    text = "Patients received Herceptin plus pertuzumab, or T-DXd alone, or tegafur, pyrotinib combined with radiotherapy."
    found = {(tuple(sorted(r.drugs)), tuple(r.other)) for r in records(text, "regimen")}
    assert (("pertuzumab", "trastuzumab"), ()) in found
    assert (("trastuzumab deruxtecan",), ()) in found
    assert (("pyrotinib", "tegafur"), ("radiotherapy",)) in found


def test_backbone_components_stay_inside_the_backbone(nlp):
    text = "She received mFOLFOX6 (oxaliplatin, leucovorin, and fluorouracil) for four cycles."
    assert [r.drugs for r in records(text, "regimen")] == [["mFOLFOX6"]]


def test_her2_criteria(nlp):
    text = ("HER2 positivity was defined as IHC 3+ or IHC 2+/ISH+ with a HER2:CEP17 ratio >= 2.0; "
            "HER2-negative and HER2-low tumours were excluded.")
    found = {(r.method, r.result) for r in records(text, "her2")}
    assert {("IHC", "3+"), ("IHC", "2+"), ("ISH", "positive"), ("status", "negative"), ("status", "low")} <= found
    ratio = [r for r in records(text, "her2") if r.threshold]
    assert ratio and ratio[0].threshold == "HER2:CEP17 >= 2.0"


def test_her2_by_sequencing_keeps_copy_number(nlp):
    text = "Next-generation sequencing revealed HER2 amplification (copy number: 31.5)."
    found = records(text, "her2")
    assert [(r.method, r.result, r.threshold) for r in found] == [("NGS", "amplified", "copy number 31.5")]


def test_biomarkers_with_coordination_and_negation_words(nlp):
    text = "RAS and BRAF were negative; tumours were KRAS exon 2 wild-type and ER-positive, PR-negative."
    found = {(r.gene, r.status, r.detail) for r in records(text, "biomarker")}
    assert ("RAS", "negative", None) in found
    assert ("BRAF", "negative", None) in found
    assert ("KRAS", "wild-type", "exon 2") in found
    assert ("ER", "positive", None) in found
    assert ("PR", "negative", None) in found


def test_hazard_ratio_is_not_hormone_receptor(nlp):
    text = "In HR-positive disease the HR for PFS was 0.58 (95% CI 0.46-0.72)."
    assert {(r.gene, r.status) for r in records(text, "biomarker")} == {("HR", "positive")}
    assert [(r.measure, r.value) for r in records(text, "outcome")] == [("hr", 0.58)]


def test_trial_named_in_previous_sentence(nlp):
    text = ("MyPathway was a basket study of trastuzumab plus pertuzumab. "
            "Among 57 patients with colorectal cancer, the ORR was 32%.")
    (outcome,) = records(text, "outcome")
    assert outcome.trial == "MyPathway"
    assert outcome.drugs == ["trastuzumab", "pertuzumab"]


def test_seed_case_report(shared_corpus):
    """The project's seed document: its trial names and response/survival figures with trials."""
    path = next((shared_corpus / "seed").glob("000_*.txt"))
    analysis = analyse(Document(source=str(path), format="text", text=path.read_text(encoding="utf-8")))
    trials = {r.name for r in analysis.records if r.type == "trial"}
    assert {"HERACLES-A", "MyPathway", "DESTINY-CRC01", "DESTINY-CRC02", "SUMMIT"} <= trials
    figures = {(r.trial, r.endpoint, r.measure, r.value) for r in analysis.records if r.type == "outcome"}
    assert ("HERACLES-A", "ORR", "rate", 30.0) in figures
    assert ("HERACLES-A", "OS", "median", 46.0) in figures
    assert ("HERACLES-A", "PFS", "median", 21.0) in figures
    assert ("MyPathway", "ORR", "rate", 31.9) in figures
    assert ("DESTINY-CRC01", "ORR", "rate", 57.5) in figures
    assert ("SUMMIT", "ORR", "rate", 22.0) in figures
    orr30 = next(r for r in analysis.records if r.type == "outcome" and r.value == 30.0)
    assert (orr30.count, orr30.total) == (8, 27)
    # no prevalence figure ("2%–11% of mCRC") comes out as an outcome
    assert not any(r.type == "outcome" and r.value in (2.0, 11.0, 25.0, 40.0) for r in analysis.records)
