"""The change feed: learn, within a second, what other connections committed.

Every mutation writes its audit event in the transaction that makes it (events.py), so the
audit trail is the feed: a listener polls for events newer than the last one it saw, five
times a second, and turns them into Changes naming the hold (or resource) and its dates.
Writers announce nothing. A NOTIFY (what this used to be on PostgreSQL) makes its
transaction take one global lock at commit, so every hold's commit queued behind every
other's: issue 13 measured 8 writers at 0.31x pgbench doing the same statements.

Between polls a feed only probes whether anything was committed (the dialect's
``commit_marker``): the newest event id on PostgreSQL, an index-only probe of the primary
key; ``PRAGMA data_version`` on SQLite, which reads no table. Either only says when to
read: every mutation writes an event, and the events say what changed.

What a poll returns stays small whatever was committed:
- up to NAMED_MAX new events are read (one range of the primary key) as one Change each;
- more (a sweep batch, a busy minute) are read as one grouped summary per (action, entity):
  the resources and the date span, without naming rows (``entity_id`` None), and a count;
- beyond SUMMARY_MAX they are not read at all: ``everything``.

Late commits (PostgreSQL): an event's id is drawn when its row is inserted, not when its
transaction commits, so a transaction can commit an id below one a feed already read. Ids
missing below the newest one read are kept as holes (the newest HOLES_MAX, for HOLE_TTL_S
seconds) and looked up by primary key on each poll until they show or expire. Most holes
are rollbacks that never show. resbook's transactions commit right after writing their
events, so only a transaction held open for longer than HOLE_TTL_S after its event would
go unheard (``r`` in the TUI reads everything again). SQLite has no late commits: one
writer at a time, and an id is drawn inside the writer's transaction.

A ChangeFeed owns its own connection; create and use it in one thread.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import peewee
from peewee import fn

from .. import dialects
from ..db import describe, first_line, open_database, raw_url
from ..errors import DatabaseError
from ..models import BookingEvent
from .events import EventFilters
from .records import Event

if TYPE_CHECKING:
    from .service import Booking

POLL_S = 0.2  # between two probes while a feed waits
NAMED_MAX = 500  # new events a poll reads one by one; more are summarised
SUMMARY_MAX = 100_000  # new events a poll summarises; more are "everything", unread
HOLES_MAX = 256  # missing ids below the newest read that are looked for again
HOLE_TTL_S = 30.0  # and for how long

_E = BookingEvent
_COLUMNS = (_E.id, _E.action, _E.entity, _E.entity_id, _E.resource_id, _E.date_from, _E.date_to)
EventRow = tuple[Any, ...]  # _COLUMNS' values


@dataclass(frozen=True)
class Change:
    """What changed. ``everything`` is set when the feed cannot say (an event about no
    resource in particular, a very large burst, events deleted from the top)."""

    action: str = ""
    entity: str = ""
    entity_id: int | None = None
    resource_ids: tuple[int, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    event_id: int | None = None
    everything: bool = False
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_event(cls, row: EventRow) -> Change:
        """One audit event's change: its entity, resource and dates."""
        event_id, action, entity, entity_id, resource_id, date_from, date_to = row
        ids = () if resource_id is None else (int(resource_id),)
        first, last = _day(date_from), _day(date_to)
        return cls(
            action=action,
            entity=entity,
            entity_id=entity_id,
            resource_ids=ids,
            date_from=first,
            date_to=last,
            event_id=event_id,
            everything=not ids,
            raw={"event": event_id, "action": action, "entity": entity, "id": entity_id,
                 "resource_id": resource_id, "from": first, "to": last},
        )  # fmt: skip


def _day(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def summarise(rows: Iterable[tuple[Any, ...]]) -> list[Change]:
    """One Change per (action, entity) from rows grouped by (action, entity, resource_id):
    (action, entity, resource_id, first date, last date, events, events with a date)."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for action, entity, resource_id, first, last, count, dated in rows:
        g = groups.setdefault(
            (action, entity),
            {"ids": set(), "days": [], "count": 0, "whole": False, "undated": False},
        )
        g["count"] += int(count)
        if resource_id is None:
            g["whole"] = True  # an event about no resource in particular
        else:
            g["ids"].add(int(resource_id))
        g["undated"] = g["undated"] or int(dated) < int(count)
        g["days"] += [d for d in (_day(first), _day(last)) if d is not None]
    changes = []
    for (action, entity), g in sorted(groups.items()):
        ids = tuple(sorted(g["ids"]))
        spanned = g["days"] and not g["undated"]
        changes.append(
            Change(
                action=action,
                entity=entity,
                resource_ids=ids,
                date_from=min(g["days"]) if spanned else None,
                date_to=max(g["days"]) if spanned else None,
                everything=g["whole"],
                raw={
                    "action": action,
                    "entity": entity,
                    "count": g["count"],
                    "resource_ids": list(ids),
                },
            )  # fmt: skip
        )
    return changes


class ChangeFeed:
    """Raises DatabaseError (one line) when its connection cannot be opened or is lost."""

    def __init__(self, url: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.db: peewee.Database = open_database(url, read_only=True)
        self._clock = clock
        self._holes: dict[int, float] = {}  # id -> when it was first missed
        self._polled_at = float("-inf")  # when wait() last probed (time.monotonic)
        with self._lost_is_an_error():
            self._dialect = dialects.of(self.db)
            self._marker = self._dialect.commit_marker(self.db)
            self.last_id = last_event_id(self.db)  # the newest event this feed has read

    @property
    def holes(self) -> int:
        """Ids missing below the newest event read, still looked for (see the module)."""
        return len(self._holes)

    @contextlib.contextmanager
    def _lost_is_an_error(self) -> Iterator[None]:
        """Driver errors become one-line DatabaseErrors."""
        try:
            yield
        except Exception as exc:
            if not _driver_error(exc):
                raise
            self.close()
            raise DatabaseError(
                f"change feed lost on {describe(self.db)}: {first_line(exc)}"
            ) from None

    def ping(self) -> None:
        """Round-trip to the server, so a silent network cut shows as an error."""
        with self._lost_is_an_error():
            self.db.execute(peewee.Select(columns=[peewee.Value(1)])).fetchone()

    def wait(self, timeout: float = 1.0) -> list[Change]:
        """Poll until something was committed or ``timeout`` seconds passed; return the
        changes committed meanwhile (maybe []).

        Probes are POLL_S apart across calls too: a listener calls this in a loop with a
        short timeout, and polling again at each call's start (right after the probe that
        ended the one before) made 12 probes a second instead of 5."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            due = self._polled_at + POLL_S
            if now < due:
                if due > deadline:
                    time.sleep(max(deadline - now, 0))
                    return []
                time.sleep(due - now)  # the poll interval itself
            self._polled_at = time.monotonic()
            changes = self.poll()
            if changes or time.monotonic() >= deadline:
                return changes

    def poll(self) -> list[Change]:
        """What was committed since the last poll, without waiting."""
        with self._lost_is_an_error():
            marker = self._dialect.commit_marker(self.db)
            moved, self._marker = marker != self._marker, marker
            changes = self._late() if self._holes else []
            # The marker was read first: whatever commits after it moves it again.
            return changes + self._new() if moved else changes

    def _new(self) -> list[Change]:
        after = self.last_id
        rows = list(
            _E.select(*_COLUMNS)
            .where(_E.id > after)
            .order_by(_E.id)
            .limit(NAMED_MAX + 1)
            .tuples()
            .execute(self.db)
        )
        if len(rows) <= NAMED_MAX:
            if not rows:
                return self._rewound()
            self._missed(after, [r[0] for r in rows])
            self.last_id = rows[-1][0]
            return [Change.from_event(r) for r in rows]
        newest = last_event_id(self.db)
        self.last_id = newest
        if newest - after > SUMMARY_MAX:
            return [Change(everything=True, raw={"count": newest - after})]
        floor = max(after, newest - HOLES_MAX)
        top = _E.select(_E.id).where((_E.id > floor) & (_E.id <= newest)).tuples()
        self._missed(floor, [i for (i,) in top.execute(self.db)])
        return summarise(self._grouped(after, newest))

    def _grouped(self, after: int, newest: int) -> Iterator[tuple[Any, ...]]:
        query = (
            _E.select(
                _E.action,
                _E.entity,
                _E.resource_id,
                fn.MIN(_E.date_from).coerce(False),
                fn.MAX(_E.date_to).coerce(False),
                fn.COUNT(_E.id).coerce(False),
                fn.COUNT(_E.date_from).coerce(False),
            )
            .where((_E.id > after) & (_E.id <= newest))
            .group_by(_E.action, _E.entity, _E.resource_id)
        )
        yield from query.tuples().execute(self.db)

    def _rewound(self) -> list[Change]:
        """No event above the last one read: nothing new, unless events were deleted
        from the top (a database restored from a backup, say); then start again there."""
        newest = last_event_id(self.db)
        if newest >= self.last_id:
            return []
        self.last_id = newest
        self._holes.clear()
        return [Change(everything=True)]

    def _missed(self, after: int, seen: list[int]) -> None:
        """Remember the ids between ``after`` and the newest seen that did not show."""
        if not seen:
            return
        top = max(seen)
        now = self._clock()
        shown = set(seen)
        for i in range(max(after, top - HOLES_MAX) + 1, top):
            if i not in shown:
                self._holes.setdefault(i, now)
        if len(self._holes) > HOLES_MAX:
            for i in sorted(self._holes)[: len(self._holes) - HOLES_MAX]:
                del self._holes[i]

    def _late(self) -> list[Change]:
        """Events that committed after a newer one was read (their ids are holes)."""
        now = self._clock()
        for i, since in list(self._holes.items()):
            if now - since > HOLE_TTL_S:
                del self._holes[i]
        if not self._holes:
            return []
        query = _E.select(*_COLUMNS).where(_E.id.in_(sorted(self._holes))).order_by(_E.id)
        rows = list(query.tuples().execute(self.db))
        for row in rows:
            del self._holes[row[0]]
        return [Change.from_event(r) for r in rows]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.db.close()


def _driver_error(exc: BaseException) -> bool:
    return isinstance(exc, peewee.PeeweeException | sqlite3.Error) or type(
        exc
    ).__module__.startswith("psycopg2")


def last_event_id(db: peewee.Database) -> int:
    newest = BookingEvent.select(fn.COALESCE(fn.MAX(BookingEvent.id), 0)).scalar(db)
    return int(newest)


def follow_events(
    bk: Booking, *, after_id: int, timeout: float = 1.0, filters: EventFilters | None = None
) -> Iterator[list[Event]]:
    """Yield each new batch of events (matching ``filters``, the keywords of
    ``Booking.events``) as other connections commit them.

    ``timeout`` bounds how long a missed notification could delay us.
    """
    url = raw_url(bk.db)
    if url is None:
        raise DatabaseError(f"cannot follow {bk.description}: it was not opened from a URL")
    feed = ChangeFeed(url)
    try:
        while True:
            # Look first, then wait: nothing committed before the feed existed is missed,
            # and the timeout bounds the delay if a notification never comes.
            new = bk.events(after_id=after_id, limit=None, **(filters or {}))
            if new:
                after_id = new[-1].id
                yield new
            feed.wait(timeout)
    finally:
        feed.close()
