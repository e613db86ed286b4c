"""Helpers for the booking engine tests (not a test module)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

import peewee
import pytest

from resbook_tui.booking import Booking, BookingError, Cell, Resource

TABLES = (
    "resource",
    "resource_capacity",
    "resource_blackout",
    "resource_hold",
    "resource_allocation",
    "booking_event",
)


def state(db: peewee.Database) -> dict[str, list[tuple]]:
    """Every row of every booking table: two equal states mean nothing changed."""
    return {t: db.execute_sql(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in TABLES}


def count(db: peewee.Database, sql: str, params: tuple = ()) -> int:
    if isinstance(db, peewee.PostgresqlDatabase):
        sql = sql.replace("?", "%s")
    return db.execute_sql(sql, params).fetchone()[0]


@contextmanager
def refused(bk: Booking, code: str) -> Iterator[pytest.ExceptionInfo[BookingError]]:
    """The block must raise BookingError with ``code`` and leave every table as it was."""
    before = state(bk.db)
    with pytest.raises(BookingError) as info:
        yield info
    assert info.value.code == code, f"{info.value.code}: {info.value}"
    assert str(info.value) and "\n" not in str(info.value)
    assert state(bk.db) == before, "a refused operation changed the database"


def past_sql(bk: Booking, minutes: int = 1) -> str:
    """An SQL expression for the database clock ``minutes`` ago."""
    if bk.dialect == "postgresql":
        return f"now() - interval '{int(minutes)} minutes'"
    return f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-{int(minutes)} minutes')"


def expire(bk: Booking, *hold_ids: int, minutes: int = 1) -> None:
    """Move holds' expiry into the past (time passing), without touching their status."""
    for hold_id in hold_ids:
        p = "%s" if bk.dialect == "postgresql" else "?"
        bk.db.execute_sql(
            f"UPDATE resource_hold SET expires_at = {past_sql(bk, minutes)} WHERE id = {p}",
            (hold_id,),
        )


def cell(bk: Booking, resource_id: int, day: date) -> Cell:
    cells = bk.availability(day, day, resource_id=resource_id)
    assert len(cells) == 1, f"no capacity cell for resource {resource_id} on {day}"
    return cells[0]


def units(bk: Booking, resource_id: int, day: date) -> tuple[int, int, int, int]:
    """(max, available, held, allocated) of one cell."""
    c = cell(bk, resource_id, day)
    return (c.max_capacity, c.available, c.held, c.allocated)


def actions(bk: Booking, **filters) -> list[str]:
    return [e.action for e in bk.events(limit=None, **filters)]


@dataclass
class World:
    """A Booking with one resource whose capacity is set from tomorrow for ``days`` days."""

    bk: Booking
    resource: Resource
    first: date  # tomorrow by the database clock: never in the past during a test
    days: int
    capacity: int

    @property
    def rid(self) -> int:
        return self.resource.id

    def day(self, n: int = 0) -> date:
        return self.first + timedelta(days=n)


def make_world(
    db: peewee.Database, capacity: int = 5, days: int = 5, name: str = "Cruiser"
) -> World:
    bk = Booking(db, actor="test")
    resource = bk.add_resource(name, "VEHICLE")
    first = bk.today() + timedelta(days=1)
    bk.set_capacity(resource.id, first, first + timedelta(days=days - 1), capacity)
    return World(bk, resource, first, days, capacity)
