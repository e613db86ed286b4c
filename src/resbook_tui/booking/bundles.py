"""Bundles: the shop's hold requests, every line of every date held all or none.

A bundle is what ``POST /v1/holds`` makes: lines of (resource, first date, last date,
quantity) for one customer. The demand of every line on one (resource, date) is summed
before anything is checked (two lines on one tour date must not each pass alone), and
the whole request is one transaction that takes the cells in the one global lock order,
(resource_id, date), with the conditional UPDATE of ``ResourceCapacity.take``: its row
count is the refusal, so nothing is read before it is written. Every cell is tried, so a
refusal names every cell that fell short; then the transaction rolls back whole.

Afterwards the bundle's holds move together: extended (never past the longest hold life
from creation), confirmed into one allocation each, or released. Each move is one UPDATE
``WHERE bundle_id = ? AND status = 'ACTIVE'`` whose row count must be the whole bundle.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import peewee

from ..dialects.base import hold_created
from ..dialects.compiled import Clock, Compiled, SlotMaker, touched
from ..models import (
    ALLOCATION_FIELDS,
    HOLD_FIELDS,
    Action,
    Resource,
    ResourceAllocation,
    ResourceBlackout,
    ResourceCapacity,
    ResourceHold,
)
from ..shop_models import HoldBundle
from . import validate
from .context import Context
from .errors import BookingError, CapacityRefused, invalid, naming, not_found
from .lifecycle import record_hold_event
from .records import Allocation, Bundle, Hold, Shortfall
from .rows import allocation_from_row, day, hold_from_row, moment

MAX_LINES = 100
MAX_CELLS = 1_000  # (resource, date) cells one request may take
Row = ResourceHold
Cells = dict[tuple[int, date], int]
Lines = Sequence[Mapping[str, Any]]  # as a shop sends them: resource_id, date, to, quantity


def demand(lines: Lines) -> Cells:
    """Units asked of each (resource, date), every line of every date summed."""
    if isinstance(lines, str | bytes) or not isinstance(lines, Sequence) or not lines:
        raise invalid("lines must be a list of at least one line", field="lines")
    if len(lines) > MAX_LINES:
        raise invalid(f"a hold request may have at most {MAX_LINES} lines", field="lines")
    cells: Cells = {}
    for i, line in enumerate(lines):
        at = f"lines[{i}]"
        if not isinstance(line, Mapping):
            raise invalid(
                "each line must be an object with resource_id, date and quantity", field=at
            )
        with naming(f"{at}.resource_id"):
            rid = validate.ident(line.get("resource_id"), "resource")
        with naming(f"{at}.date"):
            first, last = validate.date_range(
                line.get("date"), line.get("to"), end_field=f"{at}.to"
            )
        with naming(f"{at}.quantity"):
            quantity = validate.quantity(line.get("quantity"))
        for n in range((last - first).days + 1):
            key = (rid, first + timedelta(n))
            cells[key] = cells.get(key, 0) + quantity
            if cells[key] > validate.INT32_MAX:
                message = f"quantity on resource {rid} on {key[1]} is too large"
                raise invalid(message, field=f"{at}.quantity")
        if len(cells) > MAX_CELLS:
            message = f"a hold request may cover at most {MAX_CELLS} resource-dates"
            raise invalid(message, field="lines")
    return cells


def create_bundle(
    ctx: Context,
    lines: Lines,
    email: str,
    *,
    ttl_minutes: int | None,
    max_life: int,
    api_key_id: int | None = None,
) -> Bundle:
    cells = demand(lines)
    with naming("email"):
        email = validate.email(email)
    with naming("ttl_minutes"):
        # Without one, the default TTL, but never past the longest life: a request that
        # set no TTL must not be refused for one it did not send.
        asked = min(ctx.default_ttl_minutes, max_life) if ttl_minutes is None else ttl_minutes
        ttl = validate.minutes(asked, "TTL")
        if ttl > max_life:
            raise invalid(f"ttl_minutes may be at most {max_life} (the longest a hold may live)")
    d = ctx.dialect
    with ctx.write():
        bundle = _INSERT_BUNDLE.run(ctx.db, d, {"e": email, "k": api_key_id}).fetchone()
        refused = [
            (rid, day_, q)
            for (rid, day_), q in sorted(cells.items())
            if d.take_units.run(ctx.db, d, {"r": rid, "d": day_, "q": q}).rowcount != 1
        ]
        if refused:
            raise _refusal(ctx, refused, lines)  # still locked: the reason read now is the one
        values: dict[str, Any] = {"e": email, "ttl": ttl, "b": bundle[0]}
        for n, ((rid, day_), q) in enumerate(sorted(cells.items())):
            values.update({f"r{n}": rid, f"d{n}": day_, f"q{n}": q, f"k{n}": uuid.uuid4().hex})
        inserted = _insert_holds(len(cells)).run(ctx.db, d, values).fetchall()
        made = sorted(((r, hold_from_row(r)) for r in inserted), key=lambda p: _cell(p[1]))
        for row, hold in made:
            details = {**hold_created(row, ttl), "bundle_id": bundle[0]}
            record_hold_event(ctx, Action.HOLD_CREATE, hold, details)
    holds = [hold for _, hold in made]
    return _bundle(bundle[0], email, moment(bundle[1]), holds, "ACTIVE")


# Rendered once (dialects/compiled.py): building them took more of a hold's CPU than
# PostgreSQL spends running them, and a shop's holds are the hot path.
_INSERT_BUNDLE = Compiled(
    lambda p, d: HoldBundle.insert(
        {HoldBundle.customer_email: p("e"), HoldBundle.api_key: p("k")}
    ).returning(HoldBundle.id, HoldBundle.created_at)
)
_RENDERED_ROWS = 8  # hold inserts of up to this many rows are kept rendered


def _hold_rows(p: SlotMaker, d: Clock, n: int) -> peewee.Query:
    """The INSERT of a bundle's ``n`` holds: row i takes slots r{i}, d{i}, q{i}, k{i}."""
    rows = [
        {
            Row.resource: p(f"r{i}"),
            Row.date: p(f"d{i}"),
            Row.quantity: p(f"q{i}"),
            Row.customer_email: p("e"),
            Row.idempotency_token: p(f"k{i}"),
            Row.status: "ACTIVE",
            Row.expires_at: d.plus_minutes(d.now(), p("ttl")),
            Row.bundle_id: p("b"),
        }
        for i in range(n)
    ]
    return Row.insert_many(rows).returning(*HOLD_FIELDS)


def _holds_insert(n: int) -> Compiled:
    return Compiled(lambda p, d: _hold_rows(p, d, n))


_HOLD_INSERTS = {n: _holds_insert(n) for n in range(1, _RENDERED_ROWS + 1)}


def _insert_holds(n: int) -> Compiled:
    return _HOLD_INSERTS.get(n) or _holds_insert(n)


def _cell(record: Hold | Allocation) -> tuple[int, date]:
    return (record.resource_id, record.date)


def _asking(lines: Lines, on: date) -> str:
    """The field of the first line that asked for ``on`` (lines that passed ``demand``)."""
    for i, line in enumerate(lines):
        first, last = validate.date_range(line.get("date"), line.get("to"))
        if first <= on <= last:
            return f"lines[{i}].date"
    return "lines"


def _refusal(ctx: Context, refused: list[tuple[int, date, int]], lines: Lines) -> BookingError:
    """Why the cells in ``refused`` were refused: the gravest reason first (an unknown
    resource, a past date, an inactive resource, a blackout), else every shortfall."""
    rids = sorted({rid for rid, _, _ in refused})
    found = dict(
        Resource.select(Resource.id, Resource.is_active)
        .where(Resource.id.in_(rids) & Resource.live())
        .tuples()
        .execute(ctx.db)
    )
    for rid in rids:
        if rid not in found:
            return not_found("resource", rid)
    today = day(ctx.value(ctx.dialect.today()))
    past = sorted({d for _, d, _ in refused if d < today})
    if past:
        message = f"{past[0]} is in the past (today is {today})"
        return invalid(message, field=_asking(lines, past[0]))
    for rid in rids:
        if not found[rid]:
            return BookingError("inactive_resource", f"resource {rid} is inactive")
    for rid, d, _ in refused:
        reason = (
            ResourceBlackout.select(ResourceBlackout.reason)
            .where(ResourceBlackout.covering(rid, d))
            .scalar(ctx.db)
        )
        if reason is not None:
            return BookingError("blacked_out", f"resource {rid} is blacked out on {d}: {reason}")
    cell = ResourceCapacity
    shortfalls = []
    for rid, d, q in refused:
        available = (
            cell.select(cell.available_capacity)
            .where((cell.resource == rid) & (cell.date == d))
            .scalar(ctx.db)
        )
        shortfalls.append(Shortfall(rid, d, q, int(available or 0)))
    said = "; ".join(
        f"resource {s.resource_id} on {s.date}: {s.requested} requested, {s.available} available"
        for s in shortfalls[:5]
    )
    more = f" and {len(shortfalls) - 5} more" if len(shortfalls) > 5 else ""
    return CapacityRefused(f"not enough capacity: {said}{more}", tuple(shortfalls))


# ---- reading --------------------------------------------------------------------------------


def _bundle(
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
    holds = _as_of(holds, now)
    return _bundle(bundle_id, found[0], moment(found[1]), holds, _status(holds), allocations)


# ---- moving together ------------------------------------------------------------------------


def _move(ctx: Context, bundle_id: int, **changes: Any) -> list[Hold]:
    """Make ``changes`` to this bundle's ACTIVE, unexpired holds; every hold of the bundle
    must move, or the caller's transaction is rolled back with the reason."""
    query = Row.update(**touched(ctx.dialect, **changes)).where(_active(bundle_id, ctx))
    moved = [hold_from_row(r) for r in query.returning(*HOLD_FIELDS).tuples().execute(ctx.db)]
    total = Row.select(peewee.fn.COUNT(Row.id)).where(Row.bundle_id == bundle_id).scalar(ctx.db)
    if not total:
        raise not_found("hold", bundle_id)
    if len(moved) != total:
        raise BookingError("hold_not_active", f"hold {bundle_id} is not active (expired or done)")
    return sorted(moved, key=_cell)


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
        holds = _move(ctx, bundle_id, expires_at=new_expiry)
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
    return _bundle(bundle_id, holds[0].customer_email, holds[0].created_at, holds, "ACTIVE")


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
        holds = _move(ctx, bundle_id, status="CONFIRMED")
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
        made = sorted((allocation_from_row(r) for r in insert.tuples().execute(ctx.db)), key=_cell)
        for hold, allocation in zip(holds, made, strict=True):
            details = {
                "allocation_id": allocation.id,
                "order_id": order_id,
                "line_item_id": allocation.line_item_id,
                "quantity": hold.quantity,
                "bundle_id": bundle_id,
            }
            record_hold_event(ctx, Action.HOLD_CONFIRM, hold, details)
    first = holds[0]
    return _bundle(bundle_id, first.customer_email, first.created_at, holds, "CONFIRMED", made)


def release_bundle(ctx: Context, bundle_id: int) -> Bundle:
    """Every ACTIVE hold -> RELEASED, its units given back. Releasing a bundle that holds
    nothing any more (released or expired) changes nothing and succeeds: shops retry their
    compensations. A confirmed one is refused: cancel its allocations instead."""
    bundle_id = validate.ident(bundle_id, "hold")
    with ctx.write():
        query = Row.update(**touched(ctx.dialect, status="RELEASED")).where(
            (Row.bundle_id == bundle_id) & (Row.status == "ACTIVE")
        )
        released = [
            hold_from_row(r) for r in query.returning(*HOLD_FIELDS).tuples().execute(ctx.db)
        ]
        for hold in sorted(released, key=_cell):
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
