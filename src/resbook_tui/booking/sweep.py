"""The sweep: expire every ACTIVE hold past its expiry and give its units back (and remove
the HTTP API's idempotency records past their 24 hours).

Set-based, in batches: each batch is a few statements whatever its size, never one per
hold (the dialect's ``sweep_batch``). It is safe against a second sweep, a confirm or a
release of the same hold: each of them flips the hold's status only ``WHERE status =
'ACTIVE'``, so exactly one wins. On PostgreSQL the sweep never waits for a lock: holds and
capacity cells that another transaction has locked are skipped (``SKIP LOCKED``) and left
for the next run, so a stuck session cannot make cron runs pile up. Batches walk the due
holds by id, so each is looked at once per run.
"""

from __future__ import annotations

from peewee import SQL, fn

from ..models import ResourceHold
from . import idempotency, validate
from .context import Context
from .records import SweepResult

DEFAULT_BATCH = 5000


def sweep(ctx: Context, batch_size: int = DEFAULT_BATCH, *, dry_run: bool = False) -> SweepResult:
    batch_size = validate.batch_size(batch_size)
    if dry_run:
        return _preview(ctx)
    expired = units = batches = skipped = 0
    # Cells as "resource_id/date" keys: a cell given units back in several batches is
    # still one cell, as the dry run counts it.
    cells: set[str] = set()
    after = 0
    while True:
        with ctx.write():
            batch = ctx.dialect.sweep_batch(ctx.db, actor=ctx.actor, size=batch_size, after=after)
        if batch.expired:
            expired, units, batches = expired + batch.expired, units + batch.units, batches + 1
            cells |= batch.cells
        skipped += batch.picked - batch.expired
        if batch.picked < batch_size:
            break
        after = batch.last_id
    removed = idempotency.remove_old(ctx)
    return SweepResult(
        expired, units, len(cells), batches, skipped=skipped, idempotency_keys_removed=removed
    )


def _preview(ctx: Context) -> SweepResult:
    hold = ResourceHold
    due = (hold.status == "ACTIVE") & (hold.expires_at <= ctx.dialect.now())
    query = hold.select(
        fn.COUNT(SQL("*")),
        fn.COALESCE(fn.SUM(hold.quantity), 0),
        fn.COUNT(fn.DISTINCT(hold.resource.concat("/").concat(hold.date))),  # cells
    ).where(due)
    with ctx.read():
        n, units, cells = query.tuples().execute(ctx.db)[0]
    return SweepResult(n, int(units), cells, 0, dry_run=True)
