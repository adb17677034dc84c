"""What the HER2 and biomarker extractors share: how HER2 is named, and how a +/- sign is
written after a marker (pipeline.extract.her2, pipeline.extract.biomarkers)."""

from __future__ import annotations

HER2_AT = r"(?:HER[- ]?2(?:/neu)?|ERBB-?2|ErbB-?2|erbB-?2|c-erbB-?2)"  # may be glued to a word ("theHER2")
HER2_AT_CAPITALS = r"HER|ERBB|ErbB|B-?2"  # what each HER2_AT name holds from its first capital on

# a sign after a marker may be set off by a (thin) space when a disease word follows: "HER2 + metastatic"
SPACED = r"[ \u2009\u202f\u00a0]"
DISEASE_NEXT = (rf"(?={SPACED}+(?:metastatic|advanced|early|locally|breast|gastric|BC|MBC|mBC|EBC|ABC|disease"
                r"|tumou?rs?|cancers?|patients|subtypes?)\b)")
# a minus ends the word: "HER2-", "HER2(-)"; not "HER2-targeted", nor a hyphen broken over a line ("HER2-\namplified")
# nor a suspended hyphen, whose word comes later: "ER- and PR-positive", "HER2- and HER3-targeted"
SIGN_END = r"(?=[,;:/)(\]&]|[^\S\n]|\n(?![a-z])|$)(?!\s+(?:and/or|and|or)\s+\S{1,40}?-[a-z])"
