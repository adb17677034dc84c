"""Segmentation: sections, sentences and abbreviations of a document.

Sections come from the reader when the source marks them (structured-abstract labels, JATS
<sec> titles, PDF tables); otherwise from heading lines ("2 Case presentation", "RESULTS:").
Sentences come from scispaCy's rule tokenizer plus boundaries set here: scispaCy keeps "vs.",
"et al.", "Fig.", "i.e." and decimals as single tokens, so a boundary after a bare "." token
does not split "95% CI 16–32 weeks", "p = 0.03" or "Fig. 1"; headings, blank lines and table
rows always start a sentence. Abbreviations use scispaCy's Schwartz–Hearst detector so that
"progression-free survival (PFS)" makes every later "PFS" known.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy
from spacy.attrs import SENT_START
from spacy.tokens import Doc

from pipeline.analysis import Abbreviation, Section, Sentence
from pipeline.document import Document
from pipeline.tokens import Words, abbreviation_pairs, doc_text, keep_text, positions

HEADING_WORDS = (
    r"abstract|summary|background|introduction|objectives?|aims?|purpose|"
    r"case (?:presentation|report|description|summary)s?|"
    r"(?:patients|materials?|subjects)(?:,)? and methods|methods?|methodology|study design|design|"
    r"statistical analys[ie]s|results?|findings|discussion|conclusions?|interpretation|"
    r"limitations|references|bibliography|acknowledge?ments?|funding|"
    r"conflicts? of interest|declaration of interests?|author contributions|trial registration|"
    r"data availability|ethics statement|keywords"
)
# A heading line: optional numbering ("2", "3.1", "IV."), a known heading, optional colon.
HEADING = rf"[ \t]*(?:(?:\d+(?:\.\d+)*|[IVX]+)\.?[ \t]+)?({HEADING_WORDS})[ \t]*:?[ \t]*$"
HEADING_LINE = re.compile(rf"^{HEADING}", re.IGNORECASE | re.MULTILINE)
# A structured-abstract label that starts a paragraph: "RESULTS: Of 27 patients ..."
INLINE_LABEL = re.compile(rf"(?:^|(?<=\n)|(?<=\.\s))((?:{HEADING_WORDS})):\s", re.IGNORECASE)
# The line breaks (and ". ") a heading line (an inline label) follows; the heading is only looked
# at ahead. Starting on a character, not on "^" or a look-behind, the search skips in C to the next
# line break instead of trying the pattern at every offset.
BREAK_BEFORE_HEADING = re.compile(rf"\n(?={HEADING})", re.IGNORECASE | re.MULTILINE)
PLACE_BEFORE_LABEL = re.compile(rf"(?:\n|\.\s)(?=(?:{HEADING_WORDS}):\s)", re.IGNORECASE)
CAPTION_LINE = re.compile(r"^[ \t]*(?:FIGURE|Figure|Fig\.|TABLE|Table)\s+\d+\b", re.MULTILINE)
NO_EXTRACTION_SECTIONS = re.compile(
    r"^(?:references|bibliography|acknowledge?ments?|funding|conflicts? of interest|"
    r"declaration of interests?|author contributions)$",
    re.IGNORECASE,
)
SENTENCE_END = {".", "!", "?"}


@dataclass
class Segmentation:
    # spaCy docs over consecutive chunks of the text, sentence boundaries set, each with the
    # offset its chunk starts at: one doc over the whole text but for a long text (CHUNK_CHARS).
    pieces: list[tuple[int, Doc]]
    sections: list[Section]
    sentences: list[Sentence]
    abbreviations: list[Abbreviation]

    @property
    def doc(self) -> Doc:
        """The doc over the whole text (a text not segmented in chunks)."""
        [(_offset, doc)] = self.pieces
        return doc


def find_sections(document: Document) -> list[Section]:
    """Sections covering the whole text, in order. Reader-marked sections win; text the
    reader did not mark is searched for heading lines and structured-abstract labels."""
    text = document.text
    starts: dict[int, str] = {}
    for span in document.sections:
        starts[span.start] = span.title
    marked = [(s.start, s.end) for s in document.sections]

    def unmarked(pos: int) -> bool:
        return not any(a <= pos < b for a, b in marked)

    for m in _heading_lines(text):
        if unmarked(m.start()):
            starts.setdefault(m.start() + (len(m.group(0)) - len(m.group(0).lstrip())), m.group(1).strip())
    for m in _inline_labels(text):
        label = m.group(1)
        # Only upper-case labels inline ("RESULTS: ..."), so prose like "Results: a" at a line
        # start must be a heading line; a lower-case "methods: " inside prose is not a section.
        if label.isupper() and unmarked(m.start(1)):
            starts.setdefault(m.start(1), label)
    ordered = sorted(starts.items())
    sections: list[Section] = []
    if not ordered or ordered[0][0] > 0:
        ordered.insert(0, (0, None))  # text before the first heading
    for i, (start, title) in enumerate(ordered):
        end = ordered[i + 1][0] if i + 1 < len(ordered) else len(text)
        if end > start:
            sections.append(Section(len(sections), title, start, end))
    return sections


def _heading_lines(text: str):
    """``HEADING_LINE.finditer(text)``: the pattern matched at the start and after each line
    break that a heading follows (a match holds no line break: they cannot overlap)."""
    return _matched_after(HEADING_LINE, BREAK_BEFORE_HEADING, text)


def _inline_labels(text: str):
    """``INLINE_LABEL.finditer(text)``, the pattern tried only where a label starts: at the start,
    after a line break or after ". " that a label follows (its matches cannot overlap: a label
    holds neither). Trying it at every offset costs more than the rest of find_sections."""
    return _matched_after(INLINE_LABEL, PLACE_BEFORE_LABEL, text)


def _matched_after(pattern: re.Pattern, place: re.Pattern, text: str):
    """The matches of ``pattern`` at the start of ``text`` and where each match of ``place`` ends."""
    for start in [0, *(m.end() for m in place.finditer(text))]:
        m = pattern.match(text, start)
        if m:
            yield m


def _forced_starts(document: Document, sections: list[Section], tables: Sequence = ()) -> set[int]:
    """Character offsets where a sentence must start: section starts and the line after a
    heading, paragraph breaks, figure/table captions and every row of a table (the reader's,
    and ``tables`` found in the text: anything with ``start`` and ``end``)."""
    text = document.text
    forced = {s.start for s in sections}
    for s in sections:
        if s.title is not None:
            line_end = text.find("\n", s.start, s.end)
            if line_end != -1:
                forced.add(line_end + 1)
    forced.update(m.end() for m in re.finditer(r"\n[ \t]*\n", text))
    forced.update(m.start() for m in CAPTION_LINE.finditer(text))
    for table in [*document.tables, *tables]:
        pos = table.start
        while 0 <= pos < table.end:
            forced.add(pos)
            nl = text.find("\n", pos, table.end)
            pos = nl + 1 if nl != -1 else -1
    return forced


def set_sentence_starts(doc: Doc, forced: set[int]) -> None:
    """Mark sentence starts on a freshly tokenised doc (no parser is used). Written in one
    ``from_array`` call: setting ``token.is_sent_start`` one token at a time is quadratic.

    A word (a token other than white space) starts a sentence when it is the first word, starts
    at a forced offset, follows white space holding a forced offset (its start to its end, both
    included), or follows a sentence-ending word and looks like a sentence start. Only those
    places are visited, not every token."""
    if not len(doc):
        return
    words = Words.of(doc)
    tokens, offsets, index = words.tokens, words.offsets, words.index
    starts = numpy.full(len(doc), -1, dtype="int64")  # SENT_START: 1 start, -1 inside
    starts[0] = 1
    if index:
        starts[index[0]] = 1
    for offset in forced:
        i = bisect.bisect_right(offsets, offset) - 1  # the token at or before the offset
        if i < 0:
            continue
        # (a word iff in ``index``, the words' token indices: a run of white space may be one
        # token as long as the text, and testing it for every forced offset was quadratic)
        p = bisect.bisect_left(index, i)
        if p < len(index) and index[p] == i:
            if offsets[i] == offset:
                starts[i] = 1
        elif offset <= offsets[i] + len(tokens[i]):
            # A forced offset inside a run of white space starts the next word's sentence.
            p = bisect.bisect_right(index, i)
            if p < len(index):
                starts[index[p]] = 1
    # After a sentence-ending word only a capital, digit or opening bracket starts a sentence:
    # "Co., LTD., Chengdu" and "vs. placebo" do not.
    # (the words are found with list.index, which scans in C: most words are not sentence ends)
    texts = words.texts
    for p in [p + 1 for mark in SENTENCE_END for p in positions(texts, [mark]) if p + 1 < len(texts)]:
        first = texts[p][0]
        if first.isupper() or first.isdigit() or first in "([\"“‘'":
            starts[index[p]] = 1
    # A group's letter closing a sentence: the tokenizer keeps "C." whole, as an initial, but
    # "... in cohort B or cohort C. Drug-related ..." ends there: a lone capital and "." after a
    # lower-case word, with a capital next. An author's initial follows a capitalised name.
    # (only the two-character words are looked at, found by their lengths in numpy)
    two_characters = numpy.flatnonzero(numpy.fromiter(map(len, texts), dtype="int64", count=len(texts))[1:-1] == 2) + 1
    for p in [p for p in two_characters.tolist() if texts[p][1] == "."]:
        if texts[p][0].isupper() and texts[p - 1].islower() and texts[p - 1].isalpha() and texts[p + 1][:1].isupper():
            starts[index[p + 1]] = 1
    _bound_sentences(starts, words)
    # spaCy arrays are uint64; -1 ("not a start") wraps as it does in Doc.to_array.
    doc.from_array([SENT_START], starts.view("uint64").reshape(-1, 1))


MAX_SENTENCE = 3000  # characters; the longest sentence of the development texts has 693


def _bound_sentences(starts: numpy.ndarray, words: Words) -> None:
    """A sentence longer than MAX_SENTENCE characters (a text without punctuation) starts anew at
    the first word past every MAX_SENTENCE characters: the extractors' work on a sentence grows
    faster than its length, and no sentence of a paper is that long."""
    offsets, index = words.offsets, words.index
    first = numpy.flatnonzero(starts == 1)
    bounds = numpy.append(numpy.asarray(offsets)[first], offsets[-1] + len(words.tokens[-1]))
    for k in numpy.flatnonzero(numpy.diff(bounds) > MAX_SENTENCE):
        since, end = int(bounds[k]), int(bounds[k + 1])
        p = bisect.bisect_right(index, int(first[k]))
        while True:
            # The first word more than MAX_SENTENCE past the last start, found by bisection:
            # visiting every word of a text without punctuation cost 0.3 s a megabyte.
            p = bisect.bisect_right(index, since + MAX_SENTENCE, lo=p, key=offsets.__getitem__)
            if p == len(index) or offsets[index[p]] >= end:
                break
            since = offsets[index[p]]
            starts[index[p]] = 1
            p += 1


CHUNK_CHARS = 200_000  # a text longer than this is given to spaCy in chunks of at most this many characters


def segment(document: Document, nlp, tables: Sequence = ()) -> Segmentation:
    """Tokenise and segment ``document`` with ``nlp`` (see pipeline.extract.nlp.build_nlp);
    runs the rest of nlp's pipeline (abbreviations, entity rulers) on the segmented doc.
    Every line of ``tables`` (text tables, pipeline.tables.text) starts a sentence.

    A text of more than CHUNK_CHARS characters is given to spaCy in chunks (``chunk_bounds``),
    cut where a paragraph starts if it can: each chunk is tokenised, segmented and run through
    the pipeline alone, and every offset is shifted back into the whole text. Cut at blank
    lines, the sentences and sections are those of the text segmented whole; an abbreviation
    defined in one chunk is not known in the next."""
    text = document.text
    sections = find_sections(document)
    forced = _forced_starts(document, sections, tables)
    bounds = chunk_bounds(text, CHUNK_CHARS) if len(text) > CHUNK_CHARS else [(0, len(text))]
    pieces = []
    for start, end in bounds:
        chunk = text[start:end] if (start, end) != (0, len(text)) else text
        doc = nlp.make_doc(chunk)
        keep_text(doc, chunk)
        set_sentence_starts(doc, {f - start for f in forced if start <= f < end})
        for _name, component in nlp.pipeline:
            doc = component(doc)
        pieces.append((start, doc))
    return Segmentation(pieces, sections, _sentences(document, pieces, sections), _abbreviations(pieces))


# Where a chunk may end, best first: after a blank line, a line break, a sentence end, white space.
_CUTS = (re.compile(r"\n[ \t]*\n\s*"), re.compile(r"\n\s*"), re.compile(r"[.!?]\s+(?=[A-Z0-9(\[])"), re.compile(r"\s+"))


def chunk_bounds(text: str, size: int = CHUNK_CHARS) -> list[tuple[int, int]]:
    """Consecutive (start, end) covering ``text``, each at most ``size`` characters: cut after
    the last blank line of the second half of the window, else the last line break, else the
    last sentence end, else the last white space (the white space stays with the chunk before,
    the next chunk starts on a word); a run of ``size`` characters without any is cut anyway."""
    bounds, start = [], 0
    while len(text) - start > size:
        end = start + size
        cut = None
        for pattern in _CUTS:
            found = [m.end() for m in pattern.finditer(text, start + size // 2, end) if m.end() <= end]
            if found:
                cut = found[-1]
                break
        bounds.append((start, cut or end))
        start = cut or end
    bounds.append((start, len(text)))
    return bounds


def _sentences(document: Document, pieces: list[tuple[int, Doc]], sections: list[Section]) -> list[Sentence]:
    sentences: list[Sentence] = []
    section_i = 0
    for shift, doc in pieces:
        words = Words.of(doc)
        texts, offsets = words.tokens, words.offsets
        # doc.sents, read from the sentence starts without building a Span per sentence
        starts = (doc.to_array(SENT_START) == 1).nonzero()[0].tolist()
        bounds = [0, *(i for i in starts if i), len(doc)]
        for sent_start, sent_end in itertools.pairwise(bounds):
            # Trim surrounding white space so offsets point at the words themselves.
            first, last = sent_start, sent_end - 1
            while first <= last and texts[first].isspace():
                first += 1
            while last >= first and texts[last].isspace():
                last -= 1
            if first > last:
                continue
            start, end = shift + offsets[first], shift + offsets[last] + len(texts[last])
            while section_i + 1 < len(sections) and sections[section_i + 1].start <= start:
                section_i += 1
            sentences.append(
                Sentence(len(sentences), start, end, section_i, document.page_at(start), document.text[start:end])
            )
    return sentences


def _abbreviations(pieces: list[tuple[int, Doc]]) -> list[Abbreviation]:
    found: dict[str, Abbreviation] = {}
    # scispaCy's order depends on string hashing, which varies between processes: the first
    # definition in the text is kept, so the rows are the same in every run.
    for shift, doc in pieces:
        text = doc_text(doc)  # (a slice of it, not Span.text, which builds every Token)
        for short_start, short_end, long_start, long_end in sorted(abbreviation_pairs(doc), key=lambda pair: pair[0]):
            short_text, long_text = text[short_start:short_end], text[long_start:long_end]
            if short_text.lower() == long_text.lower() or len(short_text) < 2:
                continue
            if short_text not in found:
                found[short_text] = Abbreviation(short_text, long_text, shift + short_start, shift + short_end)
    return list(found.values())


def extractable(section: Section) -> bool:
    """False for back matter (references, funding...), where figures are not evidence."""
    return section.title is None or not NO_EXTRACTION_SECTIONS.match(section.title.strip())
