"""Regimens of a sentence and of a document: the names other modules and the tests use.

The reader itself is the subpackage ``pipeline.extract.regimens`` (see its docstring for how a
regimen statement is read); this module re-exports its public names so that
``from pipeline.extract.treatments import ...`` keeps working.
"""

from __future__ import annotations

from pipeline.extract.context import lowered as _lowered  # noqa: F401  (tests/test_regimen_cues.py)
from pipeline.extract.regimens.document import Regimen, document_regimen_groups, regimen_groups
from pipeline.extract.regimens.items import DocumentTerms, Item
from pipeline.extract.regimens.records import extract_regimens, nearest_regimen, regimen_drugs
from pipeline.extract.regimens.statements import Statement
from pipeline.extract.regimens.vocabulary import (
    ABBREVIATED_MODIFIERS, ABBREVIATION, ABBREVIATION_AFTER, ABBREVIATION_BEFORE, ABBREVIATION_WORD, ALONE, AND,
    ANTHRACYCLINES, ANTHRACYCLINE_BACKBONES, ANTI_HER2, APPOSITION, ARM_LEAD, ARM_WORDS, AROMATASE_INHIBITORS,
    BRACKET, BRACKETED, BREAK, CLASSES, CLASS_ABBREVIATION, CLASS_NAMES, CLASS_PATTERN, CLASS_WORDS, CLAUSE_END,
    COMMA, COMPARED_WITH, COMPARE_LEAD, CONNECTORS, CONNECTOR_KIND, CUES, CYTOTOXICS, DOSE_WORDS, DOTTED_DOSING,
    DRUG_PLACEBO, EACH_LEAD, ENDOCRINE, FILLER, GROUP_SIZE, HANGING_HYPHEN, ITEM_RANK, LONG_WORD, MAX_ARMS,
    MODALITY, MODALITY_NAMES, MODALITY_WORDS, NOT_ABBREVIATIONS, NOT_GIVEN_LEAD, NUMBERISH, OPENING_ONLY, OR,
    OUTER_SEPARATORS, PLACEBO, PLURAL_ARMS, PRIOR_LEAD, PRIOR_SUFFIX, PRIOR_TAIL, PRIOR_TAIL_WORDS, PRIOR_WORDS,
    RESPECTIVELY, RESULT, TAXANES, UNIT, UP_TO, VS, WORD, WOW,
)

__all__ = [
    "DocumentTerms", "Item", "Regimen", "Statement", "document_regimen_groups", "extract_regimens",
    "nearest_regimen", "regimen_drugs", "regimen_groups",
    "ABBREVIATED_MODIFIERS", "ABBREVIATION", "ABBREVIATION_AFTER", "ABBREVIATION_BEFORE",
    "ABBREVIATION_WORD", "ALONE", "AND", "ANTHRACYCLINES", "ANTHRACYCLINE_BACKBONES", "ANTI_HER2",
    "APPOSITION", "ARM_LEAD", "ARM_WORDS", "AROMATASE_INHIBITORS", "BRACKET", "BRACKETED", "BREAK",
    "CLASSES", "CLASS_ABBREVIATION", "CLASS_NAMES", "CLASS_PATTERN", "CLASS_WORDS", "CLAUSE_END", "COMMA",
    "COMPARED_WITH", "COMPARE_LEAD", "CONNECTORS", "CONNECTOR_KIND", "CUES", "CYTOTOXICS", "DOSE_WORDS",
    "DOTTED_DOSING", "DRUG_PLACEBO", "EACH_LEAD", "ENDOCRINE", "FILLER", "GROUP_SIZE", "HANGING_HYPHEN",
    "ITEM_RANK", "LONG_WORD", "MAX_ARMS", "MODALITY", "MODALITY_NAMES", "MODALITY_WORDS",
    "NOT_ABBREVIATIONS", "NOT_GIVEN_LEAD", "NUMBERISH", "OPENING_ONLY", "OR", "OUTER_SEPARATORS", "PLACEBO",
    "PLURAL_ARMS", "PRIOR_LEAD", "PRIOR_SUFFIX", "PRIOR_TAIL", "PRIOR_TAIL_WORDS", "PRIOR_WORDS",
    "RESPECTIVELY", "RESULT", "TAXANES", "UNIT", "UP_TO", "VS", "WORD", "WOW",
]
