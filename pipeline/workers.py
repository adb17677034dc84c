"""Where files are read and analysed: in this process, or in a pool of worker processes.

The run itself stays in one process (it alone writes the database, in file order, so the result
is the same whatever the number of workers); only reading and analysis, the slow part, goes to
the workers. spaCy's own ``n_process`` is slower than one process for a pipeline this cheap,
so the unit of work is a whole file.

Workers are started fresh (spawned, not forked from the run: the run may have threads, the
progress bar, and holds the database lock, which a worker must not inherit), and each builds
the NLP pipeline itself (pipeline.worker_start). Forking them from a fork server that built the
pipeline once would share its memory between workers in principle, but with two workers it
adds a third copy: the sum of the processes' memory is lower this way.

A worker that dies (killed by the system, or a crash in a PDF library) breaks the whole pool:
every task in flight in it is lost, and the pool cannot say which one was in the dead worker.
The pool is then replaced once, and the lost tasks are sent to the new pool with the tasks still
to come: a worker killed from outside (the OOM killer) costs one pool's start. A task lost a second
time is run again in a quarantine: a second pool of one worker that runs one task at a time, so a
death there names its file for sure. Only the file that kills its worker there too fails
(``WorkerDied``).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

from pipeline.errors import EvxError

# Tasks go to the workers in batches: each send costs the run a hand-over of the GIL to the
# executor's threads (up to the 5 ms switch interval), more than storing an abstract takes.
BATCH_TASKS, BATCH_BYTES = 8, 200_000  # a batch is sent at 8 tasks or 200 kB of input (a PDF alone)
BATCHES_AHEAD_PER_WORKER = 2  # batches planned ahead of the one being stored, per worker


_kept: dict[int, ProcessPoolExecutor] | None = None  # pools kept between runs (kept_workers), by size


@contextmanager
def kept_workers() -> Iterator[None]:
    """Keep each run's worker processes for the next run in this block, instead of starting
    new ones: a benchmark warms the workers with one ingest and times the next, as the run's
    own process keeps its pipeline (spaCy's vocabulary and tokenizer cache fill up on first
    sight of each word, as in one long run)."""
    global _kept
    _kept = {}
    try:
        yield
    finally:
        pools, _kept = _kept, None
        for pool in pools.values():
            pool.shutdown(wait=True)


class WorkerDied(EvxError):
    """The worker process reading a file died (killed by the system, or a crash in a parser)."""


class Analysers:
    """Runs ``submit``-ted functions inline (``workers == 1``) or in ``workers`` processes,
    started on first use. Use as a context manager; leaving it on an error stops the workers."""

    def __init__(self, workers: int, tasks: int | None = None):
        """``tasks``: how many tasks the run expects to submit at most, if known. The batches
        then grow from one task at the start (the run stores nothing until the first batch is
        back) and shrink again towards the end (so that no worker sits idle while another
        finishes a full batch): on a few hundred abstracts these two waits were about a sixth
        of a run with 2 workers."""
        self.workers = max(1, workers)
        self.ahead = 0 if self.workers == 1 else self.workers * BATCHES_AHEAD_PER_WORKER * BATCH_TASKS
        self._pool: ProcessPoolExecutor | None = None
        self._unsent: list[Pending] = []
        self._unsent_bytes = 0
        self._unsubmitted = tasks  # tasks not yet submitted, if known
        self._batches_sent = 0
        self._quarantine: ProcessPoolExecutor | None = None  # one worker, for tasks lost twice
        self._in_flight: dict[Pending, None] = {}  # sent and not yet collected, in sending order

    def __enter__(self) -> Analysers:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._stop(wait=exc_type is None)

    def submit(self, fn: Callable, *args: Any, size: int = 0) -> Pending:
        """Run ``fn(*args)``; ``size`` (bytes of input) decides how many tasks travel together."""
        if self.workers == 1:
            return Pending.run_inline(fn, args)
        pending = Pending(self, fn, args)
        self._unsent.append(pending)
        self._unsent_bytes += size
        if self._unsubmitted is not None:
            self._unsubmitted -= 1
        if len(self._unsent) >= self._batch_tasks() or self._unsent_bytes >= BATCH_BYTES:
            self.send()
        return pending

    def _batch_tasks(self) -> int:
        """Tasks in the batch being filled: 1, 2, 4... up to BATCH_TASKS at the start; near
        the end, about half a worker's share of what is left."""
        tasks = min(BATCH_TASKS, 1 << self._batches_sent)
        if self._unsubmitted is not None:
            tasks = min(tasks, max(1, (len(self._unsent) + self._unsubmitted) // (2 * self.workers)))
        return tasks

    def submit_alone(self, fn: Callable, *args: Any) -> Pending:
        """Run ``fn(*args)``, sent at once as a batch of its own (a task as large as a batch: a
        piece of a large file). Not one of the ``tasks`` the run announced."""
        if self.workers == 1:
            return Pending.run_inline(fn, args)
        pending = Pending(self, fn, args)
        self._send([pending])
        return pending

    def not_submitted(self) -> None:
        """One of the announced ``tasks`` will not be submitted (its file is sent in pieces)."""
        if self._unsubmitted is not None:
            self._unsubmitted -= 1

    @property
    def pieces_ahead(self) -> int:
        """How many ``submit_alone`` tasks to keep in flight beyond the one awaited."""
        return 0 if self.workers == 1 else self.workers * BATCHES_AHEAD_PER_WORKER

    def send(self) -> None:
        """Send the tasks submitted since the last batch, as one batch."""
        batch, self._unsent, self._unsent_bytes = self._unsent, [], 0
        self._send(batch)

    def _send(self, batch: list[Pending]) -> None:
        if not batch:
            return
        self._batches_sent += 1
        calls = [(p.fn, p.args) for p in batch]
        pool = self._running_pool()
        try:
            future = pool.submit(_run_batch, calls)
        except BrokenProcessPool:  # broken by a worker that died since the last result
            self._recover(pool)
            future = self._running_pool().submit(_run_batch, calls)
        for index, pending in enumerate(batch):
            pending.future, pending.index, pending.pool = future, index, self._pool
            self._in_flight[pending] = None

    def collected(self, pending: Pending) -> None:
        self._in_flight.pop(pending, None)

    def _recover(self, broken: ProcessPoolExecutor | None) -> None:
        """Once per broken pool: replace it, and send the tasks lost with it to the new pool,
        but those lost once before (they go to the quarantine when collected)."""
        if broken is None or broken is not self._pool:
            return  # already replaced
        lost = [p for p in self._in_flight if p.pool is broken and not _came_back(p.future)]
        self._stop(wait=False)
        for pending in lost:
            pending.losses += 1
            self._in_flight.pop(pending)
        again = [p for p in lost if p.losses == 1]
        for start in range(0, len(again), BATCH_TASKS):
            self._send(again[start:start + BATCH_TASKS])

    def run_again(self, pending: Pending) -> Any:
        """The result of a task lost with a broken pool: lost once, it was sent to the new pool
        (``_recover``); lost twice, it runs again alone in the quarantine, and ``WorkerDied`` if
        it kills that worker too."""
        self._recover(pending.pool)
        if pending.losses == 1:
            return pending.result()
        if self._quarantine is None:
            context = multiprocessing.get_context("spawn")
            self._quarantine = ProcessPoolExecutor(1, mp_context=context, initializer=_start_worker,
                                                   initargs=(os.getpid(),))
        try:
            return self._quarantine.submit(pending.fn, *pending.args).result()
        except BrokenProcessPool:
            self._close_quarantine()
            raise WorkerDied("the worker process reading this file died (killed, or a crash in a parser)") from None

    def close_quarantine_if_past(self, pending: Pending) -> None:
        """A task of the current pool came back whole: the lost tasks, all sent before it, are
        most likely behind the run, and the quarantine's worker need not wait for more."""
        if self._quarantine is not None and pending.pool is self._pool:
            self._close_quarantine()

    def _close_quarantine(self) -> None:
        quarantine, self._quarantine = self._quarantine, None
        if quarantine is not None:
            _terminate_workers(quarantine)
            quarantine.shutdown(wait=False, cancel_futures=True)

    def _running_pool(self) -> ProcessPoolExecutor:
        if self._pool is None and _kept is not None:
            self._pool = _kept.get(self.workers)
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_start_worker,
                                             initargs=(os.getpid(),))
            if _kept is not None:
                _kept[self.workers] = self._pool
        return self._pool

    def _stop(self, wait: bool) -> None:
        self._close_quarantine()
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if _kept is not None and _kept.get(self.workers) is pool:
            if wait:
                return  # kept for the next run
            del _kept[self.workers]
        if not wait:
            _terminate_workers(pool)  # interrupted or broken: do not let the workers finish what they hold
        pool.shutdown(wait=wait, cancel_futures=not wait)


def _came_back(future: Future | None) -> bool:
    """Whether a batch's results arrived before its pool broke."""
    return future is not None and future.done() and not future.cancelled() and future.exception() is None


def _terminate_workers(pool: ProcessPoolExecutor) -> None:
    # The executor has no public way to stop running tasks before Python 3.14.
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()


class Pending:
    """The result of one submitted task, to be collected in submission order."""

    def __init__(self, analysers: Analysers | None, fn: Callable, args: tuple):
        self.analysers, self.fn, self.args = analysers, fn, args
        self.future: Future | None = None  # of its batch, once sent
        self.index = 0  # in the batch
        self.pool: ProcessPoolExecutor | None = None  # the pool it was sent to
        self.losses = 0  # how many broken pools it was lost with

    @classmethod
    def run_inline(cls, fn: Callable, args: tuple) -> Pending:
        pending = cls(None, fn, args)
        pending.future = Future()
        pending.future.set_result(_run_batch([(fn, args)]))
        return pending

    def ready(self) -> bool:
        """True if ``result`` would not wait for a worker."""
        return self.future is not None and self.future.done()

    def result(self) -> Any:
        if self.future is None:
            self.analysers.send()
        try:
            done, value = self.future.result()[self.index]
        except (BrokenProcessPool, CancelledError):
            # A worker died, reading this file or another one in flight; or the pool was
            # stopped because of it before this task ran.
            return self.analysers.run_again(self)
        if self.analysers is not None:
            self.analysers.collected(self)
            self.analysers.close_quarantine_if_past(self)
        if not done:
            raise value
        return value


def _run_batch(calls: list[tuple[Callable, tuple]]) -> list[tuple[bool, Any]]:
    """Each call's (True, result) or (False, exception): one failing file fails alone."""
    results = []
    for fn, args in calls:
        try:
            results.append((True, fn(*args)))
        except Exception as exc:  # noqa: BLE001 - raised again by Pending.result, in the run
            results.append((False, exc))
    return results


def _start_worker(run_pid: int) -> None:
    # Ctrl-C reaches the whole process group: the run stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_run, args=(run_pid,), daemon=True).start()
    import pipeline.worker_start  # noqa: F401 - builds the NLP pipeline and warms it up


def _exit_with_run(run_pid: int) -> None:
    """A worker whose run was killed would wait for work forever: leave when the run is gone."""
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
