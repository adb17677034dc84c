"""PDF table detection measured against the JATS XML of the same articles: evx's reader
(pipeline/readers/pdf.py with pdf_grid.py) and, when they are importable, pdfplumber's table
finder and camelot.

Per detector: tables found against the XML's <table-wrap> count (articles where the counts
agree, tables too many), cells found, cell recall (share of the XML's distinct non-empty cell
texts found as a cell, compared lower-cased without white space), cell precision (share of
the cells found that are an XML cell), seconds spent on tables and cells per second.
evx's table time is its read with tables minus its text-only read; the others' time is all
they do (they have to parse the page to find a table).

    python bench/table_detection.py                          # ../shared/corpus/pdf-rct, evx only
    python bench/table_detection.py --detectors evx,pdfplumber,pdfplumber-text,camelot-lattice
"""

from __future__ import annotations

import argparse
import html
import json
import re
import statistics
import sys
import time
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "pdf-rct"

_TABLE_WRAP = re.compile(r"<table-wrap[\s>].*?</table-wrap>", re.DOTALL)
_CELL = re.compile(r"<(td|th)\b[^>]*>(.*?)</\1>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def norm(cell: str | None) -> str:
    return _SPACE.sub("", (cell or "").lower())


def xml_tables(xml: str) -> tuple[int, set[str]]:
    """The article's tables (with a <table>) and its distinct non-empty cell texts."""
    wraps = [w for w in _TABLE_WRAP.findall(xml) if "<table" in w[len("<table-wrap"):]]
    cells = {norm(html.unescape(_TAG.sub(" ", m.group(2)))) for w in wraps for m in _CELL.finditer(w)}
    return len(wraps), {c for c in cells if c}


def evx(pdf: Path) -> tuple[list[list[list[str]]], float]:
    from pipeline.readers.pdf import read_pdf

    text_only = statistics.median(_seconds(lambda: read_pdf(pdf, str(pdf), tables=False)) for _ in range(3))
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        doc = read_pdf(pdf, str(pdf), tables=True)
        runs.append(time.perf_counter() - start)
    return [t.rows for t in doc.tables], max(0.0, statistics.median(runs) - text_only)


def pdfplumber_tables(pdf: Path, settings: dict | None = None) -> tuple[list[list[list[str]]], float]:
    import pdfplumber

    start = time.perf_counter()
    tables = []
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            for table in page.find_tables(settings or {}):
                tables.append([[c or "" for c in row] for row in table.extract()])
    return tables, time.perf_counter() - start


def camelot_tables(pdf: Path, flavor: str) -> tuple[list[list[list[str]]], float]:
    import camelot

    start = time.perf_counter()
    found = camelot.read_pdf(str(pdf), pages="all", flavor=flavor)
    tables = [table.df.values.tolist() for table in found]
    return tables, time.perf_counter() - start


DETECTORS = {
    "evx": evx,
    "pdfplumber": pdfplumber_tables,
    # Vertical edges from the words' alignment, horizontal ones from the rules: the journal table.
    "pdfplumber-text": lambda pdf: pdfplumber_tables(pdf, {"vertical_strategy": "text", "horizontal_strategy": "lines"}),
    "camelot-lattice": lambda pdf: camelot_tables(pdf, "lattice"),
    "camelot-stream": lambda pdf: camelot_tables(pdf, "stream"),
}


def _seconds(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def measure(name: str, pdfs: list[Path]) -> dict:
    detect = DETECTORS[name]
    totals = dict(detector=name, files=len(pdfs), xml_tables=0, tables=0, agree=0, too_many=0, too_few=0, cells=0,
                  xml_cells=0, cells_recalled=0, cells_in_xml=0, seconds=0.0, failed=0)
    for pdf in pdfs:
        count, reference = xml_tables(pdf.with_suffix(".xml").read_text(encoding="utf-8", errors="replace"))
        try:
            tables, seconds = detect(pdf)
        except Exception as exc:  # a detector that fails on a file counts as finding nothing there
            print(f"{name}: {pdf.name}: {exc.__class__.__name__}: {exc}", file=sys.stderr)
            tables, seconds = [], 0.0
            totals["failed"] += 1
        found = [norm(c) for t in tables for row in t for c in row if norm(c)]
        totals["xml_tables"] += count
        totals["tables"] += len(tables)
        totals["agree"] += len(tables) == count
        totals["too_many"] += max(0, len(tables) - count)
        totals["too_few"] += max(0, count - len(tables))
        totals["cells"] += len(found)
        totals["xml_cells"] += len(reference)
        totals["cells_recalled"] += len(reference & set(found))
        totals["cells_in_xml"] += sum(1 for c in found if c in reference)
        totals["seconds"] += seconds
    totals["cell_recall"] = totals["cells_recalled"] / max(1, totals["xml_cells"])
    totals["cell_precision"] = totals["cells_in_xml"] / max(1, totals["cells"])
    totals["cells_per_second"] = totals["cells"] / totals["seconds"] if totals["seconds"] else None
    totals["xml_cells_per_second"] = totals["cells_recalled"] / totals["seconds"] if totals["seconds"] else None
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--detectors", default="evx", help=f"comma-separated, of {', '.join(DETECTORS)}")
    parser.add_argument("--json", action="store_true", help="one JSON object per detector")
    args = parser.parse_args(argv)
    pdfs = sorted(p for p in args.corpus.glob("*.pdf") if p.with_suffix(".xml").exists())
    if not pdfs:
        print(f"no PDF with its .xml in {args.corpus}", file=sys.stderr)
        return 1
    print(f"{'detector':<16} {'tables':>6} {'xml':>4} {'agree':>5} {'+':>4} {'-':>4} {'cells':>6} {'recall':>6} "
          f"{'prec':>5} {'s':>7} {'cells/s':>8} {'xml cells/s':>11}")
    for name in args.detectors.split(","):
        t = measure(name.strip(), pdfs)
        if args.json:
            print(json.dumps(t))
            continue
        rate = f"{t['cells_per_second']:.0f}" if t["cells_per_second"] else "-"
        good = f"{t['xml_cells_per_second']:.0f}" if t["xml_cells_per_second"] else "-"
        print(f"{name:<16} {t['tables']:>6} {t['xml_tables']:>4} {t['agree']:>5} {t['too_many']:>4} {t['too_few']:>4} "
              f"{t['cells']:>6} {t['cell_recall']:>6.3f} {t['cell_precision']:>5.3f} {t['seconds']:>7.2f} {rate:>8} {good:>11}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
