"""PostgreSQL, production: what it does differently, and its few raw statements.

Sessions run READ COMMITTED in UTC with ``lock_timeout`` and ``statement_timeout`` set
(session.py) and rows are locked ``FOR UPDATE`` in (resource_id, date) order. The hold and
sweep hot paths are raw statements (postgresql_sql.py says why, one line each). Nothing is
announced: listeners poll the audit trail's newest id (booking/changes.py says why).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import peewee
from peewee import SQL, Select, fn
from psycopg2.extensions import TRANSACTION_STATUS_ACTIVE

from ..connections import ConnectionRegistry
from ..errors import ConfigError
from ..models import ResourceCapacity
from ..session import PgSettings
from ..urls import DatabaseUrl
from . import postgresql_sql as raw
from .base import (
    CellRefused,
    Dialect,
    HoldPlan,
    HoldRow,
    SweepBatch,
    TokenTaken,
)
from .catalog import HISTORY_TABLE, Catalog, ColumnInfo, ObjectInfo, TableInfo, normalise
from .prepared import PreparedOnUse

CONNECT_TIMEOUT_S = 5
# A peer gone without a word (a NAT dropping an idle connection, a failover) is found out:
# keepalives while a connection idles (kept across threads, it may idle for hours), and a
# write unacknowledged for 10 s fails rather than waiting out TCP's 15 minutes.
_PEER_CHECKS = {"keepalives_idle": 60, "keepalives_count": 3, "tcp_user_timeout": 10_000}
_KINDS = {"c": "CHECK", "f": "FOREIGN KEY", "u": "UNIQUE", "p": "PRIMARY KEY"}


def _cancel(conn: Any) -> bool:
    """psycopg2's cancel: the server stops the statement and rolls its transaction back.

    Only a connection with a command in progress is asked (read from libpq's state, no
    network): a cancel request is a connection of its own, and psycopg2 holds the GIL
    while it is made."""
    if getattr(conn, "closed", 0) or conn.info.transaction_status != TRANSACTION_STATUS_ACTIVE:
        return False
    conn.cancel()
    return True


# not_null_violation, unique_violation: the constraints a claim statement fails on.
_REFUSALS = ("23502", "23505")


class ResbookPostgresqlDatabase(peewee.PostgresqlDatabase):
    """PostgreSQL whose every connection gets resbook's session settings (checked) and
    can be cancelled from another thread."""

    def __init__(self, database: str | None, *, settings: PgSettings, **kwargs: Any) -> None:
        self._deferred = threading.local()
        super().__init__(database, **kwargs)
        self.resbook_settings = settings
        self.resbook_read_only = settings.read_only
        self.resbook_connections = ConnectionRegistry(_cancel)
        self.resbook_url: DatabaseUrl | None = None
        self._prepared = PreparedOnUse()

    def _connect(self) -> Any:
        # One an ended thread left, if one still serves (connections.py says why), else new.
        spare = raw.take_over(self.resbook_connections, self.resbook_settings)
        if spare is not None:
            return spare
        conn = super()._connect()  # type: ignore[misc]
        try:
            raw.set_up_session(conn, self.resbook_settings)
        except BaseException:
            conn.close()
            raise
        return conn

    def _initialize_connection(self, conn: Any) -> None:
        super()._initialize_connection(conn)  # type: ignore[misc]
        self.resbook_connections.add(conn)
        self._deferred.pending = []
        self._deferred.failure = None

    def _close(self, conn: Any) -> None:
        self._deferred.pending = []
        self.resbook_connections.discard(conn)
        super()._close(conn)  # type: ignore[misc]

    # ---- statements that need no answer ride with the next one ------------------------------
    # One round trip fewer for each, as pgjdbc sends BEGIN in the same message as the first
    # query: BEGIN, SAVEPOINT and RELEASE SAVEPOINT (peewee's nested atomic()) and
    # ``later`` statements wait, in order, and go out in one simple-query message with the
    # next statement, or with COMMIT. The statements of one message run in order, and the
    # first that fails stops the rest, so the transaction sees exactly what it would have
    # one at a time. A transaction that sent nothing sends no COMMIT either. Peewee keeps
    # one connection per thread, so what is pending is per thread too.

    def _pending(self) -> list[str]:
        pending: list[str] | None = getattr(self._deferred, "pending", None)
        if pending is None:
            pending = self._deferred.pending = []
        return pending

    def begin(self, isolation_level: Any = None) -> None:
        if isolation_level is not None or getattr(self, "_isolation_level", None):
            super().begin(isolation_level)
            return
        # Connect now if this thread has no connection yet, as peewee's own begin does:
        # connecting later, inside the block, would reset peewee's transaction stack.
        self.cursor()  # type: ignore[no-untyped-call]
        self._pending()[:] = [raw.BEGIN]
        self._deferred.failure = None

    def _send(self, sql: str, params: Any) -> Any:
        """Peewee's ``_execute_cursor``, keeping the transaction's first failure: with
        statements sent together, the error that stopped them says which one failed."""
        try:
            return self._execute_cursor(sql, params)  # type: ignore[attr-defined]
        except Exception as exc:
            if getattr(self._deferred, "failure", None) is None:
                self._deferred.failure = exc
            raise

    def first_failure(self) -> BaseException | None:
        """The first statement error since this thread's last BEGIN (None: there was none)."""
        found: BaseException | None = getattr(self._deferred, "failure", None)
        return found

    def prepared(self, sql: str, count: int) -> str:
        """The EXECUTE of ``sql`` prepared on this thread's connection (Compiled.statement)."""
        return self._prepared.statement(self.connection(), sql, count)  # type: ignore[no-untyped-call]

    def later(self, sql: str, params: Any) -> None:
        """Send this statement (whose answer nobody reads) with the transaction's next
        statement or its COMMIT (inside a transaction only: Compiled.later)."""
        self._pending().append(self.cursor().mogrify(sql, params).decode())  # type: ignore[no-untyped-call]

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        pending = self._pending()
        if pending and raw.is_savepoint_end(sql, pending):
            pending.pop()  # ROLLBACK TO a savepoint nothing was sent after: nothing to undo
            return None
        if self.in_transaction() and raw.is_savepoint_step(sql):
            pending.append(sql)
            return None
        if pending:
            sql = raw.joined(pending, sql)
            pending.clear()
        # What peewee's own execute_sql does.
        return self._send(sql, params)

    def commit(self) -> None:
        pending = self._pending()
        work = [s for s in pending if not raw.is_savepoint_step(s)]
        pending.clear()
        if work[:1] == [raw.BEGIN] and len(work) == 1:
            return  # nothing was sent: nothing to commit
        if work:
            if self.is_closed():
                raise peewee.InterfaceError("Cannot commit, database connection not open.")
            self._send(raw.joined(work, "COMMIT"), None)
            return
        super().commit()

    def rollback(self) -> None:
        pending = self._pending()
        begun = pending[:1] == [raw.BEGIN]
        pending.clear()
        if not begun:
            super().rollback()


def _hold_values(plan: HoldPlan, day: date, key: str) -> dict[str, Any]:
    """The hold statements' parameters for one date of ``plan``."""
    return {
        "r": plan.resource_id,
        "d": day,
        "until": plan.last,
        "q": plan.quantity,
        "e": plan.email,
        "t": plan.token,
        "k": key,
        "ttl": plan.ttl,
        "actor": plan.actor,
    }


def _taken(row: tuple[Any, ...], day: date) -> HoldRow:
    """The hold a take made on ``day``; TokenTaken or CellRefused when it made none."""
    if row[raw.TAKEN_FLAG]:
        raise TokenTaken
    if row[raw.EVENT_ID] is None:
        raise CellRefused(day)
    return tuple(row[: raw.EVENT_ID])


def _select(db: peewee.Database, *columns: peewee.Node) -> tuple[Any, ...]:
    """One row of expressions (functions of the server's, mostly)."""
    row: tuple[Any, ...] = db.execute(Select(columns=list(columns))).fetchone()
    return row


class PostgresqlDialect(Dialect):
    name = "postgresql"

    def open(
        self, url: DatabaseUrl, *, read_only: bool, create: bool, settings: PgSettings
    ) -> peewee.Database:
        opts = dict(url.options)
        raw_timeout = opts.pop("connect_timeout", str(CONNECT_TIMEOUT_S))
        try:
            connect_timeout = int(raw_timeout)
        except ValueError:
            raise ConfigError(
                f"connect_timeout in the database URL must be whole seconds, not {raw_timeout!r}"
            ) from None
        params: dict[str, object] = {
            "host": url.host,
            "port": url.port,
            "user": url.user,
            "password": url.password,
            "connect_timeout": connect_timeout,
            "application_name": "resbook",
            **_PEER_CHECKS,
        }
        # Other libpq options (options=-c search_path=..., sslmode, ...) pass through; the
        # settings resbook relies on are set again after connecting, so none of them can
        # change those.
        params.update(opts)
        params = {k: v for k, v in params.items() if v is not None}
        return ResbookPostgresqlDatabase(url.name, settings=settings, **params)

    # ---- clock and JSON ---------------------------------------------------------------------

    def now(self) -> peewee.Node:
        return fn.now()

    def today(self) -> peewee.Node:
        return SQL("CURRENT_DATE")

    def plus_minutes(self, moment: peewee.Node, minutes: int | peewee.Node) -> peewee.Node:
        return moment + SQL("interval '1 minute'") * minutes

    def json_object(self, *pairs: Any) -> peewee.Node:
        return fn.jsonb_build_object(*pairs)

    # ---- locks --------------------------------------------------------------------------------

    def lock_cells(self, db: peewee.Database, resource_id: int, first: date, last: date) -> None:
        ResourceCapacity.cells(resource_id, first, last).for_update().execute(db)

    def serialize(self, db: peewee.Database, key: int) -> None:
        _select(db, fn.pg_advisory_xact_lock(key))

    def try_serialize(self, db: peewee.Database, key: int) -> bool:
        return bool(_select(db, fn.pg_try_advisory_xact_lock(key))[0])

    def try_serialize_condition(self, key: int | peewee.Node) -> peewee.Node:
        return fn.pg_try_advisory_xact_lock(key)

    def refused_by(self, db: peewee.Database, table: str) -> bool:
        error = getattr(db, "first_failure", lambda: None)()
        error = getattr(error, "orig", error)  # peewee's wrapper holds the driver's error
        if getattr(error, "pgcode", None) not in _REFUSALS:
            return False
        return getattr(getattr(error, "diag", None), "table_name", None) == table

    @contextlib.contextmanager
    def exclusive(
        self, db: peewee.Database, key: int, on_wait: Callable[[], None] | None
    ) -> Iterator[None]:
        # Waiting for another migration is the point here, so no lock_timeout for the
        # advisory lock; and a migration may run long, so no statement_timeout while it
        # does. Its DDL keeps lock_timeout: a table someone holds is "busy, try again",
        # not a queue that stalls every session behind it.
        _set(db, statement_timeout=0, lock_timeout=0)
        if not _select(db, fn.pg_try_advisory_lock(key))[0]:
            if on_wait:
                on_wait()
            _select(db, fn.pg_advisory_lock(key))
        settings: PgSettings | None = getattr(db, "resbook_settings", None)
        if settings is not None:
            _set(db, lock_timeout=settings.lock_timeout_ms)
        try:
            yield
        finally:
            with contextlib.suppress(peewee.DatabaseError, peewee.InterfaceError):
                _select(db, fn.pg_advisory_unlock(key))
                if settings is not None:
                    _set(
                        db,
                        lock_timeout=settings.lock_timeout_ms,
                        statement_timeout=settings.statement_timeout_ms,
                    )

    def lock_tables(self, db: peewee.Database, tables: list[str]) -> None:
        if tables:
            raw.lock_tables(db, tables)

    # ---- the hot paths: raw, prepared --------------------------------------------------------

    def take_holds(self, db: peewee.Database, plan: HoldPlan) -> list[HoldRow]:
        rows: list[HoldRow] = []
        for n, (day, key) in enumerate(zip(plan.days, plan.keys, strict=True)):
            steps = raw.first_steps(plan.token is not None) if n == 0 else ("take",)
            row = raw.HOLD_STATEMENTS.run(db, steps, _hold_values(plan, day, key)).fetchone()
            rows.append(_taken(row, day))
        return rows

    def hold_one(self, db: peewee.Database, plan: HoldPlan) -> HoldRow:
        if db.in_transaction():  # inside someone's transaction: it decides the commit
            return super().hold_one(db, plan)
        try:
            row = raw.one_hold(db, _hold_values(plan, plan.first, plan.keys[0]))
        except BaseException:
            # An error (a lock timeout, a deadlock) rolled the implicit transaction back;
            # an interrupt may have come between the statements: end any block left open,
            # or the connection stays unusable. Nothing of the transaction was committed.
            with contextlib.suppress(peewee.DatabaseError, peewee.InterfaceError):
                db.rollback()
            raise
        return _taken(row, plan.first)

    def sweep_batch(self, db: peewee.Database, *, actor: str, size: int, after: int) -> SweepBatch:
        expired, units, cells, picked, last_id = raw.sweep_batch(
            db, actor=actor, size=size, after=after
        )
        return SweepBatch(picked, expired, int(units), set(cells), last_id)

    # ---- schema -------------------------------------------------------------------------------

    def run_script(self, db: peewee.Database, script: str) -> None:
        raw.run_script(db, script)

    def create_history_table(self, db: peewee.Database, table: str) -> None:
        raw.create_history_table(db, table)

    def read_catalog(self, db: peewee.Database) -> Catalog:
        return _catalog(db, str(_select(db, fn.current_schema())[0]))

    def expected_catalog(self, db: peewee.Database, scripts: list[str]) -> Catalog:
        """Replayed into a schema of its own inside a transaction that is rolled back: DDL
        is transactional, so the scratch schema is never visible to anyone."""
        schema = raw.scratch_schema_name()
        result: Catalog | None = None
        try:
            with db.atomic():
                raw.create_schema(db, schema)
                _select(db, fn.set_config("search_path", schema, True))  # SET LOCAL
                for script in scripts:
                    self.run_script(db, script)
                result = _catalog(db, schema)
                raise _Rollback
        except _Rollback:
            pass
        assert result is not None
        return result


class _Rollback(Exception):
    """Raised to throw the scratch schema away."""


def _set(db: peewee.Database, **settings: int) -> None:
    """SET for this session, through set_config (the builder cannot spell SET)."""
    _select(db, *(fn.set_config(name, str(int(v)), False) for name, v in settings.items()))


def _catalog(db: peewee.Database, schema: str) -> Catalog:
    found = raw.read_catalog(db, schema)
    catalog = Catalog()
    for table, column, type_, not_null in found["columns"]:
        if table != HISTORY_TABLE:
            columns = catalog.tables.setdefault(table, TableInfo()).columns
            columns[column] = ColumnInfo(type_, not_null)
    for name, table, definition in found["indexes"]:
        if table != HISTORY_TABLE:
            catalog.indexes[name] = ObjectInfo(table, "INDEX", normalise(definition, schema))
    for name, table, definition in found["triggers"]:
        catalog.triggers[name] = ObjectInfo(table, "TRIGGER", normalise(definition, schema))
    for name, definition in found["functions"]:
        catalog.functions[name] = ObjectInfo("", "FUNCTION", normalise(definition, schema))
    for name, table, kind, definition in found["constraints"]:
        if table != HISTORY_TABLE:
            catalog.constraints[name] = ObjectInfo(
                table, _KINDS[kind], normalise(definition, schema)
            )
    return catalog
