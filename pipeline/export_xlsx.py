"""``evx export --format xlsx``: the records as a spreadsheet shaped like a data-extraction form.

One sheet per record type. The outcome sheet has the columns a systematic review's extraction
form asks for (study, arm, regimen, N, endpoint, value, CI, p, source, page, verdict); the other
types their own fields, then the same source, page and verdict. Each sheet has a bold header
row, frozen under it, a filter on it, and column widths fitted to their content. The values are
those of ``evx export`` (``export_rows``); lists are joined by " + " as in csv.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import Engine
from sqlmodel import Session, select

from pipeline.export import export_rows
from pipeline.output import cell_text
from pipeline.records import RECORD_TYPES
from pipeline.store.evidence import STATE_FIELDS
from pipeline.store.models import Curation

Column = tuple[str, Callable[[dict[str, Any]], Any]]  # header, value of an exported row


def _field(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: _cell(row.get(name))


def _cell(value: Any) -> Any:
    """Numbers stay numbers (a reviewer sorts and sums them); lists and objects become text."""
    return value if value is None or isinstance(value, (int, float, str)) else cell_text(value)


OUTCOME_FORM: list[Column] = [
    ("study", _field("trial")), ("arm", _field("arm")), ("regimen", _field("drugs")), ("N", _field("total")),
    ("endpoint", _field("endpoint")), ("measure", _field("measure")), ("value", _field("value")),
    ("value as written", _field("value_text")), ("unit", _field("unit")), ("CI low", _field("ci_low")),
    ("CI high", _field("ci_high")), ("CI level %", _field("ci_level")), ("CI as written", _field("ci_text")),
    ("n", _field("count")), ("p", _field("p_value")),
]
SOURCE: list[Column] = [
    ("source", _field("doc")), ("title", _field("title")), ("page", _field("page")), ("section", _field("section")),
    ("text", _field("text")), ("sentence", _field("sentence")),
]
SHEET_NAMES = {"outcome": "outcomes", "trial": "trials", "regimen": "regimens", "her2": "HER2 criteria",
               "biomarker": "biomarkers", "study": "studies", "arm": "arms"}
WIDEST = 60  # characters; longer cells wrap
SAMPLED = 500  # rows a column's width is fitted to


def sheet_columns(record_type: str) -> list[Column]:
    own = OUTCOME_FORM if record_type == "outcome" else [(name, _field(name)) for name in STATE_FIELDS[record_type]]
    return own + SOURCE


def write_xlsx(engine: Engine, out: BinaryIO, types: Sequence[str] | None = None) -> int:
    """Write the workbook to ``out``; returns the number of records written."""
    with Session(engine) as session:
        verdicts = {c.key: c for c in session.exec(select(Curation))}
    book = Workbook()
    book.remove(book.active)
    written = 0
    for record_type in types or RECORD_TYPES:
        columns = sheet_columns(record_type) + [
            ("verdict", lambda row: getattr(verdicts.get(row["key"]), "status", None)),
            ("corrected value", lambda row: getattr(verdicts.get(row["key"]), "corrected_value", None)),
            ("reviewer's comment", lambda row: getattr(verdicts.get(row["key"]), "comment", None)),
            ("key", _field("key")),
        ]
        written += _sheet(book, SHEET_NAMES[record_type], columns, export_rows(engine, [record_type]))
    book.save(out)
    return written


def _sheet(book: Workbook, name: str, columns: list[Column], rows: Iterable[dict[str, Any]]) -> int:
    sheet = book.create_sheet(name)
    sheet.append([header for header, _ in columns])
    widths = [len(header) for header, _ in columns]
    n = 0
    for n, row in enumerate(rows, 1):
        values = [value(row) for _, value in columns]
        sheet.append(values)
        if n <= SAMPLED:
            widths = [max(w, len(str(v)) if v is not None else 0) for w, v in zip(widths, values)]
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(vertical="top")
    for i, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(i)].width = min(width, WIDEST) + 2
    sheet.freeze_panes = "A2"  # the header stays in view
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{n + 1}"
    return n
