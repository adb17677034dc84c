"""A sentence with the entity mentions the NER found in it (absolute character offsets)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from spacy.tokens import Doc

from pipeline.analysis import Sentence


def doc_text(doc: Doc) -> str:
    """``doc.text``, kept after the first call: spaCy joins every token's text again on each
    access. Retokenising never changes the text, so the kept copy stays right."""
    text = doc.user_data.get("evx_text")
    if text is None:
        text = doc.user_data["evx_text"] = doc.text
    return text


class Words:
    """A doc's token texts, read once: building a spaCy Token object for every look-up is the
    slow part of a rule-based NER. ``tokens`` has every token; ``texts`` only the words (tokens
    other than white space, so phrases match across line breaks), word p being token ``index[p]``."""

    @classmethod
    def of(cls, doc: Doc) -> Words:
        """The doc's words, read on the first call. Only evx_split_compounds changes tokens, and
        it runs before anything reads them."""
        words = doc.user_data.get("evx_words")
        if words is None:
            words = doc.user_data["evx_words"] = cls(doc)
        return words

    def __init__(self, doc: Doc):
        self.tokens = [token.text for token in doc]
        self.token_lowers = [text.lower() for text in self.tokens]
        self.index = [i for i, text in enumerate(self.tokens) if not text.isspace()]
        self.texts = [self.tokens[i] for i in self.index]
        self.lowers = [self.token_lowers[i] for i in self.index]


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
