"""Forest plots of ORR (rate) and median PFS and OS by trial and arm (matplotlib, Agg: no display).

One row per figure, its value a marker and its CI a line; a figure whose source states no CI is
a hollow marker. The data drawn is returned as ``ForestPlot`` so tests (and callers) can check
every point, and each artist carries a gid (``evx-point-<outcome id>``, ``evx-ci-<outcome id>``)
that the SVG keeps as the id of its group, so the points can be found in the page too.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")  # before anything draws: never a display, also on a desktop
from matplotlib.figure import Figure as MplFigure  # noqa: E402 - after the backend is chosen
from matplotlib.lines import Line2D  # noqa: E402

from pipeline.report.data import Figure  # noqa: E402
from pipeline.store.models import ci_level  # noqa: E402

PLOTTED = (("ORR", "rate"), ("PFS", "median"), ("OS", "median"))  # what a forest plot compares
MAX_ROWS = 80  # rows of one plot; more cannot be read (the rest are counted under it)
LABEL_CHARS = 46  # of "trial · arm"; then the source, cut at SOURCE_CHARS
SOURCE_CHARS = 24
ROW_INCHES = 0.26
WIDTH_INCHES, LABEL_INCHES, TOP_INCHES, BOTTOM_INCHES = 10.0, 4.3, 0.6, 0.6
POINT_GID, CI_GID = "evx-point-{}", "evx-ci-{}"


@dataclass(frozen=True)
class Point:
    outcome_id: int
    label: str
    value: float
    ci_low: float | None
    ci_high: float | None
    row: int  # 0 is the top row


@dataclass
class ForestPlot:
    endpoint: str
    measure: str
    unit: str
    points: list[Point] = field(default_factory=list)
    figures: int = 0  # figures of this endpoint and unit, drawn or not (over MAX_ROWS)

    @property
    def name(self) -> str:
        return f"forest-{self.endpoint}-{self.measure}-{self.unit.replace('%', 'pct')}"

    @property
    def axis_label(self) -> str:
        what = self.endpoint if self.measure == "rate" else f"{self.measure} {self.endpoint}"
        return f"{what} ({self.unit})"

    @property
    def title(self) -> str:
        shown = f"; first {len(self.points)} of {self.figures}" if self.figures > len(self.points) else ""
        return f"{self.axis_label} by trial and arm, with CI{shown}"


def forest_data(figures: Iterable[Figure], max_rows: int = MAX_ROWS) -> list[ForestPlot]:
    """The forest plots of ``figures``: one per plotted endpoint and unit, rows in the order
    given (trial, arm). Figures a reviewer rejected are left out; those with no unit cannot be
    placed on an axis and are left out too."""
    plots: dict[tuple[str, str, str], ForestPlot] = {}
    for f in figures:
        if (f.endpoint, f.measure) not in PLOTTED or not f.unit or f.curation == "rejected":
            continue
        plot = plots.setdefault((f.endpoint, f.measure, f.unit), ForestPlot(f.endpoint, f.measure, f.unit))
        plot.figures += 1
        if len(plot.points) < max_rows:
            plot.points.append(Point(f.id, _label(f), f.value, f.ci_low, f.ci_high, len(plot.points)))
    order = {key: i for i, key in enumerate(PLOTTED)}
    return sorted(plots.values(), key=lambda p: (order[(p.endpoint, p.measure)], p.unit))


def _label(f: Figure) -> str:
    level = ci_level(f.ci_text)
    parts = [f.trial or "trial not named", f.arm or f.drugs, f"{level:g}% CI" if level and level != 95 else None]
    source = _cut(f.document.rsplit("/", 1)[-1], SOURCE_CHARS) + (f" p.{f.page}" if f.page else "")
    return f"{_cut(' · '.join(p for p in parts if p), LABEL_CHARS)}  [{source}]"


def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"


def draw(plot: ForestPlot) -> MplFigure:
    """The plot as a matplotlib figure (not attached to pyplot: no global state)."""
    rows = max(len(plot.points), 1)
    height = TOP_INCHES + BOTTOM_INCHES + ROW_INCHES * rows
    fig = MplFigure(figsize=(WIDTH_INCHES, height))
    # Fixed margins, not constrained layout: laying out 80 labels to fit them took 1 s a plot.
    fig.subplots_adjust(left=LABEL_INCHES / WIDTH_INCHES, right=1 - 0.25 / WIDTH_INCHES,
                        top=1 - TOP_INCHES / height, bottom=BOTTOM_INCHES / height)
    ax = fig.add_subplot()
    for p in plot.points:
        if p.ci_low is not None and p.ci_high is not None:
            ax.plot([p.ci_low, p.ci_high], [p.row, p.row], color="#1f4e79", linewidth=1.6, solid_capstyle="butt",
                    gid=CI_GID.format(p.outcome_id))
            ax.plot([p.value], [p.row], marker="s", markersize=6, color="#1f4e79", linestyle="none",
                    gid=POINT_GID.format(p.outcome_id))
        else:
            ax.plot([p.value], [p.row], marker="o", markersize=6, markerfacecolor="white", markeredgecolor="#b35900",
                    linestyle="none", gid=POINT_GID.format(p.outcome_id))
    ax.set_yticks([p.row for p in plot.points], [p.label for p in plot.points], fontsize=8)
    ax.set_ylim(rows - 0.5, -0.5)  # first row on top
    ax.set_xlabel(plot.axis_label)
    ax.set_title(plot.title, fontsize=10, loc="left")
    if plot.unit == "%":
        ax.set_xlim(0, 100)
    else:
        ax.set_xlim(left=0)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    fig.legend(handles=[
        Line2D([], [], marker="s", color="#1f4e79", linewidth=1.6, label="with CI"),
        Line2D([], [], marker="o", markerfacecolor="white", markeredgecolor="#b35900", linestyle="none",
               label="no CI stated"),
    ], loc="upper right", bbox_to_anchor=(1, 1), ncols=2, fontsize=8, frameon=False)
    return fig


def _saved(fig: MplFigure, fmt: str, salt: str) -> bytes:
    buffer = io.BytesIO()
    # text as text (small, searchable, escaped by matplotlib); ids salted per plot, so several
    # SVGs inline in one page never share an id; no date, so the same data gives the same file
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buffer, format=fmt, dpi=110, metadata={"Date": None} if fmt == "svg" else None)
    return buffer.getvalue()


def svg(plot: ForestPlot) -> str:
    return _saved(draw(plot), "svg", plot.name).decode("utf-8")


def inline_svg(plot: ForestPlot) -> str:
    """The SVG element alone (no XML declaration or doctype), to put in an HTML page."""
    text = svg(plot)
    return text[text.index("<svg"):]


def png(plot: ForestPlot) -> bytes:
    return _saved(draw(plot), "png", plot.name)
