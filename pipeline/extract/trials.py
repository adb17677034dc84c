"""Trial names in a document: lexicon names, registry ids, cooperative-group ids and acronyms in
trial context, found on the spaCy Doc; and the display name of each trial in a document.

Trial names vary more than any other entity, so the rules look at the context a name is used
in rather than at a list: "the GRISO 053 randomised trial", "study EGF100151", "BOLERO-2",
"(monarchE)" closing a title. Drugs, genes, endpoint abbreviations and design words
("phase-II", "Open-Label") are not trials.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from pipeline.extract.context import DigitPattern, Mention, SentenceView, lowered
from pipeline.tokens import Words, doc_text
from pipeline.extract.lexicon import Lexicons
from pipeline.records import TrialRecord

TRIAL_WORDS = {"trial", "trail", "trials", "study", "studies", "cohort", "program", "programme", "registry"}
# Words that may stand between a trial's name and "trial": "the GRISO 053 randomised trial".
DESIGN_WORDS = {
    "randomised", "randomized", "phase", "i", "ii", "iii", "iv", "ib", "ii/iii", "multicentre", "multicenter",
    "open", "label", "open-label", "controlled", "prospective", "international", "clinical", "adjuvant",
    "neoadjuvant", "pivotal", "confirmatory", "pilot", "double", "blind", "double-blind", "placebo",
    "placebo-controlled", "-", ",", "1", "2", "3", "1b", "2a", "2b", "1/2", "2/3", "basket", "umbrella", "platform",
    "single-arm", "single", "arm", "non-randomised", "non-randomized", "multicenter,", "proof-of-concept",
}
# Acronyms that sit before "trial"/"study" but are not trial names.
NOT_TRIALS = {
    "PHASE", "RCT", "RCTS", "THE", "THIS", "OUR", "A", "AN", "II", "III", "IV", "I", "CRC", "MCRC", "BC", "MBC",
    "EBC", "ADC", "TKI", "US", "UK", "EU", "USA", "NCI", "FDA", "EMA", "WHO", "NCCN", "ESMO", "ASCO", "CAP",
    "HER2", "HER-2", "ERBB2", "EGFR", "KRAS", "RAS", "BRAF", "NGS", "IHC", "FISH", "ISH", "PCR", "CT", "MRI",
    "PET", "SEER", "IRB", "DNA", "RNA", "QOL", "HRQOL", "PRO", "PROS", "ITT", "GCP", "II/III", "I/II", "1", "2", "3",
    "MHRA", "NIHR", "NIH", "NHS", "NRES", "CTA",
}
COOPERATIVE_GROUPS = (
    "NSABP|NCCTG|CALGB|SWOG|ECOG|ECOG-ACRIN|EORTC|BIG|IBCSG|GBG|ABCSG|GEICAM|JBCRG|KCSG|NCIC|NRG|TRIO|"
    "BCIRG|FNCLCC|GOIM|AGO|WSG|SAKK|JCOG|WJOG|HORG|GONO|GIM|SOLTI|NSAS|CCTG|ACOSOG|MA"
)
# "NSABP B-31", "GEICAM/2006-03", "FNCLCC-PACS 04", "TRIO-US B07" (a group, a region, a number).
# Each pattern below opens with a look-ahead of its possible first letters: Python's re then
# skips most positions at once instead of trying every alternative (twice as fast).
COOP_TRIAL = re.compile(
    rf"(?=[A-Z])\b(?:FNCLCC-PACS|(?:{COOPERATIVE_GROUPS})(?:-[A-Z]{{2,3}}(?=\s[A-Z]{{0,2}}\d))?)"
    rf"(?:[-/\s][A-Z]{{0,3}}-?\d[\w.]*(?:-\d+)?|-?\d[\w.]*)(?:\s[A-Z]{{1,3}}-?\d+)?\b"
)
REGISTRY_ID = re.compile(
    r"(?=[NIECUJA])\b(NCT\s?\d{8}|ISRCTN\s?\d{8}|EudraCT(?:\s+(?:No\.?|number|Number))?:?\s*\d{4}-\d{6}-\d{2}|"
    r"ChiCTR[-\w]{6,20}|UMIN\d{9}|JapicCTI-\d{6}|ACTRN\d{14}|CTRI/\d{4}/\d+/\d+)"
)
# A sponsor's protocol code after "study"/"trial": "study EGF100151", "trial BO16348".
PROTOCOL_CODE = re.compile(r"(?=[sStTpP])\b(?:study|trial|protocol)\s+(?:no\.?\s*)?([A-Z]{2,5}\d{4,}[A-Z0-9-]*)\b", re.IGNORECASE)
# Cheap tests that rule out most documents before the patterns above are run: what every match
# holds, searched without look-arounds (PROTOCOL_CUE in the lower-case text, context.lowered).
COOP_CUE = re.compile(COOPERATIVE_GROUPS)
REGISTRY_CUE = re.compile(r"NCT|ISRCTN|EudraCT|ChiCTR|UMIN|JapicCTI|ACTRN|CTRI")
PROTOCOL_CUE = re.compile(r"(?:study|trial|protocol)\s+(?:no\.?\s*)?[a-z]{2,5}\d{4}")
# ... which needs a letter right before four digits: found first, by a pattern re can skip
# to digits for (one that starts with "study|trial|protocol" is tried at every s, t and p)
CODE_CUE = DigitPattern(r"\d(?<=[a-z]\d)\d{3}")
# "DESTINY-CRC01", "BOLERO-2", "PALOMA-3": an upper-case word of 4+ letters, a hyphen, a
# number or code. Genes and proteins ("CTLA-4", "IGFBP-3") are told apart by the gene lexicon
# and by being unpronounceable: trial acronyms are words, with two vowels or more.
HYPHEN_ACRONYM = re.compile(r"^[A-Z][A-Za-z]{3,}[A-Z]-(?:[A-Z]{0,4}\d{1,3}[A-Za-z]?|[A-Z])$")
ACRONYM = re.compile(r"^(?=(?:.*[A-Z]){2})[A-Za-z][A-Za-z0-9]*(?:[-/][A-Za-z0-9]+)*$")
CAPITALS = re.compile(r"^[A-Z][A-Z0-9]{2,}$")
STATUS_PART = re.compile(r"(?i)(?:positive|negative|amplified|mutant|mutated|wild|low|high|expressing|deficient)")
# A trial's name closing a title: "... Early Breast Cancer (monarchE)."
TITLE_NAME = re.compile(r"\(([A-Za-z][A-Za-z0-9-]{3,20})\)\s*\.")
TITLE_REACH = 400  # characters: how far into a document its title may run


@functools.lru_cache(maxsize=4096)  # asked of every capitalised word: "ORR", "HER2" in every sentence
def is_trial_acronym(text: str) -> bool:
    """Trial-like: several capitals ("NOAH", "TAnDEM", "MyPathway", "GeparQuinto"), and not a
    marker status ("HER2-negative cohort") or a design word ("phase-II", "Open-Label")."""
    if not ACRONYM.match(text) or len(text) < 3 or text.upper() in NOT_TRIALS or STATUS_PART.search(text):
        return False
    parts = re.split(r"[-/]", text)
    if parts[0].upper() in NOT_TRIALS:
        return False
    # "Open-Label", "Double-Blind": title-case words joined by hyphens.
    return not (len(parts) > 1 and all(p[:1].isupper() and p[1:].islower() for p in parts))


def _pronounceable(word: str) -> bool:
    return sum(c in "AEIOUYaeiouy" for c in word) >= 2


def find_trials(doc: Doc, lex: Lexicons, drugs: list[Span], words: Words) -> list[Span]:
    """Trial and registry mentions of ``doc``; ``kb_id_`` holds the lexicon's canonical name."""
    drug_tokens = {i for span in drugs for i in range(span.start, span.end)}
    spans: list[Span] = []
    text = doc_text(doc)
    for regex, cue, label in ((REGISTRY_ID, REGISTRY_CUE, "REGISTRY"), (COOP_TRIAL, COOP_CUE, "TRIAL")):
        for m in regex.finditer(text) if cue.search(text) else ():
            span = doc.char_span(m.start(), m.end(), alignment_mode="expand")
            if span is not None:
                name = re.sub(r"\s+", " ", m.group(0))
                canonical = lex.trials.get(name.lower(), name)
                if label == "REGISTRY":
                    canonical = re.sub(r"^(NCT|ISRCTN)\s", r"\1", canonical)
                spans.append(Span(doc, span.start, span.end, label=label, kb_id=canonical))
    low = lowered(text)
    for m in PROTOCOL_CODE.finditer(text) if CODE_CUE.of(low).search(low) and PROTOCOL_CUE.search(low) else ():
        if not REGISTRY_ID.match(m.group(1)):
            spans.extend(_char_span(doc, m.start(1), m.end(1), m.group(1)))
    title = TITLE_NAME.search(text[:TITLE_REACH])
    if title and "\n" not in text[: title.start()].strip() and _title_name_ok(title.group(1), lex):
        spans.extend(_char_span(doc, title.start(1), title.end(1), title.group(1)))
    tokens, lowers = words.tokens, words.token_lowers
    # Every rule below wants a capital letter; most words have none and are not visited.
    for i in [i for i, (word, lower) in enumerate(zip(tokens, lowers)) if word != lower]:
        word = tokens[i]
        if i in drug_tokens or word.isspace():
            continue
        known = _known_trial(doc, i, tokens, lowers, lex)
        if known:
            spans.append(known)
            continue
        if word in lex.genes:
            continue
        nxt = lowers[i + 1] if i + 1 < len(tokens) else None
        if nxt in TRIAL_WORDS and is_trial_acronym(word):
            spans.append(Span(doc, i, i + 1, label="TRIAL", kb_id=word))
        elif _all_capitals(word) and is_trial_acronym(word) and _before_trial_word(doc, lowers, i + 1):
            # "the GRISO 053 randomised trial": the name may carry a number.
            end = i + 2 if doc[i + 1].like_num else i + 1
            name = doc[i:end].text
            spans.append(Span(doc, i, end, label="TRIAL", kb_id=lex.trials.get(name.lower(), name)))
        elif "-" in word and HYPHEN_ACRONYM.match(word) and word.split("-")[0] not in lex.genes and _pronounceable(word.split("-")[0]):
            spans.append(Span(doc, i, i + 1, label="TRIAL", kb_id=word))
    return filter_spans(spans)


def _all_capitals(word: str) -> bool:
    """``CAPITALS.match(word)`` in string tests, several times cheaper for a test made on every
    capitalised word: three or more ASCII capitals and digits, a capital first."""
    return len(word) > 2 and word.isascii() and word.isalnum() and word.isupper() and word[0].isalpha()


def _before_trial_word(doc: Doc, lowers: list[str], i: int) -> bool:
    """Whether tokens from ``i`` are an optional number and design words, then "trial"/"study"."""
    if i < len(lowers) and doc[i].like_num:
        i += 1
    for i in range(i, min(i + 6, len(lowers))):
        if lowers[i] in TRIAL_WORDS:
            return True
        if lowers[i] not in DESIGN_WORDS:
            return False
    return False


def _char_span(doc: Doc, start: int, end: int, name: str) -> list[Span]:
    span = doc.char_span(start, end, alignment_mode="expand")
    return [Span(doc, span.start, span.end, label="TRIAL", kb_id=name)] if span is not None else []


def _title_name_ok(name: str, lex: Lexicons) -> bool:
    """A name in brackets closing the title, written like a trial acronym (capitals inside a
    word: "monarchE", "GeparDUO"), and not a gene, drug or endpoint abbreviation."""
    if name in lex.genes or name.lower() in lex.drugs or name in lex.endpoints or name.upper() in NOT_TRIALS:
        return False
    return any(c.isupper() for c in name[1:]) and sum(c.islower() for c in name) >= 3


def _known_trial(doc: Doc, i: int, words: list[str], lowers: list[str], lex: Lexicons) -> Span | None:
    """A lexicon trial name starting at token ``i`` (one or two tokens: "NSABP B-31")."""
    if lowers[i] not in lex.trial_first_words or not words[i][0].isupper():
        return None
    for size in (2, 1):
        if i + size > len(words):
            continue
        surface = words[i] if size == 1 else words[i] + doc[i].whitespace_ + words[i + 1]
        canonical = lex.trials.get(surface.lower())
        if not canonical:
            continue
        # Short all-capital names ("NOAH", "HERA", "TEXT") only when written in capitals.
        if canonical.isupper() and len(canonical) <= 6 and not surface.isupper():
            continue
        return Span(doc, i, i + size, label="TRIAL", kb_id=canonical)
    return None


# ----------------------------------------------------------------------------- records of a sentence


def extract_trials(view: SentenceView) -> list[TrialRecord]:
    named = [t for t in view.trials if t.label != "REGISTRY"]
    ids = {t.canonical: _registry_owner(view, t, named) for t in view.trials if t.label == "REGISTRY"}
    records = []
    for t in view.trials:
        if t.label == "REGISTRY":
            nct = t.canonical
        else:
            nct = next((rid for rid, owner in ids.items() if owner is t), None)
        records.append(
            TrialRecord(start=t.start, end=t.end, text=t.text, sentence=view.sentence.index,
                        rule=f"trial.{t.label.lower()}", name=t.canonical, nct=nct)
        )
    return records


def _registry_owner(view: SentenceView, registry: Mention, named: list[Mention]) -> Mention | None:
    """The named trial a registry id identifies: "DESTINY-CRC02 (NCT04744831)", or the only
    trial named in the sentence."""
    before = [t for t in named if t.end <= registry.start and registry.start - t.end <= 40]
    if before:
        return before[-1]
    return named[0] if len(named) == 1 else None


# ----------------------------------------------------------------------------- names in a document

# Two names of one trial side by side in brackets: "(PALOMA-1, TRIO-18)", "(PALOMA-1/TRIO-18)".
ALIAS_GAP = re.compile(r"^\s*[,/]\s*$")


@dataclass
class TrialNames:
    """How a document names its trials: each canonical name's display form (the longest of the
    lexicon's name and the text's spellings: "FNCLCC-PACS 04" over "PACS 04", "NCCTG N9831" over
    "N9831") and the trial each alias stands for."""

    display: dict[str, str] = field(default_factory=dict)
    primary: dict[str, str] = field(default_factory=dict)  # alias canonical -> primary canonical

    def name_of(self, canonical: str) -> str:
        first = self.primary.get(canonical, canonical)
        return self.display.get(first, first)

    def trials(self, canonicals) -> set[str]:
        """The distinct trials behind ``canonicals`` (aliases folded together)."""
        return {self.primary.get(c, c) for c in canonicals}


def trial_names(views: list[SentenceView]) -> TrialNames:
    names = TrialNames()
    for view in views:
        named = [t for t in view.trials if t.label != "REGISTRY"]
        for t in named:
            surface = " ".join(t.text.split())
            shown = names.display.get(t.canonical, t.canonical)
            names.display[t.canonical] = surface if len(surface) > len(shown) else shown
        for first, second in zip(named, named[1:]):
            text, base = view.text, view.start
            if (ALIAS_GAP.match(text[first.end - base : second.start - base])
                    and text[: first.start - base].rstrip().endswith("(")
                    and text[second.end - base :].lstrip().startswith(")")
                    and first.canonical != second.canonical):
                names.primary.setdefault(second.canonical, names.primary.get(first.canonical, first.canonical))
    return names
