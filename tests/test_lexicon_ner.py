"""The lexicon NER looks up names only at the words that may start one: it must find the drugs
and endpoints it finds when every word is looked at, over the dev abstracts and made-up text."""

import copy
import random

from pipeline.document import Document
from pipeline.segment import segment
from pipeline.tokens import Words

MADE_UP = ["and", ",", "in", "a", "n", "p", "2", "acetylcysteine", "acetyl", "l", "cysteine", "zoledronic", "acid",
           "FEC", "100", "FEC-100", "tamoxifen", "Tamoxifen", "weekly", "paclitaxel", "(", ")", "wPTX", "EVE",
           "everolimus", "progression-free", "free", "survival", "PFS", "OS", "os", "overall", "objective", "response",
           "rate", "\n", "of", "time", "to", "disease", "progression"]


def _texts(shared_corpus) -> list[str]:
    rng = random.Random(5)
    made_up = [" ".join(rng.choice(MADE_UP) for _ in range(rng.randint(1, 30))) for _ in range(1000)]
    return [f.read_text(encoding="utf-8") for f in sorted((shared_corpus / "pico-breast").glob("*.txt"))] + made_up


def _found(ner, doc) -> list[tuple]:
    ner(doc)
    return [(key, s.start, s.end, s.label_, s.kb_id_) for key in ("evx_drugs", "evx_endpoints") for s in doc.spans[key]]


def test_names_are_found_as_when_every_word_is_looked_at(nlp, shared_corpus) -> None:
    ner = nlp.get_pipe("evx_lexicon_ner")
    # Every word that starts a drug name is looked at (not only those that are one or whose next
    # word goes on with one); every word may start an endpoint phrase (set per document below).
    every_word = copy.copy(ner)
    every_word.one_word_names = ner.lex.drug_prefixes
    found = 0
    for text in _texts(shared_corpus):
        doc = segment(Document(source="t.txt", format="text", text=text), nlp).doc
        every_word.endpoint_first_lowers = frozenset(Words.of(doc).lowers)
        expected = _found(every_word, doc)
        assert _found(ner, doc) == expected, text
        found += len(expected)
    assert found > 1000
