"""Hard cases for HER2 criteria and biomarker statuses: the many ways abstracts write them.

Sentences are invented for these tests. Each test runs the whole analysis (segmentation, then the
per-sentence rules, then the document-level HER2 settlement), so what is asserted is what an export
would hold.
"""

from __future__ import annotations

import pytest

from pipeline.document import Document
from pipeline.extract import analyse


def analysed(text: str):
    return analyse(Document(source="hard.txt", format="text", text=text)).records


def her2(text: str) -> set[tuple[str, str]]:
    return {(r.method, r.result) for r in analysed(text) if r.type == "her2"}


def markers(text: str) -> set[tuple[str, str]]:
    return {(r.gene, r.status) for r in analysed(text) if r.type == "biomarker"}


# ---------------------------------------------------------------------------- HER2: statuses


@pytest.mark.parametrize("text, expected", [
    ("Women with human epidermal growth factor receptor 2-negative disease were enrolled.", ("status", "negative")),
    ("Eligible tumours were human epidermal growth factor receptor 2 (HER2)-positive.", ("status", "positive")),
    ("We studied human epidermal growth factor receptor type 2 (HER2) -overexpressing tumours.",
     ("status", "overexpression")),
    ("Patients had HER2/neu-positive gastric adenocarcinoma.", ("status", "positive")),
    ("Cohort B enrolled HR+/HER2- advanced disease.", ("status", "negative")),
    ("Cohort C enrolled HER2(-) tumours only.", ("status", "negative")),
    ("Cohort D enrolled HER2 + metastatic breast cancer.", ("status", "positive")),
    ("Cohort E took tumours that overexpress HER2.", ("status", "overexpression")),
    ("HER2 was not amplified in the remaining samples.", ("status", "negative")),
])
def test_her2_status_surfaces(text, expected):
    assert her2(text) == {expected}


def test_negated_overexpression_is_a_negative_status():
    assert her2("Chemotherapy for operable disease without HER2 overexpression.") == {("status", "negative")}


def test_with_or_without_is_not_a_negation():
    assert her2("Patients with or without HER2 amplification were randomised.") == {("status", "amplified")}


def test_targeted_and_suspended_hyphens_are_not_negative_statuses():
    assert her2("Dual HER2- and HER3-targeted antibodies were combined with anti-HER2 therapy.") == set()


def test_hyphen_broken_over_a_line_is_read_as_one_word():
    assert her2("Tucatinib was active in HER2-\namplified colorectal cancer.") == {("status", "amplified")}


def test_both_results_of_a_coordinated_status():
    assert her2("Tumours with HER2 amplification or overexpression were eligible.") == {
        ("status", "amplified"), ("status", "overexpression")}


# ---------------------------------------------------------------------------- HER2: methods


def test_method_named_after_the_status_replaces_status():
    assert her2("HER2-positive cases confirmed centrally by FISH received trastuzumab.") == {("FISH", "positive")}


def test_method_named_before_the_status():
    assert her2("Only IHC-confirmed HER2 overexpression qualified.") == {("IHC", "overexpression")}


def test_declared_test_method_carries_to_later_sentences():
    text = ("Immunohistochemistry was performed to determine HER2 status in all tumours. "
            "Of these, 40 tumours were HER2-negative.")
    assert her2(text) == {("IHC", "negative")}


def test_declared_method_only_takes_results_it_can_show():
    text = ("HER2 expression was assessed by immunohistochemistry. "
            "Tumours were HER2-amplified in 12 cases and HER2-positive in 30.")
    assert her2(text) == {("status", "amplified"), ("IHC", "positive")}


def test_two_declared_methods_leave_bare_statuses_alone():
    text = ("HER2 was assessed by IHC and by FISH in a central laboratory. "
            "Of these, 40 tumours were HER2-negative.")
    assert ("status", "negative") in her2(text)


def test_bare_statuses_stand_beside_the_criteria_that_define_them():
    # Gold convention (GOLD_FORMAT.md, HER2 mCRC set): "HER2-positive" and "HER2-low" are criteria of
    # their own even where the same text defines them by IHC and ISH results; IHC 1+ is result "1+".
    text = ("A phase 2 study.\nEligibility required HER2-positive disease, that is IHC 3+ or ISH-positive. "
            "The HER2-low cohort required IHC 1+ or IHC 2+ with ISH-negative results; "
            "HER2-negative tumours were excluded.")
    found = her2(text)
    assert {("ISH", "positive"), ("status", "positive"), ("IHC", "1+"), ("IHC", "2+"), ("status", "low"),
            ("ISH", "negative"), ("status", "negative")} <= found
    assert ("IHC", "low") not in found


def test_bare_status_repeating_a_tested_status_phrase_is_dropped():
    text = ("A phase 2 study.\nHER2-positive patients confirmed by FISH received trastuzumab. "
            "In HER2-positive patients the pCR rate was 26%.")
    assert her2(text) == {("FISH", "positive")}


def test_overexpression_beside_ihc_3_plus_is_dropped_unless_in_the_title():
    body = "Patients had IHC 3+ tumours. Vaccination helped patients with HER2 overexpression."
    assert her2("A phase 2 study.\n" + body) == {("IHC", "3+")}
    assert her2("Vaccines for HER2-overexpressing breast cancer.\n" + body) == {("IHC", "3+"), ("status", "overexpression")}


# ---------------------------------------------------------------------------- HER2: IHC scores


@pytest.mark.parametrize("text, result", [
    ("Tumours with any HER2 expression (IHC 1-3+) were enrolled.", "1-3+"),
    ("HER2 staining ranged from 1+ to 3+ by immunohistochemistry.", "1+ to 3+"),
    ("Tumours expressing HER2 (immunohistochemistry [IHC] 1+-3+) were enrolled.", "1+-3+"),
])
def test_ihc_ranges_are_one_criterion_as_written(text, result):
    assert her2(text) == {("IHC", result)}


def test_ihc_one_or_two_plus_are_two_criteria():
    # Gold convention (GOLD_FORMAT.md): IHC 1+ is result "1+"; "low" only for "HER2-low" with no score.
    found = [r for r in analysed("The subgroup with IHC 1+/2+ HER2-expressing tumours did well.") if r.type == "her2"]
    assert [(r.method, r.result, r.threshold) for r in found] == [("IHC", "1+", None), ("IHC", "2+", None)]


def test_listed_scores_each_count():
    assert her2("A HER2 score of 2+ or 3+ was required.") >= {("IHC", "2+"), ("IHC", "3+")}


def test_grades_are_not_ihc_scores():
    assert her2("Grade 2+ dermatitis occurred in 12 of 40 HER2 vaccine recipients.") == set()


def test_ratio_wording_gives_ish_amplification_with_threshold():
    found = [r for r in analysed("Amplification meant a HER2:CEP17 ratio of at least 2.2 by FISH.") if r.type == "her2"]
    assert ("FISH", "amplified", "HER2:CEP17 >= 2.2") in {(r.method, r.result, r.threshold) for r in found}


# ---------------------------------------------------------------------------- biomarkers


@pytest.mark.parametrize("text, expected", [
    ("Postmenopausal women with hormone receptor-positive disease were eligible.", {("HR", "positive")}),
    ("Hormone-Receptor-Positive tumours predominated.", {("HR", "positive")}),
    ("Women with oestrogen receptor (ER)-negative tumours were included.", {("ER", "negative")}),
    ("A hormone receptor (HR)-negative status predicted response.", {("HR", "negative")}),
    ("Tumours were ER/PR-negative.", {("ER", "negative"), ("PR", "negative")}),
    ("Tumours were ER- and PR-positive.", {("ER", "positive"), ("PR", "positive")}),
    ("Triple-negative tumours (ER, PR and HER2 negative) were analysed apart.",
     {("ER", "negative"), ("PR", "negative")}),
    ("Luminal tumours were ER or PR positive.", {("HR", "positive")}),
    ("A HER2/hormone receptor-copositive cohort was enrolled.", {("HR", "positive")}),
])
def test_receptor_statuses(text, expected):
    assert markers(text) == expected


def test_brca1_and_brca2_together_are_one_fact():
    assert markers("Carriers of a germline BRCA1 and/or BRCA2 mutation were eligible.") == {("BRCA1/2", "mutated")}
    assert markers("Carriers of BRCA1/2 mutations were eligible.") == {("BRCA1/2", "mutated")}


def test_a_status_shared_with_her2_reaches_receptors_only():
    text = "Patients with a germline BRCAm and HER2-negative disease were eligible."
    assert markers(text) == {("BRCA1/2", "mutated")}


@pytest.mark.parametrize("text, expected", [
    ("KRAS mutations were not detected in the biopsy.", {("KRAS", "wild-type")}),
    ("Patients without BRAF mutation were analysed.", {("BRAF", "wild-type")}),
    ("Tumours were RAS and BRAF wild-type.", {("RAS", "wild-type"), ("BRAF", "wild-type")}),
    ("NRAS and BRAF were negative by sequencing.", {("NRAS", "negative"), ("BRAF", "negative")}),
    ("Only wild-type KRAS tumours were treated.", {("KRAS", "wild-type")}),
    ("Tumours were mismatch repair-deficient.", {("MMR", "deficient")}),
    ("Tumours were microsatellite stable.", {("MSI", "stable")}),
])
def test_mutation_and_repair_statuses(text, expected):
    assert markers(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Response was better with high Ki67 than with low Ki-67.", {("Ki67", "high"), ("Ki67", "low")}),
    ("Eligibility included a Ki-67 index of 20% or higher.", {("Ki67", "high")}),
    ("Tumours with Ki67 < 10% were called indolent.", {("Ki67", "low")}),
])
def test_proliferation_cut_offs(text, expected):
    assert markers(text) == expected


def test_partial_response_is_not_a_progesterone_receptor():
    assert markers("A high PR rate and a low CR rate were seen; the HR for death was 0.7.") == set()
    assert markers("CR and PR were low in both arms, but ER-low tumours responded.") == {("ER", "low")}


def test_mutation_status_shared_with_her2_reaches_every_gene():
    assert markers("All tumours were RAS/BRAF/HER2 wild-type.") == {("RAS", "wild-type"), ("BRAF", "wild-type")}


def test_every_marker_record_points_at_its_text():
    text = ("Women with human epidermal growth factor receptor 2 (HER2)-positive, hormone-receptor-positive "
            "disease and IHC 1+ to 3+ staining; ER- and PR-positive; no KRAS mutation.")
    for r in analysed(text):
        if r.type in ("her2", "biomarker"):
            assert text[r.start:r.end] == r.text


def test_outermost_keeps_what_the_pairwise_rule_keeps():
    """``_outermost`` (a sweep in order of start) drops exactly the matches lying inside a
    longer match of the same criterion, as comparing every pair does: equal spans, nesting,
    shared starts and ends, other criteria."""
    import random

    from pipeline.extract.her2 import Found, _outermost

    def pairwise(found):
        def inside(a, b):
            return (a is not b and (a.method, a.result) == (b.method, b.result) and b.start <= a.start
                    and a.end <= b.end and (b.end - b.start) > (a.end - a.start))
        return [a for a in found if not any(inside(a, b) for b in found)]

    rng = random.Random(5)
    for _ in range(3000):
        found = []
        for _ in range(rng.randint(0, 9)):
            start = rng.randint(0, 12)
            found.append(Found(start, start + rng.randint(1, 8), rng.choice(["IHC", "ISH"]),
                               rng.choice(["positive", "negative"]), None, "her2.status"))
        assert [id(f) for f in _outermost(found)] == [id(f) for f in pairwise(found)], found
