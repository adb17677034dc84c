"""Made-up evidence databases for the report, plot, serve and xlsx tests, built through the
store's own API (``load_file`` in runs), so the records have real offsets, keys and a change log.

Every abstract is written here from templates (no third-party text). ``HOSTILE`` is a document
whose text, title, trial and arm hold markup that must never reach a page as markup.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

from pipeline.analysis import Analysis, Section, Sentence
from pipeline.curation import curate
from pipeline.document import Document, PageSpan
from pipeline.records import OutcomeRecord, TrialRecord
from pipeline.store import load_file, open_store
from pipeline.store.runs import finish_run, start_run

VERSION = "report-test-1"
TRIALS = ["ALDER-2", "BIRCH-1", "CEDAR-3", "DOGWOOD-7", "ELM-4", "FIR-9", "GINKGO-5", "HAZEL-8"]
ARMS = ["cohort A", "cohort B", "arm 1", "arm 2", "dose level 2"]
DRUGS = [["zanidatamab"], ["tucatinib", "trastuzumab"], ["trastuzumab", "pertuzumab"], ["lapatinib", "capecitabine"]]
INJECTED_SCRIPT = "<script>window.__evx_injected = 'script';</script>"
INJECTED_IMG = '"><img src=x onerror="window.__evx_injected = \'img\'">'


@dataclass(frozen=True)
class Planned:
    """One figure a generated abstract states: what the database must hold for it."""

    endpoint: str
    measure: str
    value: float
    unit: str
    ci: tuple[float, float] | None
    phrase: str  # the figure as written in the sentence (the record's text)


def _figures(rng: random.Random) -> list[Planned]:
    orr = round(rng.uniform(12, 70), 1)
    pfs = round(rng.uniform(2, 14), 1)
    os_ = round(pfs + rng.uniform(4, 20), 1)
    dcr = round(min(orr + rng.uniform(10, 25), 99), 1)
    orr_ci = (round(max(orr - rng.uniform(6, 15), 0), 1), round(min(orr + rng.uniform(6, 15), 100), 1))
    pfs_ci = (round(max(pfs - rng.uniform(1, 3), 0.1), 1), round(pfs + rng.uniform(1, 4), 1))
    figures = [
        Planned("ORR", "rate", orr, "%", orr_ci, f"{orr}% (95% CI {orr_ci[0]}–{orr_ci[1]})"),
        Planned("PFS", "median", pfs, "months", pfs_ci if rng.random() < 0.7 else None, ""),
        Planned("OS", "median", os_, "months", None, ""),
        Planned("DCR", "rate", dcr, "%", None, f"{dcr}%"),
    ]
    out = []
    for f in figures:
        if f.phrase:
            out.append(f)
        else:
            ci = f" (95% CI {f.ci[0]}–{f.ci[1]})" if f.ci else ""
            out.append(Planned(f.endpoint, f.measure, f.value, f.unit, f.ci, f"{f.value} months{ci}"))
    return out


def abstract(i: int, rng: random.Random, trial: str | None = None, arm: str | None = None,
             drugs: list[str] | None = None, extra: str = "") -> tuple[Document, Analysis]:
    """One generated abstract: a design sentence, then a sentence per figure."""
    trial = trial or rng.choice(TRIALS)
    arm = arm or rng.choice(ARMS)
    drugs = drugs or rng.choice(DRUGS)
    n = rng.randint(20, 160)
    figures = _figures(rng)
    names = {"ORR": "The objective response rate", "PFS": "Median progression-free survival",
             "OS": "Median overall survival", "DCR": "The disease control rate"}
    lines = [f"In the {trial} study, {n} patients in {arm} received {' plus '.join(drugs)}.{extra}"]
    lines += [f"{names[f.endpoint]} in {arm} was {f.phrase}." for f in figures]
    text = "\n".join(lines)
    title = f"{' plus '.join(drugs)} in {trial}: generated abstract {i}"
    doc = Document(source=f"generated.ris#{i}", format="ris", text=text, title=title, doi=f"10.5555/evx-test.{i}",
                   year=2020 + i % 5, pages=[PageSpan(1, 0, len(text))])
    sentences, records, pos = [], [], 0
    for index, line in enumerate(lines):
        sentences.append(Sentence(index, pos, pos + len(line), 0, 1, line))
        pos += len(line) + 1
    t0 = text.index(trial)
    records.append(TrialRecord(start=t0, end=t0 + len(trial), text=trial, sentence=0, rule="test.trial", name=trial))
    for index, f in enumerate(figures, 1):
        s = sentences[index]
        start = s.start + s.text.index(f.phrase)
        records.append(OutcomeRecord(
            start=start, end=start + len(f.phrase), text=f.phrase, sentence=index, rule="test.figure",
            endpoint=f.endpoint, measure=f.measure, value=f.value, value_text=f"{f.value}", unit=f.unit,
            ci_low=f.ci and f.ci[0], ci_high=f.ci and f.ci[1], ci_text=f.ci and f"95% CI {f.ci[0]}–{f.ci[1]}",
            total=n, p_value="0.01" if f.endpoint == "ORR" else None, trial=trial, drugs=drugs, arm=arm))
    analysis = Analysis(sections=[Section(0, "Results", 0, len(text))], sentences=sentences, records=records)
    return doc, analysis


def hostile() -> tuple[Document, Analysis]:
    """An abstract whose text, title, trial and arm carry markup."""
    rng = random.Random(7)
    doc, analysis = abstract(0, rng, trial=f"EVIL{INJECTED_SCRIPT}", arm=f"cohort {INJECTED_IMG}",
                             extra=f" Note {INJECTED_SCRIPT} and {INJECTED_IMG} end.")
    doc.title = f"Hostile {INJECTED_SCRIPT} title {INJECTED_IMG}"
    doc.source = "hostile<script>.txt"
    doc.doi = "10.5555/evx-test.hostile"
    return doc, analysis


def _sha(docs) -> str:
    return hashlib.sha256("".join(d.text for d, _ in docs).encode()).hexdigest()


def build(db: Path, n_documents: int, *, seed: int = 19, with_hostile: bool = True, second_run: bool = True) -> Path:
    """A database of ``n_documents`` generated abstracts (4 figures each) stored by one ingest
    run; with ``second_run`` a refresh changes one figure's value, so "what changed" has a
    change; one figure is accepted, one corrected, one rejected by a reviewer."""
    engine = open_store(db, create=True)
    rng = random.Random(seed)
    docs = [abstract(i, rng) for i in range(1, n_documents + 1)]
    if with_hostile:
        docs.append(hostile())
    run = start_run(engine, "ingest", VERSION)
    load_file(engine, "generated.ris", _sha(docs), docs, VERSION, run_id=run)
    finish_run(engine, run, "ok")
    if second_run:
        doc, analysis = docs[0]
        changed = [r for r in analysis.records if isinstance(r, OutcomeRecord) and r.endpoint == "DCR"][0]
        changed.value += 1  # a re-reading of the same figure, another value: logged as "changed"
        run = start_run(engine, "refresh", VERSION)
        load_file(engine, "generated.ris", _sha(docs) + "2", docs, VERSION, run_id=run, force=True)
        finish_run(engine, run, "ok")
    with engine.connect() as conn:
        keys = [k for (k,) in conn.exec_driver_sql("SELECT key FROM outcome ORDER BY id LIMIT 3")]
    for key, status, extra in zip(keys, ("accepted", "corrected", "rejected"), ({}, {"value": "99.9"}, {})):
        curate(engine, key, status, comment=f"made-up {status} verdict", reviewer="tester", **extra)
    engine.dispose()
    return db
