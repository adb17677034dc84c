"""Hard cases for regimen extraction: how trial abstracts state their arms.

Every text here is invented for the test. A regimen is compared as its set of drugs; the
document is read as a whole, as the extractor does.
"""

from __future__ import annotations

import pytest

from pipeline.document import Document
from pipeline.extract import analyse


def regimens(text: str) -> set[frozenset[str]]:
    analysis = analyse(Document(source="t.txt", format="text", text=text))
    found = set()
    for r in analysis.records:
        if r.type == "regimen":
            assert r.text == text[r.start : r.end]  # exact provenance
            found.add(frozenset(r.drugs))
    return found


def R(*drugs: str) -> frozenset[str]:
    return frozenset(drugs)


# ---------------------------------------------------------------- arms of one statement


def test_versus_between_combinations(nlp):
    text = "Women were randomised to everolimus plus letrozole versus letrozole plus placebo."
    assert regimens(text) == {R("everolimus", "letrozole"), R("letrozole")}


def test_or_between_whole_arms_and_alone(nlp):
    text = "Patients received neratinib (240 mg daily) plus capecitabine or capecitabine alone until progression."
    assert regimens(text) == {R("neratinib", "capecitabine"), R("capecitabine")}


def test_placebo_is_a_choice_for_one_slot(nlp):
    text = "Patients were assigned to alpelisib or placebo in combination with fulvestrant."
    assert regimens(text) == {R("alpelisib", "fulvestrant"), R("fulvestrant")}


def test_trailing_placebo_replaces_the_last_drug(nlp):
    text = "All women took anastrozole 1 mg daily with oral buparlisib 100 mg or matching placebo."
    assert regimens(text) == {R("anastrozole", "buparlisib"), R("anastrozole")}


def test_with_or_without_gives_both_regimens(nlp):
    text = "This trial tested gemcitabine with or without iniparib in metastatic disease."
    assert regimens(text) == {R("gemcitabine"), R("gemcitabine", "iniparib")}


def test_plus_minus_sign_is_with_or_without(nlp):
    text = "Patients were randomised to paclitaxel ± bevacizumab."
    assert regimens(text) == {R("paclitaxel"), R("paclitaxel", "bevacizumab")}


def test_with_or_without_followed_by_alternatives(nlp):
    text = "The study gave docetaxel with or without zoledronic acid or denosumab before surgery."
    assert regimens(text) == {R("docetaxel"), R("docetaxel", "zoledronic acid"), R("docetaxel", "denosumab")}


def test_comma_list_ending_in_or_is_alternatives(nlp):
    text = "The control arm received capecitabine, gemcitabine, or vinorelbine at the investigator's choice."
    assert regimens(text) == {R("capecitabine"), R("gemcitabine"), R("vinorelbine")}


def test_comma_list_ending_in_and_is_one_combination(nlp):
    text = "Chemotherapy consisted of docetaxel, doxorubicin, and cyclophosphamide every 3 weeks."
    assert regimens(text) == {R("docetaxel", "doxorubicin", "cyclophosphamide")}


def test_doses_and_schedules_between_drugs_do_not_separate_them(nlp):
    text = ("Patients received carboplatin (AUC 6, day 1 every 21 days) and weekly paclitaxel "
            "80 mg/m2 on days 1, 8 and 15 for six cycles.")
    assert regimens(text) == {R("carboplatin", "paclitaxel")}


def test_sequential_treatment_is_one_regimen(nlp):
    text = "Patients received epirubicin plus cyclophosphamide for four cycles, followed by docetaxel for four cycles."
    assert regimens(text) == {R("epirubicin", "cyclophosphamide", "docetaxel")}


def test_hyphen_and_slash_joined_pairs(nlp):
    text = "We compared pertuzumab-trastuzumab with gemcitabine/carboplatin in this cohort."
    assert regimens(text) == {R("pertuzumab", "trastuzumab"), R("gemcitabine", "carboplatin")}


def test_compared_with_splits_two_single_drugs(nlp):
    text = "This phase III trial compared ixabepilone with vinorelbine as third-line therapy."
    assert regimens(text) == {R("ixabepilone"), R("vinorelbine")}


def test_results_between_drugs_report_them_apart(nlp):
    text = "The response rate was 21% for eribulin and 15% for capecitabine (P = 0.2)."
    assert regimens(text) == {R("eribulin"), R("capecitabine")}


def test_group_sizes_between_drugs_mark_arms(nlp):
    text = "Median survival for ixabepilone (n = 120) and vinorelbine (n = 118) did not differ."
    assert regimens(text) == {R("ixabepilone"), R("vinorelbine")}


def test_respectively_lists_arms(nlp):
    text = "Median PFS with letrozole and with tamoxifen was 9.4 and 6.0 months, respectively."
    assert regimens(text) == {R("letrozole"), R("tamoxifen")}


# ---------------------------------------------------------------- earlier treatment


@pytest.mark.parametrize("text", [
    "Eligible women had progressed on prior tamoxifen and were given exemestane.",
    "Patients previously treated with trastuzumab received neratinib.",
    "In trastuzumab-pretreated patients, neratinib was given daily.",
    "Women refractory to anastrozole received exemestane.",
])
def test_earlier_treatment_is_no_regimen(nlp, text):
    found = regimens(text)
    assert found and all({"tamoxifen", "trastuzumab", "anastrozole"}.isdisjoint(r) for r in found)


def test_drug_induced_side_effect_is_no_regimen(nlp):
    text = "Dexrazoxane was tested for the prevention of doxorubicin-induced cardiotoxicity."
    assert regimens(text) == {R("dexrazoxane")}


# ---------------------------------------------------------------- the document


def test_abbreviations_of_regimens_are_expanded(nlp):
    text = ("Patients were randomised to lapatinib plus letrozole (LL) or letrozole (L) alone. "
            "The response rate was higher with LL.")
    assert regimens(text) == {R("lapatinib", "letrozole"), R("letrozole")}


def test_abbreviation_written_together_from_defined_parts(nlp):
    text = ("Women received gemcitabine-docetaxel (GD) with or without bevacizumab (B). "
            "Toxicity was similar with GDB and GD.")
    assert regimens(text) == {R("gemcitabine", "docetaxel"), R("gemcitabine", "docetaxel", "bevacizumab")}


def test_named_backbone_replaces_its_written_out_drugs(nlp):
    text = ("All patients received four cycles of fluorouracil, epirubicin and cyclophosphamide (FEC) "
            "followed by docetaxel. FEC was well tolerated.")
    assert regimens(text) == {R("FEC", "docetaxel")}


def test_class_stands_for_the_documents_chemotherapy(nlp):
    text = ("Patients were randomised to celecoxib plus chemotherapy or chemotherapy alone. "
            "Chemotherapy was doxorubicin and cyclophosphamide every 2 weeks for four cycles.")
    assert regimens(text) == {R("celecoxib", "doxorubicin", "cyclophosphamide"), R("doxorubicin", "cyclophosphamide")}


def test_single_drug_mention_is_its_combination(nlp):
    text = ("We randomised patients to abemaciclib plus anastrozole or placebo plus anastrozole. "
            "Abemaciclib is an oral CDK4/6 inhibitor.")
    assert regimens(text) == {R("abemaciclib", "anastrozole"), R("anastrozole")}


def test_single_arm_drug_keeps_its_own_regimen(nlp):
    text = ("Patients were randomised to docetaxel or docetaxel plus trastuzumab. "
            "Neutropenia was more frequent with docetaxel.")
    assert regimens(text) == {R("docetaxel"), R("docetaxel", "trastuzumab")}


def test_classes_and_placebo_are_not_drugs(nlp):
    text = "Patients received an aromatase inhibitor or placebo for five years."
    assert regimens(text) == set()


def test_after_cycles_is_sequence_not_earlier_treatment(nlp):
    text = "After four cycles of epirubicin plus cyclophosphamide, patients received weekly paclitaxel."
    assert R("epirubicin", "cyclophosphamide") in regimens(text)


def test_after_years_of_therapy_is_earlier_treatment(nlp):
    text = "Women who were disease-free after 5 years of tamoxifen were randomised to letrozole or placebo."
    assert regimens(text) == {R("letrozole")}


def test_document_terms_find_their_abbreviations_in_a_text_by_one_pattern_as_by_a_test_each():
    """Past FEW_TERMS defined abbreviations one pattern answers whether a sentence holds one
    of them: the same answer as a substring test each (special characters, prefixes, overlaps)."""
    import random

    from pipeline.extract.regimens.items import FEW_TERMS, DocumentTerms
    from pipeline.extract.context import holds_any

    rng = random.Random(11)
    letters = ["A", "C", "T", "E", "D", "+", "-", "/", "(", "x", ".", "±"]
    for _ in range(300):
        terms = DocumentTerms()
        for _ in range(rng.randint(FEW_TERMS + 1, 40)):
            terms.regimens.setdefault("".join(rng.choice(letters) for _ in range(rng.randint(1, 4))), ())
        for _ in range(20):
            text = "".join(rng.choice(letters + [" "]) for _ in range(rng.randint(0, 30)))
            assert terms.any_in("regimens", text) == holds_any(text, terms.regimens), (text, list(terms.regimens))
        assert terms._patterns  # the pattern was used
