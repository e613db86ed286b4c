"""A seeded booking for the TUI tests, at a fixed 'today' and clock far in the future.

Holds can only be created for dates on or after the database's real CURRENT_DATE, so the
fixture's world lives in January 2030: its capacity, holds and blackout are all 'ahead' of
the real clock. The engine stamps real times (created_at, expires_at, event times); the
fixture then rewrites them to fixed 2030 times with plain SQL (tests may; the TUI may not)
so countdowns, tables and snapshots never depend on when the tests run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import peewee
import pytest

from resbook_tui.booking import Booking
from resbook_tui.db import POSTGRESQL, dialect, open_database
from resbook_tui.demo_history import backdate_holds
from resbook_tui.schema.migrations import Migrator
from resbook_tui.tui import ResbookApp

TODAY = date(2030, 1, 7)  # a Monday
NOW = datetime(2030, 1, 7, 9, 0, 0, tzinfo=UTC)
DAYS = 60
SHOWN_URL = "sqlite:///resbook-tui-test.db"  # what the status bar shows in snapshots


class FixedBooking(Booking):
    """The facade with a fixed description, so snapshots do not show a temp path."""

    @property
    def description(self) -> str:
        return SHOWN_URL


def _sql(db: peewee.Database, text: str, params: tuple = ()) -> None:
    if dialect(db) == POSTGRESQL:
        text = text.replace("?", "%s")
    db.execute_sql(text, params)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.000")


def seed_world(bk: Booking) -> dict[str, int]:
    """Seven resources, sixty days of capacity, bookings in every state; returns ids."""
    ids: dict[str, int] = {}
    fleet = (
        ("Land Cruiser 01", "VEHICLE", 6),
        ("Land Cruiser 02", "VEHICLE", 6),
        ("Troop Carrier 01", "VEHICLE", 11),
        ("Uluru Sunrise", "TOUR", 20),
        ("Kings Canyon Rim", "TOUR", 12),
        ("Alice Nguyen", "GUIDE", 1),
        ("Ben Carter", "GUIDE", 1),
    )
    last = TODAY + timedelta(DAYS - 1)
    for name, type_, capacity in fleet:
        resource = bk.add_resource(name, type_, f"{name} ({type_.lower()})")
        bk.set_capacity(resource.id, TODAY, last, capacity)
        ids[name] = resource.id
    bk.set_capacity(ids["Alice Nguyen"], TODAY + timedelta(10), TODAY + timedelta(12), 0)
    bk.add_blackout(
        ids["Land Cruiser 02"], TODAY + timedelta(2), TODAY + timedelta(3), "Scheduled service"
    )

    def confirmed(name: str, offset: int, quantity: int, email: str, order: str) -> int:
        hold = bk.create_hold(
            ids[name], TODAY + timedelta(offset), quantity, email, token=f"tok-{order}"
        )
        bk.confirm_hold(hold.id, order, "li-1")
        return hold.id

    confirmed("Land Cruiser 01", 0, 4, "ana@example.com", "order-1")
    confirmed("Land Cruiser 01", 1, 6, "dev@example.com", "order-2")
    confirmed("Uluru Sunrise", 0, 10, "erin@example.com", "order-3")
    confirmed("Uluru Sunrise", 5, 5, "farid@example.com", "order-4")
    confirmed("Kings Canyon Rim", 0, 3, "grace@example.com", "order-5")
    confirmed("Alice Nguyen", 0, 1, "ana@example.com", "order-6")

    active = (  # name, day offset, quantity, email, minutes left at NOW
        ("Land Cruiser 01", 0, 1, "ana@example.com", 3),
        ("Uluru Sunrise", 1, 2, "ben@example.com", 12),
        ("Kings Canyon Rim", 2, 1, "chen@example.com", 45),
        ("Troop Carrier 01", 0, 2, "ana@example.com", 125),
    )
    for n, (name, offset, quantity, email, minutes) in enumerate(active):
        hold = bk.create_hold(
            ids[name], TODAY + timedelta(offset), quantity, email, token=f"tok-active-{n}"
        )
        ids[f"active-{n}"] = hold.id
        _sql(
            bk.db,
            "UPDATE resource_hold SET expires_at = ? WHERE id = ?",
            (stamp(NOW + timedelta(minutes=minutes)), hold.id),
        )
    released = bk.create_hold(
        ids["Uluru Sunrise"], TODAY + timedelta(3), 2, "ana@example.com", token="tok-released"
    )
    bk.release_hold(released.id)
    ids["released"] = released.id
    if dialect(bk.db) != POSTGRESQL:
        stale = bk.create_hold(
            ids["Land Cruiser 02"], TODAY + timedelta(10), 1, "ana@example.com", token="tok-old"
        )
        backdate_holds(bk.db, [stale.id], minutes_ago=90)
        bk.sweep()
        ids["expired"] = stale.id
    bk.deactivate(ids["Ben Carter"])

    # Fixed times for everything the engine stamped with the real clock.
    created = stamp(NOW - timedelta(minutes=30))
    _sql(bk.db, "UPDATE resource_hold SET created_at = ?, updated_at = ?", (created, created))
    _sql(
        bk.db,
        "UPDATE resource_hold SET expires_at = ? WHERE status <> 'ACTIVE'",
        (stamp(NOW - timedelta(minutes=15)),),
    )
    _sql(bk.db, "UPDATE resource_allocation SET created_at = ?", (created,))
    _sql(bk.db, "UPDATE booking_event SET occurred_at = ?", (created,))
    if dialect(bk.db) != POSTGRESQL:  # event details carry real expiry times too
        _sql(
            bk.db,
            "UPDATE booking_event SET details = json_set(details, '$.expires_at', ?) "
            "WHERE json_extract(details, '$.expires_at') IS NOT NULL",
            (NOW.isoformat(),),
        )
    return ids


def make_booking(url: str, **kwargs: object) -> Booking:
    return FixedBooking(open_database(url, **kwargs), actor="dispatch")  # type: ignore[arg-type]


@pytest.fixture
def world_url(sqlite_url: str) -> Iterator[str]:
    db = open_database(sqlite_url)
    Migrator(db).up()
    seed_world(FixedBooking(db, actor="dispatch"))
    db.close()
    yield sqlite_url


@pytest.fixture
def world_ids(world_url: str) -> dict[str, int]:
    bk = make_booking(world_url)
    ids = {r.name: r.id for r in bk.list_resources()}
    holds = bk.list_holds(status="ACTIVE")
    for n, hold in enumerate(sorted(holds, key=lambda h: h.id)):
        ids[f"active-{n}"] = hold.id
    bk.close()
    return ids


@pytest.fixture
def booking(world_url: str) -> Iterator[Booking]:
    bk = make_booking(world_url)
    yield bk
    bk.close()


@pytest.fixture
def make_app(booking: Booking) -> Callable[..., ResbookApp]:
    def make(**kwargs: object) -> ResbookApp:
        kwargs.setdefault("today", TODAY)
        kwargs.setdefault("clock", lambda: NOW)
        return ResbookApp(kwargs.pop("booking", booking), **kwargs)  # type: ignore[arg-type]

    return make


class LayoutCounter:
    """How many times a screen was laid out (Textual's private ``Screen._refresh_layout``,
    its one layout path: no public hook counts layouts)."""

    def __init__(self) -> None:
        self.count = 0


@pytest.fixture
def layouts(monkeypatch: pytest.MonkeyPatch) -> LayoutCounter:
    from textual.screen import Screen

    counter = LayoutCounter()
    laid_out = Screen._refresh_layout

    def counted(self: Screen, *args: object, **kwargs: object) -> None:
        counter.count += 1
        laid_out(self, *args, **kwargs)

    monkeypatch.setattr(Screen, "_refresh_layout", counted)
    return counter
