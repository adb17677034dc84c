"""Faults in ingest and refresh runs, with real `python -m pipeline` processes and the real
extractor: a run killed half way (SIGKILL or SIGTERM) leaves a consistent database that the next
run completes to exactly what one uninterrupted ingest gives; of two runs started at once one is
refused and does nothing; the lock does not outlive a killed holder.

Every process runs in the test's folder, so stored paths ("corpus/x.txt") are the same in every
database and databases built in different folders can be compared."""

from __future__ import annotations

import csv
import fcntl
import io
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.store import RECORD_KINDS
from conftest import copy_abstracts, evx_env

CORPUS_FILES = 300  # at ~50-150 files/s, a run killed after KILL_AFTER files still has seconds to go
KILL_AFTER = 20
WAIT = 120  # seconds: a bound on any one run, so a hang fails the test instead of blocking it
RECORD_TABLES = [kind.table.__tablename__ for kind in RECORD_KINDS.values()]
CHILD_TABLES = ["section", "sentence", "abbreviation", *RECORD_TABLES]  # rows that belong to a document
BUSY = "evx: another evx run is writing to"


# ----------------------------------------------------------------------------- processes


def evx(cwd: Path, *args: str, text: bool = True) -> subprocess.CompletedProcess:
    """Run `evx ARGS` to completion."""
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, env=evx_env(),
                          capture_output=True, text=text, timeout=WAIT, check=False)


@contextmanager
def running(cwd: Path, name: str, *args: str) -> Iterator[subprocess.Popen]:
    """Start `evx ARGS` in the background; stdout and stderr go to NAME.out and NAME.err in cwd
    (a pipe nobody reads could fill up and stall it). Killed on the way out if still running."""
    with open(cwd / f"{name}.out", "wb") as out, open(cwd / f"{name}.err", "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "pipeline", *args], cwd=cwd, env=evx_env(), stdout=out, stderr=err)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=WAIT)


def stderr_of(cwd: Path, name: str) -> str:
    return (cwd / f"{name}.err").read_text(encoding="utf-8")


def logged_new(log: Path) -> list[str]:
    """Files the run's log reports as stored (a line is written after the file's commit)."""
    text = log.read_text(encoding="utf-8") if log.exists() else ""
    return re.findall(r": new (\S+) \(", text)


def wait_for(proc: subprocess.Popen, ready: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Poll until ``ready()``; fail if the process exits first or the time runs out."""
    end = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            pytest.fail(f"evx exited with code {proc.returncode} before {what}: it could not be interrupted in time")
        if time.monotonic() > end:
            pytest.fail(f"no sign of {what} after {timeout} s")
        time.sleep(0.02)


def wait_for_stored(proc: subprocess.Popen, log: Path, files: int = KILL_AFTER) -> None:
    wait_for(proc, lambda: len(logged_new(log)) >= files, f"{files} files were stored")


def lock_is_held(lock: Path) -> bool:
    """Whether some process holds the run lock (an flock on <db>.lock)."""
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also releases our lock, if we got it
    return False


# ----------------------------------------------------------------------------- the database


def query(db: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql).fetchall()


def documents(db: Path) -> int:
    return query(db, "SELECT count(*) FROM document")[0][0]


def runs(db: Path) -> list[tuple[int, str, str]]:
    return query(db, "SELECT id, command, status FROM runs ORDER BY id")


def run_row(db: Path, run_id: int) -> dict:
    with closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone())


def per_document(db: Path) -> dict[str, tuple[int, ...]]:
    """Document path -> its number of rows in each child table: a document half loaded would
    show fewer than the same document loaded by an uninterrupted run."""
    counts = ", ".join(f"(SELECT count(*) FROM {t} WHERE {t}.document_id = d.id)" for t in CHILD_TABLES)
    return {path: tuple(rest) for path, *rest in query(db, f"SELECT d.path, {counts} FROM document d")}


def check_consistent(db: Path) -> None:
    """What a killed run must never leave behind: corruption, rows of a missing document, a
    document without its sentences, a source_file row that disagrees with its documents."""
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert query(db, "PRAGMA foreign_key_check") == []
    for table in CHILD_TABLES:
        orphans = query(db, f"SELECT count(*) FROM {table} WHERE document_id NOT IN (SELECT id FROM document)")[0][0]
        assert orphans == 0, f"{orphans} {table} rows point at a missing document"
    bare = query(db, "SELECT path FROM document d WHERE NOT EXISTS (SELECT 1 FROM sentence s WHERE s.document_id = d.id)")
    assert bare == [], f"documents without sentences: {bare[:5]}"
    disagree = query(db, """
        SELECT f.path, f.documents, (SELECT count(*) FROM document d WHERE d.file_path = f.path AND d.sha256 = f.sha256)
        FROM source_file f
        WHERE f.documents != (SELECT count(*) FROM document d WHERE d.file_path = f.path AND d.sha256 = f.sha256)""")
    assert disagree == [], f"source_file rows whose documents are not all stored: {disagree[:5]}"
    unlisted = query(db, "SELECT path FROM document WHERE file_path NOT IN (SELECT path FROM source_file)")
    assert unlisted == [], f"documents of no source_file: {unlisted[:5]}"


@dataclass(frozen=True)
class Outcome:
    """What a database holds, in the forms compared between databases."""

    export: bytes  # evx export --format jsonl
    changes: frozenset[tuple[str, str, str, str]]  # (change, type, document, key) of evx changes --since 0
    documents: frozenset[tuple[str, str]]  # (path, sha256)
    source_files: frozenset[tuple[str, str, int]]  # (path, sha256, documents)
    per_document: dict[str, tuple[int, ...]]


def outcome(cwd: Path, db: str) -> Outcome:
    export = evx(cwd, "export", "--db", db, "--format", "jsonl", text=False)  # bytes: compared byte for byte
    assert export.returncode == 0, export.stderr
    changes = evx(cwd, "changes", "--since", "0", "--db", db, "--format", "csv")
    assert changes.returncode == 0, changes.stderr
    rows = csv.DictReader(io.StringIO(changes.stdout))
    return Outcome(
        export=export.stdout,
        changes=frozenset((r["change"], r["type"], r["document"], r["key"]) for r in rows),
        documents=frozenset(query(cwd / db, "SELECT path, sha256 FROM document")),
        source_files=frozenset(query(cwd / db, "SELECT path, sha256, documents FROM source_file")),
        per_document=per_document(cwd / db),
    )


def assert_same(got: Outcome, want: Outcome) -> None:
    assert got.documents == want.documents
    assert got.source_files == want.source_files
    assert got.per_document == want.per_document
    assert got.changes == want.changes
    assert got.export == want.export, "evx export differs from the uninterrupted ingest's"


@pytest.fixture(scope="module")
def reference(shared_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    """b.db: one uninterrupted ingest of the corpus the interrupted runs use; built once."""
    where = tmp_path_factory.mktemp("reference")
    copy_abstracts(shared_corpus, where / "corpus", 0, CORPUS_FILES)
    result = evx(where, "ingest", "corpus", "--db", "b.db", "--quiet")
    assert result.returncode == 0, result.stderr
    assert runs(where / "b.db") == [(1, "ingest", "ok")]
    check_consistent(where / "b.db")
    ref = outcome(where, "b.db")
    assert len(ref.documents) == CORPUS_FILES and ref.export and ref.changes  # something to compare
    return ref


# ----------------------------------------------------------------------------- the tests


def test_sigkill_mid_batch_leaves_a_consistent_database_and_refresh_completes_it(
    shared_corpus: Path, reference: Outcome, tmp_path: Path
) -> None:
    files = copy_abstracts(shared_corpus, tmp_path / "corpus", 0, CORPUS_FILES)
    db, log = tmp_path / "a.db", tmp_path / "run.log"
    with running(tmp_path, "killed", "ingest", "corpus", "--db", "a.db", "--quiet", "--log", "run.log") as proc:
        wait_for_stored(proc, log)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=WAIT) == -signal.SIGKILL

    stored = documents(db)
    assert 0 < stored < len(files), f"{stored} of {len(files)} documents stored: the kill did not land mid-batch"
    missing = set(logged_new(log)) - {path for (path,) in query(db, "SELECT path FROM source_file")}
    assert not missing, f"files the log reported as stored are not in the database: {sorted(missing)[:5]}"
    check_consistent(db)
    for path, counts in per_document(db).items():  # every document stored is stored whole
        assert counts == reference.per_document[path], f"{path} is half loaded"
    assert runs(db) == [(1, "ingest", "running")]  # nobody could record the end of a SIGKILLed run

    result = evx(tmp_path, "refresh", "--db", "a.db", "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert runs(db) == [(1, "ingest", "interrupted"), (2, "refresh", "ok")]
    assert "noticed by run 2" in run_row(db, 1)["note"]
    second = run_row(db, 2)
    # The refresh did only what the killed run had not: the files it stored are unchanged.
    assert (second["files_unchanged"], second["files_new"]) == (stored, len(files) - stored)
    check_consistent(db)
    assert_same(outcome(tmp_path, "a.db"), reference)


def test_two_refreshes_at_once_one_is_refused_and_does_nothing(shared_corpus: Path, tmp_path: Path) -> None:
    copy_abstracts(shared_corpus, tmp_path / "corpus", 0, 5)
    first = evx(tmp_path, "ingest", "corpus", "--db", "a.db", "--quiet")
    assert first.returncode == 0, first.stderr
    db = tmp_path / "a.db"
    before = runs(db)
    # 150 new files: whoever gets the lock loads spaCy and works for several seconds, and the
    # lock is taken before spaCy loads, so the other one (started right after) finds it held.
    copy_abstracts(shared_corpus, tmp_path / "corpus", 5, 155)

    with running(tmp_path, "one", "refresh", "--db", "a.db", "--quiet") as one, \
            running(tmp_path, "two", "refresh", "--db", "a.db", "--quiet") as two:
        codes = {"one": one.wait(timeout=WAIT), "two": two.wait(timeout=WAIT)}

    assert sorted(codes.values()) == [0, 3], f"exit codes {codes}; stderr {stderr_of(tmp_path, 'one')!r} {stderr_of(tmp_path, 'two')!r}"
    winner, loser = sorted(codes, key=codes.get)
    assert stderr_of(tmp_path, winner) == ""
    refused = stderr_of(tmp_path, loser)
    assert refused.endswith("\n") and refused.count("\n") == 1, f"not one line: {refused!r}"
    assert refused.startswith(BUSY), refused
    assert (tmp_path / f"{loser}.out").read_bytes() == b""

    after = runs(db)
    assert after[:-1] == before and after[-1][1:] == ("refresh", "ok"), after  # one run more: the winner's
    assert run_row(db, after[-1][0])["files_new"] == 150
    assert documents(db) == 155
    check_consistent(db)


def test_lock_is_released_when_its_holder_is_killed(shared_corpus: Path, tmp_path: Path) -> None:
    copy_abstracts(shared_corpus, tmp_path / "corpus", 0, 30)
    db, log, lock = tmp_path / "a.db", tmp_path / "run.log", tmp_path / "a.db.lock"
    with running(tmp_path, "killed", "ingest", "corpus", "--db", "a.db", "--quiet", "--log", "run.log") as proc:
        # "started" is logged under the lock; checking the lock ourselves proves we kill its holder.
        wait_for(proc, lambda: log.exists() and "ingest started" in log.read_text(encoding="utf-8"), "the run started")
        assert lock_is_held(lock)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=WAIT) == -signal.SIGKILL

    # The kernel lets go of it: no stale lock to clean up. (A worker being spawned at the moment
    # of the kill holds a copy of the descriptor between its fork and exec, so allow an instant.)
    deadline = time.monotonic() + 5
    while lock_is_held(lock) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not lock_is_held(lock)
    # The path is given because the run may have died before it recorded its source folder.
    result = evx(tmp_path, "refresh", "corpus", "--db", "a.db", "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert runs(db) == [(1, "ingest", "interrupted"), (2, "refresh", "ok")]
    assert documents(db) == 30
    check_consistent(db)


def test_sigterm_stops_the_run_promptly_and_records_it_as_interrupted(
    shared_corpus: Path, reference: Outcome, tmp_path: Path
) -> None:
    files = copy_abstracts(shared_corpus, tmp_path / "corpus", 0, CORPUS_FILES)
    db, log = tmp_path / "a.db", tmp_path / "run.log"
    with running(tmp_path, "stopped", "ingest", "corpus", "--db", "a.db", "--quiet", "--log", "run.log") as proc:
        wait_for_stored(proc, log)
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail("evx did not stop within 10 s of SIGTERM")
    assert code == 128 + signal.SIGTERM, f"exit code {code}; stderr {stderr_of(tmp_path, 'stopped')!r}"

    stored = documents(db)
    assert 0 < stored < len(files), f"{stored} of {len(files)} documents stored: SIGTERM did not land mid-batch"
    check_consistent(db)
    assert runs(db) == [(1, "ingest", "interrupted")]  # recorded by the run itself, on its way out
    run = run_row(db, 1)
    assert run["finished"] is not None and run["note"].startswith("stopped: SystemExit"), run
    # Its counts show what it did (a file is counted before it is logged, after it is committed).
    assert len(logged_new(log)) <= run["files_new"] <= stored

    result = evx(tmp_path, "refresh", "--db", "a.db", "--quiet")
    assert result.returncode == 0, result.stderr
    assert runs(db) == [(1, "ingest", "interrupted"), (2, "refresh", "ok")]
    assert run_row(db, 1) == run  # the next run leaves the record of the stopped one alone
    assert documents(db) == len(files)
    check_consistent(db)
    assert_same(outcome(tmp_path, "a.db"), reference)
