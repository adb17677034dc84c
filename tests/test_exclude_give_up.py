"""Leaving entries of a corpus out (--exclude) and giving up on a file that keeps failing the
same way (--give-up-after), so that one known-broken file does not make every scheduled
refresh exit 1. Uses the stand-in extractor of conftest."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.readers.walk import excluded
from conftest import write

runner = CliRunner()


@pytest.mark.parametrize("relative, patterns, out", [
    ("a.tmp", ["*.tmp"], True),
    ("deep/er/a.tmp", ["*.tmp"], True),  # a pattern without "/" is matched on the name, at any depth
    ("drafts", ["drafts"], True),
    ("notes/drafts", ["drafts"], True),
    ("old/a.pdf", ["old/*.pdf"], True),
    ("new/old/a.pdf", ["old/*.pdf"], False),  # with "/", on the whole path inside the folder
    ("a.txt", ["*.tmp", "drafts"], False),
    ("A.TMP", ["*.tmp"], False),  # case counts, as in file names
    ("drafts", ["drafts/"], True),  # a trailing "/" (a folder, as written in .gitignore) is allowed
])
def test_excluded(relative, patterns, out):
    assert excluded(relative, patterns) is out


def _stored(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [p for (p,) in conn.execute("SELECT path FROM source_file WHERE withdrawn_run IS NULL ORDER BY path")]


def test_excluded_entries_are_not_read_and_leave_as_gone_on_refresh(tmp_path, fake_extractor, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus = Path("corpus")
    for name in ("a.txt", "b.tmp", "drafts/c.txt", "old/d.txt", "sub/e.txt", "sub/old/f.txt"):
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        write(corpus, name, f"Note {name}\nThe ORR was 20%.\n")
    write(corpus, "drafts/broken.txt", b"\xff\xfe not UTF-8 \xff")  # never read, so never failing
    result = runner.invoke(app, ["ingest", "corpus", "--db", "e.db", "--quiet",
                                 "--exclude", "*.tmp", "--exclude", "drafts", "--exclude", "old/*"])
    assert result.exit_code == 0, result.stderr
    assert _stored(Path("e.db")) == ["corpus/a.txt", "corpus/sub/e.txt", "corpus/sub/old/f.txt"]
    result = runner.invoke(app, ["refresh", "--db", "e.db", "--quiet", "--exclude", "*.tmp", "--exclude", "drafts",
                                 "--exclude", "old/*", "--exclude", "sub/old"])
    assert result.exit_code == 0, result.stderr
    assert _stored(Path("e.db")) == ["corpus/a.txt", "corpus/sub/e.txt"]  # f.txt now left out: withdrawn


def _set_time(file: Path, seconds_ago: float) -> None:
    when = os.stat(file).st_mtime - seconds_ago
    os.utime(file, (when, when))  # old enough for its time stamp to be trusted


def test_a_file_failing_the_same_way_is_given_up_until_it_changes(tmp_path, fake_extractor, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus = Path("corpus")
    corpus.mkdir()
    write(corpus, "good.txt", "Good\nThe ORR was 20%.\n")
    broken = write(corpus, "broken.txt", b"Bad \xff\xfe bytes\n")
    _set_time(broken, 3600)
    refresh = ["refresh", "corpus", "--db", "e.db", "--quiet", "--give-up-after", "2"]
    first = runner.invoke(app, ["ingest", "corpus", "--db", "e.db", "--quiet", "--give-up-after", "2"])
    second = runner.invoke(app, refresh)
    assert (first.exit_code, second.exit_code) == (1, 1)  # failed twice, the same way
    assert second.stderr.startswith("corpus/broken.txt: not UTF-8")
    third = runner.invoke(app, [arg for arg in refresh if arg != "--quiet"] + ["--format", "json"])
    assert third.exit_code == 0 and third.stderr == ""  # given up: not tried, not failed
    assert '"files_given_up": 1' in third.stdout
    with sqlite3.connect("e.db") as conn:  # still on record as failing
        assert conn.execute("SELECT path, failures FROM ingest_error").fetchall() == [("corpus/broken.txt", 2)]
    assert runner.invoke(app, ["refresh", "corpus", "--db", "e.db", "--quiet"]).exit_code == 1  # without the option: tried
    broken.write_text("Fixed\nThe ORR was 31%.\n", encoding="utf-8")
    _set_time(broken, 60)
    fixed = runner.invoke(app, refresh)
    assert fixed.exit_code == 0, fixed.stderr
    assert _stored(Path("e.db")) == ["corpus/broken.txt", "corpus/good.txt"]
    with sqlite3.connect("e.db") as conn:
        assert conn.execute("SELECT count(*) FROM ingest_error").fetchone() == (0,)


def test_a_file_failing_in_different_ways_is_not_given_up(tmp_path, fake_extractor, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus = Path("corpus")
    corpus.mkdir()
    broken = write(corpus, "broken.txt", b"Bad \xff bytes\n")
    _set_time(broken, 3600)
    codes = []
    for junk in (b"\xfe", b"\xff\xff", b"\xc3"):  # each run finds it changed: the count starts again
        broken.write_bytes(b"Bad " + junk + b" bytes\n" + junk * len(codes))
        _set_time(broken, 3600 + len(codes))
        codes.append(runner.invoke(app, ["ingest", "corpus", "--db", "e.db", "--quiet", "--give-up-after", "2"]).exit_code)
    assert codes == [1, 1, 1]
