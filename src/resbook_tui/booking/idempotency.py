"""Idempotency keys for the HTTP API, as the IETF Idempotency-Key draft (and Stripe) do it.

A key is scoped to the API key and the route. The first request with it claims it (a row
with no answer yet: "in flight") in a transaction of its own, so a second request with the
same key meets the row at once instead of waiting behind the first; the unique index
decides which is first. The effect and the stored answer are then written in one
transaction: a crash between them loses both, never one. An answer of the server's own
failing (5xx) is never stored: the row is removed and the key may be used again.

A claim left in flight longer than ``STALE_SECONDS`` (its process died) is taken over by
the next request. Records are kept ``KEEP_HOURS`` and removed by the sweep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import peewee

from ..shop_models import IdempotencyRecord as Rec
from . import validate
from .context import Context
from .errors import invalid

KEEP_HOURS = 24
STALE_SECONDS = 300  # longer than any request may run (statement and lock timeouts)
T = TypeVar("T")


@dataclass(frozen=True)
class Stored:
    """An answer as it was sent: status, body (JSON text) and Location, if any."""

    status: int
    body: str
    location: str | None = None


@dataclass(frozen=True)
class Claim:
    """What a request's key says: ``new`` (go ahead: ``record_id`` is the claim),
    ``replay`` (send ``stored`` again), ``reused`` (another body) or ``in_flight``."""

    state: str
    record_id: int | None = None
    stored: Stored | None = None


def key(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid("the Idempotency-Key header is required on this request")
    cleaned = validate.text(value, "idempotency key", required=True)
    assert cleaned is not None
    return cleaned


def _scope(api_key_id: int, route: str, idem_key: str) -> peewee.Expression:
    return (Rec.api_key == api_key_id) & (Rec.route == route) & (Rec.idempotency_key == idem_key)


def claim(ctx: Context, *, api_key_id: int, route: str, idem_key: str, request_hash: str) -> Claim:
    idem_key = key(idem_key)
    scope = _scope(api_key_id, route, idem_key)
    now = ctx.dialect.now()
    old = Rec.created_at < ctx.dialect.plus_minutes(now, -KEEP_HOURS * 60)
    stale = Rec.status_code.is_null() & (
        Rec.created_at < ctx.dialect.plus_minutes(now, -(STALE_SECONDS // 60))
    )
    with ctx.write():
        Rec.delete().where(scope & (old | stale)).execute(ctx.db)
        insert = (
            Rec.insert(
                api_key=api_key_id, route=route, idempotency_key=idem_key, request_hash=request_hash
            )
            .on_conflict(
                conflict_target=[Rec.api_key, Rec.route, Rec.idempotency_key], action="NOTHING"
            )
            .returning(Rec.id)
        )
        made = list(insert.tuples().execute(ctx.db))
        if made:
            return Claim("new", record_id=made[0][0])
        row = (
            Rec.select(Rec.request_hash, Rec.status_code, Rec.response_body, Rec.location)
            .where(scope)
            .tuples()
            .first(ctx.db)
        )
    if row is None:  # removed between the two statements: a sweep; ask again
        return claim(
            ctx, api_key_id=api_key_id, route=route, idem_key=idem_key, request_hash=request_hash
        )
    if row[0] != request_hash:
        return Claim("reused")
    if row[1] is None:
        return Claim("in_flight")
    return Claim("replay", stored=Stored(row[1], row[2] or "", row[3]))


def perform(
    ctx: Context, record_id: int, effect: Callable[[], T], answer: Callable[[T], Stored]
) -> Stored:
    """Run ``effect`` and store its answer in one transaction."""
    with ctx.write():
        stored = answer(effect())
        _store(ctx, record_id, stored)
    return stored


def _store(ctx: Context, record_id: int, stored: Stored) -> None:
    Rec.update(
        status_code=stored.status, response_body=stored.body, location=stored.location
    ).where(Rec.id == record_id).execute(ctx.db)


def finish(ctx: Context, record_id: int, stored: Stored) -> None:
    """Store a refusal (a 4xx: the effect changed nothing) as the key's answer."""
    with ctx.write():
        _store(ctx, record_id, stored)


def abandon(ctx: Context, record_id: int) -> None:
    """Forget a claim whose request failed on the server's side (nothing was changed)."""
    with ctx.write():
        Rec.delete().where((Rec.id == record_id) & Rec.status_code.is_null()).execute(ctx.db)


def remove_old(ctx: Context) -> int:
    """Remove records older than ``KEEP_HOURS`` (the sweep does)."""
    cutoff = ctx.dialect.plus_minutes(ctx.dialect.now(), -KEEP_HOURS * 60)
    with ctx.write():
        return int(Rec.delete().where(Rec.created_at < cutoff).execute(ctx.db))
