"""Holds: units of one resource on one date taken for a while.

Every capacity change is one conditional UPDATE whose WHERE carries the whole rule
(enough available, active resource, no blackout, not in the past); a zero row count is
the refusal. Idempotency is decided by the unique index on ``hold_request.token``: a
request made with a token first inserts its request row, so a racing duplicate waits on
that row (holding nothing else) and then replays, instead of competing for capacity.
Hold rows carry the request's token apart from their own key (``idempotency_token``,
made up here), so no client token can ever meet another request's rows. What happens to
a hold afterwards is in lifecycle.py.

Locks are taken in one order everywhere: the request row, then the cells of the whole
range in (resource_id, date) order, then new hold rows (which nobody else can wait for).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, timedelta

import peewee

from . import events, search, validate
from .context import Context, Where, as_date
from .errors import BookingError, not_found
from .prepared import PreparedGroup
from .records import Hold
from .rows import HOLD_COLUMN_COUNT, HOLD_COLUMNS, hold_from_row

# ---- creating -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Request:
    resource_id: int
    first: date
    last: date
    quantity: int
    email: str
    token: str | None
    ttl: int

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(n) for n in range((self.last - self.first).days + 1)]


def create_holds(
    ctx: Context,
    resource_id: int,
    date_from: date | str,
    date_to: date | str | None,
    quantity: int,
    email: str,
    token: str | None = None,
    ttl_minutes: int | None = None,
) -> list[Hold]:
    """Hold ``quantity`` units on every date of the range, all or nothing.

    A token seen before with the same request returns the existing holds marked as a
    replay (no second decrement); with a different request it is a token_conflict.
    """
    resource_id = validate.ident(resource_id, "resource")
    first, last = validate.date_range(date_from, date_to)
    request = _Request(
        resource_id,
        first,
        last,
        validate.quantity(quantity),
        validate.email(email),
        validate.token(token),
        # `is None`, not `or`: an explicit 0 is bad input to refuse, not "use the default".
        validate.minutes(
            ctx.default_ttl_minutes if ttl_minutes is None else ttl_minutes, "TTL minutes"
        ),
    )
    try:
        with ctx.write():
            if ctx.is_pg:
                return [
                    _hold_one_pg(ctx, request, day, first=n == 0)
                    for n, day in enumerate(request.days)
                ]
            _claim_token_sqlite(ctx, request)
            return [_hold_one_sqlite(ctx, request, day) for day in request.days]
    except _TokenTaken:
        # This attempt was rolled back whole; the earlier request with the token stands.
        return _replay(ctx, request)
    except peewee.IntegrityError:
        # The request row's foreign key: the resource does not exist (rolled back already).
        with ctx.read():
            if ctx.one("SELECT 1 FROM resource WHERE id = ?", (resource_id,)) is None:
                raise not_found("resource", resource_id) from None
        raise


class _TokenTaken(Exception):
    """The idempotency token already names a committed request."""


def _row_key() -> str:
    return uuid.uuid4().hex


# ---- SQLite: BEGIN IMMEDIATE made this the only writer, so plain statements in order ----


def _claim_token_sqlite(ctx: Context, request: _Request) -> None:
    if request.token is None:
        return
    row = ctx.one(
        "INSERT INTO hold_request (token, resource_id, date_from, date_to, quantity, "
        "customer_email) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (token) DO NOTHING RETURNING id",
        (
            request.token,
            request.resource_id,
            request.first,
            request.last,
            request.quantity,
            request.email,
        ),
    )
    if row is None:
        raise _TokenTaken


def _hold_one_sqlite(ctx: Context, request: _Request, day: date) -> Hold:
    _take_capacity(ctx, request.resource_id, day, request.quantity)
    row = ctx.one(
        f"INSERT INTO resource_hold (resource_id, date, quantity, customer_email, "
        f"idempotency_token, request_token, status, expires_at) "
        f"VALUES (?, ?, ?, ?, ?, ?, 'ACTIVE', {ctx.now_plus_minutes()}) RETURNING {HOLD_COLUMNS}",
        (
            request.resource_id,
            day,
            request.quantity,
            request.email,
            _row_key(),
            request.token,
            request.ttl,
        ),
    )
    hold = hold_from_row(row)
    events.record(
        ctx,
        "hold.create",
        "hold",
        hold.id,
        request.resource_id,
        day,
        None,
        request.email,
        {
            "quantity": request.quantity,
            "ttl_minutes": request.ttl,
            "token": hold.token,
            "expires_at": hold.expires_at.isoformat(),
        },
    )
    return hold


def _take_capacity(ctx: Context, resource_id: int, day: date, quantity: int) -> None:
    cursor = ctx.execute(
        f"UPDATE resource_capacity SET available_capacity = available_capacity - ? "
        f"WHERE resource_id = ? AND date = ? AND available_capacity >= ? AND date >= {ctx.today} "
        f"AND EXISTS (SELECT 1 FROM resource r WHERE r.id = ? AND r.is_active = {ctx.true} "
        f"AND r.deleted_at IS NULL) "
        f"AND NOT EXISTS (SELECT 1 FROM resource_blackout b WHERE b.resource_id = ? "
        f"AND b.start_date <= ? AND b.end_date >= ?)",
        (quantity, resource_id, day, quantity, resource_id, resource_id, day, day),
    )
    if cursor.rowcount != 1:
        raise _refusal(ctx, resource_id, day, quantity)


# ---- PostgreSQL: the same rule in one round trip per date --------------------------------
#
# Holds are the hot path of the shop, and round trips are what cost. The first date sends
# up to three statements at once: the request row when there is a token (_PG_REQUEST), the
# locks on every cell of the range in (resource_id, date) order (_PG_LOCK), then the
# conditional capacity UPDATE with the hold row, its event and its notification
# (_PG_TAKE); later dates send _PG_TAKE alone. Whether the token was already taken is
# passed on in a transaction-local setting, since only the last statement's rows come
# back; with it taken, nothing is locked or taken and the caller replays.

_TAKEN = "current_setting('resbook.request', true) IS NOT DISTINCT FROM 'taken'"

_PG_REQUEST = """
WITH q AS (
    INSERT INTO hold_request (token, resource_id, date_from, date_to, quantity, customer_email)
    VALUES (%(t)s::text, %(r)s::bigint, %(d)s::date, %(until)s::date, %(q)s::int, %(e)s::text)
    ON CONFLICT (token) DO NOTHING
    RETURNING id
)
SELECT set_config('resbook.request', CASE WHEN EXISTS (SELECT 1 FROM q) THEN 'new'
                                          ELSE 'taken' END, true)
"""

# Its own statement, so the capacity statement takes its snapshot after the lock is
# granted and sees any blackout or capacity change that committed while it waited.
_PG_LOCK = f"""
SELECT 1 FROM resource_capacity
WHERE resource_id = %(r)s::bigint AND date BETWEEN %(d)s::date AND %(until)s::date
  AND NOT {_TAKEN}
ORDER BY resource_id, date FOR UPDATE
"""

_PG_TAKE = f"""
WITH c AS (
    UPDATE resource_capacity SET available_capacity = available_capacity - %(q)s::int
    WHERE resource_id = %(r)s::bigint AND date = %(d)s::date AND available_capacity >= %(q)s::int
      AND date >= CURRENT_DATE
      AND NOT {_TAKEN}
      AND EXISTS (SELECT 1 FROM resource r WHERE r.id = %(r)s::bigint AND r.is_active
                  AND r.deleted_at IS NULL)
      AND NOT EXISTS (SELECT 1 FROM resource_blackout b WHERE b.resource_id = %(r)s::bigint
                      AND b.start_date <= %(d)s::date AND b.end_date >= %(d)s::date)
    RETURNING resource_id, date
), h AS (
    INSERT INTO resource_hold (resource_id, date, quantity, customer_email, idempotency_token,
                               request_token, status, expires_at)
    SELECT c.resource_id, c.date, %(q)s::int, %(e)s::text, %(k)s::text, %(t)s::text, 'ACTIVE',
           now() + make_interval(mins => %(ttl)s::int)
    FROM c
    RETURNING {HOLD_COLUMNS}
), e AS (
    INSERT INTO booking_event (actor, action, entity, entity_id, resource_id, date_from,
                               date_to, customer_email, details)
    SELECT %(actor)s::text, 'hold.create', 'hold', h.id, h.resource_id, h.date, h.date,
           h.customer_email, jsonb_build_object('quantity', h.quantity, 'ttl_minutes',
           %(ttl)s::int, 'token', COALESCE(h.request_token, h.idempotency_token),
           'expires_at', h.expires_at)
    FROM h
    RETURNING id
)
SELECT h.*, e.id,
       CASE WHEN e.id IS NOT NULL THEN pg_notify('{events.CHANNEL}', json_build_object(
           'event', e.id, 'action', 'hold.create', 'entity', 'hold', 'id', h.id,
           'resource_id', h.resource_id, 'from', h.date, 'to', h.date)::text) END,
       {_TAKEN}
FROM (SELECT 1) AS one LEFT JOIN h ON TRUE LEFT JOIN e ON TRUE
"""

_PG_STATEMENTS = PreparedGroup(
    "resbook_hold", {"request": _PG_REQUEST, "lock": _PG_LOCK, "take": _PG_TAKE}
)
_EVENT_ID, _TAKEN_FLAG = HOLD_COLUMN_COUNT, HOLD_COLUMN_COUNT + 2


def _hold_one_pg(ctx: Context, request: _Request, day: date, first: bool) -> Hold:
    params = {
        "r": request.resource_id,
        "d": day,
        "until": request.last,
        "q": request.quantity,
        "e": request.email,
        "t": request.token,
        "k": _row_key(),
        "ttl": request.ttl,
        "actor": ctx.actor,
    }
    keys: tuple[str, ...] = ("take",)
    if first:
        keys = ("request", "lock", "take") if request.token is not None else ("lock", "take")
    row = _PG_STATEMENTS.run(ctx.db, keys, params).fetchone()
    if row[_TAKEN_FLAG]:
        raise _TokenTaken
    if row[_EVENT_ID] is None:
        raise _refusal(ctx, request.resource_id, day, request.quantity)
    return hold_from_row(row)


# ---- replays ----------------------------------------------------------------------------------


def _replay(ctx: Context, request: _Request) -> list[Hold]:
    """The holds of the earlier request with this token, if it asked for the same."""
    with ctx.read():
        asked = ctx.one(
            "SELECT resource_id, date_from, date_to, quantity, customer_email "
            "FROM hold_request WHERE token = ?",
            (request.token,),
        )
        rows = ctx.all(
            f"SELECT {HOLD_COLUMNS} FROM resource_hold WHERE request_token = ? ORDER BY date, id",
            (request.token,),
        )
    wanted = (request.resource_id, request.first, request.last, request.quantity, request.email)
    same = (
        asked is not None
        and (
            asked[0],
            as_date(asked[1]),
            as_date(asked[2]),
            asked[3],
            asked[4],
        )
        == wanted
    )
    if not same or not rows:
        raise BookingError(
            "token_conflict",
            f"idempotency token {validate.shown(request.token)} was already used for a "
            "different hold request",
        )
    return [replace(hold_from_row(r), replay=True) for r in rows]


def _refusal(ctx: Context, resource_id: int, day: date, quantity: int) -> BookingError:
    """Say why the conditional UPDATE matched nothing (the decision is already made)."""
    resource = ctx.one("SELECT is_active, deleted_at FROM resource WHERE id = ?", (resource_id,))
    if resource is None or resource[1] is not None:
        return not_found("resource", resource_id)
    if not resource[0]:
        return BookingError("inactive_resource", f"resource {resource_id} is inactive")
    today = as_date(ctx.one(f"SELECT {ctx.today}")[0])
    if day < today:
        return BookingError("invalid_input", f"{day} is in the past (today is {today})")
    blackout = ctx.one(
        "SELECT reason FROM resource_blackout WHERE resource_id = ? AND start_date <= ? "
        "AND end_date >= ? ORDER BY id LIMIT 1",
        (resource_id, day, day),
    )
    if blackout is not None:
        return BookingError(
            "blackout", f"resource {resource_id} is blacked out on {day}: {blackout[0]}"
        )
    cell = ctx.one(
        "SELECT available_capacity FROM resource_capacity WHERE resource_id = ? AND date = ?",
        (resource_id, day),
    )
    if cell is None:
        return BookingError("no_capacity", f"resource {resource_id} has no capacity set for {day}")
    return BookingError(
        "no_capacity",
        f"resource {resource_id} has {cell[0]} available on {day}, {quantity} requested",
    )


# ---- reading ------------------------------------------------------------------------------


def get_hold(ctx: Context, hold_id: int) -> Hold:
    hold_id = validate.ident(hold_id, "hold")
    with ctx.read():
        row = ctx.one(f"SELECT {HOLD_COLUMNS} FROM resource_hold WHERE id = ?", (hold_id,))
    if row is None:
        raise not_found("hold", hold_id)
    return hold_from_row(row)


def list_holds(
    ctx: Context,
    email: str | None = None,
    status: str | None = None,
    resource_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int | None = None,
    *,
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
    where = (
        Where()
        .add("customer_email = ?", email)
        .add(search.like("customer_email"), search.contains(email_contains))
        .add("status = ?", validate.hold_status(status) if status else None)
        .add("resource_id = ?", resource_id)
        .add("date >= ?", date_from)
        .add("date <= ?", date_to)
    )
    sql = f"SELECT {HOLD_COLUMNS} FROM resource_hold WHERE {where.sql} ORDER BY expires_at, id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with ctx.read():
        return [hold_from_row(r) for r in ctx.all(sql, where.params)]
