"""Run history (the ``runs`` table) and the lock that lets one writing run at a time touch a
database.

The lock is an advisory ``flock`` on ``<database>.lock``. The kernel releases it when the holder
exits in any way (SIGKILL and power loss included), so a crashed run never leaves a stale lock;
its ``runs`` row, still "running", is marked "interrupted" by the next run.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine, update
from sqlmodel import Session, select

from pipeline.store.db import DatabaseBusy, StoreError, database_failure  # noqa: F401 - DatabaseBusy, database_failure re-exported
from pipeline.store.models import Run, RunFailure


@contextmanager
def exclusive(db_path: Path | str) -> Iterator[None]:
    """Hold the database's run lock for the block; raise ``DatabaseBusy`` at once if another
    process holds it, ``StoreError`` if the lock file cannot be made."""
    db = Path(db_path)
    lock_path = db.with_name(db.name + ".lock")
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if exc.errno in (errno.ENOTDIR, errno.EEXIST):
            reason = f"{db.parent} is not a folder"
        raise StoreError(f"cannot lock the database: cannot create {lock_path} ({reason.lower()})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            raise DatabaseBusy(
                f"another evx run is writing to {db}" + (f" ({holder})" if holder else "") + "; not started"
            ) from None
        # Who holds it, for the message the next one prints. The file itself is never deleted:
        # deleting a lock file races with a process about to lock it.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, since {_now():%Y-%m-%d %H:%M:%S} UTC".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _now() -> datetime:
    return datetime.now(timezone.utc)


def start_run(engine: Engine, command: str, extractor_version: str) -> int:
    """Open a run; runs left "running" by a process that died are marked "interrupted" first
    (call this holding the lock, so none of them can still be running)."""
    with Session(engine) as session, session.begin():
        run = Run(command=command, started=_now(), extractor_version=extractor_version)
        session.add(run)
        session.flush()
        session.execute(
            update(Run).where(Run.status == "running", Run.id != run.id)
            .values(status="interrupted", note=f"did not finish (killed?); noticed by run {run.id}")
        )
        return run.id


def update_run(engine: Engine, run_id: int, **counts: int) -> None:
    """Store the run's counts so far (an interrupted run still shows what it did)."""
    with Session(engine) as session, session.begin():
        session.execute(update(Run).where(Run.id == run_id).values(**counts))


def finish_run(engine: Engine, run_id: int, status: str, note: str | None = None, **counts: int) -> None:
    with Session(engine) as session, session.begin():
        session.execute(update(Run).where(Run.id == run_id).values(status=status, finished=_now(), note=note, **counts))


def list_runs(engine: Engine, limit: int | None = None) -> list[Run]:
    """The latest runs first."""
    with Session(engine) as session:
        query = select(Run).order_by(Run.id.desc())
        return list(session.exec(query.limit(limit) if limit else query))


def run_failures(engine: Engine, run_id: int) -> list[tuple[str, str]]:
    """(path, reason) of the files that failed in a run."""
    with Session(engine) as session:
        rows = session.exec(select(RunFailure).where(RunFailure.run_id == run_id).order_by(RunFailure.id))
        return [(r.path, r.reason) for r in rows]
