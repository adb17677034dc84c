"""A sentence with the entity mentions the NER found in it (absolute character offsets)."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter

from spacy.tokens import Doc

from pipeline.analysis import Sentence
from pipeline.tokens import doc_text


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    text: str
    label: str  # DRUG, BACKBONE, MODALITY, ENDPOINT, TRIAL, REGISTRY
    canonical: str


@dataclass
class SentenceView:
    sentence: Sentence
    endpoints: list[Mention] = field(default_factory=list)
    drugs: list[Mention] = field(default_factory=list)
    trials: list[Mention] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.sentence.text

    @property
    def start(self) -> int:
        return self.sentence.start

    @cached_property
    def lowered(self) -> str:
        """The text as ``lowered`` gives it, for the extractors' cheap word tests."""
        return lowered(self.text)


class DigitPattern:
    """A pattern whose ``\\d`` is read as ``[0-9]`` in ASCII text, where the two are the same:
    re tests ``\\d`` with a Unicode look-up per character, ``[0-9]`` with two comparisons (most
    of a scan for a pattern that starts with a digit). ``of(text)`` is the one to use on text."""

    def __init__(self, pattern: str, flags: int = 0):
        self.unicode = re.compile(pattern, flags)
        self.ascii = re.compile(_ascii_digits(pattern), flags)
        self.pattern = pattern

    def of(self, text: str) -> re.Pattern:
        return self.ascii if text.isascii() else self.unicode


def _ascii_digits(pattern: str) -> str:
    """``pattern`` with ``\\d`` written as 0-9 (in brackets or as a class of its own)."""
    out, in_class, i = [], False, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            pair = pattern[i : i + 2]
            out.append(("0-9" if in_class else "[0-9]") if pair == "\\d" else pair)
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
        elif c == "]" and in_class:
            in_class = False
        out.append(c)
        i += 1
    return "".join(out)


_DIGIT = DigitPattern(r"\d")


def has_digit(text: str) -> bool:
    """Whether ``text`` holds a digit (of any script, as ``\\d`` reads them)."""
    return _DIGIT.of(text).search(text) is not None


def holds_any(text: str, words) -> bool:
    """``any(w in text for w in words)``, without a generator: the cheap word tests before a
    pattern run once or more per sentence, and a plain loop takes half the time."""
    for w in words:
        if w in text:
            return True
    return False


def lowered(text: str) -> str:
    """``text`` in lower case as re.IGNORECASE reads it, which also takes "ı", "İ" (lower case:
    "i" and a dot) and "ſ" for "i" and "s": a case-insensitive pattern that needs a word cannot
    match where this lacks it."""
    low = text.lower()
    if text.isascii():
        return low
    return low.replace("ı", "i").replace("i\u0307", "i").replace("ſ", "s")


def sentence_views(pieces: list[tuple[int, Doc]], sentences: list[Sentence]) -> list[SentenceView]:
    """Distribute the span groups of the docs over the sentences (both in text order); each doc
    covers a chunk of the text from its offset (pipeline.segment.Segmentation.pieces)."""
    views = [SentenceView(s) for s in sentences]
    starts = [s.start for s in sentences]
    for shift, doc in pieces:
        text = doc_text(doc)  # span.text builds the span's tokens
        for key, attr in (("evx_endpoints", "endpoints"), ("evx_drugs", "drugs"), ("evx_trials", "trials")):
            for span in sorted(doc.spans.get(key, []), key=lambda s: s.start_char):
                start, end = span.start_char, span.end_char
                i = _sentence_of(starts, shift + start)
                if i is None or shift + end > sentences[i].end:
                    continue
                getattr(views[i], attr).append(
                    Mention(shift + start, shift + end, text[start:end], span.label_, span.kb_id_))
    return views


def _sentence_of(starts: list[int], offset: int) -> int | None:
    i = bisect.bisect_right(starts, offset) - 1
    return i if i >= 0 else None


_start = attrgetter("start")


class MentionIndex:
    """Mentions of one sentence in text order (they do not overlap, so their ends are in order
    too), looked up by position in logarithmic time: a long sentence with many mentions and
    figures stays linear to read."""

    def __init__(self, mentions: list[Mention]):
        self.mentions = sorted(mentions, key=_start) if len(mentions) > 1 else list(mentions)
        self.starts = [m.start for m in self.mentions]
        self.ends = [m.end for m in self.mentions]

    def __iter__(self):
        return iter(self.mentions)

    def __len__(self) -> int:
        return len(self.mentions)

    def first_from(self, pos: int) -> Mention | None:
        """The first mention starting at or after ``pos``."""
        i = bisect.bisect_left(self.starts, pos)
        return self.mentions[i] if i < len(self.mentions) else None

    def ending_by(self, pos: int) -> list[Mention]:
        """The mentions ending at or before ``pos``, in order (a slice: cheap to take)."""
        return self.mentions[: bisect.bisect_right(self.ends, pos)]

    def last_ending_by(self, pos: int) -> Mention | None:
        i = bisect.bisect_right(self.ends, pos)
        return self.mentions[i - 1] if i else None

    def covering(self, pos: int) -> Mention | None:
        """The mention holding position ``pos``."""
        i = bisect.bisect_right(self.starts, pos) - 1
        return self.mentions[i] if i >= 0 and self.mentions[i].end > pos else None
