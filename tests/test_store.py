"""The evidence store: idempotent loading, one transaction per file, ingest of good and bad files.

Records are built here directly (or by ``fake_analyse``), not by the real extractor, so these
tests say what the store does with any analysis (the stand-in extractor is in conftest.py).
"""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from pathlib import Path

import pytest

import pipeline.extract
import pipeline.readers
import pipeline.store.db
from pipeline.ingest import ingest
from pipeline.records import (ArmRecord, StudyRecord, 
    RECORD_TYPES,
    BiomarkerRecord,
    Her2Record,
    OutcomeRecord,
    Record,
    RegimenRecord,
    TrialRecord,
)
from pipeline.store import RECORD_KINDS, StoreError, load_document, load_file, open_store, stored_file
from pipeline.store.models import Evidence

from conftest import TEXT, VERSION, all_counts, count, sample, write


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "evidence.db"


def test_load_stores_every_table_with_provenance(db: Path) -> None:
    engine = open_store(db, create=True)
    doc, analysis = sample()
    result = load_document(engine, doc, analysis, sha256="a" * 64, extractor_version=VERSION)
    assert result.documents == 1 and result.replaced == 0
    assert dict(result.records) == {"trial": 1, "regimen": 1, "outcome": 1, "her2": 1, "biomarker": 1, "study": 1, "arm": 1}
    counts = all_counts(db)
    assert counts == {"document": 1, "section": 1, "sentence": 2, "abbreviation": 1, "ingest_error": 0,
                      "outcome": 1, "trial": 1, "regimen": 1, "her2_criterion": 1, "biomarker": 1,
                      "study": 1, "study_arm": 1}
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        o = conn.execute("SELECT * FROM outcome").fetchone()
        stored_text = conn.execute("SELECT text FROM document").fetchone()[0]
        b = conn.execute("SELECT * FROM biomarker").fetchone()
        view = conn.execute("SELECT * FROM outcome_evidence").fetchone()
    assert stored_text[o["start"]:o["end"]] == o["text"] == "ORR of 30% (95% CI 14-50)"
    assert (o["page"], o["section"], o["rule"], o["extractor_version"]) == (1, "Results", "outcome.rate", VERSION)
    assert o["sentence_text"] == TEXT.split("\n")[0]
    assert (o["value_text"], o["ci_text"], o["drugs"]) == ("30", "14-50", '["trastuzumab", "lapatinib"]')
    assert (b["page"], b["needs_review"], b["detail"]) == (2, 1, "exon 2")
    assert view["document"] == "papers/heracles.txt" and view["trial"] == "HERACLES-A"
    assert view["drugs"] == "trastuzumab + lapatinib" and view["value"] == 30.0 and view["ci_high"] == 50.0


def test_same_file_twice_adds_nothing(db: Path) -> None:
    engine = open_store(db, create=True)
    doc, analysis = sample()
    load_document(engine, doc, analysis, sha256="a" * 64, extractor_version=VERSION)
    before = all_counts(db)
    again = load_document(engine, doc, analysis, sha256="a" * 64, extractor_version=VERSION)
    assert again.documents == 0 and not again.records
    assert all_counts(db) == before


def test_changed_file_replaces_old_records(db: Path) -> None:
    engine = open_store(db, create=True)
    doc, analysis = sample()
    load_document(engine, doc, analysis, sha256="a" * 64, extractor_version=VERSION)
    fewer = dataclasses.replace(analysis, records=analysis.records[:2])
    result = load_document(engine, doc, fewer, sha256="b" * 64, extractor_version=VERSION)
    assert result.replaced == 1 and result.documents == 1
    assert count(db, "document") == 1 and count(db, "document", "sha256 = '" + "b" * 64 + "'") == 1
    assert count(db, "outcome") == 0 and count(db, "trial") == 1 and count(db, "sentence") == 2


def test_multi_record_file_is_replaced_as_a_whole(db: Path) -> None:
    engine = open_store(db, create=True)
    doc, analysis = sample()
    docs = [(dataclasses.replace(doc, source=f"export.xml#{pmid}"), analysis) for pmid in (1, 2, 3)]
    load_file(engine, "export.xml", "a" * 64, docs, VERSION)
    assert stored_file(engine, "export.xml").documents == 3
    load_file(engine, "export.xml", "b" * 64, docs[:1], VERSION)
    assert count(db, "document") == 1 and count(db, "outcome") == 1
    assert count(db, "document", "path = 'export.xml#1'") == 1


def test_a_failure_mid_load_leaves_nothing_of_the_file(db: Path) -> None:
    engine = open_store(db, create=True)
    doc, analysis = sample()
    bad = OutcomeRecord(start=0, end=3, text="ORR", sentence=0, rule="bad", endpoint="response rate",
                        measure="rate", value=1.0, value_text="1")
    # The invalid record comes after the document, its sentences and four good records.
    broken = dataclasses.replace(analysis, records=[*analysis.records, bad])
    with pytest.raises(StoreError, match="endpoint"):
        load_document(engine, doc, broken, sha256="a" * 64, extractor_version=VERSION)
    assert set(all_counts(db).values()) == {0}

    # A file stored before keeps its old version intact when its new version fails to load.
    load_document(engine, doc, analysis, sha256="a" * 64, extractor_version=VERSION)
    before = all_counts(db)
    with pytest.raises(StoreError):
        load_document(engine, doc, broken, sha256="b" * 64, extractor_version=VERSION)
    assert all_counts(db) == before
    assert stored_file(engine, doc.source).sha256 == "a" * 64


def test_a_crash_mid_load_is_rolled_back(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = open_store(db, create=True)
    real_insert = pipeline.store.db._insert_rows

    def crash_on_abbreviations(db, table, rows):
        if table.__tablename__ == "abbreviation":
            raise RuntimeError("disk on fire")
        real_insert(db, table, rows)

    monkeypatch.setattr(pipeline.store.db, "_insert_rows", crash_on_abbreviations)
    with pytest.raises(RuntimeError):
        load_document(engine, *sample(), sha256="a" * 64, extractor_version=VERSION)
    assert set(all_counts(db).values()) == {0}


def test_record_shapes_match_the_extractor_records() -> None:
    """The store's field classes and pipeline.records describe the same fields."""
    assert tuple(RECORD_KINDS) == RECORD_TYPES
    common = {f.name for f in dataclasses.fields(Record)}
    classes = {"outcome": OutcomeRecord, "trial": TrialRecord, "regimen": RegimenRecord,
               "her2": Her2Record, "biomarker": BiomarkerRecord, "study": StudyRecord, "arm": ArmRecord}
    for name, kind in RECORD_KINDS.items():
        own = {f.name for f in dataclasses.fields(classes[name])} - common
        stored = set(kind.table.model_fields) - set(Evidence.model_fields) - {"id", "document_id", "sentence_idx", "sentence_text"}
        assert own == stored, name


def test_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no database at"):
        open_store(tmp_path / "none.db")


# ----------------------------------------------------------------------------- ingest of files


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    write(folder, "a.txt", "Pertuzumab study\nIn MOUNTAINEER-2 the ORR was 38%.\n")
    write(folder, "b.txt", "Second note\nThe ORR of 45% held in SUMMIT-1.\nORR was 12.5% in the other arm.\n")
    return folder


def test_ingest_is_idempotent_and_skips_unchanged_files_unread(
    corpus: Path, db: Path, fake_extractor: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ingest([corpus], db)
    assert (first.files_seen, first.documents_read, first.errors) == (2, 2, [])
    assert first.records["outcome"] == 3 and first.records["trial"] == 2
    before = all_counts(db)

    def no_reading(*_args, **_kwargs):
        raise AssertionError("an unchanged file was read")

    monkeypatch.setattr(pipeline.readers, "read_path", no_reading)
    second = ingest([corpus], db)
    assert (second.files_skipped, second.documents_skipped, second.documents_read, second.errors) == (2, 2, 0, [])
    assert sum(second.records.values()) == 0
    assert all_counts(db) == before


def test_ingest_replaces_a_changed_file(corpus: Path, db: Path, fake_extractor: None) -> None:
    ingest([corpus], db)
    write(corpus, "b.txt", "Second note, revised\nNo figures any more.\n")
    summary = ingest([corpus], db)
    assert (summary.files_skipped, summary.documents_read, summary.documents_replaced) == (1, 1, 1)
    assert count(db, "document") == 2
    assert count(db, "outcome") == 1 and count(db, "trial") == 1  # only a.txt's remain


def test_new_extractor_version_reanalyses(corpus: Path, db: Path, fake_extractor: None, monkeypatch) -> None:
    ingest([corpus], db)
    monkeypatch.setattr(pipeline.extractor, "EXTRACTOR_VERSION", "test-2")
    summary = ingest([corpus], db)
    assert summary.documents_read == 2 and summary.documents_replaced == 2
    assert count(db, "outcome", "extractor_version = 'test-2'") == 3


def test_failing_files_are_recorded_and_the_batch_goes_on(corpus: Path, db: Path, fake_extractor: None) -> None:
    write(corpus, "c.txt", b"caf\xe9 latin-1 text\n")  # not UTF-8: the reader refuses it
    write(corpus, "d.txt", "Title\nThe ORR was 50% before the CRASH.\n")  # the extractor raises
    summary = ingest([corpus], db, time_limit=10)
    assert summary.documents_read == 2
    failed = dict(summary.errors)
    assert set(failed) == {str(corpus / "c.txt"), str(corpus / "d.txt")}
    assert "not UTF-8" in failed[str(corpus / "c.txt")]
    assert failed[str(corpus / "d.txt")] == "unexpected RuntimeError: extractor fell over"
    assert count(db, "ingest_error") == 2
    assert count(db, "document", "file_path LIKE '%d.txt'") == 0 and count(db, "outcome") == 3

    # Fixed, the file loads and its error row goes.
    write(corpus, "d.txt", "Title\nThe ORR was 50% after the fix.\n")
    summary = ingest([corpus], db)
    assert [p for p, _ in summary.errors] == [str(corpus / "c.txt")]
    assert count(db, "ingest_error") == 1 and count(db, "outcome") == 4


def test_a_document_over_the_time_limit_fails_alone(corpus: Path, db: Path, fake_extractor: None) -> None:
    write(corpus, "slow.txt", "Title\nThis one is SLOW.\n")
    began = time.monotonic()
    summary = ingest([corpus], db, time_limit=0.3)
    assert time.monotonic() - began < 4
    assert summary.documents_read == 2
    [(path, reason)] = summary.errors
    assert path.endswith("slow.txt") and reason.startswith("timed out after 0.3 s analysing")
