"""The commands that read the database -- query, export, status, check -- in unattended runs:
a result of millions of rows is written in flat memory, a closed pipe or Ctrl-C mid-stream ends
quietly, a damaged database is one line and exit code 2 (never a traceback), and a database in
a read-only folder reads as it did when writable.

The databases are made with `evx ingest` (the stand-in extractor of conftest.py) over text
files written here."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.store import StoreError, check_store, connect_readonly

from conftest import write

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
runner = CliRunner()


def rows_sql(n: int) -> str:
    return (f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < {n}) "
            "SELECT x, 'some text ' || x FROM c")


def evx(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: {result.exception}")  # a traceback
    return result.exit_code, result.stdout, result.stderr


def evx_process(*args: str, **options) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline", *args], env=ENV, stderr=subprocess.PIPE, text=True, **options)


def make_db(folder: Path) -> Path:
    corpus = folder / "corpus"
    corpus.mkdir(parents=True)
    write(corpus, "a.txt", "Lapatinib note\nIn HERACLES-A the ORR was 30%.\n")
    write(corpus, "b.txt", "Other note\nThe ORR of 45% held, with a comma, in SUMMIT-1.\n")
    db = folder / "evidence.db"
    code, out, err = evx("ingest", str(corpus), "--db", str(db), "--quiet")
    assert code == 0, err
    assert not Path(f"{db}-wal").exists()  # the log is folded in at the last close: the file is everything
    return db


@pytest.fixture
def db(tmp_path: Path, fake_extractor: None) -> Path:
    return make_db(tmp_path)


# ----------------------------------------------------------------------------- streaming rows


def peak_rss_mb(args: list[str], out: Path) -> float:
    """Peak resident memory of `evx *args` (stdout to ``out``), in MB, measured by a fresh
    Python parent whose only child it is."""
    probe = ("import resource, subprocess, sys\n"
             "with open(sys.argv[1], 'wb') as out:\n"
             "    code = subprocess.run([sys.executable, '-m', 'pipeline', *sys.argv[2:]], stdout=out).returncode\n"
             "assert code == 0, code\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n")
    run = subprocess.run([sys.executable, "-c", probe, str(out), *args], env=ENV, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return float(run.stdout)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_million_rows_stream_in_flat_memory(db: Path, tmp_path: Path, fmt: str) -> None:
    """Before, the rows were all fetched, then written: 1M rows took ~170 MB more than one row
    (10M: 1.7 GB). Now they are written as they are read."""
    base = peak_rss_mb(["query", "SELECT 1", "--db", str(db), "--format", fmt], tmp_path / "one.out")
    out = tmp_path / "million.out"
    peak = peak_rss_mb(["query", rows_sql(1_000_000), "--db", str(db), "--format", fmt, "--timeout", "0"], out)
    assert peak - base < 40, (base, peak)
    with out.open(encoding="utf-8") as lines:
        n, last = 0, ""
        for n, last in enumerate(lines, 1):
            pass
    if fmt == "csv":
        assert n == 1 + 1_000_000 and last == "1000000,some text 1000000\n"
    else:
        assert n == 1_000_000 and json.loads(last) == {"x": 1_000_000, "'some text ' || x": "some text 1000000"}


def test_json_is_written_a_row_at_a_time_and_stays_one_document(db: Path) -> None:
    code, out, err = evx("query", rows_sql(2500), "--db", str(db), "--format", "json")
    assert code == 0 and err == ""
    assert json.loads(out) == [{"x": i, "'some text ' || x": f"some text {i}"} for i in range(1, 2501)]
    code, out, err = evx("query", rows_sql(2500), "--db", str(db), "--format", "json", "--limit", "2")
    assert json.loads(out) == [{"x": 1, "'some text ' || x": "some text 1"}, {"x": 2, "'some text ' || x": "some text 2"}]
    assert err.splitlines() == ["evx: showing the first 2 rows; --limit 0 shows all"]
    code, out, err = evx("query", "SELECT 1 AS x WHERE 0", "--db", str(db), "--format", "json")
    assert (code, out, err) == (0, "[]\n", "")


def test_a_closed_pipe_ends_the_query_quietly(db: Path) -> None:
    """`evx query ... | head`: exit code 141 (as shells report a process a closed pipe ends),
    nothing on stderr -- no BrokenPipeError traceback."""
    proc = evx_process("query", rows_sql(10_000_000), "--db", str(db), "--format", "csv", "--timeout", "0",
                       stdout=subprocess.PIPE)
    try:
        head = [proc.stdout.readline() for _ in range(3)]
        proc.stdout.close()  # what head does after its lines
        err = proc.stderr.read()
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert head == ["x,'some text ' || x\n", "1,some text 1\n", "2,some text 2\n"]
    assert proc.returncode == 141 and err == ""


def test_ctrl_c_stops_a_query_while_its_rows_are_written(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    with out.open("wb") as sink:
        proc = evx_process("query", rows_sql(100_000_000), "--db", str(db), "--format", "csv", "--timeout", "0",
                           stdout=sink)
        try:
            deadline = time.monotonic() + 30
            while out.stat().st_size < 1_000_000 and time.monotonic() < deadline:  # rows are flowing
                time.sleep(0.1)
            proc.send_signal(signal.SIGINT)
            err = proc.communicate(timeout=30)[1]
        finally:
            proc.kill()
    assert proc.returncode == 130 and err.splitlines() == ["evx: query interrupted"]
    assert out.stat().st_size >= 1_000_000  # it was stopped mid-stream, not before


def test_the_time_limit_covers_writing_the_rows(db: Path) -> None:
    started = time.monotonic()
    code, out, err = evx("query", rows_sql(100_000_000), "--db", str(db), "--format", "csv", "--timeout", "1")
    assert time.monotonic() - started < 10
    assert code == 2 and err.splitlines() == ["evx: query stopped after 1 s, its time limit (--timeout allows more)"]
    assert out.startswith("x,'some text ' || x\n1,some text 1\n")  # the rows until then stay written


# ----------------------------------------------------------------------------- damaged databases


def scribble(db: Path, table: str) -> None:
    """Overwrite the root page of ``table`` (a table or an index) with junk, as a disk or a
    copy gone wrong would."""
    with sqlite3.connect(db) as conn:
        [(root,)] = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchall()
        [(page_size,)] = conn.execute("PRAGMA page_size").fetchall()
        [(pages,)] = conn.execute("PRAGMA page_count").fetchall()
    conn.close()
    assert 1 < root < pages  # a page in the middle of the file, not its header
    with db.open("r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(bytes(range(7, 256, 3)) * (page_size // 83 + 1))


def test_check_says_ok_on_a_sound_database(db: Path) -> None:
    assert check_store(db) == []
    assert evx("check", "--db", str(db)) == (0, "ok\n", "")


@pytest.mark.parametrize("table", ["document", "sentence", "ix_outcome_key"])
def test_check_finds_a_damaged_page(db: Path, table: str) -> None:
    scribble(db, table)
    problems = check_store(db)
    assert problems
    code, out, err = evx("check", "--db", str(db))
    assert code == 2 and out == ""
    [line] = err.splitlines()
    assert line.startswith(f"evx: database {db} is damaged: ")
    assert line.endswith("; restore it from a backup or rebuild it with evx ingest")


@pytest.mark.parametrize("command", [
    ["export"], ["export", "--format", "csv"], ["status"], ["status", "--format", "json"],
    ["query", "SELECT path, title FROM document"], ["query", "SELECT * FROM outcome_evidence", "--format", "jsonl"],
])
def test_read_commands_on_a_damaged_database_say_so_in_one_line(db: Path, command: list[str]) -> None:
    scribble(db, "document")  # every one of these reads the documents
    code, out, err = evx(*command, "--db", str(db))
    assert code == 2
    [line] = err.splitlines()
    assert line.startswith(f"evx: database {db} is damaged: database disk image is malformed; restore it")


def test_check_on_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    junk = write(tmp_path, "junk.db", "this is not SQLite" * 300)
    code, out, err = evx("check", "--db", str(junk))
    assert code == 2 and err.splitlines() == [f"evx: database {junk} is damaged: file is not a database; "
                                              "restore it from a backup or rebuild it with evx ingest"]
    assert evx("check", "--db", str(tmp_path / "none.db"))[0] == 2


def test_check_finds_rows_pointing_at_missing_rows(db: Path) -> None:
    with sqlite3.connect(db) as conn:  # foreign keys are off here, as in any tool but evx
        conn.execute("DELETE FROM document WHERE path LIKE '%a.txt'")
    conn.close()
    problems = check_store(db)
    assert problems and all("points at a missing document row" in p for p in problems)
    assert check_store(db, foreign_keys=False) == []
    code, _, err = evx("check", "--db", str(db))
    assert code == 2 and "points at a missing document row (and " in err
    assert evx("check", "--db", str(db), "--no-foreign-keys")[0] == 0


# ----------------------------------------------------------------------------- read-only snapshots


COMMANDS = {
    "query": ["query", "SELECT path, title FROM document ORDER BY path", "--format", "json"],
    "export": ["export", "--format", "jsonl"],
    "status": ["status", "--format", "json"],
    "check": ["check"],
}


def _without_root_powers() -> list[str]:
    """The command prefix that makes a root process mind file permissions (the capabilities to
    override them dropped), so the test checks the same thing as root and as anyone else."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root, and no setpriv to drop the power to write anywhere")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def run_readers(db: Path) -> dict[str, tuple[int, str, str]]:
    """Each read command on ``db``, as a process bound by the file permissions."""
    results = {}
    for name, args in COMMANDS.items():
        run = subprocess.run([*_without_root_powers(), sys.executable, "-m", "pipeline", *args, "--db", str(db)],
                             env=ENV, capture_output=True, text=True, timeout=120)
        results[name] = (run.returncode, run.stdout, run.stderr)
    return results


def test_a_database_in_a_read_only_folder_reads_as_before(tmp_path: Path, fake_extractor: None) -> None:
    """The folder (0o555) and the file (0o444) cannot be written, so SQLite cannot make the
    -shm file its write-ahead log needs; before, every read command failed there ("attempt to
    write a readonly database"). Now they open it immutable and give what they gave while it
    was writable."""
    db = make_db(tmp_path / "snapshot")
    writable = run_readers(db)
    assert all(code == 0 for code, _, _ in writable.values()), writable
    # Read-only connections cannot fold the log in at their close: they leave it, empty.
    assert db.with_name("evidence.db-wal").stat().st_size == 0
    for name in ("evidence.db-wal", "evidence.db-shm"):
        db.with_name(name).unlink()  # a copy of the file alone, as a snapshot is
    before = sorted(os.listdir(db.parent))
    db.chmod(0o444)
    db.parent.chmod(0o555)
    try:
        read_only = run_readers(db)
    finally:
        db.parent.chmod(0o755)
    assert read_only == writable
    assert json.loads(writable["status"][1])["documents"] == 2
    assert sorted(os.listdir(db.parent)) == before  # nothing written (it could not be)


def test_a_read_only_folder_whose_log_holds_changes_is_refused(tmp_path: Path, fake_extractor: None) -> None:
    """immutable=1 ignores the write-ahead log: with committed changes still in it, a read
    would show the database without them. That is refused, in one line."""
    source = make_db(tmp_path / "live")
    writer = sqlite3.connect(source)
    writer.execute("PRAGMA wal_autocheckpoint=0")  # the change stays in the log
    writer.execute("UPDATE document SET title = 'changed'")
    writer.commit()
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir(mode=0o755)
    for name in ("evidence.db", "evidence.db-wal"):  # a copy taken while a run was writing
        shutil.copy(source.with_name(name), snapshot / name)
        (snapshot / name).chmod(0o444)
    writer.close()
    snapshot.chmod(0o555)
    try:
        results = run_readers(snapshot / "evidence.db")
    finally:
        snapshot.chmod(0o755)
    for name, (code, out, err) in results.items():
        assert code == 2 and out == "", name
        assert err.splitlines() == [f"evx: cannot read {snapshot / 'evidence.db'}: its folder is read-only and its "
                                    "write-ahead log evidence.db-wal holds changes not yet in the database; "
                                    "copy both files to a writable folder"], name


def test_connect_readonly_refuses_a_missing_database(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no database at"):
        connect_readonly(tmp_path / "none.db")


def test_refresh_checks_the_database_first_and_writes_nothing_to_a_damaged_one(db: Path) -> None:
    scribble(db, "sentence")  # a page refresh itself would not read if the files are unchanged
    before = db.read_bytes()
    code, out, err = evx("refresh", "--db", str(db), "--quiet")
    assert code == 2 and out == ""
    [line] = err.splitlines()
    assert line.startswith(f"evx: database {db} is damaged: ") and "rebuild it with evx ingest" in line
    assert db.read_bytes() == before


def test_a_refresh_whose_lock_cannot_be_made_in_a_read_only_folder_is_exit_2_in_one_line(
        tmp_path: Path, fake_extractor: None) -> None:
    """A scheduled refresh pointed at a read-only copy: it cannot make its lock file, says so in
    one line and exits 2 (it exited 1 with a traceback, the code of "some files failed")."""
    db = make_db(tmp_path / "snapshot")
    lock = db.with_name("evidence.db.lock")
    lock.unlink()
    db.parent.chmod(0o555)
    try:
        run = subprocess.run([*_without_root_powers(), sys.executable, "-m", "pipeline", "refresh", "--db", str(db),
                              "--quiet"], env=ENV, capture_output=True, text=True, timeout=120)
    finally:
        db.parent.chmod(0o755)
    assert run.returncode == 2
    assert run.stderr.splitlines() == [f"evx: cannot lock the database: cannot create {lock} (permission denied)"]
