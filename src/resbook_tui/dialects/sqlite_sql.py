"""The SQLite statements that stay raw, each with one line saying why.

Everything else resbook runs on SQLite is built with the Peewee models and query builder.
Raw SQL runs nowhere but here and in postgresql_sql.py (tests/test_layout.py checks).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import peewee

from ..errors import MigrationError

STAMP = "%Y-%m-%d %H:%M:%f"  # the text the database clock writes


def is_query_only(conn: sqlite3.Connection) -> bool:
    """Raw: the bare connection, while Peewee is still setting it up."""
    return bool(conn.execute("PRAGMA query_only").fetchone()[0] == 1)


def run_script(db: peewee.Database, script: str) -> None:
    """A migration file is SQL, run as written: statement by statement, since
    executescript would commit the caller's transaction."""
    for statement in split_script(script):
        db.execute_sql(statement)


def split_script(script: str) -> list[str]:
    """Split a SQLite script into statements (trigger bodies stay whole)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            if _strip_comments(statement):
                statements.append(statement)
            buffer = ""
    if _strip_comments(buffer).strip():
        raise MigrationError(f"incomplete SQL statement at the end of a script: {buffer.strip()!r}")
    return statements


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines()).strip().strip(";")


def create_history_table(db: peewee.Database, table: str) -> None:
    db.execute_sql(  # raw: DDL (the table is resbook's own bookkeeping, not a migration's)
        f"CREATE TABLE IF NOT EXISTS {table} (version INTEGER PRIMARY KEY, "
        "name VARCHAR(200) NOT NULL, checksum CHAR(64) NOT NULL, "
        f"applied_at TIMESTAMP NOT NULL DEFAULT (strftime('{STAMP}', 'now')))"
    )


# Raw: sqlite_master and the PRAGMA table functions, clearer as SQL than as builder calls.
_CATALOG = {
    "objects": "SELECT type, name, tbl_name, sql FROM sqlite_master "
    "WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
    "columns": 'SELECT m.name, c.name, c.type, c."notnull", c.pk FROM sqlite_master m '
    "JOIN pragma_table_xinfo(m.name) c WHERE m.type = 'table' ORDER BY m.name, c.cid",
    "foreign_keys": 'SELECT m.name, f."from", f."table", f."to", f.on_delete '
    "FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table' "
    "ORDER BY m.name, f.id, f.seq",
    "unique": "SELECT m.name, l.name, i.name FROM sqlite_master m "
    "JOIN pragma_index_list(m.name) l JOIN pragma_index_info(l.name) i "
    "WHERE m.type = 'table' AND l.origin = 'u' ORDER BY m.name, l.name, i.seqno",
}


def read_catalog(db: peewee.Database) -> dict[str, list[tuple[Any, ...]]]:
    return {key: db.execute_sql(sql).fetchall() for key, sql in _CATALOG.items()}
