"""A sentence with the entity mentions the NER found in it (absolute character offsets)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from spacy.tokens import Doc

from pipeline.analysis import Sentence


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


def sentence_views(doc: Doc, sentences: list[Sentence]) -> list[SentenceView]:
    """Distribute the doc's span groups over its sentences (both in text order)."""
    views = [SentenceView(s) for s in sentences]
    starts = [s.start for s in sentences]
    for key, attr in (("evx_endpoints", "endpoints"), ("evx_drugs", "drugs"), ("evx_trials", "trials")):
        for span in sorted(doc.spans.get(key, []), key=lambda s: s.start_char):
            i = _sentence_of(starts, span.start_char)
            if i is None or span.end_char > sentences[i].end:
                continue
            getattr(views[i], attr).append(
                Mention(span.start_char, span.end_char, span.text, span.label_, span.kb_id_)
            )
    return views


def _sentence_of(starts: list[int], offset: int) -> int | None:
    i = bisect.bisect_right(starts, offset) - 1
    return i if i >= 0 else None
