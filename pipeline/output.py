"""One output convention for every evx command that prints data.

* ``--format``: ``table`` (for people), ``csv``, ``json`` (one document) or ``jsonl`` (one object
  a line); each command accepts those that fit what it prints (``format_choices``), spelled the
  same everywhere.
* ``--out FILE`` (``-o``): write there instead of stdout. The file is written beside its target
  under a temporary name and renamed over it when the command succeeds, so a reader never sees
  half a file and a failed command leaves the old one; a file that cannot be written is one
  line, "cannot write FILE: reason" (exit code 2).
* Lists (drugs, other) are JSON arrays in json and jsonl; in csv and tables they are joined by
  ``LIST_DELIMITER`` (" + "), the way the ``outcome_evidence`` view shows drugs. Objects
  (attribution, before/after) are JSON text in csv and tables.
* Tables are rich tables whose cells wrap (never cut); on a terminal they fit its width, else
  they are plain text (no colour, no trailing blanks) ``PLAIN_WIDTH`` characters wide (or
  $COLUMNS; wider if a column's longest word needs it), so output piped or written to a file
  is stable.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import Enum
from itertools import islice
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline.errors import EvxError

LIST_DELIMITER = " + "
PLAIN_WIDTH = 120  # characters of a table not printed to a terminal
MAX_PLAIN_WIDTH = 400  # ... unless its longest words need more, up to this
WORD_WIDTH = 30  # a column is never narrower than its longest word, up to this many characters


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"
    markdown = "markdown"  # evx changes only: a report to paste into an issue or a wiki
    xlsx = "xlsx"  # evx export only: a spreadsheet, to a file (--out)


_MEANING = {
    Format.table: "table (for people)",
    Format.csv: "csv (a header row, then a row per item)",
    Format.json: "json (one document)",
    Format.jsonl: "jsonl (one JSON object a line)",
    Format.markdown: "markdown (a report)",
    Format.xlsx: "xlsx (a spreadsheet; needs --out)",
}


def format_choices(name: str, *formats: Format) -> type[Enum]:
    """An Enum of the formats one command accepts, so ``--help`` and the usage error list
    exactly those (Typer takes its choices from the option's Enum type)."""
    return Enum(name, [(f.name, f.value) for f in formats], type=str)  # type: ignore[return-value]


def format_option(choices: type[Enum], note: str = "", **options: Any) -> Any:
    """The ``--format`` option over ``choices``, its help saying what each one is."""
    meanings = [_MEANING[Format(c.value)] for c in choices]
    listed = ", ".join(meanings[:-1]) + " or " + meanings[-1] if len(meanings) > 1 else meanings[0]
    return typer.Option("--format", help=f"Output format: {listed}." + (f" {note}" if note else ""), **options)


OutOption = Annotated[
    Path | None,
    typer.Option("--out", "-o", metavar="FILE", dir_okay=False, allow_dash=True,
                 help="Write the output to FILE instead of stdout (- is stdout); FILE is replaced only when the command succeeds."),
]


class OutputError(EvxError):
    """The --out file cannot be written."""


def _cannot_write(out: Path, exc: OSError) -> OutputError:
    return OutputError(f"cannot write {out}: {exc.strerror or exc}")


def _temporary(out: Path) -> tuple[int, str]:
    try:
        return tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        raise _cannot_write(out, exc) from None


def check_writable(out: Path) -> None:
    """Raise OutputError now if ``output(out)`` could not write ``out`` (for a command that
    writes only at the end of a long run)."""
    fd, tmp = _temporary(out)
    os.close(fd)
    os.unlink(tmp)


@contextmanager
def output(out: Path | None, *, binary: bool = False) -> Iterator[TextIO]:
    """Where a command writes its output: stdout, or ``out`` replaced atomically at the end.
    The temporary file is made first, so an unwritable FILE fails before any work is done.
    ``binary`` (a file only: xlsx, PNG) yields a byte stream."""
    if out is None or str(out) == "-":
        if binary:
            raise OutputError("this output is a binary file: give --out FILE")
        yield sys.stdout
        return
    fd, tmp = _temporary(out)
    try:
        with (open(fd, "wb") if binary else open(fd, "w", encoding="utf-8", newline="")) as fh:
            try:
                yield fh
            except OSError as exc:  # a full disk while writing rows
                raise _cannot_write(out, exc) from None
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it 0600; a file written by `>` follows the umask
        os.replace(tmp, out)
    except OSError as exc:  # closing (flushing) or renaming it
        raise _cannot_write(out, exc) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ----------------------------------------------------------------------------- writers


def cell_text(value: Any) -> str:
    """A value as one csv or table cell: lists joined by LIST_DELIMITER, objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return LIST_DELIMITER.join(map(cell_text, value))
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


_AS_IS = {str, int, float, type(None)}  # csv writes these as cell_text would, faster
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode  # one encoder, not one per row


def _json_value(value: Any) -> str:
    """``value`` as json.dumps(rows, indent=2) writes it at the depth of a row's field."""
    if isinstance(value, (dict, list)) and value:
        return json.dumps(value, indent=2, ensure_ascii=False, default=str).replace("\n", "\n    ")
    return _encode(value)


def write_rows(columns: Sequence[str], rows: Iterable[Sequence | Mapping], fmt: Format, out: TextIO,
               limit: int | None = None) -> bool:
    """Write the first ``limit`` rows (None: all). A row is a tuple in the order of ``columns``
    or a mapping (json and jsonl then write its own keys; csv and table take ``columns``).
    csv, json and jsonl rows are written as they come, in flat memory; a table once its rows
    are in. True if there were more rows than ``limit``."""
    rows = iter(rows)
    shown = islice(rows, limit)

    def as_dict(row) -> Mapping:
        return row if isinstance(row, Mapping) else dict(zip(columns, row))

    if fmt is Format.csv:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in shown:
            values = [row.get(c) for c in columns] if isinstance(row, Mapping) else row
            writer.writerow([v if type(v) in _AS_IS else cell_text(v) for v in values])
    elif fmt is Format.json:
        # The text of json.dumps(all_rows, indent=2), written a row at a time.
        out.write("[")
        empty = True
        for row in shown:
            fields = ",\n".join(f"    {_encode(k)}: {_json_value(v)}" for k, v in as_dict(row).items())
            out.write(("\n" if empty else ",\n") + (f"  {{\n{fields}\n  }}" if fields else "  {}"))
            empty = False
        out.write("]\n" if empty else "\n]\n")
    elif fmt is Format.jsonl:
        for row in shown:
            out.write(_encode(as_dict(row)) + "\n")
    elif fmt is Format.table:
        write_table(columns, [[r.get(c) for c in columns] if isinstance(r, Mapping) else r for r in shown], out)
    else:
        raise ValueError(f"rows cannot be written as {fmt.value}")
    return limit is not None and next(rows, None) is not None


def _is_terminal(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def _plain_width() -> int:
    width = os.environ.get("COLUMNS", "")
    return int(width) if width.isdigit() and int(width) >= 40 else PLAIN_WIDTH


# Columns apart by spaces, the header underlined by "-": plain ASCII, the same in a file as on screen.
_PLAIN_BOX = box.Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)


def write_table(columns: Sequence[str], rows: Iterable[Sequence], out: TextIO) -> None:
    """A table whose cells wrap at word breaks, and long words fold: nothing is cut. On a
    terminal it fits the terminal; elsewhere it is PLAIN_WIDTH wide (or $COLUMNS), wider (up to
    MAX_PLAIN_WIDTH) when its columns' longest words need it, without trailing blanks."""
    cells = [[cell_text(v) for v in row] for row in rows]
    terminal = _is_terminal(out)
    options = dict(highlight=False, markup=False, emoji=False)
    buffer = io.StringIO()
    screen = (Console(file=out, **options) if terminal else
              Console(file=buffer, color_system=None, force_terminal=False, legacy_windows=False, **options))
    lines = [[name.splitlines() or [""], *((row[i].splitlines() or [""]) for row in cells)] for i, name in enumerate(columns)]
    longest = [max(len(line) for cell in column for line in cell) for column in lines]
    word = [min(WORD_WIDTH, max((len(w) for cell in column for line in cell for w in line.split()), default=1))
            for column in lines]
    gaps = 3 * (len(columns) - 1)  # " " padding, " " rule, " " padding between two columns
    if not terminal:
        screen.width = min(max(_plain_width(), sum(word) + gaps), MAX_PLAIN_WIDTH)
    widths = _widths(word, longest, screen.width - gaps)
    table = Table(box=_PLAIN_BOX, show_edge=False, pad_edge=False)
    for i, name in enumerate(columns):
        table.add_column(Text(name), overflow="fold", width=widths and widths[i])
    for row in cells:
        table.add_row(*map(Text, row))  # Text: "[b]" in data is not markup
    screen.print(table)
    if not terminal:
        out.writelines(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def _widths(least: list[int], most: list[int], room: int) -> list[int] | None:
    """Column widths within ``room``: each at least its longest word; the room left goes first
    to the columns that want little more (so a short value stays on one line), the rest shared
    evenly by the long ones. None when even the words do not fit (rich then folds them)."""
    most = [max(m, lo) for m, lo in zip(most, least)]
    if sum(most) <= room:
        return most
    spare = room - sum(least)
    if spare < 0:
        return None
    widths = list(least)
    waiting = sorted(range(len(most)), key=lambda i: most[i] - least[i])
    while waiting:
        share = spare // len(waiting)
        i = waiting.pop(0)
        given = min(most[i] - least[i], share)
        widths[i] += given
        spare -= given
    return widths


def write_document(data: Any, fmt: Format, out: TextIO, text: Callable[[], str]) -> None:
    """One result (a summary, a status): ``text()`` for table, one JSON document for json, one
    line for jsonl."""
    if fmt is Format.json:
        out.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    elif fmt is Format.jsonl:
        out.write(_encode(data) + "\n")
    else:
        body = text()
        out.write(body if body.endswith("\n") else body + "\n")
