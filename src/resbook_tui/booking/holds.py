"""Holds: units of one resource on one date taken for a while.

Every capacity change is one conditional UPDATE whose WHERE carries the whole rule
(``ResourceCapacity.take``: enough available, active resource, no blackout, not in the
past); a zero row count is the refusal. Idempotency is decided by the unique index on
``hold_request.token``: a request made with a token first inserts its request row, so a
racing duplicate waits on that row (holding nothing else) and then replays, instead of
competing for capacity. Hold rows carry the request's token apart from their own key
(``idempotency_token``, made up here), so no client token can ever meet another request's
rows. What happens to a hold afterwards is in lifecycle.py.

Locks are taken in one order everywhere: the request row, then the cells of the whole
range in (resource_id, date) order, then new hold rows (which nobody else can wait for).
The statements themselves are the dialect's to run (``Dialect.take_holds``): written once
through the models, and fused into one prepared round trip per date on PostgreSQL, where a
hold of one date is a single round trip, COMMIT included (``Dialect.hold_one``).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

import peewee

from ..dialects import CellRefused, HoldPlan, HoldRow, TokenTaken
from ..dialects.compiled import Compiled
from ..models import (
    HOLD_FIELDS,
    SHOWN_HOLD_FIELDS,
    HoldRequest,
    Resource,
    ResourceBlackout,
    ResourceCapacity,
)
from ..models import ResourceHold as Row
from . import search, validate
from .context import Context, where
from .errors import BookingError, not_found
from .records import Hold
from .rows import day as as_day
from .rows import hold_from_row


def create_holds(
    ctx: Context,
    resource_id: int,
    date_from: date | str,
    date_to: date | str | None,
    quantity: int,
    email: str,
    *,
    token: str | None = None,
    ttl_minutes: int | None = None,
) -> list[Hold]:
    """Hold ``quantity`` units on every date of the range, all or nothing.

    A token seen before with the same request returns the existing holds marked as a
    replay (no second decrement); with a different request it is a token_conflict.
    """
    resource_id = validate.ident(resource_id, "resource")
    first, last = validate.date_range(date_from, date_to)
    plan = HoldPlan(
        resource_id=resource_id,
        first=first,
        last=last,
        quantity=validate.quantity(quantity),
        email=validate.email(email),
        token=validate.token(token),
        # `is None`, not `or`: an explicit 0 is bad input to refuse, not "use the default".
        ttl=validate.minutes(
            ctx.default_ttl_minutes if ttl_minutes is None else ttl_minutes, "TTL minutes"
        ),
        actor=ctx.actor,
        keys=tuple(uuid.uuid4().hex for _ in range((last - first).days + 1)),
    )
    try:
        return [hold_from_row(row) for row in _take(ctx, plan)]
    except TokenTaken:
        # This attempt was rolled back whole; the earlier request with the token stands.
        return _replay(ctx, plan)
    except peewee.IntegrityError:
        # The request row's foreign key: the resource does not exist (rolled back already).
        with ctx.read():
            if not Resource.select().where(Resource.id == resource_id).exists(ctx.db):
                raise not_found("resource", resource_id) from None
        raise


def _take(ctx: Context, plan: HoldPlan) -> list[HoldRow]:
    """The new holds' rows, committed; a refusal comes out as the BookingError saying why."""
    if plan.first == plan.last:
        # One date, the shop's everyday hold: the dialect runs its transaction (one round
        # trip on PostgreSQL), so the reason for a refusal is read just after it.
        with ctx.read():
            try:
                return [ctx.dialect.hold_one(ctx.db, plan)]
            except CellRefused as refused:
                raise _refusal(ctx, plan, refused.day, after=True) from None
    with ctx.write():
        try:
            return ctx.dialect.take_holds(ctx.db, plan)
        except CellRefused as refused:
            # Still inside the transaction, with the cells locked: the reason read now is
            # the one that refused.
            raise _refusal(ctx, plan, refused.day, after=False) from None


def _replay(ctx: Context, plan: HoldPlan) -> list[Hold]:
    """The holds of the earlier request with this token, if it asked for the same."""
    request = HoldRequest
    with ctx.read():
        asked = (
            request.select(
                request.resource,
                request.date_from,
                request.date_to,
                request.quantity,
                request.customer_email,
            )
            .where(request.token == plan.token)
            .tuples()
            .first(ctx.db)
        )
        rows = list(
            Row.select(*HOLD_FIELDS)
            .where(Row.request_token == plan.token)
            .order_by(Row.date, Row.id)
            .tuples()
            .execute(ctx.db)
        )
    wanted = (plan.resource_id, plan.first, plan.last, plan.quantity, plan.email)
    if asked is None or tuple(asked) != wanted or not rows:
        raise BookingError(
            "token_conflict",
            f"idempotency token {validate.shown(plan.token)} was already used for a "
            "different hold request",
        )
    return [replace(hold_from_row(r), replay=True) for r in rows]


# Why a take refused, in one statement rendered once: a sold-out cell is an everyday answer
# in a shop's rush, so the explanation should not cost several queries to build and run.
_WHY = Compiled(
    lambda p, d: Resource.select(
        Resource.is_active,
        Resource.deleted_at,
        d.today(),
        ResourceBlackout.select(ResourceBlackout.reason)
        .where(ResourceBlackout.covering(p("r"), p("d")))
        .order_by(ResourceBlackout.id)
        .limit(1),
        ResourceCapacity.select(ResourceCapacity.available_capacity).where(
            (ResourceCapacity.resource == p("r")) & (ResourceCapacity.date == p("d"))
        ),
    ).where(Resource.id == p("r"))
)


def _refusal(ctx: Context, plan: HoldPlan, day: date, *, after: bool) -> BookingError:
    """Say why the conditional UPDATE matched nothing (the decision is already made).

    ``after``: read once the refusing transaction ended, so another may have changed the
    cell in between; what is read then is reported as such."""
    rid, quantity = plan.resource_id, plan.quantity
    why = _WHY.run(ctx.db, ctx.dialect, {"r": rid, "d": day}).fetchone()
    if why is None or why[1] is not None:
        return not_found("resource", rid)
    is_active, _, today, blackout, available = why
    if not is_active:
        return BookingError("inactive_resource", f"resource {rid} is inactive")
    today = as_day(today)
    if day < today:
        return BookingError("invalid_input", f"{day} is in the past (today is {today})")
    if blackout is not None:
        return BookingError("blackout", f"resource {rid} is blacked out on {day}: {blackout}")
    if available is None:
        return BookingError("no_capacity", f"resource {rid} has no capacity set for {day}")
    if after and available >= quantity:
        return BookingError(
            "no_capacity",
            f"resource {rid} had fewer than {quantity} available on {day} when asked "
            f"({available} now, freed since); try again",
        )
    return BookingError(
        "no_capacity", f"resource {rid} has {available} available on {day}, {quantity} requested"
    )


# ---- reading ------------------------------------------------------------------------------


def get_hold(ctx: Context, hold_id: int) -> Hold:
    hold_id = validate.ident(hold_id, "hold")
    with ctx.read():
        row = Row.select(*SHOWN_HOLD_FIELDS).where(Row.id == hold_id).tuples().first(ctx.db)
    if row is None:
        raise not_found("hold", hold_id)
    return hold_from_row(row)


def list_holds(
    ctx: Context,
    *,
    email: str | None = None,
    status: str | None = None,
    resource_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int | None = None,
    email_contains: str | None = None,
) -> list[Hold]:
    """Holds, soonest expiry first. ``email`` is the whole address, ``email_contains`` any
    part of it; both match case-insensitively."""
    email = validate.email_filter(email)
    email_contains = validate.email_filter(email_contains)
    resource_id = validate.optional_ident(resource_id, "resource")
    date_from = validate.optional_day(date_from, "start date")
    date_to = validate.optional_day(date_to, "end date")
    limit = validate.limit(limit)
    query = where(
        Row.select(*SHOWN_HOLD_FIELDS),
        (Row.customer_email == email) if email else None,
        search.matching(Row.customer_email, email_contains),
        (Row.status == validate.hold_status(status)) if status else None,
        (Row.resource == resource_id) if resource_id is not None else None,
        (Row.date >= date_from) if date_from else None,
        (Row.date <= date_to) if date_to else None,
    ).order_by(Row.expires_at, Row.id)
    if limit is not None:
        query = query.limit(limit)
    with ctx.read():
        return [hold_from_row(r) for r in query.tuples().execute(ctx.db)]
