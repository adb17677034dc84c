"""Score extracted evidence against gold annotations (``evx eval``).

The matching is the shared scorer's (``evx_score.py``), so the two agree figure for figure:

- outcome: a predicted figure matches a gold one with the same endpoint, a value within 0.051,
  and no conflicting measure group or unit; pairs are taken greedily in document order. CI,
  trial, total (N), drugs and arm are then checked on the matched pairs only.
- trial: a gold trial is found when any of its names (name, aliases, registry id) is predicted;
  every other predicted name is a false positive.
- regimen: exact drug sets per document; drug: the union of those sets.
- her2: (method, result) pairs per document; biomarker: (gene, status) pairs; statuses and
  results compared after the scorer's synonyms ("mutated" = "mutant", "MSI-H" = "high").
- BRAT: rates and medians of efficacy endpoints derived from the PICO value spans, recall only.

Besides the figures it keeps every miss, false positive and wrong attribute as a ``Finding``
so the table ends in a list to work from.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePath
from typing import Any

VALUE_TOLERANCE = 0.051
MEASURE_GROUP = {"rate": "rate", "landmark": "rate", "median": "median", "hr": "hr", "or": "or", "count": "count"}
GOLD_ENDPOINTS = {"ORR", "DCR", "CBR", "CR", "PR", "SD", "PD", "PFS", "OS", "TTP", "DFS", "EFS", "RFS", "TTF"}
MIXED_CASE_ENDPOINTS = {"PCR": "pCR", "IDFS": "iDFS", "DOR": "DoR"}
SCORED_TYPES = ("outcome", "trial", "regimen", "drug", "her2", "biomarker")
ATTRIBUTES = ("ci", "trial", "total", "drugs", "arm")
# Spellings of one status a reviewer reads as the same fact (keys and values in normal_name form):
# "KRAS-mutated" and "KRAS mutant" are one biomarker fact.
STATUS_SYNONYMS = {"mutated": "mutant", "mutation": "mutant", "mut": "mutant", "msih": "high",
                   "msihigh": "high", "deficiency": "deficient", "dmmr": "deficient",
                   "pmmr": "proficient", "mss": "stable", "wt": "wildtype", "amplification": "amplified",
                   "overexpressed": "overexpression", "overexpressing": "overexpression",
                   "pos": "positive", "neg": "negative"}

# A PICO outcome phrase -> endpoint; the first pattern that matches wins, so specific ones lead.
BRAT_ENDPOINTS = [
    ("pCR", r"patholog\w* complete (response|remission)|\bpcr\b"),
    ("iDFS", r"invasive disease[- ]free|\bidfs\b"),
    ("DFS", r"disease[- ]free survival|\bdfs\b"),
    ("EFS", r"event[- ]free survival|\befs\b"),
    ("RFS", r"(relapse|recurrence)[- ]free survival|\brfs\b"),
    ("PFS", r"progression[- ]free survival|\bpfs\b"),
    ("TTP", r"time to (disease )?progression|\bttp\b"),
    ("TTF", r"time to treatment failure|\bttf\b"),
    ("DoR", r"duration of (the )?response|response duration|\bdor\b"),
    ("OS", r"overall survival|^survival$|median survival|\bos\b"),
    ("CBR", r"clinical benefit"),
    ("DCR", r"disease control"),
    ("ORR", r"(objective|overall|tumou?r) response( rate)?|response rates?$|^responses?$|\borr\b|\brr\b"),
    ("CR", r"^complete (clinical )?(response|remission)s?( rate)?$"),
    ("PR", r"^partial (response|remission)s?( rate)?$"),
    ("SD", r"^stable disease"),
]
BRAT_VALUE_LABELS = {"iv-bin-percent": "rate", "cv-bin-percent": "rate", "iv-cont-median": "median", "cv-cont-median": "median"}
BRAT_NUMBER = re.compile(r"[-+]?\d+(?:[.·]\d+)?")
BRAT_SENTENCE_BREAK = re.compile(r"(?<=[.;])\s+(?=[A-Z(])")

Predictions = Mapping[str, Mapping[str, list[dict]]]  # document stem -> record type -> records


# ----------------------------------------------------------------------------- results


@dataclass
class Tally:
    """True positives, predictions and gold items of one record type."""

    tp: int = 0
    pred: int = 0
    gold: int = 0

    @property
    def precision(self) -> float:
        return self.tp / self.pred if self.pred else (1.0 if not self.gold else 0.0)

    @property
    def recall(self) -> float:
        return self.tp / self.gold if self.gold else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Accuracy:
    """How many matched figures had an attribute right, of those whose gold gives it."""

    right: int = 0
    asked: int = 0

    @property
    def value(self) -> float | None:
        return self.right / self.asked if self.asked else None


@dataclass
class Finding:
    """One thing to look at: a gold item missed, a prediction not in gold, or a wrong attribute."""

    kind: str  # "miss" | "false positive" | "wrong <attribute>"
    type: str
    doc: str
    what: str
    text: str = ""


@dataclass
class Evaluation:
    gold_docs: int = 0
    tallies: dict[str, Tally] = field(default_factory=lambda: {t: Tally() for t in SCORED_TYPES})
    accuracies: dict[str, Accuracy] = field(default_factory=lambda: {a: Accuracy() for a in ATTRIBUTES})
    brat: Tally | None = None  # tp = found, gold = derived figures; pred unused
    brat_docs: int = 0
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Figures rounded as the shared scorer prints them, plus the findings."""
        out: dict[str, Any] = {"gold_docs": self.gold_docs}
        for name, t in self.tallies.items():
            out[name] = {"tp": t.tp, "pred": t.pred, "gold": t.gold,
                         "p": round(t.precision, 3), "r": round(t.recall, 3), "f1": round(t.f1, 3)}
        for name, a in self.accuracies.items():
            out[f"outcome_{name}_acc"] = {"right": a.right, "asked": a.asked,
                                         "acc": None if a.value is None else round(a.value, 3)}
        if self.brat is not None:
            out["brat_figures"] = {"found": self.brat.tp, "gold": self.brat.gold, "docs": self.brat_docs,
                                   "recall": round(self.brat.recall, 3) if self.brat.gold else None}
        out["findings"] = [asdict(f) for f in self.findings]
        return out

    def table(self) -> str:
        """The per-type table a person reads first."""
        lines = [f"gold documents: {self.gold_docs}", "",
                 f"{'type':<10} {'P':>6} {'R':>6} {'F1':>6} {'tp':>5} {'pred':>5} {'gold':>5}"]
        for name, t in self.tallies.items():
            lines.append(f"{name:<10} {t.precision:6.3f} {t.recall:6.3f} {t.f1:6.3f} {t.tp:5d} {t.pred:5d} {t.gold:5d}")
        lines += ["", "attribute of matched outcome figures   right / asked"]
        for name, a in self.accuracies.items():
            shown = "n/a" if a.value is None else f"{a.value:.3f}"
            lines.append(f"{name:<10} {shown:>6}   {a.right} / {a.asked}")
        if self.brat is not None:
            lines += ["", f"BRAT figures recall {self.brat.recall:.3f}   {self.brat.tp} / {self.brat.gold} "
                          f"in {self.brat_docs} documents"]
        return "\n".join(lines)


# ----------------------------------------------------------------------------- normalisation


def document_stem(doc: str | None) -> str:
    """A document's base name without extension; a record id after '#' (path#PMID) is kept."""
    name = PurePath(str(doc or "")).name
    base, sep, record = name.partition("#")
    return PurePath(base).stem + (sep + record if sep else "")


def normal_endpoint(endpoint: str | None) -> str | None:
    if not endpoint:
        return None
    upper = str(endpoint).strip().upper()
    if upper in MIXED_CASE_ENDPOINTS:
        return MIXED_CASE_ENDPOINTS[upper]
    return upper if upper in GOLD_ENDPOINTS else str(endpoint).strip()


def normal_name(name: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower()) if name else ""


def normal_unit(unit: str | None) -> str | None:
    if not unit:
        return None
    unit = str(unit).lower().strip()
    if unit in {"%", "percent", "pct"}:
        return "%"
    return {"m": "months", "w": "weeks", "d": "days", "y": "years"}.get(unit[0], unit)


def _number(x: Any) -> float | None:
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def close(a: Any, b: Any) -> bool:
    a, b = _number(a), _number(b)
    return a is not None and b is not None and abs(a - b) <= VALUE_TOLERANCE


def drug_set(record: Mapping) -> frozenset[str]:
    return frozenset(normal_name(d) for d in (record.get("drugs") or []) if d)


# ----------------------------------------------------------------------------- matching


def outcome_matches(gold: Mapping, pred: Mapping, lenient: bool = False) -> bool:
    """Same endpoint (CR ~ pCR when ``lenient``), value within tolerance, compatible measure and unit."""
    a, b = normal_endpoint(gold.get("endpoint")), normal_endpoint(pred.get("endpoint"))
    if a != b and not (lenient and {a, b} <= {"CR", "pCR"}):
        return False
    if not close(gold.get("value"), pred.get("value")):
        return False
    gm = MEASURE_GROUP.get(str(gold.get("measure") or "").lower())
    pm = MEASURE_GROUP.get(str(pred.get("measure") or "").lower())
    if gm and pm and gm != pm:
        return False
    gu, pu = normal_unit(gold.get("unit")), normal_unit(pred.get("unit"))
    return not (gu and pu and gu != pu)


def greedy_pairs(golds: list, preds: list, match: Callable[[Any, Any], bool]) -> list[tuple[int, int]]:
    """Each gold item, in order, takes the first unused prediction it matches."""
    used: set[int] = set()
    pairs = []
    for gi, gold in enumerate(golds):
        for pi, pred in enumerate(preds):
            if pi not in used and match(gold, pred):
                used.add(pi)
                pairs.append((gi, pi))
                break
    return pairs


def _same_ci(gold: Mapping, pred: Mapping) -> bool:
    gold_ci = tuple(gold["ci"]) if gold.get("ci") else None
    lo, hi = pred.get("ci_low"), pred.get("ci_high")
    pred_ci = (lo, hi) if lo is not None or hi is not None else None
    if gold_ci is None or pred_ci is None:
        return gold_ci is None and pred_ci is None
    return close(gold_ci[0], pred_ci[0]) and close(gold_ci[1], pred_ci[1])


def _figure(record: Mapping) -> str:
    unit = record.get("unit") or ""
    return f"{record.get('endpoint')} {record.get('measure')} {record.get('value')}{unit}"


# ----------------------------------------------------------------------------- evaluation


def evaluate(predictions: Predictions, gold_dir: Path | None = None, brat_dir: Path | None = None,
             docs: Iterable[str] | None = None) -> Evaluation:
    """Score ``predictions`` (see ``group_records``) against gold JSON files and/or BRAT files."""
    wanted = {document_stem(d) for d in docs} if docs is not None else None
    result = Evaluation()
    if gold_dir is not None:
        golds = load_gold(Path(gold_dir), wanted)
        result.gold_docs = len(golds)
        for stem, gold in golds.items():
            _score_document(stem, gold, predictions.get(stem, {}), result)
    if brat_dir is not None:
        _score_brat(Path(brat_dir), predictions, wanted, result)
    return result


def load_gold(gold_dir: Path, wanted: set[str] | None = None) -> dict[str, dict]:
    if not gold_dir.is_dir():
        raise FileNotFoundError(f"{gold_dir}: not a folder of gold JSON files")
    golds = {}
    for path in sorted(gold_dir.glob("*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        stem = document_stem(gold.get("doc") or path.name)
        if wanted is None or stem in wanted:
            golds[stem] = gold
    return golds


def _score_document(doc: str, gold: Mapping, pred: Mapping[str, list[dict]], result: Evaluation) -> None:
    note = result.findings.append
    _score_outcomes(doc, gold.get("outcomes", []), pred.get("outcome", []), result)

    # trials: any name of a gold trial found counts once; other predicted names are false positives
    gold_names = [{normal_name(t["name"]), *map(normal_name, t.get("aliases") or []),
                   *([normal_name(t["nct"])] if t.get("nct") else [])} for t in gold.get("trials", [])]
    pred_names = {normal_name(t.get("name")) for t in pred.get("trial", [])}
    pred_names |= {normal_name(t.get("nct")) for t in pred.get("trial", []) if t.get("nct")}
    pred_names.discard("")
    hits = [names for names in gold_names if names & pred_names]
    stray = {n for n in pred_names if not any(n in names for names in gold_names)}
    _add(result.tallies["trial"], len(hits), len(hits) + len(stray), len(gold_names))
    for t, names in zip(gold.get("trials", []), gold_names):
        if not names & pred_names:
            note(Finding("miss", "trial", doc, t["name"], t.get("text", "")))
    for t in pred.get("trial", []):
        if normal_name(t.get("name")) in stray:
            note(Finding("false positive", "trial", doc, str(t.get("name")), t.get("text", "")))

    # regimens as exact drug sets; drugs as their union
    gold_sets = {drug_set(r): r for r in gold.get("regimens", []) if r.get("drugs")}
    pred_sets = {drug_set(r): r for r in pred.get("regimen", []) if r.get("drugs")}
    _add(result.tallies["regimen"], len(gold_sets.keys() & pred_sets.keys()), len(pred_sets), len(gold_sets))
    for key in gold_sets.keys() - pred_sets.keys():
        note(Finding("miss", "regimen", doc, " + ".join(sorted(key)), gold_sets[key].get("text", "")))
    for key in pred_sets.keys() - gold_sets.keys():
        note(Finding("false positive", "regimen", doc, " + ".join(sorted(key)), pred_sets[key].get("text", "")))
    gold_drugs = set().union(*gold_sets) if gold_sets else set()
    pred_drugs = set().union(*pred_sets) if pred_sets else set()
    _add(result.tallies["drug"], len(gold_drugs & pred_drugs), len(pred_drugs), len(gold_drugs))

    _score_keyed(doc, "her2", gold.get("her2_criteria", []), pred.get("her2", []), ("method", "result"), result)
    _score_keyed(doc, "biomarker", gold.get("biomarkers", []), pred.get("biomarker", []), ("gene", "status"), result)


def _score_outcomes(doc: str, golds: list[dict], preds: list[dict], result: Evaluation) -> None:
    pairs = greedy_pairs(golds, preds, outcome_matches)
    _add(result.tallies["outcome"], len(pairs), len(preds), len(golds))
    acc = result.accuracies
    for gi, pi in pairs:
        g, p = golds[gi], preds[pi]
        # attribute -> (right?, what gold and prediction say); asked only where gold gives it
        checks = {"ci": (_same_ci(g, p), f"gold {g.get('ci')} got {[p.get('ci_low'), p.get('ci_high')]}")}
        if g.get("trial"):
            checks["trial"] = (normal_name(g["trial"]) == normal_name(p.get("trial")),
                               f"gold {g['trial']} got {p.get('trial')}")
        if g.get("N") is not None:
            checks["total"] = (close(g["N"], p.get("total")), f"gold N={g['N']} got {p.get('total')}")
        if g.get("drugs"):
            checks["drugs"] = (drug_set(g) == drug_set(p), f"gold {g['drugs']} got {p.get('drugs')}")
        if g.get("arm"):
            checks["arm"] = (same_arm(g["arm"], p.get("arm")), f"gold {g['arm']!r} got {p.get('arm')!r}")
        for name, (right, detail) in checks.items():
            acc[name].asked += 1
            acc[name].right += right
            if not right:
                result.findings.append(Finding(f"wrong {name}", "outcome", doc, f"{_figure(g)}: {detail}", p.get("text", "")))
    matched_gold = {gi for gi, _ in pairs}
    matched_pred = {pi for _, pi in pairs}
    for gi, g in enumerate(golds):
        if gi not in matched_gold:
            result.findings.append(Finding("miss", "outcome", doc, _figure(g), g.get("text", "")))
    for pi, p in enumerate(preds):
        if pi not in matched_pred:
            result.findings.append(Finding("false positive", "outcome", doc, _figure(p), p.get("sentence") or p.get("text", "")))


def _score_keyed(doc: str, kind: str, golds: list[dict], preds: list[dict], fields: tuple[str, str],
                 result: Evaluation) -> None:
    def key(r: Mapping) -> tuple[str, str]:
        return normal_name(r.get(fields[0])), normal_status(r.get(fields[1]))

    gold_keys = {key(r): r for r in golds}
    pred_keys = {key(r): r for r in preds}
    _add(result.tallies[kind], len(gold_keys.keys() & pred_keys.keys()), len(pred_keys), len(gold_keys))
    for k in gold_keys.keys() - pred_keys.keys():
        result.findings.append(Finding("miss", kind, doc, "/".join(k), gold_keys[k].get("text", "")))
    for k in pred_keys.keys() - gold_keys.keys():
        result.findings.append(Finding("false positive", kind, doc, "/".join(k), pred_keys[k].get("text", "")))


def normal_status(status: Any) -> str:
    name = normal_name(status)
    return STATUS_SYNONYMS.get(name, name)


def same_arm(gold: Any, pred: Any) -> bool:
    """Arm labels are free text: "cohort A" matches "Cohort A (IHC 3+)", "3-year" matches "3 years"."""
    g, p = normal_name(gold).replace("years", "year"), normal_name(pred).replace("years", "year")
    return bool(g and p) and (g in p or p in g)


def _add(tally: Tally, tp: int, pred: int, gold: int) -> None:
    tally.tp += tp
    tally.pred += pred
    tally.gold += gold


# ----------------------------------------------------------------------------- BRAT figures


def brat_figures(txt_path: Path) -> list[dict]:
    """Rates and medians of efficacy endpoints in a PICO BRAT file, each governed by the nearest
    outcome phrase before it in its sentence (else the first after it)."""
    text = txt_path.read_text(encoding="utf-8")
    spans = []
    for line in txt_path.with_suffix(".ann").read_text(encoding="utf-8").splitlines():
        if not line.startswith("T"):
            continue
        _, info, surface = line.split("\t", 2)
        label, offsets = info.split(" ", 1)
        numbers = [int(x) for x in re.split(r"[ ;]", offsets)]
        spans.append((label, min(numbers), max(numbers), surface))
    bounds, start = [], 0
    for m in BRAT_SENTENCE_BREAK.finditer(text):
        bounds.append((start, m.start()))
        start = m.end()
    bounds.append((start, len(text)))

    def sentence_of(pos: int) -> int:
        return next((i for i, (a, b) in enumerate(bounds) if a <= pos <= b), -1)

    outcomes = [s for s in spans if s[0] == "outcome"]
    figures = []
    for label, a, b, surface in spans:
        if label not in BRAT_VALUE_LABELS:
            continue
        same = [o for o in outcomes if sentence_of(o[1]) == sentence_of(a)]
        before = [o for o in same if o[2] <= a]
        after = [o for o in same if o[1] >= b]
        governor = max(before, key=lambda o: o[2]) if before else (min(after, key=lambda o: o[1]) if after else None)
        endpoint = _brat_endpoint(governor[3]) if governor else None
        number = BRAT_NUMBER.search(surface)
        if endpoint and number:
            figures.append({"endpoint": endpoint, "measure": BRAT_VALUE_LABELS[label],
                            "value": float(number.group().replace("·", ".")), "text": surface, "start": a, "end": b})
    return figures


def _brat_endpoint(phrase: str) -> str | None:
    phrase = phrase.lower().strip()
    return next((name for name, pattern in BRAT_ENDPOINTS if re.search(pattern, phrase)), None)


def _score_brat(brat_dir: Path, predictions: Predictions, wanted: set[str] | None, result: Evaluation) -> None:
    if not brat_dir.is_dir():
        raise FileNotFoundError(f"{brat_dir}: not a folder of BRAT .txt/.ann files")
    files = [f for f in sorted(brat_dir.glob("*.txt")) if f.with_suffix(".ann").exists()]
    if wanted is not None:
        files = [f for f in files if f.stem in wanted]
    result.brat, result.brat_docs = Tally(), len(files)
    for path in files:
        figures = brat_figures(path)
        preds = predictions.get(path.stem, {}).get("outcome", [])
        pairs = greedy_pairs(figures, preds, lambda g, p: outcome_matches(g, p, lenient=True))
        result.brat.tp += len(pairs)
        result.brat.gold += len(figures)
        matched = {gi for gi, _ in pairs}
        missed = [fig for gi, fig in enumerate(figures) if gi not in matched]
        text = path.read_text(encoding="utf-8") if missed else ""
        for fig in missed:
            result.findings.append(Finding("miss", "brat", path.stem, _figure(fig), _brat_context(text, fig)))


def _brat_context(text: str, figure: Mapping, width: int = 60) -> str:
    return text[max(0, figure["start"] - width): figure["end"] + 20]


# ----------------------------------------------------------------------------- predictions


def group_records(records: Iterable[Mapping]) -> dict[str, dict[str, list[dict]]]:
    """Exported records (dicts with ``doc`` and ``type``) grouped by document stem, then type."""
    grouped: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        grouped[document_stem(record.get("doc"))][record.get("type")].append(dict(record))
    return grouped


def read_jsonl(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{n}: not a JSON line ({exc.msg})") from None


def records_from_store(db: Path) -> Iterator[dict]:
    """The database's records as ``evx export`` writes them."""
    from pipeline.export import export_records
    from pipeline.store import open_store

    for record in export_records(open_store(db)):
        yield record.model_dump(mode="json")


def records_from_documents(paths: Iterable[Path]) -> Iterator[dict]:
    """Read and extract ``paths`` in memory, without a database; records in export order."""
    from pipeline import readers
    from pipeline.extract import analyse

    for path in paths:
        for document in readers.read_path(path):
            analysis = analyse(document)
            for record in sorted(analysis.records, key=lambda r: r.start):
                sentence = analysis.sentences[record.sentence].text if record.sentence is not None else None
                yield {**asdict(record), "doc": document.source, "sentence": sentence}
