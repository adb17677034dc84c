"""PDF reader: column order, clean-up, tables and bad inputs.

Most PDFs are drawn here with reportlab so each test controls the layout it checks; the
example article is corpus/her2-crc-example.pdf, and the real trial PDFs in ../shared are
read when present.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from pipeline.errors import ReaderError
from pipeline.readers import pdf as pdf_reader
from pipeline.readers.pdf import normalize, read_pdf

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "corpus" / "her2-crc-example.pdf"
REAL_PDFS = ROOT.parent / "shared" / "corpus" / "pdf-rct"
WIDTH, HEIGHT = A4


def _example_module():
    spec = importlib.util.spec_from_file_location("make_example_pdf", ROOT / "corpus" / "make_example_pdf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _vera() -> str:
    pdfmetrics.registerFont(TTFont("Vera", "Vera.ttf"))  # ships with reportlab; has ﬁ ﬂ · − ≥
    return "Vera"


# --- the example article -------------------------------------------------------------------


@pytest.fixture(scope="module")
def example():
    return read_pdf(EXAMPLE, str(EXAMPLE))


def test_example_paragraphs_come_out_whole_and_in_column_order(example) -> None:
    source = _example_module()
    paragraphs = [source.ABSTRACT, *source.INTRODUCTION, *source.METHODS, *source.RESULTS]
    paragraphs += [*source.DISCUSSION, source.CONCLUSION]
    text = _flat(example.text)
    position = 0
    for paragraph in paragraphs:
        # The forced line breaks: a word split by a hyphen is joined, a compound keeps it.
        expected = _flat(paragraph.replace("phos-<br/>", "phos").replace("-<br/>", "-").replace("ﬁ", "fi"))
        found = text.find(expected)
        assert found >= 0, f"paragraph not found whole: {expected[:60]}"
        assert found > position, f"paragraph out of order: {expected[:60]}"
        position = found


def test_example_drops_running_header_and_page_numbers(example) -> None:
    assert "evx example corpus" not in example.text
    lines = {line.strip() for line in example.text.splitlines()}
    assert not lines & {"1", "2", "2024"}
    assert example.text.startswith("HER2-targeted therapy in metastatic colorectal")


def test_example_table_is_kept_as_rows(example) -> None:
    source = _example_module()
    [table] = example.tables
    assert table.page == 2
    assert table.rows == source.TABLE_ROWS
    assert table.caption == source.TABLE_CAPTION
    block = example.text[table.start : table.end]
    assert block.splitlines()[0] == source.TABLE_CAPTION
    assert "DESTINY-CRC01 cohort A | trastuzumab deruxtecan | 53 | 45.3 (31.6–59.6) | 6.9" in block
    assert [(s.title, s.start, s.end) for s in example.sections] == [("Table 1", table.start, table.end)]
    # The table's words were taken out of the page flow, so its figures appear once.
    assert example.text.count("30 (8/27)") == 1
    assert example.text.count(source.TABLE_CAPTION) == 1


def test_example_pages_and_metadata(example) -> None:
    assert [page.number for page in example.pages] == [1, 2]
    assert example.pages[0].start == 0 and example.pages[-1].end == len(example.text)
    assert example.pages[0].end + 2 == example.pages[1].start  # pages joined by "\n\n"
    assert example.page_at(example.text.index("Introduction")) == 1
    assert example.page_at(example.text.index("Conclusion")) == 2
    assert example.page_at(example.tables[0].start) == 2
    assert example.format == "pdf"
    assert example.title == "HER2-targeted therapy in metastatic colorectal cancer: an example summary"
    assert example.doi == "10.5555/evx.example.2024"
    assert example.year == 2024


def test_example_pdf_matches_its_script(tmp_path: Path, example) -> None:
    rebuilt = _example_module().build(tmp_path / "example.pdf")
    assert read_pdf(rebuilt, "rebuilt").text == example.text


# --- layouts drawn here --------------------------------------------------------------------


def _two_columns(path: Path, right_first: bool) -> tuple[list[str], list[str]]:
    """A full-width title, two columns of numbered sentences on shared baselines and a
    full-width closing line. The content stream draws each right line before (or after) the
    left line of the same baseline, so stream order alone would interleave them."""
    left = [f"Left sentence {i} about the first column text here." for i in range(25)]
    right = [f"Right sentence {i} about the second column text." for i in range(25)]
    canvas = Canvas(str(path), pagesize=A4)
    canvas.setFont("Helvetica", 10)
    canvas.drawString(56, 790, "A full width title line that spans across both of the columns below")
    for i, (a, b) in enumerate(zip(left, right)):
        y = 750 - 14 * i
        if right_first:
            canvas.drawString(310, y, b)
            canvas.drawString(56, y, a)
        else:
            canvas.drawString(56, y, a)
            canvas.drawString(310, y, b)
    canvas.drawString(56, 360, "A closing full width line that follows the two columns of this page")
    canvas.save()
    return left, right


@pytest.mark.parametrize("right_first", [True, False])
def test_two_columns_read_left_then_right(tmp_path: Path, right_first: bool) -> None:
    pdf = tmp_path / "columns.pdf"
    left, right = _two_columns(pdf, right_first)
    text = read_pdf(pdf, "columns").text
    positions = [text.index(sentence) for sentence in left + right]
    assert positions == sorted(positions), "columns interleaved"
    assert text.index("A full width title") < positions[0]
    assert text.index("A closing full width line") > positions[-1]
    # The end of column 1 comes right before the start of column 2.
    assert text.index(left[-1]) < text.index(right[0]) < text.index(right[1])


def test_line_end_hyphens_joined_unless_compound(tmp_path: Path) -> None:
    pdf = tmp_path / "hyphens.pdf"
    canvas = Canvas(str(pdf), pagesize=A4)
    canvas.setFont("Helvetica", 11)
    lines = [
        "The kinase activates the phos-",
        "phatidylinositol pathway in tumour cells. All HER2-",
        "positive tumours were treated with anti-",
        "HER2 therapy for a long-",
        "term benefit, and long-term follow-up is ongoing in each random-",
        "ized trial.",
    ]
    for i, line in enumerate(lines):
        canvas.drawString(72, 700 - 15 * i, line)
    canvas.save()
    text = _flat(read_pdf(pdf, "hyphens").text)
    assert "phosphatidylinositol pathway" in text
    assert "HER2-positive tumours" in text
    assert "anti-HER2 therapy" in text
    assert "long-term benefit" in text  # the hyphenated form occurs elsewhere
    assert "randomized trial" in text


def test_ligatures_spaces_and_number_forms(tmp_path: Path) -> None:
    pdf = tmp_path / "glyphs.pdf"
    canvas = Canvas(str(pdf), pagesize=A4)
    canvas.setFont(_vera(), 11)
    canvas.drawString(72, 700, "The ﬁrst ﬂow of patients received 10\u00a0mg/kg.")
    canvas.drawString(72, 680, "Hazard ratio 0·45 (95% CI 0·30–0·68); change −1.2 kg; ratio ≥ 2.0.")
    canvas.save()
    text = read_pdf(pdf, "glyphs").text
    assert "The first flow of patients received 10 mg/kg." in text
    assert "Hazard ratio 0·45 (95% CI 0·30–0·68); change −1.2 kg; ratio ≥ 2.0." in text


def test_normalize_keeps_number_forms() -> None:
    assert normalize("eﬃcacy ﬀ ﬄ ﬁ ﬂ") == "efficacy ff ffl fi fl"
    assert normalize("10\u00a0mg 5\u2009%\u202fx\u200by\ufeffz") == "10 mg 5 % xyz"
    assert normalize("sig\u00adnificant") == "significant"
    assert normalize("0·45 31.6–59.6 −1.2 ≥ 2.0 10⁹/L") == "0·45 31.6–59.6 −1.2 ≥ 2.0 10⁹/L"
    assert normalize("𝑛 = 17") == "n = 17"


def test_normalize_skips_only_texts_with_nothing_to_replace() -> None:
    # normalize() translates only texts where it finds a char to replace: it must find each.
    table = pdf_reader._translation()
    for code in (*range(0x10000), *range(0x1D400, 0x1D800)):
        char = chr(code)
        assert normalize(f"a{char}b") == f"a{char}b".translate(table), hex(code)


def test_word_before_is_the_word_run_ending_there() -> None:
    word_end = re.compile(r"[^\W_]+$")  # what _word_before() computes without a regex
    for text in ("phos\ufffephatidyl", "fi ndings", "a_b c2-d3", "x\nab\n", "\n\n", "", "é٣Ⅰ² ab", "a" * 80 + " b"):
        for end in range(len(text) + 1):
            match = word_end.search(text, max(0, end - 64), end)
            assert pdf_reader._word_before(text, end) == (match.group() if match else ""), (text, end)


def test_running_headers_footers_and_page_numbers_removed(tmp_path: Path) -> None:
    pdf = tmp_path / "pages.pdf"
    canvas = Canvas(str(pdf), pagesize=A4)
    bodies = ["alpha body text of the first page.", "beta body text of page two.", "gamma body text of page three."]
    for number, body in enumerate(bodies, start=1):
        canvas.setFont("Helvetica", 8)
        canvas.drawString(56, HEIGHT - 36, "Journal of Examples · 2024; 12: 345–356")
        canvas.drawString(56, 30, f"Page {number} of 3")
        canvas.drawRightString(WIDTH - 56, 30, f"{number} | Journal of Examples")
        canvas.setFont("Helvetica", 11)
        for i in range(10):
            canvas.drawString(72, 700 - 15 * i, f"Line {i} of the {body}")
        canvas.showPage()
    canvas.save()
    doc = read_pdf(pdf, "pages")
    assert "Journal of Examples" not in doc.text
    assert "Page 2 of 3" not in doc.text
    assert [page.number for page in doc.pages] == [1, 2, 3]
    for number, body in enumerate(bodies, start=1):
        assert doc.page_at(doc.text.index(f"Line 9 of the {body}")) == number
        span = doc.pages[number - 1]
        assert doc.text[span.start : span.end].startswith(f"Line 0 of the {body}")


def _table_text_outside_tables(doc) -> str:
    spans = sorted((table.start, table.end) for table in doc.tables)
    kept, position = [], 0
    for start, end in spans:
        kept.append(doc.text[position:start])
        position = end
    return "".join(kept) + doc.text[position:]


def test_table_with_horizontal_rules_is_cut_into_cells(tmp_path: Path) -> None:
    """A journal table: rules above and below the header and at the end, none between the
    columns. A row drawn as one spaced-out string, which pdfium reads without a blank, is
    cut at its gaps too."""
    pdf = tmp_path / "ruled.pdf"
    canvas = Canvas(str(pdf), pagesize=A4)
    canvas.setFont("Helvetica", 10)
    canvas.drawString(72, 730, "Patients were randomly assigned to the two arms described below.")
    canvas.drawString(72, 700, "Table 2. Response by arm")
    canvas.setLineWidth(0.5)
    for y in (690, 672, 630):
        canvas.line(72, y, 520, y)
    canvas.setFont("Helvetica", 9)
    rows = [["Arm", "n", "ORR, %", "Median PFS"], ["Zelritumab", "125", "48", "6.9"], ["Placebo", "124", "11", "2.1"]]
    for y, row in zip((678, 660, 648), rows):
        for x, cell in zip((72, 250, 330, 420), row):
            canvas.drawString(x, y, cell)
    canvas.drawString(72, 636, "Median days")
    spaced = canvas.beginText(250, 636)
    spaced.setCharSpace(80 - canvas.stringWidth("1", "Helvetica", 9))  # the second "1" at x = 330
    spaced.textOut("11")
    canvas.drawText(spaced)
    canvas.drawString(72, 610, "ORR, objective response rate.")
    canvas.setFont("Helvetica", 10)
    canvas.drawString(72, 580, "The text after the table goes on with the discussion of results.")
    canvas.save()

    doc = read_pdf(pdf, "ruled")
    [table] = doc.tables
    assert table.caption == "Table 2. Response by arm"
    assert table.rows == [*rows, ["Median days", "1", "1"]]
    flow = _table_text_outside_tables(doc)
    assert "Zelritumab" not in flow and "Table 2. Response by arm" not in flow
    assert "ORR, objective response rate." in flow  # the footnote after the last rule
    assert "The text after the table goes on" in flow


def _grid_form(canvas: Canvas) -> None:
    """A fully ruled 3 x 3 table as a form XObject: horizontal rules as thin filled boxes,
    vertical ones as stroked lines, an empty cell and a cell of two lines."""
    canvas.beginForm("grid")
    for y in (0, 20, 40, 70):
        canvas.rect(0, y - 0.3, 300, 0.6, stroke=0, fill=1)
    for x in (0, 100, 200, 300):
        canvas.line(x, 0, x, 70)
    canvas.setFont("Helvetica", 9)
    canvas.drawString(5, 52, "Arm")
    canvas.drawString(105, 52, "n")
    canvas.drawString(205, 58, "Median")
    canvas.drawString(205, 46, "(months)")
    for y, row in ((26, ("A", "12", "6.1")), (6, ("B", "", "4.0"))):
        for x, cell in zip((5, 105, 205), row):
            canvas.drawString(x, y, cell)
    canvas.endForm()


def test_fully_ruled_table_is_cut_by_its_rules(tmp_path: Path) -> None:
    pdf = tmp_path / "grid.pdf"
    canvas = Canvas(str(pdf), pagesize=A4)
    _grid_form(canvas)
    canvas.setFont("Helvetica", 10)
    canvas.drawString(90, 720, "Table 1. Grid of results")
    canvas.saveState()
    canvas.translate(90, 630)  # the form's rules and words reach the page through this
    canvas.doForm("grid")
    canvas.restoreState()
    canvas.drawString(90, 600, "Text below the table.")
    canvas.save()

    doc = read_pdf(pdf, "grid")
    [table] = doc.tables
    assert table.caption == "Table 1. Grid of results"
    assert table.rows == [["Arm", "n", "Median (months)"], ["A", "12", "6.1"], ["B", "", "4.0"]]
    assert "Text below the table." in _table_text_outside_tables(doc)


def _split_table(path: Path, second_caption: str | None, repeat_header: bool, other_columns: bool = False) -> None:
    """A journal table (rules above and under the header and at its end) whose rows go on
    from the foot of page 1 to the top of page 2, where the text goes on after it."""
    canvas = Canvas(str(path), pagesize=A4)
    columns = (72, 250, 330, 450)
    header = ["Cohort", "n", "ORR, % (95% CI)", "Median PFS, mo"]

    def row(y: float, cells: list[str]) -> None:
        for x, cell in zip(columns, cells):
            canvas.drawString(x, y, cell)

    canvas.setFont("Helvetica", 10)
    canvas.drawString(72, 740, "Patients were enrolled in four cohorts by HER2 status and prior therapy.")
    canvas.drawString(72, 700, "Table 2. Efficacy by cohort")
    canvas.setLineWidth(0.5)
    canvas.line(72, 690, 520, 690)
    canvas.setFont("Helvetica", 9)
    row(678, header)
    canvas.line(72, 672, 520, 672)
    first = [[f"Cohort {k}", str(30 + k), f"{20 + k}.5 ({10 + k}.1–{35 + k}.2)", f"{4 + k // 10}.{k % 10}"] for k in range(1, 41)]
    y = 660.0
    for cells in first:
        row(y, cells)
        y -= 14
    canvas.showPage()
    canvas.setFont("Helvetica", 10)
    y = 760.0
    if second_caption:
        canvas.drawString(72, y, second_caption)
        y -= 10
    canvas.setLineWidth(0.5)
    canvas.line(72, y, 520, y)
    canvas.setFont("Helvetica", 9)
    y -= 12
    if repeat_header:
        row(y, header)
        canvas.line(72, y - 6, 520, y - 6)
        y -= 18
    rest = [["Cohort 41", "71", "61.5 (51.1–76.2)", "8.1"], ["Cohort 42", "72", "62.5 (52.1–77.2)", "8.2"]]
    if other_columns:
        columns = (72, 200, 400)
        rest = [["Grade 3", "12", "9"], ["Grade 4", "2", "1"]]
    for cells in rest:
        row(y, cells)
        y -= 14
    canvas.line(72, y + 8, 520, y + 8)
    canvas.setFont("Helvetica", 10)
    canvas.drawString(72, y - 30, "The text after the table goes on with the discussion of results.")
    canvas.save()


@pytest.mark.parametrize("second_caption, repeat_header", [
    (None, False),  # the rows go on atop the next page, no caption, no header
    (None, True),  # the header repeated
    ("Table 2 (continued)", True),
    ("Table 2. Continued", False),
])
def test_table_split_across_two_pages_is_one_table(tmp_path: Path, second_caption, repeat_header) -> None:
    from pipeline.extract import analyse
    from pipeline.tables.reader import reader_tables

    pdf = tmp_path / "split.pdf"
    _split_table(pdf, second_caption, repeat_header)
    doc = read_pdf(pdf, "split")
    assert [t.continued for t in doc.tables] == [False, True]
    [table] = reader_tables(doc)
    text = doc.text
    assert (table.label, table.header_rows, table.columns, len(table.rows)) == ("Table 2", 1, 4, 1 + 42)
    assert [c.text for c in table.rows[0]] == ["Cohort", "n", "ORR, % (95% CI)", "Median PFS, mo"]
    assert [row[0].text for row in table.rows[1:]] == [f"Cohort {k}" for k in range(1, 43)]
    assert all(text[c.start : c.end] == c.text for row in table.rows for c in row)
    assert {doc.page_at(c.start) for c in table.rows[40]} == {1}
    assert {doc.page_at(c.start) for c in table.rows[41]} == {2}
    assert "The text after the table goes on" in _table_text_outside_tables(doc)

    records = [r for r in analyse(doc).records if r.type == "outcome"]
    orr = {r.value: r for r in records if r.endpoint == "ORR"}
    pfs = {r.value: r for r in records if r.endpoint == "PFS"}
    assert len(orr) == len(pfs) == 42
    last = orr[62.5]
    assert (last.arm, last.ci_low, last.ci_high, last.table_idx, last.table_row, last.table_column) == (
        "Cohort 42", 52.1, 77.2, 0, 42, 2)
    assert text[last.start : last.end] == "62.5 (52.1–77.2)" and doc.page_at(last.start) == 2
    assert (pfs[8.2].arm, pfs[8.2].measure, pfs[8.2].unit, pfs[8.2].table_row) == ("Cohort 42", "median", "months", 42)
    assert (orr[21.5].arm, orr[21.5].table_row, doc.page_at(orr[21.5].start)) == ("Cohort 1", 1, 1)


def test_a_table_atop_a_page_with_other_columns_is_no_continuation(tmp_path: Path) -> None:
    """The next page starts with rows of three columns, not the four of the table before:
    they are not joined to it (nor kept as a table: they have no caption)."""
    from pipeline.readers.pdf import _same_columns

    pdf = tmp_path / "other.pdf"
    _split_table(pdf, None, False, other_columns=True)
    doc = read_pdf(pdf, "other")
    [table] = doc.tables
    assert (table.page, table.continued, len(table.rows)) == (1, False, 41)
    assert "Grade 4" in _table_text_outside_tables(doc)
    assert not _same_columns([(72, 100), (250, 270), (330, 400), (450, 470)], [(72, 100), (250, 270), (330, 470)])
    assert not _same_columns([(72, 100), (250, 270), (330, 400)], [(72, 100), (200, 340), (400, 470)])
    assert _same_columns([(72, 100), (250, 270), (330, 400), (450, 470)], [(72, 110), (250, 262), (335, 398), (450, 466)])


# --- bad inputs ----------------------------------------------------------------------------


def _pdf_bytes(tmp_path: Path, **canvas_options) -> bytes:
    path = tmp_path / "source.pdf"
    canvas = Canvas(str(path), pagesize=A4, **canvas_options)
    canvas.setFont("Helvetica", 11)
    canvas.drawString(72, 700, "Some text on the page.")
    canvas.save()
    return path.read_bytes()


def _error(path: Path) -> str:
    with pytest.raises(ReaderError) as caught:
        read_pdf(path, str(path))
    message = str(caught.value)
    assert path.name not in message  # the caller adds the file name
    return message


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    assert _error(path) == "empty file"


def test_truncated_pdf(tmp_path: Path) -> None:
    data = _pdf_bytes(tmp_path)
    path = tmp_path / "truncated.pdf"
    path.write_bytes(data[: len(data) // 2])
    message = _error(path)
    assert message.startswith("corrupt PDF") and "\n" not in message


def _three_pages(tmp_path: Path) -> bytes:
    path = tmp_path / "three.pdf"
    canvas = Canvas(str(path), pagesize=A4)
    for number in range(1, 4):
        canvas.setFont("Helvetica", 11)
        canvas.drawString(72, 700, f"Page {number}: the objective response rate was {30 + number}%.")
        canvas.showPage()
    canvas.save()
    return path.read_bytes()


@pytest.mark.parametrize("damage", [
    pytest.param(lambda data: data + b"\x00junk after the end " * 300, id="6 KB of junk after %%EOF"),
    pytest.param(lambda data: data[: data.rindex(b"%%EOF")], id="cut before %%EOF"),
    pytest.param(lambda data: data[: data.rindex(b"startxref")], id="cut before startxref"),
])
def test_a_pdf_pdfium_reads_whole_is_read_whole(tmp_path: Path, damage) -> None:
    """Junk after the end or a cut tail (no %%EOF) is no reason to refuse a PDF whose every page
    pdfium still reads: the text is the same as the intact file's."""
    data = _three_pages(tmp_path)
    intact, damaged = tmp_path / "intact.pdf", tmp_path / "damaged.pdf"
    intact.write_bytes(data)
    damaged.write_bytes(damage(data))
    assert b"%%EOF" not in damaged.read_bytes()[-2048:]  # what the old check refused
    expected = read_pdf(intact, "x.pdf")
    read = read_pdf(damaged, "x.pdf")
    assert read.text == expected.text and "Page 3: the objective response rate was 33%." in read.text
    assert read.pages == expected.pages


def test_corrupt_pdf_body(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.pdf"
    path.write_bytes(b"%PDF-1.4\n" + b"\x00garbage" * 200 + b"\n%%EOF\n")
    assert _error(path).startswith("corrupt PDF")


def test_not_a_pdf(tmp_path: Path) -> None:
    path = tmp_path / "notes.pdf"
    path.write_text("Just some plain text, not a PDF at all.\n", encoding="utf-8")
    assert _error(path) == "not a PDF (no %PDF header)"


def test_encrypted_pdf(tmp_path: Path) -> None:
    path = tmp_path / "locked.pdf"
    path.write_bytes(_pdf_bytes(tmp_path, encrypt="secret"))
    assert _error(path) == "encrypted PDF (password required)"


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    canvas = Canvas(str(path), pagesize=A4)
    canvas.rect(72, 400, 300, 200, fill=1)  # a page that is only a picture
    canvas.save()
    assert _error(path) == "no text layer (scanned?); OCR is not supported"


def test_missing_file(tmp_path: Path) -> None:
    assert _error(tmp_path / "absent.pdf").startswith("cannot read file")


# --- the real trial PDFs -------------------------------------------------------------------


@pytest.mark.skipif(not REAL_PDFS.is_dir(), reason="../shared/corpus/pdf-rct not present")
def test_real_trial_pdfs_read() -> None:
    pdfs = sorted(REAL_PDFS.glob("*.pdf"))
    assert len(pdfs) == 33
    for pdf in pdfs:
        doc = read_pdf(pdf, str(pdf), tables=False)  # the table pass is tested below
        texts = [doc.text[page.start : page.end] for page in doc.pages]
        filled = sum(len(text.strip()) >= 200 for text in texts)
        assert filled >= 0.8 * len(texts), pdf.name
        assert doc.pages[-1].end == len(doc.text)


@pytest.mark.skipif(not REAL_PDFS.is_dir(), reason="../shared/corpus/pdf-rct not present")
def test_real_trial_pdf_tables() -> None:
    doc = read_pdf(REAL_PDFS / "3309311.pdf", "3309311.pdf")
    titles = [section.title for section in doc.sections]
    assert titles == ["Table 1", "Table 2", "Table 3"]
    table2 = doc.tables[1]
    assert table2.page == 4
    assert ["Disc herniation", "0", "0", "2 (7.7%)", "11 (42.3%)", "13 (50%)"] in table2.rows
    assert doc.text[table2.start : table2.end].startswith("Table 2. Distribution of MR Findings")


@pytest.mark.skipif(not REAL_PDFS.is_dir(), reason="../shared/corpus/pdf-rct not present")
def test_real_trial_pdf_table_after_math_letters() -> None:
    """Math italic letters ("𝑛 = 71") take two of pdfium's text indexes: the caption and the
    words after them still get their own boxes, so the table is found."""
    doc = read_pdf(REAL_PDFS / "3654355.pdf", "3654355.pdf")
    [table4] = [table for table in doc.tables if table.caption and table.caption.startswith("Table 4:")]
    assert table4.page == 7
    assert ["≥10% weight loss", "57 (80.3%)", "67 (94.4%)", "48 (67.6%)"] in table4.rows
