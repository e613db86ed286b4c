"""Read a live schema from the database catalog into one comparable shape.

PostgreSQL is read from pg_catalog (pg_get_indexdef / pg_get_triggerdef /
pg_get_constraintdef / pg_get_functiondef); SQLite from sqlite_master and PRAGMAs.
Definitions are normalised (schema prefix and white space removed) so that two databases
built by the same migrations compare equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import peewee

from ..db import POSTGRESQL, dialect
from .migrations import HISTORY_TABLE


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


def read_catalog(db: peewee.Database, count_rows: bool = True) -> Catalog:
    if dialect(db) == POSTGRESQL:
        schema = db.execute_sql("SELECT current_schema()").fetchone()[0]
        catalog = read_postgresql(db, schema)
    else:
        catalog = read_sqlite(db)
    if count_rows:
        for name, table in catalog.tables.items():
            table.rows = db.execute_sql(f'SELECT count(*) FROM "{name}"').fetchone()[0]
    return catalog


# ---- PostgreSQL ---------------------------------------------------------------------------

_PG_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum
"""

# Indexes that back a constraint (primary keys, UNIQUE constraints) are reported as constraints.
_PG_INDEXES = """
SELECT i.relname, t.relname, pg_get_indexdef(x.indexrelid)
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = %s
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
"""

_PG_TRIGGERS = """
SELECT g.tgname, t.relname, pg_get_triggerdef(g.oid)
FROM pg_trigger g
JOIN pg_class t ON t.oid = g.tgrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = %s AND NOT g.tgisinternal
"""

_PG_FUNCTIONS = """
SELECT p.proname, pg_get_functiondef(p.oid)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = %s AND p.prokind = 'f'
"""

_PG_CONSTRAINTS = """
SELECT k.conname, t.relname, k.contype, pg_get_constraintdef(k.oid)
FROM pg_constraint k
JOIN pg_class t ON t.oid = k.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = %s AND k.contype IN ('c', 'f', 'u', 'p')
"""

_PG_KINDS = {"c": "CHECK", "f": "FOREIGN KEY", "u": "UNIQUE", "p": "PRIMARY KEY"}


def read_postgresql(db: peewee.Database, schema: str) -> Catalog:
    catalog = Catalog()

    def rows(sql: str) -> list[tuple]:
        return db.execute_sql(sql, (schema,)).fetchall()

    for table, column, type_, not_null in rows(_PG_COLUMNS):
        if table == HISTORY_TABLE:
            continue
        catalog.tables.setdefault(table, TableInfo()).columns[column] = ColumnInfo(type_, not_null)
    for name, table, definition in rows(_PG_INDEXES):
        if table != HISTORY_TABLE:
            catalog.indexes[name] = ObjectInfo(table, "INDEX", normalise(definition, schema))
    for name, table, definition in rows(_PG_TRIGGERS):
        catalog.triggers[name] = ObjectInfo(table, "TRIGGER", normalise(definition, schema))
    for name, definition in rows(_PG_FUNCTIONS):
        catalog.functions[name] = ObjectInfo("", "FUNCTION", normalise(definition, schema))
    for name, table, kind, definition in rows(_PG_CONSTRAINTS):
        if table != HISTORY_TABLE:
            catalog.constraints[name] = ObjectInfo(
                table, _PG_KINDS[kind], normalise(definition, schema)
            )
    return catalog


# ---- SQLite -------------------------------------------------------------------------------


def read_sqlite(db: peewee.Database) -> Catalog:
    catalog = Catalog()
    master = db.execute_sql(
        "SELECT type, name, tbl_name, sql FROM sqlite_master "
        "WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    for type_, name, table, sql in master:
        if table == HISTORY_TABLE:
            continue
        if type_ == "table":
            catalog.tables[name] = _sqlite_table(db, name)
            _sqlite_constraints(db, catalog, name, sql or "")
        elif type_ == "index" and sql:  # sql is NULL for automatic (constraint) indexes
            catalog.indexes[name] = ObjectInfo(table, "INDEX", normalise(sql))
        elif type_ == "trigger":
            catalog.triggers[name] = ObjectInfo(table, "TRIGGER", normalise(sql))
    return catalog


def _sqlite_table(db: peewee.Database, table: str) -> TableInfo:
    info = TableInfo()
    for _cid, name, type_, not_null, _default, pk, _hidden in db.execute_sql(
        f'PRAGMA table_xinfo("{table}")'
    ):
        # INTEGER PRIMARY KEY is the rowid: never NULL whatever the PRAGMA says.
        info.columns[name] = ColumnInfo(type_.upper(), bool(not_null or pk))
    return info


def _sqlite_constraints(db: peewee.Database, catalog: Catalog, table: str, sql: str) -> None:
    pk_cols = [row[1] for row in db.execute_sql(f'PRAGMA table_info("{table}")') if row[5]]
    if pk_cols:
        catalog.constraints[f"{table}_pkey"] = ObjectInfo(
            table, "PRIMARY KEY", f"PRIMARY KEY ({', '.join(pk_cols)})"
        )
    for fk in db.execute_sql(f'PRAGMA foreign_key_list("{table}")'):
        _id, _seq, target, column, target_column, _upd, on_delete = fk[:7]
        catalog.constraints[f"{table}_{column}_fkey"] = ObjectInfo(
            table,
            "FOREIGN KEY",
            f"FOREIGN KEY ({column}) REFERENCES {target}({target_column}) ON DELETE {on_delete}",
        )
    for _seq, index, _unique, origin, _partial in db.execute_sql(f'PRAGMA index_list("{table}")'):
        if origin != "u":
            continue
        columns = [row[2] for row in db.execute_sql(f'PRAGMA index_info("{index}")')]
        name = _constraint_name(sql, columns) or f"{table}_{'_'.join(columns)}_key"
        catalog.constraints[name] = ObjectInfo(table, "UNIQUE", f"UNIQUE ({', '.join(columns)})")
    # SQLite does not keep CHECK names, so a CHECK is known by its table and expression.
    for check in _sqlite_checks(sql):
        catalog.constraints[f"{table} CHECK {check}"] = ObjectInfo(table, "CHECK", f"CHECK {check}")


def _constraint_name(table_sql: str, columns: list[str]) -> str | None:
    cols = r"\s*,\s*".join(re.escape(c) for c in columns)
    match = re.search(rf"CONSTRAINT\s+(\w+)\s+UNIQUE\s*\(\s*{cols}\s*\)", table_sql, re.I)
    return match[1] if match else None


def _sqlite_checks(table_sql: str) -> list[str]:
    """The parenthesised expressions of every CHECK in a CREATE TABLE statement."""
    checks: list[str] = []
    body = "\n".join(line.split("--", 1)[0] for line in table_sql.splitlines())
    for match in re.finditer(r"\bCHECK\s*\(", body, re.I):
        start = match.end() - 1
        depth = 0
        for i in range(start, len(body)):
            if body[i] == "(":
                depth += 1
            elif body[i] == ")":
                depth -= 1
                if depth == 0:
                    checks.append(normalise(body[start : i + 1]))
                    break
    return checks
