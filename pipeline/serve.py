"""``evx serve``: browse the evidence database in Datasette, read-only.

The metadata Datasette is given is generated from evx's own schema (``metadata``): each table's
description from its model's docstring, each column's from the field's description (the export
models' for the record tables and the ``outcome_evidence`` view), facets on trial and endpoint,
and canned queries a reviewer starts from. The database is opened immutable (``-i``: read-only,
no locks; nothing Datasette does can change it) and bound to 127.0.0.1 unless --host says
otherwise.
"""

from __future__ import annotations

import inspect
import json
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlmodel import SQLModel

from pipeline.catalog import database_tables
from pipeline.errors import EvxError
from pipeline.store.db import require_db
from pipeline.store.models import RECORD_KINDS, OutcomeExport

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8001
FACETS = ["trial", "endpoint"]
_SHOWN = "d.withdrawn_run IS NULL AND d.duplicate_of IS NULL"  # what the views show: no withdrawn file, no copy

QUERIES: dict[str, dict[str, str]] = {
    "orr_by_trial": {
        "title": "ORR by trial",
        "description": "Objective response rates with their CI, by trial and arm (current records; the reviewer's verdict).",
        "sql": "SELECT trial, arm, drugs, total AS n, value AS orr, unit, ci_low, ci_high, p_value, curation, document, page "
               "FROM outcome_evidence WHERE endpoint = 'ORR' AND measure = 'rate' "
               "ORDER BY trial IS NULL, trial, arm, outcome_id",
    },
    "medians_with_ci": {
        "title": "Medians with CI",
        "description": "Median PFS, OS and other times to event that state their confidence interval.",
        "sql": "SELECT endpoint, trial, arm, drugs, total AS n, value AS median, unit, ci_low, ci_high, curation, document, page "
               "FROM outcome_evidence WHERE measure = 'median' AND ci_low IS NOT NULL AND ci_high IS NOT NULL "
               "ORDER BY endpoint, trial IS NULL, trial, arm, outcome_id",
    },
    "her2_definitions_by_document": {
        "title": "HER2 definitions by document",
        "description": "How each document defines or measures HER2 positivity (method, result, threshold), in text order.",
        "sql": "SELECT d.path AS document, h.method, h.result, h.threshold, h.text, h.page, h.section "
               f"FROM her2_criterion AS h JOIN document AS d ON d.id = h.document_id WHERE {_SHOWN} "
               "ORDER BY d.path, h.start, h.id",
    },
    "failed_files": {
        "title": "Failed files",
        "description": "Files whose last ingest or refresh failed, why, and how many runs in a row.",
        "sql": "SELECT path, reason, failures, run_id, at FROM ingest_error ORDER BY path",
    },
}

VIEW_DESCRIPTIONS = {
    "outcome_evidence": "One row per efficacy figure shown (no withdrawn file, no second copy of a work): its document "
                        "and citation, trial, arm, regimen, N, endpoint, value, CI, p, page and sentence, its study "
                        "and arm, and the reviewer's verdict. The table reviewers start from.",
    "curation_state": "Every reviewer's verdict with the record it is attached to (record_id empty: the record is gone).",
}


def _models() -> dict[str, type[SQLModel]]:
    """Table name -> the SQLModel class defining it."""
    found, todo = {}, [SQLModel]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if getattr(cls, "__table__", None) is not None:
            found[cls.__tablename__] = cls
    return found


def _first_paragraph(doc: str | None) -> str:
    return " ".join(inspect.cleandoc(doc).split("\n\n")[0].replace("``", "").split()) if doc else ""


def _described(model) -> dict[str, str]:
    return {name: " ".join(f.description.split()) for name, f in model.model_fields.items() if f.description}


def metadata(db_path: Path | str) -> dict[str, Any]:
    """Datasette's metadata for the evx database at ``db_path``: every table and view that evx
    creates, described from its definition."""
    models = _models()
    exports = {kind.table.__tablename__: kind.export for kind in RECORD_KINDS.values()}
    tables: dict[str, Any] = {}
    for info in database_tables():
        model = models.get(info.name)
        export = exports.get(info.name)
        description = (VIEW_DESCRIPTIONS.get(info.name) or _first_paragraph(export.__doc__ if export else None)
                       or _first_paragraph(model.__doc__ if model else None))
        columns = {**(_described(model) if model else {}), **(_described(export) if export else {})}
        if info.name == "outcome_evidence":
            columns = _described(OutcomeExport)
        entry: dict[str, Any] = {"description": description} if description else {}
        if columns := {c: text for c, text in columns.items() if c in info.columns}:
            entry["columns"] = columns
        if set(FACETS) <= set(info.columns):
            entry["facets"] = FACETS
        if entry:
            tables[info.name] = entry
    return {
        "title": "evx evidence",
        "description": "Evidence extracted by evx from oncology literature; read-only.",
        "databases": {Path(db_path).stem: {"tables": tables, "queries": QUERIES}},
    }


def metadata_text(db_path: Path | str) -> str:
    return json.dumps(metadata(db_path), indent=2, ensure_ascii=False) + "\n"


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise EvxError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None


def serve(db_path: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, say=print) -> int:
    """Run Datasette on ``db_path`` (immutable) until Ctrl-C or SIGTERM; its exit code (negative:
    the signal that ended it)."""
    db = require_db(db_path)
    wal = db.with_name(db.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:  # immutable would not see what the log holds
        raise EvxError(f"{db} has changes in its write-ahead log {wal.name} not yet in the database "
                       "(a run is writing?): serve it when the run is done")
    _check_port(host, port)
    with tempfile.TemporaryDirectory(prefix="evx-serve-") as folder:
        meta = Path(folder) / "metadata.json"
        meta.write_text(metadata_text(db), encoding="utf-8")
        command = [sys.executable, "-m", "datasette", "serve", "-i", str(db), "--metadata", str(meta),
                   "--host", host, "--port", str(port)]
        child = subprocess.Popen(command)
        say(f"serving {db} read-only at http://{host}:{port}/ (Ctrl-C stops)")
        # SIGTERM (kill, systemd) stops Datasette too, as Ctrl-C does.
        previous = signal.signal(signal.SIGTERM, lambda *_: child.terminate())
        try:
            return child.wait()
        except KeyboardInterrupt:  # Ctrl-C: Datasette got it too
            child.terminate()
            child.wait()
            return 128 + signal.SIGINT
        finally:
            signal.signal(signal.SIGTERM, previous)
            if child.poll() is None:
                child.kill()
                child.wait()
