"""Reviewers' verdicts on records (``evx review``), kept in the ``curation`` table.

A curation is attached to a record's stable key, not its row id, so it stays with the same
evidence when the document is re-extracted (same key) and shows up in ``outcome_evidence``.
When a run finds the record gone, the curation is flagged (``orphaned_run``) and kept.
"""

from __future__ import annotations

import getpass
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session, select

from pipeline.errors import EvxError
from pipeline.store.evidence import STATE_FIELDS, state_of
from pipeline.store.models import CURATION_STATUSES, RECORD_KINDS, Curation, StoredDocument

# The field ``--value`` corrects, by record type.
MAIN_FIELD = {"outcome": "value", "trial": "name", "regimen": "drugs", "her2": "result", "biomarker": "status"}
_NUMERIC = {"value", "ci_low", "ci_high"}
_INTEGER = {"count", "total"}
_LISTS = {"drugs", "other"}
_ROW_REF = re.compile(rf"^({'|'.join(RECORD_KINDS)}):(\d+)$")


class CurationError(EvxError):
    """A review command names no record, several records, or a field that does not exist."""


@dataclass
class FoundRecord:
    type: str
    key: str
    document: str
    state: dict[str, Any]


def find_record(engine: Engine, ref: str) -> FoundRecord:
    """The current record that ``ref`` names: a key (or a unique prefix of 6+ characters, as
    printed by ``evx changes`` and ``outcome_evidence.evidence_key``) or ``TYPE:ID`` (a row id,
    e.g. ``outcome:12`` for ``outcome_evidence.outcome_id`` 12)."""
    ref = ref.strip()
    found: list[FoundRecord] = []
    with Session(engine) as session:
        for name, kind in RECORD_KINDS.items():
            query = select(kind.table, StoredDocument.path).join(StoredDocument, StoredDocument.id == kind.table.document_id)
            query = query.where(StoredDocument.withdrawn_run.is_(None))
            if match := _ROW_REF.match(ref):
                if match.group(1) != name:
                    continue
                query = query.where(kind.table.id == int(match.group(2)))
            elif len(ref) >= 6:
                query = query.where(kind.table.key.startswith(ref))
            else:
                raise CurationError(f"{ref!r}: give a record key (6 characters or more) or TYPE:ID such as outcome:12")
            for row, path in session.exec(query.limit(3)):
                found.append(FoundRecord(name, row.key, path, state_of(name, row.model_dump())))
    if not found:
        raise CurationError(f"no current record matches {ref!r}")
    if len({f.key for f in found}) > 1:
        raise CurationError(f"{ref!r} matches several records ({', '.join(f.key for f in found)}); give more of the key")
    return found[0]


def curate(
    engine: Engine,
    ref: str,
    status: str,
    *,
    value: str | None = None,
    corrections: dict[str, str] | None = None,
    comment: str | None = None,
    reviewer: str | None = None,
) -> Curation:
    """Record a verdict on the record ``ref`` names; a second verdict on it replaces the first.
    ``corrected`` needs ``value`` (the type's main field) or ``corrections`` (field -> value)."""
    if status not in CURATION_STATUSES:
        raise CurationError(f"status must be one of {', '.join(CURATION_STATUSES)}")
    record = find_record(engine, ref)
    fixed = _checked_corrections(record.type, value, corrections or {})
    if status == "corrected" and not fixed:
        raise CurationError("a correction needs --value or --set FIELD=VALUE")
    if status != "corrected" and fixed:
        raise CurationError("--value and --set go with `evx review correct`")
    now = datetime.now(timezone.utc)
    with Session(engine) as session, session.begin():
        row = session.exec(select(Curation).where(Curation.key == record.key)).first()
        if row is None:
            row = Curation(key=record.key, status=status, created_at=now)
        row.type, row.document, row.status = record.type, record.document, status
        row.corrected_value = value if status == "corrected" else None
        row.corrections = fixed or None
        row.comment, row.reviewer, row.updated_at = comment, reviewer or _user(), now
        row.snapshot, row.orphaned_run = record.state, None
        session.add(row)
        session.flush()
        session.expunge(row)
    return row


def _checked_corrections(record_type: str, value: str | None, corrections: dict[str, str]) -> dict[str, Any]:
    fields = dict(corrections)
    if value is not None:
        fields[MAIN_FIELD[record_type]] = value
    checked: dict[str, Any] = {}
    for name, raw in fields.items():
        if name not in STATE_FIELDS[record_type]:
            raise CurationError(f"{record_type} records have no field {name!r} (fields: {', '.join(STATE_FIELDS[record_type])})")
        try:
            if name in _NUMERIC:
                checked[name] = float(raw)
            elif name in _INTEGER:
                checked[name] = int(raw)
            elif name in _LISTS:
                checked[name] = [part.strip() for part in re.split(r"[;+]", raw) if part.strip()]
            else:
                checked[name] = raw
        except ValueError:
            raise CurationError(f"{name} must be a number, not {raw!r}") from None
    return checked


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def curations(engine: Engine, *, status: str | None = None, orphaned: bool = False) -> tuple[list[str], list[tuple]]:
    """Rows of the ``curation_state`` view (each curation with its record, or none if orphaned)."""
    where, params = [], {}
    if status:
        where.append("status = :status")
        params["status"] = status
    if orphaned:
        where.append("record_id IS NULL")
    sql = ("SELECT curation_id, key, type, status, corrected_value, comment, reviewer, document, record_id, "
           "orphaned_run, updated_at FROM curation_state"
           + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY curation_id")
    with engine.connect() as conn:
        result = conn.execute(text(sql), params)
        return list(result.keys()), [tuple(r) for r in result]
