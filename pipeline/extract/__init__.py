"""Extraction stage (being written): ``analyse(document) -> Analysis``.

Temporary stub so other stages can be built against the interface: one section, one sentence
per line, no records.
"""

from __future__ import annotations

from pipeline.analysis import Analysis, Section, Sentence
from pipeline.document import Document

EXTRACTOR_VERSION = "0.0-stub"


def analyse(document: Document) -> Analysis:
    text = document.text
    sections = [Section(0, None, 0, len(text))]
    sentences, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            sentences.append(Sentence(len(sentences), pos, pos + len(line), 0, document.page_at(pos), line))
        pos += len(line) + 1
    return Analysis(sections=sections, sentences=sentences)
