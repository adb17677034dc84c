"""The ``evx`` command line: parse options, call one library function, print the result.

Data goes to stdout, progress and messages to stderr. Exit codes, one meaning each: 0 success;
1 ingest or refresh finished but some files failed (each listed as "path: reason"); 2 usage
error or could not run (bad option, missing or damaged database, no room for its lock, full
disk, refused or invalid SQL, a query over its time limit, a bug: one line, the traceback in the
log); 3 busy (another ingest or refresh, or another program, writing to the database); 130/143
stopped by Ctrl-C/SIGTERM; 141 the reader of the output went away before the end (`evx query ...
| head`; nothing printed).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
import typer.core
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pipeline import __version__, changes
from pipeline.curation import curate, curations
from pipeline.errors import EvxError
from pipeline.catalog import database_tables, tables_markdown
from pipeline.export import export_columns, export_rows, parse_types, schema_text
from pipeline.ingest import (DEFAULT_MAX_TEXT, DEFAULT_TIME_LIMIT, MASS_WITHDRAWAL, WITHDRAW_SHARE, failure_reason,
                             ingest, refresh, request_stop)
from pipeline.output import Format, OutOption, check_writable, format_choices, format_option, output, write_document, write_rows, write_table
from pipeline.readers import printable
from pipeline.store import (DEFAULT_DB, DEFAULT_QUERY_TIMEOUT, StoreDamaged, check_message, check_store, open_query, open_store,
                            store_status)
from pipeline.store.evidence import summary
from pipeline.store.runs import DatabaseBusy, list_runs, run_failures

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3
EXIT_INTERRUPTED = 128 + signal.SIGINT  # stopped by Ctrl-C, as shells report it
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE  # stdout closed early, as shells report a process the closed pipe ended
TABLE_ROWS = 1000  # rows evx query prints as a table unless --limit says otherwise

app = typer.Typer(
    name="evx",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)


class DevSet(str, Enum):
    crc = "crc"
    breast = "breast"


# The --format values each kind of command takes (pipeline.output): rows in every format; one
# result (a summary, a status, a score) as a table for people or JSON; records as data only.
SummaryFormat = format_choices("SummaryFormat", Format.table, Format.json)
RowsFormat = format_choices("RowsFormat", Format.table, Format.csv, Format.json, Format.jsonl)
ExportFormat = format_choices("ExportFormat", Format.jsonl, Format.json, Format.csv, Format.xlsx)
ChangesFormat = format_choices("ChangesFormat", Format.table, Format.csv, Format.json, Format.jsonl, Format.markdown)


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

    Exit codes: 0 ok; 1 some files failed to ingest; 2 usage error or could not run (a
    damaged database too: see `evx check`); 3 another ingest or refresh (or program) is writing
    to the database; 130/143 stopped by Ctrl-C/SIGTERM; 141 the output's reader went away (`| head`).
    The database is outputs/evidence.db unless --db or EVX_DB says otherwise.

    **Example:**

        evx ingest corpus/ && evx export --format jsonl --out outputs/evidence.jsonl
    """


@contextmanager
def _errors_to_exit() -> Iterator[None]:
    """Our errors become one line on stderr and exit code 2 (could not run), or 3 when another
    run holds the database."""
    try:
        yield
    except EvxError as exc:
        typer.echo(f"evx: {exc}", err=True)
        raise typer.Exit(EXIT_BUSY if isinstance(exc, DatabaseBusy) else EXIT_USAGE) from None


@contextmanager
def _stdout_may_close() -> Iterator[None]:
    """A reader that stops early (`evx query ... | head`) ends the command quietly: no
    traceback and no message, exit code 141 as for a process a closed pipe ends."""
    try:
        yield
        sys.stdout.flush()  # a closed pipe shows here, not at exit
    except BrokenPipeError:
        # Python flushes stdout once more at exit: let that write to /dev/null, not complain.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # no file descriptor (a test's captured stdout)
            pass
        raise typer.Exit(EXIT_BROKEN_PIPE) from None


def _say(message: str, quiet: bool = False) -> None:
    if not quiet:
        typer.echo(message, err=True)


# ----------------------------------------------------------------------------- ingest, refresh, runs

TimeLimitOption = Annotated[
    float, typer.Option("--time-limit", help="Seconds allowed to read or analyse one document (0: no limit).", min=0)
]
RunFormatOption = Annotated[SummaryFormat, format_option(SummaryFormat, "Of the summary printed at the end.")]
LogOption = Annotated[
    Path | None, typer.Option("--log", help="Append what the run does (files, failures, summary) to this file.", dir_okay=False)
]
WorkersOption = Annotated[
    int | None,
    typer.Option("--workers", "-w", min=1, envvar="EVX_WORKERS", show_default="the cores this process may use",
                 help="Processes that read and analyse files; the database gets the same content whatever the number."),
]
MaxTextOption = Annotated[
    float, typer.Option("--max-text", metavar="MB", min=0,
                        help="Largest text of one document, in MB of UTF-8 (1 MB = 1,000,000 bytes; 0: no limit); a larger document fails with its size, and a plain-text file over it is not read.")
]
FollowLinksOption = Annotated[
    bool, typer.Option("--follow-outside-links", help="Follow symbolic links in folders that lead outside the folder given (by default they are listed as failures and not read).")
]
ExcludeOption = Annotated[
    list[str] | None,
    typer.Option("--exclude", metavar="GLOB",
                 help="Leave out entries of folders matching this shell glob (repeatable): on the name if it has no "
                      "'/' ('*.tmp', 'drafts'), else on the path inside the folder ('old/*.pdf'). A left-out file "
                      "stored before counts as gone."),
]
GiveUpOption = Annotated[
    int, typer.Option("--give-up-after", metavar="N", min=0,
                      help="Stop retrying a file that failed N runs in a row with the same reason and has not "
                           "changed since (it is skipped, not failed, until it changes; 0: retry for ever).")
]
ReextractOption = Annotated[
    bool, typer.Option("--reextract", help="Analyse every stored document again from its stored text, even if the extractor is unchanged.")
]


@app.command("ingest")
def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of PDF, text, PubMed XML, MEDLINE, RIS, JATS.", exists=True)],
    db: DbOption = DEFAULT_DB,
    time_limit: TimeLimitOption = DEFAULT_TIME_LIMIT,
    fmt: RunFormatOption = SummaryFormat.table,
    out: OutOption = None,
    quiet: QuietOption = False,
    log_file: LogOption = None,
    reextract: ReextractOption = False,
    workers: WorkersOption = None,
    follow_outside_links: FollowLinksOption = False,
    max_text: MaxTextOption = DEFAULT_MAX_TEXT / 1e6,
    exclude: ExcludeOption = None,
    give_up_after: GiveUpOption = 0,
) -> None:
    """Read source files, extract their evidence and store it.

    Re-running is safe: unchanged files are skipped without being read, changed files have
    their documents and records replaced in one transaction. A file that fails is listed as
    "path: reason" and recorded in the ingest_error table; the others go on. The paths are
    remembered: `evx refresh` re-scans them. In folders, symbolic links are followed only to
    files and folders inside the folder given, unless --follow-outside-links.

    Exit codes: 0 every file ingested; 1 some failed; 2 could not run; 3 another ingest or
    refresh (or program) is writing to the database; 130/143 stopped by Ctrl-C/SIGTERM.

    **Example:**

        evx ingest corpus/ papers/trial.pdf --db outputs/evidence.db
    """
    _run_command(lambda progress: ingest(paths, db, time_limit=time_limit or None, progress=progress, reextract=reextract,
                                         workers=workers or _cores(), follow_outside_links=follow_outside_links,
                                         max_text=_bytes(max_text), exclude=exclude or (), give_up_after=give_up_after),
                 "ingest", fmt, out, quiet, log_file)


@app.command("refresh")
def refresh_command(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders to re-scan (default: every source of earlier runs).", exists=True)] = None,
    db: DbOption = DEFAULT_DB,
    reextract: ReextractOption = False,
    time_limit: TimeLimitOption = DEFAULT_TIME_LIMIT,
    fmt: RunFormatOption = SummaryFormat.table,
    out: OutOption = None,
    quiet: QuietOption = False,
    log_file: LogOption = None,
    workers: WorkersOption = None,
    follow_outside_links: FollowLinksOption = False,
    max_text: MaxTextOption = DEFAULT_MAX_TEXT / 1e6,
    allow_mass_withdrawal: Annotated[bool, typer.Option(
        "--allow-mass-withdrawal",
        help=f"Withdraw files gone from a folder even if that is all of them, or more than {WITHDRAW_SHARE:.0%} "
             f"(and more than {MASS_WITHDRAWAL}); by default such a folder fails and nothing in it is withdrawn.")] = False,
    exclude: ExcludeOption = None,
    give_up_after: GiveUpOption = 0,
) -> None:
    """Bring the database up to date with its sources; made to run from cron or a systemd timer.

    Re-scans the files and folders of earlier runs (or PATHS): new files are ingested, changed
    files have their records replaced, unchanged files are skipped unread, files gone from a
    scanned folder are marked withdrawn (kept, out of views and exports), unless that would
    withdraw all of a folder's files, or more than a fifth of them (an unmounted share, an
    emptied sync folder): then the folder fails and nothing is withdrawn. Documents stored by
    another extractor version are re-extracted from their stored text. Every run is recorded
    (`evx runs`); what it changed is shown by `evx changes`.

    With --quiet nothing is printed unless files fail (then "path: reason" lines on stderr).
    Exit codes: 0 all good; 1 finished, some files failed (retried next run); 2 could not run;
    3 another ingest or refresh (or program) is writing to the database (nothing done);
    130/143 stopped by Ctrl-C/SIGTERM.

    **Example:**

        evx refresh --db outputs/evidence.db --quiet --log outputs/refresh.log
    """
    _run_command(lambda progress: refresh(paths, db, time_limit=time_limit or None, progress=progress,
                                          reextract=reextract, workers=workers or _cores(),
                                          follow_outside_links=follow_outside_links, max_text=_bytes(max_text),
                                          allow_mass_withdrawal=allow_mass_withdrawal, exclude=exclude or (),
                                          give_up_after=give_up_after),
                 "refresh", fmt, out, quiet, log_file)


def _run_command(job, name: str, fmt: SummaryFormat, out: Path | None, quiet: bool, log_file: Path | None) -> None:
    """Run an ingest or refresh job with progress, log file, signals and exit codes; the
    summary goes to --out even with --quiet (it was asked for by name)."""
    with _errors_to_exit():
        _writable(out)  # before the run, not after an hour of it
    handler = _log_to(log_file)
    # systemd and kill send SIGTERM: the run stops after the file in hand, recorded as interrupted.
    previous = signal.signal(signal.SIGTERM, _terminate)
    console = Console(stderr=True)
    try:
        with _errors_to_exit(), Progress(
            TextColumn(name), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}"),
            console=console, transient=True, disable=quiet or not console.is_terminal,  # no bar in logs
        ) as bar:
            task = bar.add_task("", total=None)

            def progress(done: int, total: int, file: str) -> None:
                bar.update(task, completed=done, total=total, description=printable(Path(file).name))

            summary = job(None if bar.disable else progress)  # an idle bar still costs per file
    except typer.Exit:
        raise
    except (SystemExit, KeyboardInterrupt) as exc:  # SIGTERM (request_stop) or Ctrl-C
        code = exc.code if isinstance(exc, SystemExit) and isinstance(exc.code, int) else EXIT_INTERRUPTED
        how = signal.Signals(code - 128).name if 128 < code < 128 + signal.NSIG else "a signal"
        typer.echo(f"evx: {name} interrupted by {how}; files stored so far are kept, the next run does the rest", err=True)
        raise typer.Exit(code) from None
    except Exception as exc:  # noqa: BLE001 - a bug: one line for the user, the traceback in the log
        logging.getLogger("evx").exception("%s stopped by an unexpected error", name)
        where = f" (traceback in {log_file})" if log_file else " (run with --log FILE for the traceback)"
        typer.echo(f"evx: {name} stopped by an unexpected error: {failure_reason(exc)}{where}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
        if handler:
            logging.getLogger("evx").removeHandler(handler)
            handler.close()
    if quiet:
        for path, reason in summary.errors:
            typer.echo(_failure_line(path, reason), err=True)
    if not quiet or _is_file(out):
        with _errors_to_exit(), output(out) as fh:
            write_document(summary.to_dict(), Format(fmt.value), fh, lambda: _summary_text(summary))
    raise typer.Exit(EXIT_SOME_FAILED if summary.errors else EXIT_OK)


def _is_file(out: Path | None) -> bool:
    return out is not None and str(out) != "-"


def _writable(out: Path | None) -> None:
    if _is_file(out):
        check_writable(out)


def _bytes(megabytes: float) -> int | None:
    return round(megabytes * 1e6) or None


def _cores() -> int:
    """The cores this process may run on (a container or taskset may allow fewer than the machine has)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _terminate(signum: int, _frame) -> None:
    # The run stops at once if it is waiting for an analysis (request_stop raises SystemExit),
    # else after the file it is storing: a signal landing in the middle of a database statement
    # would leave its connection holding the write lock, and the run could not record how it ended.
    request_stop(128 + signum)


def _log_to(log_file: Path | None) -> logging.Handler | None:
    if log_file is None:
        return None
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, encoding="utf-8")
    except OSError as exc:
        typer.echo(f"evx: cannot write log file {log_file}: {exc.strerror or exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("evx")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return handler


def _failure_line(path: str, reason: str) -> str:
    """"path: reason" on one line, whatever the file's name holds (a newline, bytes not UTF-8)."""
    return f"{printable(path)}: {printable(reason)}"


def _summary_text(s) -> str:
    failed = len(s.errors)
    lines = [
        f"run {s.run_id}: {s.status}",
        f"files: {s.files_seen} ({s.files_new} new, {s.files_changed} changed, {s.files_reextracted} re-extracted, "
        f"{s.files_restored} restored, {s.files_skipped} unchanged, {s.files_withdrawn} withdrawn, {failed} failed"
        + (f", {s.files_given_up} given up" if s.files_given_up else "") + ")",
        f"documents: {s.documents_read} read, {s.documents_replaced} replaced, {s.documents_skipped} unchanged",
        "records stored: " + ", ".join(f"{t} {n}" for t, n in s.records.items()),
        f"evidence: {s.records_added} added, {s.records_removed} removed, {s.records_changed} changed"
        + (" (see: evx changes)" if s.records_added or s.records_removed or s.records_changed else ""),
    ]
    if s.errors:
        lines.append(f"errors ({failed}):")
        lines += [_failure_line(path, reason) for path, reason in s.errors]
    lines.append(f"elapsed: {s.elapsed:.1f} s")
    return "\n".join(lines)


@app.command("runs")
def runs_command(
    db: DbOption = DEFAULT_DB,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many of the latest runs (0: all).")] = 20,
    failures: Annotated[int | None, typer.Option("--failures", help="List the files that failed in this run.")] = None,
    fmt: Annotated[RowsFormat, format_option(RowsFormat)] = RowsFormat.table,
    out: OutOption = None,
) -> None:
    """List ingest and refresh runs, latest first: when, status, extractor, files and records counted.

    Status: ok; failed_files (finished, some files failed); interrupted (killed, noticed by the
    next run); aborted (stopped by an error); running.

    **Example:**

        evx runs --limit 5
        evx runs --failures 12
    """
    fmt = Format(fmt.value)
    with _errors_to_exit():
        engine = open_store(db)
        if failures is not None:
            _print_rows(["path", "reason"], run_failures(engine, failures), fmt, out)
            return
        runs = list_runs(engine, limit or None)
    columns = ["id", "command", "started", "finished", "status", "extractor_version", "files_new", "files_changed",
               "files_reextracted", "files_restored", "files_withdrawn", "files_unchanged", "files_failed",
               "records_added", "records_removed", "records_changed", "note"]
    rows = [tuple(_when(getattr(r, c)) if c in ("started", "finished") else getattr(r, c) for c in columns) for r in runs]
    if fmt is Format.table:  # short headers so a run fits on a line
        columns = ["run", "command", "started", "finished", "status", "extractor", "new", "chg", "reext", "rest",
                   "wdrn", "same", "fail", "+rec", "-rec", "~rec", "note"]
    _print_rows(columns, rows, fmt, out)


def _when(moment) -> str | None:
    return moment and moment.strftime("%Y-%m-%d %H:%M:%S")


@app.command("changes")
def changes_command(
    since: Annotated[int | None, typer.Option("--since", help="Show what changed after this run (default: the run before the latest; 0: everything).")] = None,
    db: DbOption = DEFAULT_DB,
    fmt: Annotated[ChangesFormat, format_option(ChangesFormat, "json and jsonl add each record's fields before and after.")] = ChangesFormat.table,
    types: Annotated[str | None, typer.Option("--type", help="Comma-separated record types (default: all).")] = None,
    out: OutOption = None,
) -> None:
    """Report the evidence added, removed or changed since a run.

    Records are matched by stable key, so a re-extraction that finds the same figure shows no
    change; a figure whose value, CI, n/N, p or attribution moved is "changed", with what moved.
    Curations whose record disappeared are listed at the end.

    **Example:**

        evx changes --since 3 --format markdown --out changes.md
    """
    try:
        chosen = parse_types(types) if types else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--type") from None
    with _errors_to_exit():
        report = changes.changes_since(open_store(db), since, chosen)
    fmt = Format(fmt.value)
    with _errors_to_exit(), _stdout_may_close(), output(out) as fh:
        if fmt is Format.markdown:
            fh.write(changes.render_markdown(report))
        elif fmt is Format.table:
            changes.write_table(report, fh)
        else:
            write_rows(changes.COLUMNS if fmt is Format.csv else [*changes.COLUMNS, "before", "after"],
                       changes.rows(report, full=fmt is not Format.csv), fmt, fh)


# ----------------------------------------------------------------------------- review

review_app = typer.Typer(
    name="review", no_args_is_help=True, rich_markup_mode="markdown",
    help="""Record a reviewer's verdict on a record: accept, reject or correct it.

    A record is named by its key (or the first 6+ characters of it), as shown by `evx changes`
    and in outcome_evidence.evidence_key, or by TYPE:ID (outcome:12 is outcome_evidence.outcome_id
    12). Verdicts live in the curation table, follow the record through re-extraction, show in
    outcome_evidence, and are flagged, never dropped, when the record disappears.

    **Example:**

        evx review correct outcome:12 --value 31.9 --comment "Table 2 gives 31.9, the abstract 32"
    """,
)
app.add_typer(review_app)

CommentOption = Annotated[str | None, typer.Option("--comment", "-m", help="Why (kept with the verdict).")]
ReviewerOption = Annotated[str | None, typer.Option("--reviewer", envvar="EVX_REVIEWER", help="Who (default: the login name).")]
RefArgument = Annotated[str, typer.Argument(help="Record key (or 6+ characters of it) or TYPE:ID, e.g. outcome:12.")]


def _curate(db: Path, ref: str, status: str, **fields) -> None:
    with _errors_to_exit():
        row = curate(open_store(db), ref, status, **fields)
    typer.echo(f"{row.status}: {row.type} {summary(row.type, row.snapshot)} ({row.document}) key {row.key}")


@review_app.command("accept")
def review_accept(ref: RefArgument, db: DbOption = DEFAULT_DB, comment: CommentOption = None, reviewer: ReviewerOption = None) -> None:
    """Mark a record as checked and right.

    **Example:**

        evx review accept 3f9a2c41 --comment "matches Table 2"
    """
    _curate(db, ref, "accepted", comment=comment, reviewer=reviewer)


@review_app.command("reject")
def review_reject(ref: RefArgument, db: DbOption = DEFAULT_DB, comment: CommentOption = None, reviewer: ReviewerOption = None) -> None:
    """Mark a record as wrong (not evidence, or not what the source says).

    **Example:**

        evx review reject outcome:40 --comment "this is a toxicity rate"
    """
    _curate(db, ref, "rejected", comment=comment, reviewer=reviewer)


@review_app.command("correct")
def review_correct(
    ref: RefArgument,
    value: Annotated[str | None, typer.Option("--value", help="The right value of the record's main field (an outcome's value, a trial's name...).")] = None,
    sets: Annotated[list[str] | None, typer.Option("--set", help="Another field to correct, FIELD=VALUE (repeatable), e.g. ci_low=14.")] = None,
    db: DbOption = DEFAULT_DB,
    comment: CommentOption = None,
    reviewer: ReviewerOption = None,
) -> None:
    """Record the right value of a record that was read wrong.

    **Example:**

        evx review correct outcome:12 --value 31.9 --set total=69 --comment "Table 2"
    """
    corrections = {}
    for item in sets or []:
        name, sep, field_value = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"{item!r} is not FIELD=VALUE", param_hint="--set")
        corrections[name.strip()] = field_value.strip()
    _curate(db, ref, "corrected", value=value, corrections=corrections, comment=comment, reviewer=reviewer)


@review_app.command("list")
def review_list(
    db: DbOption = DEFAULT_DB,
    status: Annotated[str | None, typer.Option("--status", help="accepted, rejected or corrected.")] = None,
    orphaned: Annotated[bool, typer.Option("--orphaned", help="Only curations whose record is gone.")] = False,
    fmt: Annotated[RowsFormat, format_option(RowsFormat)] = RowsFormat.table,
    out: OutOption = None,
) -> None:
    """List curations with their record (record_id empty: the record is gone, see orphaned_run).

    **Example:**

        evx review list --orphaned
    """
    with _errors_to_exit():
        columns, rows = curations(open_store(db), status=status, orphaned=orphaned)
    _print_rows(columns, rows, Format(fmt.value), out)


def _print_rows(columns: list[str], rows, fmt: Format, out: Path | None) -> None:
    with _errors_to_exit(), _stdout_may_close(), output(out) as fh:
        write_rows(columns, rows, fmt, fh)


# ----------------------------------------------------------------------------- query


class _QueryCommand(typer.core.TyperCommand):
    """`evx query --help` ends with every table and view and its columns, read from the schema
    when the help is shown (pipeline.catalog), so the list cannot go stale."""

    def format_help(self, ctx, formatter) -> None:
        if "**Tables and views**" not in (self.help or ""):
            self.help = f"{self.help}\n\n**Tables and views** (also `evx schema --tables`):\n\n{tables_markdown()}\n"
        super().format_help(ctx, formatter)


@app.command("query", cls=_QueryCommand)
def query_command(
    sql: Annotated[str, typer.Argument(help="One SQL statement that reads (SELECT, WITH, read-only PRAGMA).")],
    db: DbOption = DEFAULT_DB,
    fmt: Annotated[RowsFormat, format_option(RowsFormat)] = RowsFormat.table,
    out: OutOption = None,
    timeout: Annotated[float, typer.Option("--timeout", metavar="S", min=0, help="Stop the query after S seconds (0: no limit).")] = DEFAULT_QUERY_TIMEOUT,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=0, show_default=f"{TABLE_ROWS} for table, all for the other formats",
                                              help="Print at most this many rows (0: all).")] = None,
) -> None:
    """Run read-only SQL on the database and print the rows.

    The database is opened read-only: a statement that would change it (INSERT, UPDATE,
    DELETE, CREATE, DROP, ATTACH, a PRAGMA that sets something, ...) is refused with exit
    code 2. csv, json and jsonl rows are written as they are read, in flat memory whatever
    their number; a table is printed once its rows (--limit) are in. A query running longer
    than --timeout (reading its rows included) is stopped with exit code 2; Ctrl-C stops it
    too (exit code 130); the rows written to stdout until then stay written (an --out file is
    left as it was). Values are SQLite's: JSON columns of the tables (drugs, attribution) are
    JSON text; the view outcome_evidence joins drugs by " + ".

    **Example:**

        evx query "SELECT endpoint, value, unit, document FROM outcome_evidence WHERE endpoint = 'ORR'" --format csv
    """
    fmt = Format(fmt.value)
    if limit is None:
        limit = TABLE_ROWS if fmt is Format.table else 0
    stop = threading.Event()
    # Ctrl-C cannot break into SQLite's C code; the query's progress handler sees the flag.
    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: stop.set())
    try:
        with (_errors_to_exit(), _stdout_may_close(), output(out) as fh,
              open_query(db, sql, timeout=timeout or None, stop=stop) as result):
            more = write_rows(result.columns, result, fmt, fh, limit or None)
    except typer.Exit:
        if stop.is_set():
            raise typer.Exit(EXIT_INTERRUPTED) from None
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
    if more:
        _say(f"evx: showing the first {limit} rows; --limit 0 shows all")


# ----------------------------------------------------------------------------- export, status, schema


@app.command("export")
def export_command(
    db: DbOption = DEFAULT_DB,
    fmt: Annotated[ExportFormat, format_option(ExportFormat, "csv has the union of the fields, lists joined by \" + \".")] = ExportFormat.jsonl,
    out: OutOption = None,
    types: Annotated[str | None, typer.Option("--type", help="Comma-separated record types (default: all): outcome,trial,regimen,her2,biomarker,study,arm.")] = None,
    quiet: QuietOption = False,
) -> None:
    """Export stored records, one per line (JSONL), in one JSON array (JSON), one per row (CSV),
    or as a spreadsheet (xlsx, needs --out): a sheet per record type shaped like a
    data-extraction form (study, arm, regimen, N, endpoint, value, CI, p, source, page, verdict).

    Every JSONL line (and every element of the JSON array) validates against the schema printed
    by `evx schema` (schemas/evidence.schema.json): lists such as drugs are JSON arrays. CSV has
    the union of the fields; lists are joined by " + ", objects (attribution) are JSON text.

    **Example:**

        evx export --format jsonl --type outcome,trial --out outputs/evidence.jsonl

        evx export --format xlsx --out outputs/evidence.xlsx
    """
    try:
        chosen = parse_types(types)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--type") from None
    written = 0

    def counted(rows):
        nonlocal written
        for written, row in enumerate(rows, 1):
            yield row

    if fmt is ExportFormat.xlsx:
        from pipeline.export_xlsx import write_xlsx

        # (output refuses stdout for a binary file, before the database is opened)
        with _errors_to_exit(), output(out, binary=True) as fh:
            written = write_xlsx(open_store(db, readonly=True), fh, chosen)
    else:
        with _errors_to_exit(), _stdout_may_close(), output(out) as fh:
            write_rows(export_columns(chosen), counted(export_rows(open_store(db, readonly=True), chosen)), Format(fmt.value), fh)
    if _is_file(out):
        _say(f"wrote {written} records to {out}", quiet)


@app.command("status")
def status_command(
    db: DbOption = DEFAULT_DB,
    fmt: Annotated[SummaryFormat, format_option(SummaryFormat)] = SummaryFormat.table,
    out: OutOption = None,
) -> None:
    """Show what the database holds: documents by format, records per type, errors, extractor version.

    **Example:**

        evx status --db outputs/evidence.db
    """
    with _errors_to_exit():
        status = store_status(open_store(db, readonly=True), db)
    with _errors_to_exit(), _stdout_may_close(), output(out) as fh:
        write_document(dataclasses.asdict(status), Format(fmt.value), fh, lambda: _status_text(status))


def _status_text(status) -> str:
    formats = ", ".join(f"{f} {n}" for f, n in status.documents_by_format.items())
    return "\n".join([
        f"database: {status.db_path} (schema {status.schema_version})",
        f"documents: {status.documents}" + (f" ({formats})" if formats else "")
        + (f"; {status.withdrawn_documents} withdrawn" if status.withdrawn_documents else "")
        + (f"; {status.duplicate_documents} merged copies of {len(status.merged_works)} works (records shown once)"
           if status.duplicate_documents else ""),
        "records: " + ", ".join(f"{t} {n}" for t, n in status.records.items()),
        f"errors: {status.errors}" + (' (see: evx query "SELECT * FROM ingest_error")' if status.errors else ""),
        "extractor: " + (", ".join(status.extractor_versions) or "-"),
        "last run: " + (f"{run['id']} {run['command']} {run['status']}, started {run['started']}"
                        if (run := status.last_run) else "-"),
    ])


@app.command("check")
def check_command(
    db: DbOption = DEFAULT_DB,
    foreign_keys: Annotated[bool, typer.Option("--foreign-keys/--no-foreign-keys", help="Also look for rows pointing at missing rows.")] = True,
    fmt: Annotated[SummaryFormat, format_option(SummaryFormat, 'json: {"database", "ok", "problems"}, written on damage too.')] = SummaryFormat.table,
    out: OutOption = None,
) -> None:
    """Check the database file for damage: SQLite's quick_check (every page and record
    readable, indexes in order) and foreign_key_check. Prints "ok" (exit code 0), or the
    first problem in one line (exit code 2). It reads the whole file once and changes nothing;
    a read-only copy can be checked too.

    **Example:**

        evx check --db outputs/evidence.db || echo "restore outputs/evidence.db from a backup"
    """
    fmt = Format(fmt.value)
    with _errors_to_exit():
        problems = check_store(db, foreign_keys=foreign_keys)
        if fmt is not Format.table or not problems:  # the table form of a problem is the error line
            with _stdout_may_close(), output(out) as fh:
                write_document({"database": str(db), "ok": not problems, "problems": problems}, fmt, fh, lambda: "ok")
        if problems:
            raise StoreDamaged(check_message(db, problems))


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
    fmt: Annotated[SummaryFormat, format_option(SummaryFormat, "table: figures then findings; json: everything.")] = SummaryFormat.table,
    out: OutOption = None,
    dev_set: Annotated[DevSet | None, typer.Option("--dev-set", help="A development set of the shared corpus, extracted in memory: crc (HER2-mCRC texts) or breast (PICO abstracts with BRAT figures).")] = None,
    shared: Annotated[Path, typer.Option("--shared", help="Where the shared corpus is (for --dev-set).", file_okay=False)] = Path("../shared/corpus"),
) -> None:
    """Score extracted evidence against gold annotations, as the shared scorer does.

    Prints precision, recall and F1 per record type, the accuracy of CI, trial, N and drugs on
    matched figures, BRAT figure recall, then the misses, false positives and wrong attributes.
    Records come from the database, a JSONL export (--pred) or an in-memory run (--corpus).

    **Example:**

        evx eval --gold ../shared/corpus/gold --brat ../shared/corpus/pico-breast --corpus ../shared/corpus/pico-breast

        evx eval --dev-set crc --kind outcome
    """
    from pipeline import evaluate as ev
    from pipeline.readers import iter_source_files

    if dev_set is not None:
        folders = {DevSet.crc: (shared / "crc-dev" / "gold", None, shared / "crc-dev"),
                   DevSet.breast: (shared / "gold", shared / "pico-breast", shared / "pico-breast")}[dev_set]
        missing = [str(f) for f in folders if f is not None and not f.is_dir()]
        if missing:
            raise typer.BadParameter(f"no folder {missing[0]} (set --shared)", param_hint="--shared")
        gold, brat, corpus = folders
    if gold is None and brat is None:
        raise typer.BadParameter("give --gold, --brat, both, or --dev-set", param_hint="--gold")
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
    with _errors_to_exit(), _stdout_may_close(), output(out) as fh:
        if fmt is SummaryFormat.json:
            write_document(result.to_dict(), Format.json, fh, str)
            return
        fh.write(result.table() + "\n")
        if findings >= 0 and result.findings:
            shown = result.findings if findings == 0 else result.findings[:findings]
            fh.write(f"\nfindings ({len(result.findings)}):\n")
            write_table(["doc", "type", "finding", "what", "text"], [(f.doc, f.type, f.kind, f.what, f.text) for f in shown], fh)
            if len(shown) < len(result.findings):
                fh.write(f"... and {len(result.findings) - len(shown)} more (--findings 0 lists all)\n")


# ----------------------------------------------------------------------------- report, plot, serve

TrialFilter = Annotated[str | None, typer.Option("--trial", help="Only figures whose trial name contains this (any case).")]
EndpointFilter = Annotated[str | None, typer.Option("--endpoint", help="Only figures of this endpoint (ORR, PFS, OS...).")]
DrugFilter = Annotated[str | None, typer.Option("--drug", help="Only figures whose regimen names this drug (part of the name, any case).")]


def _filters(trial: str | None, endpoint: str | None, drug: str | None):
    from pipeline.report.data import Filters

    return Filters(trial=trial, endpoint=endpoint, drug=drug)


@app.command("report")
def report_command(
    db: DbOption = DEFAULT_DB,
    out: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", file_okay=False, help="Folder of the report: built beside it and renamed over it, so it must be new, empty or an earlier report.")] = Path("outputs/report"),
    trial: TrialFilter = None,
    endpoint: EndpointFilter = None,
    drug: DrugFilter = None,
    quiet: QuietOption = False,
) -> None:
    """Write a static HTML report of the evidence: open DIR/index.html from disk, no server needed.

    An evidence table per endpoint (trial, arm, regimen, N, value, 95% CI, p, document, page,
    verdict), sortable and filterable in the page; a row expands to its source sentence with the
    figure marked at its stored offsets. Forest plots of ORR and median PFS and OS are inline.
    Also a page per document with every record it yielded, and what the last run changed.
    Everything is in the files (no network, no CDN).

    **Example:**

        evx report --out outputs/report --endpoint ORR && xdg-open outputs/report/index.html
    """
    from pipeline.report.build import build_report

    with _errors_to_exit():
        result = build_report(open_store(db, readonly=True), out, _filters(trial, endpoint, drug), db_label=str(db))
    _say(f"wrote {out / 'index.html'}: {result.figures} figures, {result.documents} document pages, "
         f"{result.plots} forest plots ({result.seconds:.1f} s)", quiet)


class PlotFormat(str, Enum):
    svg = "svg"
    png = "png"


@app.command("plot")
def plot_command(
    db: DbOption = DEFAULT_DB,
    out: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", file_okay=False, help="Folder to write the plots into (made if missing).")] = Path("outputs/plots"),
    fmt: Annotated[PlotFormat, typer.Option("--format", help="svg (for the web, text kept as text) or png.")] = PlotFormat.svg,
    trial: TrialFilter = None,
    endpoint: EndpointFilter = None,
    drug: DrugFilter = None,
    quiet: QuietOption = False,
) -> None:
    """Draw forest plots: ORR (rate with its CI) and median PFS and OS (with CI) by trial and
    arm, one file per endpoint and unit (forest-ORR-rate-pct.svg...). A figure whose source
    states no CI is a hollow point; figures a reviewer rejected are left out.

    **Example:**

        evx plot --endpoint ORR --format png --out outputs/plots
    """
    from pipeline.report import plots
    from pipeline.report.build import write_plots
    from pipeline.report.data import load_figures, require_evidence

    filters = _filters(trial, endpoint, drug)
    with _errors_to_exit():
        engine = open_store(db, readonly=True)
        figures = load_figures(engine, filters)
        require_evidence(engine, str(db), figures, filters)
        forest = plots.forest_data(figures)
        if not forest:
            raise EvxError(f"no ORR rate or median PFS/OS figure to plot in {db}" + (f" matching {filters.describe()}" if filters else ""))
        written = write_plots(forest, out, fmt.value)
    for path, plot in written:
        _say(f"wrote {path}: {len(plot.points)} points", quiet)


@app.command("serve")
def serve_command(
    db: DbOption = DEFAULT_DB,
    host: Annotated[str, typer.Option("--host", help="Address to listen on; the default reaches this machine only.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=1, max=65535, help="Port to listen on.")] = 8001,
    metadata_only: Annotated[Path | None, typer.Option("--metadata-only", metavar="FILE", dir_okay=False,
                                                       help="Write Datasette's metadata for the database to FILE and exit (no server).")] = None,
) -> None:
    """Browse the database in Datasette, read-only: tables and columns described from evx's
    schema, facets on trial and endpoint, canned queries (ORR by trial, medians with CI, HER2
    definitions by document, failed files). The file is opened immutable, so nothing can change
    it; listens on 127.0.0.1 unless --host. Ctrl-C stops it.

    --metadata-only FILE writes the metadata for running Datasette yourself.

    **Example:**

        evx serve --db outputs/evidence.db --port 8001

        evx serve --metadata-only metadata.json && datasette -i outputs/evidence.db -m metadata.json
    """
    from pipeline import serve

    with _errors_to_exit():
        open_store(db, readonly=True).dispose()  # an evx database, undamaged, of this schema
        if metadata_only is not None:
            with output(metadata_only) as fh:
                fh.write(serve.metadata_text(db))
            return
        code = serve.serve(db, host, port, say=lambda line: _say(line))
    raise typer.Exit(code if code >= 0 else 128 - code)


SchemaFormat = format_choices("SchemaFormat", Format.table, Format.csv, Format.json, Format.jsonl)


@app.command("schema")
def schema_command(
    tables: Annotated[bool, typer.Option("--tables", help="List the database's tables and views with their columns instead.")] = False,
    fmt: Annotated[SchemaFormat | None, format_option(
        SchemaFormat, "The JSON Schema is json only; --tables takes all four.", show_default="json; table with --tables")] = None,
    out: OutOption = None,
) -> None:
    """Print the JSON Schema of an exported record (one JSONL line of `evx export`), or with
    --tables every table and view of the database with its columns.

    The JSON Schema is generated from the export models; schemas/evidence.schema.json is this
    output. The tables are read from the schema evx creates, so the list is never behind.

    **Example:**

        evx schema > schemas/evidence.schema.json

        evx schema --tables --format csv
    """
    chosen = Format(fmt.value) if fmt is not None else Format.table if tables else Format.json
    if not tables and chosen is not Format.json:
        raise typer.BadParameter("the JSON Schema is printed as json only (--tables lists the tables in any format)",
                                 param_hint="--format")
    with _errors_to_exit(), _stdout_may_close(), output(out) as fh:
        if tables:
            write_rows(["name", "kind", "columns"], [(t.name, t.kind, list(t.columns)) for t in database_tables()], chosen, fh)
        else:
            fh.write(schema_text())
