"""Segmenter: sections, sentences that survive the hard cases, abbreviations."""

from __future__ import annotations

import pytest

from pipeline.document import Document, SectionSpan
from pipeline.segment import segment


def sentences(nlp, text: str) -> list[str]:
    return [s.text for s in segment(Document(source="t.txt", format="text", text=text), nlp).sentences]


@pytest.mark.parametrize(
    "text",
    [
        "Median PFS was 21 weeks (95% CI 16–32 weeks) in the cohort.",
        "Pertuzumab vs. placebo improved survival in this population.",
        "As shown by Smith et al. in 2019, the regimen was active.",
        "Responses are shown in Fig. 1 for every patient.",
        "The difference was significant (p = 0.03) at the final analysis.",
        "The hazard ratio was 0.62 and the ORR 57.5% overall.",
        "Tumours were HER2-positive, i.e. IHC 3+ or IHC 2+ with ISH positive.",
    ],
)
def test_no_split_inside(nlp, text):
    assert sentences(nlp, text) == [text]


def test_splits_between_sentences(nlp):
    text = "The ORR was 30%. Median PFS was 4.8 months. Toxicity was mild!"
    assert sentences(nlp, text) == ["The ORR was 30%.", "Median PFS was 4.8 months.", "Toxicity was mild!"]


def test_heading_lines_make_sections_and_break_sentences(nlp):
    text = "Abstract text here\n\n2 Case presentation\nIn 2019 a woman was admitted.\n3 Discussion\nHER2 matters."
    seg = segment(Document(source="t.txt", format="text", text=text), nlp)
    titles = [s.title for s in seg.sections]
    assert titles == [None, "Case presentation", "Discussion"]
    texts = [s.text for s in seg.sentences]
    assert "In 2019 a woman was admitted." in texts
    assert "HER2 matters." in texts
    # every sentence knows its section
    by_text = {s.text: seg.sections[s.section].title for s in seg.sentences}
    assert by_text["HER2 matters."] == "Discussion"


def test_reader_sections_are_kept(nlp):
    text = "A title\n\nRESULTS\nThe ORR was 30%."
    doc = Document(source="t.xml#1", format="pubmed-xml", text=text,
                   sections=[SectionSpan("Title", 0, 7), SectionSpan("RESULTS", 9, len(text))])
    seg = segment(doc, nlp)
    assert [s.title for s in seg.sections] == ["Title", "RESULTS"]
    assert seg.sentences[-1].text == "The ORR was 30%."


def test_abbreviation_defines_later_mentions(nlp):
    text = "The primary end point was progression-free survival (PFS). PFS was longer with the combination."
    seg = segment(Document(source="t.txt", format="text", text=text), nlp)
    assert [(a.short, a.long) for a in seg.abbreviations] == [("PFS", "progression-free survival")]


def test_defined_abbreviation_becomes_an_endpoint(nlp):
    from pipeline.extract import analyse

    text = "We measured the duration of clinical benefit (DCB). The DCB was 41% in the experimental arm."
    # DCB is not in the lexicon; its long form is not an endpoint either, so no outcome.
    assert not [r for r in analyse(Document(source="t.txt", format="text", text=text)).records if r.type == "outcome"]
    text = "Patients were assessed for objective tumour response (OTR). The OTR was 41% in the experimental arm."
    outcomes = [r for r in analyse(Document(source="t.txt", format="text", text=text)).records if r.type == "outcome"]
    assert [(o.endpoint, o.value) for o in outcomes] == [("ORR", 41.0)]


def test_sentence_pages_follow_the_document(nlp):
    from pipeline.document import PageSpan

    text = "Page one says the ORR was 30%.\n\nPage two gives a median PFS of 5 months."
    split = text.index("Page two")
    doc = Document(source="x.pdf", format="pdf", text=text, pages=[PageSpan(1, 0, split), PageSpan(2, split, len(text))])
    seg = segment(doc, nlp)
    assert [s.page for s in seg.sentences] == [1, 2]


def test_long_sentences_are_cut_where_a_walk_over_every_word_cuts_them():
    """``_bound_sentences`` jumps from cut to cut by bisection: the cuts are those of the walk
    over every word it replaced (a cut at the first word more than MAX_SENTENCE characters past
    the previous start), with words of any length, runs of white space and sentences already
    started inside the long ones."""
    import bisect
    import random
    from types import SimpleNamespace

    import numpy

    from pipeline.segment import MAX_SENTENCE, _bound_sentences

    def walked(starts, words):
        offsets, index = words.offsets, words.index
        first = numpy.flatnonzero(starts == 1)
        bounds = numpy.append(numpy.asarray(offsets)[first], offsets[-1] + len(words.tokens[-1]))
        for k in numpy.flatnonzero(numpy.diff(bounds) > MAX_SENTENCE):
            since = int(bounds[k])
            for p in range(bisect.bisect_right(index, int(first[k])), len(index)):
                at = offsets[index[p]]
                if at >= bounds[k + 1]:
                    break
                if at - since > MAX_SENTENCE:
                    starts[index[p]] = 1
                    since = at

    rng = random.Random(3)
    for _ in range(200):
        tokens = [rng.choice(["a", "word", "x" * rng.randint(1, 900), " ", "\n\n"]) for _ in range(rng.randint(1, 400))]
        tokens[0] = "w"
        offsets = [0]
        for token in tokens[:-1]:
            offsets.append(offsets[-1] + len(token))
        index = [i for i, token in enumerate(tokens) if not token.isspace()]
        words = SimpleNamespace(tokens=tokens, offsets=offsets, index=index)
        starts = numpy.full(len(tokens), -1, dtype="int64")
        starts[0] = 1
        for i in rng.sample(index, min(len(index), rng.randint(0, 3))):
            starts[i] = 1
        expected = starts.copy()
        walked(expected, words)
        _bound_sentences(starts, words)
        assert starts.tolist() == expected.tolist()


def test_a_text_without_punctuation_is_cut_into_bounded_sentences(nlp):
    from pipeline.segment import MAX_SENTENCE

    words = ["response", "rate", "patients", "cohort", "treated"] * 2000  # 10,000 words, no full stop
    text = " ".join(words)
    doc = Document(source="nopunct.txt", format="text", text=text)
    seg = segment(doc, nlp)
    assert len(seg.sentences) > 1
    assert max(len(s.text) for s in seg.sentences) <= MAX_SENTENCE + 20  # cut at the next word
    assert "".join(text[s.start : s.end] for s in seg.sentences).replace(" ", "") == text.replace(" ", "")
    for s in seg.sentences:
        assert text[s.start : s.end] == s.text


# ----------------------------------------------------------------------------- long texts in chunks


def _abstracts(count: int) -> str:
    """Made-up abstracts joined with blank lines, some with headings, abbreviations and line breaks."""
    parts = []
    for i in range(count):
        parts.append(
            f"RESULTS\nIn cohort {i}, progression-free survival (PFS) was {i % 9 + 2}.{i % 10} months with "
            f"trastuzumab plus lapatinib (n = {20 + i}).\nThe objective response rate was {10 + i % 50}% "
            f"(95% CI {5 + i % 40}-{30 + i % 50}); median PFS, i.e. the primary end point, vs. 2.1 months.")
    return "\n\n".join(parts)


def test_chunk_bounds_cut_at_paragraphs_then_lines_then_sentences_then_words() -> None:
    from pipeline.segment import chunk_bounds

    def cuts(text: str, size: int) -> list[str]:
        bounds = chunk_bounds(text, size)
        assert bounds[0][0] == 0 and bounds[-1][1] == len(text)
        assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
        assert all(end - start <= size for start, end in bounds)
        return [text[start:end] for start, end in bounds]

    assert cuts("aaaa bbbb.\n\ncccc dddd", 16) == ["aaaa bbbb.\n\n", "cccc dddd"]
    assert cuts("aaaa bbbb.\ncccc dddd", 16) == ["aaaa bbbb.\n", "cccc dddd"]
    assert cuts("aaaa bbbb. Cccc dddd eeee", 16) == ["aaaa bbbb. ", "Cccc dddd eeee"]
    assert cuts("aaaa bbbb cccc dddd eeee", 20) == ["aaaa bbbb cccc dddd ", "eeee"]
    assert cuts("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_a_long_text_in_chunks_has_the_offsets_of_the_text_segmented_whole(nlp, monkeypatch) -> None:
    import pipeline.segment as segment_module
    from pipeline.extract import analyse

    text = _abstracts(120)  # 28,000 characters: 6 chunks of at most 5,000
    document = Document(source="long.txt", format="text", text=text)
    whole = segment(document, nlp)
    assert len(whole.pieces) == 1
    monkeypatch.setattr(segment_module, "CHUNK_CHARS", 5_000)
    chunked = segment(document, nlp)
    assert len(chunked.pieces) == 6 and all(start < 5_000 * (i + 1) for i, (start, _doc) in enumerate(chunked.pieces))
    assert [(s.start, s.end, s.section, s.text) for s in chunked.sentences] == [
        (s.start, s.end, s.section, s.text) for s in whole.sentences]
    assert chunked.sections == whole.sections
    for sentence in chunked.sentences:
        assert text[sentence.start:sentence.end] == sentence.text
    for abbreviation in chunked.abbreviations:
        assert text[abbreviation.start:abbreviation.end] == abbreviation.short
    analysis = analyse(document)
    assert len(analysis.records) > 200
    for record in analysis.records:
        assert text[record.start:record.end] == record.text, record
