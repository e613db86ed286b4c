"""A hold's life after creation: confirmed into an allocation, released, or extended.

Each transition is one UPDATE ``WHERE status = 'ACTIVE'`` (and unexpired where the rule
says so): when a sweep, a confirm and a release race for the same hold, exactly one
matches, and the others are refused with the reason read afterwards.

They are the shop's path after a hold, so their statements are built once and run with
fresh values (``dialects/compiled.py``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import peewee

from ..dialects.compiled import Clock, Compiled, SlotMaker, touched
from ..models import ALLOCATION_FIELDS, HOLD_FIELDS, Action, ResourceAllocation, ResourceCapacity
from ..models import ResourceHold as Row
from . import events, validate
from .context import Context
from .errors import BookingError, not_found
from .records import Allocation, Hold
from .rows import allocation_from_row, hold_from_row


def _active(p: SlotMaker, dialect: Clock, *, unexpired: bool) -> peewee.ColumnBase:
    """The hold ``p("hold")`` while it is ACTIVE (and, if asked, unexpired)."""
    rule = (Row.id == p("hold")) & (Row.status == "ACTIVE")
    return rule & (Row.expires_at > dialect.now()) if unexpired else rule


_TRANSITIONS = {
    "confirm": Compiled(
        lambda p, d: (
            Row.update(**touched(d, status="CONFIRMED"))
            .where(_active(p, d, unexpired=True))
            .returning(*HOLD_FIELDS)
        )
    ),
    "release": Compiled(
        lambda p, d: (
            Row.update(**touched(d, status="RELEASED"))
            .where(_active(p, d, unexpired=False))
            .returning(*HOLD_FIELDS)
        )
    ),
    "extend": Compiled(
        lambda p, d: (
            Row.update(**touched(d, expires_at=d.plus_minutes(Row.expires_at, p("minutes"))))
            .where(_active(p, d, unexpired=True))
            .returning(*HOLD_FIELDS)
        )
    ),
}
_ALLOCATE = Compiled(
    lambda p, d: ResourceAllocation.insert(
        {f: p(f.name) for f in ALLOCATION_FIELDS if f.name not in ("id", "created_at")}
    ).returning(*ALLOCATION_FIELDS)
)
_GIVE_BACK = Compiled(lambda p, d: ResourceCapacity.give_back(p("r"), p("d"), p("q")))


def _transition(ctx: Context, hold_id: int, verb: str, **values: Any) -> Hold:
    """Move an ACTIVE hold as the ``verb`` says, or refuse with the reason."""
    row = _TRANSITIONS[verb].run(ctx.db, ctx.dialect, {"hold": hold_id, **values}).fetchone()
    if row is None:
        raise _transition_refusal(ctx, hold_id, verb)
    return hold_from_row(row)


def _give_back(ctx: Context, resource_id: int, day: date, quantity: int) -> None:
    _GIVE_BACK.run(ctx.db, ctx.dialect, {"r": resource_id, "d": day, "q": quantity})


def confirm_hold(ctx: Context, hold_id: int, *, order_id: str, line_item_id: str) -> Allocation:
    """ACTIVE and unexpired -> CONFIRMED, creating its allocation. Capacity is unchanged:
    the units move from held to allocated."""
    hold_id = validate.ident(hold_id, "hold")
    order_id = validate.required_text(order_id, "order id")
    line_item_id = validate.required_text(line_item_id, "line item id")
    with ctx.write():
        hold = _transition(ctx, hold_id, "confirm")
        values = {
            "resource": hold.resource_id,
            "date": hold.date,
            "quantity": hold.quantity,
            "order_id": order_id,
            "line_item_id": line_item_id,
            "hold": hold_id,
        }
        allocation = allocation_from_row(_ALLOCATE.run(ctx.db, ctx.dialect, values).fetchone())
        record_hold_event(
            ctx,
            Action.HOLD_CONFIRM,
            hold,
            {
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
        hold = _transition(ctx, hold_id, "release")
        _give_back(ctx, hold.resource_id, hold.date, hold.quantity)
        record_hold_event(ctx, Action.HOLD_RELEASE, hold, {"quantity": hold.quantity})
    return hold


def extend_hold(ctx: Context, hold_id: int, minutes: int) -> Hold:
    """Push an ACTIVE, unexpired hold's expiry back by ``minutes``."""
    hold_id = validate.ident(hold_id, "hold")
    minutes = validate.minutes(minutes)
    with ctx.write():
        hold = _transition(ctx, hold_id, "extend", minutes=minutes)
        details = {"minutes": minutes, "expires_at": hold.expires_at.isoformat()}
        record_hold_event(ctx, Action.HOLD_EXTEND, hold, details)
    return hold


def record_hold_event(ctx: Context, action: Action, hold: Hold, details: dict[str, Any]) -> None:
    """The event of a hold's transition, about the hold, its cell and its customer."""
    events.record(
        ctx,
        action=action,
        entity="hold",
        entity_id=hold.id,
        resource_id=hold.resource_id,
        date_from=hold.date,
        email=hold.customer_email,
        details=details,
    )


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
