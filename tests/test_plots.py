"""Forest plots: the points and CI ends drawn are the database's values, in the artists and in
the SVG's coordinates; figures without CI are points; the axis names the unit."""

from __future__ import annotations

import re
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

import report_world
from pipeline.cli import app
from pipeline.report import plots
from pipeline.report.data import load_figures
from pipeline.store import open_store

runner = CliRunner()
SVG = "{http://www.w3.org/2000/svg}"
PLOTTED = ("SELECT outcome_id, value, ci_low, ci_high FROM outcome_evidence WHERE endpoint = ? AND measure = ? AND unit = ? "
           "AND curation IS NOT 'rejected'")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return report_world.build(tmp_path_factory.mktemp("plots") / "evidence.db", 10)


@pytest.fixture(scope="module")
def forest(world: Path) -> list[plots.ForestPlot]:
    return plots.forest_data(load_figures(open_store(world, readonly=True)))


def expected(world: Path, plot: plots.ForestPlot) -> dict[int, tuple]:
    with sqlite3.connect(world) as conn:
        return {i: (v, lo, hi) for i, v, lo, hi in conn.execute(PLOTTED, (plot.endpoint, plot.measure, plot.unit))}


def test_plots_hold_the_database_figures(world: Path, forest: list[plots.ForestPlot]) -> None:
    assert [(p.endpoint, p.measure, p.unit) for p in forest] == [("ORR", "rate", "%"), ("PFS", "median", "months"),
                                                                  ("OS", "median", "months")]
    for plot in forest:
        want = expected(world, plot)
        assert len(want) > 5 and plot.figures == len(want)
        assert {p.outcome_id: (p.value, p.ci_low, p.ci_high) for p in plot.points} == want
        assert [p.row for p in plot.points] == list(range(len(plot.points)))
    with sqlite3.connect(world) as conn:
        rejected = {i for (i,) in conn.execute("SELECT outcome_id FROM outcome_evidence WHERE curation = 'rejected'")}
    assert rejected and not rejected & {p.outcome_id for plot in forest for p in plot.points}


def test_artists_are_at_the_values(world: Path, forest: list[plots.ForestPlot]) -> None:
    for plot in forest:
        fig = plots.draw(plot)
        artists = {a.get_gid(): a for a in fig.findobj() if a.get_gid()}
        for outcome_id, (value, lo, hi) in expected(world, plot).items():
            point = artists[plots.POINT_GID.format(outcome_id)]
            assert list(point.get_xdata()) == [value]
            ci = artists.get(plots.CI_GID.format(outcome_id))
            if lo is None:
                assert ci is None and point.get_markerfacecolor() == "white"  # a hollow point
            else:
                assert list(ci.get_xdata()) == [lo, hi] and list(ci.get_ydata()) == list(point.get_ydata()) * 2
        axis = fig.axes[0]
        assert axis.get_xlabel() == {"%": "ORR (%)", "months": f"median {plot.endpoint} (months)"}[plot.unit]


def _numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", text)]


def test_svg_positions_are_the_values(world: Path, forest: list[plots.ForestPlot]) -> None:
    """Where the SVG draws each point and CI end, against where the axes put the database's
    values (matplotlib's SVG is at 72 dpi, y from the top)."""
    for plot in forest:
        root = ET.fromstring(plots.svg(plot))
        groups = {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("id", "").startswith("evx-")}
        fig = plots.draw(plot)
        fig.set_dpi(72)
        axes = fig.axes[0]
        height = fig.bbox.height

        def at(x: float, y: float) -> tuple[float, float]:
            px, py = axes.transData.transform((x, y))
            return px, height - py

        want = expected(world, plot)
        assert {g for g in groups if g.startswith("evx-point-")} == {plots.POINT_GID.format(i) for i in want}
        for p in plot.points:
            value, lo, hi = want[p.outcome_id]
            use = groups[plots.POINT_GID.format(p.outcome_id)].find(f".//{SVG}use")
            assert (float(use.get("x")), float(use.get("y"))) == pytest.approx(at(value, p.row), abs=0.01)
            if lo is not None:
                path = groups[plots.CI_GID.format(p.outcome_id)].find(f"{SVG}path").get("d")
                x1, y1, x2, y2 = _numbers(path)
                assert (x1, y1) == pytest.approx(at(lo, p.row), abs=0.01)
                assert (x2, y2) == pytest.approx(at(hi, p.row), abs=0.01)
        assert plot.axis_label in {t.text for t in root.iter(f"{SVG}text")}


def test_rows_over_the_limit_are_counted_not_drawn(world: Path) -> None:
    [orr, *_] = plots.forest_data(load_figures(open_store(world, readonly=True)), max_rows=3)
    assert len(orr.points) == 3 and orr.figures > 3 and f"first 3 of {orr.figures}" in orr.title


def test_evx_plot_writes_svg_and_png(world: Path, tmp_path: Path) -> None:
    for fmt in ("svg", "png"):
        result = runner.invoke(app, ["plot", "--db", str(world), "--out", str(tmp_path), "--format", fmt, "--endpoint", "ORR"])
        assert result.exit_code == 0, result.output
        [written] = tmp_path.glob(f"*.{fmt}")
        assert written.name == f"forest-ORR-rate-pct.{fmt}"
        head = written.read_bytes()[:8]
        assert head == b"\x89PNG\r\n\x1a\n" if fmt == "png" else head.startswith(b"<?xml")
    empty = tmp_path / "empty.db"
    open_store(empty, create=True).dispose()
    result = runner.invoke(app, ["plot", "--db", str(empty), "--out", str(tmp_path)])
    assert result.exit_code == 2 and result.stderr.startswith("evx: ") and len(result.stderr.splitlines()) == 1
