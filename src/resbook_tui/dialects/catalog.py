"""A live schema in one comparable shape, whichever catalog it was read from.

Each dialect reads its own catalog (pg_catalog; sqlite_master and PRAGMAs) into these
classes. Definitions are normalised (schema prefix and white space removed) so that two
databases built by the same migrations compare equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# The table migrations keep their history in: not part of the schema they describe.
HISTORY_TABLE = "schema_migrations"


@dataclass(frozen=True)
class ColumnInfo:
    type: str
    not_null: bool


@dataclass
class TableInfo:
    columns: dict[str, ColumnInfo] = field(default_factory=dict)
    rows: int | None = None


@dataclass(frozen=True)
class ObjectInfo:
    """An index, trigger, function or constraint: where it lives and how it is defined."""

    table: str
    kind: str
    definition: str


@dataclass
class Catalog:
    tables: dict[str, TableInfo] = field(default_factory=dict)
    indexes: dict[str, ObjectInfo] = field(default_factory=dict)
    triggers: dict[str, ObjectInfo] = field(default_factory=dict)
    functions: dict[str, ObjectInfo] = field(default_factory=dict)
    constraints: dict[str, ObjectInfo] = field(default_factory=dict)

    @property
    def not_null_count(self) -> int:
        return sum(c.not_null for t in self.tables.values() for c in t.columns.values())

    def constraint_counts(self) -> dict[str, int]:
        """Counted as information_schema does: NOT NULL columns are CHECK constraints."""
        counts = {"CHECK": self.not_null_count, "FOREIGN KEY": 0, "UNIQUE": 0, "PRIMARY KEY": 0}
        for c in self.constraints.values():
            counts[c.kind] = counts.get(c.kind, 0) + 1
        return counts


def normalise(sql: str, schema: str | None = None) -> str:
    if schema:
        sql = sql.replace(f'"{schema}".', "").replace(f"{schema}.", "")
    sql = sql.replace("public.", "")
    return re.sub(r"\s+", " ", sql).strip().rstrip(";")
