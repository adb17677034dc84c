"""Token texts of a spaCy Doc, read once.

Each ``doc.text`` joins every token's text again, and each ``for token in doc`` builds a Python
Token object per token; on a 50-page article that is a few hundred thousand objects per pass.
The NER and the segmenter read the texts from here instead.
"""

from __future__ import annotations

from spacy.tokens import Doc


def doc_text(doc: Doc) -> str:
    """``doc.text``, kept after the first call (or given by ``keep_text``): spaCy joins every
    token's text again on each access. Retokenising never changes the text."""
    text = doc.user_data.get("evx_text")
    if text is None:
        text = doc.user_data["evx_text"] = doc.text
    return text


def keep_text(doc: Doc, text: str) -> None:
    """Tell ``doc_text`` the text ``doc`` was made from."""
    doc.user_data["evx_text"] = text


class Words:
    """A doc's token texts, read once: building a spaCy Token object for every look-up is the
    slow part of a rule-based NER. ``tokens`` has every token; ``texts`` only the words (tokens
    other than white space, so phrases match across line breaks), word p being token ``index[p]``."""

    @classmethod
    def of(cls, doc: Doc) -> Words:
        """The doc's words, read on the first call and kept until ``forget_words``."""
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


def forget_words(doc: Doc) -> None:
    """Drop the kept words of ``doc``: call before changing its tokens."""
    doc.user_data.pop("evx_words", None)
