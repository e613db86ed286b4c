"""Bundles: the shop's hold requests, every line of every date held all or none.

A bundle is what ``POST /v1/holds`` makes: lines of (resource, first date, last date,
quantity) for one customer. The demand of every line on one (resource, date) is summed
before anything is checked (two lines on one tour date must not each pass alone), and
the whole request is one transaction that takes the cells in the one global lock order,
(resource_id, date), with the conditional UPDATE of ``ResourceCapacity.take``: its row
count is the refusal, so nothing is read before it is written. Every cell is tried, so a
refusal names every cell that fell short; then the transaction rolls back whole.

What happens to a bundle afterwards is bundle_life.py's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import peewee

from ..dialects.base import hold_created
from ..dialects.compiled import Clock, Compiled, SlotMaker
from ..models import (
    HOLD_FIELDS,
    Action,
    Resource,
    ResourceBlackout,
    ResourceCapacity,
    ResourceHold,
)
from ..shop_models import HoldBundle
from . import validate
from .bundle_life import bundle_record, cell_of
from .context import Context
from .errors import BookingError, CapacityRefused, invalid, naming, not_found
from .lifecycle import record_hold_event
from .records import Bundle, Shortfall
from .rows import day, hold_from_row, moment

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
        made = sorted(((r, hold_from_row(r)) for r in inserted), key=lambda p: cell_of(p[1]))
        for row, hold in made:
            details = {**hold_created(row, ttl), "bundle_id": bundle[0]}
            record_hold_event(ctx, Action.HOLD_CREATE, hold, details)
    holds = [hold for _, hold in made]
    return bundle_record(bundle[0], email, moment(bundle[1]), holds, "ACTIVE")


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
