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
"""

from __future__ import annotations

import re

from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc

# Chunks kept in the cache: bounded so that memory stays flat however long the run; about
# 100 bytes each (spaCy's entry and the string in ``_seen``).
MAX_CACHED_CHUNKS = 100_000
# White space that spaCy tokenises as a chunk: any run but a single space after a word
# (``\s\s+|[^\S ]``, written to start with a character class, which lets re skip to white space).
_SPACE_RUN = re.compile(r"\s(?:\s+|(?<=[^\S ]))")


class CachingTokenizer:
    """Tokenises like ``tokenizer`` (a spaCy Tokenizer), caching every chunk it can."""

    def __init__(self, tokenizer: Tokenizer, max_chunks: int = MAX_CACHED_CHUNKS):
        self.tokenizer = tokenizer
        self.max_chunks = max_chunks
        tokenizer.max_cache_size = max_chunks
        self._seen: set[str] = set()  # chunks tokenised alone (cached, unless a special case)

    def __call__(self, text: str) -> Doc:
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
