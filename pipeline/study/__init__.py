"""Study stage: the document's study model (studies, arms, cohorts, sizes) and the resolution
of every figure's trial, arm, regimen and N against it."""

from pipeline.study.attribution import attribute
from pipeline.study.build import DocumentReading, build_study_model
from pipeline.study.model import Arm, Size, Study, StudyModel
from pipeline.study.records import study_records

__all__ = ["Arm", "DocumentReading", "Size", "Study", "StudyModel", "attribute", "build_study_model", "study_records"]
