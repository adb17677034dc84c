"""Unattended runs (cron, systemd): a run never stores a misstated file, never withdraws a
root's files because its folder looks empty, and ends with an exit code that means one thing.
Uses the stand-in extractor of conftest (an outcome per "ORR n%")."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

import pipeline.ingest
from pipeline.ingest import ingest, refresh
from conftest import write

A = "Version A\nThe ORR was 38%.\n"
B = "Version B\nThe ORR was 51%.\n"


def _stored(db: Path, name: str) -> tuple[str, list[str]]:
    """The file's stored sha256 and its documents' texts."""
    with sqlite3.connect(db) as conn:
        (digest,) = conn.execute("SELECT sha256 FROM source_file WHERE path = ?", (name,)).fetchone()
        texts = [t for (t,) in conn.execute("SELECT text FROM document WHERE file_path = ? ORDER BY id", (name,))]
    return digest, texts


def _rewrite_after_hashing(monkeypatch, file: Path, text: str) -> None:
    """The run hashes ``file`` and, before it reads it, someone rewrites it with ``text``."""
    real = pipeline.ingest.file_sha256

    def hash_then_rewrite(path: Path) -> str:
        digest = real(path)
        if path.resolve() == file.resolve():
            path.write_text(text, encoding="utf-8")
        return digest

    monkeypatch.setattr(pipeline.ingest, "file_sha256", hash_then_rewrite)


def test_a_file_rewritten_between_hash_and_read_is_stored_under_the_hash_of_what_was_read(
        tmp_path, fake_extractor, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus = Path("corpus")
    corpus.mkdir()
    file = write(corpus, "a.txt", A)
    db = tmp_path / "e.db"
    with monkeypatch.context() as m:
        _rewrite_after_hashing(m, file, B)
        ingest([corpus], db)
    digest, texts = _stored(db, "corpus/a.txt")
    assert len(texts) == 1 and texts[0].startswith("Version B")
    assert digest == hashlib.sha256(B.encode()).hexdigest()  # the hash of the text stored, not of A
    # Back to version A: the next run sees a change (it would keep B for good if B were stored under A's hash).
    file.write_text(A, encoding="utf-8")
    summary = refresh(None, db)
    assert summary.files_changed == 1
    digest, texts = _stored(db, "corpus/a.txt")
    assert texts[0].startswith("Version A") and digest == hashlib.sha256(A.encode()).hexdigest()


def test_a_large_export_rewritten_while_it_is_read_in_pieces_fails_and_is_read_again_next_run(
        tmp_path, fake_extractor, monkeypatch):
    records = "".join(f"TY  - JOUR\nTI  - Study {i}\nAB  - The ORR was {i % 90 + 1}%.\nER  - \n\n" for i in range(40))
    monkeypatch.chdir(tmp_path)
    corpus = Path("corpus")
    corpus.mkdir()
    file = write(corpus, "set.ris", records)
    db = tmp_path / "e.db"
    monkeypatch.setattr(pipeline.ingest, "STREAM_BYTES", 100)  # read in pieces by the run
    monkeypatch.setattr(pipeline.ingest, "PIECE_DOCUMENTS", 10)
    with monkeypatch.context() as m:
        _rewrite_after_hashing(m, file, records.replace("Study 3", "Study three"))
        summary = ingest([corpus], db)
    assert summary.errors == [("corpus/set.ris", "changed while it was read; the next run reads it again")]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM document").fetchone() == (0,)  # rolled back whole
    summary = refresh(None, db)
    assert not summary.errors and summary.files_new == 1
    assert _stored(db, "corpus/set.ris")[0] == hashlib.sha256(file.read_bytes()).hexdigest()


def _folder_of(count_files: int) -> Path:
    corpus = Path("corpus")
    corpus.mkdir()
    for i in range(count_files):
        write(corpus, f"f{i:02}.txt", f"Note {i}\nThe ORR was {i + 10}%.\n")
    return corpus


def _withdrawn(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM source_file WHERE withdrawn_run IS NOT NULL").fetchone()[0]


def test_a_folder_that_looks_empty_withdraws_nothing_and_fails_the_run(tmp_path, fake_extractor, monkeypatch):
    from typer.testing import CliRunner
    from pipeline.cli import app

    monkeypatch.chdir(tmp_path)
    corpus = _folder_of(30)
    db = tmp_path / "e.db"
    ingest([corpus], db)
    for file in corpus.iterdir():  # an unmounted share leaves its empty mount point
        file.unlink()
    result = CliRunner().invoke(app, ["refresh", "--db", str(db), "--quiet"])
    assert result.exit_code == 1
    assert result.stderr.strip() == ("corpus: refused to withdraw 30 of its 30 files at once (gone from the folder: "
                                     "unmounted, emptied, or moved?); nothing withdrawn; --allow-mass-withdrawal to withdraw them")
    assert _withdrawn(db) == 0
    result = CliRunner().invoke(app, ["refresh", "--db", str(db), "--quiet", "--allow-mass-withdrawal"])
    assert result.exit_code == 0 and _withdrawn(db) == 30


@pytest.mark.parametrize("deleted, withdrawn", [(6, 6), (10, 10), (11, 0)])
def test_a_refresh_withdraws_a_fifth_of_a_folder_at_most_when_that_is_more_than_ten_files(
        tmp_path, fake_extractor, monkeypatch, deleted, withdrawn):
    monkeypatch.chdir(tmp_path)
    corpus = _folder_of(40)  # 11 of 40 is over a fifth, and more than ten files
    db = tmp_path / "e.db"
    ingest([corpus], db)
    for file in sorted(corpus.iterdir())[:deleted]:
        file.unlink()
    summary = refresh(None, db)
    assert summary.files_withdrawn == withdrawn == _withdrawn(db)
    assert [path for path, _reason in summary.errors] == ([] if withdrawn else ["corpus"])
