"""Write corpus/her2-crc-example.pdf: a small two-column article for the PDF reader.

The text is written for evx (it is not taken from any paper); the trial figures are the
published ones. Layout features the reader must handle: a running header and page-number
footer on every page, two justified columns that a paragraph flows across, a full-width
title block and a full-width ruled table, line-end hyphen breaks (a plain word and a
compound), and an "fi" ligature glyph.

    python corpus/make_example_pdf.py            # writes corpus/her2-crc-example.pdf
    python corpus/make_example_pdf.py OUT.pdf
"""

from __future__ import annotations

import sys
from pathlib import Path

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    FrameBreak,
    NextPageTemplate,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

OUT = Path(__file__).with_name("her2-crc-example.pdf")
TITLE = "HER2-targeted therapy in metastatic colorectal cancer: an example summary"
HEADER = "evx example corpus · HER2 in mCRC"

WIDTH, HEIGHT = A4
MARGIN = 56.0
GUTTER = 20.0
COLUMN = (WIDTH - 2 * MARGIN - GUTTER) / 2
TOP = HEIGHT - 64.0  # below the running header
BOTTOM = 56.0  # above the footer

ABSTRACT = (
    "A minority of metastatic colorectal cancers (mCRC) carry amplification or overexpression of "
    "HER2. This example text gathers the main single-arm trials of HER2-directed treatment in "
    "RAS wild-type, HER2-positive mCRC that progressed on standard chemotherapy. Objective "
    "response rates (ORR) ranged from 30% with trastuzumab plus lapatinib to 45.3% with "
    "trastuzumab deruxtecan. Tucatinib plus trastuzumab gave an ORR of 38.1%, a median "
    "progression-free survival (PFS) of 8.2 months and a median overall survival (OS) of "
    "24.1 months."
)

INTRODUCTION = [
    "Colorectal cancer is among the most common solid tumours, and most patients who reach the "
    "metastatic stage are treated with fluoropyrimidine-based chemotherapy combined with "
    "antibodies against VEGF or EGFR. Molecular selection has become routine: tumours with RAS "
    "mutations do not benefit from anti-EGFR antibodies, and a small group of RAS wild-type "
    "tumours is driven by HER2 instead.",
    # A forced break after "phos-" gives a line-end hyphen that must be joined.
    "HER2 amplification is found in roughly 2% to 5% of mCRC and is enriched in RAS wild-type, "
    "left-sided tumours. It activates the MAPK and phos-<br/>phatidylinositol 3-kinase pathways "
    "downstream of the receptor and is linked to resistance against cetuximab and panitumumab. "
    "These observations made HER2 a natural target for drugs first developed in breast and "
    "gastric cancer.",
    "Here we summarise four trials of HER2-directed regimens in previously treated disease. The "
    "text is an example document for testing software; every figure below is taken from the "
    "published trial reports.",
]

METHODS = [
    "Eligible trials enrolled adults with unresectable or metastatic adenocarcinoma of the colon "
    "or rectum, RAS wild-type status and HER2-positive disease after at least one line of "
    "standard therapy. HER2 positivity was defined as immunohistochemistry (IHC) 3+, or IHC 2+ "
    "with a positive in situ hybridisation (ISH) result, meaning a HER2:CEP17 ratio ≥ 2.0.",
    # The forced break after "HER2-" must keep its hyphen ("HER2-positive").
    "For each trial we record the regimen, the number of patients in the efficacy population of "
    "the HER2-<br/>positive cohort, the ORR with its 95% confidence interval (CI) and the median "
    "PFS in months. Response was assessed by investigators or by independent central review with "
    "RECIST version 1.1, as stated in each report. The ﬁrst reported analysis of each trial is "
    "used, and a dash in Table 1 marks a figure this example does not give.",
]

RESULTS = [
    "HERACLES-A tested trastuzumab plus lapatinib in patients whose tumours were KRAS exon 2 "
    "wild-type and HER2-positive. Eight of 27 evaluable patients had an objective response, an "
    "ORR of 30%, which showed for the first time that dual HER2 blockade is active in "
    "chemorefractory mCRC.",
    "The MyPathway basket study combined trastuzumab with pertuzumab. In its cohort of 57 patients "
    "with HER2-amplified mCRC, 18 responded, giving an ORR of 32%. Responses were more frequent "
    "when the tumour was also KRAS wild-type.",
    "DESTINY-CRC01 assessed trastuzumab deruxtecan, an antibody-drug conjugate, at 6.4 mg/kg "
    "every three weeks. In cohort A (n=53; IHC 3+ or IHC 2+ with ISH positive) the confirmed ORR "
    "was 45.3% (95% CI 31.6–59.6) and the median PFS was 6.9 months. Interstitial lung disease was "
    "the main safety concern of this agent.",
    "MOUNTAINEER combined the oral HER2 kinase inhibitor tucatinib with trastuzumab in RAS "
    "wild-type disease. Among 84 patients in cohort A+B the ORR by central review was 38.1% "
    "(95% CI 27.7–49.3), the median PFS was 8.2 months and the median OS was 24.1 months. The "
    "combination was well tolerated, with diarrhoea the most common adverse event.",
]

TABLE_CAPTION = "Table 1. Efficacy of HER2-targeted regimens in HER2-positive mCRC"
TABLE_ROWS = [
    ["Trial", "Regimen", "n", "ORR % (95% CI)", "Median PFS, months"],
    ["HERACLES-A", "trastuzumab + lapatinib", "27", "30 (8/27)", "–"],
    ["MyPathway", "trastuzumab + pertuzumab", "57", "32 (18/57)", "–"],
    ["DESTINY-CRC01 cohort A", "trastuzumab deruxtecan", "53", "45.3 (31.6–59.6)", "6.9"],
    ["MOUNTAINEER", "tucatinib + trastuzumab", "84", "38.1 (27.7–49.3)", "8.2"],
]

DISCUSSION = [
    "Across these trials, HER2-directed treatment produced responses in roughly one third to "
    "almost one half of patients with previously treated, HER2-positive and RAS wild-type mCRC. "
    "This is well above the response rates usually seen with later-line chemotherapy or "
    "regorafenib in unselected patients.",
    "The trials differ in design, in the HER2 assays used and in prior therapy, so the figures "
    "should not be compared directly. The longest follow-up comes from MOUNTAINEER, whose median "
    "OS of 24.1 months supports the durability of the benefit.",
    "The regimens reach the receptor in different ways. Trastuzumab binds the extracellular "
    "domain of HER2, pertuzumab blocks its dimerisation, and lapatinib and tucatinib inhibit the "
    "kinase inside the cell. Trastuzumab deruxtecan carries a topoisomerase I inhibitor into the "
    "tumour cell, and in DESTINY-CRC01 no responses were seen in the cohorts with lower HER2 "
    "expression, which underlines the need for strict HER2 criteria.",
    "All four studies were single-arm and modest in size, and none compared an anti-HER2 regimen "
    "with standard later-line therapy in a randomised design. In January 2023 the US Food and Drug "
    "Administration nevertheless granted accelerated approval to tucatinib plus trastuzumab for "
    "RAS wild-type, HER2-positive mCRC after chemotherapy.",
    "Testing for HER2 by IHC, with ISH for equivocal IHC 2+ results, belongs in the molecular "
    "work-up of RAS wild-type mCRC so that patients can be offered these options.",
]

CONCLUSION = (
    "HER2 defines a small but actionable subgroup of mCRC. Dual HER2 blockade and an antibody-drug "
    "conjugate each produced durable responses after standard chemotherapy, and the reported "
    "figures are collected in Table 1."
)


def build(out: Path = OUT) -> Path:
    """Write the example PDF to ``out``; the output is byte-stable across runs."""
    rl_config.invariant = 1  # fixed document id and dates, so the file only changes with the text
    pdfmetrics.registerFont(TTFont("Vera", "Vera.ttf"))  # ships with reportlab; has ﬁ, ≥, –, ·
    pdfmetrics.registerFont(TTFont("VeraBd", "VeraBd.ttf"))
    body = ParagraphStyle("body", fontName="Vera", fontSize=9.5, leading=13, alignment=TA_JUSTIFY, spaceAfter=6)
    heading = ParagraphStyle("heading", fontName="VeraBd", fontSize=11, leading=14, spaceBefore=6, spaceAfter=4)
    title = ParagraphStyle("title", fontName="VeraBd", fontSize=16, leading=20, spaceAfter=8)
    small = ParagraphStyle("small", fontName="Vera", fontSize=8, leading=10, spaceAfter=4)
    cell = ParagraphStyle("cell", fontName="Vera", fontSize=8.5, leading=10.5)

    doc = BaseDocTemplate(str(out), pagesize=A4, title=TITLE, author="evx project", invariant=1)
    columns = [
        Frame(MARGIN, BOTTOM, COLUMN, TOP - BOTTOM, id="left", leftPadding=0, rightPadding=0),
        Frame(MARGIN + COLUMN + GUTTER, BOTTOM, COLUMN, TOP - BOTTOM, id="right", leftPadding=0, rightPadding=0),
    ]
    head_height = 215.0
    first = [Frame(MARGIN, TOP - head_height, WIDTH - 2 * MARGIN, head_height, id="head", leftPadding=0, rightPadding=0)]
    first += [_shorter(frame, head_height) for frame in columns]
    table = _table(cell)
    table_parts = [Paragraph(TABLE_CAPTION, heading), table]
    table_height = sum(part.wrap(WIDTH - 2 * MARGIN, HEIGHT)[1] for part in table_parts) + 30

    def decorate_with_table(canvas: Canvas, doc: BaseDocTemplate) -> None:
        _decorate(canvas, doc)
        # The table floats at the top of page 2, full width, as journals place wide tables.
        y = TOP
        for part in table_parts:
            y -= part.wrap(WIDTH - 2 * MARGIN, HEIGHT)[1] + part.getSpaceBefore()
            part.drawOn(canvas, MARGIN, y)
            y -= part.getSpaceAfter()

    doc.addPageTemplates(
        [
            PageTemplate("first", first, onPage=_decorate),
            PageTemplate("table", [_shorter(frame, table_height) for frame in columns], onPage=decorate_with_table),
        ]
    )
    story = [
        NextPageTemplate("table"),
        Paragraph(TITLE, title),
        Paragraph("evx project · example text for software tests · doi: 10.5555/evx.example.2024", small),
        Paragraph("© 2024 evx project. Written for testing; the trial figures are the published ones.", small),
        Spacer(1, 6),
        Paragraph("Abstract", heading),
        Paragraph(ABSTRACT, body),
        FrameBreak(),
        Paragraph("Introduction", heading),
        *(Paragraph(text, body) for text in INTRODUCTION),
        Paragraph("Methods", heading),
        *(Paragraph(text, body) for text in METHODS),
        Paragraph("Results", heading),
        *(Paragraph(text, body) for text in RESULTS),
        Paragraph("Discussion", heading),
        *(Paragraph(text, body) for text in DISCUSSION),
        Paragraph("Conclusion", heading),
        Paragraph(CONCLUSION, body),
    ]
    doc.build(story)
    if doc.page != 2:  # the table is drawn on page 2 only; longer text needs a new layout
        raise SystemExit(f"expected 2 pages, got {doc.page}")
    return out


def _shorter(frame: Frame, cut: float) -> Frame:
    return Frame(frame._x1, frame._y1, frame._width, frame._height - cut, id=frame.id, leftPadding=0, rightPadding=0)


def _table(cell: ParagraphStyle) -> Table:
    rows = [[Paragraph(text, cell) for text in row] for row in TABLE_ROWS]
    table = Table(rows, colWidths=[110, 125, 35, 105, 108])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _decorate(canvas: Canvas, doc: BaseDocTemplate) -> None:
    """Running header and page-number footer, as journals print them."""
    canvas.saveState()
    canvas.setFont("Vera", 8)
    canvas.drawString(MARGIN, HEIGHT - 40, HEADER)
    canvas.drawRightString(WIDTH - MARGIN, HEIGHT - 40, "2024")
    canvas.drawCentredString(WIDTH / 2, 30, str(doc.page))
    canvas.restoreState()


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
