"""Tests of the non-PDF readers, format detection and directory walking.

Fixtures in tests/fixtures/readers are invented (a fictional anti-HER2 drug, "zelritumab"); the
real-file tests read ../shared/corpus/formats and are skipped when that folder is absent.
"""

from __future__ import annotations

import re
import sys
import time
import types
from pathlib import Path

import pytest

from pipeline.document import Document
from pipeline.errors import ReaderError, UnknownFormat
from pipeline.readers import detect_format, iter_source_files, read_path

FIXTURES = Path(__file__).parent / "fixtures" / "readers"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FORMATS = SHARED / "corpus" / "formats"
PDF_RCT = SHARED / "corpus" / "pdf-rct"

# Section names the readers give to parts the source does not title in its text.
UNTITLED_SECTIONS = {"Title", "Abstract"}


def read(path: Path, source: str | None = None) -> list[Document]:
    return list(read_path(path, source))


def assert_offsets_valid(doc: Document) -> None:
    """Every section and table span indexes doc.text: titled sections start with their title,
    tables are rendered rows joined by " | "."""
    for section in doc.sections:
        assert 0 <= section.start < section.end <= len(doc.text), section
        span = doc.text[section.start:section.end]
        # No blank-line padding (a row may end in " | " when its last cell is empty).
        assert span == span.strip("\n") and not span[0].isspace(), (section.title, span[:60])
        if section.title not in UNTITLED_SECTIONS:
            assert span.startswith(section.title), (section.title, span[:60])
    assert doc.sections == sorted(doc.sections, key=lambda s: (s.start, -s.end))
    for table in doc.tables:
        rendered = "\n".join(" | ".join(row) for row in table.rows)
        assert doc.text[table.start:table.end] == rendered


def section_text(doc: Document, title: str) -> str:
    (section,) = [s for s in doc.sections if s.title == title]
    return doc.text[section.start:section.end]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------------------------
# Plain text


def test_text_reader_keeps_text_and_takes_first_line_as_title() -> None:
    path = FIXTURES / "her2_trial.txt"
    (doc,) = read(path)
    assert doc.format == "text"
    assert doc.source == str(path)
    assert doc.text == path.read_text(encoding="utf-8")
    assert doc.title.startswith("Zelritumab plus chemotherapy")
    assert doc.pmid is None
    assert doc.sections == [] and doc.pages == [] and doc.tables == []


def test_text_reader_pmid_from_numeric_stem_and_custom_source() -> None:
    (doc,) = read(FIXTURES / "31415926.txt", source="batch/31415926.txt")
    assert doc.pmid == "31415926"
    assert doc.source == "batch/31415926.txt"


def test_text_reader_normalises_newlines_bom_and_nul(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf\r\n\r\nFirst line\r\nsecond\x00 line\rthird\n"
    path = write(tmp_path, "note.txt", data)
    (doc,) = read(path)
    assert doc.text == "\n\nFirst line\nsecond line\nthird\n"
    assert doc.title == "First line"


def test_text_reader_no_title_when_first_line_is_a_paragraph(tmp_path: Path) -> None:
    (doc,) = read(write(tmp_path, "long.txt", ("word " * 100).encode() + b"\n"))
    assert doc.title is None


# ---------------------------------------------------------------------------------------------
# PubMed XML


def test_pubmed_xml_records_fields_and_sources() -> None:
    path = FIXTURES / "pubmed_set.xml"
    docs = read(path)
    assert [d.source for d in docs] == [f"{path}#90000001", f"{path}#90000002", f"{path}#90000003"]
    first, second, book = docs
    assert first.format == "pubmed-xml"
    assert first.pmid == "90000001"  # not the PMID of the comment in CommentsCorrections
    assert first.title == "Zelritumab in HER2-positive gastric cancer (AURORA-7)."
    assert first.doi == "10.9999/fake.2021.001"  # from ArticleIdList
    assert first.journal == "Journal of Invented Oncology"
    assert first.year == 2021
    assert second.doi == "10.9999/fake.2019.002"  # from ELocationID
    assert second.year == 2019  # from MedlineDate "2019 Nov-Dec"
    assert book.pmid == "90000003" and book.title == "A Pretend Handbook of HER2 Testing"
    assert book.year == 2020
    for doc in docs:
        assert_offsets_valid(doc)


def test_pubmed_xml_structured_abstract_layout() -> None:
    first, second, _ = read(FIXTURES / "pubmed_set.xml")
    assert first.text.startswith(first.title + "\n\nBACKGROUND\nPatients received")
    assert [s.title for s in first.sections] == ["Title", "BACKGROUND", "RESULTS", "CONCLUSIONS"]
    # Pretty-printing before <sup> is layout, not a space; other newlines collapse to one space.
    assert "dosed at 6 mg/m2 every three weeks." in section_text(first, "BACKGROUND")
    assert section_text(first, "RESULTS") == (
        "RESULTS\nThe response rate was 48% versus 31% (P=0.01)."
    )
    assert [s.title for s in second.sections] == ["Title", "Abstract"]
    assert section_text(second, "Abstract").startswith("Of 200 tumours")
    assert second.text == second.title + "\n\n" + section_text(second, "Abstract")


def test_pubmed_xml_saved_as_txt_is_detected_by_content(tmp_path: Path) -> None:
    path = write(tmp_path, "efetch.txt", (FIXTURES / "pubmed_set.xml").read_bytes())
    docs = read(path)
    assert [d.format for d in docs] == ["pubmed-xml"] * 3
    assert docs[0].source == f"{path}#90000001"


def test_pubmed_xml_without_articles_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.xml", b"<PubmedArticleSet></PubmedArticleSet>")
    with pytest.raises(ReaderError, match="no PubmedArticle"):
        read(path)


# ---------------------------------------------------------------------------------------------
# MEDLINE


def test_medline_records_fields_and_sections() -> None:
    path = FIXTURES / "two_records.nbib"
    first, second = read(path)
    assert first.source == f"{path}#90000011" and second.source == f"{path}#90000012"
    assert first.format == "medline"
    assert first.title == (
        "A fictional phase II study of zelritumab with a long title that wraps onto a second line."
    )
    assert first.doi == "10.9999/fake.2022.011"
    assert first.year == 2022
    assert first.journal == "Journal of Invented Oncology"  # JT preferred over TA
    assert second.journal == "Imag Cancer Lett"
    assert second.doi == "10.9999/fake.2018.012"  # the [doi] AID, not the [pii] one
    assert first.text.startswith(first.title + "\n\nBACKGROUND: HER2-low disease")
    assert "without amplification. METHODS:" in first.text  # continuation joined by one space
    assert [s.title for s in first.sections] == [
        "Title", "BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS"
    ]
    assert section_text(first, "METHODS") == "METHODS: Forty patients were enrolled."
    assert [s.title for s in second.sections] == ["Title", "Abstract"]
    for doc in (first, second):
        assert_offsets_valid(doc)


def test_medline_crlf_reads_the_same(tmp_path: Path) -> None:
    data = (FIXTURES / "two_records.nbib").read_bytes().replace(b"\n", b"\r\n")
    crlf = read(write(tmp_path, "two_records.nbib", data), source="x")
    lf = read(FIXTURES / "two_records.nbib", source="x")
    assert crlf == lf


# ---------------------------------------------------------------------------------------------
# RIS (and the Web of Science tagged format)


def test_ris_records_fields_and_sources() -> None:
    path = FIXTURES / "three_records.ris"  # BOM, numbering lines, untagged continuation lines
    docs = read(path)
    assert [d.source for d in docs] == [f"{path}#90000101", f"{path}#90000102", f"{path}#3"]
    first, second, third = docs
    assert first.format == "ris"
    assert first.title == "Zelritumab in gastric cancer: a made-up RIS record"
    assert first.doi == "10.9999/fake.2021.101"  # resolver URL stripped
    assert first.year == 2021 and first.journal == "Journal of Invented Oncology"
    assert "6 μg/ml" in first.text
    assert [s.title for s in first.sections] == ["Title", "BACKGROUND", "RESULTS"]
    assert second.pmid == "90000102"  # from "PMID: ..." in a note
    assert second.title == "Café-table HER2 testing"
    assert "abstract, second line without a tag." in second.text
    assert second.year == 2017
    assert third.pmid is None and third.journal == "Pretend Reviews"
    assert third.text == "A record with no PMID"
    for doc in docs:
        assert_offsets_valid(doc)


def test_ris_crlf_reads_the_same(tmp_path: Path) -> None:
    data = (FIXTURES / "three_records.ris").read_bytes().replace(b"\n", b"\r\n")
    assert read(write(tmp_path, "r.ris", data), "x") == read(FIXTURES / "three_records.ris", "x")


def test_web_of_science_export_is_read_as_ris() -> None:
    path = FIXTURES / "wos_export.txt"  # named .txt: the content decides
    first, second = read(path)
    assert first.format == "ris"
    assert first.source == f"{path}#90000201" and second.source == f"{path}#2"
    assert first.title == "A fictional Web of Science record about HER2 amplification"
    assert first.doi == "10.9999/fake.2015.201" and first.year == 2015
    assert second.title == "A second invented record" and second.year == 2016


# ---------------------------------------------------------------------------------------------
# JATS


def test_jats_article_fields_sections_and_tables() -> None:
    path = FIXTURES / "article.nxml"  # uses xlink: without declaring it, like real PMC files
    (doc,) = read(path)
    assert doc.format == "jats" and doc.source == str(path)
    assert doc.title == "Zelritumab versus placebo in HER2-positive disease: a pretend trial"
    assert (doc.pmid, doc.doi, doc.year) == ("90000301", "10.9999/fake.2023.301", 2023)
    assert doc.journal == "Journal of Invented Oncology"
    assert [s.title for s in doc.sections] == [
        "Title", "Background", "Results", "Introduction", "Methods", "Patients", "Statistics",
        "Results", "Table 1",
    ]
    assert section_text(doc, "Patients").startswith("Patients\nAdults with IHC 3+ tumours")
    methods = section_text(doc, "Methods")
    assert "Patients" in methods and "log-rank" in methods  # nested sections inside the parent
    assert "Figure 1. Invented survival curves." in doc.text
    (table,) = doc.tables
    assert table.page is None and table.caption == "Best response by arm."
    assert table.rows == [["Arm", "n", "ORR, %"], ["Zelritumab", "125", "48"],
                          ["Placebo", "126", "31"]]
    assert section_text(doc, "Table 1").startswith("Table 1. Best response by arm.\nArm | n")
    assert "ORR, objective response rate." in section_text(doc, "Table 1")
    for skipped in ("must be skipped", "must not appear"):  # references, footnotes, teaser
        assert skipped not in doc.text
    assert_offsets_valid(doc)


def test_jats_extract_without_article_root() -> None:
    (doc,) = read(FIXTURES / "extract.xml")
    assert doc.format == "jats" and doc.title is None
    assert [s.title for s in doc.sections] == ["Abstract", "Results", "Table 1"]
    assert section_text(doc, "Abstract").startswith("An unstructured invented abstract")
    assert doc.tables[0].rows == [["CR", "2"], ["PR", "6"]]
    assert_offsets_valid(doc)


# ---------------------------------------------------------------------------------------------
# Detection


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("paper.pdf", b"%PDF-1.7\n", "pdf"),
        ("paper.bin", b"\x00junk before the header " * 10 + b"%PDF-1.4", "pdf"),
        ("noext", b"%PDF-1.4\n", "pdf"),
        ("set.txt", b'<?xml version="1.0"?>\n<PubmedArticleSet>', "pubmed-xml"),
        ("one.xml", b"<PubmedArticle><MedlineCitation>", "pubmed-xml"),
        ("a.nxml", b"<!DOCTYPE article PUBLIC 'x' 'y'>\n<!-- c --><article>", "jats"),
        ("a.xml", b"\xef\xbb\xbf<?xml version='1.0'?><article xmlns:x='u'>", "jats"),
        ("a.xml", b"<abstract><p>x</p></abstract><sec>", "jats"),
        ("cut.xml", b"<!DOCTYPE PubmedArticleSet [ <!ENTITY a 'b'> <!ENTITY c", "pubmed-xml"),
        ("r.nbib", b"\n\nPMID- 123\nTI  - x\n", "medline"),
        ("r.txt", b"OWN - NLM\nSTAT- MEDLINE\nTI  - x\n", "medline"),
        ("r.ris", b"TY  - JOUR\r\nTI  - x\r\nER  - \r\n", "ris"),
        ("r.txt", b"1.\nTY  - JOUR\nTI  - x\n", "ris"),
        ("r.txt", b"FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\n", "ris"),
        ("notes.txt", "Plain text with ünïcödé.\n".encode(), "text"),
        ("noext", b"Plain text without an extension.\n", "text"),
        ("page.html", b"<html><body>hi</body></html>", "text"),
        ("latin1.txt", "Caf\xe9 au lait, r\xe9sum\xe9.\n".encode("latin-1"), "text"),
        ("cut.txt", "αβγ".encode()[:-1], "text"),  # head ends inside a character
    ],
)
def test_detect_format_by_content(name: str, head: bytes, expected: str) -> None:
    assert detect_format(Path(name), head) == expected


@pytest.mark.parametrize(
    ("name", "head", "error", "message"),
    [
        ("empty.txt", b"", ReaderError, "empty file"),
        ("fake.pdf", b"This is text saved as .pdf\n", ReaderError, r"not a PDF \(no %PDF header\)"),
        ("fake.pdf", b"<html>error page</html>", ReaderError, "not a PDF"),
        ("junk.bin", bytes(range(256)) * 4, UnknownFormat, "binary content of unknown format"),
        ("junk.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", UnknownFormat, "binary"),
        ("u16.txt", "text".encode("utf-16"), ReaderError, "UTF-16"),
        ("svg.xml", b"<?xml version='1.0'?><svg></svg>", UnknownFormat, "root element <svg>"),
        ("prose.xml", b"Not XML at all.\n", UnknownFormat, "does not hold XML"),
    ],
)
def test_detect_format_rejects(name: str, head: bytes, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        detect_format(Path(name), head)


def test_read_path_sends_pdf_to_the_pdf_reader(tmp_path: Path, monkeypatch) -> None:
    calls = []

    def fake_read_pdf(path: Path, source: str, data: bytes) -> Document:
        calls.append((path, source, data))
        return Document(source=source, format="pdf", text="x")

    module = types.ModuleType("pipeline.readers.pdf")
    module.read_pdf = fake_read_pdf
    monkeypatch.setitem(sys.modules, "pipeline.readers.pdf", module)
    path = write(tmp_path, "scan.dat", b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    assert [d.format for d in read(path)] == ["pdf"]
    assert calls == [(path, str(path), path.read_bytes())]  # the bytes read once, by read_path


# ---------------------------------------------------------------------------------------------
# Bad input: one short ReaderError, never a hang, never part of a file


# An entity bomb ("billion laughs"): nine levels of ten references each.
BILLION_LAUGHS = (FIXTURES / "entity_bomb.xml").read_bytes()


@pytest.mark.parametrize("name", ["bomb.xml", "bomb.txt", "bomb.nxml"])
def test_entity_bomb_is_refused_quickly(tmp_path: Path, name: str) -> None:
    data = BILLION_LAUGHS if name != "bomb.nxml" else BILLION_LAUGHS.replace(
        b"PubmedArticleSet [", b"article [").replace(b"<PubmedArticleSet>", b"<article>", 1)
    path = write(tmp_path, name, data)
    started = time.monotonic()
    with pytest.raises(ReaderError, match="XML entity declarations are not allowed"):
        read(path)
    assert time.monotonic() - started < 1.0


def test_external_entity_is_refused(tmp_path: Path) -> None:
    data = (b'<!DOCTYPE article [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
            b"<article><front><article-meta><title-group><article-title>&secret;"
            b"</article-title></title-group></article-meta></front></article>")
    with pytest.raises(ReaderError, match="not allowed"):
        read(write(tmp_path, "x.nxml", data))


def test_entities_of_an_unread_external_dtd_are_mapped(tmp_path: Path) -> None:
    data = (b'<!DOCTYPE article SYSTEM "JATS-archivearticle1.dtd"><article><body>'
            b"<p>HER2&nbsp;3+ in &beta;-cohort &amp; more</p></body></article>")
    (doc,) = read(write(tmp_path, "a.nxml", data))
    assert doc.text == "HER2\u00a03+ in \u03b2-cohort & more"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("mismatched.xml", b"<PubmedArticleSet><PubmedArticle></PubmedArticleSet>"),
        ("truncated.nxml", b"<article><front><article-meta><title-group><article-ti"),
        ("undefined.xml", b"<article><body><p>&nbsp;</p></body></article>"),
    ],
)
def test_malformed_xml(tmp_path: Path, name: str, data: bytes) -> None:
    with pytest.raises(ReaderError, match=r"^malformed XML: .+") as info:
        read(write(tmp_path, name, data))
    assert name not in str(info.value) and "\n" not in str(info.value)


def test_latin1_text_names_the_encoding_problem(tmp_path: Path) -> None:
    text = "HER2 status was positive in the caf\xe9 cohort.\n"
    path = write(tmp_path, "latin1.txt", text.encode("latin-1"))
    with pytest.raises(ReaderError) as info:
        read(path)
    message = str(info.value)
    offset = text.index("\xe9")
    assert message.startswith(f"not UTF-8 text (invalid byte 0xe9 at offset {offset}")
    assert "re-save as UTF-8" in message and "latin1.txt" not in message


@pytest.mark.parametrize(
    ("name", "data", "error", "message"),
    [
        ("empty.txt", b"", ReaderError, "^empty file$"),
        ("junk.dat", bytes(range(256)) * 8, UnknownFormat, "^binary content of unknown format$"),
        ("paper.pdf", b"Just words in a .pdf file.\n", ReaderError, r"^not a PDF \(no %PDF"),
        ("x.ris", b"TY  - JOUR\nTI  - \xff\xfe broken\nER  - \n", ReaderError, "^not UTF-8 text"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, data: bytes, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        read(write(tmp_path, name, data))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="cannot open file"):
        read(tmp_path / "gone.txt")


def test_a_multi_record_file_is_read_a_record_at_a_time(tmp_path: Path) -> None:
    # Read as it is parsed: the good records come first, then the error (ingest stores the
    # file in one transaction, so none of them is kept: tests/test_hostile_inputs.py).
    good = (FIXTURES / "pubmed_set.xml").read_bytes()
    path = write(tmp_path, "broken.xml", good.replace(b"</PubmedArticleSet>", b"<PubmedArticle>"))
    records = [d.source.partition("#")[2] for d in read_path(FIXTURES / "pubmed_set.xml")]
    documents = read_path(path)
    assert [next(documents).source for _ in records] == [f"{path}#{pmid}" for pmid in records]
    with pytest.raises(ReaderError, match="malformed XML"):
        next(documents)


# ---------------------------------------------------------------------------------------------
# Walking directories


def test_iter_source_files_walks_sorted_and_skips_sidecars(tmp_path: Path) -> None:
    names = [
        "b/2.txt", "b/2.ann", "b/a/1.txt", "a.pdf", "a.xml", "notes.md", "meta.json", "tool.py",
        "evx.db", "cache.sqlite", ".hidden.txt", ".git/config.txt", "c.ris", "Z.nbib",
    ]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    got = [p.relative_to(tmp_path).as_posix() for p in iter_source_files([tmp_path])]
    assert got == ["Z.nbib", "a.pdf", "a.xml", "b/2.txt", "b/a/1.txt", "c.ris"]


def test_iter_source_files_yields_given_files_once(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    inside = tmp_path / "d" / "x.txt"
    inside.write_text("x")
    sidecar = tmp_path / "given.json"
    sidecar.write_text("{}")
    got = list(iter_source_files([sidecar, tmp_path / "d", inside]))
    assert got == [sidecar, inside]


# ---------------------------------------------------------------------------------------------
# Real files from ../shared (third-party data: read in place, never copied)

needs_formats = pytest.mark.skipif(not FORMATS.is_dir(), reason="shared corpus not present")


@needs_formats
def test_real_pubmed_xml() -> None:
    for path in sorted((FORMATS / "pubmed-xml").glob("*.xml")):
        expected = len(re.findall(rb"<PubmedArticle>", path.read_bytes()))
        docs = read(path)
        assert len(docs) == expected > 0
        for doc in docs:
            assert doc.pmid and doc.pmid.isdigit() and doc.source == f"{path}#{doc.pmid}"
            assert doc.title and doc.year and doc.journal
            assert len(doc.sections) >= 2
            assert_offsets_valid(doc)


@needs_formats
def test_real_jats_articles() -> None:
    paths = sorted((FORMATS / "jats").glob("*.nxml"))
    assert paths
    for path in paths:
        (doc,) = read(path)
        assert doc.title and doc.pmid and doc.doi and doc.year
        body = [s for s in doc.sections if s.title not in UNTITLED_SECTIONS]
        assert len(body) >= 3
        assert all(s.end - s.start > len(s.title) for s in body)
        assert len(doc.text) > 5000
        assert "xlink" not in doc.text
        assert_offsets_valid(doc)


@needs_formats
def test_real_ris_record_counts() -> None:
    paths = sorted((FORMATS / "ris").glob("*.ris"))
    assert paths
    for path in paths:
        text = path.read_text(encoding="utf-8-sig")
        expected = len(re.findall(r"^TY  -", text, re.MULTILINE))
        if not expected:  # Web of Science tagged export: records end with an "ER" line
            expected = len(re.findall(r"^ER\s*$", text, re.MULTILINE))
        docs = read(path)
        assert len(docs) == expected > 0, path.name
        assert {d.format for d in docs} == {"ris"}
        for doc in docs:
            assert_offsets_valid(doc)


@pytest.mark.skipif(not PDF_RCT.is_dir(), reason="shared corpus not present")
def test_real_pmc_extracts() -> None:
    """The XML next to each trial PDF is a JATS extract; a broken one fails as malformed XML."""
    read_ok = 0
    for path in sorted(PDF_RCT.glob("*.xml")):
        try:
            (doc,) = read(path)
        except ReaderError as exc:
            assert str(exc).startswith("malformed XML: ")
            continue
        read_ok += 1
        assert doc.format == "jats" and len(doc.sections) >= 2 and len(doc.text) > 500
        assert_offsets_valid(doc)
    assert read_ok >= 30
