"""A hold's life after creation: confirmed into an allocation, released, or extended.

Each transition is one UPDATE ``WHERE status = 'ACTIVE'`` (and unexpired where the rule
says so): when a sweep, a confirm and a release race for the same hold, exactly one
matches, and the others are refused with the reason read afterwards.
"""

from __future__ import annotations

from typing import Any

import peewee

from ..models import ALLOCATION_FIELDS, HOLD_FIELDS, Action, ResourceAllocation, ResourceCapacity
from ..models import ResourceHold as Row
from . import events, validate
from .context import Context
from .errors import BookingError, not_found
from .records import Allocation, Hold
from .rows import allocation_from_row, hold_from_row


def _transition(ctx: Context, hold_id: int, verb: str, *, unexpired: bool, **changes: Any) -> Hold:
    """Move an ACTIVE hold (an unexpired one, if asked) as ``changes`` say, or refuse."""
    rule = (Row.id == hold_id) & (Row.status == "ACTIVE")
    if unexpired:
        rule &= Row.expires_at > ctx.dialect.now()
    query = Row.update(**changes).where(rule).returning(*HOLD_FIELDS).tuples()
    row = next(iter(query.execute(ctx.db)), None)
    if row is None:
        raise _transition_refusal(ctx, hold_id, verb)
    return hold_from_row(row)


def confirm_hold(ctx: Context, hold_id: int, *, order_id: str, line_item_id: str) -> Allocation:
    """ACTIVE and unexpired -> CONFIRMED, creating its allocation. Capacity is unchanged:
    the units move from held to allocated."""
    hold_id = validate.ident(hold_id, "hold")
    order_id = validate.required_text(order_id, "order id")
    line_item_id = validate.required_text(line_item_id, "line item id")
    with ctx.write():
        hold = _transition(ctx, hold_id, "confirm", unexpired=True, status="CONFIRMED")
        inserted = ResourceAllocation.insert(
            {
                ResourceAllocation.resource: hold.resource_id,
                ResourceAllocation.date: hold.date,
                ResourceAllocation.quantity: hold.quantity,
                ResourceAllocation.order_id: order_id,
                ResourceAllocation.line_item_id: line_item_id,
                ResourceAllocation.hold: hold_id,
            }
        ).returning(*ALLOCATION_FIELDS)
        allocation = allocation_from_row(inserted.tuples().execute(ctx.db)[0])
        events.record(
            ctx,
            action=Action.HOLD_CONFIRM,
            entity="hold",
            entity_id=hold_id,
            resource_id=hold.resource_id,
            date_from=hold.date,
            email=hold.customer_email,
            details={
                "allocation_id": allocation.id,
                "order_id": order_id,
                "line_item_id": line_item_id,
                "quantity": hold.quantity,
            },
        )
    return allocation


def release_hold(ctx: Context, hold_id: int) -> Hold:
    """ACTIVE -> RELEASED, giving its units back."""
    hold_id = validate.ident(hold_id, "hold")
    with ctx.write():
        hold = _transition(ctx, hold_id, "release", unexpired=False, status="RELEASED")
        ResourceCapacity.give_back(hold.resource_id, hold.date, hold.quantity).execute(ctx.db)
        events.record(
            ctx,
            action=Action.HOLD_RELEASE,
            entity="hold",
            entity_id=hold.id,
            resource_id=hold.resource_id,
            date_from=hold.date,
            email=hold.customer_email,
            details={"quantity": hold.quantity},
        )
    return hold


def extend_hold(ctx: Context, hold_id: int, minutes: int) -> Hold:
    """Push an ACTIVE, unexpired hold's expiry back by ``minutes``."""
    hold_id = validate.ident(hold_id, "hold")
    minutes = validate.minutes(minutes)
    later = ctx.dialect.plus_minutes(Row.expires_at, minutes)
    with ctx.write():
        hold = _transition(ctx, hold_id, "extend", unexpired=True, expires_at=later)
        events.record(
            ctx,
            action=Action.HOLD_EXTEND,
            entity="hold",
            entity_id=hold.id,
            resource_id=hold.resource_id,
            date_from=hold.date,
            email=hold.customer_email,
            details={"minutes": minutes, "expires_at": hold.expires_at.isoformat()},
        )
    return hold


def _transition_refusal(ctx: Context, hold_id: int, verb: str) -> BookingError:
    expired: peewee.Node = Row.expires_at <= ctx.dialect.now()
    row = Row.select(Row.status, expired).where(Row.id == hold_id).tuples().first(ctx.db)
    if row is None:
        return not_found("hold", hold_id)
    status, is_expired = row
    if status == "ACTIVE" and is_expired:
        return BookingError("expired", f"hold {hold_id} has expired; it cannot be {_DONE[verb]}")
    return BookingError(
        "invalid_state", f"hold {hold_id} is {status}; only an ACTIVE hold can be {_DONE[verb]}"
    )


_DONE = {"confirm": "confirmed", "release": "released", "extend": "extended"}
