"""Time and peak memory of evx on large multi-record exports, against the same records as files.

Writes N synthetic abstracts (text made up here, varied per record: drugs, trial names, sizes,
rates, CIs) as one RIS file, one MEDLINE/.nbib file and one PubMed XML ``PubmedArticleSet``,
and as N separate one-record RIS files (in folders of 1,000), then ingests each into a fresh
database with ``evx ingest`` in its own process and prints the wall time, the time per record,
the peak memory (RSS summed over the run and its workers, sampled from /proc every 50 ms) and
the ratio of each export's time per record to the separate files'. Also ingests a PubMed XML file with
no records, a PDF of 5,000 blank pages and a PDF with one huge page, which must each fail with
one line (or load) quickly and in little memory.

    python bench/large_exports.py                          # 100,000 records, default workers
    python bench/large_exports.py --records 20000 --workers 1 --formats ris,separate
    python bench/large_exports.py --keep /tmp/exports      # keep the generated files
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from speed import TreeMemory  # noqa: E402 - the same memory sampling as bench/speed.py

FORMATS = ("ris", "nbib", "xml", "separate")
EXTRAS = ("empty", "blank-pages", "huge-page")

# Words to vary the synthetic abstracts (written for this benchmark).
DRUGS = ["trastuzumab", "pertuzumab", "lapatinib", "tucatinib", "capecitabine", "oxaliplatin", "irinotecan",
         "cetuximab", "panitumumab", "bevacizumab", "pembrolizumab", "nivolumab", "regorafenib", "fluorouracil"]
CANCERS = ["metastatic colorectal cancer", "HER2-positive metastatic breast cancer", "gastric cancer",
           "RAS wild-type colorectal cancer", "advanced biliary tract cancer"]
DESIGNS = ["phase II", "phase III", "single-arm phase II", "randomised phase II", "phase Ib/II"]
JOURNALS = ["Journal of Synthetic Oncology", "Annals of Made-up Trials", "Benchmark Cancer Reports"]


def record(i: int) -> dict:
    """The fields of synthetic record ``i`` (deterministic)."""
    rng = random.Random(i)
    a, b = rng.sample(DRUGS, 2)
    trial = f"BENCH-{rng.choice('ABCDEFGH')}{i % 97}"
    n = rng.randint(20, 400)
    orr = rng.randint(5, 70) + rng.choice([0, 0.5])
    low, high = max(1, orr - rng.randint(5, 15)), min(99, orr + rng.randint(5, 15))
    pfs, os_ = rng.randint(20, 140) / 10, rng.randint(60, 360) / 10
    hr = rng.randint(40, 95) / 100
    sentences = [
        f"Background: Outcomes of patients with {rng.choice(CANCERS)} after standard therapy remain poor.",
        f"Methods: In this {rng.choice(DESIGNS)} trial ({trial}), {n} patients received {a} plus {b} "
        f"every {rng.choice([2, 3])} weeks until progression.",
        f"Results: The objective response rate was {orr}% (95% CI {low}-{high}).",
        f"Median progression-free survival was {pfs} months and median overall survival {os_} months "
        f"(HR {hr}, 95% CI {hr - 0.1:.2f}-{min(hr + 0.15, 1.2):.2f}; p = 0.0{rng.randint(1, 9)}).",
    ]
    if rng.random() < 0.5:
        sentences.append(f"Grade 3 or worse adverse events occurred in {rng.randint(5, 60)}% of patients.")
    sentences.append(f"Conclusions: {a.capitalize()} with {b} showed activity in record {i}.")
    return {
        "pmid": str(30_000_000 + i), "title": f"{a.capitalize()} plus {b} in {rng.choice(CANCERS)}: the {trial} trial",
        "abstract": " ".join(sentences), "year": 2000 + i % 25, "journal": rng.choice(JOURNALS),
    }


def ris_record(r: dict) -> str:
    return (f"TY  - JOUR\nTI  - {r['title']}\nAB  - {r['abstract']}\nPY  - {r['year']}\nJO  - {r['journal']}\n"
            f"AN  - {r['pmid']}\nER  - \n\n")


def nbib_record(r: dict) -> str:
    words, lines, line = r["abstract"].split(), [], ""
    for word in words:  # MEDLINE wraps values at ~80 columns, continuation lines indented by 6
        if line and len(line) + len(word) > 74:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    abstract = "\n      ".join(lines)
    return (f"PMID- {r['pmid']}\nTI  - {r['title']}\nAB  - {abstract}\nDP  - {r['year']}\n"
            f"JT  - {r['journal']}\n\n")


def xml_record(r: dict) -> str:
    return (f"<PubmedArticle><MedlineCitation><PMID>{r['pmid']}</PMID><Article><Journal><Title>{escape(r['journal'])}"
            f"</Title><JournalIssue><PubDate><Year>{r['year']}</Year></PubDate></JournalIssue></Journal>"
            f"<ArticleTitle>{escape(r['title'])}</ArticleTitle><Abstract><AbstractText>{escape(r['abstract'])}"
            f"</AbstractText></Abstract></Article></MedlineCitation></PubmedArticle>\n")


def write_exports(folder: Path, count: int, formats: list[str]) -> dict[str, Path]:
    """The inputs of each format under ``folder`` (a file, or a folder of files)."""
    made: dict[str, Path] = {}
    handles = {}
    for fmt, name in (("ris", "export.ris"), ("nbib", "export.nbib"), ("xml", "export.xml")):
        if fmt in formats:
            (folder / fmt).mkdir(parents=True, exist_ok=True)
            made[fmt] = folder / fmt / name
            handles[fmt] = made[fmt].open("w", encoding="utf-8")
    if "xml" in handles:
        handles["xml"].write('<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>\n')
    if "separate" in formats:
        made["separate"] = folder / "separate"
    for i in range(count):
        r = record(i)
        for fmt, handle in handles.items():
            handle.write({"ris": ris_record, "nbib": nbib_record, "xml": xml_record}[fmt](r))
        if "separate" in formats:
            sub = made["separate"] / f"{i // 1000:04d}"
            if i % 1000 == 0:
                sub.mkdir(parents=True, exist_ok=True)
            (sub / f"{r['pmid']}.ris").write_text(ris_record(r), encoding="utf-8")
    if "xml" in handles:
        handles["xml"].write("</PubmedArticleSet>\n")
    for handle in handles.values():
        handle.close()
    return made


def write_extras(folder: Path, extras: list[str]) -> dict[str, Path]:
    made = {}
    folder.mkdir(parents=True, exist_ok=True)
    if "empty" in extras:
        made["empty"] = folder / "no_records.xml"  # an efetch answer that found nothing
        made["empty"].write_text('<?xml version="1.0"?>\n<PubmedArticleSet>\n</PubmedArticleSet>\n', encoding="utf-8")
    if {"blank-pages", "huge-page"} & set(extras):
        from reportlab.pdfgen.canvas import Canvas  # a test dependency of evx
        if "blank-pages" in extras:
            made["blank-pages"] = folder / "blank_pages.pdf"
            canvas = Canvas(str(made["blank-pages"]))
            for _ in range(5000):
                canvas.showPage()
            canvas.save()
        if "huge-page" in extras:
            made["huge-page"] = folder / "huge_page.pdf"
            canvas = Canvas(str(made["huge-page"]), pagesize=(14_400, 14_400))  # 200 x 200 inches, PDF's maximum
            for row in range(600):
                canvas.drawString(36, 14_360 - row * 24, " ".join(record(row)["abstract"].split()[:60]))
            canvas.save()
    return made


def ingest(path: Path, db: Path, workers: int | None) -> dict:
    """One ``evx ingest`` in its own process: seconds, exit code, peak RSS (MB, summed over processes)."""
    args = [sys.executable, "-m", "pipeline", "ingest", str(path), "--db", str(db), "--format", "json"]
    if workers:
        args += ["--workers", str(workers)]
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=HERE.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    memory = TreeMemory(proc.pid)
    out, err = proc.communicate()
    memory.stop()
    seconds = time.perf_counter() - start
    try:
        summary = json.loads(out)
    except json.JSONDecodeError:
        summary = {}
    return {"seconds": seconds, "exit": proc.returncode, "peak_rss_mb": memory.peak_rss / 1024,
            "peak_pss_mb": memory.peak_pss / 1024, "documents": summary.get("documents_read"),
            "errors": summary.get("errors", []), "stderr": err[-500:]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=None, help="evx ingest --workers (default: evx's)")
    parser.add_argument("--formats", default=",".join(FORMATS), help=f"any of {','.join(FORMATS)}")
    parser.add_argument("--extras", default=",".join(EXTRAS), help=f"any of {','.join(EXTRAS)}, or none")
    parser.add_argument("--keep", type=Path, help="write the inputs and databases here and keep them")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    formats = [f for f in args.formats.split(",") if f]
    extras = [e for e in args.extras.split(",") if e and e != "none"]
    work = args.keep or Path(tempfile.mkdtemp(prefix="evx-large-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        began = time.perf_counter()
        inputs = write_exports(work / "inputs", args.records, formats)
        inputs.update(write_extras(work / "inputs" / "extras", extras))
        print(f"wrote {args.records:,} records as {', '.join(inputs)} in {time.perf_counter() - began:.0f} s",
              file=sys.stderr)
        results = {}
        for name, path in inputs.items():
            db = work / f"{name}.db"
            db.unlink(missing_ok=True)
            results[name] = result = ingest(path, db, args.workers)
            result["records"] = args.records if name in FORMATS else None
            print(f"{name}: {result['seconds']:.1f} s, peak RSS {result['peak_rss_mb']:.0f} MB, exit {result['exit']}"
                  f", {result['documents']} documents stored", file=sys.stderr)
            for error in result["errors"]:
                print(f"  {error['path']}: {error['reason']}", file=sys.stderr)
        _print(results, args)
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _print(results: dict, args) -> None:
    separate = results.get("separate")
    base = separate["seconds"] / args.records if separate else None
    print(f"\n{args.records:,} records, --workers {args.workers or 'default'}")
    print(f"{'input':<12} {'seconds':>8} {'ms/record':>10} {'vs files':>9} {'peak RSS MB':>12} {'PSS MB':>7} "
          f"{'stored':>8}  exit")
    for name, r in results.items():
        per = r["seconds"] / r["records"] * 1000 if r["records"] else None
        ratio = f"{r['seconds'] / r['records'] / base:.2f}x" if per and base else ""
        print(f"{name:<12} {r['seconds']:>8.1f} {per if per else float('nan'):>10.2f} {ratio:>9} "
              f"{r['peak_rss_mb']:>12.0f} {r['peak_pss_mb']:>7.0f} {r['documents'] or 0:>8}  {r['exit']}")


if __name__ == "__main__":
    raise SystemExit(main())
