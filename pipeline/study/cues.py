"""The study cue words (``pipeline/data/study_cues.json``), checked on load, and the patterns
built from them. Each pattern is a plain alternation or a bounded run, so it runs in linear time."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

from pipeline.extract.lexicon import LexiconError

KNOWN = {"group_words": list, "size_kinds": dict, "size_preference": list, "patient_nouns": list,
         "background_sections": list, "own_study_sections": list, "own_study_phrases": list,
         "crossover_words": list, "prior_therapy_lead": list, "choice_lead": list, "class_words": dict}

NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
NUMBER_WORD = (r"(?i:(?:" + "|".join(TENS) + r")(?:[- ](?:" + "|".join(list(NUMBER_WORDS)[1:10]) + r"))?|"
               + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")")
COUNT = rf"(?:\d{{1,5}}|{NUMBER_WORD})"


def number_of(text: str) -> int | None:
    """'27' -> 27, 'Thirty-one' -> 31, 'eight' -> 8."""
    text = text.strip().lower()
    if text.isdigit():
        return int(text)
    if text in NUMBER_WORDS:
        return NUMBER_WORDS[text]
    parts = re.split(r"[- ]", text)
    if parts[0] in TENS:
        return TENS[parts[0]] + (NUMBER_WORDS.get(parts[1], 0) if len(parts) > 1 else 0)
    return None


@lru_cache(maxsize=1)
def cues() -> dict:
    data = json.loads((resources.files("pipeline") / "data" / "study_cues.json").read_text(encoding="utf-8"))
    if set(data) - {"_source", "cues"} or not isinstance(data.get("cues"), dict):
        raise LexiconError("study_cues.json: expected keys '_source' and 'cues'")
    table = data["cues"]
    for name, entry in table.items():
        kind = KNOWN.get(name)
        if kind is None or set(entry) != {"words", "example"} or not isinstance(entry["words"], kind):
            raise LexiconError(f"study_cues.json: bad entry {name!r} (known: {sorted(KNOWN)}; each has 'words' and 'example')")
    missing = set(KNOWN) - set(table)
    if missing:
        raise LexiconError(f"study_cues.json: missing {sorted(missing)}")
    return {name: entry["words"] for name, entry in table.items()}


def word_gate(phrases) -> tuple[str, ...]:
    """One word of each of ``phrases`` (its longest), lower case. A lower-cased text can match a
    case-insensitive alternation of the phrases only if it holds one of these words, and
    ``any(w in low for w in gate)`` tests that several times faster than the alternation."""
    return tuple(sorted({max(p.lower().split(), key=len) for p in phrases}))


def covering(words) -> tuple[str, ...]:
    """The fewest of ``words`` that every one of them holds: ("cohort", "cohorts") -> ("cohort",)."""
    words = {w.lower() for w in words}
    return tuple(sorted(w for w in words if not any(o != w and o in w for o in words)))


# Every number word of NUMBER_WORD holds one of these ("fourteen" and "sixty" hold "four" and "six").
NUMBER_GATE = covering([*NUMBER_WORDS, *TENS])


def alternation(words) -> str:
    """A regex alternation of literal phrases, longest first, white space matching any run."""
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))
