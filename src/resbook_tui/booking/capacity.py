"""Capacity: what each resource can take on each date, and where those units are now."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from . import events, validate
from .context import Context, as_date
from .errors import BookingError, invalid, not_found
from .records import CapacityChange, Cell


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
        if (
            ctx.one("SELECT 1 FROM resource WHERE id = ? AND deleted_at IS NULL", (resource_id,))
            is None
        ):
            raise not_found("resource", resource_id)
        # Missing dates first: a concurrent call creating the same date waits here for us
        # to commit and then finds the row below, instead of inserting nothing after its
        # UPDATE already missed the row (and reporting a change that never landed).
        created = _create_missing_cells(ctx, resource_id, first, last, new_max)
        ctx.lock_cells(resource_id, first, last)
        # The rows just created already hold new_max; the UPDATE leaves them as they are.
        updated = (
            ctx.execute(
                "UPDATE resource_capacity SET available_capacity = available_capacity + (? - "
                "max_capacity), max_capacity = ? WHERE resource_id = ? AND date BETWEEN ? AND ? "
                "AND available_capacity + (? - max_capacity) >= 0",
                (new_max, new_max, resource_id, first, last, new_max),
            ).rowcount
            - created
        )
        short = ctx.one(
            "SELECT date, max_capacity - available_capacity FROM resource_capacity "
            "WHERE resource_id = ? AND date BETWEEN ? AND ? AND max_capacity <> ? "
            "ORDER BY date LIMIT 1",
            (resource_id, first, last, new_max),
        )
        if short is not None:
            raise BookingError(
                "no_capacity",
                f"cannot set max {new_max} on {as_date(short[0])}: {short[1]} unit(s) are "
                "already held or allocated there",
            )
        events.record(
            ctx,
            "capacity.set",
            "capacity",
            None,
            resource_id,
            first,
            last,
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
    values = ", ".join(["(?, ?, ?, ?)"] * len(days))
    params = [v for day in days for v in (resource_id, day, new_max, new_max)]
    return ctx.execute(
        "INSERT INTO resource_capacity (resource_id, date, max_capacity, available_capacity) "
        f"VALUES {values} ON CONFLICT (resource_id, date) DO NOTHING",
        params,
    ).rowcount


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
    first, last = validate.date_range(date_from, date_to)
    resource_id = validate.optional_ident(resource_id, "resource")
    resource_ids = validate.idents(resource_ids, "resource")
    where, params = ["c.date BETWEEN ? AND ?", "r.deleted_at IS NULL"], [first, last]
    if resource_id is not None:
        where.append("c.resource_id = ?")
        params.append(resource_id)
    if resource_type:
        where.append("r.type = ?")
        params.append(validate.resource_type(resource_type))
    if resource_ids is not None:
        if not resource_ids:
            return []
        where.append(f"c.resource_id IN ({', '.join('?' * len(resource_ids))})")
        params += list(resource_ids)
    sql = f"""
        SELECT c.resource_id, c.date, c.max_capacity, c.available_capacity,
               COALESCE(h.held, 0), COALESCE(a.allocated, 0),
               (SELECT b.reason FROM resource_blackout b WHERE b.resource_id = c.resource_id
                  AND c.date BETWEEN b.start_date AND b.end_date ORDER BY b.id LIMIT 1)
        FROM resource_capacity c
        JOIN resource r ON r.id = c.resource_id
        LEFT JOIN (SELECT resource_id, date, SUM(quantity) AS held FROM resource_hold
                   WHERE status = 'ACTIVE' AND date BETWEEN ? AND ?
                   GROUP BY resource_id, date) h
               ON h.resource_id = c.resource_id AND h.date = c.date
        LEFT JOIN (SELECT resource_id, date, SUM(quantity) AS allocated FROM resource_allocation
                   WHERE date BETWEEN ? AND ? GROUP BY resource_id, date) a
               ON a.resource_id = c.resource_id AND a.date = c.date
        WHERE {" AND ".join(where)}
        ORDER BY c.resource_id, c.date
    """
    with ctx.read():
        rows = ctx.all(sql, [first, last, first, last, *params])
    return [Cell(r[0], as_date(r[1]), r[2], r[3], int(r[4]), int(r[5]), r[6]) for r in rows]
