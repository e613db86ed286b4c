"""The sweep: expire every ACTIVE hold past its expiry and give its units back.

Set-based, in batches: each batch is a few statements whatever its size, never one per
hold. It is safe against a second sweep, a confirm or a release of the same hold: each
of them flips the hold's status only ``WHERE status = 'ACTIVE'``, so exactly one wins.
On PostgreSQL the sweep never waits for a lock: holds and capacity cells that another
transaction has locked are skipped (``SKIP LOCKED``) and left for the next run, so a
stuck session cannot make cron runs pile up. Batches walk the due holds by id, so each
is looked at once per run.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import events, validate
from .context import Context
from .records import SweepResult

DEFAULT_BATCH = 5000

# PostgreSQL: one statement per batch. Due holds and then their cells are locked with
# SKIP LOCKED (cells in (resource_id, date) order); a hold whose cell is locked elsewhere
# stays ACTIVE for the next run. (Every hold has its cell: a hold is made by taking units
# from it, and a cell goes only with its resource, which takes its holds along.) The
# status re-check decides any remaining race with a confirm or release.
_PG_BATCH = """
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
    FROM due d JOIN cells c ON c.resource_id = d.resource_id AND c.date = d.date
    WHERE h.id = d.id AND h.status = 'ACTIVE'
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
    SELECT %(actor)s, 'hold.expire', 'hold', e.id, e.resource_id, e.date, e.date,
           e.customer_email, jsonb_build_object('quantity', e.quantity, 'expires_at', e.expires_at)
    FROM expired e
    RETURNING 1
)
SELECT (SELECT count(*) FROM expired), (SELECT COALESCE(SUM(units), 0) FROM per_cell),
       (SELECT COALESCE(array_agg(resource_id || '/' || date), '{}') FROM returned),
       (SELECT count(*) FROM logged),
       (SELECT COALESCE(array_agg(DISTINCT resource_id), '{}') FROM returned),
       (SELECT count(*) FROM due), (SELECT COALESCE(max(id), %(after)s) FROM due)
"""

# SQLite: BEGIN IMMEDIATE makes the sweep the only writer, so the batch can be staged in a
# temporary table and applied with three set-based statements.
_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
_SQLITE_STEPS = (
    "DELETE FROM temp.sweep_batch",
    f"INSERT INTO temp.sweep_batch (id, resource_id, date, quantity, customer_email, expires_at) "
    f"SELECT id, resource_id, date, quantity, customer_email, expires_at FROM resource_hold "
    f"WHERE status = 'ACTIVE' AND expires_at <= {_SQLITE_NOW} AND id > ? ORDER BY id LIMIT ?",
    "UPDATE resource_hold SET status = 'EXPIRED' WHERE id IN (SELECT id FROM temp.sweep_batch)",
    "UPDATE resource_capacity SET available_capacity = available_capacity + p.units "
    "FROM (SELECT resource_id, date, SUM(quantity) AS units FROM temp.sweep_batch "
    "GROUP BY resource_id, date) AS p "
    "WHERE resource_capacity.resource_id = p.resource_id AND resource_capacity.date = p.date",
    "INSERT INTO booking_event (actor, action, entity, entity_id, resource_id, date_from, "
    "date_to, customer_email, details) "
    "SELECT ?, 'hold.expire', 'hold', id, resource_id, date, date, customer_email, "
    "json_object('quantity', quantity, 'expires_at', expires_at) FROM temp.sweep_batch",
)


@dataclass(frozen=True)
class _Batch:
    picked: int  # due holds looked at
    expired: int
    units: int
    cells: set[str]
    last_id: int  # where the next batch starts


def sweep(ctx: Context, batch_size: int = DEFAULT_BATCH, dry_run: bool = False) -> SweepResult:
    batch_size = validate.batch_size(batch_size)
    if dry_run:
        return _preview(ctx)
    expired = units = batches = skipped = 0
    # Cells as "resource_id/date" keys: a cell given units back in several batches is
    # still one cell, as the dry run counts it.
    cells: set[str] = set()
    after = 0
    while True:
        run = _pg_batch if ctx.is_pg else _sqlite_batch
        batch = run(ctx, batch_size, after)
        if batch.expired:
            expired, units, batches = expired + batch.expired, units + batch.units, batches + 1
            cells |= batch.cells
        skipped += batch.picked - batch.expired
        if batch.picked < batch_size:
            break
        after = batch.last_id
    return SweepResult(expired, units, len(cells), batches, skipped=skipped)


def _pg_batch(ctx: Context, batch_size: int, after: int) -> _Batch:
    with ctx.write():
        n, units, cells, _logged, resource_ids, picked, last_id = ctx.db.execute_sql(
            _PG_BATCH, {"n": batch_size, "after": after, "actor": ctx.actor}
        ).fetchone()
        # One notification per batch, however many holds it expired.
        events.notify_batch(ctx, "hold.expire", n, resource_ids)
    return _Batch(picked, n, int(units), set(cells), last_id)


def _sqlite_batch(ctx: Context, batch_size: int, after: int) -> _Batch:
    with ctx.write():
        ctx.execute(
            "CREATE TEMP TABLE IF NOT EXISTS sweep_batch (id INTEGER PRIMARY KEY, "
            "resource_id INTEGER, date TEXT, quantity INTEGER, customer_email TEXT, "
            "expires_at TEXT)"
        )
        clear, stage, expire, give_back, log = _SQLITE_STEPS
        ctx.execute(clear)
        n = ctx.execute(stage, (after, batch_size)).rowcount
        if n == 0:
            return _Batch(0, 0, 0, set(), after)
        ctx.execute(expire)
        ctx.execute(give_back)
        cells = {
            key
            for (key,) in ctx.all(
                "SELECT DISTINCT b.resource_id || '/' || b.date FROM temp.sweep_batch b "
                "JOIN resource_capacity c ON c.resource_id = b.resource_id AND c.date = b.date"
            )
        }
        ctx.execute(log, (ctx.actor,))
        units, last_id = ctx.one("SELECT COALESCE(SUM(quantity), 0), MAX(id) FROM temp.sweep_batch")
        ctx.execute(clear)
    return _Batch(n, n, int(units), cells, last_id)


def _preview(ctx: Context) -> SweepResult:
    with ctx.read():
        n, units, cells = ctx.one(
            f"SELECT count(*), COALESCE(SUM(quantity), 0), "
            f"count(DISTINCT resource_id || '/' || date) FROM resource_hold "
            f"WHERE status = 'ACTIVE' AND expires_at <= {ctx.now}"
        )
    return SweepResult(n, int(units), cells, 0, dry_run=True)
