"""Seed resources and their daily capacity: idempotent, bulk, one transaction.

Capacity rows are made by the database itself (an INSERT ... SELECT over the resources
and the days of a chunk) in chunks of resources, so 365,000 rows take seconds and a
progress callback can move between chunks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import peewee
from peewee import SQL

from . import dialects
from .booking import events
from .booking.context import Context
from .config import DEFAULT_HOLD_TTL_MINUTES, default_actor
from .db import database_errors
from .errors import EXIT_INVALID, ResbookError
from .models import Action, Resource, ResourceCapacity

# The default capacity of one resource on one day, by type: seats in a 4WD, places on a
# tour, and a guide is one person.
DEFAULT_CAPACITY = {"VEHICLE": 6, "TOUR": 12, "GUIDE": 1}
NAME_PATTERNS = {"VEHICLE": "4WD Cruiser {n}", "TOUR": "Outback Day Tour {n}", "GUIDE": "Guide {n}"}
_CHUNK = 50  # resources per capacity statement: a progress step and a bounded statement
_SEED_LOCK_KEY = 0x7265_7362_6F6F6C  # serialises concurrent seeds on PostgreSQL
MAX_RESOURCES = 100_000  # of each type: a bound that keeps the plan in memory


class SeedError(ResbookError):
    exit_code = EXIT_INVALID
    code = "invalid_input"


@dataclass(frozen=True)
class SeedPlan:
    vehicles: int = 3
    tours: int = 0
    guides: int = 0
    days: int = 90
    start: date | None = None
    capacity: int | None = None

    def validate(self) -> None:
        for label, value in (
            ("vehicles", self.vehicles),
            ("tours", self.tours),
            ("guides", self.guides),
        ):
            if not 0 <= value <= MAX_RESOURCES:
                raise SeedError(f"--{label} must be between 0 and {MAX_RESOURCES}, not {value}")
        if not 1 <= self.days <= 3660:
            raise SeedError(f"--days must be between 1 and 3660, not {self.days}")
        if self.capacity is not None and not 0 <= self.capacity <= 100_000:
            raise SeedError(f"--capacity must be between 0 and 100000, not {self.capacity}")
        if self.start is not None and (date.max - self.start).days < self.days - 1:
            raise SeedError(f"--days {self.days} from {self.start} runs past {date.max}")

    def wanted(self) -> list[tuple[str, str]]:
        """(name, type) of every resource the plan asks for."""
        out: list[tuple[str, str]] = []
        for type_, count in (
            ("VEHICLE", self.vehicles),
            ("TOUR", self.tours),
            ("GUIDE", self.guides),
        ):
            out += [(NAME_PATTERNS[type_].format(n=n), type_) for n in range(1, count + 1)]
        return out


@dataclass(frozen=True)
class SeedResult:
    resources_created: int
    resources_existing: int
    capacity_rows_created: int
    start: date
    days: int


def seed(
    db: peewee.Database,
    plan: SeedPlan,
    progress: Callable[[int, int], None] | None = None,
) -> SeedResult:
    """Create what the plan asks for that is not there yet. ``progress(done, total)``."""
    plan.validate()
    start = plan.start or _db_today(db)
    wanted = plan.wanted()
    with database_errors(db), db.atomic():
        dialects.of(db).serialize(db, _SEED_LOCK_KEY)  # concurrent seeds take turns
        ids, created = _ensure_resources(db, wanted)
        rows = 0
        items = list(ids.items())
        for i in range(0, len(items), _CHUNK):
            rows += _insert_capacity(db, items[i : i + _CHUNK], start, plan)
            if progress:
                progress(min(i + _CHUNK, len(items)), len(items))
        if created or rows:
            _record_event(db, created, rows, start, plan)
    return SeedResult(created, len(wanted) - created, rows, start, plan.days)


def _db_today(db: peewee.Database) -> date:
    value = peewee.Select(columns=[dialects.of(db).today()]).scalar(db)
    return value if isinstance(value, date) else date.fromisoformat(value)


def _existing(db: peewee.Database) -> dict[tuple[str, str], int]:
    live = Resource.select(Resource.id, Resource.name, Resource.type).where(Resource.live())
    return {(name, type_): id_ for id_, name, type_ in live.tuples().execute(db)}


def _ensure_resources(
    db: peewee.Database, wanted: list[tuple[str, str]]
) -> tuple[dict[tuple[str, str], tuple[int, str]], int]:
    existing = _existing(db)
    missing = [w for w in wanted if w not in existing]
    for chunk_start in range(0, len(missing), 500):
        chunk = missing[chunk_start : chunk_start + 500]
        try:
            Resource.insert_many(
                chunk, fields=[Resource.name, Resource.type]
            ).as_rowcount().execute(db)
        except peewee.IntegrityError:  # migration 0003: one active resource per name
            names = ", ".join(name for name, _ in chunk[:3]) + (", ..." if len(chunk) > 3 else "")
            raise SeedError(
                f"an active resource already has one of the names seed would add ({names}) "
                "in another case or type; rename or deactivate it first"
            ) from None
    if missing:
        existing = _existing(db)
    return {w: (existing[w], w[1]) for w in wanted}, len(missing)


def _insert_capacity(
    db: peewee.Database,
    items: list[tuple[tuple[str, str], tuple[int, str]]],
    start: date,
    plan: SeedPlan,
) -> int:
    """Every (resource, day) pair of the chunk as one INSERT ... SELECT over two VALUES
    lists, so the database makes the rows (365,000 take seconds) and existing ones stay."""
    if not items:
        return 0
    # (id, capacity) pairs: capacity can differ by type unless --capacity fixes it.
    pairs = [
        (rid, plan.capacity if plan.capacity is not None else DEFAULT_CAPACITY[type_])
        for _key, (rid, type_) in items
    ]
    resources = peewee.ValuesList(pairs).cte("r", columns=("id", "cap"))
    days = peewee.ValuesList([(start + timedelta(n),) for n in range(plan.days)])
    day = days.cte("d", columns=("day",))
    cells = (
        peewee.Select(
            from_list=[resources, day],
            columns=[resources.c.id, day.c.day, resources.c.cap, resources.c.cap],
        )
        .with_cte(resources, day)
        .where(SQL("1 = 1"))  # SQLite needs a WHERE before ON CONFLICT after a join
    )
    cell = ResourceCapacity
    insert = cell.insert_from(
        cells, [cell.resource, cell.date, cell.max_capacity, cell.available_capacity]
    ).on_conflict(conflict_target=[cell.resource, cell.date], action="NOTHING")
    return max(int(insert.as_rowcount().execute(db)), 0)


def _record_event(
    db: peewee.Database, created: int, rows: int, start: date, plan: SeedPlan
) -> None:
    # The audit trail arrives with migration 0002; seeding a 0001-only schema still works.
    if "booking_event" not in db.get_tables():
        return
    ctx = Context(db, default_actor(), DEFAULT_HOLD_TTL_MINUTES)
    details = {"resources_created": created, "capacity_rows_created": rows, "days": plan.days}
    events.record(
        ctx,
        action=Action.SEED,
        entity="capacity",
        entity_id=None,
        date_from=start,
        date_to=start + timedelta(plan.days - 1),
        details=details,
    )
