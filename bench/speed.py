"""evx's speed against the floors set by the libraries under it, on the same files.

One run times, each in its own process (so peak memory belongs to that job alone):

* the floors: pypdfium2 text only, pdfplumber ``extract_text(x_tolerance=1, use_text_flow=True)``,
  and the bare scispaCy pipeline (rule tokenizer + sentencizer + abbreviation detector);
* evx's full ingest into a fresh SQLite database (read, layout, tables, segment, extract, store),
  with one worker and with ``--workers`` (default: the machine's cores);

on the dev PDFs and abstracts, and prints throughput per core, peak memory and evx/floor
ratios (the speed-up of the workers also from back-to-back pairs of runs, since this kind of
machine drifts), plus the word-pair fidelity of the PDF text evx stored against the articles'
JATS XML.
Times are medians of ``--runs`` passes; evx's start-up (imports, building the NLP pipeline) is
timed apart from the ingest itself. The files are timed in two halves (folds), each ingested
by a pipeline built afresh and warmed, untimed, on the other half: as in one long run over new
papers, it has seen words of the field, but no word of the files it is timed on.
``--large N`` also ingests a corpus of N abstracts made by
copying the dev abstracts under new names, then times a refresh with nothing changed.

    python bench/speed.py                      # ../shared/corpus next to the repo
    python bench/speed.py --runs 5 --large 50000 --json bench.json
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import multiprocessing
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "corpus"


# --- jobs, each run in a child process ------------------------------------------------------


def floor_pdfium(pdfs: list[Path], runs: int) -> dict:
    import pypdfium2

    def one_pass() -> int:
        pages = 0
        for path in pdfs:
            pdf = pypdfium2.PdfDocument(path)
            for page in pdf:
                page.get_textpage().get_text_range()
                pages += 1
            pdf.close()
        return pages

    return _timed(one_pass, runs, "pages")


def floor_pdfplumber(pdfs: list[Path], runs: int) -> dict:
    import logging

    import pdfplumber

    logging.getLogger("pdfminer").setLevel(logging.ERROR)

    def one_pass() -> int:
        pages = 0
        for path in pdfs:
            with pdfplumber.open(path) as pdf:
                for page in pdf.pages:
                    page.extract_text(x_tolerance=1, use_text_flow=True)
                    page.close()
                    pages += 1
        return pages

    return _timed(one_pass, runs, "pages")


def floor_scispacy(abstracts: list[Path], runs: int) -> dict:
    import warnings

    import spacy
    from scispacy.abbreviation import AbbreviationDetector  # noqa: F401 - registers the factory
    from scispacy.custom_tokenizer import combined_rule_tokenizer

    warnings.filterwarnings("ignore")
    nlp = spacy.blank("en")
    nlp.tokenizer = combined_rule_tokenizer(nlp)
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("abbreviation_detector")
    texts = [path.read_text(encoding="utf-8") for path in abstracts]

    def one_pass() -> int:
        for doc in nlp.pipe(texts):
            pass
        return len(texts)

    return _timed(one_pass, runs, "documents")


def evx_ingest(folds: list[Path], runs: int, workers: int) -> dict:
    """Start-up once (imports, building the NLP pipeline; with workers, starting the workers
    that each build it), then ``runs`` ingests of both folds into fresh databases
    (``_held_out_ingest``)."""
    began = time.perf_counter()
    if workers == 1:
        from pipeline.extract.nlp import build_nlp

        build_nlp()
    else:
        _start_workers(workers)
    startup = time.perf_counter() - began
    work = Path(tempfile.mkdtemp(prefix="evx-bench-"))
    times, counts = [], {}
    try:
        for i in range(runs):
            db = work / f"run{i}.db"
            seconds, counts = _held_out_ingest(folds, db, workers, work / f"warm{i}")
            times.append(seconds)
        pages = _stored_pages(db)
        texts = _stored_texts(db)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"times": times, "median": statistics.median(times), "startup": startup, **counts, "pages": pages,
            "texts": texts}


def evx_pairs(folds: list[Path], runs: int, workers: int) -> dict:
    """The speed-up of ``workers`` over one worker from back-to-back pairs of ingests (order
    alternating): this VM's speed drifts by tens of percent within minutes, which skews a ratio
    of medians taken minutes apart. Memory is not measured here (both modes share the process)."""
    work = Path(tempfile.mkdtemp(prefix="evx-bench-"))
    ratios = []
    try:
        for i in range(runs):
            seconds = {}
            for n in ((1, workers) if i % 2 == 0 else (workers, 1)):
                seconds[n], _counts = _held_out_ingest(folds, work / f"run{i}-{n}.db", n, work / f"warm{i}-{n}")
            ratios.append(seconds[1] / seconds[workers])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"ratios": ratios, "median": statistics.median(ratios)}


def _held_out_ingest(folds: list[Path], db: Path, workers: int, scratch: Path) -> tuple[float, dict]:
    """Seconds to ingest every file into ``db``, each fold by a pipeline as a long run over new
    papers has it: one that has read other papers of the field but none of the timed files.
    A pipeline kept from the last run would find every word of the files in spaCy's vocabulary
    and evx's tokenizer cache. So each fold is ingested by a pipeline built afresh and warmed,
    untimed, by ingesting the other fold (into a scratch database); with workers, the workers
    so warmed are the ones the timed ingest gets, and each of them has first read the whole
    other fold (an ingest gives each only its share): every pipeline timed has read the same."""
    from pipeline.ingest import ingest

    scratch.mkdir(parents=True, exist_ok=True)
    seconds, counts = 0.0, {"documents": 0, "files": 0, "failed": 0}
    for i, fold in enumerate(folds):
        with _kept_workers():
            if workers == 1:
                from pipeline.extract.nlp import build_nlp

                gc.unfreeze()  # (evx freezes the objects of the pipeline it builds: let the last go)
                build_nlp.cache_clear()
            else:
                _warm_each_worker(workers, folds[1 - i])
            ingest([folds[1 - i]], scratch / f"fold{i}.db", **_ingest_options(workers))
            start = time.perf_counter()
            summary = ingest([fold], db, **_ingest_options(workers))
            seconds += time.perf_counter() - start
        counts["documents"] += summary.documents_read
        counts["files"] += summary.files_seen
        counts["failed"] += len(summary.errors)
    return seconds, counts


def _ingest_options(workers: int) -> dict:
    # (evx before issue 5 had no workers option: the "before" figures ran with 1)
    options = {"workers": workers} if workers != 1 else {}
    # The folds are folders of links to the corpus: links outside a folder are followed only on
    # request (evx before issue 15 followed them all and had no such option).
    import inspect

    from pipeline.ingest import ingest
    if "follow_outside_links" in inspect.signature(ingest).parameters:
        options["follow_outside_links"] = True
    return options


def _warm_each_worker(workers: int, folder: Path) -> None:
    """Have each worker of the kept pool read and analyse every file in ``folder``."""
    from pipeline.workers import Analysers

    with multiprocessing.Manager() as manager, Analysers(workers) as analysers:
        # Each task waits for all the others to start: no worker can take two.
        barrier = manager.Barrier(workers)
        pending = []
        for _ in range(workers):
            pending.append(analysers.submit(_analyse_folder, str(folder), barrier))
            analysers.send()  # one task a batch
        if len({task.result() for task in pending}) != workers:
            raise SystemExit("bench: a worker took two warm-up tasks")


def _analyse_folder(folder: str, barrier) -> int:
    from pipeline.ingest import read_and_analyse

    barrier.wait(timeout=600)
    for path in sorted(Path(folder).iterdir()):
        read_and_analyse(path, None, path.name)
    return os.getpid()


def _start_workers(workers: int) -> None:
    """Start the workers and give each a batch of work, to time evx's start-up with workers."""
    from pipeline.workers import BATCH_BYTES, Analysers

    with Analysers(workers) as analysers:
        for pending in [analysers.submit(abs, -1, size=BATCH_BYTES) for _ in range(workers)]:
            pending.result()


def _kept_workers() -> contextlib.ExitStack:
    """Workers kept from the warm-up ingest for the timed one. (evx before issue 5 has no workers.)"""
    stack = contextlib.ExitStack()
    try:
        from pipeline.workers import kept_workers
    except ImportError:
        return stack
    stack.enter_context(kept_workers())
    return stack


def _timed(one_pass, runs: int, unit: str) -> dict:
    one_pass()  # warm-up: imports, caches, files in the page cache
    times, count = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        count = one_pass()
        times.append(time.perf_counter() - start)
    return {"times": times, "median": statistics.median(times), unit: count}


def _stored_pages(db: Path) -> int:
    with sqlite3.connect(db) as con:
        return con.execute("select sum(json_array_length(layout, '$.pages')) from document").fetchone()[0] or 0


def _stored_texts(db: Path) -> dict[str, str]:
    """Stored text of each PDF document, by file stem (for the fidelity check)."""
    with sqlite3.connect(db) as con:
        rows = con.execute("select path, text from document where path like '%.pdf'").fetchall()
    return {Path(path).stem: text for path, text in rows}


CHILD_JOBS = {"floor_pdfium": floor_pdfium, "floor_pdfplumber": floor_pdfplumber, "floor_scispacy": floor_scispacy}


def child_main(job: str, params: dict) -> None:
    if job in ("evx_ingest", "evx_pairs"):
        run = evx_ingest if job == "evx_ingest" else evx_pairs
        result = run([Path(fold) for fold in params["folds"]], params["runs"], params["workers"])
    else:
        result = CHILD_JOBS[job]([Path(p) for p in params["files"]], params["runs"])
    json.dump(result, sys.stdout)


# --- the parent: run children, watch their memory, report -----------------------------------


class TreeMemory:
    """Peak memory of a process and its descendants, sampled from /proc: the sum of their RSS
    (shared pages counted in each process) every 50 ms, and of their PSS (shared pages split)
    every 250 ms. PSS comes from smaps_rollup, which costs the kernel about 1.5 ms a process
    for evx's: read every 50 ms, it took a tenth of a core from the workers it watched."""

    INTERVAL, PSS_EVERY = 0.05, 5

    def __init__(self, pid: int):
        self.pid, self.peak_rss, self.peak_pss = pid, 0, 0
        self._page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        sample = 0
        while not self._stop.wait(self.INTERVAL):
            pids = _tree(self.pid)
            self.peak_rss = max(self.peak_rss, sum(self._rss_kb(pid) for pid in pids))
            if sample % self.PSS_EVERY == 0:
                self.peak_pss = max(self.peak_pss, sum(_smaps_rollup(pid).get("Pss", 0) for pid in pids))
            sample += 1

    def _rss_kb(self, pid: int) -> int:
        try:
            return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * self._page_kb
        except (OSError, IndexError):
            return 0


def _tree(pid: int) -> list[int]:
    pids, i = [pid], 0
    while i < len(pids):
        try:
            children = Path(f"/proc/{pids[i]}/task/{pids[i]}/children").read_text().split()
        except OSError:
            children = []
        pids.extend(int(c) for c in children)
        i += 1
    return pids


def _smaps_rollup(pid: int) -> dict[str, int]:
    """kB values of /proc/PID/smaps_rollup (empty if the process is gone)."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return {}
    fields = {}
    for line in lines[1:]:
        name, _, rest = line.partition(":")
        if rest.strip().endswith("kB"):
            fields[name] = int(rest.split()[0])
    return fields


def run_child(job: str, params: dict, watch_memory: bool = True) -> dict:
    """Run one job in a fresh interpreter; its result plus the peak memory of its process tree."""
    code = f"import sys, json; sys.path.insert(0, {str(HERE)!r}); import speed; speed.child_main({job!r}, json.loads(sys.argv[1]))"
    proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(params)], stdout=subprocess.PIPE, text=True)
    memory = TreeMemory(proc.pid) if watch_memory else None
    out, _ = proc.communicate()
    if memory:
        memory.stop()
    if proc.returncode:
        raise SystemExit(f"bench job {job} failed (exit {proc.returncode})")
    result = json.loads(out)
    if memory:
        result["peak_rss_mb"], result["peak_pss_mb"] = memory.peak_rss / 1024, memory.peak_pss / 1024
    return result


def timed_command(args: list[str], runs: int) -> dict:
    """``evx ARGS`` ``runs`` times: median seconds and the peak memory of the slowest-memory run."""
    results = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "pipeline", *args], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        memory = TreeMemory(proc.pid)
        _, err = proc.communicate()
        memory.stop()
        results.append({"seconds": time.perf_counter() - start, "exit": proc.returncode, "stderr": err[-300:],
                        "peak_rss_mb": memory.peak_rss / 1024, "peak_pss_mb": memory.peak_pss / 1024})
    return {
        "times": [r["seconds"] for r in results], "median": statistics.median(r["seconds"] for r in results),
        "exits": [r["exit"] for r in results], "stderr": results[-1]["stderr"],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in results), "peak_pss_mb": max(r["peak_pss_mb"] for r in results),
    }


def two_folds(files: list[Path], folder: Path) -> list[str]:
    """Folders of links to every other file (the first, third...; the second, fourth...)."""
    return [str(linked_folder(files[i::2], folder / f"fold{i}")) for i in (0, 1)]


def linked_folder(files: list[Path], folder: Path) -> Path:
    """A folder of symbolic links to ``files``: the ingest sees exactly these files."""
    folder.mkdir(parents=True)
    for file in files:
        (folder / file.name).symlink_to(file.resolve())
    return folder


def large_corpus(abstracts: list[Path], size: int, folder: Path) -> Path:
    """``size`` abstracts made by copying the dev abstracts under new names, 1000 per folder."""
    texts = [path.read_bytes() for path in abstracts]
    for i in range(size):
        sub = folder / f"part{i // 1000:03d}"
        if i % 1000 == 0:
            sub.mkdir(parents=True)
        (sub / f"copy{i:06d}_{abstracts[i % len(abstracts)].name}").write_bytes(texts[i % len(texts)])
    return folder


def fidelity(texts: dict[str, str], pdf_dir: Path) -> tuple[float, int]:
    """Word-pair (bigram) share of the JATS XML found in evx's stored PDF text, micro-averaged."""
    sys.path.insert(0, str(HERE))
    from pdf_fidelity import best_reference, ngram_share

    found = total = files = 0
    for stem, text in sorted(texts.items()):
        xml_file = pdf_dir / f"{stem}.xml"
        if not xml_file.exists():
            continue
        reference = best_reference(xml_file.read_text(encoding="utf-8", errors="replace"), text)
        hit, n = ngram_share(reference, text, 2)
        found, total, files = found + hit, total + n, files + 1
    return (found / total if total else 0.0), files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdfs", type=Path, default=SHARED / "pdf-rct", help="folder of PDFs (with their .xml)")
    parser.add_argument("--abstracts", type=Path, default=SHARED / "pico-breast", help="folder of .txt abstracts")
    parser.add_argument("--runs", type=int, default=3, help="timed passes per job (median)")
    parser.add_argument("--plumber-runs", type=int, default=1, help="passes of the pdfplumber floor (~70 s each)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="workers of the parallel ingest")
    parser.add_argument("--large", type=int, default=0, metavar="N", help="also ingest and refresh N copied abstracts")
    parser.add_argument("--skip", nargs="*", default=[], choices=["pdfplumber", "pdf", "abstracts"], help="jobs to leave out")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)

    pdfs = sorted(args.pdfs.glob("*.pdf"))
    abstracts = sorted(args.abstracts.glob("*.txt"))
    cores = os.cpu_count()
    print(f"machine: {cores} cores; {len(pdfs)} PDFs in {args.pdfs}; {len(abstracts)} abstracts in {args.abstracts}; "
          f"medians of {args.runs} runs", flush=True)
    results: dict = {"cores": cores, "runs": args.runs}
    work = Path(tempfile.mkdtemp(prefix="evx-bench-"))
    try:
        if "pdf" not in args.skip:
            results["pdf"] = bench_pdfs(pdfs, work, args)
        if "abstracts" not in args.skip:
            results["abstracts"] = bench_abstracts(abstracts, work, args)
        if args.large:
            results["large"] = bench_large(abstracts, work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


def bench_pdfs(pdfs: list[Path], work: Path, args) -> dict:
    evx = {"folds": two_folds(pdfs, work / "pdfs"), "runs": args.runs}
    out = {"pdfium": run_child("floor_pdfium", {"files": [str(p) for p in pdfs], "runs": args.runs})}
    if "pdfplumber" not in args.skip:
        out["pdfplumber"] = run_child("floor_pdfplumber", {"files": [str(p) for p in pdfs], "runs": args.plumber_runs})
    out["evx_1"] = run_child("evx_ingest", {**evx, "workers": 1})
    if args.workers > 1:
        out["evx_n"] = run_child("evx_ingest", {**evx, "workers": args.workers})
        out["pairs"] = run_child("evx_pairs", {**evx, "workers": args.workers}, watch_memory=False)
    pages = out["pdfium"]["pages"]
    out["fidelity"], files = fidelity(out["evx_1"].pop("texts"), args.pdfs)
    out.get("evx_n", {}).pop("texts", None)
    print(f"\nPDFs: {len(pdfs)} files, {pages} pages (evx stored {out['evx_1']['pages']} pages, "
          f"{out['evx_1']['failed']} failed)")
    rows = [("pypdfium2 text (floor)", out["pdfium"]), ("pdfplumber extract_text (floor)", out.get("pdfplumber")),
            ("evx ingest, 1 worker", out["evx_1"]), (f"evx ingest, {args.workers} workers", out.get("evx_n"))]
    _print_table(rows, pages, "pages", {"pypdfium2": out["pdfium"], "pdfplumber": out.get("pdfplumber")}, args.workers)
    _print_pairs(out.get("pairs"), args.workers)
    print(f"word-pair fidelity of evx's stored PDF text vs JATS XML: {out['fidelity']:.4f} ({files} files)")
    return out


def bench_abstracts(abstracts: list[Path], work: Path, args) -> dict:
    evx = {"folds": two_folds(abstracts, work / "abstracts"), "runs": args.runs}
    out = {"scispacy": run_child("floor_scispacy", {"files": [str(p) for p in abstracts], "runs": args.runs})}
    out["evx_1"] = run_child("evx_ingest", {**evx, "workers": 1})
    if args.workers > 1:
        out["evx_n"] = run_child("evx_ingest", {**evx, "workers": args.workers})
        out["pairs"] = run_child("evx_pairs", {**evx, "workers": args.workers}, watch_memory=False)
    for key in ("evx_1", "evx_n"):
        out.get(key, {}).pop("texts", None)
    print(f"\nAbstracts: {len(abstracts)} files (evx stored {out['evx_1']['documents']} documents, "
          f"{out['evx_1']['failed']} failed)")
    rows = [("scispaCy tok+sent+abbrev (floor)", out["scispacy"]), ("evx ingest, 1 worker", out["evx_1"]),
            (f"evx ingest, {args.workers} workers", out.get("evx_n"))]
    _print_table(rows, len(abstracts), "docs", {"scispaCy": out["scispacy"]}, args.workers)
    _print_pairs(out.get("pairs"), args.workers)
    return out


def bench_large(abstracts: list[Path], work: Path, args) -> dict:
    corpus = large_corpus(abstracts, args.large, work / "large")
    db = work / "large.db"
    print(f"\nLarge corpus: {args.large} abstracts (copies of the dev abstracts), default workers", flush=True)
    out = {"ingest": timed_command(["ingest", str(corpus), "--db", str(db), "--quiet"], 1)}
    out["refresh"] = timed_command(["refresh", "--db", str(db), "--quiet"], args.runs)
    ingest, refresh = out["ingest"], out["refresh"]
    print(f"  ingest:  {ingest['median']:.1f} s ({args.large / ingest['median']:.0f} docs/s, start-up included), "
          f"peak RSS {ingest['peak_rss_mb']:.0f} MB (sum over processes), PSS {ingest['peak_pss_mb']:.0f} MB, "
          f"exit {ingest['exits'][0]}")
    print(f"  refresh, nothing changed: {refresh['median']:.2f} s (runs: {_seconds(refresh['times'])}), "
          f"peak RSS {refresh['peak_rss_mb']:.0f} MB, exits {refresh['exits']}")
    if any(ingest["exits"] + refresh["exits"]):
        print(f"  stderr: {ingest['stderr'] or refresh['stderr']}")
    return out


def _print_table(rows, count: int, unit: str, floors: dict, workers: int) -> None:
    print(f"  {'job':<34} {'median s':>9} {unit + '/s':>9} {'/s/core':>8} {'start-up s':>10} {'peak RSS MB':>11} "
          f"{'PSS MB':>7}  runs")
    for name, result in rows:
        if result is None:
            continue
        rate = count / result["median"]
        cores = workers if "workers" in name else 1
        startup = f"{result['startup']:.1f}" if "startup" in result else ""
        print(f"  {name:<34} {result['median']:>9.2f} {rate:>9.1f} {rate / cores:>8.1f} {startup:>10} "
              f"{result['peak_rss_mb']:>11.0f} {result['peak_pss_mb']:>7.0f}  {_seconds(result['times'])}")
    evx_1 = rows[-2][1]
    for floor_name, floor in floors.items():
        if floor is not None:
            print(f"  evx (1 worker) / {floor_name} floor: {evx_1['median'] / floor['median']:.2f}x the time")
    if rows[-1][1] is not None:
        print(f"  speed-up with {workers} workers: {evx_1['median'] / rows[-1][1]['median']:.2f}x")


def _print_pairs(pairs: dict | None, workers: int) -> None:
    if pairs:
        ratios = ", ".join(f"{r:.2f}" for r in pairs["ratios"])
        print(f"  speed-up with {workers} workers in back-to-back pairs: {pairs['median']:.2f}x (pairs: {ratios})")


def _seconds(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


if __name__ == "__main__":
    sys.exit(main())
