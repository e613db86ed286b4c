"""The PostgreSQL statements that stay raw, each with one line saying why.

Everything else resbook runs on PostgreSQL is built with the Peewee models and query
builder. Raw SQL runs nowhere but here and in sqlite_sql.py (tests/test_layout.py checks).
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Sequence
from typing import Any

import peewee
import psycopg2
from peewee import SQL
from psycopg2.extensions import TRANSACTION_STATUS_IDLE

from ..connections import ConnectionRegistry
from ..errors import DatabaseError
from ..models import HOLD_FIELDS, Action, ResourceCapacity
from ..session import PgSettings
from .prepared import PreparedGroup

# ---- session: runs on the bare connection while Peewee is still setting it up ---------------


def take_over(registry: ConnectionRegistry, settings: PgSettings) -> Any | None:
    """A connection an ended thread left, set up again, if one is open, outside a
    transaction and still answering (None: there is none); the others are closed."""
    while (spare := registry.take_spare()) is not None:
        if not spare.closed and spare.info.transaction_status == TRANSACTION_STATUS_IDLE:
            try:
                set_up_session(spare, settings)
                return spare
            except psycopg2.Error:
                pass  # the server dropped it meanwhile: closed, and the next one is tried
            except BaseException:
                _close_quietly(spare)
                raise
        _close_quietly(spare)
    return None


def _close_quietly(conn: Any) -> None:
    with contextlib.suppress(Exception):  # broken already: only let it go
        conn.close()


def set_up_session(conn: Any, settings: PgSettings) -> None:
    """Set the session up and check that it took; DatabaseError if the server disagrees.

    Raw: SET is a statement the builder cannot spell, and the connection is not Peewee's yet.
    """
    statements = [
        "SET TIME ZONE 'UTC'",
        "SET default_transaction_isolation = 'read committed'",
        f"SET lock_timeout = {int(settings.lock_timeout_ms)}",
        f"SET statement_timeout = {int(settings.statement_timeout_ms)}",
    ]
    if settings.read_only:
        # A writable session keeps whatever the server or role says (a replica stays
        # read-only); a read-only one is made read-only whatever anyone said.
        statements.append("SET default_transaction_read_only = on")
    # A connection taken over from an ended thread (connections.py) holds no lock of it:
    # a session advisory lock (a migration's, see PostgresqlDialect.exclusive) whose
    # unlock failed quietly would otherwise pass to the new thread. A new one holds none.
    statements.append("SELECT pg_advisory_unlock_all()")
    statements.append(
        "SELECT current_setting('TimeZone'), current_setting('default_transaction_read_only'), "
        "current_setting('default_transaction_isolation')"
    )
    with conn.cursor() as cur:
        # peewee's connections are in autocommit, so these are session settings; one round
        # trip, and the SELECT's row comes back.
        cur.execute("; ".join(statements))
        zone, session_read_only, isolation = cur.fetchone()
    if zone not in ("UTC", "Etc/UTC"):
        raise DatabaseError(f"the session time zone is {zone!r}, not UTC; resbook cannot run")
    if settings.read_only and session_read_only != "on":
        raise DatabaseError("the session could not be made read-only; resbook will not use it")
    if isolation != "read committed":
        raise DatabaseError(f"the session isolation is {isolation!r}, not read committed")


BEGIN = "BEGIN"
_SAVEPOINT_STEP = re.compile(r'(?:RELEASE )?SAVEPOINT "s[0-9a-f]+";?')
_SAVEPOINT_END = re.compile(r'ROLLBACK TO SAVEPOINT ("s[0-9a-f]+");?')


def joined(pending: Sequence[str], sql: str) -> str:
    """Raw: statements waiting to go (BEGIN, savepoints, ``later`` ones, rendered already)
    in one message with ``sql`` (one round trip; the statements of a message run in
    order). ``%`` doubled: the driver formats the whole text with ``sql``'s parameters."""
    ahead = "; ".join(s.rstrip(";") for s in pending).replace("%", "%%")
    return f"{ahead}; {sql}"


def is_savepoint_step(sql: str) -> bool:
    """Peewee's SAVEPOINT or RELEASE SAVEPOINT (of a nested atomic())."""
    return _SAVEPOINT_STEP.fullmatch(sql) is not None


def is_savepoint_end(sql: str, pending: Sequence[str]) -> bool:
    """Peewee's ROLLBACK TO SAVEPOINT of the savepoint last made, with nothing sent since."""
    found = _SAVEPOINT_END.fullmatch(sql)
    return found is not None and pending[-1] == f"SAVEPOINT {found[1]};"


def lock_tables(db: peewee.Database, tables: Sequence[str]) -> None:
    """Raw: LOCK TABLE is not a query. The names come from migration files, not users."""
    db.execute_sql(f"LOCK TABLE {', '.join(sorted(set(tables)))} IN ACCESS EXCLUSIVE MODE")


# ---- holds: one prepared round trip per date ---------------------------------------------------
#
# Raw and prepared: PostgreSQL spends about a millisecond parsing and planning these CTE chains,
# more than it spends running them, and holds are the shop's hot path. The first date sends up
# to three statements at once: the request row when there is a token (request), the locks on
# every cell of the range in (resource_id, date) order (lock), then the conditional capacity
# UPDATE with the hold row and its event (take); later dates send take
# alone. Whether the token was already taken is passed on in a transaction-local setting,
# since only the last statement's rows come back; with it taken, nothing is locked or taken
# and the caller replays. The capacity rule itself is the models' (ResourceCapacity.take),
# rendered here with parameters in place of values, so it is written once for both dialects.
#
# A hold of one date goes further: its whole transaction is one message (``one_hold``),
# the statements alone, in autocommit. PostgreSQL runs the statements of one simple query
# as one implicit transaction (each still takes its own snapshot, so the take sees what
# committed while the lock waited) and commits it after the last, whose rows come back:
# the take's. An explicit BEGIN ... COMMIT would end in COMMIT, which returns no rows,
# and a read-back of what was made after it: 35-38 us more server CPU a hold (of about
# 480, bench/README.md). Committing unconditionally is safe because a take that refuses
# changes nothing: the rule's UPDATE matched no row, so no hold and no event were
# written, and the request row this transaction claimed is deleted again (undo), so a
# refused request leaves no trace, as a rolled-back one would. An error in any statement
# skips the rest and rolls the whole transaction back.

_TAKEN = "current_setting('resbook.request', true) IS NOT DISTINCT FROM 'taken'"
_HOLD_COLUMNS = ", ".join(f.column_name for f in HOLD_FIELDS)
_PG = peewee.PostgresqlDatabase(None)  # renders queries; never connects


def _param(name: str, cast: str) -> peewee.Node:
    return SQL(f"%({name})s::{cast}")


def _render(query: peewee.Query) -> str:
    sql, params = _PG.get_sql_context().sql(query).query()
    assert not params, "a prepared statement takes its values as parameters"
    return str(sql)


_REQUEST = """
WITH q AS (
    INSERT INTO hold_request (token, resource_id, date_from, date_to, quantity, customer_email)
    VALUES (%(t)s::text, %(r)s::bigint, %(d)s::date, %(until)s::date, %(q)s::int, %(e)s::text)
    ON CONFLICT (token) DO NOTHING
    RETURNING id
)
SELECT set_config('resbook.request', CASE WHEN EXISTS (SELECT 1 FROM q) THEN 'new'
                                          ELSE 'taken' END, true)
"""

# Its own statement, so the capacity statement takes its snapshot after the lock is
# granted and sees any blackout or capacity change that committed while it waited.
_LOCK = _render(
    ResourceCapacity.cells(_param("r", "bigint"), _param("d", "date"), _param("until", "date"))
    .where(SQL(f"NOT {_TAKEN}"))
    .for_update()
)

_CAPACITY = _render(
    ResourceCapacity.take(
        _param("r", "bigint"), _param("d", "date"), _param("q", "int"), today=SQL("CURRENT_DATE")
    )
    .where(SQL(f"NOT {_TAKEN}"))
    .returning(ResourceCapacity.resource, ResourceCapacity.date)
)

_TAKE = f"""
WITH c AS (
    {_CAPACITY}
), h AS (
    INSERT INTO resource_hold (resource_id, date, quantity, customer_email, idempotency_token,
                               request_token, status, expires_at)
    SELECT c.resource_id, c.date, %(q)s::int, %(e)s::text, %(k)s::text, %(t)s::text, 'ACTIVE',
           now() + make_interval(mins => %(ttl)s::int)
    FROM c
    RETURNING {_HOLD_COLUMNS}
), e AS (
    INSERT INTO booking_event (actor, action, entity, entity_id, resource_id, date_from,
                               date_to, customer_email, details)
    SELECT %(actor)s::text, '{Action.HOLD_CREATE}', 'hold', h.id, h.resource_id, h.date, h.date,
           h.customer_email, jsonb_build_object('quantity', h.quantity, 'ttl_minutes',
           %(ttl)s::int, 'token', COALESCE(h.request_token, h.idempotency_token),
           'expires_at', h.expires_at)
    FROM h
    RETURNING id
), undo AS (
    DELETE FROM hold_request
    WHERE token = %(t)s::text AND NOT EXISTS (SELECT 1 FROM h)
      AND current_setting('resbook.request', true) = 'new'
)
SELECT h.*, e.id, {_TAKEN}
FROM (SELECT 1) AS one LEFT JOIN h ON TRUE LEFT JOIN e ON TRUE
"""

HOLD_STATEMENTS = PreparedGroup("resbook_hold", {"request": _REQUEST, "lock": _LOCK, "take": _TAKE})
EVENT_ID, TAKEN_FLAG = len(HOLD_FIELDS), len(HOLD_FIELDS) + 1


def first_steps(with_token: bool) -> tuple[str, ...]:
    """A hold's first date: claim the token (if any), lock the range's cells, take."""
    return ("request", "lock", "take") if with_token else ("lock", "take")


def one_hold(db: peewee.Database, values: dict[str, Any]) -> tuple[Any, ...]:
    """A one-date hold's whole transaction in one message (one round trip, autocommit: an
    implicit transaction); the take's row."""
    row: tuple[Any, ...] = HOLD_STATEMENTS.run(
        db, first_steps(values["t"] is not None), values
    ).fetchone()
    return row


# ---- the sweep: one statement per batch --------------------------------------------------------
#
# Raw: a chain of data-modifying CTEs with SKIP LOCKED on two tables, clearer as SQL than as
# builder calls, and one round trip per 5,000 holds. Due holds are taken in id order off
# idx_hold_active_id (ACTIVE holds only) and locked, then their cells with SKIP LOCKED (in
# (resource_id, date) order); a hold whose cell is locked elsewhere stays ACTIVE for the
# next run. (Every hold has its cell: a hold is made by taking units from it, and a cell
# goes only with its resource, which takes its holds along.) The status re-check decides
# any remaining race with a confirm or release.
#
# The batch touches only its own rows: the holds to expire are named as an array of ids
# (`= ANY (ARRAY(...))`, a primary-key lookup each) and the cells by their ids, so no
# step joins against every ACTIVE hold or every cell (at 110k ACTIVE holds a hash join
# there cost more than the batch's own work).

_SWEEP_BATCH = f"""
WITH due AS (
    SELECT id, resource_id, date FROM resource_hold
    WHERE status = 'ACTIVE' AND expires_at <= now() AND id > %(after)s
    ORDER BY id LIMIT %(n)s
    FOR UPDATE SKIP LOCKED
), cells AS (
    SELECT c.id, c.resource_id, c.date FROM resource_capacity c
    WHERE (c.resource_id, c.date) IN (SELECT resource_id, date FROM due)
    ORDER BY c.resource_id, c.date
    FOR UPDATE OF c SKIP LOCKED
), expired AS (
    UPDATE resource_hold h SET status = 'EXPIRED'
    WHERE h.id = ANY (ARRAY(
        SELECT d.id FROM due d JOIN cells c ON c.resource_id = d.resource_id AND c.date = d.date
    )) AND h.status = 'ACTIVE'
    RETURNING h.id, h.resource_id, h.date, h.quantity, h.customer_email, h.expires_at
), per_cell AS (
    SELECT resource_id, date, SUM(quantity) AS units FROM expired GROUP BY resource_id, date
), returned AS (
    UPDATE resource_capacity c SET available_capacity = c.available_capacity + p.units
    FROM per_cell p JOIN cells l ON l.resource_id = p.resource_id AND l.date = p.date
    WHERE c.id = l.id
    RETURNING c.resource_id, c.date
), logged AS (
    INSERT INTO booking_event (actor, action, entity, entity_id, resource_id, date_from,
                               date_to, customer_email, details)
    SELECT %(actor)s, '{Action.HOLD_EXPIRE}', 'hold', e.id, e.resource_id, e.date, e.date,
           e.customer_email, jsonb_build_object('quantity', e.quantity, 'expires_at', e.expires_at)
    FROM expired e
    RETURNING 1
)
SELECT (SELECT count(*) FROM expired), (SELECT COALESCE(SUM(units), 0) FROM per_cell),
       (SELECT COALESCE(array_agg(resource_id || '/' || date), '{{}}') FROM returned),
       (SELECT count(*) FROM due), (SELECT COALESCE(max(id), %(after)s) FROM due)
"""


def sweep_batch(db: peewee.Database, *, actor: str, size: int, after: int) -> tuple[Any, ...]:
    """(expired, units, cell keys, picked, last id) of one batch."""
    row: tuple[Any, ...] = db.execute_sql(
        _SWEEP_BATCH, {"n": size, "after": after, "actor": actor}
    ).fetchone()
    return row


# ---- schema: migration files, the history table's DDL, the catalog ------------------------------


def run_script(db: peewee.Database, script: str) -> None:
    db.execute_sql(script)  # raw: a migration file is SQL, run as written


def create_history_table(db: peewee.Database, table: str) -> None:
    db.execute_sql(  # raw: DDL (the table is resbook's own bookkeeping, not a migration's)
        f"CREATE TABLE IF NOT EXISTS {table} (version INTEGER PRIMARY KEY, "
        "name VARCHAR(200) NOT NULL, checksum CHAR(64) NOT NULL, "
        "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )


def scratch_schema_name() -> str:
    return f"resbook_verify_{uuid.uuid4().hex[:12]}"


def create_schema(db: peewee.Database, name: str) -> None:
    db.execute_sql(f'CREATE SCHEMA "{name}"')  # raw: DDL; the name is made up here


# Raw: pg_catalog and its pg_get_*def functions, clearer as SQL than as builder calls.
# Indexes that back a constraint (primary keys, UNIQUE constraints) count as constraints.
_CATALOG = {
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY c.relname, a.attnum""",
    "indexes": """
        SELECT i.relname, t.relname, pg_get_indexdef(x.indexrelid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = %s
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)""",
    "triggers": """
        SELECT g.tgname, t.relname, pg_get_triggerdef(g.oid)
        FROM pg_trigger g
        JOIN pg_class t ON t.oid = g.tgrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = %s AND NOT g.tgisinternal""",
    "functions": """
        SELECT p.proname, pg_get_functiondef(p.oid)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = %s AND p.prokind = 'f'""",
    "constraints": """
        SELECT k.conname, t.relname, k.contype, pg_get_constraintdef(k.oid)
        FROM pg_constraint k
        JOIN pg_class t ON t.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = %s AND k.contype IN ('c', 'f', 'u', 'p')""",
}


def read_catalog(db: peewee.Database, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    return {key: db.execute_sql(sql, (schema,)).fetchall() for key, sql in _CATALOG.items()}
