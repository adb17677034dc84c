"""Ingest orchestration: source files -> documents -> analysis -> the evidence database.

For each file: hash it, skip it when the database already holds it unchanged (same sha256 and
extractor version, so the file is not even read), else read all its documents, analyse each,
and store them together in one transaction. A file that fails in any way gets one row in
``ingest_error`` and one ``(path, reason)`` in the summary; it stores nothing and the batch goes on.
"""

from __future__ import annotations

import hashlib
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from pipeline import readers
from pipeline.analysis import Analysis
from pipeline.document import Document
from pipeline.errors import DocumentTimeout, EvxError
from pipeline.records import RECORD_TYPES
from pipeline.store import clear_error, ingest_errors, load_file, open_store, record_error, stored_file

DEFAULT_TIME_LIMIT = 120.0  # seconds to read or analyse one document

Progress = Callable[[int, int, Path], None]
"""Called after each file with (files done, files in total, the file)."""


@dataclass
class IngestSummary:
    """What one ingest run did."""

    files_seen: int = 0
    files_skipped: int = 0  # unchanged since they were stored
    documents_read: int = 0  # read, analysed and stored in this run
    documents_skipped: int = 0  # held by skipped files
    documents_replaced: int = 0  # stored from earlier versions of changed files, now removed
    records: Counter[str] = field(default_factory=lambda: Counter(dict.fromkeys(RECORD_TYPES, 0)))
    errors: list[tuple[str, str]] = field(default_factory=list)  # (file path, reason)
    elapsed: float = 0.0  # seconds

    def to_dict(self) -> dict:
        data = asdict(self)
        data["records"] = dict(self.records)
        data["errors"] = [{"path": p, "reason": r} for p, r in self.errors]
        return data


def ingest(
    paths: Iterable[Path | str],
    db_path: Path | str,
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    progress: Progress | None = None,
) -> IngestSummary:
    """Ingest the source files under ``paths`` into the database at ``db_path`` (made if missing).

    ``time_limit`` bounds the seconds spent reading or analysing any one document (None: no
    limit; enforced only in the main thread, with SIGALRM). Raises ``StoreError`` only when the
    database cannot be opened; every per-file problem ends up in the summary.
    """
    from pipeline import extract  # here, not at the top: spaCy loads slowly and only ingest needs it

    began = time.monotonic()
    summary = IngestSummary()
    engine = open_store(db_path, create=True)
    try:
        failed_before = {path for path, _reason in ingest_errors(engine)}
        files = list(readers.iter_source_files([Path(p) for p in paths]))
        for done, file in enumerate(files, 1):
            summary.files_seen += 1
            _ingest_file(engine, file, extract.EXTRACTOR_VERSION, time_limit, summary, failed_before)
            if progress:
                progress(done, len(files), file)
    finally:
        engine.dispose()
    summary.elapsed = time.monotonic() - began
    return summary


def _ingest_file(
    engine: Engine,
    file: Path,
    version: str,
    time_limit: float | None,
    summary: IngestSummary,
    failed_before: set[str],
) -> None:
    """Ingest one file into ``summary``; any failure becomes its error row."""
    file_path = str(file)
    try:
        digest = file_sha256(file)
        known = stored_file(engine, file_path)
        if known and known.sha256 == digest and known.extractor_version == version:
            if file_path in failed_before:  # a version of the file that failed in between
                clear_error(engine, file_path)
            summary.files_skipped += 1
            summary.documents_skipped += known.documents
            return
        analysed = read_and_analyse(file, time_limit)
        result = load_file(engine, file_path, digest, analysed, version)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        reason = failure_reason(exc)
        record_error(engine, file_path, reason)
        summary.errors.append((file_path, reason))
        return
    summary.documents_read += result.documents
    summary.documents_replaced += result.replaced
    summary.records.update(result.records)


def read_and_analyse(file: Path, time_limit: float | None = DEFAULT_TIME_LIMIT) -> list[tuple[Document, Analysis]]:
    """Every document of ``file`` with its analysis; each document read and analysed within
    ``time_limit`` seconds. All documents are read before any is analysed, so a file that
    fails half way stores nothing."""
    from pipeline import extract  # see ingest()

    documents: list[Document] = []
    stream = iter(readers.read_path(file))
    while True:
        with deadline(time_limit, f"reading document {len(documents) + 1}"):
            document = next(stream, None)
        if document is None:
            break
        documents.append(document)
    analysed = []
    for document in documents:
        with deadline(time_limit, f"analysing {document.source}"):
            analysed.append((document, extract.analyse(document)))
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
