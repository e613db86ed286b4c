"""The audit trail: every mutation writes its event in the same transaction as the change.

The trail is also the change feed: open TUIs poll it for events newer than the last they
read (changes.py), so writers announce nothing.
"""

from __future__ import annotations

from typing import TypedDict, Unpack

from ..models import EVENT_FIELDS, Action, BookingEvent, EventFacts
from . import search, validate
from .context import Context, where
from .records import Event

__all__ = ["Action", "EventFilters", "hold_history", "list_events", "record"]


class EventFilters(TypedDict, total=False):
    """Which events ``Booking.events`` returns (and ``follow_events`` follows)."""

    resource_id: int | None
    email: str | None
    email_contains: str | None
    action: str | None
    entity: str | None
    entity_id: int | None


READ_FIELDS = (BookingEvent.id, BookingEvent.occurred_at, *EVENT_FIELDS)  # as Event has them


def record(ctx: Context, **event: Unpack[EventFacts]) -> None:
    """Write one event inside the caller's transaction. Keywords
    only: ``action``, ``entity``, ``entity_id`` and, where they apply, ``resource_id``,
    ``date_from``, ``date_to``, ``email``, ``details``."""
    ctx.dialect.write_event(ctx.db, BookingEvent.row(actor=ctx.actor, **event))


def list_events(
    ctx: Context,
    *,
    resource_id: int | None = None,
    email: str | None = None,
    action: str | None = None,
    entity: str | None = None,
    entity_id: int | None = None,
    after_id: int = 0,
    limit: int | None = 200,
    email_contains: str | None = None,
    oldest_first: bool = False,
) -> list[Event]:
    """Events oldest first; ``after_id`` and ``limit`` page through (or follow) the trail.
    From the start (``after_id`` 0) ``limit`` takes the newest, unless ``oldest_first``.
    ``email`` is a whole address, ``email_contains`` any part of one (any case)."""
    after_id = validate.after_id(after_id)
    limit = validate.limit(limit)
    resource_id = validate.optional_ident(resource_id, "resource")
    entity_id = validate.optional_ident(entity_id, "entity")
    email = validate.email_filter(email)
    email_contains = validate.email_filter(email_contains)
    action = validate.search(action, "action")
    entity = validate.search(entity, "entity")
    event = BookingEvent
    query = where(
        event.select(*READ_FIELDS),
        (event.id > after_id) if after_id else None,
        (event.resource_id == resource_id) if resource_id is not None else None,
        (event.customer_email == email) if email else None,
        search.matching(event.customer_email, email_contains),
        (event.action == action) if action else None,
        (event.entity == entity) if entity else None,
        (event.entity_id == entity_id) if entity_id is not None else None,
    )
    # With one action or one resource asked for, ordering by it first changes nothing
    # (it is the same in every row) but tells the planner to walk idx_event_action or
    # idx_event_resource: walking the whole trail's key back, filtering, looks cheaper
    # for a common action until it is rare in the tail (a busy hour of holds).
    leading = [event.action] if action else [event.resource_id] if resource_id else []
    if limit is not None and after_id == 0 and not oldest_first:
        # The newest `limit` events, printed oldest first.
        newest = query.order_by(*(c.desc() for c in leading), event.id.desc()).limit(limit)
        with ctx.read():
            rows = list(newest.tuples().execute(ctx.db))
        rows.reverse()
    else:
        query = query.order_by(*leading, event.id)
        if limit is not None:
            query = query.limit(limit)
        with ctx.read():
            rows = list(query.tuples().execute(ctx.db))
    return [Event(*row) for row in rows]


def hold_history(ctx: Context, hold_id: int) -> list[Event]:
    """Every event about one hold, oldest first, with those of the allocation it became."""
    history = list_events(ctx, entity="hold", entity_id=hold_id, limit=None)
    allocation_ids = {e.details["allocation_id"] for e in history if "allocation_id" in e.details}
    for allocation_id in sorted(allocation_ids):
        history += list_events(ctx, entity="allocation", entity_id=allocation_id, limit=None)
    return sorted(history, key=lambda e: e.id)
