"""Allocations: confirmed bookings, linked to a shop order and line item."""

from __future__ import annotations

from datetime import date

from peewee import JOIN

from ..models import ALLOCATION_FIELDS, Action, ResourceCapacity, ResourceHold
from ..models import ResourceAllocation as Row
from . import events, search, validate
from .context import Context, where
from .errors import not_found
from .records import Allocation
from .rows import allocation_from_row


def cancel_allocation(ctx: Context, allocation_id: int) -> Allocation:
    """Remove a confirmed booking and give its units back; the event keeps its record."""
    allocation_id = validate.ident(allocation_id, "allocation")
    with ctx.write():
        deleted = Row.delete().where(Row.id == allocation_id).returning(*ALLOCATION_FIELDS)
        row = next(iter(deleted.tuples().execute(ctx.db)), None)
        if row is None:
            raise not_found("allocation", allocation_id)
        allocation = allocation_from_row(row)
        give_back = ResourceCapacity.give_back(
            allocation.resource_id, allocation.date, allocation.quantity
        )
        give_back.execute(ctx.db)
        email = None
        if allocation.hold_id is not None:
            email = (
                ResourceHold.select(ResourceHold.customer_email)
                .where(ResourceHold.id == allocation.hold_id)
                .scalar(ctx.db)
            )
        events.record(
            ctx,
            action=Action.ALLOCATION_CANCEL,
            entity="allocation",
            entity_id=allocation.id,
            resource_id=allocation.resource_id,
            date_from=allocation.date,
            email=email,
            details={
                "order_id": allocation.order_id,
                "line_item_id": allocation.line_item_id,
                "quantity": allocation.quantity,
                "hold_id": allocation.hold_id,
            },
        )
    return allocation


def list_allocations(
    ctx: Context,
    *,
    order_id: str | None = None,
    resource_id: int | None = None,
    email: str | None = None,
    limit: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    email_contains: str | None = None,
) -> list[Allocation]:
    """Allocations by date; ``email`` (the whole address) or ``email_contains`` (any part
    of it) finds those confirmed from that customer's holds."""
    order_id = validate.search(order_id, "order id")
    resource_id = validate.optional_ident(resource_id, "resource")
    email = validate.email_filter(email)
    email_contains = validate.email_filter(email_contains)
    limit = validate.limit(limit)
    date_from, date_to = validate.optional_window(date_from, date_to, end_field="to")
    hold = ResourceHold
    query = where(
        Row.select(*ALLOCATION_FIELDS).join(hold, JOIN.LEFT_OUTER, on=(hold.id == Row.hold)),
        (Row.date >= date_from) if date_from else None,
        (Row.date <= date_to) if date_to else None,
        (Row.order_id == order_id) if order_id else None,
        (Row.resource == resource_id) if resource_id is not None else None,
        (hold.customer_email == email) if email else None,
        search.matching(hold.customer_email, email_contains),
    ).order_by(Row.date, Row.id)
    if limit is not None:
        query = query.limit(limit)
    with ctx.read():
        return [allocation_from_row(r) for r in query.tuples().execute(ctx.db)]


def get_allocation(ctx: Context, allocation_id: int) -> Allocation:
    allocation_id = validate.ident(allocation_id, "allocation")
    with ctx.read():
        row = Row.select(*ALLOCATION_FIELDS).where(Row.id == allocation_id).tuples().first(ctx.db)
    if row is None:
        raise not_found("allocation", allocation_id)
    return allocation_from_row(row)
