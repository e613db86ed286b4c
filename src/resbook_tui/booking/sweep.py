"""The sweep: expire every ACTIVE hold past its expiry and give its units back.

Set-based, in batches: each batch is a few statements whatever its size, never one per
hold. It is safe against a second sweep, a confirm or a release of the same hold: each
of them flips the hold's status only ``WHERE status = 'ACTIVE'``, so exactly one wins,
and capacity rows are locked in (resource_id, date) order so concurrent sweeps cannot
deadlock.
"""

from __future__ import annotations

from . import events
from .context import Context
from .records import SweepResult

DEFAULT_BATCH = 5000

# PostgreSQL: one statement per batch. SKIP LOCKED leaves holds that a confirm or release
# is busy with to that transaction; the status re-check decides any remaining race.
_PG_BATCH = """
WITH due AS (
    SELECT id FROM resource_hold
    WHERE status = 'ACTIVE' AND expires_at <= now()
    ORDER BY id LIMIT %s
    FOR UPDATE SKIP LOCKED
), expired AS (
    UPDATE resource_hold h SET status = 'EXPIRED'
    FROM due WHERE h.id = due.id AND h.status = 'ACTIVE'
    RETURNING h.id, h.resource_id, h.date, h.quantity, h.customer_email, h.expires_at
), per_cell AS (
    SELECT resource_id, date, SUM(quantity) AS units FROM expired GROUP BY resource_id, date
), locked AS (
    SELECT c.id, p.units FROM resource_capacity c
    JOIN per_cell p ON p.resource_id = c.resource_id AND p.date = c.date
    ORDER BY c.resource_id, c.date
    FOR UPDATE OF c
), returned AS (
    UPDATE resource_capacity c SET available_capacity = c.available_capacity + locked.units
    FROM locked WHERE c.id = locked.id
    RETURNING c.resource_id, c.date
), logged AS (
    INSERT INTO booking_event (actor, action, entity, entity_id, resource_id, date_from,
                               date_to, customer_email, details)
    SELECT %s, 'hold.expire', 'hold', e.id, e.resource_id, e.date, e.date, e.customer_email,
           jsonb_build_object('quantity', e.quantity, 'expires_at', e.expires_at)
    FROM expired e
    RETURNING 1
)
SELECT (SELECT count(*) FROM expired), (SELECT COALESCE(SUM(units), 0) FROM per_cell),
       (SELECT COALESCE(array_agg(resource_id || '/' || date), '{}') FROM returned),
       (SELECT count(*) FROM logged),
       (SELECT COALESCE(array_agg(DISTINCT resource_id), '{}') FROM returned)
"""

# SQLite: BEGIN IMMEDIATE makes the sweep the only writer, so the batch can be staged in a
# temporary table and applied with three set-based statements.
_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
_SQLITE_STEPS = (
    "DELETE FROM temp.sweep_batch",
    f"INSERT INTO temp.sweep_batch (id, resource_id, date, quantity, customer_email, expires_at) "
    f"SELECT id, resource_id, date, quantity, customer_email, expires_at FROM resource_hold "
    f"WHERE status = 'ACTIVE' AND expires_at <= {_SQLITE_NOW} ORDER BY id LIMIT ?",
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


def sweep(ctx: Context, batch_size: int = DEFAULT_BATCH, dry_run: bool = False) -> SweepResult:
    if dry_run:
        return _preview(ctx)
    expired = units = batches = 0
    # Cells as "resource_id/date" keys: a cell given units back in several batches is
    # still one cell, as the dry run counts it.
    cells: set[str] = set()
    while True:
        n, u, c = _pg_batch(ctx, batch_size) if ctx.is_pg else _sqlite_batch(ctx, batch_size)
        if n == 0:
            break
        expired, units, batches = expired + n, units + u, batches + 1
        cells |= c
        if n < batch_size:
            break
    return SweepResult(expired, units, len(cells), batches)


def _pg_batch(ctx: Context, batch_size: int) -> tuple[int, int, set[str]]:
    with ctx.write():
        n, units, cells, _logged, resource_ids = ctx.db.execute_sql(
            _PG_BATCH, (batch_size, ctx.actor)
        ).fetchone()
        # One notification per batch, however many holds it expired.
        events.notify_batch(ctx, "hold.expire", n, resource_ids)
    return n, int(units), set(cells)


def _sqlite_batch(ctx: Context, batch_size: int) -> tuple[int, int, set[str]]:
    with ctx.write():
        ctx.execute(
            "CREATE TEMP TABLE IF NOT EXISTS sweep_batch (id INTEGER PRIMARY KEY, "
            "resource_id INTEGER, date TEXT, quantity INTEGER, customer_email TEXT, "
            "expires_at TEXT)"
        )
        clear, stage, expire, give_back, log = _SQLITE_STEPS
        ctx.execute(clear)
        n = ctx.execute(stage, (batch_size,)).rowcount
        if n == 0:
            return 0, 0, set()
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
        units = ctx.one("SELECT COALESCE(SUM(quantity), 0) FROM temp.sweep_batch")[0]
        ctx.execute(clear)
    return n, int(units), cells


def _preview(ctx: Context) -> SweepResult:
    with ctx.read():
        n, units, cells = ctx.one(
            f"SELECT count(*), COALESCE(SUM(quantity), 0), "
            f"count(DISTINCT resource_id || '/' || date) FROM resource_hold "
            f"WHERE status = 'ACTIVE' AND expires_at <= {ctx.now}"
        )
    return SweepResult(n, int(units), cells, 0, dry_run=True)
