"""The study model as records, so that it is stored (tables ``study`` and ``study_arm``) and
exported beside the figures that point at it (``outcome.study_ref``, ``outcome.arm_ref``)."""

from __future__ import annotations

import bisect

from pipeline.analysis import Sentence
from pipeline.records import ArmRecord, StudyRecord
from pipeline.study.model import StudyModel


def study_records(model: StudyModel, text: str, sentences: list[Sentence]) -> list[StudyRecord | ArmRecord]:
    """One record per study and per arm, at its first mention."""
    starts = [s.start for s in sentences]

    def sentence_at(offset: int) -> int:
        return sentences[max(0, bisect.bisect_right(starts, offset) - 1)].index if sentences else 0

    records: list[StudyRecord | ArmRecord] = []
    for study in model.studies:
        size = study.size
        records.append(StudyRecord(
            start=study.start, end=study.end, text=text[study.start : study.end], sentence=sentence_at(study.start),
            rule=study.rule, ref=study.key, name=study.name, role=study.role, registry_id=study.registry,
            drugs=study.drugs, drugs_rule=study.drugs_rule, size=size.value if size else None,
            size_kind=size.kind if size else None, size_text=size.text if size else None,
        ))
        for arm in study.arms:
            records.append(ArmRecord(
                start=arm.start, end=arm.end, text=text[arm.start : arm.end], sentence=sentence_at(arm.start),
                rule=arm.rule, ref=f"{study.key}/{arm.key}", study_ref=study.key, label=arm.label, kind=arm.kind,
                drugs=arm.drugs, drugs_rule=arm.drugs_rule, size=arm.size.value if arm.size else None,
                size_text=arm.size.text if arm.size else None,
            ))
    return records
