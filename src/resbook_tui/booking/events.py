"""The audit trail: every mutation writes its event in the same transaction as the change.

On PostgreSQL the same statement also announces the change with NOTIFY on one channel,
which PostgreSQL delivers only if the transaction commits (the live TUI listens to it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from . import search, validate
from .context import Context, Where, as_date, as_time
from .records import Event

CHANNEL = "resbook_changes"

_EVENT_COLUMNS = (
    "id, occurred_at, actor, action, entity, entity_id, resource_id, date_from, date_to, "
    "customer_email, details"
)


def record(
    ctx: Context,
    action: str,
    entity: str,
    entity_id: int | None,
    resource_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    email: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Write one event (and, on PostgreSQL, its notification) inside the caller's transaction."""
    params = (
        ctx.actor,
        action,
        entity,
        entity_id,
        resource_id,
        date_from,
        date_to or date_from,
        email,
        json.dumps(details or {}, sort_keys=True, default=str),
    )
    insert = (
        "INSERT INTO booking_event (actor, action, entity, entity_id, resource_id, date_from, "
        "date_to, customer_email, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    if not ctx.is_pg:
        ctx.execute(insert, params)
        return
    # One round trip: insert the event and announce it from the inserted row.
    ctx.execute(
        f"WITH e AS ({insert} RETURNING id, action, entity, entity_id, resource_id, "
        "date_from, date_to) "
        f"SELECT pg_notify('{CHANNEL}', json_build_object('event', e.id, 'action', e.action, "
        "'entity', e.entity, 'id', e.entity_id, 'resource_id', e.resource_id, "
        "'from', e.date_from, 'to', e.date_to)::text) FROM e",
        params,
    )


def notify_batch(ctx: Context, action: str, count: int, resource_ids: Sequence[int]) -> None:
    """One notification for a set-based change (a sweep batch), not one per row."""
    if not ctx.is_pg or count == 0:
        return
    payload = json.dumps(
        {"action": action, "entity": "hold", "count": count, "resource_ids": sorted(resource_ids)}
    )
    if len(payload) > 7000:  # NOTIFY payloads stop at 8000 bytes: say "everything" instead
        payload = json.dumps({"action": action, "entity": "hold", "count": count})
    ctx.execute(f"SELECT pg_notify('{CHANNEL}', ?)", (payload,))


def list_events(
    ctx: Context,
    resource_id: int | None = None,
    email: str | None = None,
    action: str | None = None,
    entity: str | None = None,
    entity_id: int | None = None,
    after_id: int = 0,
    limit: int | None = 200,
    *,
    email_contains: str | None = None,
) -> list[Event]:
    """Events oldest first; ``after_id`` and ``limit`` page through (or follow) the trail.
    ``email`` is a whole address, ``email_contains`` any part of one (any case)."""
    after_id = validate.after_id(after_id)
    limit = validate.limit(limit)
    resource_id = validate.optional_ident(resource_id, "resource")
    entity_id = validate.optional_ident(entity_id, "entity")
    email = validate.email_filter(email)
    email_contains = validate.email_filter(email_contains)
    action = validate.search(action, "action")
    entity = validate.search(entity, "entity")
    where = (
        Where()
        .add("id > ?", after_id)
        .add("resource_id = ?", resource_id)
        .add("customer_email = ?", email)
        .add(search.like("customer_email"), search.contains(email_contains))
        .add("action = ?", action)
        .add("entity = ?", entity)
        .add("entity_id = ?", entity_id)
    )
    sql = f"SELECT {_EVENT_COLUMNS} FROM booking_event WHERE {where.sql}"
    if limit is not None and after_id == 0:
        # The newest `limit` events, printed oldest first.
        sql = f"SELECT * FROM ({sql} ORDER BY id DESC LIMIT {int(limit)}) t ORDER BY id"
    else:
        sql += " ORDER BY id" + (f" LIMIT {int(limit)}" if limit is not None else "")
    with ctx.read():
        return [_event(row) for row in ctx.all(sql, where.params)]


def _event(row: tuple) -> Event:
    details = row[10]
    if isinstance(details, str | bytes):
        details = json.loads(details)
    return Event(
        id=row[0],
        occurred_at=as_time(row[1]),
        actor=row[2],
        action=row[3],
        entity=row[4],
        entity_id=row[5],
        resource_id=row[6],
        date_from=as_date(row[7]),
        date_to=as_date(row[8]),
        customer_email=row[9],
        details=details or {},
    )
