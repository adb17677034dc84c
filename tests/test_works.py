"""Copies of one article linked as one work: records shown once, from the richest copy (issue 18)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from difflib import SequenceMatcher
from pathlib import Path

import pytest

from pipeline.ingest import ingest, refresh
from pipeline.readers.pdf_meta import normalised
from pipeline.store import SCHEMA_VERSION, open_store
from pipeline.store.db import store_status
from conftest import write

ABSTRACT = "We treated patients with HER2-positive colorectal cancer.\nThe ORR was {orr}% in MOUNTAINEER-2.\n"


def _jats(title: str, surname: str, given: str, doi: str | None = None, orr: int = 38) -> str:
    ids = f'<article-id pub-id-type="doi">{doi}</article-id>' if doi else ""
    return (
        '<?xml version="1.0"?><article><front><journal-meta><journal-title-group><journal-title>J Onc</journal-title>'
        f"</journal-title-group></journal-meta><article-meta>{ids}<title-group><article-title>{title}</article-title>"
        f'</title-group><contrib-group><contrib contrib-type="author"><name><surname>{surname}</surname>'
        f"<given-names>{given}</given-names></name></contrib></contrib-group><pub-date><year>2021</year></pub-date>"
        f"</article-meta></front><body><sec><title>Results</title><p>The ORR was {orr}% in MOUNTAINEER-2.</p>"
        "<p>Tumours were treated for months with a long regimen of several drugs in a trial.</p></sec></body></article>"
    )


def _ris(title: str, author: str, *, doi: str | None = None, pmid: str | None = None, orr: int = 38) -> str:
    lines = ["TY  - JOUR", f"TI  - {title}", f"AU  - {author}", "PY  - 2021", "JO  - J Onc",
             f"AB  - The ORR was {orr}% in MOUNTAINEER-2."]
    lines += [f"DO  - {doi}"] if doi else []
    lines += [f"AN  - {pmid}"] if pmid else []
    return "\n".join(lines + ["ER  - ", ""])


def _shown(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT document, value, doi, pmid, year FROM outcome_evidence ORDER BY document").fetchall()


def _works(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT work_id, path, duplicate_of IS NULL FROM document ORDER BY path").fetchall()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    return folder


def test_same_doi_one_work_jats_shown(corpus: Path, tmp_path: Path, fake_extractor: None) -> None:
    write(corpus, "a.txt", "HER2 in colorectal cancer, a paper\nDOI: 10.1000/ABC.1\n" + ABSTRACT.format(orr=38))
    write(corpus, "b.xml", _jats("Another title altogether for it", "Rossi", "Anna", doi="10.1000/abc.1", orr=40))
    db = tmp_path / "e.db"
    ingest([corpus], db)
    (w1, _, a_shown), (w2, _, b_shown) = _works(db)
    assert w1 == w2 and (a_shown, b_shown) == (0, 1)  # the JATS copy wins over plain text; DOIs ignore case
    assert _shown(db) == [(str(corpus / "b.xml"), 40.0, "10.1000/abc.1", None, 2021)]
    status = store_status(open_store(db, readonly=True), db)
    assert status.duplicate_documents == 1 and status.documents == 1
    assert status.merged_works[0]["duplicates"] == [str(corpus / "a.txt")]
    assert "same DOI" in status.merged_works[0]["reason"]


def test_same_pmid_and_the_richer_record_wins(corpus: Path, tmp_path: Path, fake_extractor: None) -> None:
    write(corpus, "a.txt", "A short note on it\nPMID: 31234567\nThe ORR was 10% in MOUNTAINEER-2.\n")
    write(corpus, "b.ris", _ris("HER2 blockade in colorectal cancer trial", "Rossi, Anna", pmid="31234567", orr=38))
    db = tmp_path / "e.db"
    ingest([corpus], db)
    assert [row[0] for row in _shown(db)] == [f"{corpus / 'b.ris'}#31234567"]
    assert _shown(db)[0][3] == "31234567"


def test_same_title_and_first_author(corpus: Path, tmp_path: Path, fake_extractor: None) -> None:
    title = "Tucatinib plus trastuzumab in HER2-positive colorectal cancer"
    write(corpus, "a.ris", _ris(title.upper() + ".", "Strickler, John H", orr=38))
    write(corpus, "b.xml", _jats(title, "Strickler", "John", orr=38))
    db = tmp_path / "e.db"
    ingest([corpus], db)
    works = _works(db)
    assert works[0][0] == works[1][0]
    assert [row[0] for row in _shown(db)] == [str(corpus / "b.xml")]


def test_different_articles_are_not_merged(corpus: Path, tmp_path: Path, fake_extractor: None) -> None:
    title = "Tucatinib plus trastuzumab in HER2-positive colorectal cancer"
    write(corpus, "a.ris", _ris(title, "Strickler, John H", doi="10.1000/one", pmid="1", orr=38))
    write(corpus, "b.ris", _ris(title, "Siena, Salvatore", doi="10.1000/two", pmid="2", orr=30))  # same title, other author
    write(corpus, "c.xml", _jats("Pertuzumab and trastuzumab emtansine in colorectal cancer", "Strickler", "John", orr=20))
    # Same title and first author, same words, but other DOIs: a trial's two reports.
    write(corpus, "d.ris", _ris(title, "Strickler, John H", doi="10.1000/three", pmid="3", orr=39))
    db = tmp_path / "e.db"
    ingest([corpus], db)
    assert len({work for work, _, _ in _works(db)}) == 4
    assert sorted(value for _, value, *_ in _shown(db)) == [20.0, 30.0, 38.0, 39.0]


def test_withdrawn_primary_brings_the_other_copy_back(corpus: Path, tmp_path: Path, fake_extractor: None) -> None:
    write(corpus, "a.txt", "A note on the trial, as text\nDOI: 10.1000/abc.1\n" + ABSTRACT.format(orr=38))
    jats = write(corpus, "b.xml", _jats("HER2 blockade in colorectal cancer", "Rossi", "Anna", doi="10.1000/abc.1", orr=40))
    for name in ("c.txt", "d.txt", "e.txt"):  # so that one file going is no mass withdrawal
        write(corpus, name, f"Paper {name}\nThe ORR was 5% in MOUNTAINEER-2.\n")
    db = tmp_path / "e.db"
    ingest([corpus], db)
    assert {row[1] for row in _shown(db) if row[2]} == {40.0}
    saved = jats.read_bytes()
    jats.unlink()
    refresh(None, db)
    shown = [row for row in _shown(db) if row[2]]
    # The work's identity still has what the withdrawn copy said (its year), after the text's.
    assert shown == [(str(corpus / "a.txt"), 38.0, "10.1000/abc.1", None, 2021)]
    with sqlite3.connect(db) as conn:
        run = conn.execute("SELECT max(id) FROM runs").fetchone()[0]
        changes = conn.execute("SELECT change, document FROM evidence_change WHERE run_id = ? AND type = 'outcome' "
                               "ORDER BY change", (run,)).fetchall()
    assert changes == [("added", str(corpus / "a.txt")), ("removed", str(corpus / "b.xml"))]
    jats.write_bytes(saved)
    refresh(None, db)
    assert {row[1] for row in _shown(db) if row[2]} == {40.0}
    # Re-extracting either copy changes nothing a reader sees, and logs nothing.
    refresh(None, db, reextract=True)
    with sqlite3.connect(db) as conn:
        run = conn.execute("SELECT max(id) FROM runs").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM evidence_change WHERE run_id = ?", (run,)).fetchone() == (0,)
    assert {row[1] for row in _shown(db) if row[2]} == {40.0}


def test_schema_6_databases_are_linked_on_open(corpus: Path, tmp_path: Path, fake_extractor: None) -> None:
    write(corpus, "a.txt", "A note on the trial, as text\nDOI: 10.1000/abc.1\n" + ABSTRACT.format(orr=38))
    write(corpus, "b.xml", _jats("HER2 blockade in colorectal cancer", "Rossi", "Anna", doi="10.1000/abc.1", orr=40))
    db = tmp_path / "e.db"
    ingest([corpus], db)
    with sqlite3.connect(db) as conn:  # as evx of schema 6 left it
        for view in ("outcome_evidence", "curation_state"):
            conn.execute(f"DROP VIEW {view}")
        for index in ("ix_document_work_id", "ix_document_title_key", "ix_document_pmcid", "ix_document_pmid",
                      "ix_document_doi_lower"):
            conn.execute(f"DROP INDEX {index}")
        for table in ("work", "text_sketch"):
            conn.execute(f"DROP TABLE {table}")
        for column in ("authors", "pmcid", "work_id", "duplicate_of", "title_key"):
            conn.execute(f"ALTER TABLE document DROP COLUMN {column}")
        conn.execute("PRAGMA user_version = 6")
    open_store(db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert [(row[1], row[2]) for row in _shown(db)] == [(40.0, "10.1000/abc.1")]


# ----------------------------------------------------------------------------- the development PDFs


def test_pdf_and_jats_copies_of_one_article_are_one_work(shared_corpus: Path, tmp_path: Path) -> None:
    pair = [shared_corpus / "pdf-rct" / f"5771543{suffix}" for suffix in (".pdf", ".xml")]
    db = tmp_path / "e.db"
    assert ingest(pair, db, workers=1).errors == []
    works = _works(db)
    assert len({work for work, _, _ in works}) == 1
    assert [path.endswith(".xml") for _, path, shown in works if shown] == [True]
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT document, doi, year FROM outcome_evidence").fetchall()
        jats_only = conn.execute("SELECT count(*) FROM outcome AS o JOIN document AS d ON d.id = o.document_id "
                                 "WHERE d.format = 'jats'").fetchone()[0]
    assert rows and len(rows) == jats_only  # one set of records: the JATS copy's
    assert {(doi, year) for _, doi, year in rows} == {("10.1089/cap.2017.0100", 2018)}
    from typer.testing import CliRunner

    from pipeline.cli import app
    exported = [json.loads(line) for line in CliRunner().invoke(app, ["export", "--db", str(db)]).stdout.splitlines()]
    assert exported and {r["doc"] for r in exported} == {str(pair[1])}
    assert {(r["doi"], r["year"]) for r in exported} == {("10.1089/cap.2017.0100", 2018)}


def test_pdf_titles_of_the_development_pdfs(shared_corpus: Path) -> None:
    """The title read off each PDF's first page against the title read by hand (stored as a
    hash of its normalised form: the JATS XML next to each PDF has no <front>), and against
    the publisher's own title in the file's metadata, where one is printed on the page."""
    from pipeline.readers.pdf import read_pdf
    from pipeline.readers.pdf_meta import read_metadata

    import pypdfium2 as pdfium

    reference = json.loads((Path(__file__).parent / "fixtures" / "pdf_rct_titles.json").read_text())["titles"]
    pdfs = sorted((shared_corpus / "pdf-rct").glob("*.pdf"))
    assert len(pdfs) == len(reference) == 33
    exact = near = by_metadata = metadata_titles = 0
    for path in pdfs:
        title = read_pdf(path, str(path), tables=False).title or ""
        exact += hashlib.sha1(normalised(title).encode()).hexdigest()[:16] == reference[path.stem]
        pdf = pdfium.PdfDocument(path)
        try:
            meta = read_metadata(pdf, path.read_bytes())
        finally:
            pdf.close()
        candidates = [t for t in meta.titles if len(t.split()) >= 4]  # "Figure 5", "untitled" are none
        if candidates:
            metadata_titles += 1
            best = max(SequenceMatcher(None, normalised(t), normalised(title)).ratio() for t in candidates)
            by_metadata += best == 1.0
            near += 0.9 <= best < 1.0
    print(f"{exact} of {len(pdfs)} exact; of {metadata_titles} with a metadata title: {by_metadata} equal, {near} near")
    assert exact >= 33
    # Publisher metadata titles (a dozen of the 33; others are job tickets, "untitled", a
    # figure's XMP): most equal the page's title, exactly or nearly.
    assert by_metadata + near >= metadata_titles - 1
