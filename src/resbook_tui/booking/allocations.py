"""Allocations: confirmed bookings, linked to a shop order and line item."""

from __future__ import annotations

from datetime import date

from . import events, search, validate
from .context import Context, Where
from .errors import not_found
from .lifecycle import give_back
from .records import Allocation
from .rows import ALLOCATION_COLUMNS, allocation_from_row


def cancel_allocation(ctx: Context, allocation_id: int) -> Allocation:
    """Remove a confirmed booking and give its units back; the event keeps its record."""
    allocation_id = validate.ident(allocation_id, "allocation")
    with ctx.write():
        row = ctx.one(
            f"DELETE FROM resource_allocation WHERE id = ? RETURNING {ALLOCATION_COLUMNS}",
            (allocation_id,),
        )
        if row is None:
            raise not_found("allocation", allocation_id)
        allocation = allocation_from_row(row)
        give_back(ctx, allocation.resource_id, allocation.date, allocation.quantity)
        email = None
        if allocation.hold_id is not None:
            found = ctx.one(
                "SELECT customer_email FROM resource_hold WHERE id = ?", (allocation.hold_id,)
            )
            email = found[0] if found else None
        events.record(
            ctx,
            "allocation.cancel",
            "allocation",
            allocation.id,
            allocation.resource_id,
            allocation.date,
            None,
            email,
            {
                "order_id": allocation.order_id,
                "line_item_id": allocation.line_item_id,
                "quantity": allocation.quantity,
                "hold_id": allocation.hold_id,
            },
        )
    return allocation


def list_allocations(
    ctx: Context,
    order_id: str | None = None,
    resource_id: int | None = None,
    email: str | None = None,
    limit: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    email_contains: str | None = None,
) -> list[Allocation]:
    """Allocations by date; ``email`` (the whole address) or ``email_contains`` (any part
    of it) finds those confirmed from that customer's holds."""
    order_id = validate.search(order_id, "order id")
    resource_id = validate.optional_ident(resource_id, "resource")
    email = validate.email_filter(email)
    email_contains = validate.email_filter(email_contains)
    limit = validate.limit(limit)
    date_from = validate.optional_day(date_from, "start date")
    date_to = validate.optional_day(date_to, "end date")
    where = (
        Where()
        .add("a.date >= ?", date_from)
        .add("a.date <= ?", date_to)
        .add("a.order_id = ?", order_id)
        .add("a.resource_id = ?", resource_id)
        .add("h.customer_email = ?", email)
        .add(search.like("h.customer_email"), search.contains(email_contains))
    )
    columns = ", ".join(f"a.{c.strip()}" for c in ALLOCATION_COLUMNS.split(","))
    sql = (
        f"SELECT {columns} FROM resource_allocation a "
        f"LEFT JOIN resource_hold h ON h.id = a.hold_id WHERE {where.sql} "
        "ORDER BY a.date, a.id"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with ctx.read():
        return [allocation_from_row(r) for r in ctx.all(sql, where.params)]


def get_allocation(ctx: Context, allocation_id: int) -> Allocation:
    allocation_id = validate.ident(allocation_id, "allocation")
    with ctx.read():
        row = ctx.one(
            f"SELECT {ALLOCATION_COLUMNS} FROM resource_allocation WHERE id = ?", (allocation_id,)
        )
    if row is None:
        raise not_found("allocation", allocation_id)
    return allocation_from_row(row)
