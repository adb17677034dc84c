"""The spaCy pipeline: scispaCy tokenizer, abbreviation detector and evx's lexicon NER.

No pretrained model is needed: everything is rules and lexicons. The NER writes span groups
rather than doc.ents because mentions may overlap (a trial named after its drug):

  doc.spans["evx_drugs"]      label DRUG / BACKBONE, span.kb_id_ = INN or backbone name
  doc.spans["evx_endpoints"]  label ENDPOINT, span.kb_id_ = canonical endpoint ("PFS")
  doc.spans["evx_trials"]     label TRIAL / REGISTRY, span.kb_id_ = canonical name

Abbreviations defined in the document extend the lexicons for that document: after
"everolimus (EVE)", "EVE" is a drug; after "clinical benefit rate (CBR)", "CBR" an endpoint.

The tokenizer keeps hyphen- and slash-joined words whole ("lapatinib-capecitabine",
"epirubicin/cyclophosphamide", "EC-D", "afatinib-treated"); ``evx_split_compounds`` splits
such tokens around the drug and backbone names they hold, before anything else reads them.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from pipeline.extract.lexicon import Lexicons, load_lexicons

MAX_DRUG_TOKENS = 4
TRIAL_WORDS = {"trial", "trail", "trials", "study", "studies", "cohort", "program", "programme", "registry"}
# Acronyms that sit before "trial"/"study" but are not trial names.
NOT_TRIALS = {
    "PHASE", "RCT", "RCTS", "THE", "THIS", "OUR", "A", "AN", "II", "III", "IV", "I", "CRC", "MCRC", "BC", "MBC",
    "EBC", "ADC", "TKI", "US", "UK", "EU", "USA", "NCI", "FDA", "EMA", "WHO", "NCCN", "ESMO", "ASCO", "CAP",
    "HER2", "HER-2", "ERBB2", "EGFR", "KRAS", "RAS", "BRAF", "NGS", "IHC", "FISH", "ISH", "PCR", "CT", "MRI",
    "PET", "SEER", "IRB", "DNA", "RNA", "QOL", "HRQOL", "PRO", "PROS", "ITT", "GCP", "II/III", "I/II", "1", "2", "3",
}
COOPERATIVE_GROUPS = (
    "NSABP|NCCTG|CALGB|SWOG|ECOG|ECOG-ACRIN|EORTC|BIG|IBCSG|GBG|ABCSG|GEICAM|JBCRG|KCSG|NCIC|NRG|TRIO|"
    "BCIRG|FNCLCC|GOIM|AGO|WSG|SAKK|JCOG|WJOG|HORG|GONO|GIM|SOLTI|NSAS|CCTG|ACOSOG|MA"
)
COOP_TRIAL = re.compile(
    rf"\b(?:FNCLCC-PACS|{COOPERATIVE_GROUPS})(?:[-/\s][A-Z]{{0,3}}-?\d[\w.]*(?:-\d+)?|-?\d[\w.]*)(?:\s[A-Z]{{1,3}}-?\d+)?\b"
)
REGISTRY_ID = re.compile(
    r"\b(NCT\s?\d{8}|ISRCTN\s?\d{8}|EudraCT(?:\s+(?:No\.?|number|Number))?:?\s*\d{4}-\d{6}-\d{2}|"
    r"ChiCTR[-\w]{6,20}|UMIN\d{9}|JapicCTI-\d{6}|ACTRN\d{14}|CTRI/\d{4}/\d+/\d+)"
)
# "DESTINY-CRC01", "BOLERO-2", "PALOMA-3": an upper-case word of 4+ letters, a hyphen, a
# number or code. Genes ("CTLA-4") are filtered with the gene lexicon.
HYPHEN_ACRONYM = re.compile(r"^[A-Z][A-Za-z]{3,}[A-Z]-(?:[A-Z]{0,4}\d{1,3}[A-Za-z]?|[A-Z])$")
ACRONYM = re.compile(r"^(?=(?:.*[A-Z]){2})[A-Za-z][A-Za-z0-9]*(?:[-/][A-Za-z0-9]+)*$")


# Separators inside one token that join drugs: "lapatinib-capecitabine", "EC/T", "GP2+GM-CSF".
COMPOUND_SEPARATOR = re.compile(r"([-/+±–])")
# Leading words of an abbreviation's long form that do not change the drug: "weekly paclitaxel (wPTX)".
DRUG_MODIFIERS = {"weekly", "daily", "oral", "intravenous", "iv", "subcutaneous", "low-dose", "high-dose",
                  "dose-dense", "metronomic", "standard", "adjuvant", "neoadjuvant", "single-agent"}


STATUS_PART = re.compile(r"(?i)(?:positive|negative|amplified|mutant|mutated|wild|low|high|expressing|deficient)")


def _is_acronym(text: str) -> bool:
    """Trial-like: several capitals ("NOAH", "TAnDEM", "MyPathway", "GeparQuinto"), and not a
    marker status ("HER2-negative cohort")."""
    return (
        bool(ACRONYM.match(text)) and len(text) >= 3 and text.upper() not in NOT_TRIALS
        and not STATUS_PART.search(text)
    )


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

    def _is_name(self, text: str) -> bool:
        key = text.lower()
        if key in self.lex.backbones or key in self.lex.drug_aliases:
            return True
        return key in self.lex.drugs and text not in self.lex.genes and not _looks_like_noise(text, 1)

    def pieces(self, text: str) -> list[str] | None:
        """The new token texts for ``text``, or None when it stays whole."""
        if self._is_name(text) or not COMPOUND_SEPARATOR.search(text):
            return None
        parts = [p for p in COMPOUND_SEPARATOR.split(text) if p]
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
        splits = [(token, self.pieces(token.text)) for token in doc if not token.is_space]
        splits = [(token, pieces) for token, pieces in splits if pieces]
        if not splits:
            return doc
        # Sentence starts were set on the whole tokens; the retokenizer does not keep them
        # reliably for the pieces, so they are set again: only a first piece may start one.
        starts = {token.idx: token.is_sent_start for token, _ in splits}
        ends = {token.idx: token.idx + len(token.text) for token, _ in splits}
        with doc.retokenize() as retokenizer:
            for token, pieces in splits:
                heads = [(token, i) for i in range(len(pieces))]
                retokenizer.split(token, pieces, heads=heads)
        owner = None
        for token in doc:
            if token.idx in starts:
                owner = token.idx
                token.is_sent_start = starts[owner]
            elif owner is not None and token.idx < ends[owner]:
                token.is_sent_start = False
            else:
                owner = None
        return doc


@Language.factory("evx_lexicon_ner", default_config={})
def make_lexicon_ner(nlp: Language, name: str) -> "LexiconNER":
    return LexiconNER(nlp, load_lexicons())


class LexiconNER:
    """Drugs, endpoints and trials from evx's lexicons, per document extended by abbreviations."""

    def __init__(self, nlp: Language, lexicons: Lexicons):
        self.lex = lexicons
        self.endpoint_by_lower = {k.lower(): v for k, v in lexicons.endpoints.items()}
        self.endpoint_matcher = Matcher(nlp.vocab)
        for surface, canonical in lexicons.endpoints.items():
            # Short forms are case-sensitive ("OS" yes, "os" no); phrases are not.
            attr = "ORTH" if len(surface) <= 5 and any(c.isupper() for c in surface) else "LOWER"
            words = [t.text if attr == "ORTH" else t.lower_ for t in nlp.make_doc(surface)]
            self.endpoint_matcher.add(canonical, [_across_lines(words, attr)])

    def __call__(self, doc: Doc) -> Doc:
        abbreviations = {
            a.text: a._.long_form.text.lower() for a in getattr(doc._, "abbreviations", []) if a._.long_form is not None
        }
        doc.spans["evx_endpoints"] = self._endpoints(doc, abbreviations)
        doc.spans["evx_drugs"] = self._drugs(doc, abbreviations)
        doc.spans["evx_trials"] = self._trials(doc, doc.spans["evx_drugs"])
        return doc

    # ------------------------------------------------------------------ endpoints
    def _endpoints(self, doc: Doc, abbreviations: dict[str, str]) -> list[Span]:
        spans = []
        for match_id, start, end in self.endpoint_matcher(doc):
            canonical = doc.vocab.strings[match_id]
            spans.append(Span(doc, start, end, label="ENDPOINT", kb_id=canonical))
        for short, long in abbreviations.items():
            canonical = self.endpoint_by_lower.get(long)
            if canonical and short not in self.lex.endpoints:
                for token in doc:
                    if token.text == short:
                        spans.append(Span(doc, token.i, token.i + 1, label="ENDPOINT", kb_id=canonical))
        return filter_spans(spans)

    # ------------------------------------------------------------------ drugs
    def _drugs(self, doc: Doc, abbreviations: dict[str, str]) -> list[Span]:
        lex = self.lex
        local = {}  # abbreviations of drugs defined in this document: "EVE" -> everolimus
        for short, long in abbreviations.items():
            inn = _drug_of_long_form(lex, long)
            if inn and short.lower() not in lex.drug_stoplist:
                local[short] = inn
        spans = []
        words = [t.i for t in doc if not t.is_space]  # n-grams skip line breaks
        p = 0
        while p < len(words):
            found = None
            for size in range(min(MAX_DRUG_TOKENS, len(words) - p), 0, -1):
                first, last = words[p], words[p + size - 1]
                surface = " ".join(doc[i].text for i in words[p : p + size])
                key = surface.lower()
                if size == 1 and surface in local:
                    found = Span(doc, first, first + 1, label="DRUG", kb_id=local[surface])
                elif _backbone_key(key) in lex.backbones:
                    found = Span(doc, first, last + 1, label="BACKBONE", kb_id=lex.backbones[_backbone_key(key)])
                elif key in lex.drugs and surface not in lex.genes and (
                    key in lex.drug_aliases or not _looks_like_noise(surface, size)
                ):
                    found = Span(doc, first, last + 1, label="DRUG", kb_id=lex.drugs[key])
                if found:
                    p += size
                    break
            if found:
                spans.append(found)
            else:
                p += 1
        return spans

    # ------------------------------------------------------------------ trials
    def _trials(self, doc: Doc, drugs) -> list[Span]:
        lex = self.lex
        drug_tokens = {t.i for span in drugs for t in span}
        spans: list[Span] = []
        text = doc.text
        for regex, label in ((REGISTRY_ID, "REGISTRY"), (COOP_TRIAL, "TRIAL")):
            for m in regex.finditer(text):
                span = doc.char_span(m.start(), m.end(), alignment_mode="expand")
                if span is not None:
                    name = re.sub(r"\s+", " ", m.group(0))
                    canonical = lex.trials.get(name.lower(), name)
                    if label == "REGISTRY":
                        canonical = re.sub(r"^(NCT|ISRCTN)\s", r"\1", canonical)
                    spans.append(Span(doc, span.start, span.end, label=label, kb_id=canonical))
        for token in doc:
            if token.i in drug_tokens or token.is_space:
                continue
            word = token.text
            canonical = self._known_trial(doc, token)
            if canonical:
                spans.append(canonical)
                continue
            nxt = doc[token.i + 1] if token.i + 1 < len(doc) else None
            trial_context = nxt is not None and nxt.lower_ in TRIAL_WORDS
            if (trial_context and _is_acronym(word) and word not in lex.genes) or (
                HYPHEN_ACRONYM.match(word) and word.split("-")[0] not in lex.genes and word not in lex.genes
            ):
                spans.append(Span(doc, token.i, token.i + 1, label="TRIAL", kb_id=word))
        return filter_spans(spans)

    def _known_trial(self, doc: Doc, token) -> Span | None:
        """A lexicon trial name starting at ``token`` (one or two tokens: "NSABP B-31")."""
        for size in (2, 1):
            if token.i + size > len(doc):
                continue
            span = doc[token.i : token.i + size]
            canonical = self.lex.trials.get(span.text.lower())
            if not canonical or not span.text[0].isupper():
                continue
            # Short all-capital names ("NOAH", "HERA", "TEXT") only when written in capitals.
            if canonical.isupper() and len(canonical) <= 6 and not span.text.isupper():
                continue
            return Span(doc, span.start, span.end, label="TRIAL", kb_id=canonical)
        return None


def _backbone_key(key: str) -> str:
    """"FEC 100" and "FEC-100" are FEC100."""
    return key if not re.fullmatch(r"[a-z]+[ -]\d+", key) else re.sub(r"[ -]", "", key)


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


def _across_lines(words: list[str], attr: str) -> list[dict]:
    """A token pattern for a phrase that may be broken over lines ("objective\nresponse")."""
    pattern: list[dict] = []
    for i, word in enumerate(words):
        if i:
            pattern.append({"IS_SPACE": True, "OP": "*"})
        pattern.append({attr: word})
    return pattern


@lru_cache(maxsize=1)
def build_nlp() -> Language:
    """The evx pipeline (built once per process; building loads the drug lexicon, ~3 s)."""
    from scispacy.abbreviation import AbbreviationDetector  # noqa: F401  (registers the factory)
    from scispacy.custom_tokenizer import combined_rule_tokenizer

    # scispaCy's abbreviation matcher warns (W036) on every text without a definition.
    warnings.filterwarnings("ignore", message=r".*\[W036\]")
    # spaCy compiles scispaCy's tokenizer regexes with a harmless "possible set union" warning.
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"spacy\.util")
    nlp = spacy.blank("en")
    nlp.tokenizer = combined_rule_tokenizer(nlp)
    nlp.add_pipe("evx_split_compounds")
    nlp.add_pipe("abbreviation_detector")
    nlp.add_pipe("evx_lexicon_ner")
    nlp.max_length = 5_000_000
    return nlp
