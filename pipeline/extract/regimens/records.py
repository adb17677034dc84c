"""Regimen records: one ``RegimenRecord`` per regimen group of a sentence, and the helpers other
readers use on groups (their drugs, the group nearest to a figure)."""

from __future__ import annotations

from pipeline.extract.context import Mention, SentenceView
from pipeline.records import RegimenRecord


def regimen_drugs(group: list[Mention]) -> list[str]:
    drugs = []
    for m in group:
        if m.label in ("DRUG", "BACKBONE") and m.canonical not in drugs:
            drugs.append(m.canonical)
    return drugs


def nearest_regimen(groups: list[list[Mention]], start: int, end: int) -> list[Mention]:
    """The regimen nearest to a figure at [start, end) of the same sentence. Results are mostly
    written figure first ("9.5 months in the A group and 4.6 months in the B group"), so a
    regimen before the figure counts as twice as far."""
    def distance(group: list[Mention]) -> int:
        first, last = min(m.start for m in group), max(m.end for m in group)
        if last <= start:
            return 2 * (start - last)
        return max(0, first - end)
    return min(groups, key=distance)


def extract_regimens(view: SentenceView, groups: list[list[Mention]]) -> list[RegimenRecord]:
    """One record per regimen group of the sentence (``groups`` from ``document_regimen_groups``)."""
    records = []
    for group in groups:
        other = []
        for m in group:
            if m.label == "MODALITY" and m.canonical not in other:
                other.append(m.canonical)
        start, end = min(m.start for m in group), max(m.end for m in group)
        records.append(
            RegimenRecord(start=start, end=end, text=view.text[start - view.start : end - view.start],
                          sentence=view.sentence.index, rule="regimen.joined" if len(group) > 1 else "regimen.single",
                          drugs=regimen_drugs(group), other=other)
        )
    return records
