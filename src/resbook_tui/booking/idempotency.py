"""Idempotency keys for the HTTP API, as the IETF Idempotency-Key draft (and Stripe) do it.

A key is scoped to the API key and the route. One transaction claims the key, runs the
effect and stores its answer, so the answer exists exactly when the effect does:

1. a lock named after the key's scope, taken without waiting (``Dialect.try_serialize``:
   a PostgreSQL transaction advisory lock; SQLite's BEGIN IMMEDIATE already keeps every
   other writer out). Not getting it means a request with this key is running: in flight;
2. the record's INSERT, whose unique index decides: a committed record with the same body
   hash is a replay of its stored answer, another hash a reuse. Steps 1 and 2 are one
   statement, the INSERT's rows given only if the lock is taken and the API key is live
   (unrevoked); when it makes no record, the key is looked at (revoked: ``revoked``,
   nothing runs) and the lock is asked for again to tell "in flight" from "there is a
   record". So the HTTP server need not read a key it knows before an idempotent request:
   a revocation still refuses the very next request;
3. the effect, then its answer stored in the record. A refusal (4xx) rolls the effect back
   to its savepoint and is stored as the key's answer; a server failure (5xx) rolls the
   whole transaction back, the record with it, so the retry runs. The answer goes out
   with the COMMIT (``Compiled.later``): one round trip fewer.

Records are kept ``KEEP_HOURS``: an older one is replaced by the next request with its key,
and the sweep removes them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import peewee
from peewee import fn

from ..dialects.compiled import Clock, Compiled, SlotMaker
from ..errors import ResbookError
from ..shop_models import ApiKey
from ..shop_models import IdempotencyRecord as Rec
from . import validate
from .context import Context
from .errors import invalid, naming

KEEP_HOURS = 24
HEADER = "Idempotency-Key"  # the field a bad key is named by
T = TypeVar("T")


@dataclass(frozen=True)
class Stored:
    """An answer as it was sent: status, body (JSON text) and Location, if any."""

    status: int
    body: str
    location: str | None = None


@dataclass(frozen=True)
class Outcome:
    """``done`` (``stored`` is this request's answer), ``replay`` (``stored`` is the first
    request's), ``reused`` (the key came with another body), ``in_flight`` or ``revoked``
    (the API key is revoked or gone: nothing ran)."""

    state: str
    stored: Stored | None = None


def key(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid("the Idempotency-Key header is required on this request", field=HEADER)
    # An HTTP header's bytes arrive as latin-1 text: a UTF-8 key would be stored as other
    # characters, or refused for the C1 "control characters" inside its bytes. The IETF
    # draft's key is an ASCII string.
    if not value.isascii() or not value.isprintable():
        raise invalid(
            "the Idempotency-Key must be printable ASCII (a UUID or a cart id, say)", field=HEADER
        )
    with naming(HEADER):
        cleaned = validate.text(value, "idempotency key", required=True)
    assert cleaned is not None
    return cleaned


def lock_key(api_key_id: int, route: str, idem_key: str) -> int:
    """The lock a scope's requests take turns on: 64 bits of its SHA-256."""
    digest = hashlib.sha256(f"{api_key_id}\n{route}\n{idem_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _scope(api_key_id: object, route: object, idem_key: object) -> peewee.Expression:
    """The record of this key (values or slots)."""
    return (Rec.api_key == api_key_id) & (Rec.route == route) & (Rec.idempotency_key == idem_key)


def _live(key_id: peewee.Node) -> peewee.ColumnBase:
    """The API key exists and is not revoked (read in the statement: never cached)."""
    return fn.EXISTS(
        ApiKey.select(ApiKey.id).where((ApiKey.id == key_id) & ApiKey.revoked_at.is_null())
    )


_CLAIMED = [Rec.api_key, Rec.route, Rec.idempotency_key, Rec.request_hash]


def _may_claim(p: SlotMaker, d: Clock) -> peewee.ColumnBase:
    """The API key is live and this transaction gets the scope's lock (so it never waits
    on an uncommitted record of another request)."""
    return _live(p("a")) & d.try_serialize_condition(p("lock"))


# The record's INSERT, made only if it may be claimed; rendered once (dialects/compiled.py).
_CLAIM = Compiled(
    lambda p, d: (
        Rec.insert_from(
            peewee.Select(columns=[p("a"), p("r"), p("k"), p("h")]).where(_may_claim(p, d)),
            _CLAIMED,
        )
        .on_conflict(
            conflict_target=[Rec.api_key, Rec.route, Rec.idempotency_key], action="NOTHING"
        )
        .returning(Rec.id)
    )
)

# The claim as a statement nobody reads: no ON CONFLICT, and the body hash (NOT NULL)
# given only if it may be claimed, so it inserts the record or fails.
_CLAIM_OR_FAIL = Compiled(
    lambda p, d: Rec.insert_from(
        peewee.Select(
            columns=[p("a"), p("r"), p("k"), peewee.Case(None, [(_may_claim(p, d), p("h"))])]
        ),
        _CLAIMED,
    )
)

# The stored answer, by the record's key (unique): the same statement on either path.
_ANSWER = Compiled(
    lambda p, d: Rec.update(
        {Rec.status_code: p("s"), Rec.response_body: p("b"), Rec.location: p("l")}
    ).where(_scope(p("a"), p("r"), p("k")))
)

_KEY_LIVE = Compiled(lambda p, d: peewee.Select(columns=[_live(p("a"))]))


def _store(ctx: Context, values: dict[str, object], stored: Stored) -> None:
    """The answer goes into the record with the transaction's COMMIT (``Compiled.later``)."""
    answered = {**values, "s": stored.status, "b": stored.body, "l": stored.location}
    _ANSWER.later(ctx.db, ctx.dialect, answered)


def run(
    ctx: Context,
    *,
    api_key_id: int,
    route: str,
    idem_key: str,
    request_hash: str,
    effect: Callable[[], T],
    answer: Callable[[T], Stored],
    refusal: Callable[[ResbookError], Stored | None],
) -> Outcome:
    """Run ``effect`` once per key; ``refusal`` says what a refusal's stored answer is
    (None: a server failure, not stored)."""
    idem_key = key(idem_key)
    lock = lock_key(api_key_id, route, idem_key)
    values = {"a": api_key_id, "r": route, "k": idem_key, "h": request_hash, "lock": lock}
    outcome = _claimed_later(ctx, values, effect, answer, refusal)
    if outcome is not None:
        return outcome
    scope = _scope(api_key_id, route, idem_key)
    cutoff = ctx.dialect.plus_minutes(ctx.dialect.now(), -KEEP_HOURS * 60)
    with ctx.write():
        if not _CLAIM.run(ctx.db, ctx.dialect, values).fetchall():
            if not _KEY_LIVE.run(ctx.db, ctx.dialect, {"a": api_key_id}).fetchone()[0]:
                return Outcome("revoked")
            if not ctx.dialect.try_serialize(ctx.db, lock):
                # Another request with this key is running; or replaying, if one is stored.
                return _earlier(ctx, scope, request_hash, cutoff) or Outcome("in_flight")
            earlier = _earlier(ctx, scope, request_hash, cutoff)
            if earlier is not None:
                return earlier
            # Older than KEEP_HOURS: the key is free again (and the lock is this one's).
            Rec.delete().where(scope).execute(ctx.db)
            if not _CLAIM.run(ctx.db, ctx.dialect, values).fetchall():
                return Outcome("revoked")  # the lock is ours: only a revocation since
        stored = _effect(effect, answer, refusal)
        _store(ctx, values, stored)
    return Outcome("done", stored)


def _effect(
    effect: Callable[[], T],
    answer: Callable[[T], Stored],
    refusal: Callable[[ResbookError], Stored | None],
) -> Stored:
    try:
        return answer(effect())
    except ResbookError as exc:
        refused = refusal(exc)
        if refused is None:
            raise  # the whole transaction goes, the record with it
        return refused


def _claimed_later(
    ctx: Context,
    values: dict[str, object],
    effect: Callable[[], T],
    answer: Callable[[T], Stored],
    refusal: Callable[[ResbookError], Stored | None],
) -> Outcome | None:
    """The common case in one round trip fewer, where statements can wait for the next
    (PostgreSQL, ``Compiled.later``): the claim goes with the effect's first statement,
    made to fail rather than insert nothing, so the transaction stops there and nothing
    of the effect can commit. None: the claim failed (a record exists, the key is in
    flight or revoked), all was rolled back, and ``run`` asks again statement by statement."""
    if getattr(ctx.db, "later", None) is None or ctx.db.in_transaction():
        return None
    try:
        with ctx.write():
            _CLAIM_OR_FAIL.later(ctx.db, ctx.dialect, values)
            stored = _effect(effect, answer, refusal)
            _store(ctx, values, stored)
    except Exception:
        if ctx.dialect.refused_by(ctx.db, Rec._meta.table_name):
            return None
        raise
    return Outcome("done", stored)


def _earlier(
    ctx: Context, scope: peewee.Expression, request_hash: str, cutoff: peewee.Node
) -> Outcome | None:
    """What a committed record of this key says (None: there is none, or it is too old)."""
    row = (
        Rec.select(
            Rec.request_hash,
            Rec.status_code,
            Rec.response_body,
            Rec.location,
            Rec.created_at < cutoff,
        )
        .where(scope)
        .tuples()
        .first(ctx.db)
    )
    if row is None or row[4]:
        return None
    if row[0] != request_hash:
        return Outcome("reused")
    return Outcome("replay", Stored(row[1], row[2] or "", row[3]))


def remove_old(ctx: Context) -> int:
    """Remove records older than ``KEEP_HOURS`` (the sweep does)."""
    cutoff = ctx.dialect.plus_minutes(ctx.dialect.now(), -KEEP_HOURS * 60)
    with ctx.write():
        return int(Rec.delete().where(Rec.created_at < cutoff).execute(ctx.db))
