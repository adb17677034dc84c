"""The spaCy pipeline: scispaCy tokenizer, abbreviation detector and evx's lexicon NER.

No pretrained model is needed: everything is rules and lexicons. The NER writes span groups
rather than doc.ents because mentions may overlap (a trial named after its drug):

  doc.spans["evx_drugs"]      label DRUG / BACKBONE, span.kb_id_ = INN or backbone name
  doc.spans["evx_endpoints"]  label ENDPOINT, span.kb_id_ = canonical endpoint ("PFS"); label
                              ENDPOINT_VERB for a verb stating one ("responded": ORR)
  doc.spans["evx_trials"]     label TRIAL / REGISTRY, span.kb_id_ = canonical name

Abbreviations defined in the document extend the lexicons for that document: after
"everolimus (EVE)", "EVE" is a drug; after "clinical benefit rate (CBR)" or "median duration of
response (mDoR)", "CBR" and "mDoR" are endpoints. A modifier coordinated with an endpoint phrase
shares its head noun: "progression-free" in "progression-free and overall survival" is PFS.

The tokenizer keeps hyphen- and slash-joined words whole ("lapatinib-capecitabine",
"epirubicin/cyclophosphamide", "EC-D", "afatinib-treated"); ``evx_split_compounds`` splits
such tokens around the drug and backbone names they hold, before anything else reads them.
"""

from __future__ import annotations

import bisect
import gc
import re
import warnings
from collections import defaultdict
from collections.abc import Iterator
from functools import lru_cache

import numpy
import spacy
from spacy.attrs import IS_SPACE, LIKE_NUM, LOWER, ORTH, SENT_START, SPACY
from scispacy.abbreviation import AbbreviationDetector
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from pipeline.extract.lexicon import Lexicons, _is_short_form, load_endpoint_vocabulary, load_lexicons
from pipeline.extract.tokenizer import CachingTokenizer
from pipeline.extract.trials import find_trials
from pipeline.tokens import (
    ABBREVIATION_PAIRS,
    Words,
    abbreviation_pairs,
    doc_text,
    forget_words,
    keep_abbreviations,
    positions,
    run_positions,
)

MAX_DRUG_TOKENS = 4
ENDPOINTS = load_endpoint_vocabulary()
# What the long form of an endpoint abbreviation holds: a stem ("respon") or a short form ("pfs").
ENDPOINT_WORDS = re.compile("|".join(
    [*map(re.escape, ENDPOINTS.long_form_stems),
     r"\b(?:" + "|".join(sorted({re.escape(s.lower()) for s in ENDPOINTS.names if _is_short_form(s)})) + r")\b"]))
# "time to disease progression", "after disease progression": progression as an event, not PD.
PROGRESSION_AS_EVENT = ENDPOINTS.progression_as_event
# Words before "survival" that make it another endpoint than overall survival.
QUALIFIED_SURVIVAL = ENDPOINTS.qualified_survival
ENDPOINT_VERB = "ENDPOINT_VERB"  # label of a verb stating an endpoint ("responded")
COUNT_WORD = "COUNT_WORD"  # label of a word naming an endpoint only in a count ("no response was seen")
COORDINATORS = {"and", "or", ",", "and/or"}  # between modifiers sharing a head noun
# Separators inside one token that join drugs: "lapatinib-capecitabine", "EC/T", "GP2+GM-CSF".
COMPOUND_SEPARATOR = re.compile(r"([-/+±–])")
SEPARATOR_CHAR = re.compile(r"[-/+±–]")
# Leading words of an abbreviation's long form that do not change the drug: "weekly paclitaxel (wPTX)".
DRUG_MODIFIERS = {"weekly", "daily", "oral", "intravenous", "iv", "subcutaneous", "low-dose", "high-dose",
                  "dose-dense", "metronomic", "standard", "adjuvant", "neoadjuvant", "single-agent"}


@Language.factory("evx_split_compounds", default_config={})
def make_compound_splitter(nlp: Language, name: str) -> "CompoundSplitter":
    return CompoundSplitter(load_lexicons())


class CompoundSplitter:
    """Split a hyphen/slash/plus-joined token around the drug or backbone names inside it, so
    the NER sees "lapatinib", "-", "capecitabine". Tokens that are names themselves
    ("nab-paclitaxel", "T-DM1", "5-FU") and tokens without a name ("HER2-positive",
    "PALOMA-3") stay whole. The text is unchanged: only token boundaries move."""

    def __init__(self, lexicons: Lexicons):
        self.lex = lexicons
        # A name found inside a token starts at one of its parts: "gm" of "GP2+GM-CSF". Tokens
        # without such a part (nearly all: "HER2-positive", "95%-CI") are not looked at further.
        self.first_parts = frozenset(
            COMPOUND_SEPARATOR.split(name, maxsplit=1)[0]
            for names in (lexicons.drugs, lexicons.backbones, lexicons.drug_aliases) for name in names
        )
        # The same joined words ("-", "follow-up", "mg/m2") come back in every document.
        self.pieces = lru_cache(maxsize=16384)(self._pieces)

    def _is_name(self, text: str) -> bool:
        key = text.lower()
        if key in self.lex.backbones or key in self.lex.drug_aliases:
            return True
        return key in self.lex.drugs and text not in self.lex.genes and not _looks_like_noise(text, 1)

    def _pieces(self, text: str) -> list[str] | None:
        """The new token texts for ``text``, or None when it stays whole (see ``pieces``)."""
        if not COMPOUND_SEPARATOR.search(text) or self._is_name(text):
            return None
        parts = [p for p in COMPOUND_SEPARATOR.split(text) if p]
        if not any(part.lower() in self.first_parts for part in parts):
            return None
        out: list[str] = []
        found = False
        i = 0
        while i < len(parts):
            # The longest run of parts that is a name: "GM-CSF" in "GP2+GM-CSF", "T-DM1" in
            # "T-DM1-treated"; every other part and separator becomes a token of its own.
            j = next((j for j in range(len(parts), i, -1) if self._is_name("".join(parts[i:j]))), None)
            if j is not None and not COMPOUND_SEPARATOR.fullmatch(parts[i]):
                out.append("".join(parts[i:j]))
                found = True
                i = j
            else:
                out.append(parts[i])
                i += 1
        # Locants mean a chemical name ("1-hexylcarbamoyl-5-fluorouracil" is carmofur): keep it.
        if any(piece.isdigit() for piece in out):
            return None
        return out if found and len(out) > 1 else None

    def __call__(self, doc: Doc) -> Doc:
        # Only tokens holding a separator can split: found from the separators in the text (one
        # regex scan), each the token starting last at or before it; the others are not visited.
        separators = [m.start() for m in SEPARATOR_CHAR.finditer(doc_text(doc))]
        if not separators:
            return doc
        words = Words.of(doc)
        token_starts, texts = words.offsets, words.tokens  # doc.char_span walks every token per call
        candidates = {bisect.bisect_right(token_starts, at) - 1 for at in separators}
        splits = [(i, pieces) for i in sorted(candidates) if (pieces := self.pieces(texts[i]))]
        if not splits:
            return doc
        # spaCy's retokenizer moves every later token for each split: 1.3 s on a text of a
        # megabyte. Past a few splits the doc is made again instead, which costs a look-up per
        # token (more than a few splits of an abstract cost).
        if len(splits) > RETOKENIZED_SPLITS:
            return _made_again_split(doc, splits)
        # Sentence starts were set on the whole tokens; the retokenizer does not keep them
        # reliably for the pieces, so they are set again: only a first piece may start one.
        starts = {token_starts[i]: doc[i].is_sent_start for i, _ in splits}
        ends = {token_starts[i]: token_starts[i] + len(texts[i]) for i, _ in splits}
        split_tokens = [(doc[i], pieces) for i, pieces in splits]
        forget_words(doc)  # the tokens change
        with doc.retokenize() as retokenizer:
            for token, pieces in split_tokens:
                retokenizer.split(token, pieces, heads=[(token, n) for n in range(len(pieces))])
        token_starts = Words.of(doc).offsets  # read again after the split, kept for the NER
        for start, is_start in starts.items():
            first = bisect.bisect_left(token_starts, start)
            doc[first].is_sent_start = is_start
            for i in range(first + 1, bisect.bisect_left(token_starts, ends[start])):
                doc[i].is_sent_start = False
        return doc


RETOKENIZED_SPLITS = 8


def _made_again_split(doc: Doc, splits: list[tuple[int, list[str]]]) -> Doc:
    """``doc`` made again with token ``i`` split into the texts ``pieces`` for each (i, pieces)
    of ``splits`` (in token order), as the retokenizer splits it: only a first piece may start a
    sentence. The doc's user data (its text) is kept; its words are read again when asked for."""
    tokens = Words.of(doc).tokens
    rows = doc.to_array([SPACY, SENT_START])  # (uint64: a SENT_START of -1 is read back as int64)
    spaces, starts = rows[:, 0].astype(bool).tolist(), rows[:, 1].view("int64").tolist()
    new_words, new_spaces, new_starts, at = [], [], [], 0
    for i, pieces in splits:
        new_words += tokens[at:i]
        new_spaces += spaces[at:i]
        new_starts += starts[at:i]
        new_words += pieces
        new_spaces += [False] * (len(pieces) - 1) + [spaces[i]]
        new_starts += [starts[i]] + [-1] * (len(pieces) - 1)
        at = i + 1
    new_words += tokens[at:]
    new_spaces += spaces[at:]
    new_starts += starts[at:]
    split = Doc(doc.vocab, words=new_words, spaces=new_spaces, sent_starts=new_starts)
    split.user_data.update(doc.user_data)
    forget_words(split)  # the tokens changed
    return split


@Language.factory("evx_abbreviations", default_config={})
def make_abbreviation_detector(nlp: Language, name: str) -> "FastAbbreviationDetector":
    return FastAbbreviationDetector(nlp, name)


class FastAbbreviationDetector(AbbreviationDetector):
    """scispaCy's Schwartz-Hearst abbreviation detector, run on the token texts.

    scispaCy finds every bracketed run of tokens with the Matcher pattern ``( any+ )``, whose
    partial matches pile up on long documents (6.8 s of matching on the 33 dev PDFs, 0.2 s this
    way), and then keeps only the runs of at most 8 tokens. ``_bracketed_runs`` finds just those,
    in the Matcher's order. scispaCy's filters and Schwartz-Hearst match (``filter_matches``,
    ``find_abbreviation``) build spaCy Spans and Tokens for every bracket of the document:
    ``_candidates`` and ``_long_form_start`` do the same on the token texts. Its second Matcher
    (every later use of each short form) is a search of the token texts. The abbreviations found
    are scispaCy's, kept as character offsets (``abbreviation_pairs``); ``doc._.abbreviations``
    builds scispaCy's Spans from them when it is read (a Span for every definition and use was
    seconds of work on a text of many definitions, and evx reads the offsets).
    """

    def __init__(self, nlp: Language, name: str):
        super().__init__(nlp, name)
        Doc.set_extension("abbreviations", getter=_abbreviation_spans, force=True)

    def __call__(self, doc: Doc) -> Doc:
        words = Words.of(doc)
        keep_abbreviations(doc, [(*_char_range(words, *short), *_char_range(words, *long))
                                 for long, shorts in _occurrences(doc) for short in shorts])
        return doc


def _abbreviation_spans(doc: Doc) -> list[Span]:
    """scispaCy's ``doc._.abbreviations``: a Span per use of a short form, its ``_.long_form``
    the Span of the long form."""
    found = []
    # (the detector's pairs, not abbreviation_pairs: for a doc the detector has not seen, that
    # reads doc._.abbreviations, this getter)
    for short_start, short_end, long_start, long_end in doc.user_data.get(ABBREVIATION_PAIRS, []):
        short = doc.char_span(short_start, short_end)
        short._.long_form = doc.char_span(long_start, long_end)
        found.append(short)
    return found


def _occurrences(doc: Doc) -> list[tuple[tuple[int, int], set[tuple[int, int]]]]:
    """scispaCy's ``find_matches_for(filter_matches(matches))``, as token ranges (start, end):
    each definition's long form with its short form and every later use of the short form."""
    words, text = Words.of(doc), doc_text(doc)
    rules: list[tuple[tuple[int, int], tuple[str, ...]]] = []
    occurrences: dict[tuple[int, int], set[tuple[int, int]]] = defaultdict(set)
    seen_long: set[str] = set()
    seen_short: set[str] = set()
    for (long_start, long_end), (short_start, short_end) in _candidates(words, text, _bracketed_runs(doc)):
        # A long or short form defined twice keeps its first definition, as in scispaCy (a short
        # form seen already is skipped before it is spelled out: the answer would be the same).
        short_text = _span_text(words, text, short_start, short_end)
        if short_text in seen_short:
            continue
        start = _long_form_start(words, text, long_start, long_end, short_start, short_end)
        if start is None:
            continue
        long_text = _span_text(words, text, start, long_end)
        if long_text in seen_long:
            continue
        seen_long.add(long_text)
        seen_short.add(short_text)
        occurrences[(start, long_end)].add((short_start, short_end))
        rules.append(((start, long_end), tuple(words.tokens[short_start:short_end])))
    # scispaCy's second Matcher: every use of each short form (one pass for all of them).
    uses = run_positions(words.tokens, [short_words for _, short_words in rules])
    for long, short_words in rules:
        for i in uses[short_words]:
            occurrences[long].add((i, i + len(short_words)))
    return list(occurrences.items())


def _char_range(words: Words, start: int, end: int) -> tuple[int, int]:
    """The character offsets of tokens ``start`` to ``end`` (``doc[start:end].start_char, .end_char``)."""
    return words.offsets[start], words.offsets[end - 1] + len(words.tokens[end - 1])


def _span_text(words: Words, text: str, start: int, end: int) -> str:
    """``doc[start:end].text`` (``text``: the doc's)."""
    char_start, char_end = _char_range(words, start, end)
    return text[char_start:char_end]


def _candidates(words: Words, text: str,
                runs: list[tuple[int, int, int]]) -> Iterator[tuple[tuple[int, int], tuple[int, int]]]:
    """scispaCy's ``filter_matches`` on token texts: ((long start, end), (short start, end)) of
    each bracketed run (see ``_bracketed_runs``) that may hold or follow a definition."""
    tokens = words.tokens
    for _match, open_at, close_end in runs:
        start, end = open_at + 1, close_end - 1  # inside the brackets
        # Ignore spans with more than 8 words in them, and spans at the start of the doc
        if end - start > BRACKETED_MAX_TOKENS or start == 1:
            continue
        if end - start > 3:
            # Long form is inside the parens. Take one word before. Its parentheses must balance.
            short, long = (start - 2, start - 1), (start, end)
            if _unbalanced(tokens[start:end]):
                continue
        else:
            # Short form is inside the parens: the long form is up to max_words before.
            short = (start, end)
            length = sum(len(token) for token in tokens[start:end])
            max_words = min(length + 5, length * 2)
            long = (max(start - max_words - 1, 0), start - 1)
        # scispaCy's short_form_filter: words of 2 to 9 characters, half of the letters alphabetic,
        # the first one too.
        short_text = _span_text(words, text, *short)
        if (all(2 <= len(token) < 10 for token in tokens[short[0] : short[1]])
                and sum(c.isalpha() for c in short_text) / len(short_text) >= 0.5 and short_text[0].isalpha()):
            yield long, short


def _unbalanced(tokens: list[str]) -> bool:
    """scispaCy's ``span_contains_unbalanced_parentheses`` on token texts."""
    depth = 0
    for token in tokens:
        if token == "(":
            depth += 1
        elif token == ")":
            if depth > 0:
                depth -= 1
            else:
                return True
    return depth != 0


def _long_form_start(words: Words, text: str, long_start: int, long_end: int, short_start: int,
                     short_end: int) -> int | None:
    """scispaCy's ``find_abbreviation`` (Schwartz and Hearst) on token texts: the token the long
    form of the short form starts at, or None when the candidate does not spell it."""
    tokens = words.tokens
    long_form = " ".join(tokens[long_start:long_end])
    short_form = " ".join(tokens[short_start:short_end])
    long_index = len(long_form) - 1
    short_index = len(short_form) - 1
    while short_index >= 0:
        current_char = short_form[short_index].lower()
        # We don't check non alpha-numeric characters.
        if not current_char.isalnum():
            short_index -= 1
            continue
        # Does the character match at this position? The first character of the abbreviation
        # must start a word.
        while ((long_index >= 0 and long_form[long_index].lower() != current_char)
               or (short_index == 0 and long_index > 0 and long_form[long_index - 1].isalnum())):
            long_index -= 1
        if long_index < 0:
            return None
        long_index -= 1
        short_index -= 1
    # Back on the start character of the long form, then to the token holding it, counting
    # each token with its trailing white space as scispaCy does.
    long_index += 1
    offsets, word_lengths = words.offsets, 0
    for i in range(long_start, long_end):
        word_lengths += (offsets[i + 1] if i + 1 < len(offsets) else len(text)) - offsets[i]  # len(text_with_ws)
        if word_lengths > long_index:
            return i
    return long_start  # scispaCy's long_form_candidate[None:]: all of it


BRACKETED_MAX_TOKENS = 8  # scispaCy's filter_matches drops longer runs


def _bracketed_runs(doc: Doc) -> list[tuple[int, int, int]]:
    """(match id, start, end) of every "(" ... ")" with 1 to 8 tokens inside, ordered as spaCy's
    Matcher orders them: by end, then the shorter first."""
    # Compared as arrays of token ids, one shift per run length: a loop over every "(" cost
    # seconds on a text of brackets alone (issue 15).
    orth = doc.to_array(ORTH)
    opens, closes = orth == doc.vocab.strings["("], orth == doc.vocab.strings[")"]
    starts, ends = [], []
    for inside in range(1, BRACKETED_MAX_TOKENS + 1):
        at = numpy.flatnonzero(opens[: max(len(orth) - inside - 1, 0)] & closes[inside + 1 :])
        starts.append(at)
        ends.append(at + inside + 2)
    starts, ends = numpy.concatenate(starts), numpy.concatenate(ends)
    order = numpy.lexsort((-starts, ends))
    return [(0, i, j) for i, j in zip(starts[order].tolist(), ends[order].tolist())]


@Language.factory("evx_lexicon_ner", default_config={})
def make_lexicon_ner(nlp: Language, name: str) -> "LexiconNER":
    return LexiconNER(nlp, load_lexicons())


class LexiconNER:
    """Drugs, endpoints and trials from evx's lexicons, per document extended by abbreviations."""

    def __init__(self, nlp: Language, lexicons: Lexicons):
        self.lex = lexicons
        self.endpoint_by_lower = {k.lower(): v for k, v in lexicons.endpoints.items()}
        # Endpoint phrases by their first word. Short forms are case-sensitive ("OS" yes, "os"
        # no), phrases are not. A dictionary look-up per word, not spaCy's Matcher: the Matcher
        # cost more than everything else in the NER together.
        self.endpoints_by_first: dict[tuple[bool, str], list[tuple[tuple[str, ...], bool, str]]] = {}
        for surface, canonical in lexicons.endpoints.items():
            exact = len(surface) <= 5 and any(c.isupper() for c in surface)
            words = tuple(t.text if exact else t.lower_ for t in nlp.make_doc(surface) if not t.is_space)
            self.endpoints_by_first.setdefault((exact, words[0]), []).append((words, exact, canonical))
        # The lower-case words that may start a phrase ("os" for "OS" too): most words are none.
        self.endpoint_first_lowers = frozenset(
            word.lower() if exact else word for exact, word in self.endpoints_by_first)
        # Drug and backbone names of one word, and the second words of longer names by their
        # first word: "and", ",", "in" start names in the dictionary ("and emtricitabine)"), but
        # the next word rules out nearly all of them.
        self.one_word_names = frozenset(key for key in lexicons.drug_prefixes if " " not in key and (
            key in lexicons.drugs or _backbone_key(key) in lexicons.backbones))
        self.second_words: dict[str, set[str]] = {}
        for first, second in (key.split(" ")[:2] for key in lexicons.drug_prefixes if " " in key):
            self.second_words.setdefault(first, set()).add(second)

    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)  # (a slice of it, not Span.text, which builds every Token)
        abbreviations = {text[short_start:short_end]: text[long_start:long_end].lower()
                         for short_start, short_end, long_start, long_end in abbreviation_pairs(doc)}
        words = Words.of(doc)
        doc.spans["evx_endpoints"] = self._endpoints(doc, words, abbreviations)
        drugs = self._drugs(doc, words, abbreviations)
        doc.spans["evx_drugs"] = drugs
        doc.spans["evx_trials"] = find_trials(doc, self.lex, drugs, words)
        return doc

    # ------------------------------------------------------------------ endpoints
    def _endpoints(self, doc: Doc, words: Words, abbreviations: dict[str, str]) -> list[Span]:
        spans = []
        lowers = words.token_lowers  # (Token.lower_ without building the Token)
        for start, end, canonical in self._endpoint_phrases(words):
            if end - start == 1 and lowers[start] == "survival" and not _plain_survival(lowers, start):
                continue
            if canonical == "PD" and start and lowers[start] == "disease" and lowers[start - 1] in PROGRESSION_AS_EVENT:
                continue
            # "risk ratio (RR)": a short form the document defines as something else.
            long = abbreviations.get(words.tokens[start]) if end - start == 1 else None
            if long and not ENDPOINT_WORDS.search(long):
                continue
            spans.append(Span(doc, start, end, label="ENDPOINT", kb_id=canonical))
            spans.extend(self._sharing_head(doc, words, start, end))
        for short, long in abbreviations.items():
            canonical = self._endpoint_of_long_form(long)
            if canonical and short not in self.lex.endpoints:
                for i in positions(words.tokens, [short]):
                    spans.append(Span(doc, i, i + 1, label="ENDPOINT", kb_id=canonical))
        # A one-word span on a token that a span above covers loses to it in filter_spans (longer
        # first; on a tie, the one added first): most "response" words are inside an endpoint.
        covered = {i for span in spans for i in range(span.start, span.end)}
        for label, vocabulary in ((ENDPOINT_VERB, ENDPOINTS.verbs), (COUNT_WORD, ENDPOINTS.count_words)):
            for word, canonical in vocabulary.items():
                exact = word != word.lower()  # "PR" (not "pr"), "response" (and "Response")
                for i in positions(words.tokens if exact else words.token_lowers, [word]):
                    if i not in covered:
                        spans.append(Span(doc, i, i + 1, label=label, kb_id=canonical))
                        covered.add(i)
        return filter_spans(spans)

    def _endpoint_of_long_form(self, long: str) -> str | None:
        """The endpoint an abbreviation's long form names, leading modifiers aside ("median
        duration of response" is DoR)."""
        words = long.split()
        while words:
            canonical = self.endpoint_by_lower.get(" ".join(words))
            if canonical or words[0] not in ENDPOINTS.long_form_modifiers:
                return canonical
            words = words[1:]
        return None

    def _sharing_head(self, doc: Doc, words: Words, start: int, end: int) -> list[Span]:
        """Modifiers before the endpoint phrase ``doc[start:end]`` that share its head noun:
        "progression-free" and "disease-free" in "progression-free, disease-free and overall
        survival", when modifier + head is an endpoint name itself."""
        lowers = words.token_lowers
        head = lowers[end - 1]
        if head not in ENDPOINTS.shared_heads:
            return []
        found = []
        i = start
        while i >= 2 and lowers[i - 1] in COORDINATORS:
            canonical = self.endpoint_by_lower.get(f"{lowers[i - 2]} {head}")
            if canonical is None:
                break
            found.append(Span(doc, i - 2, i - 1, label="ENDPOINT", kb_id=canonical))
            i -= 2
        return found

    def _endpoint_phrases(self, words: Words) -> Iterator[tuple[int, int, str]]:
        """(first token, end token, canonical) of every endpoint phrase; the words of a phrase
        may be split over lines ("objective\nresponse"), so white-space tokens are skipped."""
        texts, lowers, index = words.texts, words.lowers, words.index
        firsts = self.endpoint_first_lowers
        for p in [p for p, lower in enumerate(lowers) if lower in firsts]:
            text = texts[p]
            for key in ((True, text), (False, lowers[p])):
                for phrase, exact, canonical in self.endpoints_by_first.get(key, ()):
                    end = p + len(phrase)
                    if end <= len(texts) and tuple((texts if exact else lowers)[p:end]) == phrase:
                        yield index[p], index[end - 1] + 1, canonical

    # ------------------------------------------------------------------ drugs
    def _drugs(self, doc: Doc, words: Words, abbreviations: dict[str, str]) -> list[Span]:
        lex = self.lex
        local = {}  # abbreviations of drugs defined in this document: "EVE" -> everolimus
        for short, long in abbreviations.items():
            inn = _drug_of_long_form(lex, long)
            if inn and short.lower() not in lex.drug_stoplist:
                local[short] = inn
        spans = []
        texts, lowers, index = words.texts, words.lowers, words.index  # n-grams skip line breaks
        prefixes = lex.drug_prefixes
        # A name starts at a word that is one, starts one with the next word or is a local
        # abbreviation; the other words are not looked at.
        starts = [p for p, key in enumerate(lowers) if key in prefixes and (
            key in self.one_word_names or p + 1 < len(lowers) and lowers[p + 1] in self.second_words.get(key, ()))]
        if local:
            starts = sorted({*starts, *(p for p, text in enumerate(texts) if text in local)})
        free = 0  # the first word not inside a name found already
        for p in starts:
            if p < free:
                continue
            found = None
            longest = _longest_prefix(lowers, p, prefixes)
            for size in range(longest, 0, -1):
                first, last = index[p], index[p + size - 1]
                if size == 1:  # most: "and", ",", "in" start names too
                    surface, key = texts[p], lowers[p]
                else:
                    surface = " ".join(texts[p : p + size])
                    key = surface.lower()
                backbone = _backbone_key(key)
                if size == 1 and surface in local:
                    found = Span(doc, first, first + 1, label="DRUG", kb_id=local[surface])
                elif backbone in lex.backbones:
                    found = Span(doc, first, last + 1, label="BACKBONE", kb_id=lex.backbones[backbone])
                elif key in lex.drugs and surface not in lex.genes and (
                    key in lex.drug_aliases or not _looks_like_noise(surface, size)
                ):
                    found = Span(doc, first, last + 1, label="DRUG", kb_id=lex.drugs[key])
                if found:
                    break
            if not longest and texts[p] in local:
                found, size = Span(doc, index[p], index[p] + 1, label="DRUG", kb_id=local[texts[p]]), 1
            if found:
                spans.append(found)
                free = p + size  # words, not tokens: a name may hold a line break
        return spans


def _longest_prefix(lowers: list[str], p: int, prefixes: frozenset[str]) -> int:
    """How many words from ``p`` (at most MAX_DRUG_TOKENS) still read as the start of a name."""
    size, key = 0, lowers[p]
    while key in prefixes:
        size += 1
        if size == MAX_DRUG_TOKENS or p + size == len(lowers):
            break
        key = f"{key} {lowers[p + size]}"
    return size


def _plain_survival(lowers: list[str], i: int) -> bool:
    """"Survival" alone means overall survival, but not in "cancer-specific survival",
    "chemotherapy-free survival" or "survival follow-up" (``lowers``: the doc's lower-case tokens)."""
    before = lowers[i - 1] if i else ""
    after = lowers[i + 1] if i + 1 < len(lowers) else ""
    return not (before in QUALIFIED_SURVIVAL or before.endswith(("-free", "-specific", "-"))
                or after.startswith(("follow", "analys", "curve", "data")))


SPACED_BACKBONE = re.compile(r"[a-z]+[ -]\d+")


def _backbone_key(key: str) -> str:
    """"FEC 100" and "FEC-100" are FEC100."""
    if " " not in key and "-" not in key:
        return key  # (most keys: no need for the pattern)
    return key if not SPACED_BACKBONE.fullmatch(key) else re.sub(r"[ -]", "", key)


def _drug_of_long_form(lex: Lexicons, long: str) -> str | None:
    """The drug an abbreviation stands for: "everolimus (EVE)", "weekly paclitaxel (wPTX)"."""
    words = long.split()
    while words:
        inn = lex.drugs.get(" ".join(words)) or lex.drug_aliases.get(" ".join(words))
        if inn or words[0] not in DRUG_MODIFIERS:
            return inn
        words = words[1:]
    return None


def _looks_like_noise(surface: str, size: int) -> bool:
    """Single short capitalised tokens in the drug dictionary are mostly abbreviations of
    something else ("AC" is handled as a backbone, "PAC" is not a drug here)."""
    return size == 1 and len(surface) <= 4 and surface.isupper()


LEXEME_ATTRS_READ = {LOWER, IS_SPACE, LIKE_NUM}  # Token.lower_, .is_space, .like_num


@lru_cache(maxsize=1)
def build_nlp() -> Language:
    """The evx pipeline (built once per process; building loads the drug lexicon, ~3 s)."""
    from scispacy.custom_tokenizer import combined_rule_tokenizer

    # scispaCy's abbreviation matcher warns (W036) on every text without a definition.
    warnings.filterwarnings("ignore", message=r".*\[W036\]")
    # spaCy compiles scispaCy's tokenizer regexes with a harmless "possible set union" warning.
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"spacy\.util")
    nlp = spacy.blank("en")
    # A word the vocabulary has not seen gets a lexeme whose attributes 23 Python functions
    # compute (shape, prefix, stop word, URL, currency...): 25 us a word, 17 new words an
    # abstract. evx reads only these three (and the text); the others are left unset.
    nlp.vocab.lex_attr_getters = {attr: getter for attr, getter in nlp.vocab.lex_attr_getters.items()
                                  if attr in LEXEME_ATTRS_READ}
    nlp.tokenizer = CachingTokenizer(combined_rule_tokenizer(nlp))
    nlp.add_pipe("evx_split_compounds")
    nlp.add_pipe("evx_abbreviations")
    nlp.add_pipe("evx_lexicon_ner")
    nlp.max_length = 5_000_000
    # The pipeline lives as long as the process: its objects (the lexicons above all) are moved
    # out of reach of the cyclic garbage collector, whose full passes would walk every one of
    # them again (about 0.15 s each, at least once early in a run).
    gc.collect()
    gc.freeze()
    return nlp


def renew_nlp() -> None:
    """Let the next ``build_nlp`` build the pipeline anew, and free this one: its vocabulary
    and string store hold every word seen since it was built (spaCy never shrinks them; see
    pipeline.analyse). Its objects were frozen out of the collector's reach: unfrozen here, so
    that the collector frees their reference cycles."""
    gc.unfreeze()
    build_nlp.cache_clear()
    gc.collect()
