"""Give a demo database a past: move some fresh holds' clocks back so a sweep expires them.

The booking API rightly cannot create a hold that is already expired (a TTL is at least a
minute, counted from the database clock), so the demo cannot show EXPIRED holds on its
first run without this. It is demo data shaping, kept out of ``booking/`` and ``tui/``, and
refuses anything but SQLite, which is all ``resbook demo`` builds.
"""

from __future__ import annotations

from collections.abc import Sequence

import peewee

from .db import SQLITE, database_errors, dialect
from .errors import ConfigError

_STAMP = "strftime('%Y-%m-%d %H:%M:%f', 'now', ?)"


def backdate_holds(db: peewee.Database, hold_ids: Sequence[int], minutes_ago: int) -> None:
    """Make these holds (and their creation events) look ``minutes_ago`` minutes old,
    already past their expiry. Only ever used on a demo database."""
    if dialect(db) != SQLITE:
        raise ConfigError("backdating holds is for SQLite demo databases only")
    if not hold_ids:
        return
    marks = ", ".join("?" * len(hold_ids))
    created = f"-{int(minutes_ago)} minutes"
    expired = f"-{max(int(minutes_ago) - 30, 1)} minutes"
    with database_errors(db), db.atomic():
        db.execute_sql(
            f"UPDATE resource_hold SET created_at = {_STAMP}, expires_at = {_STAMP} "
            f"WHERE id IN ({marks}) AND status = 'ACTIVE'",
            (created, expired, *hold_ids),
        )
        db.execute_sql(
            f"UPDATE booking_event SET occurred_at = {_STAMP} "
            f"WHERE entity = 'hold' AND action = 'hold.create' AND entity_id IN ({marks})",
            (created, *hold_ids),
        )
