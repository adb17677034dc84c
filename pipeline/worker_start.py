"""Imported by the fork server of a parallel ingest (see pipeline.workers), never by the run
itself: it builds the NLP pipeline once, so every worker forked from the server starts with the
pipeline ready, and the workers share its memory instead of building a copy each."""

from pipeline.extract.nlp import build_nlp

build_nlp()
