"""Blackouts: periods when a resource cannot be booked."""

from __future__ import annotations

from datetime import date

from . import events, validate
from .context import Context, Where, as_date, as_time
from .errors import not_found
from .records import Blackout, BlackoutResult
from .rows import ALLOCATION_COLUMNS, HOLD_COLUMNS, allocation_from_row, hold_from_row

_COLUMNS = "id, resource_id, start_date, end_date, reason, created_at"


def _blackout(row: tuple) -> Blackout:
    return Blackout(row[0], row[1], as_date(row[2]), as_date(row[3]), row[4], as_time(row[5]))


def add_blackout(
    ctx: Context, resource_id: int, date_from: date | str, date_to: date | str | None, reason: str
) -> BlackoutResult:
    """Add a blackout. It succeeds even over existing bookings, and reports them: the ACTIVE
    holds and allocations inside it are for staff to move or cancel."""
    resource_id = validate.ident(resource_id, "resource")
    first, last = validate.date_range(date_from, date_to)
    reason = validate.required_text(reason, "reason")
    with ctx.write():
        if (
            ctx.one("SELECT 1 FROM resource WHERE id = ? AND deleted_at IS NULL", (resource_id,))
            is None
        ):
            raise not_found("resource", resource_id)
        # Holds take these cell locks too, so none can slip in unreported.
        ctx.lock_cells(resource_id, first, last)
        blackout = _blackout(
            ctx.one(
                f"INSERT INTO resource_blackout (resource_id, start_date, end_date, reason) "
                f"VALUES (?, ?, ?, ?) RETURNING {_COLUMNS}",
                (resource_id, first, last, reason),
            )
        )
        holds = tuple(
            hold_from_row(r)
            for r in ctx.all(
                f"SELECT {HOLD_COLUMNS} FROM resource_hold WHERE resource_id = ? AND status = "
                "'ACTIVE' AND date BETWEEN ? AND ? ORDER BY date, id",
                (resource_id, first, last),
            )
        )
        allocations = tuple(
            allocation_from_row(r)
            for r in ctx.all(
                f"SELECT {ALLOCATION_COLUMNS} FROM resource_allocation WHERE resource_id = ? "
                "AND date BETWEEN ? AND ? ORDER BY date, id",
                (resource_id, first, last),
            )
        )
        events.record(
            ctx,
            "blackout.add",
            "blackout",
            blackout.id,
            resource_id,
            first,
            last,
            details={
                "reason": reason,
                "active_holds": [h.id for h in holds],
                "allocations": [a.id for a in allocations],
            },
        )
    return BlackoutResult(blackout, holds, allocations)


def remove_blackout(ctx: Context, blackout_id: int) -> Blackout:
    blackout_id = validate.ident(blackout_id, "blackout")
    with ctx.write():
        row = ctx.one(
            f"DELETE FROM resource_blackout WHERE id = ? RETURNING {_COLUMNS}", (blackout_id,)
        )
        if row is None:
            raise not_found("blackout", blackout_id)
        blackout = _blackout(row)
        events.record(
            ctx,
            "blackout.remove",
            "blackout",
            blackout.id,
            blackout.resource_id,
            blackout.start_date,
            blackout.end_date,
            details={"reason": blackout.reason},
        )
    return blackout


def list_blackouts(
    ctx: Context,
    resource_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[Blackout]:
    """Blackouts overlapping the window (all when no window is given)."""
    resource_id = validate.optional_ident(resource_id, "resource")
    date_from = validate.optional_day(date_from, "start date")
    date_to = validate.optional_day(date_to, "end date")
    where = (
        Where()
        .add("resource_id = ?", resource_id)
        .add("end_date >= ?", date_from)
        .add("start_date <= ?", date_to)
    )
    with ctx.read():
        rows = ctx.all(
            f"SELECT {_COLUMNS} FROM resource_blackout WHERE {where.sql} ORDER BY start_date, id",
            where.params,
        )
    return [_blackout(r) for r in rows]
