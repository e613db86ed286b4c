"""Capacity: what each resource can take on each date, and where those units are now."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import peewee
from peewee import JOIN, fn

from ..models import (
    Action,
    Resource,
    ResourceAllocation,
    ResourceBlackout,
    ResourceHold,
)
from ..models import ResourceCapacity as Cells
from . import events, validate
from .context import Context, where
from .errors import BookingError, invalid, not_found
from .records import CapacityChange, Cell
from .rows import day as as_day


def set_capacity(
    ctx: Context,
    resource_id: int,
    date_from: date | str,
    date_to: date | str | None,
    max_capacity: int,
) -> CapacityChange:
    """Set max capacity on every date of the range, moving available by the difference.

    Refused (all dates, nothing changed) where it would drop below what is already held
    plus allocated, i.e. where available would go negative. Dates without a capacity row
    get one.
    """
    resource_id = validate.ident(resource_id, "resource")
    first, last = validate.date_range(date_from, date_to)
    new_max = validate.capacity(max_capacity)
    with ctx.write():
        live = (Resource.id == resource_id) & Resource.live()
        if not Resource.select().where(live).exists(ctx.db):
            raise not_found("resource", resource_id)
        # Missing dates first: a concurrent call creating the same date waits here for us
        # to commit and then finds the row below, instead of inserting nothing after its
        # UPDATE already missed the row (and reporting a change that never landed).
        created = _create_missing_cells(ctx, resource_id, first, last, new_max)
        ctx.lock_cells(resource_id, first, last)
        # The rows just created already hold new_max; the UPDATE leaves them as they are.
        moved = Cells.available_capacity + (new_max - Cells.max_capacity)
        in_range = (Cells.resource == resource_id) & Cells.date.between(first, last)
        resized = Cells.update(available_capacity=moved, max_capacity=new_max).where(
            in_range & (moved >= 0)
        )
        updated = resized.execute(ctx.db) - created
        short = (
            Cells.select(Cells.date, Cells.max_capacity - Cells.available_capacity)
            .where(in_range & (Cells.max_capacity != new_max))
            .order_by(Cells.date)
            .tuples()
            .first(ctx.db)
        )
        if short is not None:
            raise BookingError(
                "no_capacity",
                f"cannot set max {new_max} on {as_day(short[0])}: {short[1]} unit(s) are "
                "already held or allocated there",
            )
        events.record(
            ctx,
            action=Action.CAPACITY_SET,
            entity="capacity",
            entity_id=None,
            resource_id=resource_id,
            date_from=first,
            date_to=last,
            details={"max_capacity": new_max, "updated": updated, "created": created},
        )
    return CapacityChange(resource_id, first, last, new_max, updated, created)


def set_capacities(
    ctx: Context,
    resource_ids: Sequence[int],
    date_from: date | str,
    date_to: date | str | None,
    max_capacity: int,
) -> list[CapacityChange]:
    """``set_capacity`` for several resources in one transaction: all of them or none.

    Resources are taken in id order, so their cells are locked in the one global
    (resource_id, date) order and two such calls cannot deadlock."""
    ids = validate.idents(resource_ids, "resource")
    if not ids:
        raise invalid("no resources given")
    with ctx.write():
        return [
            set_capacity(ctx, rid, date_from, date_to, max_capacity) for rid in sorted(set(ids))
        ]


def _create_missing_cells(
    ctx: Context, resource_id: int, first: date, last: date, new_max: int
) -> int:
    days = [first + timedelta(n) for n in range((last - first).days + 1)]
    rows = [
        {
            Cells.resource: resource_id,
            Cells.date: day,
            Cells.max_capacity: new_max,
            Cells.available_capacity: new_max,
        }
        for day in days
    ]
    insert = Cells.insert_many(rows).on_conflict(
        conflict_target=[Cells.resource, Cells.date], action="NOTHING"
    )
    return int(insert.as_rowcount().execute(ctx.db))


def availability(
    ctx: Context,
    date_from: date | str,
    date_to: date | str,
    resource_id: int | None = None,
    resource_type: str | None = None,
    resource_ids: Sequence[int] | None = None,
) -> list[Cell]:
    """Every capacity cell in the window: max, available, held (ACTIVE), allocated, blackout.

    One query for the whole window, whatever its size (the heatmap asks per visible page).
    """
    first, last = validate.date_range(date_from, date_to, end_field="to")
    resource_id = validate.optional_ident(resource_id, "resource")
    ids = validate.idents(resource_ids, "resource")
    kind = validate.resource_type(resource_type) if resource_type else None
    if ids is not None and not ids:
        return []
    hold, alloc, black = ResourceHold, ResourceAllocation, ResourceBlackout

    def shown(column: peewee.Field) -> list[peewee.ColumnBase | None]:
        """The resource filters, applied inside each grouped subquery too: the heatmap's
        window sums the cells it shows, not every resource's in the date range."""
        of_kind = Resource.select(Resource.id).where(Resource.type == kind)
        return [
            (column == resource_id) if resource_id is not None else None,
            column.in_(ids) if ids is not None else None,
            column.in_(of_kind) if kind else None,
        ]

    held = (
        where(
            hold.select(hold.resource, hold.date, fn.SUM(hold.quantity).alias("units")),
            hold.status == "ACTIVE",
            hold.date.between(first, last),
            *shown(hold.resource),
        )
        .group_by(hold.resource, hold.date)
        .alias("h")
    )
    allocated = (
        where(
            alloc.select(alloc.resource, alloc.date, fn.SUM(alloc.quantity).alias("units")),
            alloc.date.between(first, last),
            *shown(alloc.resource),
        )
        .group_by(alloc.resource, alloc.date)
        .alias("a")
    )
    # Blackouts are few: read those overlapping the window once, rather than a subquery
    # per cell (a fifth of the heatmap window's time in the database, for none found).
    blackouts = where(
        black.select(black.resource, black.start_date, black.end_date, black.reason),
        black.start_date <= last,
        black.end_date >= first,
        *shown(black.resource),
    ).order_by(black.id)
    query = where(
        Cells.select(
            Cells.resource,
            Cells.date,
            Cells.max_capacity,
            Cells.available_capacity,
            fn.COALESCE(held.c.units, 0),
            fn.COALESCE(allocated.c.units, 0),
        )
        .join(Resource, on=(Resource.id == Cells.resource))
        .join_from(
            Cells,
            held,
            JOIN.LEFT_OUTER,
            on=(held.c.resource_id == Cells.resource) & (held.c.date == Cells.date),
        )
        .join_from(
            Cells,
            allocated,
            JOIN.LEFT_OUTER,
            on=(allocated.c.resource_id == Cells.resource) & (allocated.c.date == Cells.date),
        ),
        Cells.date.between(first, last),
        Resource.live(),
        (Cells.resource == resource_id) if resource_id is not None else None,
        (Resource.type == kind) if kind else None,
        Cells.resource.in_(ids) if ids is not None else None,
    ).order_by(Cells.resource, Cells.date)
    with ctx.read():
        # The driver's rows as they are: the heatmap asks for thousands of cells a page,
        # and peewee converting each value of each row cost twice the rest of the call.
        rows = ctx.db.execute(query).fetchall()
        closed: dict[int, list[tuple[date, date, str]]] = {}
        for rid, start, end, reason in ctx.db.execute(blackouts).fetchall():
            closed.setdefault(rid, []).append((as_day(start), as_day(end), reason))
    cells = []
    for rid, value, max_capacity, available, held_units, allocated_units in rows:
        when = as_day(value)
        spans = closed.get(rid)
        # The first blackout (by id) over the day, as a subquery per cell used to say.
        reason = next((r for s, e, r in spans if s <= when <= e), None) if spans else None
        cells.append(
            Cell(rid, when, max_capacity, available, int(held_units), int(allocated_units), reason)
        )
    return cells
