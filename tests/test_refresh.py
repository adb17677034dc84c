"""A corpus driven through several refresh runs: files added, modified, deleted, corrupted and
restored, then a new extractor version; each run's counts, the records and the reported changes
are checked exactly, with reviewers' curations along the way. Uses the stand-in extractor of
conftest (an outcome per "ORR n%", a trial per "NAME-X")."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

import pipeline.extract
import pipeline.extractor
import pipeline.ingest
import pipeline.readers
from pipeline.changes import changes_since, render_csv, render_markdown
from pipeline.cli import app
from pipeline.curation import CurationError, curate
from pipeline.ingest import ingest, refresh
from pipeline.records import OutcomeRecord
from pipeline.store import SCHEMA_VERSION, open_store
from conftest import count, fake_analyse, write

A = "Pertuzumab study\nIn MOUNTAINEER-2 the ORR was 38%.\n"
B = "Second note\nThe ORR of 45% held in SUMMIT-1.\nORR was 12.5% in the other arm.\n"
B_EDITED = "Second note, revised\nThe ORR of 45% held in SUMMIT-1.\n"
C = "Third note\nORR was 60% in DESTINY-CRC02.\n"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    write(folder, "a.txt", A)
    write(folder, "b.txt", B)
    return folder


def run_row(db: Path, run_id: int) -> dict:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone())


FILE_COUNTS = ("files_new", "files_changed", "files_reextracted", "files_restored", "files_withdrawn",
               "files_unchanged", "files_failed")
RECORD_COUNTS = ("records_added", "records_removed", "records_changed")


def counts(db: Path, run_id: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    row = run_row(db, run_id)
    return tuple(row[c] for c in FILE_COUNTS), tuple(row[c] for c in RECORD_COUNTS)


def net(db: Path, since: int | None = None) -> set[tuple[str, str, str, str]]:
    """(change, type, document file name, summary) of every net change since a run."""
    report = changes_since(open_store(db), since)
    return {(d.change, d.type, Path(d.document).name, d.what) for d in report.deltas}


def outcomes(db: Path) -> set[tuple[str, float]]:
    with sqlite3.connect(db) as conn:
        return {(Path(doc).name, value) for doc, value in conn.execute("SELECT document, value FROM outcome_evidence")}


def key_of(db: Path, value: float) -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT evidence_key FROM outcome_evidence WHERE value = ?", (value,)).fetchone()[0]


def analyse_v2(document):
    """Version 2 of the stand-in: reads 38% as 39% (a rule change that moves one figure)."""
    analysis = fake_analyse(document)
    records = [dataclasses.replace(r, value=39.0, value_text="39") if isinstance(r, OutcomeRecord) and r.value == 38 else r
               for r in analysis.records]
    return dataclasses.replace(analysis, records=records)


def test_runs_over_a_changing_corpus(tmp_path: Path, corpus: Path, fake_extractor: None, monkeypatch) -> None:
    db = tmp_path / "evidence.db"

    # Run 1: first ingest. 3 outcomes + 2 trials.
    first = ingest([corpus], db)
    assert (first.run_id, first.status) == (1, "ok")
    assert counts(db, 1) == ((2, 0, 0, 0, 0, 0, 0), (5, 0, 0))
    assert outcomes(db) == {("a.txt", 38.0), ("b.txt", 45.0), ("b.txt", 12.5)}
    assert net(db) == {
        ("added", "outcome", "a.txt", "ORR rate 38%"), ("added", "trial", "a.txt", "MOUNTAINEER-2"),
        ("added", "outcome", "b.txt", "ORR rate 45%"), ("added", "outcome", "b.txt", "ORR rate 12.5%"),
        ("added", "trial", "b.txt", "SUMMIT-1"),
    }
    engine = open_store(db)
    curate(engine, key_of(db, 38.0), "accepted", comment="checked", reviewer="ana")
    curate(engine, key_of(db, 12.5), "corrected", value="12.8", comment="Table 2", reviewer="ana")

    # Run 2: nothing changed, nothing read.
    def no_reading(*_args, **_kwargs):
        raise AssertionError("an unchanged file was read")

    with monkeypatch.context() as m:
        m.setattr(pipeline.readers, "read_path", no_reading)
        second = refresh(None, db)
    assert second.status == "ok"
    assert counts(db, 2) == ((0, 0, 0, 0, 0, 2, 0), (0, 0, 0))
    assert net(db) == set()

    # Run 3: c.txt added, b.txt edited (one figure fewer), a.txt deleted.
    write(corpus, "c.txt", C)
    write(corpus, "b.txt", B_EDITED)
    (corpus / "a.txt").unlink()
    third = refresh(None, db)
    assert counts(db, 3) == ((1, 1, 0, 0, 1, 0, 0), (4, 5, 0))
    assert outcomes(db) == {("b.txt", 45.0), ("c.txt", 60.0)}
    # The edited file's text changed, so its records carry new keys: removed and added again.
    assert net(db) == {
        ("removed", "outcome", "a.txt", "ORR rate 38%"), ("removed", "trial", "a.txt", "MOUNTAINEER-2"),
        ("removed", "outcome", "b.txt", "ORR rate 45%"), ("removed", "outcome", "b.txt", "ORR rate 12.5%"),
        ("removed", "trial", "b.txt", "SUMMIT-1"),
        ("added", "outcome", "b.txt", "ORR rate 45%"), ("added", "trial", "b.txt", "SUMMIT-1"),
        ("added", "outcome", "c.txt", "ORR rate 60%"), ("added", "trial", "c.txt", "DESTINY-CRC02"),
    }
    assert third.files_withdrawn == 1
    # a.txt is withdrawn by run 3, not deleted; its curation is flagged, not dropped.
    assert count(db, "document", "withdrawn_run = 3") == 1 and count(db, "document") == 3
    assert count(db, "curation") == 2
    assert count(db, "curation", "orphaned_run = 3") == 2  # a.txt's was withdrawn, b.txt's 12.5% is gone
    report = changes_since(open_store(db))
    assert {c.snapshot["value"] for c in report.orphaned} == {38.0, 12.5}

    # Run 4: c.txt corrupted (not UTF-8): it fails alone, keeps its last good records, exit 1.
    write(corpus, "c.txt", b"Third note\nORR was 60% in caf\xe9.\n")
    result = CliRunner().invoke(app, ["refresh", "--db", str(db), "--quiet"])
    assert result.exit_code == 1
    assert result.stdout == "" and result.stderr.startswith(f"{corpus / 'c.txt'}: not UTF-8")
    assert counts(db, 4) == ((0, 0, 0, 0, 0, 1, 1), (0, 0, 0))
    assert run_row(db, 4)["status"] == "failed_files"
    assert count(db, "run_failure", "run_id = 4") == 1 and count(db, "ingest_error") == 1
    assert ("c.txt", 60.0) in outcomes(db)

    # Run 5: c.txt and a.txt restored as they were: the error clears, a.txt comes back with
    # the same keys, so its curation is attached again.
    write(corpus, "c.txt", C)
    write(corpus, "a.txt", A)
    fifth = refresh(None, db)
    assert fifth.status == "ok"
    assert counts(db, 5) == ((0, 0, 0, 1, 0, 2, 0), (2, 0, 0))
    assert count(db, "ingest_error") == 0 and count(db, "document", "withdrawn_run IS NOT NULL") == 0
    assert net(db) == {("added", "outcome", "a.txt", "ORR rate 38%"), ("added", "trial", "a.txt", "MOUNTAINEER-2")}
    assert count(db, "curation", "orphaned_run IS NULL") == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT value, curation, curation_comment FROM outcome_evidence WHERE curation IS NOT NULL").fetchall() == [
            (38.0, "accepted", "checked")]

    # Run 6: a new extractor version. Every file is re-extracted from its stored text (no file
    # is read); the one figure the new rules read differently is "changed", the rest unchanged.
    monkeypatch.setattr(pipeline.extract, "analyse", analyse_v2)
    monkeypatch.setattr(pipeline.extractor, "EXTRACTOR_VERSION", "test-2")
    with monkeypatch.context() as m:
        m.setattr(pipeline.readers, "read_path", no_reading)
        sixth = refresh(None, db)
    assert counts(db, 6) == ((0, 0, 3, 0, 0, 0, 0), (0, 0, 1))
    assert count(db, "outcome", "extractor_version = 'test-2'") == 3
    report = changes_since(open_store(db))
    [delta] = report.deltas
    assert (delta.change, delta.what, delta.detail, delta.curation) == ("changed", "ORR rate 39%", "value 38 → 39; value_text 38 → 39", "accepted")
    # The curation followed its figure through the re-extraction.
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT value, curation FROM outcome_evidence WHERE curation IS NOT NULL").fetchall() == [(39.0, "accepted")]
    assert sixth.records_changed == 1

    # Since run 0: the database's whole net content, as the reports a reviewer reads.
    assert net(db, 0) == {
        ("added", "outcome", "a.txt", "ORR rate 39%"), ("added", "trial", "a.txt", "MOUNTAINEER-2"),
        ("added", "outcome", "b.txt", "ORR rate 45%"), ("added", "trial", "b.txt", "SUMMIT-1"),
        ("added", "outcome", "c.txt", "ORR rate 60%"), ("added", "trial", "c.txt", "DESTINY-CRC02"),
    }
    everything = changes_since(open_store(db), 0)
    assert render_csv(everything).count("\n") == 1 + 6
    assert "## Added (6)" in render_markdown(everything)


def test_reextract_forces_analysis_with_the_same_version(corpus: Path, tmp_path: Path, fake_extractor: None) -> None:
    db = tmp_path / "evidence.db"
    ingest([corpus], db)
    summary = refresh(None, db, reextract=True)
    assert (summary.files_reextracted, summary.documents_read, summary.records_added, summary.records_changed) == (2, 2, 0, 0)
    assert net(db) == set()  # same records, same keys: nothing to report


def test_curation_survives_reextraction_and_a_version_change(corpus: Path, tmp_path: Path, fake_extractor: None, monkeypatch) -> None:
    db = tmp_path / "evidence.db"
    ingest([corpus], db)
    engine = open_store(db)
    curate(engine, key_of(db, 45.0), "rejected", comment="a subgroup figure")
    curate(engine, "outcome:1", "corrected", value="38.5", corrections={"total": "52"}, comment="Table 1")
    refresh(None, db, reextract=True)
    monkeypatch.setattr(pipeline.extractor, "EXTRACTOR_VERSION", "test-9")
    refresh(None, db)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT value, curation, corrected_value, corrections, curation_comment FROM outcome_evidence "
                            "WHERE curation IS NOT NULL ORDER BY value").fetchall()
    assert [row[:3] + row[4:] for row in rows] == [(38.0, "corrected", "38.5", "Table 1"),
                                                   (45.0, "rejected", None, "a subgroup figure")]
    assert json.loads(rows[0][3]) == {"value": 38.5, "total": 52} and rows[1][3] is None
    assert count(db, "curation", "orphaned_run IS NULL") == 2


def test_review_commands_and_their_errors(corpus: Path, tmp_path: Path, fake_extractor: None) -> None:
    db = tmp_path / "evidence.db"
    ingest([corpus], db)
    runner = CliRunner()
    key = key_of(db, 45.0)
    ok = runner.invoke(app, ["review", "accept", key[:8], "--db", str(db), "-m", "fine", "--reviewer", "bo"])
    assert ok.exit_code == 0 and key in ok.stdout and "ORR rate 45%" in ok.stdout
    bad_field = runner.invoke(app, ["review", "correct", key, "--set", "colour=red", "--db", str(db)])
    assert bad_field.exit_code == 2 and "no field 'colour'" in bad_field.stderr
    not_number = runner.invoke(app, ["review", "correct", key, "--value", "forty", "--db", str(db)])
    assert not_number.exit_code == 2 and "must be a number" in not_number.stderr
    assert runner.invoke(app, ["review", "reject", "ffffffffff", "--db", str(db)]).exit_code == 2
    listed = runner.invoke(app, ["review", "list", "--db", str(db), "--format", "csv"])
    assert listed.exit_code == 0 and listed.stdout.splitlines()[1].split(",")[1:4] == [key, "outcome", "accepted"]
    with pytest.raises(CurationError, match="needs --value"):
        curate(open_store(db), key, "corrected")


def test_runs_and_changes_commands(corpus: Path, tmp_path: Path, fake_extractor: None) -> None:
    db = tmp_path / "evidence.db"
    runner = CliRunner()
    assert runner.invoke(app, ["refresh", "--db", str(db)]).exit_code == 2  # no database yet
    assert runner.invoke(app, ["ingest", str(corpus), "--db", str(db), "--quiet"]).exit_code == 0
    write(corpus, "c.txt", C)
    refreshed = runner.invoke(app, ["refresh", "--db", str(db)])
    assert refreshed.exit_code == 0 and "1 new" in refreshed.stdout and "2 unchanged" in refreshed.stdout
    runs = runner.invoke(app, ["runs", "--db", str(db), "--format", "csv"]).stdout.splitlines()
    assert runs[0].startswith("id,command,started") and [r.split(",")[1] for r in runs[1:]] == ["refresh", "ingest"]
    table = runner.invoke(app, ["changes", "--db", str(db)])
    assert table.exit_code == 0
    assert table.stdout.splitlines()[0] == "changes since run 1 (run 2): 2 added, 0 removed, 0 changed in 1 documents"
    md = runner.invoke(app, ["changes", "--db", str(db), "--since", "0", "--format", "markdown", "--type", "trial"])
    assert md.exit_code == 0 and "## Added (3)" in md.stdout and "DESTINY-CRC02" in md.stdout
    assert runner.invoke(app, ["changes", "--db", str(db), "--since", "99"]).exit_code == 2


def test_a_missing_source_folder_withdraws_nothing(corpus: Path, tmp_path: Path, fake_extractor: None) -> None:
    db = tmp_path / "evidence.db"
    ingest([corpus], db)
    corpus.rename(tmp_path / "elsewhere")  # an unmounted share looks like this
    summary = refresh(None, db)
    assert summary.status == "failed_files" and summary.files_withdrawn == 0
    assert "is missing" in summary.errors[0][1]
    assert count(db, "document", "withdrawn_run IS NULL") == 2
    (tmp_path / "elsewhere").rename(corpus)  # mounted again
    back = refresh(None, db)
    assert (back.status, back.files_skipped, count(db, "ingest_error")) == ("ok", 2, 0)


def test_sources_are_found_from_another_working_directory(corpus: Path, tmp_path: Path, fake_extractor: None, monkeypatch) -> None:
    monkeypatch.chdir(corpus.parent)
    db = tmp_path / "evidence.db"
    ingest([Path("corpus")], db)
    monkeypatch.chdir(tmp_path.parent)
    summary = refresh(None, db)
    assert (summary.files_skipped, summary.files_new, summary.files_withdrawn) == (2, 0, 0)
    with sqlite3.connect(db) as conn:
        assert sorted(p for (p,) in conn.execute("SELECT path FROM document")) == ["corpus/a.txt", "corpus/b.txt"]


def test_schema_1_databases_are_migrated_and_reextracted(tmp_path: Path, corpus: Path, fake_extractor: None) -> None:
    db = tmp_path / "old.db"
    ingest([corpus], db)
    with sqlite3.connect(db) as conn:  # make it look like a database of evx before schema 2
        for table in ("runs", "run_failure", "evidence_change", "curation", "source_file", "source_root"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DROP VIEW outcome_evidence")
        conn.execute("DROP VIEW curation_state")
        for table in ("outcome", "trial", "regimen", "her2_criterion", "biomarker"):
            conn.execute(f"DROP INDEX ix_{table}_key")
            conn.execute(f"ALTER TABLE {table} DROP COLUMN key")
        conn.execute("DROP INDEX ix_document_text_sha256")
        for column in ("text_sha256", "layout", "run_id", "withdrawn_run"):
            conn.execute(f"ALTER TABLE document DROP COLUMN {column}")
        conn.execute("ALTER TABLE ingest_error DROP COLUMN run_id")
        conn.execute("PRAGMA user_version = 1")
    summary = ingest([corpus], db)
    assert (summary.files_reextracted, summary.records_added, summary.errors) == (2, 5, [])
    assert count(db, "outcome", "key != ''") == 3


def _age(*files: Path, seconds: float = 3600) -> None:
    """Set the files' modification time to ``seconds`` ago (as for files stored long before)."""
    for file in files:
        past = file.stat().st_mtime - seconds
        os.utime(file, (past, past))


def test_unchanged_old_files_are_not_read_and_a_changed_time_stamp_is(corpus: Path, tmp_path: Path,
                                                                      fake_extractor: None, monkeypatch) -> None:
    db = tmp_path / "e.db"
    a, b = corpus / "a.txt", corpus / "b.txt"
    _age(a, b)
    ingest([corpus], db)
    hashed = []
    real_sha256 = pipeline.ingest.file_sha256
    monkeypatch.setattr(pipeline.ingest, "file_sha256", lambda f: hashed.append(f.name) or real_sha256(f))

    second = refresh(None, db)
    assert (second.files_skipped, hashed) == (2, [])  # same size and time stamp: not even hashed

    # Same size, other content, another (old) time stamp: read again.
    write(corpus, "a.txt", A.replace("38%", "39%"))
    _age(a, seconds=1800)
    third = refresh(None, db)
    assert (third.files_changed, third.files_skipped, hashed) == (1, 1, ["a.txt"])
    assert ("a.txt", 39.0) in outcomes(db) and ("a.txt", 38.0) not in outcomes(db)


def test_files_modified_moments_ago_are_hashed_every_time(corpus: Path, tmp_path: Path, fake_extractor: None,
                                                          monkeypatch) -> None:
    db = tmp_path / "e.db"
    ingest([corpus], db)  # the files were just written: their time stamps are not trusted
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM source_file WHERE mtime_ns IS NULL").fetchone() == (2,)
    hashed = []
    real_sha256 = pipeline.ingest.file_sha256
    monkeypatch.setattr(pipeline.ingest, "file_sha256", lambda f: hashed.append(f.name) or real_sha256(f))
    assert refresh(None, db).files_skipped == 2
    assert sorted(hashed) == ["a.txt", "b.txt"]
    # Once they are old enough, the next run keeps their stamps and the one after reads nothing.
    _age(corpus / "a.txt", corpus / "b.txt")
    refresh(None, db)
    hashed.clear()
    assert refresh(None, db).files_skipped == 2 and hashed == []


def test_schema_2_databases_get_file_time_stamps(corpus: Path, tmp_path: Path, fake_extractor: None) -> None:
    db = tmp_path / "e.db"
    _age(corpus / "a.txt", corpus / "b.txt")
    ingest([corpus], db)
    with sqlite3.connect(db) as conn:  # as evx of schema 2 left it
        conn.execute("ALTER TABLE source_file DROP COLUMN size")
        conn.execute("ALTER TABLE source_file DROP COLUMN mtime_ns")
        conn.execute("PRAGMA user_version = 2")
    summary = refresh(None, db)
    assert (summary.files_skipped, summary.errors) == (2, [])
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        sizes = dict(conn.execute("SELECT path, size FROM source_file"))
    assert sorted(sizes.values()) == sorted([len(A.encode()), len(B.encode())])


def test_schema_3_databases_get_the_study_model_tables(corpus: Path, tmp_path: Path, fake_extractor: None) -> None:
    db = tmp_path / "e.db"
    _age(corpus / "a.txt", corpus / "b.txt")
    ingest([corpus], db)
    with sqlite3.connect(db) as conn:  # as evx of schema 3 left it: no study model
        for view in ("outcome_evidence", "curation_state"):
            conn.execute(f"DROP VIEW {view}")
        conn.execute("DROP TABLE study")
        conn.execute("DROP TABLE study_arm")
        for column in ("study_ref", "arm_ref", "attribution"):
            conn.execute(f"ALTER TABLE outcome DROP COLUMN {column}")
        conn.execute("PRAGMA user_version = 3")
    summary = refresh(None, db)
    assert summary.errors == []
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(outcome)")}
        assert {"study_ref", "arm_ref", "attribution"} <= columns
        assert conn.execute("SELECT count(*) FROM study").fetchone() == (0,)
        view_columns = [d[0] for d in conn.execute("SELECT * FROM outcome_evidence LIMIT 1").description]
    assert {"study", "arm_label", "arm_size", "study_size", "attribution"} <= set(view_columns)


def test_schema_4_databases_get_the_table_tables(corpus: Path, tmp_path: Path, fake_extractor: None) -> None:
    db = tmp_path / "e.db"
    _age(corpus / "a.txt", corpus / "b.txt")
    ingest([corpus], db)
    with sqlite3.connect(db) as conn:  # as evx of schema 4 left it: no tables
        for view in ("outcome_evidence", "curation_state"):
            conn.execute(f"DROP VIEW {view}")
        conn.execute("DROP TABLE doc_table")
        conn.execute("DROP TABLE table_cell")
        for column in ("table_idx", "table_row", "table_column"):
            conn.execute(f"ALTER TABLE outcome DROP COLUMN {column}")
        conn.execute("PRAGMA user_version = 4")
    summary = refresh(None, db)
    assert summary.errors == []
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(outcome)")}
        assert {"table_idx", "table_row", "table_column"} <= columns
        assert conn.execute("SELECT count(*) FROM table_cell").fetchone() == (0,)
        cell_columns = {row[1] for row in conn.execute("PRAGMA table_info(table_cell)")}
        view_columns = [d[0] for d in conn.execute("SELECT * FROM outcome_evidence LIMIT 1").description]
    assert {"table_idx", "row_idx", "column_idx", "colspan", "is_header", "is_stub", "text", "start", "end"} <= cell_columns
    assert {"table_idx", "table_label", "table_row", "table_column"} <= set(view_columns)


def test_a_file_failing_mid_load_stores_nothing_and_the_others_are_stored(tmp_path: Path, fake_extractor: None,
                                                                           monkeypatch) -> None:
    import pipeline.store.db as db_module

    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "bad.txt", "c.txt"):
        write(folder, name, f"{name}\nIn MOUNTAINEER-2 the ORR was 38%.\n")
    real_insert = db_module._insert_rows

    def insert_rows(db, table, rows):  # after the document row is written
        document = db.execute("SELECT path FROM document WHERE id = ?", (rows[0][-1],)).fetchone() if rows else None
        if document and document[0].endswith("bad.txt"):
            raise db_module.StoreError("a record broke its shape")
        return real_insert(db, table, rows)

    monkeypatch.setattr(db_module, "_insert_rows", insert_rows)
    db = tmp_path / "e.db"
    summary = ingest([folder], db)
    assert [Path(p).name for p, _ in summary.errors] == ["bad.txt"]
    assert summary.files_new == 3
    with sqlite3.connect(db) as conn:
        stored = sorted(Path(p).name for (p,) in conn.execute("SELECT path FROM document"))
        files = sorted(Path(p).name for (p,) in conn.execute("SELECT path FROM source_file"))
        outcomes_per_doc = conn.execute("SELECT count(*) FROM outcome GROUP BY document_id").fetchall()
    assert stored == files == ["a.txt", "b.txt", "c.txt"]
    assert outcomes_per_doc == [(1,), (1,), (1,)]


def test_schema_5_databases_count_failures_in_a_row(corpus: Path, tmp_path: Path, fake_extractor: None) -> None:
    db = tmp_path / "e.db"
    _age(corpus / "a.txt", corpus / "b.txt")
    ingest([corpus], db)
    with sqlite3.connect(db) as conn:  # as evx of schema 5 left it, with a failure on record
        for column in ("failures", "size", "mtime_ns"):
            conn.execute(f"ALTER TABLE ingest_error DROP COLUMN {column}")
        conn.execute("INSERT INTO ingest_error (path, reason, at) VALUES ('x.txt', 'bad', '2026-01-01')")
        conn.execute("PRAGMA user_version = 5")
    summary = refresh(None, db)
    assert summary.errors == []
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert conn.execute("SELECT path, failures, size FROM ingest_error").fetchall() == [("x.txt", 1, None)]
