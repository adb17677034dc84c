"""evx serve: Datasette on a test database, read-only, on a free port of 127.0.0.1; every canned
query answers as JSON with the rows SQLite gives; the server stops when evx is stopped."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

import report_world
from conftest import evx_env, process_alive
from pipeline.cli import app
from pipeline.serve import QUERIES, metadata

runner = CliRunner()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = report_world.build(tmp_path_factory.mktemp("serve") / "evidence.db", 8)
    with sqlite3.connect(path) as conn:  # a failed file and a HER2 definition for their queries
        conn.execute("INSERT INTO ingest_error (path, reason, at, failures) VALUES ('bad.pdf', 'not a PDF', '2026-01-01', 2)")
        conn.execute("INSERT INTO her2_criterion (document_id, key, page, start, \"end\", text, rule, confidence, needs_review, "
                     "extractor_version, method, result, threshold) SELECT max(id), 'k-her2', 1, 0, 5, 'IHC 3+', 'test', 1, 0, 'v', "
                     "'IHC', '3+', NULL FROM document WHERE withdrawn_run IS NULL AND duplicate_of IS NULL")
    return path


def test_metadata_describes_evx_tables_and_canned_queries(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "metadata.json"
    result = runner.invoke(app, ["serve", "--db", str(db), "--metadata-only", str(out)])
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    assert written == metadata(db)
    tables = written["databases"]["evidence"]["tables"]
    assert tables["outcome_evidence"]["facets"] == ["trial", "endpoint"] == tables["outcome"]["facets"]
    assert tables["outcome"]["description"] == "An efficacy figure."
    assert "as written" in tables["outcome"]["columns"]["value_text"]
    assert set(written["databases"]["evidence"]["queries"]) == {"orr_by_trial", "medians_with_ci",
                                                                "her2_definitions_by_document", "failed_files"}


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", "--db", str(tmp_path / "none.db"), "--metadata-only", str(tmp_path / "m.json")])
    assert result.exit_code == 2 and result.stderr.startswith("evx: no database") and len(result.stderr.splitlines()) == 1


def test_datasette_serves_the_canned_queries_read_only(db: Path) -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", "--db", str(db), "--port", str(port)],
                               env=evx_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert get(f"{base}/-/versions.json")[0] == 200
                break
            except OSError:
                assert process.poll() is None, process.stdout.read().decode()
                assert time.monotonic() < deadline, "datasette did not start in 30 s"
                time.sleep(0.2)
        conn = sqlite3.connect(db)
        conn.row_factory = sqlite3.Row
        for name, query in QUERIES.items():
            status, body = get(f"{base}/evidence/{name}.json?_shape=array")
            assert status == 200, name
            expected = [dict(row) for row in conn.execute(query["sql"])]
            assert json.loads(body) == expected and expected, name
        # immutable: a write through the SQL page is refused
        with pytest.raises(urllib.error.HTTPError):
            get(f"{base}/evidence.json?sql=" + urllib.parse.quote("DELETE FROM outcome"))
        assert conn.execute("SELECT count(*) FROM outcome").fetchone()[0] > 0
        conn.close()
        children = _children(process.pid)
        assert children  # Datasette runs in a process of its own
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    with pytest.raises(OSError):  # Datasette went with it
        get(f"{base}/-/versions.json")
    assert process.returncode == 143  # stopped by SIGTERM, as every evx command reports it
    assert not any(process_alive(p) for p in children)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []
