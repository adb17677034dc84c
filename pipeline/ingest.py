"""Ingest and refresh runs: source files -> documents -> analysis -> the evidence database.

One run (``evx ingest`` or ``evx refresh``) holds the database's lock, opens a row in ``runs``,
and goes through its files one at a time:

* unchanged (same sha256, same extractor): skipped without being parsed;
* new or changed: read, analysed and loaded, replacing what the file gave before;
* unchanged but extracted by another extractor version (or ``reextract``): analysed again from
  the stored text and layout, without reading the file;
* withdrawn earlier and back with the same content: restored as it was;
* gone (refresh only): its documents are marked withdrawn by this run, not deleted.

Each file's change is one transaction, so a run killed at any point leaves every file either as
it was or fully loaded, and the next run picks up the rest. A file that fails in any way is
recorded (``ingest_error``, ``run_failure``) and retried by the next run; the batch goes on.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from pipeline import extractor, readers
from pipeline.analysis import Analysis
from pipeline.document import Document
from pipeline.errors import DocumentTimeout, EvxError
from pipeline.records import RECORD_TYPES
from pipeline.store import (
    LoadResult,
    StoredFile,
    StoreError,
    clear_error,
    ingest_errors,
    load_file,
    open_store,
    record_error,
    restore_file,
    source_files,
    stored_documents,
    withdraw_file,
)
from pipeline.store.db import add_source_root, require_db, source_roots
from pipeline.store.runs import exclusive, finish_run, start_run, update_run

DEFAULT_TIME_LIMIT = 120.0  # seconds to read or analyse one document
RUN_ROW_EVERY = 200  # files between updates of the run's counts

Progress = Callable[[int, int, str], None]
"""Called after each file with (files done, files in total, the file's name)."""

log = logging.getLogger("evx")


@dataclass
class IngestSummary:
    """What one run did. Files are counted once each, in the first category that fits."""

    run_id: int | None = None
    status: str = "running"
    files_seen: int = 0
    files_new: int = 0
    files_changed: int = 0
    files_reextracted: int = 0
    files_restored: int = 0
    files_skipped: int = 0  # unchanged since they were stored
    files_withdrawn: int = 0
    documents_read: int = 0  # analysed and stored in this run
    documents_skipped: int = 0  # held by skipped files
    documents_replaced: int = 0  # stored from earlier versions of changed files, now removed
    records: Counter[str] = field(default_factory=lambda: Counter(dict.fromkeys(RECORD_TYPES, 0)))
    records_added: int = 0
    records_removed: int = 0
    records_changed: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (file path, reason)
    elapsed: float = 0.0  # seconds

    def to_dict(self) -> dict:
        data = asdict(self)
        data["records"] = dict(self.records)
        data["errors"] = [{"path": p, "reason": r} for p, r in self.errors]
        return data

    def run_counts(self) -> dict[str, int]:
        """The counts kept in the ``runs`` row."""
        return dict(
            files_new=self.files_new, files_changed=self.files_changed, files_reextracted=self.files_reextracted,
            files_restored=self.files_restored, files_withdrawn=self.files_withdrawn,
            files_unchanged=self.files_skipped, files_failed=len(self.errors),
            records_added=self.records_added, records_removed=self.records_removed,
            records_changed=self.records_changed,
        )

    def count_load(self, result: LoadResult) -> None:
        self.documents_read += result.documents
        self.documents_replaced += result.replaced
        self.records.update(result.records)
        self.records_added += result.added
        self.records_removed += result.removed
        self.records_changed += result.changed


@dataclass(frozen=True)
class SourceFileRef:
    """A file found by a scan: ``name`` is the path it is stored under (the root as first given,
    joined with the path inside it), ``path`` where it is on disk now."""

    name: str
    path: Path


def ingest(
    paths: Iterable[Path | str],
    db_path: Path | str,
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    progress: Progress | None = None,
    reextract: bool = False,
) -> IngestSummary:
    """Ingest the files under ``paths`` into the database at ``db_path`` (made if missing).
    Files stored before and now gone are left alone (``refresh`` withdraws them)."""
    return _run("ingest", list(paths), db_path, withdraw=False, time_limit=time_limit, progress=progress,
                reextract=reextract)


def refresh(
    paths: Iterable[Path | str] | None,
    db_path: Path | str,
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    progress: Progress | None = None,
    reextract: bool = False,
) -> IngestSummary:
    """Bring the database at ``db_path`` up to date with its sources: the files and folders of
    earlier runs, or ``paths``. Files that disappeared from a scanned folder are withdrawn."""
    require_db(db_path)
    return _run("refresh", list(paths or []), db_path, withdraw=True, time_limit=time_limit, progress=progress,
                reextract=reextract)


def _run(
    command: str,
    paths: list[Path | str],
    db_path: Path | str,
    *,
    withdraw: bool,
    time_limit: float | None,
    progress: Progress | None,
    reextract: bool,
) -> IngestSummary:
    """One run under the database lock. Raises ``DatabaseBusy`` if another run holds it,
    ``StoreError`` if the database cannot be opened; per-file problems end up in the summary."""
    began = time.monotonic()
    summary = IngestSummary()
    version = extractor.EXTRACTOR_VERSION
    with exclusive(db_path):
        engine = open_store(db_path, create=True)
        try:
            summary.run_id = run_id = start_run(engine, command, version)
            log.info("run %d: %s started (extractor %s)", run_id, command, version)
            try:
                _do_run(engine, run_id, command, paths, version, withdraw, reextract, time_limit, progress, summary)
            except BaseException as exc:  # killed by a signal (SystemExit), Ctrl-C, or a bug
                summary.status = "interrupted" if isinstance(exc, (KeyboardInterrupt, SystemExit)) else "aborted"
                note = f"stopped: {type(exc).__name__}" + (f": {exc}" if str(exc) else "")
                finish_run(engine, run_id, summary.status, note=note[:300], **summary.run_counts())
                log.error("run %d: %s", run_id, note)
                raise
            summary.status = "failed_files" if summary.errors else "ok"
            finish_run(engine, run_id, summary.status, **summary.run_counts())
        finally:
            engine.dispose()
    summary.elapsed = time.monotonic() - began
    log.info(
        "run %d: %s in %.1f s: files %d new, %d changed, %d re-extracted, %d restored, %d withdrawn, %d unchanged, "
        "%d failed; records %d added, %d removed, %d changed",
        run_id, summary.status, summary.elapsed, summary.files_new, summary.files_changed, summary.files_reextracted,
        summary.files_restored, summary.files_withdrawn, summary.files_skipped, len(summary.errors),
        summary.records_added, summary.records_removed, summary.records_changed,
    )
    return summary


def _do_run(engine, run_id, command, paths, version, withdraw, reextract, time_limit, progress, summary) -> None:
    roots = _roots(engine, paths, run_id)
    if not roots:
        raise StoreError("nothing to refresh: the database records no sources yet (give paths, or run evx ingest)")
    files, scanned = _scan(roots, summary, engine, run_id)
    known = source_files(engine)
    failed_before = {path for path, _reason in ingest_errors(engine)}
    for done, ref in enumerate(files, 1):
        summary.files_seen += 1
        _process_file(engine, run_id, ref, known.get(ref.name), version, reextract, time_limit, summary, failed_before)
        if progress:
            progress(done, len(files), ref.name)
        if done % RUN_ROW_EVERY == 0:
            update_run(engine, run_id, **summary.run_counts())
    if withdraw:
        found = {ref.name for ref in files}
        for name, stored in known.items():
            if stored.withdrawn_run is None and name not in found and any(_under(name, root) for root in scanned):
                result = withdraw_file(engine, name, run_id)
                summary.files_withdrawn += 1
                summary.records_removed += result.removed
                log.info("run %d: withdrawn %s (gone; %d records out)", run_id, name, result.removed)


def _roots(engine: Engine, paths: list[Path | str], run_id: int) -> list[tuple[str, Path, bool]]:
    """(name, place on disk, is it a folder) of the roots to scan: ``paths`` (recorded as new roots unless an
    earlier root holds them), or every recorded root."""
    recorded = source_roots(engine)
    if not paths:
        return [(r.path, Path(r.abs_path), r.is_folder) for r in recorded]
    chosen = []
    for given in paths:
        absolute = Path(os.path.abspath(given))
        holder = next((r for r in recorded if absolute == Path(r.abs_path) or Path(r.abs_path) in absolute.parents), None)
        if holder is None:
            holder = add_source_root(engine, str(Path(given)), str(absolute), absolute.is_dir(), run_id)
            recorded.append(holder)
        name = str(Path(holder.path) / absolute.relative_to(holder.abs_path)) if absolute != Path(holder.abs_path) else holder.path
        chosen.append((os.path.normpath(name), absolute, absolute.is_dir()))
    return chosen


def _scan(roots, summary: IngestSummary, engine: Engine, run_id: int) -> tuple[list[SourceFileRef], list[str]]:
    """The files under the roots, named as stored, and the roots that could be scanned. A
    missing folder is a failure, not a reason to withdraw everything it held (an unmounted
    share looks the same as a deleted folder); a missing root file is simply gone."""
    files: list[SourceFileRef] = []
    scanned: list[str] = []
    seen: set[str] = set()
    for name, place, is_folder in roots:
        if place.is_dir():
            for file in readers.iter_source_files([place]):
                ref = SourceFileRef(os.path.normpath(os.path.join(name, os.path.relpath(file, place))), file)
                if ref.name not in seen:
                    seen.add(ref.name)
                    files.append(ref)
            scanned.append(name)
        elif place.is_file():
            if name not in seen:
                seen.add(name)
                files.append(SourceFileRef(name, place))
            scanned.append(name)
        elif not is_folder:  # a file given earlier, now gone
            scanned.append(name)
        else:
            reason = f"source folder {place} is missing; its files are kept as they were"
            record_error(engine, name, reason, run_id)
            summary.errors.append((name, reason))
            log.warning("run %d: %s: %s", run_id, name, reason)
    return files, scanned


def _under(name: str, root: str) -> bool:
    if root in (".", ""):
        return not os.path.isabs(name) and not name.startswith("..")
    return name == root or name.startswith(root.rstrip(os.sep) + os.sep)


def _process_file(
    engine: Engine,
    run_id: int,
    ref: SourceFileRef,
    known: StoredFile | None,
    version: str,
    reextract: bool,
    time_limit: float | None,
    summary: IngestSummary,
    failed_before: set[str],
) -> None:
    """Bring one file up to date; any failure becomes its error row and the run goes on."""
    try:
        digest = file_sha256(ref.path)
        if known is not None and known.sha256 == digest:
            acted = False
            if known.withdrawn_run is not None:
                result = restore_file(engine, ref.name, run_id)
                summary.files_restored += 1
                summary.records_added += result.added
                log.info("run %d: restored %s", run_id, ref.name)
                acted = True
            if reextract or known.extractor_version != version:
                documents = stored_documents(engine, ref.name)
                analysed = analyse_all(documents, time_limit) if documents is not None else read_and_analyse(ref.path, time_limit, ref.name)
                summary.count_load(load_file(engine, ref.name, digest, analysed, version, run_id=run_id, force=True))
                summary.files_reextracted += 1
                acted = True
            if not acted:
                summary.files_skipped += 1
                summary.documents_skipped += known.documents
            if ref.name in failed_before:  # a version of the file that failed in between
                clear_error(engine, ref.name)
            return
        analysed = read_and_analyse(ref.path, time_limit, ref.name)
        result = load_file(engine, ref.name, digest, analysed, version, run_id=run_id, force=True)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        reason = failure_reason(exc)
        record_error(engine, ref.name, reason, run_id)
        summary.errors.append((ref.name, reason))
        log.warning("run %d: failed %s: %s", run_id, ref.name, reason)
        return
    summary.count_load(result)
    if known is None:
        summary.files_new += 1
    else:
        summary.files_changed += 1
    log.info("run %d: %s %s (%d documents; records %d added, %d removed, %d changed)", run_id,
             "new" if known is None else "changed", ref.name, result.documents, result.added, result.removed, result.changed)


def read_and_analyse(
    file: Path, time_limit: float | None = DEFAULT_TIME_LIMIT, source: str | None = None
) -> list[tuple[Document, Analysis]]:
    """Every document of ``file`` (named after ``source``) with its analysis; each document read
    and analysed within ``time_limit`` seconds. All documents are read before any is analysed,
    so a file that fails half way stores nothing."""
    documents: list[Document] = []
    stream = iter(readers.read_path(file, source))
    while True:
        with deadline(time_limit, f"reading document {len(documents) + 1}"):
            document = next(stream, None)
        if document is None:
            break
        documents.append(document)
    return analyse_all(documents, time_limit)


def analyse_all(documents: list[Document], time_limit: float | None = DEFAULT_TIME_LIMIT) -> list[tuple[Document, Analysis]]:
    analysed = []
    for document in documents:
        with deadline(time_limit, f"analysing {document.source}"):
            analysed.append((document, extractor.analyse(document)))
    return analysed


def file_sha256(file: Path) -> str:
    """Hex sha256 of the file's bytes."""
    digest = hashlib.sha256()
    with open(file, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def failure_reason(exc: BaseException) -> str:
    """A one-line reason: the message of our own errors, type and message of anything else."""
    message = " ".join(str(exc).split())
    if isinstance(exc, EvxError):
        reason = message or type(exc).__name__
    elif isinstance(exc, OSError) and exc.strerror:
        reason = exc.strerror.lower()
    else:
        reason = f"unexpected {type(exc).__name__}" + (f": {message}" if message else "")
    return reason if len(reason) <= 300 else reason[:297] + "..."


@contextmanager
def deadline(seconds: float | None, what: str) -> Iterator[None]:
    """Raise ``DocumentTimeout`` in the block after ``seconds``. A no-op without a limit, off the
    main thread, or where SIGALRM does not exist (Windows)."""
    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(_signum, _frame):
        raise DocumentTimeout(f"timed out after {seconds:g} s {what}")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
