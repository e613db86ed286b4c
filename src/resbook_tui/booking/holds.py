"""Holds: units of one resource on one date taken for a while.

Every capacity change is one conditional UPDATE whose WHERE carries the whole rule
(enough available, active resource, no blackout, not in the past); a zero row count is
the refusal. The unique index on idempotency_token decides replays: the hold row is
inserted first, so a racing duplicate waits on it and then finds it, instead of
competing for capacity. What happens to a hold afterwards is in lifecycle.py.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta

import peewee

from . import events, search, validate
from .context import Context, Where, as_date
from .errors import BookingError, not_found
from .prepared import PreparedGroup
from .records import Hold
from .rows import HOLD_COLUMNS, hold_from_row

# ---- creating -------------------------------------------------------------------------------


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
    first, last = validate.date_range(date_from, date_to)
    quantity = validate.quantity(quantity)
    email = validate.email(email)
    token = validate.token(token)
    # `is None`, not `or`: an explicit 0 is bad input to refuse, not "use the default".
    ttl = validate.minutes(
        ctx.default_ttl_minutes if ttl_minutes is None else ttl_minutes, "TTL minutes"
    )
    days = [first + timedelta(n) for n in range((last - first).days + 1)]
    tokens = _row_tokens(token, days)
    try:
        with ctx.write():
            holds = [
                _hold_one(
                    ctx,
                    resource_id,
                    day,
                    quantity,
                    email,
                    row_token,
                    ttl,
                    lock_until=last if n == 0 else None,
                )
                for n, (day, row_token) in enumerate(zip(days, tokens, strict=True))
            ]
            return holds
    except _TokenTaken:
        # This attempt was rolled back whole; the earlier request with the token stands.
        return _replay(ctx, resource_id, days, tokens, quantity, email, token)
    except peewee.IntegrityError:
        # The hold row's foreign key: the resource does not exist (rolled back already).
        with ctx.read():
            if ctx.one("SELECT 1 FROM resource WHERE id = ?", (resource_id,)) is None:
                raise not_found("resource", resource_id) from None
        raise


class _TokenTaken(Exception):
    """The idempotency token already names a committed hold."""


def _hold_one(
    ctx: Context,
    resource_id: int,
    day: date,
    quantity: int,
    email: str,
    token: str,
    ttl: int,
    lock_until: date | None,
) -> Hold:
    """Insert one hold, take its units and log it; ``lock_until`` first locks the cells
    from ``day`` to that date (the whole request's range), in (resource_id, date) order."""
    if ctx.is_pg:
        return _hold_one_pg(ctx, resource_id, day, quantity, email, token, ttl, lock_until)
    row = ctx.one(
        f"INSERT INTO resource_hold (resource_id, date, quantity, customer_email, "
        f"idempotency_token, status, expires_at) "
        f"VALUES (?, ?, ?, ?, ?, 'ACTIVE', {ctx.now_plus_minutes()}) "
        f"ON CONFLICT (idempotency_token) DO NOTHING RETURNING {HOLD_COLUMNS}",
        (resource_id, day, quantity, email, token, ttl),
    )
    if row is None:
        raise _TokenTaken
    _take_capacity(ctx, resource_id, day, quantity)
    hold = hold_from_row(row)
    events.record(
        ctx,
        "hold.create",
        "hold",
        hold.id,
        resource_id,
        day,
        None,
        email,
        {
            "quantity": quantity,
            "ttl_minutes": ttl,
            "token": token,
            "expires_at": hold.expires_at.isoformat(),
        },
    )
    return hold


# The same rule as the SQLite path, in one round trip of up to three statements: the hold
# row (_PG_INSERT), the cell locks (_PG_LOCK), then the conditional capacity UPDATE (which
# only runs if the hold row was inserted), the event and the notification (_PG_TAKE).
# Holds are the hot path of the shop, and round trips are what cost.
#
# The hold row comes before the cell locks, as in release and sweep (hold row, then cell):
# a retried request whose token row is being released or expired waits on that row while
# holding no cell, instead of holding the cell the release or sweep needs next (deadlock).
# The row's id is passed on in a transaction-local setting, since only the last
# statement's rows come back.
_PG_INSERT = """
WITH h AS (
    INSERT INTO resource_hold (resource_id, date, quantity, customer_email, idempotency_token,
                               status, expires_at)
    VALUES (%(r)s, %(d)s, %(q)s, %(e)s, %(t)s, 'ACTIVE',
            now() + make_interval(mins => %(ttl)s::int))
    ON CONFLICT (idempotency_token) DO NOTHING
    RETURNING id
)
SELECT set_config('resbook.new_hold', COALESCE((SELECT id FROM h)::text, ''), true)
"""

_PG_TAKE = f"""
WITH h AS (
    SELECT {HOLD_COLUMNS} FROM resource_hold
    WHERE id = NULLIF(current_setting('resbook.new_hold', true), '')::bigint
), c AS (
    UPDATE resource_capacity SET available_capacity = available_capacity - %(q)s
    WHERE resource_id = %(r)s AND date = %(d)s AND available_capacity >= %(q)s
      AND date >= CURRENT_DATE
      AND EXISTS (SELECT 1 FROM h)
      AND EXISTS (SELECT 1 FROM resource r WHERE r.id = %(r)s AND r.is_active
                  AND r.deleted_at IS NULL)
      AND NOT EXISTS (SELECT 1 FROM resource_blackout b WHERE b.resource_id = %(r)s
                      AND b.start_date <= %(d)s AND b.end_date >= %(d)s)
    RETURNING resource_id
), e AS (
    INSERT INTO booking_event (actor, action, entity, entity_id, resource_id, date_from,
                               date_to, customer_email, details)
    SELECT %(actor)s::text, 'hold.create', 'hold', h.id, h.resource_id, h.date, h.date,
           h.customer_email, jsonb_build_object('quantity', h.quantity, 'ttl_minutes',
           %(ttl)s::int, 'token', h.idempotency_token, 'expires_at', h.expires_at)
    FROM h JOIN c ON TRUE
    RETURNING id
)
SELECT h.*, e.id,
       CASE WHEN e.id IS NOT NULL THEN pg_notify('{events.CHANNEL}', json_build_object(
           'event', e.id, 'action', 'hold.create', 'entity', 'hold', 'id', h.id,
           'resource_id', h.resource_id, 'from', h.date, 'to', h.date)::text) END
FROM h LEFT JOIN e ON TRUE
"""

# Sent in the same round trip, before _PG_TAKE: its own statement, so the capacity statement
# takes its snapshot after the lock is granted and sees any blackout or capacity change
# that committed while it waited.
_PG_LOCK = (
    "SELECT 1 FROM resource_capacity WHERE resource_id = %(r)s "
    "AND date BETWEEN %(d)s::date AND %(until)s::date ORDER BY resource_id, date FOR UPDATE"
)

_PG_STATEMENTS = PreparedGroup(
    "resbook_hold", {"insert": _PG_INSERT, "lock": _PG_LOCK, "take": _PG_TAKE}
)


def _hold_one_pg(
    ctx: Context,
    resource_id: int,
    day: date,
    quantity: int,
    email: str,
    token: str,
    ttl: int,
    lock_until: date | None,
) -> Hold:
    params = {
        "r": resource_id,
        "d": day,
        "q": quantity,
        "e": email,
        "t": token,
        "ttl": ttl,
        "actor": ctx.actor,
        "until": lock_until,
    }
    keys = ("insert", "lock", "take") if lock_until is not None else ("insert", "take")
    row = _PG_STATEMENTS.run(ctx.db, keys, params).fetchone()
    if row is None:
        raise _TokenTaken
    if row[10] is None:
        raise _refusal(ctx, resource_id, day, quantity)
    return hold_from_row(row)


def _replay(
    ctx: Context,
    resource_id: int,
    days: list[date],
    tokens: list[str],
    quantity: int,
    email: str,
    token: str | None,
) -> list[Hold]:
    # The holds this token made, plus the row the next date would have if the earlier
    # request's range went on further: any difference in the range is a conflict.
    probe = tokens if token is None else [*tokens, _date_token(token, days[-1] + timedelta(1))]
    existing = _holds_by_tokens(ctx, probe)
    wanted = set(zip(tokens, days, strict=True))
    same = len(existing) == len(tokens) and all(
        (h.token, h.date) in wanted
        and h.resource_id == resource_id
        and h.quantity == quantity
        and h.customer_email == email
        for h in existing
    )
    if not same:
        raise BookingError(
            "token_conflict",
            f"idempotency token {token!r} was already used for a different hold request",
        )
    return [replace(h, replay=True) for h in sorted(existing, key=lambda h: h.date)]


def _row_tokens(token: str | None, days: list[date]) -> list[str]:
    """One token per hold row: the caller's own on the first date, suffixed by date after.

    Every request with the token thus inserts a row carrying exactly that token, so any
    two of them meet on the unique index, whatever their dates: a single date and a range,
    or two ranges starting on different dates, cannot both take units under one token.
    """
    if token is None:
        return [uuid.uuid4().hex for _ in days]
    return [token] + [_date_token(token, day) for day in days[1:]]


def _date_token(token: str, day: date) -> str:
    return f"{token}@{day.isoformat()}"


def _holds_by_tokens(ctx: Context, tokens: list[str]) -> list[Hold]:
    marks = ", ".join("?" * len(tokens))
    with ctx.read():
        rows = ctx.all(
            f"SELECT {HOLD_COLUMNS} FROM resource_hold WHERE idempotency_token IN ({marks})",
            tokens,
        )
    return [hold_from_row(r) for r in rows]


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
    where = (
        Where()
        .add("customer_email = ?", email.strip().lower() if email else None)
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
