"""Regimens (drug combinations) of a sentence and of a document.

The modules, in reading order: ``vocabulary`` (cue words, drug classes, connector phrases and
the patterns built from them), ``items`` (what a sentence names), ``statements`` (items joined by
connectors, split into arms), ``terms`` (the abbreviations a document defines), ``document``
(a document's regimens, settled across its sentences) and ``records`` (regimen records).

Public names are re-exported by ``pipeline.extract.treatments``.

How a regimen statement is read:

  items       drugs and backbones (from the NER), regimen abbreviations the document defines
              ("lapatinib with vinorelbine (LV)", "CP-CEF (carboplatin and paclitaxel followed by
              CEF)"), modalities, and placeholders that take an arm's place without adding a
              drug: placebo and drug classes ("chemotherapy", "an aromatase inhibitor").
  connectors  the words between two items once parentheses, doses and schedules are removed:
              AND  "plus", "+", "-", "/", "with", "combined with", "followed by" (sequential
                   treatment is one regimen), ...
              OR   "or", "and/or"; a comma list takes the word that ends it ("A, B, or C")
              VS   "versus", "vs", "compared with"; "compared A with B"; "the A and B arms"
              WOW  "with or without", "±": what follows is optional
              anything else ends the statement.
  arms        a statement splits at VS, then at an OR between whole arms ("A plus B or C plus
              D", "A plus B or B alone"). An OR next to a placeholder or after "with or without"
              is a choice for one slot: "A or placebo plus B" gives A+B and B; "A with or without
              B or C" gives A, A+B, A+C.

Statements about earlier treatment ("progressed on prior trastuzumab", "taxane-pretreated")
are no regimens. The document then settles what single sentences cannot (see
``document_regimen_groups``): named backbones, classes standing for the document's own
chemotherapy, and single drugs that only repeat part of a combination.
"""
