"""The ``evx`` command line: parse options, call one library function, print the result.

Data goes to stdout, progress and messages to stderr. Exit codes: 0 success; 1 ingest finished
but some files failed (each listed as "path: reason"); 2 usage error or could not run (bad
option, missing database, refused or invalid SQL).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pipeline import __version__
from pipeline.errors import EvxError
from pipeline.export import export_records, parse_types, schema_text, write_csv, write_jsonl
from pipeline.ingest import DEFAULT_TIME_LIMIT, IngestSummary, ingest
from pipeline.store import DEFAULT_DB, open_store, run_query, store_status

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2

app = typer.Typer(
    name="evx",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)


class SummaryFormat(str, Enum):
    table = "table"
    json = "json"


class QueryFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


class ExportFormat(str, Enum):
    jsonl = "jsonl"
    csv = "csv"


DbOption = Annotated[
    Path,
    typer.Option("--db", envvar="EVX_DB", help="SQLite database file (or set EVX_DB).", dir_okay=False),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or messages on stderr.")]


def _version(show: bool) -> None:
    if show:
        typer.echo(f"evx {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Extract evidence (trials, regimens, efficacy figures, HER2 criteria, biomarkers) from
    oncology literature into SQLite, with provenance.

    Exit codes: 0 ok; 1 some files failed to ingest; 2 usage error or could not run.
    The database is outputs/evidence.db unless --db or EVX_DB says otherwise.

    **Example:**

        evx ingest corpus/ && evx export --format jsonl --out outputs/evidence.jsonl
    """


@contextmanager
def _errors_to_exit() -> Iterator[None]:
    """Our errors become one line on stderr and exit code 2 (could not run)."""
    try:
        yield
    except EvxError as exc:
        typer.echo(f"evx: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


def _say(message: str, quiet: bool = False) -> None:
    if not quiet:
        typer.echo(message, err=True)


# ----------------------------------------------------------------------------- ingest


@app.command("ingest")
def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of PDF, text, PubMed XML, MEDLINE, RIS, JATS.", exists=True)],
    db: DbOption = DEFAULT_DB,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Seconds allowed to read or analyse one document (0: no limit).", min=0)
    ] = DEFAULT_TIME_LIMIT,
    fmt: Annotated[SummaryFormat, typer.Option("--format", help="Format of the summary on stdout.")] = SummaryFormat.table,
    quiet: QuietOption = False,
) -> None:
    """Read source files, extract their evidence and store it.

    Re-running is safe: unchanged files are skipped without being read, changed files have
    their documents and records replaced in one transaction. A file that fails is listed as
    "path: reason" and stored nowhere but in the ingest_error table; the others go on.

    Exit code 0 if every file was ingested, 1 if some failed, 2 if the run could not start.

    **Example:**

        evx ingest corpus/ papers/trial.pdf --db outputs/evidence.db
    """
    console = Console(stderr=True)
    with _errors_to_exit(), Progress(
        TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}"),
        console=console, transient=True, disable=quiet or not console.is_terminal,  # no bar in logs
    ) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, file: Path) -> None:
            bar.update(task, completed=done, total=total, description=file.name)

        summary = ingest(paths, db, time_limit=time_limit or None, progress=progress)
    if fmt is SummaryFormat.json:
        typer.echo(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(_summary_text(summary))
    raise typer.Exit(EXIT_SOME_FAILED if summary.errors else EXIT_OK)


def _summary_text(s: IngestSummary) -> str:
    failed = len(s.errors)
    lines = [
        f"files: {s.files_seen} ({s.files_seen - s.files_skipped - failed} ingested, "
        f"{s.files_skipped} unchanged, {failed} failed)",
        f"documents: {s.documents_read} read, {s.documents_replaced} replaced, {s.documents_skipped} unchanged",
        "records: " + ", ".join(f"{t} {n}" for t, n in s.records.items()),
    ]
    if s.errors:
        lines.append(f"errors ({failed}):")
        lines += [f"{path}: {reason}" for path, reason in s.errors]
    lines.append(f"elapsed: {s.elapsed:.1f} s")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- query


@app.command("query")
def query_command(
    sql: Annotated[str, typer.Argument(help="One SQL statement that reads (SELECT, WITH, read-only PRAGMA).")],
    db: DbOption = DEFAULT_DB,
    fmt: Annotated[QueryFormat, typer.Option("--format", help="Output format.")] = QueryFormat.table,
) -> None:
    """Run read-only SQL on the database and print the rows.

    The database is opened read-only: a statement that would change it (INSERT, UPDATE,
    DELETE, CREATE, DROP, ATTACH, a PRAGMA that sets something, ...) is refused with exit
    code 2. Tables: document, section, sentence, outcome, trial, regimen, her2_criterion,
    biomarker, abbreviation, ingest_error; view: outcome_evidence.

    **Example:**

        evx query "SELECT endpoint, value, unit, document FROM outcome_evidence WHERE endpoint = 'ORR'" --format csv
    """
    with _errors_to_exit():
        result = run_query(db, sql)
    _write_rows(result.columns, result.rows, fmt, sys.stdout)


def _write_rows(columns: Sequence[str], rows: Sequence[tuple], fmt: QueryFormat, out: TextIO) -> None:
    if fmt is QueryFormat.csv:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    elif fmt is QueryFormat.json:
        out.write(json.dumps([dict(zip(columns, row)) for row in rows], indent=2, ensure_ascii=False, default=str) + "\n")
    elif fmt is QueryFormat.jsonl:
        for row in rows:
            out.write(json.dumps(dict(zip(columns, row)), ensure_ascii=False, default=str) + "\n")
    else:
        out.write(_table(columns, rows))


def _table(columns: Sequence[str], rows: Sequence[tuple], max_width: int = 48) -> str:
    """Aligned plain-text columns; long cells cut to ``max_width`` so rows stay on one line."""

    def cell(value: Any) -> str:
        text = "" if value is None else " ".join(str(value).split())
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    body = [[cell(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in body)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
             for cells in [list(columns), ["-" * w for w in widths], *body]]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- export, status, schema


@app.command("export")
def export_command(
    db: DbOption = DEFAULT_DB,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="jsonl: one record a line; csv: one row per record.")] = ExportFormat.jsonl,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of stdout.", dir_okay=False)] = None,
    types: Annotated[str | None, typer.Option("--type", help="Comma-separated record types (default: all): outcome,trial,regimen,her2,biomarker.")] = None,
    quiet: QuietOption = False,
) -> None:
    """Export stored records, one per line (JSONL) or row (CSV).

    Every JSONL line validates against the schema printed by `evx schema`
    (schemas/evidence.schema.json). CSV has the union of the fields; lists are joined by ";".

    **Example:**

        evx export --format jsonl --type outcome,trial --out outputs/evidence.jsonl
    """
    try:
        chosen = parse_types(types)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--type") from None

    def write(fh: TextIO) -> int:
        records = export_records(open_store(db), chosen)
        return write_jsonl(records, fh) if fmt is ExportFormat.jsonl else write_csv(records, fh, chosen)

    with _errors_to_exit():
        if out is None:
            write(sys.stdout)
            return
        with open(out, "w", encoding="utf-8", newline="") as fh:
            n = write(fh)
    _say(f"wrote {n} records to {out}", quiet)


@app.command("status")
def status_command(
    db: DbOption = DEFAULT_DB,
    fmt: Annotated[SummaryFormat, typer.Option("--format", help="Output format.")] = SummaryFormat.table,
) -> None:
    """Show what the database holds: documents by format, records per type, errors, extractor version.

    **Example:**

        evx status --db outputs/evidence.db
    """
    with _errors_to_exit():
        status = store_status(open_store(db), db)
    if fmt is SummaryFormat.json:
        typer.echo(json.dumps(dataclasses.asdict(status), indent=2))
        return
    formats = ", ".join(f"{f} {n}" for f, n in status.documents_by_format.items())
    typer.echo("\n".join([
        f"database: {status.db_path} (schema {status.schema_version})",
        f"documents: {status.documents}" + (f" ({formats})" if formats else ""),
        "records: " + ", ".join(f"{t} {n}" for t, n in status.records.items()),
        f"errors: {status.errors}" + (' (see: evx query "SELECT * FROM ingest_error")' if status.errors else ""),
        "extractor: " + (", ".join(status.extractor_versions) or "-"),
    ]))


# ----------------------------------------------------------------------------- eval


@app.command("eval")
def eval_command(
    gold: Annotated[Path | None, typer.Option("--gold", help="Folder of gold JSON files (one per document).", file_okay=False, exists=True)] = None,
    brat: Annotated[Path | None, typer.Option("--brat", help="Folder of PICO BRAT .txt/.ann files; scores figure recall.", file_okay=False, exists=True)] = None,
    db: DbOption = DEFAULT_DB,
    pred: Annotated[Path | None, typer.Option("--pred", help="Score this JSONL export instead of the database.", dir_okay=False, exists=True)] = None,
    corpus: Annotated[Path | None, typer.Option("--corpus", help="Extract the scored documents found here in memory instead of reading the database.", exists=True)] = None,
    findings: Annotated[int, typer.Option("--findings", help="How many misses and false positives to list (0: all, -1: none).")] = 40,
    kind: Annotated[str | None, typer.Option("--kind", help="List findings of these types only, e.g. outcome,regimen,brat.")] = None,
    fmt: Annotated[SummaryFormat, typer.Option("--format", help="table: figures then findings; json: everything.")] = SummaryFormat.table,
) -> None:
    """Score extracted evidence against gold annotations, as the shared scorer does.

    Prints precision, recall and F1 per record type, the accuracy of CI, trial, N and drugs on
    matched figures, BRAT figure recall, then the misses, false positives and wrong attributes.
    Records come from the database, a JSONL export (--pred) or an in-memory run (--corpus).

    **Example:**

        evx eval --gold ../shared/corpus/gold --brat ../shared/corpus/pico-breast --corpus ../shared/corpus/pico-breast
    """
    from pipeline import evaluate as ev
    from pipeline.readers import iter_source_files

    if gold is None and brat is None:
        raise typer.BadParameter("give --gold, --brat or both", param_hint="--gold")
    with _errors_to_exit():
        if corpus is not None:
            wanted = set(ev.load_gold(gold)) if gold else set()
            wanted |= {p.stem for p in brat.glob("*.ann")} if brat else set()
            files = [f for f in iter_source_files([corpus]) if ev.document_stem(str(f)) in wanted]
            records = ev.records_from_documents(files)
        elif pred is not None:
            records = ev.read_jsonl(pred)
        else:
            records = ev.records_from_store(db)
        try:
            result = ev.evaluate(ev.group_records(records), gold, brat)
        except (OSError, ValueError) as exc:
            raise EvxError(str(exc)) from None
    if kind:
        chosen = {k.strip() for k in kind.split(",")}
        result.findings = [f for f in result.findings if f.type in chosen]
    if fmt is SummaryFormat.json:
        typer.echo(json.dumps(result.to_dict(), indent=1, ensure_ascii=False))
        return
    typer.echo(result.table())
    if findings >= 0 and result.findings:
        typer.echo(f"\nfindings ({len(result.findings)}):")
        typer.echo(result.findings_text(None if findings == 0 else findings))


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of an exported record (one JSONL line of `evx export`).

    It is generated from the export models; schemas/evidence.schema.json is this output.

    **Example:**

        evx schema > schemas/evidence.schema.json
    """
    typer.echo(schema_text(), nl=False)
