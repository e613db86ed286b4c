"""A hold's life after creation: confirmed into an allocation, released, or extended.

Each transition is one UPDATE ``WHERE status = 'ACTIVE'`` (and unexpired where the rule
says so): when a sweep, a confirm and a release race for the same hold, exactly one
matches, and the others are refused with the reason read afterwards.
"""

from __future__ import annotations

from datetime import date

from . import events, validate
from .context import Context, as_date
from .errors import BookingError, not_found
from .records import Allocation, Hold
from .rows import ALLOCATION_COLUMNS, HOLD_COLUMNS, allocation_from_row, hold_from_row


def confirm_hold(ctx: Context, hold_id: int, order_id: str, line_item_id: str) -> Allocation:
    """ACTIVE and unexpired -> CONFIRMED, creating its allocation. Capacity is unchanged:
    the units move from held to allocated."""
    hold_id = validate.ident(hold_id, "hold")
    order_id = validate.required_text(order_id, "order id")
    line_item_id = validate.required_text(line_item_id, "line item id")
    with ctx.write():
        row = ctx.one(
            f"UPDATE resource_hold SET status = 'CONFIRMED' WHERE id = ? AND status = 'ACTIVE' "
            f"AND expires_at > {ctx.now} RETURNING resource_id, date, quantity, customer_email",
            (hold_id,),
        )
        if row is None:
            raise _transition_refusal(ctx, hold_id, "confirm")
        resource_id, day, quantity, email = row
        alloc = ctx.one(
            f"INSERT INTO resource_allocation (resource_id, date, quantity, order_id, "
            f"line_item_id, hold_id) VALUES (?, ?, ?, ?, ?, ?) RETURNING {ALLOCATION_COLUMNS}",
            (resource_id, day, quantity, order_id, line_item_id, hold_id),
        )
        allocation = allocation_from_row(alloc)
        events.record(
            ctx,
            "hold.confirm",
            "hold",
            hold_id,
            resource_id,
            as_date(day),
            None,
            email,
            {
                "allocation_id": allocation.id,
                "order_id": order_id,
                "line_item_id": line_item_id,
                "quantity": quantity,
            },
        )
    return allocation


def release_hold(ctx: Context, hold_id: int) -> Hold:
    """ACTIVE -> RELEASED, giving its units back."""
    hold_id = validate.ident(hold_id, "hold")
    with ctx.write():
        row = ctx.one(
            f"UPDATE resource_hold SET status = 'RELEASED' WHERE id = ? AND status = 'ACTIVE' "
            f"RETURNING {HOLD_COLUMNS}",
            (hold_id,),
        )
        if row is None:
            raise _transition_refusal(ctx, hold_id, "release")
        hold = hold_from_row(row)
        give_back(ctx, hold.resource_id, hold.date, hold.quantity)
        events.record(
            ctx,
            "hold.release",
            "hold",
            hold.id,
            hold.resource_id,
            hold.date,
            None,
            hold.customer_email,
            {"quantity": hold.quantity},
        )
    return hold


def extend_hold(ctx: Context, hold_id: int, minutes: int) -> Hold:
    """Push an ACTIVE, unexpired hold's expiry back by ``minutes``."""
    hold_id = validate.ident(hold_id, "hold")
    minutes = validate.minutes(minutes)
    with ctx.write():
        row = ctx.one(
            f"UPDATE resource_hold SET expires_at = {ctx.plus_minutes('expires_at')} "
            f"WHERE id = ? AND status = 'ACTIVE' AND expires_at > {ctx.now} "
            f"RETURNING {HOLD_COLUMNS}",
            (minutes, hold_id),
        )
        if row is None:
            raise _transition_refusal(ctx, hold_id, "extend")
        hold = hold_from_row(row)
        events.record(
            ctx,
            "hold.extend",
            "hold",
            hold.id,
            hold.resource_id,
            hold.date,
            None,
            hold.customer_email,
            {"minutes": minutes, "expires_at": hold.expires_at.isoformat()},
        )
    return hold


def give_back(ctx: Context, resource_id: int, day: date, quantity: int) -> None:
    ctx.execute(
        "UPDATE resource_capacity SET available_capacity = available_capacity + ? "
        "WHERE resource_id = ? AND date = ?",
        (quantity, resource_id, day),
    )


def _transition_refusal(ctx: Context, hold_id: int, verb: str) -> BookingError:
    row = ctx.one(
        f"SELECT status, expires_at <= {ctx.now} FROM resource_hold WHERE id = ?", (hold_id,)
    )
    if row is None:
        return not_found("hold", hold_id)
    status, expired = row
    if status == "ACTIVE" and expired:
        return BookingError("expired", f"hold {hold_id} has expired; it cannot be {_DONE[verb]}")
    return BookingError(
        "invalid_state", f"hold {hold_id} is {status}; only an ACTIVE hold can be {_DONE[verb]}"
    )


_DONE = {"confirm": "confirmed", "release": "released", "extend": "extended"}
