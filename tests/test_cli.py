"""The evx command line: help, exit codes, --db / EVX_DB, read-only query, status."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.store import SCHEMA_VERSION
from conftest import VERSION, count, write

runner = CliRunner()
COMMANDS = sorted(typer.main.get_command(app).commands)


def evx(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    write(folder, "a.txt", "Lapatinib note\nIn HERACLES-A the ORR was 30%.\n")
    write(folder, "b.txt", "Other note\nThe ORR of 45% held, with a comma, in SUMMIT-1.\n")
    return folder


@pytest.fixture
def db(tmp_path: Path, corpus: Path, fake_extractor: None) -> Path:
    path = tmp_path / "evidence.db"
    result = evx("ingest", str(corpus), "--db", str(path), "--quiet")
    assert result.exit_code == 0, result.output
    return path


def test_every_command_is_listed() -> None:
    assert COMMANDS == ["changes", "check", "eval", "export", "ingest", "plot", "query", "refresh", "report", "review", "runs",
                        "schema", "serve", "status"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = evx(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout and f"evx {command}" in result.stdout


def test_top_level_help_and_version() -> None:
    result = evx("--help")
    assert result.exit_code == 0 and "Exit codes" in result.stdout
    assert evx("--version").stdout.startswith("evx ")


def test_ingest_prints_a_summary_and_exits_0(tmp_path: Path, corpus: Path, fake_extractor: None) -> None:
    db = tmp_path / "out" / "e.db"
    result = evx("ingest", str(corpus), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert "documents: 2 read" in result.stdout
    assert "outcome 2" in result.stdout and "trial 2" in result.stdout
    again = evx("ingest", str(corpus), "--db", str(db), "--format", "json")
    assert again.exit_code == 0
    summary = json.loads(again.stdout)
    assert summary["files_skipped"] == 2 and summary["documents_read"] == 0 and summary["errors"] == []


def test_ingest_with_failing_files_exits_1_and_lists_them(tmp_path: Path, corpus: Path, fake_extractor: None) -> None:
    bad = write(corpus, "bad.txt", b"caf\xe9 au lait\n")
    crash = write(corpus, "crash.txt", "Title\nORR was 10% then CRASH.\n")
    db = tmp_path / "e.db"
    result = evx("ingest", str(corpus), "--db", str(db))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"{bad}: not UTF-8") for line in lines)
    assert f"{crash}: unexpected RuntimeError: extractor fell over" in lines
    assert "documents: 2 read" in result.stdout
    # --quiet (for cron): nothing on stdout, only the failures on stderr.
    quiet = evx("ingest", str(corpus), "--db", str(db), "--quiet")
    assert quiet.exit_code == 1 and quiet.stdout == ""
    assert sorted(quiet.stderr.splitlines()) == sorted(line for line in lines if line.startswith((str(bad), str(crash))))
    assert count(db, "ingest_error") == 2
    assert count(db, "outcome") == 2  # nothing of crash.txt


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert evx("ingest", str(tmp_path / "missing.txt"), "--db", str(tmp_path / "e.db")).exit_code == 2
    assert evx("query").exit_code == 2
    assert evx("export", "--format", "xml", "--db", str(tmp_path / "e.db")).exit_code == 2
    assert evx("frobnicate").exit_code == 2
    not_a_db = write(tmp_path, "junk.db", "this is not SQLite")
    result = evx("ingest", str(tmp_path / "missing.txt"), str(not_a_db))
    assert result.exit_code == 2
    for command in (["ingest", str(not_a_db)], ["status"], ["query", "SELECT * FROM document"]):
        result = evx(*command, "--db", str(not_a_db))
        assert result.exit_code == 2 and result.stderr.startswith("evx: "), command


def test_db_option_and_env_var(tmp_path: Path, corpus: Path, fake_extractor: None) -> None:
    env_db = tmp_path / "from-env.db"
    result = evx("ingest", str(corpus), "--quiet", env={"EVX_DB": str(env_db)})
    assert result.exit_code == 0 and env_db.is_file()
    status = evx("status", env={"EVX_DB": str(env_db)})
    assert status.exit_code == 0 and f"database: {env_db}" in status.stdout
    # --db wins over EVX_DB
    other = tmp_path / "other.db"
    evx("ingest", str(corpus / "a.txt"), "--db", str(other), "--quiet", env={"EVX_DB": str(env_db)})
    assert count(other, "document") == 1 and count(env_db, "document") == 2


def test_missing_database_is_one_clear_line(tmp_path: Path) -> None:
    for command in (["query", "SELECT 1"], ["status"], ["export"]):
        result = evx(*command, "--db", str(tmp_path / "nope.db"))
        assert result.exit_code == 2
        assert result.stderr.strip().splitlines() == [f"evx: no database at {tmp_path / 'nope.db'} "
                                                      "(run `evx ingest` first, or choose one with --db / EVX_DB)"]
    assert not (tmp_path / "nope.db").exists()


def test_status(db: Path) -> None:
    result = evx("status", "--db", str(db))
    assert result.exit_code == 0
    assert "documents: 2 (text 2)" in result.stdout and "errors: 0" in result.stdout
    assert f"extractor: {VERSION}" in result.stdout
    data = json.loads(evx("status", "--db", str(db), "--format", "json").stdout)
    assert data["records"]["outcome"] == 2 and data["documents_by_format"] == {"text": 2}


SQL = "SELECT document, endpoint, value, unit FROM outcome_evidence ORDER BY value"


def test_query_formats(db: Path) -> None:
    rows = [{"document": str(db.parent / "corpus" / name), "endpoint": "ORR", "value": value, "unit": "%"}
            for name, value in (("a.txt", 30.0), ("b.txt", 45.0))]
    as_json = evx("query", SQL, "--db", str(db), "--format", "json")
    assert as_json.exit_code == 0 and json.loads(as_json.stdout) == rows
    as_jsonl = evx("query", SQL, "--db", str(db), "--format", "jsonl")
    assert [json.loads(line) for line in as_jsonl.stdout.splitlines()] == rows
    as_csv = evx("query", SQL, "--db", str(db), "--format", "csv")
    parsed = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["endpoint"], r["value"]) for r in parsed] == [("ORR", "30.0"), ("ORR", "45.0")]
    table = evx("query", SQL, "--db", str(db)).stdout.splitlines()
    assert table[0].split() == ["document", "endpoint", "value", "unit"]
    assert set(table[1]) <= {"-", " "} and len(table) == 4


@pytest.mark.parametrize("sql", [
    "INSERT INTO trial (name) VALUES ('X')",
    "UPDATE outcome SET value = 99",
    "DELETE FROM document",
    "DROP TABLE outcome",
    "CREATE TABLE t (x)",
    "ATTACH DATABASE ':memory:' AS other",
    "PRAGMA user_version=5",
    "PRAGMA journal_mode=WAL",
])
def test_query_refuses_writes(db: Path, sql: str) -> None:
    before = (count(db, "outcome"), count(db, "document"))
    result = evx("query", sql, "--db", str(db))
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("evx: refused:") and "only reads" in line
    assert (count(db, "outcome"), count(db, "document")) == before
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # evx databases use the WAL; unchanged


def test_query_allows_reading_pragmas_and_reports_bad_sql(db: Path) -> None:
    result = evx("query", "PRAGMA table_info(outcome)", "--db", str(db), "--format", "json")
    assert result.exit_code == 0 and "endpoint" in {c["name"] for c in json.loads(result.stdout)}
    bad = evx("query", "SELEC 1", "--db", str(db))
    assert bad.exit_code == 2 and bad.stderr.startswith("evx: SQL error:")
