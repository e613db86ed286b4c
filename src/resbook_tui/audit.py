"""The audit trail's vocabulary: the actions resbook records and what an event says.

The rows themselves are ``models.BookingEvent``; ``booking/events.py`` writes and reads
them.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, Required, TypedDict


class Action(StrEnum):
    """Every audit action resbook writes to ``booking_event.action``."""

    HOLD_CREATE = "hold.create"
    HOLD_CONFIRM = "hold.confirm"
    HOLD_RELEASE = "hold.release"
    HOLD_EXTEND = "hold.extend"
    HOLD_EXPIRE = "hold.expire"
    ALLOCATION_CANCEL = "allocation.cancel"
    RESOURCE_ADD = "resource.add"
    RESOURCE_EDIT = "resource.edit"
    RESOURCE_ACTIVATE = "resource.activate"
    RESOURCE_DEACTIVATE = "resource.deactivate"
    CAPACITY_SET = "capacity.set"
    BLACKOUT_ADD = "blackout.add"
    BLACKOUT_REMOVE = "blackout.remove"
    SEED = "seed"
    API_KEY_CREATE = "api_key.create"
    API_KEY_REVOKE = "api_key.revoke"


class EventFacts(TypedDict, total=False):
    """What an audit event says (who says it is the session's actor)."""

    action: Required[Action]
    entity: Required[str]
    entity_id: Required[int | None]
    resource_id: int | None
    date_from: date | None
    date_to: date | None
    email: str | None
    details: dict[str, Any] | None
