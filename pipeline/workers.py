"""Where files are read and analysed: in this process, or in a pool of worker processes.

The run itself stays in one process (it alone writes the database, in file order, so the result
is the same whatever the number of workers); only reading and analysis, the slow part, goes to
the workers. spaCy's own ``n_process`` is slower than one process for a pipeline this cheap,
so the unit of work is a whole file.

Workers start from a fork server (a clean process that has built the NLP pipeline once, which
its workers then share), not from a fork of the run: the run may have threads (the progress bar) and holds the database lock, which
a worker must not keep alive. A worker that dies (killed, or a crash in a PDF library) breaks
the pool; the file it was reading is then run alone in a fresh pool to tell whether it is the
cause, and the batch goes on either way.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from pipeline.errors import EvxError

TASKS_AHEAD_PER_WORKER = 4  # files read ahead of the one being stored, per worker


class WorkerDied(EvxError):
    """The worker process reading a file died (killed by the system, or a crash in a parser)."""


class Analysers:
    """Runs ``submit``-ted functions inline (``workers == 1``) or in ``workers`` processes,
    started on first use. Use as a context manager; leaving it on an error stops the workers."""

    def __init__(self, workers: int):
        self.workers = max(1, workers)
        self.ahead = 0 if self.workers == 1 else self.workers * TASKS_AHEAD_PER_WORKER
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Analysers:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._stop(wait=exc_type is None)

    def submit(self, fn: Callable, *args: Any) -> Pending:
        if self.workers == 1:
            return Pending.run_inline(fn, args)
        try:
            return Pending(self, fn, args, self._running_pool().submit(fn, *args))
        except BrokenProcessPool:  # broken by a worker that died since the last result
            self._stop(wait=False)
            return Pending(self, fn, args, self._running_pool().submit(fn, *args))

    def run_alone(self, fn: Callable, args: tuple) -> Any:
        """Run one task in a fresh pool; ``WorkerDied`` if its worker dies again."""
        self._stop(wait=False)
        try:
            return self._running_pool().submit(fn, *args).result()
        except BrokenProcessPool:
            self._stop(wait=False)
            raise WorkerDied("the worker process reading this file died (killed, or a crash in a parser)") from None

    def _running_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["pipeline.ingest", "pipeline.worker_start"])
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_start_worker,
                                             initargs=(os.getpid(),))
        return self._pool

    def _stop(self, wait: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if not wait:
            # Interrupted or broken: do not let the workers finish what they hold. The executor
            # has no public way to stop running tasks before Python 3.14.
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
        pool.shutdown(wait=wait, cancel_futures=not wait)


class Pending:
    """The result of one submitted task, to be collected in submission order."""

    def __init__(self, analysers: Analysers | None, fn: Callable, args: tuple, future: Future):
        self.analysers, self.fn, self.args, self.future = analysers, fn, args, future

    @classmethod
    def run_inline(cls, fn: Callable, args: tuple) -> Pending:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # noqa: BLE001 - raised again by result(), like a worker's
            future.set_exception(exc)
        return cls(None, fn, args, future)

    def result(self) -> Any:
        try:
            return self.future.result()
        except BrokenProcessPool:
            # Some worker died, on this file or on another in flight: this one alone tells.
            return self.analysers.run_alone(self.fn, self.args)


def _start_worker(run_pid: int) -> None:
    # Ctrl-C reaches the whole process group: the run stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_run, args=(run_pid,), daemon=True).start()
    from pipeline.extract.nlp import build_nlp

    build_nlp()  # built already by the fork server (pipeline.worker_start), unless that failed


def _exit_with_run(run_pid: int) -> None:
    """A worker whose run was killed would wait for work forever (the fork server, its parent,
    waits for its workers in turn): leave when the run is gone."""
    while _alive(run_pid):
        time.sleep(0.5)
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"  # a killed run not yet reaped is a zombie
    except FileNotFoundError:
        return False
    except OSError:  # no /proc (macOS): the signal-0 probe
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
