"""The tables and views of an evx database with their columns (``evx schema --tables``, the
list in ``evx query --help``).

Read back from an empty database built in memory from the store's own definitions (the SQLModel
tables and the views), not kept by hand, so the list follows every change of the schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import create_engine
from sqlmodel import SQLModel

import pipeline.store.models  # noqa: F401 - defines the tables in SQLModel.metadata
from pipeline.store.db import VIEWS


@dataclass(frozen=True)
class TableInfo:
    name: str
    kind: str  # table | view
    columns: tuple[str, ...]


@cache
def database_tables() -> tuple[TableInfo, ...]:
    """Every table and view, tables first, each group by name."""
    engine = create_engine("sqlite://")  # in memory: nothing touches a file
    with engine.begin() as conn:
        SQLModel.metadata.create_all(conn)
        for name, sql in VIEWS.items():
            conn.exec_driver_sql(f"CREATE VIEW {name} AS {sql}")
        names = conn.exec_driver_sql(
            "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' "
            "ORDER BY type, name").all()
        tables = tuple(
            TableInfo(name, kind, tuple(row[1] for row in conn.exec_driver_sql(f'PRAGMA table_info("{name}")')))
            for name, kind in names
        )
    engine.dispose()
    return tables


def tables_markdown() -> str:
    """The list as markdown bullets, for help texts."""
    return "\n".join(f"* **{t.name}**{' (view)' if t.kind == 'view' else ''}: {', '.join(t.columns)}"
                     for t in database_tables())
