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
import select
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import peewee

from ..db import POSTGRESQL, describe, dialect, first_line, open_database
from ..errors import DatabaseError
from .events import CHANNEL
from .records import Event

SQLITE_POLL_SECONDS = 0.5


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
        self.is_pg = dialect(self.db) == POSTGRESQL
        with self._lost_is_an_error():
            if self.is_pg:
                self.db.execute_sql(f"LISTEN {CHANNEL}")
                self._data_version = None
            else:
                self._data_version = self._read_data_version()

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
            self.db.execute_sql("SELECT 1").fetchone()

    def _read_data_version(self) -> int:
        return self.db.execute_sql("PRAGMA data_version").fetchone()[0]

    def wait(self, timeout: float = 1.0) -> list[Change]:
        """Block up to ``timeout`` seconds; return the changes committed meanwhile (maybe [])."""
        with self._lost_is_an_error():
            if self.is_pg:
                return self._wait_pg(timeout)
            return self._wait_sqlite(timeout)

    def _wait_sqlite(self, timeout: float) -> list[Change]:
        deadline = time.monotonic() + timeout
        while True:
            version = self._read_data_version()
            if version != self._data_version:
                self._data_version = version
                return [Change(everything=True)]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            time.sleep(min(SQLITE_POLL_SECONDS, remaining))  # the poll interval itself

    def _wait_pg(self, timeout: float) -> list[Change]:
        conn = self.db.connection()
        if not conn.notifies:
            readable, _, _ = select.select([conn], [], [], timeout)
            if readable:
                conn.poll()
        else:
            conn.poll()
        payloads = [n.payload for n in conn.notifies]
        conn.notifies.clear()
        return [Change.from_payload(p) for p in payloads]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.db.close()


def _driver_error(exc: BaseException) -> bool:
    return isinstance(exc, peewee.PeeweeException | sqlite3.Error) or type(
        exc
    ).__module__.startswith("psycopg2")


def last_event_id(db: peewee.Database) -> int:
    return db.execute_sql("SELECT COALESCE(MAX(id), 0) FROM booking_event").fetchone()[0]


def follow_events(
    bk: Any, after_id: int, timeout: float = 1.0, **filters: Any
) -> Iterator[list[Event]]:
    """Yield each new batch of events (matching ``filters``) as other connections commit them.

    ``bk`` is a Booking; ``timeout`` bounds how long a missed notification could delay us.
    """
    url = bk.db.resbook_url.raw
    feed = ChangeFeed(url)
    try:
        while True:
            # Look first, then wait: nothing committed before the feed existed is missed,
            # and the timeout bounds the delay if a notification never comes.
            new = bk.events(after_id=after_id, limit=None, **filters)
            if new:
                after_id = new[-1].id
                yield new
            feed.wait(timeout)
    finally:
        feed.close()
