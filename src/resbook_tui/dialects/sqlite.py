"""SQLite, the embedded default: what it does differently, and its few raw statements.

SQLite runs one writer at a time: every write transaction is ``BEGIN IMMEDIATE``, so a
transaction that writes holds the whole database and needs no row locks. Timestamps are UTC
text in the form ``strftime('%Y-%m-%d %H:%M:%f', 'now')`` writes, dates ``YYYY-MM-DD``.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import peewee
from peewee import SQL, Select, fn

from ..config import default_database_path
from ..connections import ConnectionRegistry
from ..errors import DatabaseError
from ..models import EVENT_FIELDS, Action, BookingEvent, ResourceCapacity, ResourceHold
from ..session import PgSettings
from ..urls import DatabaseUrl
from . import sqlite_sql as raw
from .base import Dialect, SweepBatch
from .catalog import HISTORY_TABLE, Catalog, ColumnInfo, ObjectInfo, TableInfo, normalise

# Seconds a SQLite writer waits for another writer before giving up with "database is locked".
BUSY_TIMEOUT_S = 10


def _adapt_datetime(value: datetime) -> str:
    """SQLite keeps UTC text in the same shape as strftime('%Y-%m-%d %H:%M:%f', 'now')."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


# Explicit adapters: the stdlib defaults are deprecated and would not write UTC text.
sqlite3.register_adapter(date, date.isoformat)
sqlite3.register_adapter(datetime, _adapt_datetime)


def _interrupt(conn: sqlite3.Connection) -> bool:
    conn.interrupt()
    return True


class ResbookSqliteDatabase(peewee.SqliteDatabase):
    """SQLite whose every connection is checked after it opens and can be interrupted."""

    def __init__(self, database: str, *, read_only: bool = False, **kwargs: Any) -> None:
        super().__init__(database, **kwargs)
        self.resbook_read_only = read_only
        self.resbook_connections = ConnectionRegistry(_interrupt)
        self.resbook_url: DatabaseUrl | None = None

    def _connect(self) -> sqlite3.Connection:
        # An ended thread's connection cannot serve this one (sqlite3 checks the thread).
        self.resbook_connections.forget_ended()
        conn: sqlite3.Connection = super()._connect()  # type: ignore[misc]
        return conn

    def _initialize_connection(self, conn: sqlite3.Connection) -> None:
        super()._initialize_connection(conn)  # type: ignore[misc]
        if self.resbook_read_only and not raw.is_query_only(conn):
            raise DatabaseError("the SQLite connection could not be made read-only")
        self.resbook_connections.add(conn)

    def _close(self, conn: sqlite3.Connection) -> None:
        self.resbook_connections.discard(conn)
        super()._close(conn)  # type: ignore[misc]


class SqliteDialect(Dialect):
    name = "sqlite"

    def open(
        self, url: DatabaseUrl, *, read_only: bool, create: bool, settings: PgSettings
    ) -> peewee.Database:
        path = url.path
        assert path is not None
        try:
            exists = path.exists()
        except OSError as exc:  # a name too long for the file system, say
            raise DatabaseError(f"cannot open {url.masked}: {exc.strerror or exc}") from None
        if not exists and (read_only or not create):
            raise DatabaseError(
                f"cannot open {url.masked}: there is no resbook database at {path.absolute()} "
                "(`resbook migrate up` creates one)"
            )
        if path == default_database_path() and not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        if read_only:
            # A read-only connection cannot switch the journal mode; WAL stays as it is.
            return ResbookSqliteDatabase(
                _file_uri(path, "ro"),
                uri=True,
                pragmas={"foreign_keys": 1, "query_only": 1},
                timeout=BUSY_TIMEOUT_S,
                check_same_thread=False,
                read_only=True,
            )
        pragmas = {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "synchronous": "normal",
            "busy_timeout": BUSY_TIMEOUT_S * 1000,
        }
        # BEGIN IMMEDIATE for every write transaction: a reader that later writes would
        # otherwise fail with SQLITE_BUSY instead of waiting its turn. mode=rw opens only a
        # file that exists, so a file removed since the check above is not made again.
        return ResbookSqliteDatabase(
            _file_uri(path, "rwc" if create else "rw"),
            uri=True,
            pragmas=pragmas,
            timeout=BUSY_TIMEOUT_S,
            lock_type="IMMEDIATE",
            check_same_thread=False,
        )

    # ---- clock and JSON ---------------------------------------------------------------------

    def now(self) -> peewee.Node:
        return fn.strftime(raw.STAMP, "now")

    def today(self) -> peewee.Node:
        return fn.date("now")

    def plus_minutes(self, moment: peewee.Node, minutes: int | peewee.Node) -> peewee.Node:
        return fn.strftime(raw.STAMP, moment, fn.printf("%+d minutes", minutes))

    def json_object(self, *pairs: Any) -> peewee.Node:
        return fn.json_object(*pairs)

    # ---- locks: BEGIN IMMEDIATE already made this transaction the only writer --------------

    def lock_cells(self, db: peewee.Database, resource_id: int, first: date, last: date) -> None:
        return None

    def serialize(self, db: peewee.Database, key: int) -> None:
        return None

    def try_serialize(self, db: peewee.Database, key: int) -> bool:
        return True  # BEGIN IMMEDIATE: no other writer is running

    @contextlib.contextmanager
    def exclusive(
        self, db: peewee.Database, key: int, on_wait: Callable[[], None] | None
    ) -> Iterator[None]:
        yield

    def lock_tables(self, db: peewee.Database, tables: list[str]) -> None:
        return None

    # ---- the change feed ------------------------------------------------------------------

    def commit_marker(self, db: peewee.Database) -> int:
        """``PRAGMA data_version`` moves when another connection commits, with or without
        events (no table is read)."""
        return int(cast(peewee.SqliteDatabase, db).pragma("data_version"))

    # ---- the sweep ---------------------------------------------------------------------------

    def sweep_batch(self, db: peewee.Database, *, actor: str, size: int, after: int) -> SweepBatch:
        """Only writer, so the batch can be named by a range of ids and a fixed clock, and
        then be given back, logged and expired by three set-based statements."""
        hold = ResourceHold
        cutoff = Select(columns=[self.now()]).scalar(db)
        due = (hold.status == "ACTIVE") & (hold.expires_at <= cutoff)
        first_due = (
            hold.select(hold.id, hold.quantity)
            .where(due & (hold.id > after))
            .order_by(hold.id)
            .limit(size)
        )
        picked, last_id, units = (
            Select(
                from_list=[first_due],
                columns=[fn.COUNT(SQL("*")), fn.MAX(SQL("id")), fn.SUM(SQL("quantity"))],
            )
            .tuples()
            .execute(db)[0]
        )
        if not picked:
            return SweepBatch(0, 0, 0, set(), after)
        batch = due & (hold.id > after) & (hold.id <= last_id)
        per_cell = (
            hold.select(hold.resource, hold.date, fn.SUM(hold.quantity).alias("units"))
            .where(batch)
            .group_by(hold.resource, hold.date)
        )
        cell = ResourceCapacity
        give_back = (
            cell.update(available_capacity=cell.available_capacity + per_cell.c.units)
            .from_(per_cell)
            .where((cell.resource == per_cell.c.resource_id) & (cell.date == per_cell.c.date))
            .returning(cell.resource.concat("/").concat(cell.date))
        )
        # The driver's cursor, not Peewee's row objects: thousands of keys per batch.
        cells = {key for (key,) in db.execute(give_back).fetchall()}
        logged = hold.select(
            peewee.Value(actor),
            peewee.Value(str(Action.HOLD_EXPIRE)),
            peewee.Value("hold"),
            hold.id,
            hold.resource,
            hold.date,
            hold.date,
            hold.customer_email,
            self.json_object("quantity", hold.quantity, "expires_at", hold.expires_at),
        ).where(batch)
        BookingEvent.insert_from(logged, list(EVENT_FIELDS)).execute(db)
        expired = hold.update(status="EXPIRED").where(batch).execute(db)
        return SweepBatch(picked, expired, int(units), cells, last_id)

    # ---- schema -------------------------------------------------------------------------------

    def run_script(self, db: peewee.Database, script: str) -> None:
        raw.run_script(db, script)

    def create_history_table(self, db: peewee.Database, table: str) -> None:
        raw.create_history_table(db, table)

    def read_catalog(self, db: peewee.Database) -> Catalog:
        return _read_catalog(db)

    def expected_catalog(self, db: peewee.Database, scripts: list[str]) -> Catalog:
        scratch = peewee.SqliteDatabase(":memory:")
        with scratch:
            for script in scripts:
                self.run_script(scratch, script)
            return _read_catalog(scratch)


def _file_uri(path: Path, mode: str) -> str:
    return f"file:{quote(str(path))}?mode={mode}"


def _read_catalog(db: peewee.Database) -> Catalog:
    rows = raw.read_catalog(db)
    catalog = Catalog()
    table_sql: dict[str, str] = {}
    for type_, name, table, sql in rows["objects"]:
        if table == HISTORY_TABLE:
            continue
        if type_ == "table":
            catalog.tables[name] = TableInfo()
            table_sql[name] = sql or ""
        elif type_ == "index" and sql:  # sql is NULL for automatic (constraint) indexes
            catalog.indexes[name] = ObjectInfo(table, "INDEX", normalise(sql))
        elif type_ == "trigger":
            catalog.triggers[name] = ObjectInfo(table, "TRIGGER", normalise(sql))
    primary: dict[str, list[str]] = {}
    for table, column, type_, not_null, pk in rows["columns"]:
        if table in catalog.tables:
            # INTEGER PRIMARY KEY is the rowid: never NULL whatever the PRAGMA says.
            catalog.tables[table].columns[column] = ColumnInfo(type_.upper(), bool(not_null or pk))
            if pk:
                primary.setdefault(table, []).append(column)
    for table, columns in primary.items():
        catalog.constraints[f"{table}_pkey"] = ObjectInfo(
            table, "PRIMARY KEY", f"PRIMARY KEY ({', '.join(columns)})"
        )
    for table, column, target, target_column, on_delete in rows["foreign_keys"]:
        if table in catalog.tables:
            definition = f"FOREIGN KEY ({column}) REFERENCES {target}({target_column})"
            catalog.constraints[f"{table}_{column}_fkey"] = ObjectInfo(
                table, "FOREIGN KEY", f"{definition} ON DELETE {on_delete}"
            )
    unique: dict[tuple[str, str], list[str]] = {}
    for table, index, column in rows["unique"]:
        if table in catalog.tables:
            unique.setdefault((table, index), []).append(column)
    for (table, _index), columns in unique.items():
        name = _constraint_name(table_sql[table], columns) or f"{table}_{'_'.join(columns)}_key"
        catalog.constraints[name] = ObjectInfo(table, "UNIQUE", f"UNIQUE ({', '.join(columns)})")
    # SQLite does not keep CHECK names, so a CHECK is known by its table and expression.
    for table, sql in table_sql.items():
        for check in _checks(sql):
            catalog.constraints[f"{table} CHECK {check}"] = ObjectInfo(
                table, "CHECK", f"CHECK {check}"
            )
    return catalog


def _constraint_name(table_sql: str, columns: list[str]) -> str | None:
    cols = r"\s*,\s*".join(re.escape(c) for c in columns)
    match = re.search(rf"CONSTRAINT\s+(\w+)\s+UNIQUE\s*\(\s*{cols}\s*\)", table_sql, re.I)
    return match[1] if match else None


def _checks(table_sql: str) -> list[str]:
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
