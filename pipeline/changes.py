"""What changed in the evidence since a run (``evx changes``).

Runs log every record they add, remove or change, by stable key (``evidence_change``). The
report nets those out over the runs after the chosen one: a record added and then removed is no
change, a record changed twice is one change from its first state to its last.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TextIO

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from pipeline.errors import EvxError
from pipeline.output import Format, write_rows
from pipeline.output import write_table as write_table_rows
from pipeline.records import RECORD_TYPES
from pipeline.store.evidence import change_summary, summary
from pipeline.store.models import Curation, EvidenceChange, Run

ORDER = {"changed": 0, "removed": 1, "added": 2}  # what a reviewer must look at first


@dataclass
class Delta:
    change: str  # added | removed | changed
    type: str
    document: str
    key: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    curation: str | None = None  # the reviewer's verdict on this record, if any

    @property
    def what(self) -> str:
        return summary(self.type, self.after or self.before)

    @property
    def detail(self) -> str:
        if self.change == "changed" and self.before and self.after:
            return change_summary(self.before, self.after)
        return ""

    @property
    def page(self) -> int | None:
        return (self.after or self.before or {}).get("page")

    @property
    def text(self) -> str:
        return (self.after or self.before or {}).get("text") or ""


@dataclass
class ChangeReport:
    since: int  # changes made by runs after this one (0: since the database began)
    runs: list[int]
    deltas: list[Delta] = field(default_factory=list)
    orphaned: list[Curation] = field(default_factory=list)  # curations whose record went in these runs

    def groups(self) -> list[tuple[str, list[Delta]]]:
        """(change, its deltas) in reading order, the empty ones left out."""
        grouped = [(change, [d for d in self.deltas if d.change == change]) for change in ORDER]
        return [(change, deltas) for change, deltas in grouped if deltas]

    def counts(self) -> Counter[str]:
        return Counter(d.change for d in self.deltas)

    def headline(self) -> str:
        counts = self.counts()
        documents = len({d.document for d in self.deltas})
        runs = f"run {self.runs[0]}" if len(self.runs) == 1 else f"runs {self.runs[0]}–{self.runs[-1]}" if self.runs else "no runs"
        line = (f"changes since run {self.since} ({runs}): {counts['added']} added, {counts['removed']} removed, "
                f"{counts['changed']} changed in {documents} documents")
        if self.orphaned:
            line += f"; {len(self.orphaned)} curations lost their record"
        return line


def changes_since(engine: Engine, since: int | None = None, types: list[str] | None = None) -> ChangeReport:
    """The net changes made by the runs after run ``since`` (default: the run before the latest,
    so the latest run's changes)."""
    with Session(engine) as session:
        latest = session.exec(select(func.max(Run.id))).one()
        if latest is None:
            raise EvxError("no runs yet: nothing to compare (run evx ingest or evx refresh first)")
        if since is None:
            since = latest - 1
        elif since != 0 and session.get(Run, since) is None:
            raise EvxError(f"no run {since} (runs go from 1 to {latest}; see evx runs)")
        rows = session.exec(
            select(EvidenceChange).where(EvidenceChange.run_id > since).order_by(EvidenceChange.id)
        ).all()
        runs = sorted({r.run_id for r in rows} | set(session.exec(select(Run.id).where(Run.id > since)).all()))
        curated = {c.key: c for c in session.exec(select(Curation))}
    first: dict[str, EvidenceChange] = {}
    last: dict[str, EvidenceChange] = {}
    for row in rows:
        first.setdefault(row.key, row)
        last[row.key] = row
    report = ChangeReport(since=since, runs=runs)
    for key, start in first.items():
        end = last[key]
        before, after = start.before, end.after
        if before == after:
            continue
        change = "added" if before is None else "removed" if after is None else "changed"
        if types and start.type not in types:
            continue
        verdict = curated.get(key)
        report.deltas.append(Delta(change, start.type, end.document, key, before, after, verdict and verdict.status))
    report.deltas.sort(key=lambda d: (ORDER[d.change], d.document, RECORD_TYPES.index(d.type), d.page or 0, d.key))
    report.orphaned = [c for c in curated.values() if c.orphaned_run is not None and c.orphaned_run > since]
    return report


# ----------------------------------------------------------------------------- rendering

COLUMNS = ["change", "type", "document", "page", "evidence", "what_changed", "curation", "text", "key"]


def rows(report: ChangeReport, full: bool = False) -> list[dict[str, Any]]:
    """One row per changed record (``COLUMNS``); ``full`` adds its fields before and after."""
    out = []
    for d in report.deltas:
        row = dict(zip(COLUMNS, [d.change, d.type, d.document, d.page, d.what, d.detail, d.curation or "", d.text, d.key]))
        if full:
            row.update(before=d.before, after=d.after)
        out.append(row)
    return out


def render_csv(report: ChangeReport) -> str:
    text = io.StringIO()
    write_rows(COLUMNS, rows(report), Format.csv, text)
    return text.getvalue()


def render_markdown(report: ChangeReport) -> str:
    lines = [f"# Evidence changes since run {report.since}", "", report.headline() + ".", ""]
    for change, deltas in report.groups():
        lines += [f"## {change.capitalize()} ({len(deltas)})", "",
                  "| type | document | page | evidence | what changed | curation | key |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {d.type} | {_md(d.document)} | {d.page or ''} | {_md(d.what)} | {_md(d.detail)} | {d.curation or ''} | `{d.key}` |"
                  for d in deltas]
        lines.append("")
    if report.orphaned:
        lines += ["## Curations whose record is gone", "", "| status | document | was | comment | key |", "|---|---|---|---|---|"]
        lines += [f"| {c.status} | {_md(c.document or '')} | {_md(summary(c.type or '', c.snapshot))} | {_md(c.comment or '')} | `{c.key}` |"
                  for c in report.orphaned]
        lines.append("")
    return "\n".join(lines)


def write_table(report: ChangeReport, out: TextIO) -> None:
    """The headline, then a table per kind of change (cells wrap, nothing is cut)."""
    out.write(report.headline() + "\n")
    for change, deltas in report.groups():
        out.write(f"\n{change} ({len(deltas)}):\n")
        write_table_rows(["type", "evidence", "what changed", "curation", "document", "page", "key"],
                         [(d.type, d.what, d.detail, d.curation, d.document, d.page, d.key) for d in deltas], out)
    if report.orphaned:
        out.write(f"\ncurations whose record is gone ({len(report.orphaned)}):\n")
        write_table_rows(["status", "was", "document", "key"],
                         [(c.status, summary(c.type or "", c.snapshot), c.document, c.key) for c in report.orphaned], out)


def _md(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")
