"""evx's tokenizer fills spaCy's chunk cache ahead of each text: the tokens must be exactly
those of scispaCy's tokenizer without any cache, and chunks must come from the cache the
second time even after a special case ("e.g.") has stopped spaCy from saving them."""

import functools
import random

import pytest
import spacy
from scispacy.custom_tokenizer import combined_rule_tokenizer

from pipeline.extract.tokenizer import CachingTokenizer
from pipeline.tokens import Words

MADE_UP = [
    "e.g. the ORR was 30% (95% CI 14-50; 8/27) vs. 20% in arm B, i.e. p=0.03.",
    "Median PFS: 21 weeks [HR 0.54, 95%CI: 0.3–0.9]; OS  was\n\n not reached.\tDr. Smith et al. (2016)",
    "  leading space, trailing space ",
    "trastuzumab+pertuzumab; T-DXd 6.4mg/kg q3w;HER2:CEP17≥2.0 (IHC 3+/ISH+) — n = 53\r\nEnd.",
    "\n\n\n",
    "",
]


def scispacy_tokenizer(max_cache_size: int | None = None):
    tokenizer = combined_rule_tokenizer(spacy.blank("en"))
    if max_cache_size is not None:
        tokenizer.max_cache_size = max_cache_size
    return tokenizer


def tokens(doc):
    return [(t.text, t.whitespace_, t.idx) for t in doc]


def shuffled_texts(seed: int, count: int) -> list[str]:
    """Texts made of the made-up texts' pieces in random order, joined by assorted white space."""
    rng = random.Random(seed)
    pieces = " ".join(MADE_UP).split(" ")
    return [rng.choice([" ", "  ", "\n", " \n ", "\t"]).join(rng.sample(pieces, 12)) for _ in range(count)]


def test_same_tokens_as_scispacy_without_a_cache():
    uncached, caching = scispacy_tokenizer(max_cache_size=0), CachingTokenizer(scispacy_tokenizer())
    for text in MADE_UP * 2 + shuffled_texts(seed=7, count=300):
        doc = caching(text)
        assert doc.text == text
        assert tokens(doc) == tokens(uncached(text)), text


def test_same_tokens_on_real_abstracts(shared_corpus):
    files = sorted((shared_corpus / "pico-breast").glob("*.txt"))[:150]
    uncached, caching = scispacy_tokenizer(max_cache_size=0), CachingTokenizer(scispacy_tokenizer())
    for path in files * 2:  # the second pass reads every chunk from the cache
        text = path.read_text(encoding="utf-8")
        assert tokens(caching(text)) == tokens(uncached(text)), path.name


class CountingSuffixSearch:
    """Counts the suffix searches, which spaCy makes only for chunks not in its cache."""

    def __init__(self, search):
        self.search, self.calls = search, 0

    def __call__(self, text):
        self.calls += 1
        return self.search(text)


@pytest.mark.parametrize("caching", [False, True])
def test_chunks_after_a_special_case_come_from_the_cache(caching):
    tokenizer = scispacy_tokenizer()
    counter = CountingSuffixSearch(tokenizer.suffix_search)
    tokenizer.suffix_search = counter
    tokenize = CachingTokenizer(tokenizer) if caching else tokenizer
    text = "e.g. objective responses (ORR) in 8/27 patients, median PFS 21 weeks."
    tokenize(text)
    before = counter.calls
    tokenize(text)
    if caching:
        assert counter.calls == before  # every chunk but "e.g." was cached, and it is a special case
    else:
        assert counter.calls > before  # spaCy alone stopped saving chunks after "e.g."


def test_cache_is_bounded():
    caching = CachingTokenizer(scispacy_tokenizer(), max_chunks=20)
    uncached = scispacy_tokenizer(max_cache_size=0)
    texts = shuffled_texts(seed=11, count=50)
    for text in texts:
        assert tokens(caching(text)) == tokens(uncached(text))
    longest = max(len(set(text.split())) + 2 * text.count("\n") + 10 for text in texts)
    assert 20 <= len(caching._seen) <= 20 + longest
    assert caching.tokenizer.max_cache_size == 20


def test_pipeline_is_out_of_the_garbage_collectors_reach(nlp):
    """build_nlp freezes what it built: full collections would walk the lexicons every time."""
    import gc

    lexicon_ner = nlp.get_pipe("evx_lexicon_ner")
    tracked = [nlp, lexicon_ner, lexicon_ner.lex]
    assert all(gc.is_tracked(obj) for obj in tracked)
    collectable = {id(obj) for generation in (0, 1, 2) for obj in gc.get_objects(generation)}
    assert not any(id(obj) in collectable for obj in tracked)


@pytest.mark.parametrize("text", [*MADE_UP, "A text with single spaces only, as many abstracts are."])
def test_words_are_the_tokens_read_once(nlp, text) -> None:
    """pipeline.tokens.Words gives spaCy's token texts, with white-space tokens or without any
    (then the word lists are the token lists themselves)."""
    doc = nlp.make_doc(text)
    words = Words(doc)
    kept = [token for token in doc if not token.is_space]
    assert (words.tokens, words.offsets) == ([t.text for t in doc], [t.idx for t in doc])
    assert words.token_lowers == [t.text.lower() for t in doc]
    assert (words.index, words.texts, words.lowers) == ([t.i for t in kept], [t.text for t in kept],
                                                        [t.text.lower() for t in kept])


@functools.cache
def _tokenizers() -> tuple[CachingTokenizer, object]:
    """evx's tokenizer and scispaCy's without a cache, built once (2 s each)."""
    return CachingTokenizer(scispacy_tokenizer()), scispacy_tokenizer(max_cache_size=0)


def test_suffixes_are_found_in_the_last_characters():
    """``TailSuffixSearch`` looks at the last SUFFIX_REACH characters: every branch of
    scispaCy's suffix pattern but the run of dots must match fewer characters."""
    from re import _parser

    from pipeline.extract.tokenizer import SUFFIX_REACH

    pattern = _tokenizers()[1].suffix_search.__self__
    (op, (_, branches)), = _parser.parse(pattern.pattern, pattern.flags).data
    unbounded = [b for b in branches if b.getwidth()[1] >= SUFFIX_REACH]
    assert len(branches) > 50 and len(unbounded) == 1
    assert pattern.search("a" + "." * 100).start() == 1  # the run of dots


@pytest.mark.parametrize("text", ["a" + "." * 40, "x" + "." * 3, "(" * 30 + "a" + ")" * 30, "12.5mg/kg.),", "25°C.",
                                  "H" * 20 + "’s", "(" * 500 + ")" * 500 + " next"])
def test_suffixes_as_scispacy_finds_them(text):
    caching, uncached = _tokenizers()
    assert tokens(caching(text)) == tokens(uncached(text))


@pytest.mark.parametrize("text", ["a" * 2000, "(" * 1500 + ")" * 1500 + " next", "b. " * 1001 + "x" * 3000,
                                  "e.g. " + "y" * 1001 + "  vs. " + "(" * 1001 + "\n" + ")" * 1001 + " "])
def test_long_chunks_keep_their_text(text):
    """Chunks of more than MAX_CHUNK characters are tokenised in pieces; the text is the same and
    the other chunks get their usual tokens."""
    from pipeline.extract.tokenizer import MAX_CHUNK

    doc = _tokenizers()[0](text)
    assert doc.text == text
    assert max(len(t.text) for t in doc) <= MAX_CHUNK
    short = [t for t in text.split() if len(t) <= MAX_CHUNK]
    assert [t.text for t in doc if t.text in short] == [t for t in short if t in {"next", "b.", "e.g.", "vs."}]


def test_the_lexeme_attributes_evx_reads_are_those_of_spacy():
    """build_nlp leaves most lexeme attributes unset (a new word costs 6 us, not 25): the
    ones evx reads must still be spaCy's, on words the vocabulary has not seen before."""
    from pipeline.extract.nlp import LEXEME_ATTRS_READ, build_nlp

    nlp, plain = build_nlp(), spacy.blank("en")
    text = "Ten patients (10%) had twenty-one\n\nresponses; ORR 3/10, 1,000 mg Xyzzy-7 QWERTY 2.5e3 ½ ."
    doc = nlp.make_doc(text)
    read = [(t.text, t.lower_, t.is_space, t.like_num) for t in doc]
    lexemes = [plain.vocab[t.text] for t in doc]  # spaCy's vocabulary, every attribute set
    assert read == [(lex.text, lex.lower_, lex.is_space, lex.like_num) for lex in lexemes]
    assert any(t[3] for t in read) and any(t[2] for t in read)  # both kinds are in the text
    assert not doc.vocab["Xyzzy-7"].shape_  # (and the others are not computed)
    assert LEXEME_ATTRS_READ


def test_many_splits_make_the_doc_again_as_the_retokenizer_splits_it(monkeypatch):
    """Past RETOKENIZED_SPLITS joined drug names the doc is made again instead of retokenised
    (quadratic on long texts): the tokens, their spaces and sentence starts are the same."""
    import random

    from pipeline.extract import nlp as nlp_module
    from pipeline.tokens import keep_text

    nlp = nlp_module.build_nlp()
    splitter = dict(nlp.pipeline)["evx_split_compounds"]
    words = ["lapatinib-capecitabine", "EC/T", "GP2+GM-CSF", "HER2-positive", "patients", "received", "T-DM1",
             "trastuzumab/pertuzumab", ".", "The", "FEC-docetaxel", "arm", "\n\n", "Results", "5-FU", "(", ")"]
    rng = random.Random(3)
    compared = 0
    for _ in range(200):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 60)))
        made = []
        for limit in (10**9, 0):  # the retokenizer always, then never
            monkeypatch.setattr(nlp_module, "RETOKENIZED_SPLITS", limit)
            doc = nlp.make_doc(text)
            keep_text(doc, text)
            doc[0].is_sent_start = True
            for i, token in enumerate(doc):
                if i and doc[i - 1].text == ".":
                    token.is_sent_start = True
            doc = splitter(doc)
            made.append([(t.text, t.whitespace_, t.is_sent_start, t.idx) for t in doc])
        assert made[0] == made[1], text
        compared += len(made[0]) > len(text.split())
    assert compared > 100  # most texts had tokens to split
