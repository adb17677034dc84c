"""Guard words of the table reader, as data: ``pipeline/data/table_guards.json``.

Each list is one guard's vocabulary ("deviation": "SD" as a standard deviation; "other_response":
a response that is not a tumour's...), with what it is for and an example. On load the file is
checked as ``outcome_words.json`` is: exactly the lists the reader uses, each with only the known
keys, and each list's pattern must match its own example. Words are whole words (case-insensitive);
patterns are regular expressions used as written.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pipeline.extract.lexicon import DATA, LexiconError, load_lists
from pipeline.extract.outcome_vocabulary import _word_regex

FILE = "table_guards.json"
LISTS = frozenset({"deviation", "stable_disease", "other_response", "tumour_response"})
LIST_KEYS = {"about", "example", "words", "patterns"}


def _build(name: str, entry: dict) -> re.Pattern:
    if not isinstance(entry, dict) or set(entry) - LIST_KEYS or not {"about", "example"} <= set(entry):
        raise LexiconError(f"{FILE}: {name}: expected 'about', 'example' and some of ['patterns', 'words']")
    words, patterns = entry.get("words", []), entry.get("patterns", [])
    if not words and not patterns:
        raise LexiconError(f"{FILE}: {name}: no words or patterns")
    branches = [rf"(?<!\w){_word_regex(w)}(?!\w)" for w in sorted(words, key=len, reverse=True)] + list(patterns)
    try:
        pattern = re.compile("|".join(branches), re.IGNORECASE)
    except re.error as error:
        raise LexiconError(f"{FILE}: {name}: bad pattern ({error})") from error
    if not pattern.search(entry["example"]):
        raise LexiconError(f"{FILE}: {name}: its example {entry['example']!r} does not match")
    return pattern


@lru_cache(maxsize=1)
def guards() -> dict[str, re.Pattern]:
    """All lists of table_guards.json as patterns, checked (see the module docstring)."""
    return {name: _build(name, entry) for name, entry in load_lists(DATA / FILE, LISTS).items()}
