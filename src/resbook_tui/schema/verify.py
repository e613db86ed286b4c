"""Compare the live schema with what its applied migrations should have produced.

The expected schema is not a hand-kept list: the applied migrations are replayed into a
scratch place (a schema inside a rolled-back transaction on PostgreSQL, an in-memory
database for SQLite) and that catalog is read back the same way as the live one. So
verify knows every object any migration adds, and the two sides are always read alike.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import peewee

from .. import dialects
from ..db import database_errors, dialect
from ..errors import DatabaseError
from .catalog import Catalog, ColumnInfo, ObjectInfo, read_catalog
from .migrations import Migrator


@dataclass(frozen=True)
class Drift:
    kind: str  # missing | extra | changed
    object: str  # table | column | index | trigger | function | constraint | migration
    name: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} {self.object} {self.name}: {self.detail}"


@dataclass
class ObjectCheck:
    object: str
    name: str
    table: str
    status: str  # ok | missing | extra | changed


@dataclass
class VerifyReport:
    dialect: str
    schema_version: int
    tables: list[dict[str, Any]] = field(default_factory=list)
    objects: list[ObjectCheck] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    constraints_total: int = 0
    constraint_kinds: dict[str, int] = field(default_factory=dict)
    total_rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.drift

    def summary(self) -> str:
        parts = [
            f"{label} {self.counts[key]['found']}/{self.counts[key]['expected']}"
            for key, label in (
                ("tables", "Tables"),
                ("indexes", "Indexes"),
                ("triggers", "Triggers"),
                ("functions", "Functions"),
            )
            if key != "functions" or self.counts[key]["expected"]
        ]
        parts.append(f"Constraints {self.constraints_total} total")
        parts.append(f"Total rows {self.total_rows}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "dialect": self.dialect,
            "schema_version": self.schema_version,
            "tables": self.tables,
            "objects": [asdict(o) for o in self.objects],
            "drift": [asdict(d) for d in self.drift],
            "counts": self.counts,
            "constraints": {"total": self.constraints_total, **self.constraint_kinds},
            "total_rows": self.total_rows,
            "summary": self.summary(),
        }


def expected_catalog(db: peewee.Database, versions: list[int]) -> Catalog:
    migrator = Migrator(db)
    scripts = [migrator.by_version[v].up_sql for v in versions if v in migrator.by_version]
    return dialects.of(db).expected_catalog(db, scripts)


def verify(db: peewee.Database) -> VerifyReport:
    """Raises DatabaseError when there is no resbook schema to verify (exit 3)."""
    migrator = Migrator(db)
    with database_errors(db):
        applied = migrator.applied()
        if not applied:
            raise DatabaseError("database has no resbook schema: run `resbook migrate up` first")
        expected = expected_catalog(db, [a.version for a in applied])
        live = read_catalog(db)
    report = VerifyReport(dialect=dialect(db), schema_version=applied[-1].version)
    for state in migrator.status():
        if state.status in ("modified", "missing"):
            report.drift.append(
                Drift(
                    "changed" if state.status == "modified" else "missing",
                    "migration",
                    f"{state.version:04d}_{state.name}",
                    "file edited after it was applied"
                    if state.status == "modified"
                    else "applied, but its file is gone",
                )
            )
    _compare_tables(report, expected, live)
    for object_name, attr in (
        ("index", "indexes"),
        ("trigger", "triggers"),
        ("function", "functions"),
        ("constraint", "constraints"),
    ):
        _compare_objects(report, object_name, attr, getattr(expected, attr), getattr(live, attr))
    kinds = live.constraint_counts()
    report.constraint_kinds = kinds
    report.constraints_total = kinds["CHECK"] + kinds["FOREIGN KEY"] + kinds["UNIQUE"]
    report.total_rows = sum(t.rows or 0 for t in live.tables.values())
    return report


def _compare_tables(report: VerifyReport, expected: Catalog, live: Catalog) -> None:
    found = 0
    for name in sorted(expected.tables.keys() | live.tables.keys()):
        want, have = expected.tables.get(name), live.tables.get(name)
        status = "ok"
        if have is None:
            status = "missing"
            report.drift.append(Drift("missing", "table", name, "table does not exist"))
        elif want is None:
            status = "extra"
            report.drift.append(Drift("extra", "table", name, "not created by any migration"))
        else:
            found += 1
            if _compare_columns(report, name, want.columns, have.columns):
                status = "changed"
        report.tables.append(
            {
                "name": name,
                "columns": len(have.columns) if have else 0,
                "expected_columns": len(want.columns) if want else 0,
                "rows": have.rows if have else None,
                "status": status,
            }
        )
    report.counts["tables"] = {"found": found, "expected": len(expected.tables)}


def _compare_columns(
    report: VerifyReport, table: str, want: dict[str, ColumnInfo], have: dict[str, ColumnInfo]
) -> bool:
    drifted = False
    for column in want.keys() | have.keys():
        label = f"{table}.{column}"
        w, h = want.get(column), have.get(column)
        if h is None and w is not None:
            report.drift.append(Drift("missing", "column", label, f"expected {w.type}"))
        elif w is None and h is not None:
            report.drift.append(Drift("extra", "column", label, f"{h.type} not in any migration"))
        elif w is None or h is None:
            continue  # in neither: cannot happen, the names come from both
        elif w.type != h.type:
            report.drift.append(
                Drift("changed", "column", label, f"type {h.type}, expected {w.type}")
            )
        elif w.not_null != h.not_null:
            null = "NOT NULL" if h.not_null else "nullable"
            expected = "NOT NULL" if w.not_null else "nullable"
            report.drift.append(Drift("changed", "column", label, f"{null}, expected {expected}"))
        else:
            continue
        drifted = True
    return drifted


def _compare_objects(
    report: VerifyReport,
    object_name: str,
    attr: str,
    expected: dict[str, ObjectInfo],
    live: dict[str, ObjectInfo],
) -> None:
    found = 0
    for name in sorted(expected.keys() | live.keys()):
        want, have = expected.get(name), live.get(name)
        if have is None:
            assert want is not None  # the name came from one of the two
            status = "missing"
            report.drift.append(Drift("missing", object_name, name, want.definition))
        elif want is None:
            status = "extra"
            report.drift.append(
                Drift("extra", object_name, name, f"{have.definition} (not in any migration)")
            )
        elif want.definition != have.definition:
            status = "changed"
            report.drift.append(
                Drift(
                    "changed",
                    object_name,
                    name,
                    f"is `{have.definition}`, expected `{want.definition}`",
                )
            )
        else:
            status = "ok"
            found += 1
        table = (want or have).table  # type: ignore[union-attr]
        report.objects.append(ObjectCheck(object_name, name, table, status))
    report.counts[attr] = {"found": found, "expected": len(expected)}
