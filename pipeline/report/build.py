"""``evx report``: a static HTML report of the evidence, self-contained (no server, no network:
CSS, JS and the forest plots' SVG are inline), opened from disk.

Pages: ``index.html`` (an evidence table per endpoint, sortable and filterable in the page,
each row expanding to its source sentence with the figure highlighted at its stored offsets,
and the forest plots), ``documents.html`` and one page per document (``documents/doc-ID.html``)
listing every record it yielded, and ``changes.html`` (what the last run changed).

Everything from the database reaches the page through Jinja2 with autoescape on. The source
sentences are not in the table: they are a JSON blob (``tojson`` escapes ``<``, ``>``, ``&``,
``'``) that the page's script turns into text nodes on expand, never into markup; that keeps a
page of 10,000 rows light to open.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from sqlalchemy import Engine

from pipeline import __version__
from pipeline.changes import changes_since, rows as change_rows
from pipeline.errors import EvxError
from pipeline.output import OutputError, _umask, output
from pipeline.report import plots
from pipeline.report.data import Filters, by_endpoint, load_figures, require_evidence
from pipeline.report.documents import document_pages


@dataclass
class ReportResult:
    out: Path
    figures: int
    documents: int
    plots: int
    seconds: float


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("pipeline.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda v: "" if v is None else (str(int(v)) if float(v).is_integer() else str(v))
    return env


def build_report(engine: Engine, out: Path, filters: Filters = Filters(), db_label: str = "the database") -> ReportResult:
    """Write the report as folder ``out``: built in a temporary folder beside it, then renamed
    over it (the folder's form of the output convention), so a reader never sees half a report
    or a mix of two. ``out`` must be new, empty or an earlier report (it is replaced whole)."""
    began = time.perf_counter()
    figures = load_figures(engine, filters)
    require_evidence(engine, db_label, figures, filters)
    _check_replaceable(out)
    with _folder_replacing(out) as folder:
        counts = _write_report(engine, _Pages(folder, out if out.is_dir() else None), figures, filters, db_label)
    return ReportResult(out, len(figures), *counts, time.perf_counter() - began)


class _Pages:
    """Writes the pages into the new folder. A page the same as the earlier report's is linked
    to that file instead: removing an earlier report's files cost about 2.5 ms each here (ext4
    mounted with discard frees their blocks), 6 s for 2,500 document pages, and a link keeps
    the blocks. Document pages carry no time stamp, so those of unchanged documents match."""

    def __init__(self, folder: Path, earlier: Path | None) -> None:
        self.folder, self.earlier = folder, earlier
        (folder / "documents").mkdir()

    def write(self, name: str, text: str) -> None:
        data = text.encode("utf-8")
        old = self.earlier / name if self.earlier else None
        try:
            if old is not None and old.is_file() and not old.is_symlink() and old.stat().st_size == len(data) \
                    and old.read_bytes() == data:
                os.link(old, self.folder / name)
                return
        except OSError:
            pass  # no link here (another file system, a read error): write it
        (self.folder / name).write_bytes(data)


def _write_report(engine: Engine, pages: _Pages, figures, filters: Filters, db_label: str) -> tuple[int, int]:
    env = _environment()
    shown_documents = {f.document_id for f in figures} if filters else None
    documents = document_pages(engine, shown_documents)
    forest = plots.forest_data(figures)
    try:
        changes, changes_note = changes_since(engine), None
    except EvxError as exc:  # no runs recorded (a database loaded without ingest)
        changes, changes_note = None, str(exc)
    common = dict(version=__version__, db=db_label, made=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                  filters=filters.describe())
    sources = {f.id: [f.before, f.figure, f.after, f.highlighted, f.curation or "", f.corrected_value or "",
                      f.curation_comment or ""] for f in figures}
    script = env.get_template("report.js").render()
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    svgs = [(p, Markup(plots.inline_svg(p))) for p in forest]  # matplotlib's own SVG, its text escaped by it
    pages.write("index.html", env.get_template("index.html.j2").render(
        **common, root="", groups=by_endpoint(figures), total=len(figures), plots=svgs, sources=sources,
        script=Markup(script), script_hash=f"'sha256-{digest}'",
        page_of={d.id: d.file_name for d in documents}))
    pages.write("documents.html", env.get_template("documents.html.j2").render(**common, root="", documents=documents))
    page = env.get_template("document.html.j2")
    for document in documents:
        pages.write(f"documents/{document.file_name}", page.render(**{**common, "made": None}, root="../", document=document))
    pages.write("changes.html", env.get_template("changes.html.j2").render(
        **common, root="", report=changes, note=changes_note, rows=change_rows(changes) if changes else []))
    (pages.folder / MARKER).write_text(f"written by evx {__version__} report; the folder is replaced by the next one\n")
    return len(documents), len(forest)


MARKER = ".evx-report"  # says a folder is a report evx may replace


def _check_replaceable(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"cannot write {out}: it is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise OutputError(f"cannot write {out}: it holds files that are not an evx report (give a new or empty folder)")


@contextmanager
def _folder_replacing(out: Path) -> Iterator[Path]:
    """A temporary folder beside ``out`` that becomes ``out`` when the block succeeds. (Pages
    renamed one by one over an earlier report's cost 4 ms each on ext4, which flushes a file
    renamed over another: 2,500 pages took 6 s more than writing a new folder.)"""
    _make_folder(out.parent)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror or exc}") from None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it 0700; a folder made by mkdir follows the umask
        if out.exists():
            old = tmp.with_name(tmp.name + ".old")
            os.rename(out, old)
            os.rename(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out)
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write {folder}: {exc.strerror or exc}") from None


def write_plots(forest: list[plots.ForestPlot], out: Path, fmt: str) -> list[tuple[Path, plots.ForestPlot]]:
    """Each plot as ``out/<name>.<fmt>`` (svg or png), written under a temporary name and renamed."""
    _make_folder(out)
    written = []
    for plot in forest:
        path = out / f"{plot.name}.{fmt}"
        with output(path, binary=True) as fh:
            fh.write(plots.png(plot) if fmt == "png" else plots.svg(plot).encode("utf-8"))
        written.append((path, plot))
    return written
