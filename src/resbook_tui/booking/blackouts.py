"""Blackouts: periods when a resource cannot be booked."""

from __future__ import annotations

from datetime import date

from ..models import (
    ALLOCATION_FIELDS,
    BLACKOUT_FIELDS,
    HOLD_FIELDS,
    Action,
    Resource,
    ResourceAllocation,
    ResourceHold,
)
from ..models import ResourceBlackout as Row
from . import events, validate
from .context import Context, where
from .errors import not_found
from .records import Blackout, BlackoutResult
from .rows import allocation_from_row, blackout_from_row, hold_from_row


def add_blackout(
    ctx: Context, resource_id: int, date_from: date | str, date_to: date | str | None, reason: str
) -> BlackoutResult:
    """Add a blackout. It succeeds even over existing bookings, and reports them: the ACTIVE
    holds and allocations inside it are for staff to move or cancel."""
    resource_id = validate.ident(resource_id, "resource")
    first, last = validate.date_range(date_from, date_to)
    reason = validate.required_text(reason, "reason")
    with ctx.write():
        live = (Resource.id == resource_id) & Resource.live()
        if not Resource.select().where(live).exists(ctx.db):
            raise not_found("resource", resource_id)
        # Holds take these cell locks too, so none can slip in unreported.
        ctx.lock_cells(resource_id, first, last)
        inserted = Row.insert(
            {
                Row.resource: resource_id,
                Row.start_date: first,
                Row.end_date: last,
                Row.reason: reason,
            }
        ).returning(*BLACKOUT_FIELDS)
        blackout = blackout_from_row(inserted.tuples().execute(ctx.db)[0])
        hold, allocation = ResourceHold, ResourceAllocation
        holds = tuple(
            hold_from_row(r)
            for r in hold.select(*HOLD_FIELDS)
            .where(
                (hold.resource == resource_id)
                & (hold.status == "ACTIVE")
                & hold.date.between(first, last)
            )
            .order_by(hold.date, hold.id)
            .tuples()
            .execute(ctx.db)
        )
        allocations = tuple(
            allocation_from_row(r)
            for r in allocation.select(*ALLOCATION_FIELDS)
            .where((allocation.resource == resource_id) & allocation.date.between(first, last))
            .order_by(allocation.date, allocation.id)
            .tuples()
            .execute(ctx.db)
        )
        events.record(
            ctx,
            action=Action.BLACKOUT_ADD,
            entity="blackout",
            entity_id=blackout.id,
            resource_id=resource_id,
            date_from=first,
            date_to=last,
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
        deleted = Row.delete().where(Row.id == blackout_id).returning(*BLACKOUT_FIELDS)
        row = next(iter(deleted.tuples().execute(ctx.db)), None)
        if row is None:
            raise not_found("blackout", blackout_id)
        blackout = blackout_from_row(row)
        events.record(
            ctx,
            action=Action.BLACKOUT_REMOVE,
            entity="blackout",
            entity_id=blackout.id,
            resource_id=blackout.resource_id,
            date_from=blackout.start_date,
            date_to=blackout.end_date,
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
    date_from, date_to = validate.optional_window(date_from, date_to, end_field="to")
    query = where(
        Row.select(*BLACKOUT_FIELDS),
        (Row.resource == resource_id) if resource_id is not None else None,
        (Row.end_date >= date_from) if date_from else None,
        (Row.start_date <= date_to) if date_to else None,
    ).order_by(Row.start_date, Row.id)
    with ctx.read():
        return [blackout_from_row(r) for r in query.tuples().execute(ctx.db)]
