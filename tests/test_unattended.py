"""Unattended runs (cron, systemd): a run never stores a misstated file, never withdraws a
root's files because its folder looks empty, and ends with an exit code that means one thing.
Uses the stand-in extractor of conftest (an outcome per "ORR n%")."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pipeline.ingest
from pipeline.ingest import ingest, refresh
from conftest import copy_abstracts, evx_env, process_alive, write

A = "Version A\nThe ORR was 38%.\n"
B = "Version B\nThe ORR was 51%.\n"


def _stored(db: Path, name: str) -> tuple[str, list[str]]:
    """The file's stored sha256 and its documents' texts."""
    with sqlite3.connect(db) as conn:
        (digest,) = conn.execute("SELECT sha256 FROM source_file WHERE path = ?", (name,)).fetchone()
        texts = [t for (t,) in conn.execute("SELECT text FROM document WHERE file_path = ? ORDER BY id", (name,))]
    return digest, texts


def _rewrite_after_hashing(monkeypatch, file: Path, text: str) -> None:
    """The run hashes ``file`` and, before it reads it, someone rewrites it with ``text``."""
    real = pipeline.ingest.file_sha256

    def hash_then_rewrite(path: Path) -> str:
        digest = real(path)
        if path.resolve() == file.resolve():
            path.write_text(text, encoding="utf-8")
        return digest

    monkeypatch.setattr(pipeline.ingest, "file_sha256", hash_then_rewrite)


def test_a_file_rewritten_between_hash_and_read_is_stored_under_the_hash_of_what_was_read(
        tmp_path, fake_extractor, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus = Path("corpus")
    corpus.mkdir()
    file = write(corpus, "a.txt", A)
    db = tmp_path / "e.db"
    with monkeypatch.context() as m:
        _rewrite_after_hashing(m, file, B)
        ingest([corpus], db)
    digest, texts = _stored(db, "corpus/a.txt")
    assert len(texts) == 1 and texts[0].startswith("Version B")
    assert digest == hashlib.sha256(B.encode()).hexdigest()  # the hash of the text stored, not of A
    # Back to version A: the next run sees a change (it would keep B for good if B were stored under A's hash).
    file.write_text(A, encoding="utf-8")
    summary = refresh(None, db)
    assert summary.files_changed == 1
    digest, texts = _stored(db, "corpus/a.txt")
    assert texts[0].startswith("Version A") and digest == hashlib.sha256(A.encode()).hexdigest()


def test_a_large_export_rewritten_while_it_is_read_in_pieces_fails_and_is_read_again_next_run(
        tmp_path, fake_extractor, monkeypatch):
    records = "".join(f"TY  - JOUR\nTI  - Study {i}\nAB  - The ORR was {i % 90 + 1}%.\nER  - \n\n" for i in range(40))
    monkeypatch.chdir(tmp_path)
    corpus = Path("corpus")
    corpus.mkdir()
    file = write(corpus, "set.ris", records)
    db = tmp_path / "e.db"
    monkeypatch.setattr(pipeline.ingest, "STREAM_BYTES", 100)  # read in pieces by the run
    monkeypatch.setattr(pipeline.ingest, "PIECE_DOCUMENTS", 10)
    with monkeypatch.context() as m:
        _rewrite_after_hashing(m, file, records.replace("Study 3", "Study three"))
        summary = ingest([corpus], db)
    assert summary.errors == [("corpus/set.ris", "changed while it was read; the next run reads it again")]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM document").fetchone() == (0,)  # rolled back whole
    summary = refresh(None, db)
    assert not summary.errors and summary.files_new == 1
    assert _stored(db, "corpus/set.ris")[0] == hashlib.sha256(file.read_bytes()).hexdigest()


def _folder_of(count_files: int) -> Path:
    corpus = Path("corpus")
    corpus.mkdir()
    for i in range(count_files):
        write(corpus, f"f{i:02}.txt", f"Note {i}\nThe ORR was {i + 10}%.\n")
    return corpus


def _withdrawn(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM source_file WHERE withdrawn_run IS NOT NULL").fetchone()[0]


def test_a_folder_that_looks_empty_withdraws_nothing_and_fails_the_run(tmp_path, fake_extractor, monkeypatch):
    from typer.testing import CliRunner
    from pipeline.cli import app

    monkeypatch.chdir(tmp_path)
    corpus = _folder_of(30)
    db = tmp_path / "e.db"
    ingest([corpus], db)
    for file in corpus.iterdir():  # an unmounted share leaves its empty mount point
        file.unlink()
    result = CliRunner().invoke(app, ["refresh", "--db", str(db), "--quiet"])
    assert result.exit_code == 1
    assert result.stderr.strip() == ("corpus: refused to withdraw 30 of its 30 files at once (gone from the folder: "
                                     "unmounted, emptied, or moved?); nothing withdrawn; --allow-mass-withdrawal to withdraw them")
    assert _withdrawn(db) == 0
    result = CliRunner().invoke(app, ["refresh", "--db", str(db), "--quiet", "--allow-mass-withdrawal"])
    assert result.exit_code == 0 and _withdrawn(db) == 30


@pytest.mark.parametrize("deleted, withdrawn", [(6, 6), (10, 10), (11, 0)])
def test_a_refresh_withdraws_a_fifth_of_a_folder_at_most_when_that_is_more_than_ten_files(
        tmp_path, fake_extractor, monkeypatch, deleted, withdrawn):
    monkeypatch.chdir(tmp_path)
    corpus = _folder_of(40)  # 11 of 40 is over a fifth, and more than ten files
    db = tmp_path / "e.db"
    ingest([corpus], db)
    for file in sorted(corpus.iterdir())[:deleted]:
        file.unlink()
    summary = refresh(None, db)
    assert summary.files_withdrawn == withdrawn == _withdrawn(db)
    assert [path for path, _reason in summary.errors] == ([] if withdrawn else ["corpus"])


# ----------------------------------------------------------------------------- real processes


def _evx(cwd: Path, *args: str, env: dict[str, str] | None = None, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline", *args], cwd=cwd, env=env or evx_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


# With no limit on sentences naming an endpoint, "ORR 10%." a few hundred thousand times is slow.
SLOW_ENV = {**evx_env(), "EVX_MAX_FIGURE_SENTENCES": "0"}


def _slow_corpus(folder: Path, shared_corpus: Path) -> None:
    """Ten abstracts, then a document whose analysis takes tens of seconds (4 MB of figures,
    with SLOW_ENV)."""
    copy_abstracts(shared_corpus, folder, 0, 10)
    (folder / "zz-slow.txt").write_text("ORR 10%. " * 450_000, encoding="utf-8")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_while_a_slow_document_is_analysed_stops_the_run_within_5_s(shared_corpus, tmp_path, workers):
    _slow_corpus(tmp_path / "corpus", shared_corpus)
    log = tmp_path / "run.log"
    proc = _evx(tmp_path, "ingest", "corpus", "--db", "e.db", "--workers", workers, "--time-limit", "0", "--quiet",
                "--log", "run.log", env=SLOW_ENV)
    try:
        deadline = time.monotonic() + 120
        # The ten abstracts are stored (logged after their commit): the slow one is in hand.
        while log.read_text().count(": new ") < 10 if log.exists() else True:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.1)
        time.sleep(0.5)
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
        stopped_after = time.monotonic() - began
    finally:
        proc.kill()
    time.sleep(0.5)
    assert not [pid for pid in children if process_alive(int(pid))]  # the worker on the slow file was stopped too
    assert proc.returncode == 128 + signal.SIGTERM
    assert err.splitlines() == ["evx: ingest interrupted by SIGTERM; files stored so far are kept, the next run does the rest"]
    assert stopped_after < 5, stopped_after
    with sqlite3.connect(tmp_path / "e.db") as conn:
        assert conn.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
        assert conn.execute("SELECT count(*) FROM source_file").fetchone() == (10,)  # the slow one abandoned




# ----------------------------------------------------------------------------- exit codes

def _run_to_end(cwd: Path, *args: str, preexec_fn=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, env=evx_env(), capture_output=True, text=True,
                          timeout=300, preexec_fn=preexec_fn)


def _small_disk() -> None:
    """In the child: files may not grow past 1.5 MB, as on a full disk (writes fail, no signal)."""
    import resource
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1_500_000, 1_500_000))


def test_a_full_disk_stops_the_run_with_one_line_and_exit_2_and_the_next_run_completes(shared_corpus, tmp_path):
    files = copy_abstracts(shared_corpus, tmp_path / "corpus", 0, 150)
    full = _run_to_end(tmp_path, "ingest", "corpus", "--db", "e.db", "--workers", "1", "--log", "run.log",
                       preexec_fn=_small_disk)
    assert full.returncode == 2, full.stderr
    assert len(full.stderr.splitlines()) == 1 and full.stderr.startswith("evx: cannot "), full.stderr
    assert "Traceback" not in full.stderr and "e.db" in full.stderr
    with sqlite3.connect(tmp_path / "e.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = conn.execute("SELECT count(*) FROM source_file").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM ingest_error").fetchone() == (0,)  # not blamed on the files
    assert 0 < stored < len(files)  # it did stop part way
    done = _run_to_end(tmp_path, "refresh", "--db", "e.db", "--quiet")
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "e.db") as conn:
        assert conn.execute("SELECT count(*) FROM source_file").fetchone() == (len(files),)


@pytest.mark.parametrize("db, reason", [
    ("notes.txt/e.db", "cannot create notes.txt/e.db.lock (notes.txt is not a folder)"),  # --db inside a regular file
    ("/proc/e.db", "cannot create /proc/e.db.lock"),  # a place no one may write, even root
])
def test_a_lock_that_cannot_be_made_is_exit_2_with_one_line(tmp_path, db, reason):
    (tmp_path / "notes.txt").write_text("not a folder\n")
    write(tmp_path / "corpus", "a.txt", A) if (tmp_path / "corpus").mkdir() is None else None
    result = _run_to_end(tmp_path, "ingest", "corpus", "--db", db, "--quiet")
    assert result.returncode == 2
    assert result.stderr.startswith("evx: cannot lock the database: " + reason) and len(result.stderr.splitlines()) == 1


def test_an_outside_writer_holding_the_database_is_busy_exit_3(tmp_path, fake_extractor, monkeypatch):
    from typer.testing import CliRunner
    import pipeline.store.db
    from pipeline.cli import app

    monkeypatch.chdir(tmp_path)
    corpus = _folder_of(3)
    ingest([corpus], tmp_path / "e.db")
    write(corpus, "new.txt", "New\nThe ORR was 20%.\n")
    monkeypatch.setattr(pipeline.store.db, "BUSY_TIMEOUT_MS", 200)  # instead of waiting 30 s
    outside = sqlite3.connect(tmp_path / "e.db", isolation_level=None)
    outside.execute("BEGIN IMMEDIATE")  # another program's write transaction, not an evx run
    try:
        result = CliRunner().invoke(app, ["refresh", "--db", "e.db", "--quiet"])
    finally:
        outside.execute("ROLLBACK")
        outside.close()
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("evx: e.db is locked by another program writing to it")
    assert len(result.stderr.splitlines()) == 1
    assert CliRunner().invoke(app, ["refresh", "--db", "e.db", "--quiet"]).exit_code == 0  # once it is gone


def test_an_unexpected_error_is_one_line_exit_2_and_its_traceback_goes_to_the_log(tmp_path, fake_extractor, monkeypatch):
    from typer.testing import CliRunner
    import pipeline.ingest as ingest_module
    from pipeline.cli import app

    monkeypatch.chdir(tmp_path)
    _folder_of(2)

    def broken_scan(self, roots):
        raise ZeroDivisionError("a bug in the scan")

    monkeypatch.setattr(ingest_module._Job, "scan", broken_scan)
    result = CliRunner().invoke(app, ["ingest", "corpus", "--db", "e.db", "--quiet", "--log", "run.log"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "evx: ingest stopped by an unexpected error: unexpected ZeroDivisionError: a bug in the scan (traceback in run.log)"]
    log = Path("run.log").read_text()
    assert "Traceback" in log and "broken_scan" in log
    with sqlite3.connect("e.db") as conn:
        assert conn.execute("SELECT status FROM runs").fetchall() == [("aborted",)]


def _pool_workers(pid: int) -> list[int]:
    """The run's worker processes (its children, but multiprocessing's resource tracker)."""
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    workers = []
    for child in children:
        try:
            with open(f"/proc/{child}/cmdline", "rb") as fh:
                if b"resource_tracker" not in fh.read():
                    workers.append(int(child))
        except FileNotFoundError:
            pass
    return workers


def test_a_worker_killed_mid_run_loses_no_file_and_the_run_keeps_its_speed(shared_corpus, tmp_path):
    files = copy_abstracts(shared_corpus, tmp_path / "corpus", 0, 400)
    began = time.monotonic()
    undisturbed = _run_to_end(tmp_path, "ingest", "corpus", "--db", "calm.db", "--workers", "2", "--quiet")
    undisturbed_s = time.monotonic() - began
    assert undisturbed.returncode == 0, undisturbed.stderr

    began = time.monotonic()
    proc = _evx(tmp_path, "ingest", "corpus", "--db", "e.db", "--workers", "2", "--quiet", "--log", "run.log")
    try:
        log = tmp_path / "run.log"
        while not log.exists() or log.read_text().count(": new ") < 40:  # well into the run
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        victims = _pool_workers(proc.pid)
        assert len(victims) == 2
        os.kill(victims[0], signal.SIGKILL)  # as the OOM killer would
        _out, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    disturbed_s = time.monotonic() - began
    assert proc.returncode == 0 and err == ""
    with sqlite3.connect(tmp_path / "e.db") as conn, sqlite3.connect(tmp_path / "calm.db") as calm:
        assert conn.execute("SELECT count(*) FROM ingest_error").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM source_file").fetchone() == (len(files),)
        same = "SELECT key FROM outcome ORDER BY key"
        assert conn.execute(same).fetchall() == calm.execute(same).fetchall()
    assert disturbed_s <= 2 * undisturbed_s, (disturbed_s, undisturbed_s)
