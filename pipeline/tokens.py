"""Token texts (and abbreviations) of a spaCy Doc, read once.

Each ``doc.text`` joins every token's text again, and each ``for token in doc`` builds a Python
Token object per token; on a 50-page article that is a few hundred thousand objects per pass.
The NER and the segmenter read the texts from here instead.
"""

from __future__ import annotations

from collections.abc import Iterator

from spacy.attrs import IDX, LENGTH
from spacy.tokens import Doc, Span

ABBREVIATION_PAIRS = "evx_abbreviation_pairs"  # doc.user_data key, see abbreviation_pairs


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
    other than white space, so phrases match across line breaks), word p being token ``index[p]``;
    ``offsets`` has each token's character offset. The lists are read, never changed (``texts``
    is ``tokens`` when no token is white space)."""

    @classmethod
    def of(cls, doc: Doc) -> Words:
        """The doc's words, read on the first call and kept until ``forget_words``."""
        words = doc.user_data.get("evx_words")
        if words is None:
            words = doc.user_data["evx_words"] = cls(doc)
        return words

    def __init__(self, doc: Doc):
        # Sliced from the text by offset and length: cheaper than a Token object per token.
        text = doc_text(doc)
        self.offsets = doc.to_array(IDX).tolist()
        lengths = doc.to_array(LENGTH).tolist()
        self.tokens = [text[start : start + length] for start, length in zip(self.offsets, lengths)]
        self.token_lowers = list(map(str.lower, self.tokens))
        self.index = [i for i, text in enumerate(self.tokens) if not text.isspace()]
        if len(self.index) == len(self.tokens):  # no white-space token: the words are the tokens
            self.texts, self.lowers = self.tokens, self.token_lowers
        else:
            self.texts = [self.tokens[i] for i in self.index]
            self.lowers = [self.token_lowers[i] for i in self.index]


def forget_words(doc: Doc) -> None:
    """Drop the kept words of ``doc``: call before changing its tokens."""
    doc.user_data.pop("evx_words", None)


def positions(tokens: list[str], words: list[str]) -> Iterator[int]:
    """Where the token run ``words`` occurs in ``tokens`` (``list.index`` scans in C)."""
    i = -1
    while True:
        try:
            i = tokens.index(words[0], i + 1)
        except ValueError:
            return
        if tokens[i : i + len(words)] == words:
            yield i


def run_positions(tokens: list[str], runs: list[tuple[str, ...]]) -> dict[tuple[str, ...], list[int]]:
    """``positions`` of every run of ``runs`` (non-empty), in one pass over ``tokens``: a document
    defining thousands of abbreviations would otherwise be scanned once per short form. Each
    token is tried only against the lengths of the runs starting with it, so the pass is linear
    whatever the runs have in common."""
    found: dict[tuple[str, ...], list[int]] = {run: [] for run in runs}
    if not found:
        return found  # (most texts define nothing: no need to look at the tokens)
    lengths: dict[str, set[int]] = {}
    for run in found:
        lengths.setdefault(run[0], set()).add(len(run))
    for i in [i for i, token in enumerate(tokens) if token in lengths]:
        for n in lengths[tokens[i]]:
            # (cut short at the end, the slice could be another, shorter run)
            at = found.get(tuple(tokens[i : i + n])) if i + n <= len(tokens) else None
            if at is not None:
                at.append(i)
    return found


# (short form start, end, long form start, end): character offsets in the doc's text
AbbreviationPair = tuple[int, int, int, int]


def keep_abbreviations(doc: Doc, pairs: list[AbbreviationPair]) -> None:
    """Tell ``abbreviation_pairs`` the (short form, long form) pairs evx's detector found."""
    doc.user_data[ABBREVIATION_PAIRS] = pairs


def abbreviation_pairs(doc: Doc) -> list[AbbreviationPair]:
    """(short start, end, long start, end) of each abbreviation of ``doc``, as character offsets.
    evx's detector keeps them as offsets (``keep_abbreviations``): a spaCy Span for every
    definition and use cost seconds on a text of 40,000 definitions."""
    pairs = doc.user_data.get(ABBREVIATION_PAIRS)
    if pairs is None:  # a doc evx's detector did not see
        pairs = [(a.start_char, a.end_char, a._.long_form.start_char, a._.long_form.end_char)
                 for a in getattr(doc._, "abbreviations", []) if a._.long_form is not None]
    return pairs
