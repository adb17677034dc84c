"""Large multi-record exports (RIS, MEDLINE, PubMed XML): read a record at a time, analysed and
stored in pieces, in one transaction per file. All the records are stored, memory does not grow
with the number of records, the result is the same as reading the file whole (inline or with
workers), and a record that breaks half way through fails the whole file, which keeps what it
had: never a part of it. The records are written here (``bench/large_exports.py`` makes the
same kind at 100,000)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline import ingest as ingest_module
from pipeline.cli import app

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()

DRUGS = ["trastuzumab", "lapatinib", "tucatinib", "pertuzumab", "cetuximab", "irinotecan", "capecitabine"]


def abstract(i: int) -> tuple[str, str]:
    """Title and abstract of made-up record ``i``; an ORR for the stand-in extractor to find."""
    a, b = DRUGS[i % len(DRUGS)], DRUGS[(i * 3 + 1) % len(DRUGS)]
    title = f"{a.capitalize()} plus {b} in metastatic colorectal cancer: record {i}"
    text = (f"In this phase II trial, {20 + i % 80} patients received {a} and {b}. "
            f"The ORR was {10 + i % 60}% (95% CI {5 + i % 50}-{20 + i % 70}). "
            f"Median progression-free survival was {2 + i % 9}.{i % 10} months.")
    return title, text


def ris(records: range, broken: dict[int, str] | None = None) -> str:
    """A RIS export of ``records``; ``broken`` puts raw text in place of some records' abstracts."""
    parts = []
    for i in records:
        title, text = abstract(i)
        text = (broken or {}).get(i, text)
        parts.append(f"TY  - JOUR\nTI  - {title}\nAB  - {text}\nPY  - 2021\nAN  - {40_000_000 + i}\nER  - \n\n")
    return "".join(parts)


def query(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def evx(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: {result.exception}\n{result.output}")
    return result.exit_code, result.stdout


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stream files from 10 kB, in pieces of 50 documents: a few hundred records make pieces."""
    monkeypatch.setattr(ingest_module, "STREAM_BYTES", 10_000)
    monkeypatch.setattr(ingest_module, "PIECE_DOCUMENTS", 50)


# ----------------------------------------------------------------------------- all stored, in bounded memory

_MEASURE = """
import json, resource, sys
import pipeline.extract
sys.path.insert(0, {tests!r})
from conftest import fake_analyse
pipeline.extract.analyse = fake_analyse  # the stand-in extractor: the store's memory, not spaCy's
from pipeline.ingest import ingest
summary = ingest([sys.argv[1]], sys.argv[2], workers=1)
print(json.dumps({{"documents": summary.documents_read, "errors": summary.errors,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def _ingest_measured(file: Path, db: Path) -> dict:
    """Ingest ``file`` in a fresh process (inline); its documents stored and its peak RSS."""
    code = _MEASURE.format(tests=str(Path(__file__).parent))
    done = subprocess.run([sys.executable, "-c", code, str(file), str(db)], cwd=REPO, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_every_record_of_a_large_export_is_stored_in_flat_memory(tmp_path: Path) -> None:
    small, large = tmp_path / "small.ris", tmp_path / "large.ris"
    small.write_text(ris(range(500)), encoding="utf-8")
    large.write_text(ris(range(20_000)), encoding="utf-8")  # 5.6 MB: streamed (over STREAM_BYTES)
    assert large.stat().st_size > ingest_module.STREAM_BYTES
    few = _ingest_measured(small, tmp_path / "small.db")
    many = _ingest_measured(large, tmp_path / "large.db")
    assert (few["documents"], many["documents"]) == (500, 20_000)
    assert not few["errors"] and not many["errors"]
    db = tmp_path / "large.db"
    assert query(db, "SELECT count(*), count(DISTINCT path) FROM document") == [(20_000, 20_000)]
    assert query(db, "SELECT count(*) FROM outcome") == [(20_000,)]  # one ORR each
    assert query(db, "SELECT documents FROM source_file") == [(20_000,)]
    # 40 times the records; read whole (before the pieces), the 20,000 took 98 MB more, now 0.
    assert many["peak_mb"] - few["peak_mb"] < 40, (few, many)


# ----------------------------------------------------------------------------- the same as read whole


def _database(db: Path) -> dict[str, list]:
    """Every table's rows, without ids, times and run numbers, by document path."""
    found = {}
    with sqlite3.connect(db) as conn:
        for table in ["document", "section", "sentence", "outcome", "trial", "regimen", "study", "study_arm",
                      "evidence_change", "source_file"]:
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")
                       if row[1] not in ("id", "ingested_at", "at", "size", "mtime_ns", "document_id", "run_id",
                                     "first_run", "changed_run")]
            join = "document_id" in [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            sql = (f"SELECT {', '.join('t.' + c for c in columns)}{', d.path' if join else ''} FROM {table} AS t"
                   + (" JOIN document AS d ON d.id = t.document_id" if join else ""))
            found[table] = sorted(map(repr, conn.execute(sql)))
    return found


def test_pieces_inline_and_with_workers_store_what_the_whole_file_stores(tmp_path: Path, monkeypatch) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "export.ris").write_text(ris(range(240)), encoding="utf-8")
    whole, inline, workers = (tmp_path / f"{name}.db" for name in ("whole", "inline", "workers"))
    assert evx("ingest", str(corpus), "--db", str(whole), "--workers", "1")[0] == 0
    monkeypatch.setattr(ingest_module, "STREAM_BYTES", 10_000)
    monkeypatch.setattr(ingest_module, "PIECE_DOCUMENTS", 50)  # 5 pieces, with the real extractor
    assert evx("ingest", str(corpus), "--db", str(inline), "--workers", "1")[0] == 0
    assert evx("ingest", str(corpus), "--db", str(workers), "--workers", "2")[0] == 0
    reference = _database(whole)
    assert len(reference["document"]) == 240
    assert _database(inline) == reference
    assert _database(workers) == reference


def test_a_changed_export_is_compared_record_by_record(tmp_path: Path, fake_extractor, small_pieces) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    export = corpus / "export.ris"
    export.write_text(ris(range(300)), encoding="utf-8")
    db = tmp_path / "evidence.db"
    assert evx("ingest", str(corpus), "--db", str(db))[0] == 0
    # 0-49 gone, 50-59 edited, record 100 twice more, 300-309 new.
    edited = {i: abstract(i)[1].replace("The ORR was ", "The ORR was 1") for i in range(50, 60)}
    export.write_text(ris(range(50, 300), edited) + ris(range(100, 101)) * 2 + ris(range(300, 310)),
                      encoding="utf-8")
    assert evx("ingest", str(corpus), "--db", str(db), "--format", "json")[0] == 0
    changes = dict(query(db, "SELECT change, count(*) FROM evidence_change WHERE run_id = 2 GROUP BY change"))
    assert changes == {"removed": 50 + 10, "added": 10 + 10}  # edited text: new keys (an edited document)
    assert query(db, "SELECT count(*) FROM document") == [(262,)]
    assert query(db, "SELECT count(*) FROM outcome") == [(262,)]


# ----------------------------------------------------------------------------- a broken record fails the whole file


@pytest.mark.parametrize(("broken", "reason"), [
    ("not UTF-8", "not UTF-8 text (invalid byte 0xe9 at offset "),
    ("over the limit", "text of record 40001500 of "),
    ("extractor crash", "unexpected RuntimeError: extractor fell over"),
    ("too slow", "timed out after 1 s analysing "),
], ids=lambda value: value.replace(" ", "-"))
def test_a_broken_record_half_way_fails_the_file_and_stores_none_of_it(
        broken: str, reason: str, tmp_path: Path, fake_extractor, small_pieces) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "other.ris").write_text(ris(range(5000, 5005)), encoding="utf-8")  # the rest of the batch
    export = corpus / "export.ris"
    export.write_text(ris(range(2000)), encoding="utf-8")  # its last good version
    db = tmp_path / "evidence.db"
    assert evx("ingest", str(corpus), "--db", str(db))[0] == 0
    good = query(db, "SELECT path, text FROM document ORDER BY id")

    middle = {"not UTF-8": "caf\udce9", "over the limit": "x" * 3_000, "extractor crash": "CRASH",
              "too slow": "SLOW"}[broken]
    data = ris(range(3000), {1500: middle}).encode("utf-8", "surrogateescape")  # \udce9: the byte 0xe9
    export.write_bytes(data)
    (corpus / "new.ris").write_text(ris(range(6000, 6003)), encoding="utf-8")
    code, out = evx("ingest", str(corpus), "--db", str(db), "--time-limit", "1", "--max-text", "0.002")
    assert code == 1
    failures = [line for line in out.splitlines() if line.startswith(str(corpus))]
    assert len(failures) == 1 and failures[0].startswith(f"{export}: ") and reason in failures[0], out
    assert "Traceback" not in out
    # The file keeps its last good version, whole; the other files of the batch load.
    assert query(db, f"SELECT path, text FROM document WHERE file_path = '{export}' ORDER BY id") == [
        row for row in good if row[0].startswith(f"{export}#")]
    assert query(db, f"SELECT count(*) FROM document WHERE file_path = '{corpus / 'new.ris'}'") == [(3,)]
    assert query(db, "SELECT path FROM ingest_error") == [(str(export),)]
    for table in ("section", "sentence", "outcome"):
        assert query(db, f"SELECT count(*) FROM {table} WHERE document_id NOT IN (SELECT id FROM document)") == [(0,)]


def test_a_large_stored_export_is_re_extracted_in_pieces(tmp_path: Path, fake_extractor, small_pieces,
                                                          monkeypatch) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "export.ris").write_text(ris(range(260)), encoding="utf-8")
    db = tmp_path / "evidence.db"
    assert evx("ingest", str(corpus), "--db", str(db))[0] == 0
    before = _database(db)
    read = []
    monkeypatch.setattr(ingest_module.readers, "read_path", lambda *args, **kw: read.append(args) or iter(()))
    code, out = evx("refresh", "--db", str(db), "--reextract", "--format", "json")
    assert code == 0, out
    assert json.loads(out)["files_reextracted"] == 1 and not read  # from the stored text, not the file
    after = _database(db)
    assert after["document"] == before["document"] and after["outcome"] == before["outcome"]
    assert query(db, "SELECT count(*) FROM evidence_change WHERE run_id = 2") == [(0,)]


def test_a_stop_asked_for_stops_between_pieces_and_leaves_the_export_as_it_was(
        tmp_path: Path, fake_extractor, small_pieces, monkeypatch) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "export.ris").write_text(ris(range(1000)), encoding="utf-8")
    analysed = []

    def analyse_then_stop(*args):
        analysed.append(1)
        if len(analysed) == 3:  # SIGTERM arrives while the third piece is analysed
            ingest_module.request_stop(143)
        return real(*args)

    real = ingest_module.analyse_all
    monkeypatch.setattr(ingest_module, "analyse_all", analyse_then_stop)
    db = tmp_path / "evidence.db"
    code, _out = evx("ingest", str(corpus), "--db", str(db))
    assert code == 143 and len(analysed) == 3  # not the 17 other pieces
    assert query(db, "SELECT status FROM runs") == [("interrupted",)]
    assert query(db, "SELECT count(*) FROM document") == [(0,)]


def _tree_rss_mb(pid: int) -> float:
    """RSS summed over ``pid`` and its descendants (as bench/large_exports.py samples it)."""
    pids, i, kb = [pid], 0, 0
    while i < len(pids):
        try:
            pids.extend(int(c) for c in Path(f"/proc/{pids[i]}/task/{pids[i]}/children").read_text().split())
            kb += int(Path(f"/proc/{pids[i]}/statm").read_text().split()[1]) * 4
        except OSError:
            pass
        i += 1
    return kb / 1024


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads /proc")
def test_a_large_export_with_two_workers_stays_under_400_mb_for_the_whole_process_tree(tmp_path: Path) -> None:
    export = tmp_path / "export.ris"
    export.write_text(ris(range(4000)), encoding="utf-8")  # 1.1 MB: streamed, 40 pieces over 2 workers
    args = [sys.executable, "-m", "pipeline", "ingest", str(export), "--db", str(tmp_path / "e.db"), "--workers", "2",
            "--format", "json"]
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_mb(proc.pid))
        time.sleep(0.05)
    out, err = proc.communicate()
    assert proc.returncode == 0, err[-2000:]
    assert json.loads(out)["documents_read"] == 4000
    # The run (~80 MB), the resource tracker (12 MB) and two workers (~150 MB each, flat: they
    # import no store and renew spaCy's pipeline every 5,000 documents). Was 450 MB and growing.
    assert peak < 400, peak


def test_renewing_the_pipeline_bounds_its_vocabulary_and_changes_nothing(monkeypatch) -> None:
    from pipeline import analyse as analyse_module
    from pipeline.document import Document
    from pipeline.extract.nlp import build_nlp

    documents = [Document(source=f"r{i}", format="text", text=f"{abstract(i)[1]} Token{i}x appears once.")
                 for i in range(24)]
    kept = [analysis for _doc, analysis in analyse_module.analyse_all(documents[:12], None)]
    monkeypatch.setattr(analyse_module, "RENEW_NLP_AFTER", 8)
    monkeypatch.setattr(analyse_module, "_analysed", 0)
    renewed = [analysis for _doc, analysis in analyse_module.analyse_all(documents, None)]  # renewed twice
    assert renewed[:12] == kept
    assert not any(f"Token{i}x" in build_nlp().vocab.strings for i in range(16))  # the words of a former pipeline
    assert "Token20x" in build_nlp().vocab.strings
