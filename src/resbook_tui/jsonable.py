"""Records as JSON values, one way for every output: ``--json``, the event archive.

Timestamps are ISO 8601 in UTC with ``Z``, dates ``YYYY-MM-DD``; text under a key ending in
``_at`` (an event detail's ``expires_at``) is read as a timestamp and written the same way.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .booking.records import Event


def json_time(value: datetime) -> str:
    """ISO 8601 in UTC with ``Z``: ``2026-11-30T22:35:06Z`` (microseconds only if any)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat() + "Z"


def json_time_text(text: str) -> str:
    """A timestamp that reached us as text (a migration's applied_at, an event detail's
    expires_at) in the same form; other text as it is."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return text
    return json_time(parsed) if len(text) > 10 else text  # a bare date stays a date


def to_jsonable(value: Any, key: str = "") -> Any:
    """Records, dicts and lists as JSON values; datetimes as ``json_time``, dates as
    ``YYYY-MM-DD``, and text under a key ending in ``_at`` read as a timestamp."""
    if is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(asdict(value))
    if isinstance(value, dict):
        return {k: to_jsonable(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return json_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and key.endswith("_at"):
        return json_time_text(value)
    return value


def event_json(e: Event) -> dict[str, Any]:
    """The object ``events --json``, the archive and ``GET /v1/admin/events`` give for an
    event (what ``to_jsonable`` makes of it), built field by field: ``dataclasses.asdict``
    deep-copies every event's details and took most of an archive's time."""
    return {
        "id": e.id,
        "occurred_at": json_time(e.occurred_at),
        "actor": e.actor,
        "action": e.action,
        "entity": e.entity,
        "entity_id": e.entity_id,
        "resource_id": e.resource_id,
        "date_from": e.date_from.isoformat() if e.date_from else None,
        "date_to": e.date_to.isoformat() if e.date_to else None,
        "customer_email": e.customer_email,
        "details": to_jsonable(e.details),
    }
