"""Reading and analysis in worker processes: same results in the same order as in one process,
and a worker that dies fails only the file it was reading."""

import itertools
import os
import shutil
import subprocess
import sys
import time

import pytest

from pipeline.export import export_records, write_jsonl
import pipeline.ingest
from pipeline.ingest import ingest
from pipeline.store import open_store
from pipeline.store.db import checkpoint
from pipeline.workers import BATCH_TASKS, Analysers, WorkerDied, kept_workers
from conftest import process_alive


def _square(x: int) -> int:
    return x * x


def _fail_or_die(x: int) -> int:
    if x == 2:
        raise ValueError("bad input 2")
    if x == 3:
        os._exit(9)  # as if the system killed the worker, or a parser crashed
    return x * x


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_order(workers):
    with Analysers(workers) as analysers:
        pending = [analysers.submit(_square, x) for x in range(12)]
        assert [p.result() for p in pending] == [x * x for x in range(12)]


def test_batches_grow_at_the_start_and_shrink_at_the_end():
    with Analysers(2, tasks=60) as analysers:
        pending = [analysers.submit(_square, x) for x in range(60)]
        assert [p.result() for p in pending] == [x * x for x in range(60)]
    sizes = [sum(1 for _ in group) for _future, group in itertools.groupby(pending, key=lambda p: id(p.future))]
    assert sum(sizes) == 60 and max(sizes) == BATCH_TASKS
    assert sizes[:4] == [1, 2, 4, 8]  # the first result is back after one task
    tail = sizes[sizes.index(BATCH_TASKS, 4):]
    assert tail == sorted(tail, reverse=True) and tail[-1] == 1, sizes  # no full batch last


def test_a_dead_worker_fails_its_own_task_only():
    with Analysers(2) as analysers:
        pending = [analysers.submit(_fail_or_die, x) for x in range(8)]
        results = []
        for p in pending:
            try:
                results.append(p.result())
            except (ValueError, WorkerDied) as exc:
                results.append(type(exc).__name__)
    assert results == [0, 1, "ValueError", "WorkerDied", 16, 25, 36, 49]


def _square_slowly(x: int, marker: str | None = None) -> int:
    """A task of 30 ms; with ``marker``, the worker holding task 40 dies once (the marker is
    gone when the task runs again), as if the system's OOM killer had picked it."""
    if marker and x == 40 and os.path.exists(marker):
        os.remove(marker)
        os._exit(9)
    time.sleep(0.03)
    return x * x


def _timed_run(tasks: int, marker: str | None = None) -> tuple[list, float]:
    began = time.monotonic()
    with Analysers(2, tasks=tasks) as analysers:
        pending = [analysers.submit(_square_slowly, x, marker) for x in range(tasks)]
        results = []
        for p in pending:
            try:
                results.append(p.result())
            except Exception as exc:  # noqa: BLE001 - any failure is what the test looks for
                results.append(type(exc).__name__)
    return results, time.monotonic() - began


def test_a_worker_killed_once_loses_no_task_and_the_run_keeps_its_speed(tmp_path):
    marker = tmp_path / "kill-once"
    marker.touch()
    undisturbed, undisturbed_s = _timed_run(300)
    disturbed, disturbed_s = _timed_run(300, str(marker))
    assert not marker.exists()  # a worker did die
    assert disturbed == undisturbed == [x * x for x in range(300)]  # every task, the lost ones run again
    assert disturbed_s <= 2 * undisturbed_s, (disturbed_s, undisturbed_s)


def _pid_after_a_while(_task: int) -> int:
    time.sleep(0.05)  # long enough for the next batch to go to the other worker
    return os.getpid()


def _worker_pids(analysers: Analysers) -> set[int]:
    pending = [analysers.submit(_pid_after_a_while, i) for i in range(16)]  # two batches
    return {p.result() for p in pending}


def test_kept_workers_serve_the_next_run_and_leave_with_the_block():
    with kept_workers():
        with Analysers(2) as first:
            first_pids = _worker_pids(first)
        with Analysers(2) as second:
            second_pids = _worker_pids(second)
        assert first_pids == second_pids and len(first_pids) == 2 and os.getpid() not in first_pids
        with Analysers(2) as broken:  # a pool broken by a dead worker is not kept
            with pytest.raises(WorkerDied):
                broken.submit(_fail_or_die, 3).result()
        with Analysers(2) as third:
            third_pids = _worker_pids(third)
        assert not third_pids & first_pids
    time.sleep(1.0)
    assert not any(process_alive(pid) for pid in third_pids)  # shut down with the block
    with Analysers(2) as outside:
        assert not _worker_pids(outside) & third_pids




def test_parallel_ingest_stores_what_one_process_stores(shared_corpus, tmp_path, monkeypatch):
    """Real extraction of real abstracts and a PDF: the exports are byte-identical (and
    checkpoints made while waiting for the workers change nothing)."""
    checkpoints = []
    monkeypatch.setattr(pipeline.ingest, "CHECKPOINT_EVERY", 0.0)
    monkeypatch.setattr(pipeline.ingest, "checkpoint", lambda conn: checkpoints.append(checkpoint(conn)))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    abstracts = sorted((shared_corpus / "pico-breast").glob("*.txt"))[:40]
    for file in abstracts + sorted((shared_corpus / "pdf-rct").glob("*.pdf"))[:1]:
        shutil.copy(file, corpus / file.name)
    exports = []
    for workers in (1, 2):
        db = tmp_path / f"w{workers}.db"
        checkpoints.clear()
        summary = ingest([corpus], db, workers=workers)
        assert summary.errors == [] and summary.files_new == 41
        assert bool(checkpoints) == (workers > 1)  # only a run with workers waits for results
        out = tmp_path / f"w{workers}.jsonl"
        engine = open_store(db)
        with open(out, "w", encoding="utf-8") as fh:
            write_jsonl(export_records(engine), fh)
        engine.dispose()
        exports.append(out.read_bytes())
    assert exports[0] == exports[1]
    assert exports[0].count(b"\n") > 100  # records were extracted, not two empty files


def test_workers_leave_when_their_run_is_killed():
    code = (
        "import sys, time\n"
        "from pipeline.workers import Analysers\n"
        "analysers = Analysers(2)\n"
        "analysers.submit(abs, -1).result()\n"
        "print(*analysers._pool._processes, flush=True)\n"
        "time.sleep(60)\n"
    )
    run = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        workers = [int(pid) for pid in run.stdout.readline().split()]
        assert workers and all(_exists(pid) for pid in workers)
    finally:
        run.kill()
        run.wait()
    deadline = time.monotonic() + 10
    while any(_exists(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_exists(pid) for pid in workers)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
