"""Speed and text fidelity of the PDF reader against the JATS XML of the same articles.

Fidelity is the share of the XML's word bigrams (abstract + body, tables and reference list
removed; a word is a lower-cased run of letters/digits) that occur contiguously in the
reader's text. Broken or glued words, lost text and interleaved columns all lower it; the
4-gram share is printed too because it is more sensitive to reading order.

    python bench/pdf_fidelity.py                # ../shared/corpus/pdf-rct next to the repo
    python bench/pdf_fidelity.py DIR --runs 5   # timing: median of 5 text-only passes
"""

from __future__ import annotations

import argparse
import html
import re
import statistics
import sys
import time
from pathlib import Path

from pipeline.document import Document
from pipeline.readers.pdf import read_pdf

DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "pdf-rct"

_WORD = re.compile(r"[^\W_]+")
_DROP = re.compile(r"<(table-wrap|ref-list)[\s>].*?</\1>", re.DOTALL | re.IGNORECASE)
_INLINE_TAG = re.compile(
    r"</?(?:italic|bold|sup|sub|sc|underline|monospace|xref|ext-link|named-content|"
    r"styled-content|inline-formula|email|uri|roman|overline)\b[^>]*>",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]+>")


def xml_tokens(xml: str) -> list[str]:
    """Words of the article's abstract and body sections (the files hold just these, plus
    tables), as the PDF should show them."""
    text = _TAG.sub(" ", _INLINE_TAG.sub("", _DROP.sub(" ", xml)))
    return _WORD.findall(html.unescape(text).lower())


def ngram_share(reference: list[str], text: str, n: int) -> tuple[int, int]:
    """(found, total): reference n-grams that occur contiguously in ``text``."""
    words = _WORD.findall(text.lower())
    present = set(zip(*(words[i:] for i in range(n))))
    grams = list(zip(*(reference[i:] for i in range(n))))
    return sum(gram in present for gram in grams), len(grams)


def best_reference(xml: str, text: str) -> list[str]:
    """Some XML files hold two articles one after the other; use the one that matches."""
    segments = re.split(r"(?=<abstract>)", xml)  # a teaser abstract has attributes
    candidates = [tokens for tokens in map(xml_tokens, segments) if tokens]
    return max(candidates, key=lambda ref: _ratio(ngram_share(ref, text, 2)))


def _ratio(pair: tuple[int, int]) -> float:
    return pair[0] / pair[1] if pair[1] else 0.0


def timed_read(pdf: Path, runs: int, tables: bool) -> tuple[float, Document]:
    """Median seconds of ``runs`` reads, and the document read."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        doc = read_pdf(pdf, str(pdf), tables=tables)
        times.append(time.perf_counter() - start)
    return statistics.median(times), doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--runs", type=int, default=3, help="text-only passes per file (median)")
    parser.add_argument("--no-tables", action="store_true", help="skip the pass with tables")
    args = parser.parse_args(argv)
    pdfs = sorted(p for p in args.corpus.glob("*.pdf") if p.with_suffix(".xml").exists())
    if not pdfs:
        print(f"no PDF with its .xml in {args.corpus}", file=sys.stderr)
        return 1
    read_pdf(pdfs[0], "warm-up", tables=not args.no_tables)  # imports out of the timing

    print(f"{'file':<10} {'pages':>5} {'text ms':>8} {'bigram':>7} {'4-gram':>7} {'+tables ms':>10} {'tables':>6} {'bigram':>7}")
    pages = n_tables = 0
    text_s = tables_s = 0.0
    totals = {"text2": [0, 0], "text4": [0, 0], "tables2": [0, 0]}
    for pdf in pdfs:
        seconds, doc = timed_read(pdf, args.runs, tables=False)
        xml = pdf.with_suffix(".xml").read_text(encoding="utf-8", errors="replace")
        reference = best_reference(xml, doc.text)
        shares = {"text2": ngram_share(reference, doc.text, 2), "text4": ngram_share(reference, doc.text, 4)}
        with_tables, tables_doc = 0.0, doc
        if not args.no_tables:
            # Table rows are not in the XML reference; dropping the table region from the flow
            # text is intended, so this share may be a little lower.
            with_tables, tables_doc = timed_read(pdf, 1, tables=True)
            shares["tables2"] = ngram_share(reference, tables_doc.text, 2)
        for key, (found, total) in shares.items():
            totals[key][0] += found
            totals[key][1] += total
        pages += len(doc.pages)
        text_s += seconds
        tables_s += with_tables
        n_tables += len(tables_doc.tables)
        print(
            f"{pdf.stem:<10} {len(doc.pages):>5} {seconds * 1000:>8.1f} {_ratio(shares['text2']):>7.4f} "
            f"{_ratio(shares['text4']):>7.4f} {with_tables * 1000:>10.1f} {len(tables_doc.tables):>6} "
            f"{_ratio(shares.get('tables2', (0, 0))):>7.4f}"
        )
    print(
        f"{'TOTAL':<10} {pages:>5} {text_s * 1000:>8.1f} {_ratio(totals['text2']):>7.4f} "
        f"{_ratio(totals['text4']):>7.4f} {tables_s * 1000:>10.1f} {n_tables:>6} {_ratio(totals['tables2']):>7.4f}"
    )
    print(f"text only:   {pages / text_s:.0f} pages/s ({len(pdfs)} files)")
    if not args.no_tables:
        print(f"with tables: {pages / tables_s:.1f} pages/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
