"""A bundle after it is made: read as a shop should see it, and its holds moved together:
extended (never past the longest hold life from creation), confirmed into one allocation
each, or released. Each move is one UPDATE ``WHERE bundle_id = ? AND status = 'ACTIVE'``
whose row count must be the whole bundle. (bundles.py makes bundles.)"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import peewee

from ..dialects.compiled import touched
from ..models import ALLOCATION_FIELDS, HOLD_FIELDS, Action, ResourceAllocation, ResourceCapacity
from ..models import ResourceHold as Row
from ..shop_models import HoldBundle
from . import validate
from .context import Context
from .errors import BookingError, naming, not_found
from .lifecycle import record_hold_event
from .records import Allocation, Bundle, Hold
from .rows import allocation_from_row, hold_from_row, moment


def cell_of(record: Hold | Allocation) -> tuple[int, date]:
    return (record.resource_id, record.date)


# ---- reading --------------------------------------------------------------------------------


def bundle_record(
    bundle_id: int,
    email: str,
    created_at: Any,
    holds: Sequence[Hold],
    status: str,
    allocations: Sequence[Allocation] = (),
) -> Bundle:
    return Bundle(
        id=bundle_id,
        email=email,
        status=status,
        expires_at=min(h.expires_at for h in holds),
        created_at=created_at,
        holds=tuple(holds),
        allocations=tuple(allocations),
    )


def _as_of(holds: Sequence[Hold], now: Any) -> list[Hold]:
    """The holds as a shop should read them: one past its expiry is EXPIRED, though its
    row says ACTIVE until the sweep (its units are no longer held for this request)."""
    return [
        replace(h, status="EXPIRED") if h.status == "ACTIVE" and h.expires_at <= now else h
        for h in holds
    ]


def _as_booked(holds: Sequence[Hold], allocations: Sequence[Allocation]) -> list[Hold]:
    """A confirmed hold whose booking was cancelled reads CANCELLED: the shop's order no
    longer has those units."""
    booked = {a.hold_id for a in allocations}
    return [replace(h, status=h.status_beside(booked)) for h in holds]


def _status(holds: Sequence[Hold]) -> str:
    statuses = {h.status for h in holds}
    return statuses.pop() if len(statuses) == 1 else "MIXED"


def get_bundle(ctx: Context, bundle_id: int) -> Bundle:
    bundle_id = validate.ident(bundle_id, "hold")
    with ctx.read():
        found = (
            HoldBundle.select(HoldBundle.customer_email, HoldBundle.created_at)
            .where(HoldBundle.id == bundle_id)
            .tuples()
            .first(ctx.db)
        )
        if found is None:
            raise not_found("hold", bundle_id)
        rows = (
            Row.select(*HOLD_FIELDS)
            .where(Row.bundle_id == bundle_id)
            .order_by(Row.resource, Row.date)
            .tuples()
            .execute(ctx.db)
        )
        holds = [hold_from_row(r) for r in rows]
        allocations = [
            allocation_from_row(r)
            for r in ResourceAllocation.select(*ALLOCATION_FIELDS)
            .where(ResourceAllocation.hold.in_([h.id for h in holds]))
            .order_by(ResourceAllocation.id)
            .tuples()
            .execute(ctx.db)
        ]
        now = moment(ctx.value(ctx.dialect.now()))
    holds = _as_booked(_as_of(holds, now), allocations)
    return bundle_record(bundle_id, found[0], moment(found[1]), holds, _status(holds), allocations)


# ---- moving together ------------------------------------------------------------------------


def _move(ctx: Context, bundle_id: int, **changes: Any) -> tuple[list[Hold], datetime]:
    """Make ``changes`` to this bundle's ACTIVE, unexpired holds; every hold of the bundle
    must move, or the caller's transaction is rolled back with the reason. The moved holds,
    and when the bundle was made (the answer's ``created_at``, as get_bundle reads it)."""
    query = Row.update(**touched(ctx.dialect, **changes)).where(_active(bundle_id, ctx))
    moved = [hold_from_row(r) for r in query.returning(*HOLD_FIELDS).tuples().execute(ctx.db)]
    found = (
        HoldBundle.select(HoldBundle.created_at, peewee.fn.COUNT(Row.id))
        .join(Row, peewee.JOIN.LEFT_OUTER, on=(Row.bundle_id == HoldBundle.id))
        .where(HoldBundle.id == bundle_id)
        .group_by(HoldBundle.id)
        .tuples()
        .first(ctx.db)
    )
    if found is None or not found[1]:
        raise not_found("hold", bundle_id)
    if len(moved) != found[1]:
        raise BookingError("hold_not_active", f"hold {bundle_id} is not active (expired or done)")
    return sorted(moved, key=cell_of), moment(found[0])


def _active(bundle_id: int, ctx: Context) -> peewee.ColumnBase:
    return (
        (Row.bundle_id == bundle_id)
        & (Row.status == "ACTIVE")
        & (Row.expires_at > ctx.dialect.now())
    )


def extend_bundle(ctx: Context, bundle_id: int, minutes: int, *, max_life: int) -> Bundle:
    bundle_id = validate.ident(bundle_id, "hold")
    with naming("minutes"):
        minutes = validate.minutes(minutes)
    new_expiry = ctx.dialect.plus_minutes(Row.expires_at, minutes)
    with ctx.write():
        holds, created_at = _move(ctx, bundle_id, expires_at=new_expiry)
        limit = max(h.created_at for h in holds) + timedelta(minutes=max_life)
        if max(h.expires_at for h in holds) > limit:
            raise BookingError(
                "hold_life_exceeded",
                f"hold {bundle_id} may live at most {max_life} minutes from creation "
                f"(until {limit:%Y-%m-%d %H:%M:%S} UTC); extending by {minutes} passes that",
            )
        for hold in holds:
            details = {"minutes": minutes, "expires_at": hold.expires_at.isoformat()}
            record_hold_event(ctx, Action.HOLD_EXTEND, hold, {**details, "bundle_id": bundle_id})
    return bundle_record(bundle_id, holds[0].customer_email, created_at, holds, "ACTIVE")


def confirm_bundle(
    ctx: Context, bundle_id: int, *, order_id: str, line_item_id: str | None
) -> Bundle:
    """Every hold ACTIVE and unexpired -> CONFIRMED, each with its allocation."""
    bundle_id = validate.ident(bundle_id, "hold")
    with naming("order_id"):
        order_id = validate.required_text(order_id, "order id")
    if line_item_id is not None:
        with naming("line_item_id"):
            line_item_id = validate.required_text(line_item_id, "line item id")
    with ctx.write():
        holds, created_at = _move(ctx, bundle_id, status="CONFIRMED")
        values = [
            {
                ResourceAllocation.resource: h.resource_id,
                ResourceAllocation.date: h.date,
                ResourceAllocation.quantity: h.quantity,
                ResourceAllocation.order_id: order_id,
                ResourceAllocation.line_item_id: line_item_id or f"hold-{h.id}",
                ResourceAllocation.hold: h.id,
            }
            for h in holds
        ]
        insert = ResourceAllocation.insert_many(values).returning(*ALLOCATION_FIELDS)
        made = sorted(
            (allocation_from_row(r) for r in insert.tuples().execute(ctx.db)), key=cell_of
        )
        for hold, allocation in zip(holds, made, strict=True):
            details = {
                "allocation_id": allocation.id,
                "order_id": order_id,
                "line_item_id": allocation.line_item_id,
                "quantity": hold.quantity,
                "bundle_id": bundle_id,
            }
            record_hold_event(ctx, Action.HOLD_CONFIRM, hold, details)
    return bundle_record(bundle_id, holds[0].customer_email, created_at, holds, "CONFIRMED", made)


def release_bundle(ctx: Context, bundle_id: int) -> Bundle:
    """Every ACTIVE hold -> RELEASED, its units given back. Releasing a bundle that holds
    and books nothing any more (released, expired, or its bookings cancelled) changes
    nothing and succeeds: shops retry their compensations. One with a booking left is
    refused: cancel its allocations instead."""
    bundle_id = validate.ident(bundle_id, "hold")
    with ctx.write():
        query = Row.update(**touched(ctx.dialect, status="RELEASED")).where(
            (Row.bundle_id == bundle_id) & (Row.status == "ACTIVE")
        )
        released = [
            hold_from_row(r) for r in query.returning(*HOLD_FIELDS).tuples().execute(ctx.db)
        ]
        for hold in sorted(released, key=cell_of):
            ResourceCapacity.give_back(hold.resource_id, hold.date, hold.quantity).execute(ctx.db)
            record_hold_event(
                ctx, Action.HOLD_RELEASE, hold, {"quantity": hold.quantity, "bundle_id": bundle_id}
            )
    bundle = get_bundle(ctx, bundle_id)
    if not released and any(h.status == "CONFIRMED" for h in bundle.holds):
        raise BookingError(
            "hold_not_active",
            f"hold {bundle_id} is confirmed; cancel its allocations to give the units back",
        )
    return bundle
