"""scispaCy's tokenizer, with spaCy's chunk cache filled as it is meant to be.

spaCy's tokenizer splits a text at white space into chunks and caches how each chunk splits
into tokens, so that a chunk seen before costs one look-up instead of the prefix, suffix and
infix searches (about 15 µs a new chunk with scispaCy's patterns). But it stops saving chunks
for the rest of a text once the text has used a special case ("e.g.", "vs.", "al.": see
``_save_cached`` in spacy/tokenizer.pyx). Most papers hit one in their first lines, so without
help the cache hardly fills: tokenising a PDF page cost 3-4 ms, and only 0.3 ms once its chunks
were cached. Here each chunk not seen before is first tokenised alone, which saves it unless it
uses a special case itself; then the text is tokenised as usual, its chunks now read from the
cache. The tokens are spaCy's own either way: the cache holds exactly what tokenising the chunk
gives, and spaCy uses it for every later text.

Two bounds keep its time linear on texts no paper holds (issue 15). spaCy strips a chunk's
prefixes and suffixes one at a time, copying and hashing the rest of the chunk after each, and
finds each suffix with a ``...$`` search tried at every position of the rest: a chunk of 100,000
brackets took minutes. Suffixes are looked for in the last ``SUFFIX_REACH`` characters only
(``TailSuffixSearch``, the same answer), and a chunk of more than ``MAX_CHUNK`` characters (the
longest in the dev corpora, PDFs included, has 160) is tokenised in pieces of that size.
"""

from __future__ import annotations

import re

import numpy
from spacy.attrs import ORTH, SPACY
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc

# Chunks kept in the cache: bounded so that memory stays flat however long the run; about
# 100 bytes each (spaCy's entry and the string in ``_seen``).
MAX_CACHED_CHUNKS = 100_000
# Chunks longer than this are tokenised in pieces of this size (``_in_pieces``).
MAX_CHUNK = 1000
_LONG_CHUNK = re.compile(rf"(?<!\S)\S{{{MAX_CHUNK + 1}}}")
_CHUNK = re.compile(r"\S+")
# Longer than any of scispaCy's suffixes (5 characters at most, but for runs of dots: ``\.\.+$``).
SUFFIX_REACH = 6
# White space that spaCy tokenises as a chunk: any run but a single space after a word
# (``\s\s+|[^\S ]``, written to start with a character class, which lets re skip to white space).
_SPACE_RUN = re.compile(r"\s(?:\s+|(?<=[^\S ]))")


class CachingTokenizer:
    """Tokenises like ``tokenizer`` (a spaCy Tokenizer), caching every chunk it can."""

    def __init__(self, tokenizer: Tokenizer, max_chunks: int = MAX_CACHED_CHUNKS):
        self.tokenizer = tokenizer
        self.max_chunks = max_chunks
        tokenizer.max_cache_size = max_chunks
        if isinstance(getattr(tokenizer.suffix_search, "__self__", None), re.Pattern):
            tokenizer.suffix_search = TailSuffixSearch(tokenizer.suffix_search.__self__)
        self._seen: set[str] = set()  # chunks tokenised alone (cached, unless a special case)

    def __call__(self, text: str) -> Doc:
        if _LONG_CHUNK.search(text):
            return self._in_pieces(text)
        if len(self._seen) < self.max_chunks:
            self._cache_new_chunks(text)
        return self.tokenizer(text)

    def _cache_new_chunks(self, text: str) -> None:
        chunks = set(text.split())
        for run in set(_SPACE_RUN.findall(text)):
            # A run after a word loses its first space to that word (Token.whitespace_).
            chunks.update((run, run[1:]))
        new = chunks - self._seen
        new.discard("")
        tokenize = self.tokenizer
        for chunk in new:
            tokenize(chunk)
        self._seen |= new

    def _in_pieces(self, text: str) -> Doc:
        """The tokens of a text holding chunks of more than MAX_CHUNK characters: each such chunk
        is tokenised in pieces of MAX_CHUNK characters (its tokens end where a piece does), the
        rest of the text as usual; the text is the same."""
        docs, at = [], 0
        for m in _LONG_CHUNK.finditer(text):
            end = _CHUNK.match(text, m.start()).end()
            if m.start() > at:
                docs.append(self(text[at : m.start()]))
            # (the last piece takes the space after the chunk, as its last token does in spaCy)
            space = end + (text.startswith(" ", end))
            docs.extend(self.tokenizer(text[i : min(i + MAX_CHUNK, end) if i + MAX_CHUNK < end else space])
                        for i in range(m.start(), end, MAX_CHUNK))
            at = space
        if at < len(text):
            docs.append(self(text[at:]))
        # (Doc.from_docs reads every token as a Python object: seconds for 100,000 of them)
        rows = numpy.concatenate([doc.to_array([ORTH, SPACY]) for doc in docs])
        vocab = self.tokenizer.vocab
        return Doc(vocab, words=[vocab.strings[orth] for orth in rows[:, 0].tolist()], spaces=rows[:, 1].astype(bool).tolist())


class TailSuffixSearch:
    """The ``search`` of ``pattern`` (scispaCy's suffixes, each branch ending in ``$``) looking
    at the last SUFFIX_REACH characters only: the same match, since no branch matches more
    characters but a run of dots, and a run reaching further back matches at the window's first
    character too, where the whole text is searched instead. (A search from a position still
    sees the characters before it, for look-behinds.)"""

    def __init__(self, pattern: re.Pattern):
        self.pattern = pattern
        self.search = pattern.search

    def __call__(self, text: str):
        if len(text) <= SUFFIX_REACH:
            return self.search(text)
        reach = len(text) - SUFFIX_REACH
        m = self.search(text, reach)
        return m if m is None or m.start() > reach else self.search(text)
