"""Trial names in context, things shaped like trial names that are not, and how a document's
figures get the name of their trial. Sentences written for evx."""

from __future__ import annotations

import pytest

from pipeline.document import Document
from pipeline.extract import analyse


def analysis_of(text: str):
    return analyse(Document(source="case.txt", format="text", text=text))


def trial_names(text: str) -> list[str]:
    return [r.name for r in analysis_of(text).records if r.type == "trial"]


@pytest.mark.parametrize(
    "text, name",
    [
        ("The TORINO 112 randomised trial enrolled 400 women with node-negative disease.", "TORINO 112"),
        ("The VERONA multicentre phase III trial compared two schedules.", "VERONA"),
        ("A planned interim analysis of study ABC104412 stopped enrolment early.", "ABC104412"),
        ("Adjuvant palbociclib in high-risk early breast cancer (sunRISE). Women were randomised.", "sunRISE"),
        ("Results of the TRIO-US B12 study were mature.", "TRIO-US B12"),
        ("Enrolment in ORBIT-2 closed in 2019.", "ORBIT-2"),
    ],
)
def test_trial_names_found_by_their_context(nlp, text, name):
    assert name in trial_names(text)


@pytest.mark.parametrize(
    "text",
    [
        "This was a multicenter, randomized, phase-II study of two regimens.",
        "A Randomized, Open-Label Study of Weekly Paclitaxel.",
        "A Double-Blind, Placebo-Controlled Trial of a vitamin supplement.",
        "Serum IGFBP-3 and CTLA-4 levels were measured before treatment.",
        "The work held MHRA Clinical Trials Authorisation before it started.",
        "Median survival (mOS) was reported in a TNBC-negative study.",
    ],
)
def test_shapes_that_are_not_trials(nlp, text):
    assert trial_names(text) == []


def test_two_names_in_brackets_are_one_trial_that_owns_the_abstracts_figures(nlp):
    text = ("Final overall survival in the phase II study of drug X plus letrozole (ORBIT-2, GROUP-7). "
            "Median overall survival was 37.5 months with the combination and 34.5 months with letrozole alone.")
    analysis = analysis_of(text)
    assert {r.name for r in analysis.records if r.type == "trial"} == {"ORBIT-2", "GROUP-7"}
    outcomes = [r for r in analysis.records if r.type == "outcome"]
    assert [o.value for o in outcomes] == [37.5, 34.5]
    assert {o.trial for o in outcomes} == {"ORBIT-2"}


def test_a_trial_is_shown_under_its_fullest_name(nlp):
    text = ("Trastuzumab after chemotherapy in the N9831 trial. "
            "Five-year disease-free survival was 80.1% with trastuzumab and 71.8% without it.")
    analysis = analysis_of(text)
    assert [r.name for r in analysis.records if r.type == "trial"] == ["NCCTG N9831"]
    assert {r.trial for r in analysis.records if r.type == "outcome"} == {"NCCTG N9831"}


def test_two_different_trials_do_not_hand_out_figures_far_away(nlp):
    text = ("We compared the designs of ORBIT-2 and VERONA-3. Patients gave consent. The protocol was approved. "
            "Overall, the objective response rate was 41%.")
    outcomes = [r for r in analysis_of(text).records if r.type == "outcome"]
    assert [(o.value, o.trial) for o in outcomes] == [(41, None)]
