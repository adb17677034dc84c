"""Hostile folders and pathological files next to good abstracts: each bad entry fails alone
with one line naming it (and a row in ingest_error), the good ones load, nothing is read from
outside the corpus folder, no traceback reaches the user, no half-loaded document is left; and
`evx query` cannot run for ever.

Each case builds one bad entry in a folder of GOOD abstracts written here, runs `evx ingest` in
this process with the real extractor, and checks the database and the output."""

from __future__ import annotations

import errno
import gzip
import io
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from reportlab.pdfgen.canvas import Canvas
from typer.testing import CliRunner

import pipeline.readers
from conftest import process_cpu_seconds
from pipeline.cli import app
from pipeline.readers import printable, storable

REPO = Path(__file__).resolve().parents[1]
GOOD = 20  # good abstracts in every batch
SECRET = "SECRET-7f3a outside the corpus"  # text of files outside the corpus folder: must never be stored
RUNAWAY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c"
BILLION_LAUGHS = (REPO / "tests" / "fixtures" / "readers" / "entity_bomb.xml").read_bytes()  # nine levels of ten references
PUBMED = """<PubmedArticleSet>{}</PubmedArticleSet>"""
PUBMED_RECORD = """<PubmedArticle><MedlineCitation><PMID>{pmid}</PMID><Article><ArticleTitle>Trial {pmid}</ArticleTitle>
<Abstract><AbstractText>The objective response rate was 41% (95% CI 22-61).</AbstractText></Abstract>
</Article></MedlineCitation></PubmedArticle>"""

runner = CliRunner()


def abstract(i: int, marker: str = "") -> str:
    return (f"Phase II trial of drug {i} in colorectal cancer {marker}\n"
            f"Methods: {20 + i} patients were treated.\n"
            f"Results: The objective response rate was {30 + i}% (95% CI 20-60).\n")


def good_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(GOOD):
        (folder / f"abstract_{i:02d}.txt").write_text(abstract(i), encoding="utf-8")
    return folder


def pdf_bytes(tmp: Path, text: str | None = "The objective response rate was 40% (95% CI 20-60).", **options) -> bytes:
    path = tmp / "made.pdf"
    canvas = Canvas(str(path), **options)
    if text:
        canvas.drawString(72, 700, text)
    canvas.showPage()
    canvas.save()
    data = path.read_bytes()
    path.unlink()
    return data


def outside(tmp: Path) -> Path:
    """A folder next to the corpus, holding a good-looking abstract that must not be read."""
    folder = tmp / "outside"
    folder.mkdir(exist_ok=True)
    (folder / "secret.txt").write_text(abstract(99, SECRET), encoding="utf-8")
    return folder


def write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def fsname(raw: bytes) -> str:
    """A file name given as bytes, as Python's os functions hand it back (PEP 383)."""
    return os.fsdecode(raw)


def needs_mode_checks() -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores file modes")


# ----------------------------------------------------------------------------- the bad entries

Build = Callable[[Path, Path], str]
"""Makes one entry in the corpus folder (given the corpus and the test's tmp folder); returns its
path inside the corpus."""


@dataclass
class Case:
    build: Build
    reason: str  # what the failure line says, in part


def file_case(name: str, data: bytes | str | Callable[[Path], bytes], reason: str) -> Case:
    def build(corpus: Path, tmp: Path) -> str:
        write(corpus / name, data(tmp) if callable(data) else data)
        return name
    return Case(build, reason)


def _truncated_pdf(tmp: Path) -> bytes:
    data = pdf_bytes(tmp)
    return data[: len(data) // 2]


def _broken_second_record(tmp: Path) -> bytes:
    # The first record is good: a failure must still store none of the file's records.
    return PUBMED.format(PUBMED_RECORD.format(pmid=111) + "<PubmedArticle><MedlineCitation>").encode()


def _zip(tmp: Path) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", abstract(1))
    return out.getvalue()


def _link(target: str | Callable[[Path, Path], str], name: str, reason: str) -> Case:
    def build(corpus: Path, tmp: Path) -> str:
        os.symlink(target(corpus, tmp) if callable(target) else target, corpus / name)
        return name
    return Case(build, reason)


def _two_link_loop(corpus: Path, tmp: Path) -> str:
    # The second link is outside, so that one entry of the corpus is at fault.
    os.symlink(tmp / "loop_b", corpus / "loop_a")
    os.symlink(corpus / "loop_a", tmp / "loop_b")
    return "loop_a"


def _escaping_link(corpus: Path, tmp: Path) -> str:
    outside(tmp)
    os.symlink("../outside/secret.txt", corpus / "sneaky.txt")
    return "sneaky.txt"


def _fifo(corpus: Path, tmp: Path) -> str:
    os.mkfifo(corpus / "pipe.txt")  # reading it would block the run for ever
    return "pipe.txt"


def _socket(corpus: Path, tmp: Path) -> str:
    path = corpus / "s.sock.txt"
    if len(os.fsencode(path)) > 100:
        pytest.skip("tmp path too long for a unix socket")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
    return "s.sock.txt"


def _device(corpus: Path, tmp: Path) -> str:
    try:
        os.mknod(corpus / "null.txt", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("cannot make a device node here")
    return "null.txt"


def _locked_file(corpus: Path, tmp: Path) -> str:
    needs_mode_checks()
    write(corpus / "locked.txt", abstract(1))
    os.chmod(corpus / "locked.txt", 0)
    return "locked.txt"


def _locked_folder(corpus: Path, tmp: Path) -> str:
    needs_mode_checks()
    write(corpus / "locked" / "inner.txt", abstract(1))
    os.chmod(corpus / "locked", 0)
    return "locked"


def _non_utf8_file(corpus: Path, tmp: Path) -> str:
    name = fsname(b"caf\xe9-latin1-name.txt")
    write(corpus / name, abstract(1))
    return name


def _non_utf8_folder(corpus: Path, tmp: Path) -> str:
    name = fsname(b"dossier-\xff")
    write(corpus / name / "inner.txt", abstract(1))
    return name


def _empty_with_newline_name(corpus: Path, tmp: Path) -> str:
    write(corpus / "two\nlines.txt", b"")
    return "two\nlines.txt"


FAILS: dict[str, Case] = {
    # content
    "empty file": file_case("empty.txt", b"", "empty file"),
    "blank text": file_case("blank.txt", b" \n\n\t \n", "no text"),
    "zero-byte pdf": file_case("zero.pdf", b"", "empty file"),
    "truncated pdf": file_case("truncated.pdf", _truncated_pdf, "corrupt PDF"),
    "encrypted pdf": file_case("locked.pdf", lambda tmp: pdf_bytes(tmp, encrypt="secret"), "encrypted PDF"),
    "pdf without text": file_case("scan.pdf", lambda tmp: pdf_bytes(tmp, None), "no text layer"),
    "words named .pdf": file_case("words.pdf", abstract(1), "not a PDF"),
    "junk named .pdf": file_case("junk.pdf", os.urandom(4096), "not a PDF"),
    "junk named .xml": file_case("junk.xml", bytes(range(256)) * 16, "binary content"),
    "junk named .ris": file_case("junk.ris", bytes(range(256)) * 16, "binary content"),
    "junk named .nbib": file_case("junk.nbib", bytes(range(256)) * 16, "binary content"),
    "binary named .txt": file_case("binary.txt", bytes(range(256)) * 16, "binary content"),
    "zip named .txt": file_case("paper.docx.txt", _zip, "binary content"),
    "gzip named .xml": file_case("set.xml", gzip.compress(PUBMED.format(PUBMED_RECORD.format(pmid=5)).encode()),
                                 "binary content"),
    "NUL bytes only": file_case("nul.txt", b"\x00" * 5000, "binary content"),
    "UTF-16 text": file_case("utf16.txt", abstract(1).encode("utf-16"), "UTF-16"),
    "Latin-1 text": file_case("latin1.txt", abstract(1).replace("drug", "caf\xe9").encode("latin-1"), "not UTF-8"),
    "malformed XML": file_case("mismatched.xml", b"<PubmedArticleSet><PubmedArticle></PubmedArticleSet>",
                               "malformed XML"),
    "truncated JATS": file_case("truncated.nxml", b"<article><front><article-meta><title-group><article-ti",
                                "malformed XML"),
    "XML of another kind": file_case("other.xml", b"<?xml version='1.0'?><root><a>1</a></root>", "unrecognised root"),
    "XML entity bomb": file_case("bomb.xml", BILLION_LAUGHS, "entity declarations are not allowed"),
    "XML external entity": file_case(
        "xxe.nxml", b'<!DOCTYPE article [<!ENTITY s SYSTEM "file:///etc/passwd">]><article><body><p>&s;</p></body></article>',
        "not allowed"),
    "PubMed set with a broken record": file_case("broken_set.xml", _broken_second_record, "malformed XML"),
    "text file over the size limit": file_case(
        "huge.txt", lambda tmp: ("The objective response rate was 40%. " * 140_000).encode(), "over the limit of 5 MB"),
    "JATS text over the size limit": file_case(
        "huge.nxml", lambda tmp: b"<article><body><p>" + b"The objective response rate was 40%. " * 140_000
        + b"</p></body></article>", "over the limit of 5 MB"),
    # folder entries
    "dangling symlink": _link("nowhere.txt", "dangling.txt", "broken symbolic link"),
    "symlink to itself": _link("self.txt", "self.txt", "symbolic link loop"),
    "symlink loop of two": Case(_two_link_loop, "symbolic link loop"),
    "folder symlink to its parent": _link("..", "sub_up", "outside the folder"),
    "folder symlink to the corpus": _link(".", "again", "symbolic link loop"),
    "file symlink outside": _link(lambda corpus, tmp: str(outside(tmp) / "secret.txt"), "secret.txt", "outside the folder"),
    "folder symlink outside": _link(lambda corpus, tmp: str(outside(tmp)), "elsewhere", "outside the folder"),
    "relative symlink escaping": Case(_escaping_link, "outside the folder"),
    "symlink to a system file": _link("/etc/passwd", "passwd.txt", "outside the folder"),
    "symlink to a device": _link("/dev/zero", "zero.txt", "outside the folder"),
    "named pipe": Case(_fifo, "not a regular file (named pipe)"),
    "socket": Case(_socket, "not a regular file (socket)"),
    "device node": Case(_device, "not a regular file (character device)"),
    "permission-denied file": Case(_locked_file, "permission denied"),
    "permission-denied folder": Case(_locked_folder, "cannot read folder: permission denied"),
    "non-UTF-8 file name": Case(_non_utf8_file, "not valid UTF-8"),
    "non-UTF-8 folder name": Case(_non_utf8_folder, "not valid UTF-8"),
    "newline in a failing file's name": Case(_empty_with_newline_name, "empty file"),
}


def evx(*args: str) -> tuple[int, str, str]:
    """Run `evx ARGS` in this process; (exit code, stdout, stderr). An exception escaping the
    command fails the test: it would have reached the user as a traceback."""
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: {result.exception}\n{result.output}")
    return result.exit_code, result.stdout, result.stderr


def ingest(corpus: Path, db: Path, *options: str) -> tuple[int, str, str]:
    return evx("ingest", str(corpus), "--db", str(db), "--workers", "1", *options)


def query(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def assert_consistent(db: Path) -> None:
    """No record or sentence left without its document (a half-loaded file)."""
    for table in ("section", "sentence", "outcome", "trial"):
        assert query(db, f"SELECT count(*) FROM {table} WHERE document_id NOT IN (SELECT id FROM document)") == [(0,)]


def assert_good_loaded(db: Path, corpus: Path, extra: int = 0) -> None:
    documents = query(db, "SELECT path, text FROM document")
    assert sum(Path(path).name.startswith("abstract_") for path, _ in documents) == GOOD
    assert len(documents) == GOOD + extra
    assert query(db, "SELECT count(*) FROM outcome WHERE endpoint = 'ORR'")[0][0] >= GOOD
    assert not any(SECRET in text or "root:x:0:0" in text for _, text in documents)
    assert_consistent(db)


@pytest.fixture(autouse=True)
def _no_db_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVX_DB", raising=False)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return good_corpus(tmp_path / "corpus")


@pytest.mark.parametrize("case", list(FAILS.values()), ids=list(FAILS))
def test_a_bad_entry_fails_alone_with_one_line(case: Case, corpus: Path, tmp_path: Path) -> None:
    bad = case.build(corpus, tmp_path)
    db = tmp_path / "evidence.db"
    code, out, err = ingest(corpus, db)
    assert code == 1, out + err
    assert "Traceback" not in out + err
    shown = printable(str(corpus / bad))
    lines = [line for line in out.splitlines() if line.startswith(shown + ":")]
    assert len(lines) == 1, out
    assert case.reason in lines[0], lines[0]
    assert [line for line in out.splitlines() if line.startswith(str(corpus))] == lines  # the only failure
    assert query(db, "SELECT path FROM ingest_error") == [(storable(str(corpus / bad)),)]
    assert_good_loaded(db, corpus)


# ----------------------------------------------------------------------------- entries that load, or are skipped

def _bom(corpus: Path, tmp: Path) -> str:
    write(corpus / "bom.txt", b"\xef\xbb\xbf" + abstract(1).encode())
    return "bom.txt"


def _nul_inside(corpus: Path, tmp: Path) -> str:
    write(corpus / "nul_inside.txt", abstract(1).replace("rate", "ra\x00te").encode())
    return "nul_inside.txt"


def _cr_only(corpus: Path, tmp: Path) -> str:
    write(corpus / "mac.txt", abstract(1).replace("\n", "\r"))
    return "mac.txt"


def _long_line(corpus: Path, tmp: Path) -> str:
    write(corpus / "long_line.txt", abstract(1).replace("\n", " ") + "lorem ipsum dolor " * 20_000)
    return "long_line.txt"


def _newline_name(corpus: Path, tmp: Path) -> str:
    write(corpus / "first\nsecond.txt", abstract(1))
    return "first\nsecond.txt"


def _control_name(corpus: Path, tmp: Path) -> str:
    write(corpus / "bell\x07\x1b[31m.txt", abstract(1))
    return "bell\x07\x1b[31m.txt"


def _folder_named_like_a_file(corpus: Path, tmp: Path) -> str:
    write(corpus / "paper.pdf" / "inner.txt", abstract(1))
    return "paper.pdf/inner.txt"


def _deep_folder(corpus: Path, tmp: Path) -> str:
    deep = Path(*["d"] * 150) / "deep.txt"
    write(corpus / deep, abstract(1))
    return str(deep)


def _link_inside(corpus: Path, tmp: Path) -> str:
    os.symlink("abstract_01.txt", corpus / "alias.txt")  # inside the corpus: followed
    return "alias.txt"


def _folder_link_inside(corpus: Path, tmp: Path) -> str:
    write(corpus / "real" / "inner.txt", abstract(1))
    os.symlink("real", corpus / "a_link")  # walked once, under the name found first
    return "a_link/inner.txt"


def _pdf(corpus: Path, tmp: Path) -> str:
    write(corpus / "good.pdf", pdf_bytes(tmp))
    return "good.pdf"


LOADS: dict[str, Build] = {
    "UTF-8 BOM": _bom, "NUL bytes inside text": _nul_inside, "CR line ends": _cr_only, "very long line": _long_line,
    "newline in a name": _newline_name, "control characters in a name": _control_name,
    "folder named like a file": _folder_named_like_a_file, "150 nested folders": _deep_folder,
    "file symlink inside": _link_inside, "folder symlink inside": _folder_link_inside, "a real PDF": _pdf,
}


@pytest.mark.parametrize("build", list(LOADS.values()), ids=list(LOADS))
def test_odd_but_good_entries_load(build: Build, corpus: Path, tmp_path: Path) -> None:
    name = build(corpus, tmp_path)
    db = tmp_path / "evidence.db"
    code, out, err = ingest(corpus, db)
    assert code == 0, out + err
    paths = [path for (path,) in query(db, "SELECT path FROM document")]
    assert str(corpus / name) in paths
    [(text,)] = query(db, "SELECT text FROM document WHERE path = ?", (str(corpus / name),))
    assert "\ufeff" not in text and "\x00" not in text and "objective response rate" in text
    assert_good_loaded(db, corpus, extra=1)


@pytest.mark.parametrize("name", [".hidden.txt", ".git/objects/x.txt", "notes.md", "meta.json", "a.ann"])
def test_hidden_entries_and_sidecars_are_skipped_silently(name: str, corpus: Path, tmp_path: Path) -> None:
    write(corpus / name, abstract(1))
    db = tmp_path / "evidence.db"
    code, out, err = ingest(corpus, db)
    assert code == 0 and name not in out + err
    assert_good_loaded(db, corpus)


def test_the_error_line_of_a_newline_name_is_one_line(corpus: Path, tmp_path: Path) -> None:
    bad = _empty_with_newline_name(corpus, tmp_path)
    code, out, err = ingest(corpus, tmp_path / "evidence.db", "--quiet")
    assert code == 1 and out == ""
    assert err.splitlines() == [f"{corpus}/two\\nlines.txt: empty file"]
    assert bad == "two\nlines.txt"


def test_a_non_utf8_name_is_shown_and_recorded_escaped(corpus: Path, tmp_path: Path) -> None:
    _non_utf8_file(corpus, tmp_path)
    db = tmp_path / "evidence.db"
    code, out, err = ingest(corpus, db, "--quiet")
    assert code == 1
    assert err.splitlines() == [f"{corpus}/caf\\xe9-latin1-name.txt: file name is not valid UTF-8; rename it to read it"]
    code, out, _ = evx("status", "--db", str(db))
    assert code == 0 and "errors: 1" in out
    code, out, _ = evx("query", "SELECT path FROM ingest_error", "--db", str(db), "--format", "csv")
    assert out.splitlines()[1] == f"{corpus}/caf\\xe9-latin1-name.txt"


def test_a_non_utf8_path_given_on_the_command_line_fails_alone(corpus: Path, tmp_path: Path) -> None:
    bad = tmp_path / fsname(b"given-\xff.txt")
    write(bad, abstract(1))
    db = tmp_path / "evidence.db"
    code, out, err = evx("ingest", str(bad), str(corpus), "--db", str(db), "--workers", "1", "--quiet")
    assert code == 1
    assert err.splitlines() == [f"{tmp_path}/given-\\xff.txt: file name is not valid UTF-8; rename it to read it"]
    assert_good_loaded(db, corpus)


def test_a_named_pipe_given_on_the_command_line_fails_alone(corpus: Path, tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)
    db = tmp_path / "evidence.db"
    code, out, err = evx("ingest", str(pipe), str(corpus), "--db", str(db), "--workers", "1", "--quiet")
    assert code == 1
    assert err.splitlines() == [f"{pipe}: not a regular file or folder"]
    assert_good_loaded(db, corpus)


# ----------------------------------------------------------------------------- links outside the corpus


def test_outside_links_are_followed_only_when_asked(corpus: Path, tmp_path: Path) -> None:
    folder = outside(tmp_path)
    os.symlink(folder / "secret.txt", corpus / "secret.txt")
    os.symlink(folder, corpus / "elsewhere")
    db = tmp_path / "evidence.db"
    code, out, _ = ingest(corpus, db)
    assert code == 1 and out.count("outside the folder: not followed") == 2
    assert_good_loaded(db, corpus)

    code, out, err = evx("refresh", "--db", str(db), "--workers", "1", "--follow-outside-links")
    assert code == 0, out + err
    stored = query(db, "SELECT path, text FROM document WHERE withdrawn_run IS NULL")
    assert {path for path, text in stored if SECRET in text} == {str(corpus / "secret.txt"), str(corpus / "elsewhere" / "secret.txt")}
    assert query(db, "SELECT count(*) FROM ingest_error") == [(0,)]


def test_the_corpus_itself_may_be_a_link(corpus: Path, tmp_path: Path) -> None:
    link = tmp_path / "corpus_link"
    os.symlink(corpus, link)
    os.symlink("abstract_00.txt", corpus / "alias.txt")  # inside the corpus, seen through the link
    db = tmp_path / "evidence.db"
    code, out, err = ingest(link, db)
    assert code == 0, out + err
    assert len(query(db, "SELECT id FROM document")) == GOOD + 1


# ----------------------------------------------------------------------------- entries that fail as the walk reads them


def test_a_folder_that_cannot_be_listed_fails_alone_even_as_root(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    write(corpus / "locked" / "inner.txt", abstract(1))
    real_scandir = os.scandir

    def scandir(path):
        if os.fspath(path).endswith("locked"):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    db = tmp_path / "evidence.db"
    code, out, _ = ingest(corpus, db)
    assert code == 1
    assert f"{corpus}/locked: cannot read folder: permission denied" in out.splitlines()
    assert_good_loaded(db, corpus)


def test_a_folder_gone_mid_walk_fails_alone_and_withdraws_nothing(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    write(corpus / "sub" / "inner.txt", abstract(1))
    db = tmp_path / "evidence.db"
    assert ingest(corpus, db)[0] == 0
    real_scandir = os.scandir

    def scandir(path):
        if os.fspath(path).endswith("sub"):  # listed by its parent, gone when opened
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code, out, err = evx("refresh", "--db", str(db), "--workers", "1")
    assert code == 1, out + err
    assert f"{corpus}/sub: cannot read folder: no such file or directory" in out.splitlines()
    assert query(db, "SELECT count(*) FROM document WHERE withdrawn_run IS NULL") == [(GOOD + 1,)]  # inner.txt kept


def test_a_file_gone_between_the_walk_and_its_reading_fails_alone(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    victim = corpus / "vanishing.txt"
    write(victim, abstract(1))
    real_walk = pipeline.readers.walk_folder

    def walk(*args, **kwargs):
        names = list(real_walk(*args, **kwargs))
        victim.unlink()
        return iter(names)

    monkeypatch.setattr(pipeline.readers, "walk_folder", walk)
    db = tmp_path / "evidence.db"
    code, out, _ = ingest(corpus, db)
    assert code == 1
    assert f"{victim}: no such file or directory" in out.splitlines()
    assert_good_loaded(db, corpus)


# ----------------------------------------------------------------------------- size limit


def test_the_size_limit_can_be_set(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "evidence.db"
    write(corpus / "longer.txt", abstract(1) * 20)  # about 3 kB
    code, out, _ = ingest(corpus, db, "--max-text", "0.002")
    assert code == 1
    [line] = [line for line in out.splitlines() if line.startswith(str(corpus))]
    assert line.startswith(f"{corpus}/longer.txt: text file of ") and "over the limit of 0.002 MB" in line
    assert_good_loaded(db, corpus)


def test_a_text_over_spacys_default_length_within_evxs_limit_is_read(monkeypatch) -> None:
    from pipeline import extractor
    from pipeline.document import Document
    from pipeline.extract.nlp import build_nlp
    from pipeline.ingest import analyse_all

    nlp = build_nlp()
    monkeypatch.setattr(nlp, "max_length", 1_000_000)
    monkeypatch.setattr(extractor, "analyse", lambda document: len(nlp.make_doc(document.text)))  # would raise E088
    text = "The objective response rate was 40%. " * 30_000  # 1.1 million characters
    [(_doc, tokens)] = analyse_all([Document(source="long.txt", format="text", text=text)])
    assert tokens > 200_000


# ----------------------------------------------------------------------------- everything at once, as the user runs it


def test_all_bad_entries_in_one_batch_with_workers(tmp_path: Path) -> None:
    """The real command in its own process, with worker processes: one line per bad entry, no
    traceback, the good abstracts stored."""
    corpus = good_corpus(tmp_path / "corpus")
    bad = []
    for case in FAILS.values():
        try:
            bad.append(case.build(corpus, tmp_path))
        except pytest.skip.Exception:  # not possible here (as root, or no device nodes)
            continue
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("EVX_DB", None)
    run = subprocess.run([sys.executable, "-m", "pipeline", "ingest", str(corpus), "--db", str(tmp_path / "x.db"),
                          "--workers", "2", "--quiet"], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 1 and run.stdout == ""
    assert "Traceback" not in run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == len(bad)
    for name in bad:
        assert sum(line.startswith(printable(str(corpus / name)) + ": ") for line in lines) == 1, name
    assert_good_loaded(tmp_path / "x.db", corpus)


# ----------------------------------------------------------------------------- evx query


@pytest.fixture
def db(corpus: Path, tmp_path: Path) -> Path:
    path = tmp_path / "evidence.db"
    assert ingest(corpus, path)[0] == 0
    return path


def test_a_runaway_query_is_stopped_by_its_timeout(db: Path) -> None:
    started = time.monotonic()
    code, out, err = evx("query", RUNAWAY, "--db", str(db), "--timeout", "1")
    assert time.monotonic() - started < 5
    assert code == 2 and out == ""
    assert err.splitlines() == ["evx: query stopped after 1 s, its time limit (--timeout allows more)"]


def _interrupted_after_cpu(args: list[str], cpu: float) -> tuple[int, str, str]:
    """Run ``evx ARGS``, send it SIGINT once it has used ``cpu`` seconds of CPU (on a loaded
    machine, a fixed sleep may end before it is under way): (exit code, stdout, stderr)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while process_cpu_seconds(proc.pid) < cpu and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    return proc.returncode, out, err


def test_ctrl_c_while_evx_starts_is_one_line(db: Path) -> None:
    # At 0.25 s of CPU, evx is importing its modules (Python starts in 0.05, its 1.7 s of
    # imports follow); past them, typer's own handling answers (exit 130, silently).
    code, out, err = _interrupted_after_cpu(["query", "SELECT 1", "--db", str(db)], cpu=0.25)
    assert code == 130
    assert err.splitlines() == ["evx: interrupted"] and out == ""


def test_a_runaway_query_is_stopped_by_ctrl_c(db: Path) -> None:
    # Starting takes about 1.7 s of CPU here: well into the query at 4.
    code, out, err = _interrupted_after_cpu(["query", RUNAWAY, "--db", str(db), "--timeout", "0"], cpu=4)
    assert code == 130
    assert err.splitlines() == ["evx: query interrupted"] and out == ""


def test_query_rows_are_limited_in_tables(db: Path) -> None:
    many = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 5000) SELECT x FROM c"
    code, out, err = evx("query", many, "--db", str(db))
    assert code == 0 and len(out.splitlines()) == 2 + 1000
    assert err.strip() == "evx: showing the first 1000 rows; --limit 0 shows all"
    code, out, err = evx("query", many, "--db", str(db), "--limit", "3", "--format", "csv")
    assert out.splitlines() == ["x", "1", "2", "3"] and "first 3 rows" in err
    code, out, err = evx("query", many, "--db", str(db), "--format", "jsonl")
    assert len(out.splitlines()) == 5000 and err == ""
