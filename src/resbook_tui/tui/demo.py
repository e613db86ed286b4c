"""``resbook demo``: a SQLite database with a realistic fleet and bookings in every state.

Everything goes through the Booking facade (the same rules as production); only the
EXPIRED holds need ``demo_history`` to age a few holds before the sweep. The demo is
built once and reused; resources carry ``{"demo": true}`` metadata so ``--fresh`` never
deletes a database that is not a demo.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from ..booking import Booking, BookingError, Hold, Resource
from ..config import app_dir
from ..db import open_database, parse_url
from ..demo_history import backdate_holds
from ..errors import EXIT_INVALID, ResbookError
from ..schema.migrations import Migrator

DAYS = 365
BOOKED_DAYS = 45  # confirmed bookings thin out over the next six weeks
DEMO_MARK = {"demo": True}

Progress = Callable[[str], None]


class DemoError(ResbookError):
    exit_code = EXIT_INVALID
    code = "invalid_input"


@dataclass(frozen=True)
class DemoResource:
    name: str
    type: str
    capacity: int
    description: str


FLEET = (
    *(DemoResource(f"Land Cruiser {n:02d}", "VEHICLE", 6, "4WD, 6 seats") for n in range(1, 7)),
    DemoResource("Troop Carrier 01", "VEHICLE", 11, "4WD troopy, 11 seats"),
    DemoResource("Troop Carrier 02", "VEHICLE", 11, "4WD troopy, 11 seats"),
    DemoResource("Coaster Bus 01", "VEHICLE", 22, "Coach, 22 seats"),
    DemoResource("Uluru Sunrise", "TOUR", 24, "Sunrise at the base walk"),
    DemoResource("Kata Tjuta Valley Walk", "TOUR", 16, "Valley of the Winds"),
    DemoResource("Kings Canyon Rim", "TOUR", 14, "Rim walk, 6 hours"),
    DemoResource("Field of Light Dinner", "TOUR", 20, "Evening, dinner included"),
    DemoResource("West MacDonnell Day", "TOUR", 12, "Gorges and waterholes"),
    DemoResource("Palm Valley 4WD", "TOUR", 8, "Seasonal 4WD tour"),
    *(
        DemoResource(name, "GUIDE", 1, "Licensed guide")
        for name in (
            "Alice Nguyen",
            "Ben Carter",
            "Chloe Martin",
            "Dev Patel",
            "Erin Walsh",
            "Farid Haddad",
            "Grace Lee",
        )
    ),
)

CUSTOMERS = (
    "ana.silva@example.com",
    "ben.okafor@example.com",
    "chen.wei@example.com",
    "dana.kowalski@example.com",
    "elif.yilmaz@example.com",
    "finn.obrien@example.com",
    "gita.rao@example.com",
    "hugo.lefevre@example.com",
    "ines.garcia@example.com",
    "jonas.berg@example.com",
    "kiri.walker@example.com",
    "lena.fischer@example.com",
)


# Walk-in and online guests for the bulk of the bookings: a few each, as in real life.
GUESTS = tuple(
    f"{first}.{last}@example.com"
    for first in ("amir", "bea", "carlos", "dina", "emma", "femi", "gus", "hana", "ivan", "jade")
    for last in ("adams", "brown", "costa", "dubois", "evans", "fong", "gray", "horvat")
)


def default_demo_path() -> Path:
    return app_dir() / "demo.db"


def demo_url(db_flag: str | None) -> str:
    """The demo's database: ``--db`` when given (SQLite only), else a file in the app dir."""
    url = db_flag or f"sqlite:///{default_demo_path()}"
    if parse_url(url).path is None:  # the demo is a file it may delete and build again
        raise DemoError("resbook demo builds a SQLite database; give --db sqlite:///path.db")
    return url


def is_demo(bk: Booking) -> bool:
    return any(r.metadata.get("demo") for r in bk.list_resources())


def prepare_demo(url: str, fresh: bool = False, progress: Progress | None = None) -> bool:
    """Create (or reuse) the demo database at ``url``; returns True when it was built now."""
    say = progress or (lambda _message: None)
    path = parse_url(url).path
    assert path is not None
    if fresh and path.exists():
        _refuse_unless_demo(url, "--fresh would delete")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = open_database(url)
    try:
        Migrator(db).up()
        bk = Booking(db, actor="demo")
        if bk.list_resources():
            if not is_demo(bk):
                raise DemoError(
                    f"{parse_url(url).masked} already holds resources that are not demo data; "
                    "use another --db"
                )
            bk.sweep()  # a reused demo: let holds that ran out while it was closed expire
            return False
        build(bk, say)
        return True
    finally:
        db.close()


def _refuse_unless_demo(url: str, doing: str) -> None:
    db = open_database(url, read_only=True)
    try:
        ok = Booking(db, check_schema=False)
        try:
            demo = is_demo(ok)
        except ResbookError:
            demo = False
    finally:
        db.close()
    if not demo:
        raise DemoError(f"{doing} {parse_url(url).masked}, which is not a resbook demo database")


def build(bk: Booking, say: Progress, seed: int = 7) -> None:
    """The demo fleet, its capacity for a year, a blackout, and bookings in every state."""
    rng = random.Random(seed)
    today = bk.today()
    last = today + timedelta(DAYS - 1)
    say("Adding the fleet…")
    resources = {}
    for spec in FLEET:
        resource = bk.add_resource(spec.name, spec.type, spec.description, DEMO_MARK)
        bk.set_capacity(resource.id, today, last, spec.capacity)
        resources[spec.name] = (resource, spec)

    # Days without capacity: a guide on leave, a tour out of season.
    bk.set_capacity(resources["Erin Walsh"][0].id, today + timedelta(5), today + timedelta(18), 0)
    bk.set_capacity(
        resources["Palm Valley 4WD"][0].id, today + timedelta(30), today + timedelta(75), 0
    )
    bk.add_blackout(
        resources["Land Cruiser 03"][0].id,
        today + timedelta(3),
        today + timedelta(5),
        "Scheduled service",
    )
    bk.add_blackout(
        resources["Kings Canyon Rim"][0].id, today + timedelta(9), None, "Extreme heat closure"
    )

    say("Booking the next six weeks…")
    order = 10_000
    for resource, spec in resources.values():
        for offset in range(BOOKED_DAYS):
            day = today + timedelta(offset)
            # Busy now, quieter further out, busier at weekends.
            demand = 0.7 * math.exp(-offset / 20) + (0.15 if day.weekday() >= 5 else 0.0)
            target = round(spec.capacity * min(max(rng.gauss(demand, 0.18), 0.0), 1.0))
            while target > 0:
                quantity = 1 if spec.capacity == 1 else min(target, rng.randint(1, 4))
                email = rng.choice(GUESTS)
                order += 1
                try:
                    hold = bk.create_hold(resource.id, day, quantity, email, ttl_minutes=30)
                    bk.confirm_hold(hold.id, f"ORD-{order}", "LI-1")
                except BookingError:
                    break  # a blackout or a day without capacity: move on
                target -= quantity

    say("Adding holds in every state…")
    pick = _Picker(bk, list(resources.values()), rng, today)
    active_ttls = (2, 4, 7, 12, 18, 25, 30, 30, 45, 60, 90, 120, 240, 1440)
    for n, ttl in enumerate(active_ttls):
        pick.hold(ttl, CUSTOMERS[n % len(CUSTOMERS)])
    for n in range(8):  # the named customers have confirmed bookings too
        picked = pick.hold(30, CUSTOMERS[n % 4])
        if picked is not None:
            bk.confirm_hold(picked.id, f"ORD-{20_000 + n}", "LI-1")
    for n in range(5):
        picked = pick.hold(30, CUSTOMERS[n])
        if picked is not None:
            bk.release_hold(picked.id)
    stale = []
    for n in range(4):
        picked = pick.hold(1, CUSTOMERS[n + 5])
        if picked is not None:
            stale.append(picked.id)
    backdate_holds(bk.db, stale, minutes_ago=90)
    bk.sweep()
    bk.deactivate(resources["Troop Carrier 02"][0].id)


@dataclass
class _Picker:
    """Finds somewhere in the next fortnight with room for one more unit."""

    bk: Booking
    choices: list[tuple[Resource, DemoResource]]
    rng: random.Random
    today: date

    def hold(self, ttl: int, email: str) -> Hold | None:
        for _attempt in range(20):
            resource, _spec = self.rng.choice(self.choices)
            day = self.today + timedelta(self.rng.randint(0, 13))
            try:
                return self.bk.create_hold(resource.id, day, 1, email, ttl_minutes=ttl)
            except BookingError:
                continue
        return None


def open_demo(db_flag: str | None, fresh: bool, progress: Progress | None = None) -> str:
    """Prepare the demo and return its URL, for ``resbook demo`` to open the TUI on."""
    url = demo_url(db_flag)
    built = prepare_demo(url, fresh, progress)
    if progress is not None:
        progress("Demo database ready." if built else "Reusing the demo database.")
    return url


__all__ = ["DemoError", "build", "default_demo_path", "demo_url", "open_demo", "prepare_demo"]
