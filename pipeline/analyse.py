"""Analysing documents, in the run or in a worker: each within a time limit, and the NLP
pipeline renewed every ``RENEW_NLP_AFTER`` documents.

spaCy's vocabulary and string store keep every word they have ever seen and never shrink (a
known limitation of spaCy): a worker analysing a 100,000-record export grew by about 1 kB a
document, every record bringing a new number or name. Building the pipeline anew from time to
time gives that memory back (about 0.5 s a time: the lexicons stay loaded), and changes no
result: the vocabulary and the tokenizer's cache only remember what was computed.

This module imports neither the store nor SQLAlchemy (about 25 MB a process): a worker given
only the pieces of a large export to analyse (``pipeline.ingest``) never imports them, and the
run turns the analyses into rows.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from pipeline import extractor
from pipeline.analysis import Analysis
from pipeline.document import Document
from pipeline.errors import DocumentTimeout

DEFAULT_TIME_LIMIT = 120.0  # seconds to read or analyse one document
SPACY_DEFAULT_MAX_LENGTH = 1_000_000  # characters: spaCy's default nlp.max_length; a shorter text never needs it raised
RENEW_NLP_AFTER = 5_000  # documents analysed by one pipeline (about 5 MB of strings and caches)

_analysed = 0  # documents analysed by this process's pipeline since it was built


def analyse_all(documents: list[Document], time_limit: float | None = DEFAULT_TIME_LIMIT) -> list[tuple[Document, Analysis]]:
    """Each document with its analysis, each analysed within ``time_limit`` seconds."""
    global _analysed
    analysed = []
    for document in documents:
        if _analysed >= RENEW_NLP_AFTER:
            from pipeline.extract.nlp import renew_nlp

            renew_nlp()
            _analysed = 0
        _analysed += 1
        if len(document.text) > SPACY_DEFAULT_MAX_LENGTH:
            _let_spacy_read(len(document.text))
        with deadline(time_limit, f"analysing {document.source}"):
            analysed.append((document, extractor.analyse(document)))
    return analysed


def _let_spacy_read(length: int) -> None:
    """Raise spaCy's own limit (nlp.max_length, E088) to a text the run's ``max_text`` let
    through. spaCy's limit guards the memory of its parser and NER, which evx does not run;
    evx's limit is the one documented and configured."""
    from pipeline.extract.nlp import build_nlp

    nlp = build_nlp()
    nlp.max_length = max(nlp.max_length, length + 1)


@contextmanager
def deadline(seconds: float | None, what: str) -> Iterator[None]:
    """Raise ``DocumentTimeout`` in the block after ``seconds``. A no-op without a limit, off the
    main thread, or where SIGALRM does not exist (Windows)."""
    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(_signum, _frame):
        raise DocumentTimeout(f"timed out after {seconds:g} s {what}")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
