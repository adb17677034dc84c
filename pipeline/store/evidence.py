"""Stable keys, comparable states and one-line summaries of records.

A record's **key** identifies the same piece of evidence across runs: it hashes the document's
text (not its file, so the other abstracts of a re-exported PubMed file keep their keys), the
record type, its character span and its identity fields (an outcome's endpoint and measure, a
HER2 criterion's method, a biomarker's gene). Re-extracting an unchanged document that finds the
same figure gives the same key, so the figure is "unchanged", not "removed and added".

A record's **state** is everything a reviewer would call a change of evidence: the fields of its
type (value, CI, n/N, p, trial, drugs...). Same key with another state is a "changed" record.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from pipeline.store.models import RECORD_KINDS, ExportedEvidence

IDENTITY_FIELDS: dict[str, tuple[str, ...]] = {
    "outcome": ("endpoint", "measure"),
    "trial": (),
    "regimen": (),
    "her2": ("method",),
    "biomarker": ("gene",),
    "study": ("ref",),
    "arm": ("ref",),
}

# A type's own fields: those of its export model beyond the provenance every record has.
STATE_FIELDS: dict[str, tuple[str, ...]] = {
    name: tuple(f for f in kind.export.model_fields if f not in ExportedEvidence.model_fields)
    for name, kind in RECORD_KINDS.items()
}
assert set(IDENTITY_FIELDS) == set(RECORD_KINDS)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class KeyMaker:
    """Keys for the records of one document, in order. Two records of the same type, span and
    identity (rare) are told apart by their order of appearance."""

    def __init__(self, document_sha256: str) -> None:
        self.document_sha256 = document_sha256
        self._seen: Counter[str] = Counter()

    def key(self, record_type: str, start: int, end: int, fields: Mapping[str, Any]) -> str:
        identity = "\x1f".join(str(fields.get(name)) for name in IDENTITY_FIELDS[record_type])
        base = f"{self.document_sha256}\x1e{record_type}\x1e{start}\x1e{end}\x1e{identity}"
        occurrence = self._seen[base]
        self._seen[base] += 1
        if occurrence:
            base += f"\x1e{occurrence}"
        return hashlib.sha256(base.encode("utf-8")).hexdigest()[:20]


def state_of(record_type: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a record that make up its evidence, plus its text and page."""
    state = {name: fields.get(name) for name in STATE_FIELDS[record_type]}
    state["text"] = fields.get("text")
    state["page"] = fields.get("page")
    return state


def differing_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return [name for name in dict.fromkeys([*before, *after]) if before.get(name) != after.get(name)]


# ----------------------------------------------------------------------------- summaries


def summary(record_type: str, state: Mapping[str, Any] | None) -> str:
    """One line a reviewer reads at a glance: "ORR rate 30% (95% CI 14–50; 8/27) · HERACLES-A"."""
    if not state:
        return ""
    s = state
    if record_type == "outcome":
        unit = s.get("unit") or ""
        value = f"{s.get('value_text') or _number(s.get('value'))}{'' if unit == '%' or not unit else ' '}{unit}"
        head = f"{s.get('endpoint')} {s.get('measure')} {value}"
        details = []
        if s.get("ci_low") is not None and s.get("ci_high") is not None:
            details.append(f"CI {_number(s['ci_low'])}–{_number(s['ci_high'])}")
        if s.get("count") is not None and s.get("total") is not None:
            details.append(f"{s['count']}/{s['total']}")
        elif s.get("count") is not None or s.get("total") is not None:
            details.append(f"n={s['count']}" if s.get("count") is not None else f"N={s['total']}")
        if s.get("p_value"):
            details.append(f"p {s['p_value']}")
        if details:
            head += f" ({'; '.join(details)})"
        tail = [part for part in (s.get("trial"), " + ".join(s.get("drugs") or []), s.get("arm")) if part]
        return " · ".join([head, *tail])
    if record_type == "trial":
        return f"{s.get('name')}" + (f" ({s['nct']})" if s.get("nct") and s.get("nct") != s.get("name") else "")
    if record_type == "regimen":
        return " + ".join([*(s.get("drugs") or []), *(s.get("other") or [])])
    if record_type == "her2":
        return " ".join(str(p) for p in ("HER2", s.get("method"), s.get("result"), s.get("threshold")) if p)
    if record_type == "study":
        size = f"N={s['size']} {s.get('size_kind') or ''}".strip() if s.get("size") is not None else ""
        return " · ".join(p for p in (s.get("name") or "(unnamed study)", s.get("role"), " + ".join(s.get("drugs") or []), size) if p)
    if record_type == "arm":
        size = f"N={s['size']}" if s.get("size") is not None else ""
        return " · ".join(p for p in (s.get("label"), s.get("kind"), " + ".join(s.get("drugs") or []), size) if p)
    return " ".join(str(p) for p in (s.get("gene"), s.get("status"), s.get("detail")) if p)


def change_summary(before: Mapping[str, Any], after: Mapping[str, Any], skip: Iterable[str] = ("text", "page")) -> str:
    """What changed, field by field: "value 30 → 32; trial HERACLES → HERACLES-A"."""
    parts = []
    for name in differing_fields(before, after):
        if name in skip:
            continue
        parts.append(f"{name} {_shown(before.get(name))} → {_shown(after.get(name))}")
    return "; ".join(parts)


def _shown(value: Any, missing: str = "–") -> str:
    if value is None:
        return missing
    if isinstance(value, list):
        return " + ".join(map(str, value)) or missing
    return _number(value) if isinstance(value, float) else str(value)


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)
