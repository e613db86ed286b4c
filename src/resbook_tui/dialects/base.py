"""What differs between SQLite and PostgreSQL, in one object chosen when a database opens.

As peewee's ``playhouse/migrate.py`` does with ``SchemaMigrator.from_database``: db.py picks
the dialect once, from the URL's scheme, and every other module asks the dialect object
instead of asking which database it is talking to. A dialect holds
- how a database is opened and its sessions are set up;
- the database clock (now, today, a moment plus minutes) as Peewee expressions;
- the locking idiom (``FOR UPDATE`` and advisory locks on PostgreSQL; on SQLite,
  ``BEGIN IMMEDIATE`` already made the transaction the only writer);
- what the change feed polls (the newest event id; ``PRAGMA data_version``) and JSON building;
- the statements that must stay raw, each with one line saying why. They live in the two
  dialect modules and nowhere else (``tests/test_layout.py`` counts them).

Everything else is written once with the Peewee models and query builder, which render it
for either database.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar

import peewee

from ..fields import to_utc
from ..models import (
    EVENT_FIELDS,
    HOLD_FIELDS,
    Action,
    BookingEvent,
    HoldRequest,
    ResourceCapacity,
    ResourceHold,
)
from ..session import PgSettings
from ..urls import DatabaseUrl
from .catalog import Catalog
from .compiled import Clock, Compiled, SlotMaker

HoldRow = tuple[Any, ...]  # one hold's values in HOLD_FIELDS order


class TokenTaken(Exception):
    """The idempotency token already names a committed request."""


class CellRefused(Exception):
    """The conditional UPDATE matched no row on ``day``: the rule refused it."""

    def __init__(self, day: date) -> None:
        super().__init__(day)
        self.day = day


@dataclass(frozen=True)
class HoldPlan:
    """Checked input for holding ``quantity`` units on every date from ``first`` to ``last``."""

    resource_id: int
    first: date
    last: date
    quantity: int
    email: str
    token: str | None
    ttl: int
    actor: str
    keys: tuple[str, ...]  # each new hold row's own key (idempotency_token), one per date

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(n) for n in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class SweepBatch:
    picked: int  # due holds looked at
    expired: int
    units: int
    cells: set[str]  # "resource_id/date" keys of the cells given units back
    last_id: int  # where the next batch starts


def hold_created(row: HoldRow, ttl: int) -> dict[str, Any]:
    """The details of a ``hold.create`` event (PostgreSQL builds the same in SQL)."""
    hold = dict(zip([f.name for f in HOLD_FIELDS], row, strict=True))
    expires_at = to_utc(hold["expires_at"])
    assert expires_at is not None
    return {
        "quantity": hold["quantity"],
        "ttl_minutes": ttl,
        "token": hold["request_token"] or hold["idempotency_token"],
        "expires_at": expires_at.isoformat(),
    }


def event_values(row: dict[str, Any]) -> dict[str, Any]:
    """An event row's values as its columns take them (details as JSON text, say)."""
    return {f.name: f.db_value(row[f.name]) for f in EVENT_FIELDS}


def insert_event(p: SlotMaker, dialect: Clock | None = None) -> peewee.ModelInsert:
    """One event row, with a slot for each value (see ``event_values``)."""
    return BookingEvent.insert({f: p(f.name) for f in EVENT_FIELDS})


class Dialect(ABC):
    name: ClassVar[str]

    # The hold path's statements, each built once (compiled.py says why).
    claim_token = Compiled(
        lambda p, d: HoldRequest.claim(p("t"), p("r"), p("first"), p("last"), p("q"), p("e"))
    )
    take_units = Compiled(
        lambda p, d: ResourceCapacity.take(p("r"), p("d"), p("q"), today=d.today())
    )
    insert_hold = Compiled(
        lambda p, d: ResourceHold.insert(
            {
                ResourceHold.resource: p("r"),
                ResourceHold.date: p("d"),
                ResourceHold.quantity: p("q"),
                ResourceHold.customer_email: p("e"),
                ResourceHold.idempotency_token: p("k"),
                ResourceHold.request_token: p("t"),
                ResourceHold.status: "ACTIVE",
                ResourceHold.expires_at: d.plus_minutes(d.now(), p("ttl")),
            }
        ).returning(*HOLD_FIELDS)
    )

    # ---- opening ------------------------------------------------------------------------

    @abstractmethod
    def open(
        self, url: DatabaseUrl, *, read_only: bool, create: bool, settings: PgSettings
    ) -> peewee.Database:
        """A Database for ``url`` whose every connection resbook sets up and checks."""

    # ---- the database clock, UTC ------------------------------------------------------------

    @abstractmethod
    def now(self) -> peewee.Node: ...

    @abstractmethod
    def today(self) -> peewee.Node: ...

    @abstractmethod
    def plus_minutes(self, moment: peewee.Node, minutes: int | peewee.Node) -> peewee.Node: ...

    def minutes_from_now(self, minutes: int | peewee.Node) -> peewee.Node:
        return self.plus_minutes(self.now(), minutes)

    # ---- JSON ----------------------------------------------------------------------------------

    @abstractmethod
    def json_object(self, *pairs: Any) -> peewee.Node:
        """A JSON object built by the database from alternating keys and values."""

    # ---- locks ---------------------------------------------------------------------------------

    @abstractmethod
    def lock_cells(self, db: peewee.Database, resource_id: int, first: date, last: date) -> None:
        """Lock a resource's capacity cells over a range, in the one global order
        (resource_id, date), until the transaction ends, so writers cannot deadlock."""

    @abstractmethod
    def serialize(self, db: peewee.Database, key: int) -> None:
        """Make transactions that name the same ``key`` take turns (until this one ends)."""

    @abstractmethod
    def try_serialize(self, db: peewee.Database, key: int) -> bool:
        """Take the transaction lock named ``key`` if nobody has it; never wait. False: a
        transaction that named ``key`` is still running."""

    def try_serialize_condition(self, key: int | peewee.Node) -> peewee.Node:
        """``try_serialize`` as a condition a statement can carry, so the lock is taken in
        the same round trip as what it guards (here: always true, as try_serialize is)."""
        return peewee.Value(True)

    def refused_by(self, db: peewee.Database, table: str) -> bool:
        """Whether the first failure of ``db``'s last transaction was a NOT NULL or unique
        constraint of ``table`` (PostgreSQL, whose statements may go several at once)."""
        return False

    @abstractmethod
    def exclusive(
        self, db: peewee.Database, key: int, on_wait: Callable[[], None] | None
    ) -> contextlib.AbstractContextManager[None]:
        """Hold a session-wide lock named ``key`` (migrations), waiting as long as it takes."""

    @abstractmethod
    def lock_tables(self, db: peewee.Database, tables: list[str]) -> None:
        """Keep every other session out of ``tables`` until the transaction ends."""

    # ---- the audit trail and the change feed ----------------------------------------------

    _insert_event = Compiled(insert_event)

    def write_event(self, db: peewee.Database, row: dict[str, Any]) -> None:
        """Insert one booking_event row (inside the caller's transaction). Nothing more:
        listeners find it by polling (``commit_marker``, booking/changes.py). Nothing
        reads its answer, so on PostgreSQL it goes with the transaction's next statement
        or its COMMIT (``Compiled.later``): a round trip fewer for most writes."""
        self._insert_event.later(db, self, event_values(row))

    # Rendered once: a TUI probes five times a second, and building the query each time
    # cost several times what the server spends answering it.
    _newest_event = Compiled(lambda p, d: BookingEvent.select(peewee.fn.MAX(BookingEvent.id)))

    def commit_marker(self, db: peewee.Database) -> int:
        """A number that moves when another connection may have committed a change: here
        the newest event id, an index-only probe of the primary key."""
        (newest,) = self._newest_event.run(db, self, {}).fetchone()
        return int(newest or 0)

    # ---- the hot paths ----------------------------------------------------------------------

    def take_holds(self, db: peewee.Database, plan: HoldPlan) -> list[HoldRow]:
        """Claim the token, lock the cells, then on each date take the units, insert the
        hold and write its event: all of it or, raising, none (the caller's transaction
        rolls back). TokenTaken when the token was used before, CellRefused(day) when the
        rule refused a date. The database decides both; nothing is read first.

        Written once through the models for any database; PostgreSQL overrides it with the
        same statements fused into one prepared round trip per date.
        """
        values = {
            "r": plan.resource_id,
            "first": plan.first,
            "last": plan.last,
            "q": plan.quantity,
            "e": plan.email,
            "t": plan.token,
            "ttl": plan.ttl,
        }
        if plan.token is not None and self.claim_token.run(db, self, values).fetchone() is None:
            raise TokenTaken
        self.lock_cells(db, plan.resource_id, plan.first, plan.last)
        rows: list[HoldRow] = []
        for day, key in zip(plan.days, plan.keys, strict=True):
            values.update(d=day, k=key)
            if self.take_units.run(db, self, values).rowcount != 1:
                raise CellRefused(day)
            row = tuple(self.insert_hold.run(db, self, values).fetchone())
            self.write_event(
                db,
                BookingEvent.row(
                    actor=plan.actor,
                    action=Action.HOLD_CREATE,
                    entity="hold",
                    entity_id=row[0],
                    resource_id=plan.resource_id,
                    date_from=day,
                    email=plan.email,
                    details=hold_created(row, plan.ttl),
                ),
            )
            rows.append(row)
        return rows

    def hold_one(self, db: peewee.Database, plan: HoldPlan) -> HoldRow:
        """``take_holds`` for a plan of one date, in a transaction of its own: committed
        when it returns, nothing of it kept when it raises. PostgreSQL sends the whole
        transaction as one message."""
        with db.atomic():
            return self.take_holds(db, plan)[0]

    @abstractmethod
    def sweep_batch(self, db: peewee.Database, *, actor: str, size: int, after: int) -> SweepBatch:
        """Expire up to ``size`` due holds with ids above ``after``, give their units back
        and write their events, as a few set-based statements (never one per hold)."""

    # ---- schema -------------------------------------------------------------------------------

    @abstractmethod
    def run_script(self, db: peewee.Database, script: str) -> None:
        """Run a migration file inside the caller's transaction."""

    @abstractmethod
    def create_history_table(self, db: peewee.Database, table: str) -> None: ...

    @abstractmethod
    def read_catalog(self, db: peewee.Database) -> Catalog:
        """The live schema (without row counts), the migration history table left out."""

    @abstractmethod
    def expected_catalog(self, db: peewee.Database, scripts: list[str]) -> Catalog:
        """What ``scripts`` build, replayed somewhere scratch and read back like the live
        schema; nothing of it stays."""
