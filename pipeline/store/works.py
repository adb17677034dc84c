"""Copies of one article linked as one work, whose records are shown once.

Two documents are copies of one work when they have the same DOI, PMID or PMCID, or, unless
their identifiers differ, the same normalised title and first author or the same text: the PDF of an article and its JATS XML
often carry no identifier in common (an XML extract without ``<front>``), but the smaller one's
sample of word 5-grams (``TextSketch``) is mostly found in the other (over 66% for every copy
pair of the development PDFs, under 7% between different articles).

Of a work's documents that are not withdrawn, the richest source is its primary copy (JATS >
PubMed XML, MEDLINE, RIS > PDF > plain text, then the longer text, then the path, so that the
choice is the same on every run); the others get ``duplicate_of`` and leave the views and
exports, as withdrawn documents do, and come back when the primary is withdrawn. Everything
here runs inside the transaction of the file being loaded or withdrawn, on its sqlite3
connection, and reports which documents came into or went out of view, for the change log.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import unicodedata
import zlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass

SHINGLE_WORDS = 5
SAMPLE_EVERY = 32  # a 5-gram is in the sample when its CRC-32 is a multiple of this
SAME_TEXT_SHARE = 0.4  # of the smaller sample found in the other
SAME_TEXT_MIN = 3  # samples in common, at least: an abstract's sample is a handful
COMMON_SAMPLE = 20  # a sampled 5-gram held by more documents than this is boilerplate: not counted
# Runs of letters or digits: "0·45" and "0.45" are the same words, and two reports of one
# template that differ only in their numbers are not the same text.
_WORDS = re.compile(r"[^\W_]+")
_TITLE_WORDS = re.compile(r"[^\W_]+")
_MIN_TITLE_WORDS = 4  # "Introduction", "Editorial comment" are no article's own title

FORMAT_RANK = {"jats": 0, "pubmed-xml": 1, "medline": 1, "ris": 1, "pdf": 2, "text": 3}
_IDENTITY = ("title", "authors", "journal", "year", "pmid", "doi", "pmcid")


def sketch(text: str) -> list[int]:
    """The sampled hashes (signed 64-bit, as SQLite stores integers) of the text's word 5-grams.
    Which 5-grams are in the sample is decided by a cheap hash (CRC-32, in C), and only those
    get the strong one that is stored: half the time of a strong hash of every 5-gram."""
    words = _WORDS.findall(text.casefold())
    hashes = set()
    for i in range(len(words) - SHINGLE_WORDS + 1):
        gram = " ".join(words[i:i + SHINGLE_WORDS]).encode()
        if zlib.crc32(gram) % SAMPLE_EVERY == 0:
            hashes.add(int.from_bytes(hashlib.blake2b(gram, digest_size=8).digest(), "big", signed=True))
    return sorted(hashes)


def normalised_title(title: str | None) -> str:
    text = unicodedata.normalize("NFKD", title or "").casefold()
    return " ".join(_TITLE_WORDS.findall("".join(c for c in text if not unicodedata.combining(c))))


def surname(author: str) -> str:
    """ "Smith, John" and "John Smith" -> "smith"."""
    name = normalised_title(author.split(",")[0] if "," in author else author)
    return name.split()[-1] if name else ""


def title_key(title: str | None, authors: list[str] | None) -> str | None:
    """ "normalised title|first author's surname", or None without both (a title alone is too
    weak: "Editorial", the same title over two trials' reports)."""
    words = normalised_title(title)
    first = surname(authors[0]) if authors else ""
    if len(words.split()) < _MIN_TITLE_WORDS or not first:
        return None
    return f"{words}|{first}"


@dataclass
class _Copy:
    id: int
    path: str
    format: str
    length: int
    withdrawn: bool
    duplicate_of: int | None
    identity: dict

    @property
    def visible(self) -> bool:
        return not self.withdrawn and self.duplicate_of is None

    def rank(self) -> tuple:
        return (FORMAT_RANK.get(self.format, len(FORMAT_RANK)), -self.length, self.path, self.id)


_MATCH = (
    "SELECT id, work_id FROM document WHERE id != ? AND ("
    "(? IS NOT NULL AND lower(doi) = ?) OR (? IS NOT NULL AND pmid = ?) OR (? IS NOT NULL AND pmcid = ?) "
    "OR (? IS NOT NULL AND title_key = ?))"
)


def link(db: sqlite3.Connection, doc_ids: Iterable[int], exclude: Collection[int] = ()) -> set[int]:
    """Put each of ``doc_ids`` (just stored) in the work of the documents it is a copy of, or in
    a new work; works it joins together become one. ``exclude``: documents about to be
    deleted (the old version of the file being loaded). Returns the works touched."""
    touched: set[int] = set()
    for doc_id in doc_ids:
        doi, pmid, pmcid, key = db.execute(
            "SELECT lower(doi), pmid, pmcid, title_key FROM document WHERE id = ?", (doc_id,)).fetchone()
        found = {other: work for other, work in db.execute(_MATCH, (doc_id, doi, doi, pmid, pmid, pmcid, pmcid, key, key))}
        found.update(_same_text(db, doc_id))
        ids = (doi, pmid, pmcid)
        works = {work for other, work in found.items()
                 if other not in exclude and work is not None and not _other_article(ids, _ids(db, other))}
        works.update(_earlier_work(db, doc_id, exclude))
        works = sorted(works)
        if works:
            work, merged = works[0], works[1:]
            if merged:
                marks = ", ".join("?" * len(merged))
                db.execute(f"UPDATE document SET work_id = ? WHERE work_id IN ({marks})", (work, *merged))
                db.execute(f"DELETE FROM work WHERE id IN ({marks})", merged)
                touched.difference_update(merged)
        else:
            work = db.execute("INSERT INTO work (primary_document, copies) VALUES (?, 1)", (doc_id,)).lastrowid
        db.execute("UPDATE document SET work_id = ? WHERE id = ?", (work, doc_id))
        touched.add(work)
    return touched


def _earlier_work(db: sqlite3.Connection, doc_id: int, exclude: Collection[int]) -> set[int]:
    """The work of the version being replaced of this document (same path): a document read
    again stays in its work, under the same id."""
    if not exclude:
        return set()
    path = db.execute("SELECT path FROM document WHERE id = ?", (doc_id,)).fetchone()[0]
    return {work for other, work in db.execute("SELECT id, work_id FROM document WHERE path = ? AND id != ?", (path, doc_id))
            if other in exclude and work is not None}


def _ids(db: sqlite3.Connection, doc_id: int) -> tuple:
    return db.execute("SELECT lower(doi), pmid, pmcid FROM document WHERE id = ?", (doc_id,)).fetchone()


def _other_article(ids: tuple, other: tuple) -> bool:
    """Documents whose identifiers differ (a DOI, PMID or PMCID each, not the same) report two
    articles, however alike their title or text: reports of one template that differ only in
    their figures, or a trial's two papers under one title."""
    shared = any(a is not None and a == b for a, b in zip(ids, other))
    return not shared and any(a is not None and b is not None and a != b for a, b in zip(ids, other))


def _same_text(db: sqlite3.Connection, doc_id: int) -> dict[int, int | None]:
    """Documents (id -> work) holding most of this one's text sample, or most of whose sample
    this one holds."""
    own = db.execute("SELECT count(*) FROM text_sketch WHERE document_id = ?", (doc_id,)).fetchone()[0]
    if own < SAME_TEXT_MIN:
        return {}
    rows = db.execute(
        "SELECT s.document_id, count(*), (SELECT count(*) FROM text_sketch AS t WHERE t.document_id = s.document_id), "
        "d.work_id FROM text_sketch AS s JOIN text_sketch AS mine ON mine.hash = s.hash AND mine.document_id = ? "
        "JOIN document AS d ON d.id = s.document_id WHERE s.document_id != ? "
        # A 5-gram in many documents is boilerplate (a template, a journal's standard sentence), no
        # sign of a copy; looked up with a bound, so the cost per document stays flat however many
        # documents share it (unbounded, a templated 100,000-record export never finished).
        "AND (SELECT count(*) FROM (SELECT 1 FROM text_sketch AS c WHERE c.hash = mine.hash LIMIT ?)) <= ? "
        "GROUP BY s.document_id HAVING count(*) >= ?",
        (doc_id, doc_id, COMMON_SAMPLE + 1, COMMON_SAMPLE, SAME_TEXT_MIN)).fetchall()
    return {other: work for other, shared, size, work in rows if shared >= SAME_TEXT_SHARE * min(own, size)}


def works_of(db: sqlite3.Connection, doc_ids: Collection[int]) -> set[int]:
    found: set[int] = set()
    ids = list(doc_ids)
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        found.update(w for (w,) in db.execute(
            f"SELECT DISTINCT work_id FROM document WHERE id IN ({', '.join('?' * len(part))}) AND work_id IS NOT NULL", part))
    return found


def settle(db: sqlite3.Connection, work_ids: Iterable[int], exclude: Collection[int] = ()) -> tuple[dict[int, str], dict[int, str]]:
    """Choose each work's primary copy among its documents not withdrawn (not in ``exclude``),
    mark the others ``duplicate_of`` it, merge the work's identity. Returns the documents that
    went out of view and those that came into view (id -> path), ``exclude`` left out."""
    hidden: dict[int, str] = {}
    shown: dict[int, str] = {}
    for work in sorted(set(work_ids)):
        copies = [_Copy(i, path, fmt, length, withdrawn is not None, dup, dict(zip(_IDENTITY, identity)))
                  for i, path, fmt, length, withdrawn, dup, *identity in db.execute(
                      "SELECT id, path, format, length(text), withdrawn_run, duplicate_of, title, authors, journal, year, "
                      "pmid, doi, pmcid FROM document WHERE work_id = ?", (work,))
                  if i not in exclude]
        if not copies:
            db.execute("DELETE FROM work WHERE id = ?", (work,))
            continue
        ranked = sorted(copies, key=lambda c: (c.withdrawn, c.rank()))
        primary = ranked[0]
        for copy in copies:
            was = copy.visible
            wanted = None if copy is primary else primary.id
            if copy.duplicate_of != wanted:
                db.execute("UPDATE document SET duplicate_of = ? WHERE id = ?", (wanted, copy.id))
                copy.duplicate_of = wanted
            if was and not copy.visible:
                hidden[copy.id] = copy.path
            elif copy.visible and not was:
                shown[copy.id] = copy.path
        identity = {name: next((c.identity[name] for c in ranked if c.identity[name] not in (None, "[]")), None)
                    for name in _IDENTITY}
        db.execute(
            "UPDATE work SET primary_document = ?, copies = ?, reason = ?, title = ?, authors = ?, journal = ?, year = ?, "
            "pmid = ?, doi = ?, pmcid = ? WHERE id = ?",
            (primary.id, len(copies), _reason(primary, ranked[1:]), *identity.values(), work))
    return hidden, shown


def _reason(primary: _Copy, others: list[_Copy]) -> str | None:
    """Why the primary copy is shown: "jats over pdf (same text)"."""
    if not others:
        return None
    links = []
    for other in others:
        links.append(next((f"same {label}" for name, label in (("doi", "DOI"), ("pmid", "PMID"), ("pmcid", "PMCID"))
                           if primary.identity[name] and primary.identity[name].lower() == (other.identity[name] or "").lower()),
                          "same title and first author" if _same_title(primary, other) else "same text"))
    over = ", ".join(f"{o.format}{' (withdrawn)' if o.withdrawn else ''}" for o in others)
    ground = "withdrawn too" if primary.withdrawn else ("richer source" if primary.rank()[0] < others[0].rank()[0] else "longer text")
    return f"{primary.format} over {over}: {'; '.join(sorted(set(links)))}; {ground}"


def _same_title(a: _Copy, b: _Copy) -> bool:
    def key(copy: _Copy) -> str | None:
        authors = copy.identity["authors"]
        return title_key(copy.identity["title"], json.loads(authors) if isinstance(authors, str) else authors)
    return key(a) is not None and key(a) == key(b)
