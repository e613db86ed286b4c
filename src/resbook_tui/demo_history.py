"""Give a demo database a past: move some fresh holds' clocks back so a sweep expires them.

The booking API rightly cannot create a hold that is already expired (a TTL is at least a
minute, counted from the database clock), so the demo cannot show EXPIRED holds on its
first run without this. It is demo data shaping, kept out of ``booking/`` and ``tui/``;
only ``resbook demo`` (and the tests' demo data) use it.
"""

from __future__ import annotations

from collections.abc import Sequence

import peewee

from . import dialects
from .db import database_errors
from .models import Action, BookingEvent, ResourceHold


def backdate_holds(db: peewee.Database, hold_ids: Sequence[int], minutes_ago: int) -> None:
    """Make these holds (and their creation events) look ``minutes_ago`` minutes old,
    already past their expiry. Only ever used on a demo database."""
    if not hold_ids:
        return
    clock = dialects.of(db)
    created = clock.minutes_from_now(-int(minutes_ago))
    expired = clock.minutes_from_now(-max(int(minutes_ago) - 30, 1))
    hold, event = ResourceHold, BookingEvent
    with database_errors(db), db.atomic():
        hold.update(created_at=created, expires_at=expired).where(
            hold.id.in_(list(hold_ids)) & (hold.status == "ACTIVE")
        ).execute(db)
        event.update(occurred_at=created).where(
            (event.entity == "hold")
            & (event.action == str(Action.HOLD_CREATE))
            & event.entity_id.in_(list(hold_ids))
        ).execute(db)
