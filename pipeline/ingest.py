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
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

from pipeline import extractor, readers
from pipeline.analyse import DEFAULT_TIME_LIMIT, analyse_all, deadline
from pipeline.analysis import Analysis
from pipeline.document import Document
from pipeline.errors import EvxError, FileChanged
from pipeline.records import RECORD_TYPES
from pipeline.store import (
    FileRows,
    LoadResult,
    StoredFile,
    StoreDamaged,
    StoreError,
    check_message,
    check_store,
    clear_error,
    file_rows,
    failed_files,
    load_file,
    load_file_pieces,
    note_file_stat,
    open_store,
    record_error,
    restore_file,
    source_files,
    stored_document_stream,
    stored_documents,
    withdraw_file,
)
from pipeline.store.db import FileStat, add_source_root, checkpoint, require_db, source_roots
from pipeline.store.runs import database_failure, exclusive, finish_run, start_run, update_run
from pipeline.workers import Analysers, Pending

if TYPE_CHECKING:
    from hashlib import _Hash as Hash

DEFAULT_MAX_TEXT = readers.DEFAULT_MAX_TEXT  # bytes of text in one document
WITHDRAW_SHARE = 0.2  # a refresh withdraws at most this share of a folder's files at once...
MASS_WITHDRAWAL = 10  # ...when that is more than this many files, and never all of them (see guard_withdrawal)
RECENT_CHANGE = 2.0  # seconds: a file modified more recently is hashed even if its stat matches
RUN_ROW_EVERY = 5.0  # seconds between updates of the run's counts (a commit each)
CHECKPOINT_EVERY = 0.25  # seconds at least between checkpoints made while waiting for workers
# A multi-record file (RIS, MEDLINE, PubMed XML) larger than this is read by the run itself, a
# record at a time, and analysed and stored in pieces (by the workers, if any), all in the file's
# one transaction: memory holds a few pieces, not the whole file's documents and analyses (3.8 GB
# summed over the run and 2 workers for 100,000 abstracts). Smaller files are read and analysed
# whole, as one task.
STREAM_BYTES = 1_000_000
PIECE_DOCUMENTS = 100  # documents in one piece (a task for a worker; 200 held 10 MB more in the run)...
PIECE_CHARS = 1_000_000  # ...or fewer if their text reaches this many characters

Progress = Callable[[int, int, str], None]
"""Called after each file with (files done, files in total, the file's name)."""

log = logging.getLogger("evx")
_stop_code: int | None = None  # set by request_stop: the run in progress stops after its current file
_waiting = False  # the run is waiting for an analysis (a worker's, or its own): no statement runs


def request_stop(exit_code: int | None) -> None:
    """Ask the run in progress to stop, exiting with ``exit_code``; made for signal handlers
    (SIGTERM). While the run waits for an analysis it stops at once (``SystemExit`` from the
    handler: the analysis is abandoned, its workers stopped, an open file rolled back); in the
    middle of storing, after the file in hand. The run records itself as interrupted."""
    global _stop_code
    _stop_code = exit_code
    if exit_code is not None and _waiting:
        raise SystemExit(exit_code)


@contextmanager
def _waiting_for_analysis() -> Iterator[None]:
    """The block only waits for (or runs) an analysis: a stop asked for may land in it."""
    global _waiting
    if _stop_code is not None:
        raise SystemExit(_stop_code)
    _waiting = True
    try:
        yield
    finally:
        _waiting = False


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
    files_given_up: int = 0  # failed give_up_after times in a row the same way, unchanged: not tried
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
    workers: int = 1,
    follow_outside_links: bool = False,
    max_text: int | None = DEFAULT_MAX_TEXT,
    exclude: Sequence[str] = (),
    give_up_after: int = 0,
) -> IngestSummary:
    """Ingest the files under ``paths`` into the database at ``db_path`` (made if missing).
    Files stored before and now gone are left alone (``refresh`` withdraws them). With
    ``workers`` > 1, files are read and analysed in that many processes; the result is the same.
    Symbolic links in folders are followed only inside the folder, unless ``follow_outside_links``.
    A document of more than ``max_text`` bytes of text (None: no limit) fails. Entries of folders
    matching a glob of ``exclude`` are left out (``readers.walk.excluded``). A file that failed
    ``give_up_after`` times in a row the same way (0: never), unchanged since, is skipped."""
    return _run("ingest", list(paths), db_path, withdraw=False, time_limit=time_limit, progress=progress,
                reextract=reextract, workers=workers, follow_outside_links=follow_outside_links, max_text=max_text,
                exclude=exclude, give_up_after=give_up_after)


def refresh(
    paths: Iterable[Path | str] | None,
    db_path: Path | str,
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    progress: Progress | None = None,
    reextract: bool = False,
    workers: int = 1,
    follow_outside_links: bool = False,
    max_text: int | None = DEFAULT_MAX_TEXT,
    allow_mass_withdrawal: bool = False,
    withdraw_share: float = WITHDRAW_SHARE,
    exclude: Sequence[str] = (),
    give_up_after: int = 0,
) -> IngestSummary:
    """Bring the database at ``db_path`` up to date with its sources: the files and folders of
    earlier runs, or ``paths``. Files that disappeared from a scanned folder are withdrawn, but
    not all of a folder's files, nor more than ``withdraw_share`` of them (if more than
    MASS_WITHDRAWAL files), unless ``allow_mass_withdrawal``: the folder fails instead. Files
    left out by ``exclude`` count as gone. ``give_up_after``: as for ``ingest``."""
    require_db(db_path)
    # A damaged file found before anything is written: a scheduled job stops there, loudly,
    # instead of writing into it until some statement meets the damaged page.
    if problems := check_store(db_path, foreign_keys=False):
        raise StoreDamaged(check_message(db_path, problems))
    return _run("refresh", list(paths or []), db_path, withdraw=True, time_limit=time_limit, progress=progress,
                reextract=reextract, workers=workers, follow_outside_links=follow_outside_links, max_text=max_text,
                allow_mass_withdrawal=allow_mass_withdrawal, withdraw_share=withdraw_share, exclude=exclude,
                give_up_after=give_up_after)


def _run(
    command: str,
    paths: list[Path | str],
    db_path: Path | str,
    *,
    withdraw: bool,
    time_limit: float | None,
    progress: Progress | None,
    reextract: bool,
    workers: int,
    follow_outside_links: bool,
    max_text: int | None,
    allow_mass_withdrawal: bool = False,
    withdraw_share: float = WITHDRAW_SHARE,
    exclude: Sequence[str] = (),
    give_up_after: int = 0,
) -> IngestSummary:
    """One run under the database lock. Raises ``DatabaseBusy`` if another run holds it,
    ``StoreError`` if the database cannot be opened; per-file problems end up in the summary."""
    began = time.monotonic()
    version = extractor.EXTRACTOR_VERSION
    with exclusive(db_path):
        engine = open_store(db_path, create=True)
        try:
            try:
                run_id = start_run(engine, command, version)
            except Exception as exc:  # noqa: BLE001 - e.g. another program holding the database's write lock
                failure = database_failure(exc, db_path)
                if failure is None:
                    raise
                raise failure from exc
            job = _Job(engine, run_id, version, reextract, time_limit, follow_outside_links, max_text)
            job.allow_mass_withdrawal, job.withdraw_share = allow_mass_withdrawal, withdraw_share
            job.exclude, job.give_up_after = tuple(exclude), give_up_after
            summary = job.summary
            log.info("run %d: %s started (extractor %s)", job.run_id, command, version)
            try:
                job.run(paths, withdraw, progress, workers)
            except BaseException as exc:  # killed by a signal (SystemExit), Ctrl-C, the database, or a bug
                summary.status = "interrupted" if isinstance(exc, (KeyboardInterrupt, SystemExit)) else "aborted"
                failure = database_failure(exc, db_path)
                note = f"stopped: {failure or type(exc).__name__}" + ("" if failure or not str(exc) else f": {exc}")
                log.error("run %d: %s", job.run_id, note, exc_info=summary.status == "aborted" and failure is None)
                try:
                    finish_run(engine, job.run_id, summary.status, note=note[:300], **summary.run_counts())
                except Exception as unrecorded:  # noqa: BLE001 - the disk is full, or the database gone: the next run marks it
                    log.error("run %d: could not record how it ended: %s", job.run_id, unrecorded)
                if failure is not None:
                    raise failure from exc
                raise
            summary.status = "failed_files" if summary.errors else "ok"
            finish_run(engine, job.run_id, summary.status, **summary.run_counts())
        finally:
            engine.dispose()
            request_stop(None)  # a stop asked for ends with this run
    summary.elapsed = time.monotonic() - began
    log.info(
        "run %d: %s in %.1f s: files %d new, %d changed, %d re-extracted, %d restored, %d withdrawn, %d unchanged, "
        "%d failed; records %d added, %d removed, %d changed",
        job.run_id, summary.status, summary.elapsed, summary.files_new, summary.files_changed, summary.files_reextracted,
        summary.files_restored, summary.files_withdrawn, summary.files_skipped, len(summary.errors),
        summary.records_added, summary.records_removed, summary.records_changed,
    )
    return summary


@dataclass
class _Step:
    """One file of a run between ``plan`` and ``finish``."""

    ref: SourceFileRef
    known: StoredFile | None
    digest: str | None = None
    stat: FileStat | None = None  # size and time stamp, None when too recent to trust
    analysis: Pending | None = None  # reading, analysis and the rows to store, under way
    stream: str | None = None  # or read and analysed in pieces when stored: from the "file", or "stored" documents
    error: Exception | None = None
    given_up: bool = False  # not tried: it failed the same way too often, unchanged


@dataclass(frozen=True)
class _Root:
    name: str  # the form its files are stored under
    place: Path  # where it is on disk
    is_folder: bool


class _Job:
    """The work of one run, file by file, counted in ``summary``."""

    def __init__(self, engine: Engine, run_id: int, version: str, reextract: bool, time_limit: float | None,
                 follow_outside_links: bool = False, max_text: int | None = DEFAULT_MAX_TEXT) -> None:
        self.engine, self.run_id, self.version = engine, run_id, version
        self.reextract, self.time_limit = reextract, time_limit
        self.follow_outside_links, self.max_text = follow_outside_links, max_text
        self.summary = IngestSummary(run_id=run_id)
        self.loads: Connection | None = None  # the connection that loads files, during run
        self.analysers: Analysers | None = None  # during run
        self.failed_before = failed_files(engine)  # by path
        self.unscanned: list[str] = []  # entries of scanned folders that could not be used: withdraw nothing under them
        self.allow_mass_withdrawal, self.withdraw_share = False, WITHDRAW_SHARE
        self.exclude: tuple[str, ...] = ()
        self.give_up_after = 0

    def run(self, paths: list[Path | str], withdraw: bool, progress: Progress | None, workers: int) -> None:
        roots = self.roots(paths)
        if not roots and not paths:
            raise StoreError("nothing to refresh: the database records no sources yet (give paths, or run evx ingest)")
        files, scanned = self.scan(roots)
        known = source_files(self.engine)
        # Files are planned (hashed, their analysis started) a few ahead of the one being
        # stored, and stored strictly in order.
        steps: deque[_Step] = deque()
        done, last_update = 0, time.monotonic()
        last_checkpoint = last_update
        # The loads share one connection, kept for the run (other statements take one from the pool).
        with Analysers(workers, len(files)) as self.analysers, self.engine.connect() as self.loads:
            analysers = self.analysers
            for position, ref in enumerate(files):
                self.summary.files_seen += 1
                steps.append(self.plan(ref, known.get(ref.name), analysers))
                while steps and (len(steps) > analysers.ahead or position == len(files) - 1):
                    step = steps.popleft()
                    waiting = step.analysis is not None and not step.analysis.ready()  # for a worker
                    if waiting and time.monotonic() - last_checkpoint > CHECKPOINT_EVERY:
                        checkpoint(self.loads)  # while the workers work, not when the run closes
                        last_checkpoint = time.monotonic()
                    self.finish(step)
                    done += 1
                    if progress:
                        progress(done, len(files), step.ref.name)
                    if time.monotonic() - last_update > RUN_ROW_EVERY:
                        update_run(self.engine, self.run_id, **self.summary.run_counts())
                        last_update = time.monotonic()
                    if _stop_code is not None:
                        raise SystemExit(_stop_code)
        if withdraw:
            found = {ref.name for ref in files}
            gone = [name for name, stored in known.items()
                    if stored.withdrawn_run is None and name not in found and any(_under(name, root) for root in scanned)
                    and not any(_under(name, entry) for entry in self.unscanned)]
            for name in self.guard_withdrawal(gone, known, [root for root in roots if root.name in scanned]):
                self.withdraw(name)

    def guard_withdrawal(self, gone: list[str], known: dict[str, StoredFile], roots: list[_Root]) -> list[str]:
        """The files of ``gone`` to withdraw: none of a folder whose files would all go, or more
        than ``withdraw_share`` of them (when that is more than MASS_WITHDRAWAL files), unless
        ``allow_mass_withdrawal``. A share that leaves at once is more likely an unmounted
        share, a sync client that emptied the folder or a wrong path than a deletion; it fails
        the folder (the run exits 1, the files are kept as they were)."""
        if self.allow_mass_withdrawal or not gone:
            return gone
        folders = sorted((root for root in roots if root.is_folder), key=lambda root: len(root.name), reverse=True)
        by_root: dict[str, list[str]] = {}
        for name in gone:
            holder = next((root.name for root in folders if _under(name, root.name)), None)
            by_root.setdefault(holder, []).append(name)  # None: under a root given as a file
        kept = list(by_root.pop(None, []))
        for root, names in by_root.items():
            held = sum(1 for name, stored in known.items() if stored.withdrawn_run is None and _under(name, root))
            if len(names) == held or (len(names) > self.withdraw_share * held and len(names) > MASS_WITHDRAWAL):
                self.fail(root, f"refused to withdraw {len(names)} of its {held} files at once (gone from the folder: "
                                f"unmounted, emptied, or moved?); nothing withdrawn; --allow-mass-withdrawal to withdraw them")
            else:
                kept += names
        return kept

    def roots(self, paths: list[Path | str]) -> list[_Root]:
        """The roots to scan: ``paths`` (recorded as new roots unless an earlier root holds
        them, whose naming they then follow), or every recorded root."""
        recorded = source_roots(self.engine)
        if not paths:
            return [_Root(r.path, Path(r.abs_path), r.is_folder) for r in recorded]
        chosen = []
        for given in paths:
            if readers.storable(str(given)) != str(given):  # the database holds UTF-8 names only
                self.fail(str(given), "file name is not valid UTF-8; rename it to read it")
                continue
            place = Path(os.path.abspath(given))
            holder = next((r for r in recorded if place == Path(r.abs_path) or Path(r.abs_path) in place.parents), None)
            if holder is None:
                holder = add_source_root(self.engine, str(Path(given)), str(place), place.is_dir(), self.run_id)
                recorded.append(holder)
            name = os.path.join(holder.path, os.path.relpath(place, holder.abs_path))
            chosen.append(_Root(os.path.normpath(name), place, place.is_dir()))
        return chosen

    def scan(self, roots: list[_Root]) -> tuple[list[SourceFileRef], list[str]]:
        """The files under the roots, named as stored, and the names of the roots that could be
        scanned. A missing folder is a failure, not a reason to withdraw everything it held (an
        unmounted share looks the same as a deleted folder); a missing root file is simply gone."""
        files: list[SourceFileRef] = []
        scanned: list[str] = []
        seen: set[str] = set()
        for root in roots:
            if root.place.is_dir():
                unusable: list[tuple[str, str]] = []
                names = readers.walk_folder(root.place, follow_outside_links=self.follow_outside_links, exclude=self.exclude,
                                            problem=lambda name, reason: unusable.append((name, reason)))
                found = [SourceFileRef(os.path.normpath(os.path.join(root.name, name)), root.place / name)
                         for name in names]
                failing = set()
                for name, reason in unusable:
                    path = os.path.normpath(os.path.join(root.name, name))
                    self.unscanned.append(path)
                    failing.add(path)
                    self.fail(path, reason)
                # An entry that failed before and is now a folder walked, or gone, has nothing left to retry
                # (the files found clear their own errors when they load).
                listed = failing | {ref.name for ref in found} | {root.name}
                for name in self.failed_before:
                    if name not in listed and _under(name, root.name):
                        clear_error(self.engine, name)
            elif root.place.is_file():
                found = [SourceFileRef(root.name, root.place)]
            elif root.is_folder:
                self.fail(root.name, f"source folder {root.place} is missing; its files are kept as they were")
                continue
            elif root.place.exists():  # a pipe or a device given by name: reading it could block for ever
                self.fail(root.name, "not a regular file or folder")
                continue
            else:
                found = []  # a file given earlier, now gone
            if root.name in self.failed_before:  # the folder is back
                clear_error(self.engine, root.name)
            scanned.append(root.name)
            for ref in found:
                if ref.name not in seen:
                    seen.add(ref.name)
                    files.append(ref)
        return files, scanned

    def plan(self, ref: SourceFileRef, known: StoredFile | None, analysers: Analysers) -> _Step:
        """Hash the file and start its analysis if it needs one; any failure is kept for ``finish``."""
        step = _Step(ref, known)
        try:
            step.stat = _file_stat(ref.path)
            failed = self.failed_before.get(ref.name)
            if (self.give_up_after and failed is not None and failed.failures >= self.give_up_after
                    and step.stat is not None and failed.stat == step.stat):
                step.given_up = True  # not even hashed: the same bytes would fail the same way
                return step
            if known is not None and step.stat is not None and known.stat == step.stat:
                step.digest = known.sha256  # same size and time stamp: unchanged, not read (as rsync and git judge)
            else:
                step.digest = file_sha256(ref.path)
            unchanged = known is not None and known.sha256 == step.digest
            if unchanged and not (self.reextract or known.extractor_version != self.version):
                return step  # nothing to analyse
            # An unchanged file is analysed again from its stored text; one stored before layouts
            # were kept (no stored documents) is read again.
            size = step.stat[0] if step.stat else os.path.getsize(ref.path)  # how much work, for batching
            if unchanged and known.documents > PIECE_DOCUMENTS:
                step.stream = "stored"
            elif not unchanged and size > STREAM_BYTES and readers.format_of(ref.path) in readers.MULTI_RECORD:
                step.stream = "file"
            if step.stream:
                analysers.not_submitted()
                return step
            documents = stored_documents(self.engine, ref.name) if unchanged else None
            with _waiting_for_analysis():  # with one process, submit analyses the file there and then
                if documents is None:
                    step.analysis = analysers.submit(read_for_store, ref.path, self.time_limit, ref.name, self.version,
                                                     self.max_text, size=size)
                else:
                    step.analysis = analysers.submit(analyse_for_store, documents, self.time_limit, self.version,
                                                     size=size)
        except Exception as exc:  # noqa: BLE001 - reported by finish, in file order
            step.error = exc
        return step

    def finish(self, step: _Step) -> None:
        """Store one planned file; any failure becomes its error row and the run goes on."""
        ref, known, summary = step.ref, step.known, self.summary
        if step.given_up:
            summary.files_given_up += 1
            failed = self.failed_before[ref.name]
            log.info("run %d: given up on %s (failed %d times in a row, unchanged: %s)", self.run_id, ref.name,
                     failed.failures, failed.reason)
            return
        try:
            if step.error is not None:
                raise step.error
            if known is not None and known.sha256 == step.digest:
                self.finish_unchanged(step)
                return
            result = self.load(step)
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
            if database_failure(exc, "") is not None:
                raise  # the database, not the file: a full disk, a lock held by another program
            self.fail(ref.name, failure_reason(exc), step.stat)
            return
        summary.count_load(result)
        if known is None:
            summary.files_new += 1
        else:
            summary.files_changed += 1
        log.info("run %d: %s %s (%d documents; records %d added, %d removed, %d changed)", self.run_id,
                 "new" if known is None else "changed", ref.name, result.documents, result.added, result.removed,
                 result.changed)

    def finish_unchanged(self, step: _Step) -> None:
        """A file whose content is stored: restore it if it was withdrawn, store its new
        analysis if another extractor made its records, else skip it."""
        ref, known, summary = step.ref, step.known, self.summary
        acted = False
        if known.withdrawn_run is not None:
            result = restore_file(self.engine, ref.name, self.run_id)
            summary.files_restored += 1
            summary.records_added += result.added
            log.info("run %d: restored %s", self.run_id, ref.name)
            acted = True
        if step.analysis is not None or step.stream:
            result = self.load(step)
            summary.count_load(result)
            summary.files_reextracted += 1
            acted = True
        if not acted:
            summary.files_skipped += 1
            summary.documents_skipped += known.documents
            if known.stat != step.stat:  # touched, or stored before time stamps were kept
                note_file_stat(self.engine, ref.name, step.stat)
        if ref.name in self.failed_before:  # a version of the file that failed in between
            clear_error(self.engine, ref.name)

    def load(self, step: _Step) -> LoadResult:
        """Store the file's new analysis, waiting for it, or made piece by piece."""
        if not step.stream:
            with _waiting_for_analysis():
                rows = step.analysis.result()
            digest, stat = step.digest, step.stat
            if rows.source_sha256 not in (None, digest):
                # Rewritten between the hash and the read: store what was read, under its own
                # hash, and no time stamp, so that the next run hashes the file again.
                log.warning("run %d: %s changed while it was read; stored as read", self.run_id, step.ref.name)
                digest, stat = rows.source_sha256, None
            return load_file(self.loads, step.ref.name, digest, rows, self.version, run_id=self.run_id, force=True,
                             stat=stat)
        documents = stored_document_stream(self.loads, step.ref.name) if step.stream == "stored" else None
        pieces = None
        if documents is None:  # not stored yet, or stored before layouts were kept: read the file
            digest = hashlib.sha256()
            documents = readers.read_path(step.ref.path, step.ref.name, self.max_text, digest)
            pieces = self._checked(self.pieces(documents), digest, step.digest)
        return load_file_pieces(self.loads, step.ref.name, step.digest, pieces or self.pieces(documents), self.version,
                                run_id=self.run_id, stat=step.stat)

    @staticmethod
    def _checked(pieces: Iterator[FileRows], digest: Hash, expected: str) -> Iterator[FileRows]:
        """``pieces``, then a failure (rolling the file back) if the bytes read were not those hashed
        when the run planned the file: its pieces were stored under the plan's hash."""
        yield from pieces
        if digest.hexdigest() != expected:
            raise FileChanged("changed while it was read; the next run reads it again")

    def pieces(self, documents: Iterator[Document]) -> Iterator[FileRows]:
        """The rows of ``documents``, analysed a piece at a time (a few pieces in flight with
        workers), in order. Each document is read within the time limit, and analysed within it.
        A stop asked for (SIGTERM) stops the run here, while it waits for a piece: the file's
        transaction is rolled back, and the next run loads it.

        The workers only analyse (``pipeline.analyse``, which does not import the store: each
        worker is 25 MB smaller); the run makes the rows, a tenth of the time of the analysis."""
        in_flight: deque[Pending] = deque()

        def next_result() -> list[tuple[Document, Analysis]]:
            with _waiting_for_analysis():
                return in_flight.popleft().result()

        for piece in _pieces(documents, self.time_limit):
            with _waiting_for_analysis():
                in_flight.append(self.analysers.submit_alone(analyse_all, piece, self.time_limit))
            if len(in_flight) > self.analysers.pieces_ahead:
                yield file_rows(next_result(), self.version)
        while in_flight:
            yield file_rows(next_result(), self.version)

    def withdraw(self, name: str) -> None:
        result = withdraw_file(self.engine, name, self.run_id)
        self.summary.files_withdrawn += 1
        self.summary.records_removed += result.removed
        log.info("run %d: withdrawn %s (gone; %d records out)", self.run_id, name, result.removed)

    def fail(self, name: str, reason: str, stat: FileStat | None = None) -> None:
        # A name that is not UTF-8 is recorded with its odd bytes shown as \xNN.
        name, reason = readers.storable(name), readers.storable(reason)
        record_error(self.engine, name, reason, self.run_id, stat)
        self.summary.errors.append((name, reason))
        log.warning("run %d: failed %s: %s", self.run_id, readers.printable(name), readers.printable(reason))


def _under(name: str, root: str) -> bool:
    if root in (".", ""):
        return not os.path.isabs(name) and not name.startswith("..")
    return name == root or name.startswith(root.rstrip(os.sep) + os.sep)


def read_and_analyse(
    file: Path, time_limit: float | None = DEFAULT_TIME_LIMIT, source: str | None = None,
    max_text: int | None = DEFAULT_MAX_TEXT, digest: Hash | None = None,
) -> list[tuple[Document, Analysis]]:
    """Every document of ``file`` (named after ``source``) with its analysis; each document read
    and analysed within ``time_limit`` seconds, none longer than ``max_text`` bytes. All
    documents are read before any is analysed, so a file that fails half way stores nothing.
    ``digest`` (hashlib) is fed the bytes read."""
    documents: list[Document] = []
    stream = iter(readers.read_path(file, source, max_text, digest))
    while True:
        with deadline(time_limit, f"reading document {len(documents) + 1}"):
            document = next(stream, None)
        if document is None:
            break
        documents.append(document)
    return analyse_all(documents, time_limit)


def _pieces(documents: Iterator[Document], time_limit: float | None) -> Iterator[list[Document]]:
    """``documents`` in consecutive lists of PIECE_DOCUMENTS (fewer past PIECE_CHARS of text),
    each document read within ``time_limit`` seconds."""
    piece: list[Document] = []
    chars = read = 0
    while True:
        with deadline(time_limit, f"reading document {read + 1}"):
            document = next(documents, None)
        if document is None:
            break
        read += 1
        piece.append(document)
        chars += len(document.text)
        if len(piece) >= PIECE_DOCUMENTS or chars >= PIECE_CHARS:
            yield piece
            piece, chars = [], 0
    if piece:
        yield piece


def read_for_store(file: Path, time_limit: float | None, source: str, version: str,
                   max_text: int | None = DEFAULT_MAX_TEXT) -> FileRows:
    """``read_and_analyse``, made into the rows that store it (in the worker: the run only inserts
    them), with the sha256 of the bytes they were read from."""
    digest = hashlib.sha256()
    rows = file_rows(read_and_analyse(file, time_limit, source, max_text, digest), version)
    rows.source_sha256 = digest.hexdigest()
    return rows


def analyse_for_store(documents: list[Document], time_limit: float | None, version: str) -> FileRows:
    return file_rows(analyse_all(documents, time_limit), version)


def _file_stat(file: Path) -> FileStat | None:
    """Size and modification time of ``file``; None if it was modified within the last
    RECENT_CHANGE seconds, since another change within the time stamp's granularity would
    keep the same stamp (the "racy git" problem): such a file is hashed on the next run too."""
    stat = os.stat(file)
    if time.time_ns() - stat.st_mtime_ns < RECENT_CHANGE * 1e9:
        return None
    return stat.st_size, stat.st_mtime_ns


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
