"""One output convention (pipeline.output): every command that prints data takes the same
--format values and --out FILE, and each format has its shape: csv parses with the expected
header, json is one document, jsonl one object a line, a table cuts nothing. Lists are JSON
arrays in json and jsonl, joined by " + " in csv; outcomes carry their CI level.

The database is made with `evx ingest` (the stand-in extractor of conftest.py) over text files
written here."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pipeline.changes import COLUMNS as CHANGE_COLUMNS
from pipeline.cli import app
from pipeline.export import export_columns
from pipeline.output import LIST_DELIMITER, MAX_PLAIN_WIDTH
from pipeline.store import load_document, open_store
from pipeline.store.models import OutcomeExport, ci_level

from conftest import VERSION, sample, write

runner = CliRunner()
CLI = typer.main.get_command(app)

# A sentence and a reviewer's comment far longer than any table column: each must show in full.
LONG = " ".join(f"w{i:02d}" for i in range(1, 61))
COMMENT = " ".join(f"c{i:02d}" for i in range(1, 41))
RUN_COLUMNS = ["id", "command", "started", "finished", "status", "extractor_version", "files_new", "files_changed",
               "files_reextracted", "files_restored", "files_withdrawn", "files_unchanged", "files_failed",
               "records_added", "records_removed", "records_changed", "note"]
CURATION_COLUMNS = ["curation_id", "key", "type", "status", "corrected_value", "comment", "reviewer", "document",
                    "record_id", "orphaned_run", "updated_at"]


def evx(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: {result.exception}")
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def world(tmp_path: Path, fake_extractor: None) -> dict[str, Path]:
    """A database of two ingested text files (one with a very long sentence), one later
    refresh, a curation with a long comment, a gold folder and an export to score."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write(corpus, "a.txt", f"Lapatinib note\nIn HERACLES-A the ORR was 30% and then {LONG}.\n")
    write(corpus, "b.txt", "Other note\nThe ORR of 45% held, with a comma, in SUMMIT-1.\n")
    db = tmp_path / "evidence.db"
    assert evx("ingest", str(corpus), "--db", str(db), "--quiet")[0] == 0
    write(corpus, "c.txt", "Third note\nORR was 12% in DESTINY-CRC01.\n")
    write(corpus, "bad.txt", b"caf\xe9 au lait\n")  # fails in every run: run 2 has a failure to list
    assert evx("refresh", "--db", str(db), "--quiet")[0] == 1
    code, _, err = evx("review", "accept", "outcome:1", "--db", str(db), "-m", COMMENT, "--reviewer", "bo")
    assert code == 0, err
    gold = tmp_path / "gold"
    gold.mkdir()
    (gold / "a.json").write_text(json.dumps({"doc": "a.txt", "outcomes": [{"endpoint": "ORR", "value": 31}],
                                             "trials": [{"name": "HERACLES-B"}]}), encoding="utf-8")
    pred = tmp_path / "pred.jsonl"
    assert evx("export", "--db", str(db), "--out", str(pred))[0] == 0
    return {"corpus": corpus, "db": db, "gold": gold, "pred": pred}


# Every command that prints data: its arguments (placeholders filled from ``world``), and the
# csv header it must have (None: it prints one result, no csv).
SQL = "SELECT outcome_id, document, drugs, value, sentence FROM outcome_evidence ORDER BY outcome_id"
COMMANDS: dict[str, tuple[list[str], list[str] | None]] = {
    "ingest": (["ingest", "{corpus}", "--db", "{db}"], None),
    "refresh": (["refresh", "--db", "{db}"], None),
    "query": (["query", SQL, "--db", "{db}"], ["outcome_id", "document", "drugs", "value", "sentence"]),
    "export": (["export", "--db", "{db}"], export_columns()),
    "status": (["status", "--db", "{db}"], None),
    "runs": (["runs", "--db", "{db}"], RUN_COLUMNS),
    "runs --failures": (["runs", "--failures", "2", "--db", "{db}"], ["path", "reason"]),
    "changes": (["changes", "--since", "0", "--db", "{db}"], CHANGE_COLUMNS),
    "review list": (["review", "list", "--db", "{db}"], CURATION_COLUMNS),
    "eval": (["eval", "--gold", "{gold}", "--pred", "{pred}"], None),
    "schema": (["schema"], None),
    "schema --tables": (["schema", "--tables"], ["name", "kind", "columns"]),
    "check": (["check", "--db", "{db}"], None),
}


def command_of(args: list[str]):
    command = CLI
    for word in args:
        if not hasattr(command, "commands") or word not in command.commands:  # typer has its own click
            break
        command = command.commands[word]
    return command


def accepted_formats(args: list[str]) -> list[str]:
    """The --format values the command itself offers (the choices Typer took from its Enum)."""
    [option] = [p for p in command_of(args).params if "--format" in getattr(p, "opts", [])]
    return [choice.value for choice in option.type_descriptor.choices]


CASES = [(name, fmt) for name, (args, _) in COMMANDS.items() for fmt in accepted_formats(args)
         # The JSON Schema is json only (asserted below); its --tables list takes them all.
         if not (name == "schema" and fmt != "json")
         and fmt != "xlsx"]  # a binary file, to --out only: tests/test_export_xlsx.py


def test_every_command_that_prints_data_has_format_and_out() -> None:
    printing = {name for name, (args, _) in COMMANDS.items()}
    leaves = {" ".join(path) for path in _leaves(CLI, [])}
    quiet = {"review accept", "review reject", "review correct"}  # they print one confirmation line
    quiet |= {"report", "plot", "serve"}  # they write folders of pages or plots, or run a server: no data printed
    assert leaves - quiet <= {name.split(" --")[0] for name in printing}, "a new command: add it to COMMANDS"
    for path in leaves - quiet:
        options = {o for p in command_of(path.split()).params for o in getattr(p, "opts", [])}
        assert {"--format", "--out", "-o"} <= options, path
        assert set(accepted_formats(path.split())) <= {"table", "csv", "json", "jsonl", "markdown", "xlsx"}


def _leaves(command, path: list[str]):
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _leaves(sub, [*path, name])
    else:
        yield path


def check_shape(text: str, fmt: str, header: list[str] | None, name: str) -> None:
    assert text, f"{name} printed nothing"
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == header
        assert all(len(row) == len(header) for row in rows[1:])
    elif fmt == "json":
        data = json.loads(text)  # one document, or this raises
        if header is not None:
            assert isinstance(data, list) and all(isinstance(row, dict) for row in data)
            assert all(set(row) <= set(header) | {"before", "after"} for row in data)
    elif fmt == "jsonl":
        lines = text.splitlines()
        assert lines and all(isinstance(json.loads(line), dict) for line in lines)
    elif fmt == "table":
        assert "…" not in text and "..." not in text.replace("... and ", "")  # nothing cut
        assert all(line == line.rstrip() for line in text.splitlines())  # plain: no trailing blanks
    elif fmt == "markdown":
        assert text.startswith("# ")


@pytest.mark.parametrize("name,fmt", CASES, ids=[f"{n}-{f}" for n, f in CASES])
def test_every_format_of_every_command_has_its_shape(world: dict[str, Path], tmp_path: Path, name: str, fmt: str) -> None:
    args, header = COMMANDS[name]
    args = [a.format(**world) for a in args] + ["--format", fmt]
    ok = (0, 1) if name in ("ingest", "refresh") else (0,)  # bad.txt fails again: exit code 1
    code, out, err = evx(*args)
    assert code in ok, err
    check_shape(out, fmt, header, name)
    # The same with --out: nothing on stdout, the file holds it.
    target = tmp_path / "out" / f"{name.replace(' ', '_')}.{fmt}"
    target.parent.mkdir(exist_ok=True)
    code, out_with_file, err = evx(*args, "--out", str(target))
    assert code in ok, err
    assert out_with_file == ""
    written = target.read_text(encoding="utf-8")
    check_shape(written, fmt, header, name)
    if name not in ("ingest", "refresh", "eval"):  # those tell elapsed time or state that moved
        assert written == out
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary file left


def test_tables_show_long_cells_in_full(world: dict[str, Path]) -> None:
    for args, long in ((["query", SQL], LONG), (["review", "list"], COMMENT)):
        code, out, err = evx(*args, "--db", str(world["db"]))
        assert code == 0, err
        words = long.split()
        # Wrapped over lines of its column, every word is there, in order: none cut off.
        assert re.findall(r"\b[wc]\d\d\b", out) == words
        assert "…" not in out
        assert out.splitlines()[1].strip("- ") == ""  # header, then its rule
        # 120 columns, or more when the columns' longest words (a key, a date) need it.
        width = max(map(len, out.splitlines()))
        assert width <= 120 if args[0] == "query" else 120 < width <= MAX_PLAIN_WIDTH


def test_lists_are_json_arrays_in_json_and_joined_in_csv(tmp_path: Path) -> None:
    db = tmp_path / "hand.db"
    load_document(open_store(db, create=True), *sample(), sha256="a" * 64, extractor_version=VERSION)
    for fmt in ("json", "jsonl"):
        out = evx("export", "--db", str(db), "--type", "regimen,outcome", "--format", fmt)[1]
        records = json.loads(out) if fmt == "json" else [json.loads(line) for line in out.splitlines()]
        assert [r["drugs"] for r in records] == [["trastuzumab", "lapatinib"]] * 2
    rows = list(csv.DictReader(io.StringIO(evx("export", "--db", str(db), "--format", "csv")[1])))
    assert {r["drugs"] for r in rows if r["type"] in ("regimen", "outcome", "study", "arm")} == {"trastuzumab + lapatinib"}
    assert LIST_DELIMITER == " + "
    # The view joins drugs the same way.
    assert json.loads(evx("query", "SELECT drugs FROM outcome_evidence", "--db", str(db), "--format", "json")[1]) == [
        {"drugs": "trastuzumab + lapatinib"}]


def test_changes_in_json_carry_the_fields_before_and_after(world: dict[str, Path]) -> None:
    changes = json.loads(evx("changes", "--since", "0", "--db", str(world["db"]), "--format", "json")[1])
    outcome = next(c for c in changes if c["type"] == "outcome" and c["document"].endswith("c.txt"))
    assert outcome["before"] is None and outcome["after"]["value"] == 12.0 and outcome["change"] == "added"
    assert list(outcome) == [*CHANGE_COLUMNS, "before", "after"]


@pytest.mark.parametrize("text,level", [
    ("95% CI 14-50", 95.0), ("90 % confidence interval, 1.2-3.4", 90.0), ("95%CrI 1-3", 95.0),
    ("97.5 percent C.I. 1-2", 97.5), ("14-50", None), (None, None), ("95·0% CI 1–2", 95.0),
])
def test_ci_level_is_read_from_the_ci_text(text: str | None, level: float | None) -> None:
    assert ci_level(text) == level


def test_an_exported_outcome_has_its_ci_level(tmp_path: Path) -> None:
    doc, analysis = sample()
    outcome = next(r for r in analysis.records if r.type == "outcome")
    outcome.ci_text = "95% CI 14-50"
    db = tmp_path / "hand.db"
    load_document(open_store(db, create=True), doc, analysis, sha256="a" * 64, extractor_version=VERSION)
    [record] = [json.loads(line) for line in evx("export", "--db", str(db), "--type", "outcome")[1].splitlines()]
    assert record["ci_level"] == 95.0 and record["ci_text"] == "95% CI 14-50"
    [row] = csv.DictReader(io.StringIO(evx("export", "--db", str(db), "--type", "outcome", "--format", "csv")[1]))
    assert row["ci_level"] == "95.0"
    assert OutcomeExport.model_validate({**record, "ci_level": None, "ci_text": "90% CI 1-2"}).ci_level == 90.0


# ----------------------------------------------------------------------------- --out failures


@pytest.mark.parametrize("args", [["query", "SELECT 1"], ["export"], ["status"], ["runs"], ["check"],
                                  ["schema", "--tables"], ["changes"]])
def test_an_out_file_that_cannot_be_written_is_one_line_and_exit_2(world: dict[str, Path], tmp_path: Path, args) -> None:
    target = tmp_path / "no such folder" / "x.out"
    code, out, err = evx(*args, "--db", str(world["db"]), "--out", str(target)) if args[0] != "schema" else evx(*args, "--out", str(target))
    assert code == 2 and out == ""
    assert err.splitlines() == [f"evx: cannot write {target}: No such file or directory"]


def test_ingest_checks_its_out_file_before_the_run(world: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "missing" / "summary.json"
    before = sqlite3.connect(world["db"]).execute("SELECT count(*) FROM runs").fetchone()[0]
    code, _, err = evx("ingest", str(world["corpus"]), "--db", str(world["db"]), "--out", str(target))
    assert code == 2 and err.splitlines() == [f"evx: cannot write {target}: No such file or directory"]
    assert sqlite3.connect(world["db"]).execute("SELECT count(*) FROM runs").fetchone()[0] == before  # nothing run


def test_a_failed_command_leaves_the_old_out_file(world: dict[str, Path], tmp_path: Path) -> None:
    target = write(tmp_path, "old.csv", "the old content\n")
    code, _, err = evx("query", "SELECT * FROM no_such_table", "--db", str(world["db"]), "--out", str(target))
    assert code == 2 and err.startswith("evx: SQL error")
    assert target.read_text() == "the old content\n" and [p.name for p in tmp_path.iterdir() if p.name.startswith(".old")] == []


def test_the_json_schema_is_json_only() -> None:
    code, _, err = evx("schema", "--format", "csv")
    assert code == 2 and "json only" in err


# ----------------------------------------------------------------------------- tables and views


def test_query_help_and_schema_tables_name_every_table_and_view(world: dict[str, Path]) -> None:
    with sqlite3.connect(world["db"]) as conn:
        names = conn.execute("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') "
                             "AND name NOT LIKE 'sqlite_%'").fetchall()
        columns = {name: [row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')] for name, _ in names}
    assert len(names) >= 18 and ("outcome_evidence", "view") in names
    listed = {row["name"]: row for row in json.loads(evx("schema", "--tables", "--format", "json")[1])}
    assert {(n, r["kind"]) for n, r in listed.items()} == set(names)
    assert {n: r["columns"] for n, r in listed.items()} == columns
    code, help_text, _ = evx("query", "--help")
    assert code == 0
    flat = " ".join(help_text.replace("│", " ").split())  # rich wraps the help into a box
    for name, _ in names:
        assert re.search(rf"\b{name}\b", flat), name
    # Each one's columns follow its name.
    for name in ("outcome_evidence", "table_cell", "runs"):
        assert ", ".join(columns[name][:4]) in flat
