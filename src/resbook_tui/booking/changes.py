"""The change feed: learn, within a second, that another connection committed a change.

PostgreSQL: every mutation NOTIFYs on one channel in its own transaction (see events.py),
so a listener hears about commits only; a sweep sends one notification per batch.
SQLite: ``PRAGMA data_version`` changes when another connection commits; polling it
twice a second is cheap (no table is read).

A ChangeFeed owns its own connection; create and use it in one thread.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
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


@dataclass(frozen=True)
class Change:
    """What changed. ``everything`` is set when the source cannot say (SQLite, large sweeps)."""

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
    def from_payload(cls, payload: str) -> Change:
        try:
            data = json.loads(payload)
        except ValueError:
            return cls(everything=True)
        ids = data.get("resource_ids")
        if ids is None and data.get("resource_id") is not None:
            ids = [data["resource_id"]]
        return cls(
            action=data.get("action", ""),
            entity=data.get("entity", ""),
            entity_id=data.get("id"),
            resource_ids=tuple(ids or ()),
            date_from=date.fromisoformat(data["from"]) if data.get("from") else None,
            date_to=date.fromisoformat(data["to"]) if data.get("to") else None,
            event_id=data.get("event"),
            everything=ids is None,
            raw=data,
        )


class ChangeFeed:
    """Raises DatabaseError (one line) when its connection cannot be opened or is lost."""

    def __init__(self, url: str) -> None:
        self.db: peewee.Database = open_database(url, read_only=True)
        with self._lost_is_an_error():
            self._listener = dialects.of(self.db).listen(self.db)

    @contextlib.contextmanager
    def _lost_is_an_error(self) -> Iterator[None]:
        """Driver errors (psycopg2's own from ``poll``, too) become one-line DatabaseErrors."""
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
        """Block up to ``timeout`` seconds; return the changes committed meanwhile (maybe [])."""
        with self._lost_is_an_error():
            payloads = self._listener.wait(timeout)
        return [Change(everything=True) if p is None else Change.from_payload(p) for p in payloads]

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
