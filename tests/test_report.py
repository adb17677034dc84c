"""evx report: the HTML pages hold what the database holds, escaped; bad input is one line, exit 2."""

from __future__ import annotations

import json
import sqlite3
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

import report_world
from pipeline.cli import app
from pipeline.report.data import Filters, load_figures, split_sentence
from pipeline.store import open_store

runner = CliRunner()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return report_world.build(tmp_path_factory.mktemp("report") / "evidence.db", 12)


@pytest.fixture(scope="module")
def report(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "report"
    result = runner.invoke(app, ["report", "--db", str(world), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of each <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def parsed(path: Path) -> Elements:
    parser = Elements()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def pages(report: Path) -> list[Path]:
    return [report / "index.html", report / "documents.html", report / "changes.html", *sorted((report / "documents").glob("*.html"))]


def test_document_text_injects_no_markup(report: Path) -> None:
    hostile = [p for p in pages(report) if "Hostile" in p.read_text(encoding="utf-8")]
    assert len(hostile) >= 3  # the index, the list of documents and the hostile document's own page
    for page in pages(report):
        elements = parsed(page)
        names = [tag for tag, _ in elements.tags]
        assert "img" not in names, page
        assert not any(name.startswith("on") for _, attrs in elements.tags for name in attrs), page
        # only evx's own two scripts: the sentences (JSON, not run) and the page's code
        scripts = [attrs for tag, attrs in elements.tags if tag == "script"]
        assert scripts in ([], [{"type": "application/json", "id": "evx-sources"}, {}]), page
        text = page.read_text(encoding="utf-8")
        assert report_world.INJECTED_SCRIPT not in text and report_world.INJECTED_IMG not in text


def test_sentences_blob_is_json_holding_the_text_as_written(report: Path, world: Path) -> None:
    elements = parsed(report / "index.html")
    blob = json.loads(elements.scripts[0])
    with sqlite3.connect(world) as conn:
        rows = conn.execute("SELECT o.id, s.text, o.start - s.start, o.\"end\" - s.start, o.text FROM outcome_evidence e "
                            "JOIN outcome o ON o.id = e.outcome_id JOIN sentence s ON s.document_id = o.document_id "
                            "AND s.idx = o.sentence_idx").fetchall()
    assert len(blob) == len(rows) > 40
    for outcome_id, sentence, lo, hi, text in rows:
        before, figure, after, highlighted, *_ = blob[str(outcome_id)]
        assert highlighted and figure == text
        assert (before, figure, after) == (sentence[:lo], sentence[lo:hi], sentence[hi:])
    assert any(report_world.INJECTED_IMG in "".join(parts[:3]) for parts in blob.values())  # kept as text


def test_split_sentence_trusts_only_offsets_that_give_the_figure() -> None:
    assert split_sentence("ORR was 30% in all.", 108, 111, 100, "30%") == ("ORR was ", "30%", " in all.", True)
    assert split_sentence("ORR was 30% in all.", 109, 112, 100, "30%") == ("ORR was 30% in all.", "", "", False)
    assert split_sentence("ORR was 30% in all.", 108, 111, None, "30%")[3] is False


def test_every_figure_is_a_row_of_its_endpoint_table(report: Path, world: Path) -> None:
    html = (report / "index.html").read_text(encoding="utf-8")
    elements = parsed(report / "index.html")
    ids = [attrs["data-id"] for tag, attrs in elements.tags if tag == "tr" and attrs.get("class") == "row"]
    with sqlite3.connect(world) as conn:
        expected = {str(i) for (i,) in conn.execute("SELECT outcome_id FROM outcome_evidence")}
        verdicts = dict(conn.execute("SELECT outcome_id, curation FROM outcome_evidence WHERE curation IS NOT NULL"))
        endpoints = [e for (e,) in conn.execute("SELECT DISTINCT endpoint FROM outcome_evidence")]
    assert sorted(ids) == sorted(expected)
    for endpoint in endpoints:
        assert f'<table class="evidence" data-endpoint="{endpoint}">' in html
    rows = {attrs["data-id"]: attrs["data-verdict"] for tag, attrs in elements.tags if tag == "tr" and "data-id" in attrs}
    assert {k: v for k, v in rows.items() if v != "none"} == {str(k): v for k, v in verdicts.items()}
    assert sorted(verdicts.values()) == ["accepted", "corrected", "rejected"]


def test_page_per_document_lists_every_record(report: Path, world: Path) -> None:
    with sqlite3.connect(world) as conn:
        documents = conn.execute("SELECT id, (SELECT count(*) FROM outcome WHERE document_id = d.id) "
                                 "+ (SELECT count(*) FROM trial WHERE document_id = d.id) FROM document AS d").fetchall()
    assert len(list((report / "documents").glob("doc-*.html"))) == len(documents)
    for doc_id, records in documents:
        elements = parsed(report / "documents" / f"doc-{doc_id}.html")
        body_rows = sum(1 for tag, _ in elements.tags if tag == "tr") - 1  # less the header row
        assert body_rows == records


def test_changes_page_shows_the_last_runs_change(report: Path) -> None:
    html = (report / "changes.html").read_text(encoding="utf-8")
    assert "0 added, 0 removed, 1 changed" in html
    assert '<tr class="changed"><td>changed</td><td>outcome</td>' in html


def test_filters_narrow_the_report(world: Path, tmp_path: Path) -> None:
    engine = open_store(world, readonly=True)
    every = load_figures(engine)
    some = next(f for f in every if f.trial and f.drugs and f.endpoint == "ORR" and not f.trial.startswith("EVIL"))
    trial, drug = some.trial[:4].lower(), some.drugs.split(" + ")[-1].upper()  # parts of names, any case

    def wanted(f, endpoint="ORR", drug=drug):
        return (trial in (f.trial or "").lower() and f.endpoint == endpoint
                and (drug is None or drug.lower() in (f.drugs or "").lower()))

    chosen = load_figures(engine, Filters(trial=trial, endpoint="orr", drug=drug))
    assert some in chosen and [f.id for f in chosen] == [f.id for f in every if wanted(f)]
    assert len(chosen) < len(every)
    out = tmp_path / "r"
    result = runner.invoke(app, ["report", "--db", str(world), "--out", str(out), "--trial", trial, "--endpoint", "ORR"])
    assert result.exit_code == 0, result.output
    ids = [int(a["data-id"]) for t, a in parsed(out / "index.html").tags if t == "tr" and "data-id" in a]
    assert ids == [f.id for f in every if wanted(f, drug=None)]


@pytest.mark.parametrize("case", ["missing", "empty", "no-match", "out-not-writable"])
def test_bad_input_is_one_line_and_exit_2(case: str, world: Path, tmp_path: Path) -> None:
    db, out, extra = world, tmp_path / "out", []
    if case == "missing":
        db = tmp_path / "nowhere.db"
    elif case == "empty":
        db = tmp_path / "empty.db"
        open_store(db, create=True).dispose()
    elif case == "no-match":
        extra = ["--trial", "NO-SUCH-TRIAL"]
    else:
        (tmp_path / "file").write_text("x")
        out = tmp_path / "file" / "report"
    result = runner.invoke(app, ["report", "--db", str(db), "--out", str(out), *extra])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("evx: ") and "Traceback" not in result.output, result.output
    assert {"missing": "nowhere.db", "empty": "no documents", "no-match": "NO-SUCH-TRIAL",
            "out-not-writable": "cannot write"}[case] in lines[0]


def test_a_report_replaces_the_earlier_one_whole(world: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    for _ in range(2):
        result = runner.invoke(app, ["report", "--db", str(world), "--out", str(out)])
        assert result.exit_code == 0, result.output
        if _ == 0:
            first = {p.name: p.stat().st_ino for p in (out / "documents").iterdir()}
            (out / "documents" / "doc-999999.html").write_text("a page of a document gone since")
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # no temporary folder left beside it
    again = {p.name: p.stat().st_ino for p in (out / "documents").iterdir()}
    assert again == first  # the same pages (unchanged ones linked, not rewritten), the stale one gone


def test_a_folder_that_is_not_a_report_is_left_alone(world: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["report", "--db", str(world), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "not an evx report" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
