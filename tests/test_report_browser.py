"""The report in a real browser (headless Chromium, opened from disk): rows, filter, sort, an
expanded source sentence with its highlight, the embedded forest plot, and no injected markup
in the live DOM."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import report_world
from browser import ARTIFACTS, chromium_path, launched, open_page
from pipeline.report.build import build_report
from pipeline.report.plots import MAX_ROWS
from pipeline.store import open_store


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    chromium_path()  # skip before building anything
    db = report_world.build(tmp_path_factory.mktemp("browser") / "evidence.db", 12)
    out = tmp_path_factory.mktemp("site") / "report"
    build_report(open_store(db, readonly=True), out)
    return db, out


@pytest.fixture(scope="module")
def browser():
    with launched() as b:
        yield b


def visible_ids(page) -> list[int]:
    return page.eval_on_selector_all("tr.row", "rows => rows.filter(r => !r.hidden).map(r => +r.dataset.id)")


def test_report_in_chromium(site: tuple[Path, Path], browser, tmp_path: Path) -> None:
    db, out = site
    conn = sqlite3.connect(db)
    requests, errors = [], []
    page = open_page(browser, (out / "index.html").as_uri(), requests, errors)
    page.goto((out / "index.html").as_uri())

    # every figure is a row
    every = {i for (i,) in conn.execute("SELECT outcome_id FROM outcome_evidence")}
    assert set(visible_ids(page)) == every

    # nothing injected: no element, handler or script came from document text
    assert page.evaluate("window.__evx_injected") is None
    assert page.locator("img").count() == 0
    assert page.locator("script").count() == 2
    hostile_trial = conn.execute("SELECT trial FROM outcome_evidence WHERE trial LIKE 'EVIL%' LIMIT 1").fetchone()[0]
    assert hostile_trial in page.locator("tr.row td:nth-child(2)").all_text_contents()  # shown as text

    # the filter box: a trial's rows
    trial = conn.execute("SELECT trial FROM outcome_evidence WHERE trial NOT LIKE 'EVIL%' ORDER BY outcome_id LIMIT 1").fetchone()[0]
    page.fill("#filter", trial.lower())
    expected = {i for (i,) in conn.execute("SELECT outcome_id FROM outcome_evidence WHERE trial = ?", (trial,))}
    assert set(visible_ids(page)) == expected and 0 < len(expected) < len(every)
    page.fill("#filter", "")
    page.select_option("#verdict", "rejected")
    assert visible_ids(page) == [i for (i,) in conn.execute("SELECT outcome_id FROM outcome_evidence WHERE curation = 'rejected'")]
    page.select_option("#verdict", "")

    # sorting the ORR table by value
    orr = page.locator('table[data-endpoint="ORR"]')
    orr.locator("th", has_text="value").locator("button").click()
    values = orr.locator("tr.row td:nth-child(7)").evaluate_all("cells => cells.map(c => +c.dataset.v)")
    assert values == sorted(values) and len(values) == conn.execute(
        "SELECT count(*) FROM outcome_evidence WHERE endpoint = 'ORR'").fetchone()[0]

    # expanding a row: its sentence, the figure marked at its stored offsets, the verdict
    oid, sentence, lo, hi, verdict, comment = conn.execute(
        "SELECT o.id, s.text, o.start - s.start, o.\"end\" - s.start, e.curation, e.curation_comment FROM outcome_evidence e "
        "JOIN outcome o ON o.id = e.outcome_id JOIN sentence s ON s.document_id = o.document_id AND s.idx = o.sentence_idx "
        "WHERE e.curation = 'corrected'").fetchone()
    page.click(f'tr.row[data-id="{oid}"]')
    detail = page.locator(f'tr.row[data-id="{oid}"] + tr.detail')
    assert detail.locator("p.sentence").text_content() == sentence
    assert detail.locator("mark").text_content() == sentence[lo:hi]
    before_mark = detail.locator("p.sentence").evaluate("p => p.firstChild.textContent")
    assert before_mark == sentence[:lo]
    assert verdict in detail.locator("p.note").text_content() and comment in detail.locator("p.note").text_content()

    # the hostile sentence expands as text too
    hostile = conn.execute("SELECT outcome_id FROM outcome_evidence WHERE arm LIKE '%onerror%' LIMIT 1").fetchone()[0]
    page.click(f'tr.row[data-id="{hostile}"]')
    assert report_world.INJECTED_IMG in page.locator(f'tr.row[data-id="{hostile}"] + tr.detail p.sentence').text_content()
    assert page.locator("img").count() == 0 and page.evaluate("window.__evx_injected") is None

    # the embedded ORR forest plot: a point per ORR rate figure not rejected
    drawn = conn.execute("SELECT count(*) FROM outcome_evidence WHERE endpoint = 'ORR' AND measure = 'rate' AND unit = '%' "
                         "AND curation IS NOT 'rejected'").fetchone()[0]
    points = page.locator('#forest-ORR-rate-pct svg g[id^="evx-point-"]')
    assert points.count() == min(drawn, MAX_ROWS) > 0
    assert page.locator('#forest-ORR-rate-pct svg g[id^="evx-ci-"]').count() == conn.execute(
        "SELECT count(*) FROM outcome_evidence WHERE endpoint = 'ORR' AND measure = 'rate' AND unit = '%' "
        "AND curation IS NOT 'rejected' AND ci_low IS NOT NULL").fetchone()[0]

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-browser.png"))
    page.screenshot(path=str(tmp_path / "report-browser.png"))
    assert not requests, f"the report asked for {requests}"
    assert not errors, errors
    conn.close()


def test_document_and_changes_pages_open(site: tuple[Path, Path], browser) -> None:
    db, out = site
    requests, errors = [], []
    page = open_page(browser, "", requests, errors)
    page.goto((out / "index.html").as_uri())
    page.locator("a", has_text="Hostile").first.click()
    assert page.url.endswith(".html") and "/documents/doc-" in page.url
    assert page.locator("img").count() == 0 and page.evaluate("window.__evx_injected") is None
    assert "Hostile <script>" in page.locator("h2").text_content()
    page.click("text=What changed")
    assert "1 changed" in page.locator("main").text_content()
    assert not requests and not errors
