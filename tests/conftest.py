"""Shared test set-up: the nlp pipeline is built once per session; ../shared is optional; a
stand-in extractor and a hand-built document for the store, CLI and export tests."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

import pipeline.extract
import pipeline.extractor
from pipeline.analysis import Abbreviation, Analysis, Section, Sentence
from pipeline.document import Document, PageSpan
from pipeline.records import (ArmRecord, BiomarkerRecord, Her2Record, OutcomeRecord, Record, RegimenRecord, StudyRecord,
                              TrialRecord)
from pipeline.store import RECORD_KINDS

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def nlp():
    from pipeline.extract.nlp import build_nlp

    return build_nlp()


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    corpus = SHARED / "corpus"
    if not corpus.is_dir():
        pytest.skip("../shared/corpus is not available")
    return corpus


# ----------------------------------------------------------------------------- store, CLI and export helpers

VERSION = "test-1"
ORR = re.compile(r"ORR (?:was |of )?(\d+(?:\.\d+)?)%")
TRIAL = re.compile(r"\b[A-Z]{4,}-[A-Z0-9]+\b")


def fake_analyse(document: Document) -> Analysis:
    """A stand-in extractor: one sentence per line, an outcome per "ORR n%", a trial per
    "NAME-X"; "CRASH" raises, "SLOW" sleeps."""
    if "CRASH" in document.text:
        raise RuntimeError("extractor fell over")
    if "SLOW" in document.text:
        time.sleep(5)
    sentences, records, pos = [], [], 0
    for line in document.text.split("\n"):
        if line.strip():
            index = len(sentences)
            sentences.append(Sentence(index, pos, pos + len(line), 0, document.page_at(pos), line))
            for m in ORR.finditer(line):
                records.append(OutcomeRecord(
                    start=pos + m.start(), end=pos + m.end(), text=m.group(), sentence=index, rule="test.orr",
                    endpoint="ORR", measure="rate", value=float(m.group(1)), value_text=m.group(1), unit="%",
                ))
            for m in TRIAL.finditer(line):
                records.append(TrialRecord(
                    start=pos + m.start(), end=pos + m.end(), text=m.group(), sentence=index, rule="test.trial",
                    name=m.group(),
                ))
        pos += len(line) + 1
    return Analysis(sections=[Section(0, "Results", 0, len(document.text))], sentences=sentences, records=records)


@pytest.fixture
def fake_extractor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline.extract, "analyse", fake_analyse)
    monkeypatch.setattr(pipeline.extractor, "EXTRACTOR_VERSION", VERSION)
    monkeypatch.setenv("EVX_WORKERS", "1")  # the stand-in exists in this process only


def count(db: Path, table: str, where: str = "1") -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]


def all_counts(db: Path) -> dict[str, int]:
    tables = ["document", "section", "sentence", "abbreviation", "ingest_error", *(k.table.__tablename__ for k in RECORD_KINDS.values())]
    return {t: count(db, t) for t in tables}


# ----------------------------------------------------------------------------- one document, built by hand

TEXT = (
    "In the HERACLES-A trial, trastuzumab plus lapatinib (TL) gave an ORR of 30% (95% CI 14-50).\n"
    "Tumours were HER2 3+ by IHC and KRAS exon 2 wild-type."
)


def sample() -> tuple[Document, Analysis]:
    """A document with two pages and one record of every type."""
    doc = Document(source="papers/heracles.txt", format="text", text=TEXT, title="HERACLES-A",
                   pages=[PageSpan(1, 0, 92), PageSpan(2, 92, len(TEXT))])
    first, second = TEXT.split("\n")
    s2 = len(first) + 1

    def at(phrase: str) -> dict:
        start = TEXT.index(phrase)
        sentence = 0 if start < s2 else 1
        return dict(start=start, end=start + len(phrase), text=phrase, sentence=sentence)

    records: list[Record] = [
        TrialRecord(**at("HERACLES-A"), rule="trial.name", name="HERACLES-A"),
        RegimenRecord(**at("trastuzumab plus lapatinib"), rule="regimen.plus", drugs=["trastuzumab", "lapatinib"]),
        OutcomeRecord(**at("ORR of 30% (95% CI 14-50)"), rule="outcome.rate", endpoint="ORR", measure="rate",
                      value=30.0, value_text="30", unit="%", ci_low=14.0, ci_high=50.0, ci_text="14-50",
                      trial="HERACLES-A", drugs=["trastuzumab", "lapatinib"], confidence=0.9,
                      study_ref="study:HERACLES-A", attribution={"trial": "trial.sentence"}),
        Her2Record(**at("HER2 3+ by IHC"), rule="her2.ihc", method="IHC", result="3+"),
        BiomarkerRecord(**at("KRAS exon 2 wild-type"), rule="biomarker.ras", gene="KRAS", status="wild-type",
                        detail="exon 2", needs_review=True),
        StudyRecord(**at("HERACLES-A"), rule="study.primary.title", ref="study:HERACLES-A", name="HERACLES-A",
                    role="primary", drugs=["trastuzumab", "lapatinib"], size=27, size_kind="treated"),
        ArmRecord(**at("trastuzumab plus lapatinib"), rule="arm.compared_regimens", ref="study:HERACLES-A/regimen:tl",
                  study_ref="study:HERACLES-A", label="TL", kind="regimen", drugs=["trastuzumab", "lapatinib"]),
    ]
    analysis = Analysis(
        sections=[Section(0, "Results", 0, len(TEXT))],
        sentences=[Sentence(0, 0, len(first), 0, 1, first), Sentence(1, s2, len(TEXT), 0, 2, second)],
        abbreviations=[Abbreviation("TL", "trastuzumab plus lapatinib", TEXT.index("TL"), TEXT.index("TL") + 2)],
        records=records,
    )
    return doc, analysis


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


# ----------------------------------------------------------------------------- processes


def copy_abstracts(shared_corpus: Path, dest: Path, start: int, stop: int) -> list[Path]:
    """Copy pico-breast abstracts [start:stop] (in name order, so every test sees the same ones)."""
    files = sorted((shared_corpus / "pico-breast").glob("*.txt"))[start:stop]
    assert len(files) == stop - start, f"expected {stop - start} abstracts in {shared_corpus / 'pico-breast'}"
    dest.mkdir(parents=True, exist_ok=True)
    for file in files:
        shutil.copyfile(file, dest / file.name)
    return [dest / file.name for file in files]


def evx_env() -> dict[str, str]:
    env = os.environ.copy()
    env["PYTHONPATH"] = str(REPO)  # this checkout's code, not whatever the venv has installed
    env.pop("EVX_DB", None)
    return env


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (state first)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        return fh.read().rsplit(")", 1)[1].split()


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie or a dead one does not)."""
    try:
        return _stat_fields(pid)[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def process_cpu_seconds(pid: int) -> float:
    """CPU time process ``pid`` has used so far (user + system)."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
