"""Live updates and connection health: a listener thread on its own connection.

The listener owns a ``ChangeFeed`` (created in its thread, as the feed requires) and loops
on ``feed.wait``: what other connections commit comes back to the app as one ``LiveChanges``
message per wake-up, which the app coalesces into one refresh of the visible screen.

It also watches the connection. When the feed (or a ping, or a ``check_now`` after a
failed call) raises, it reports ``LinkLost`` with the time of the next attempt, closes the
feed and retries with exponential backoff; once a new feed is subscribed it reports
``LinkUp`` and the app refreshes everything. The backoff wait is the only sleep, and
``stop`` or ``retry_now`` cut it short.

It is a plain daemon thread rather than a Textual worker so that it never takes one of
the few executor threads booking calls run on, and so that it stops within one tick
(``TICK_S``) when the app exits.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from textual.message import Message

from ..booking.changes import Change, ChangeFeed
from ..booking.queue import MAX_IDS
from ..db import first_line

TICK_S = 0.25  # how long one feed.wait blocks: bounds how late stop and checks are seen
PING_EVERY_S = 5.0  # a quiet feed is pinged this often, so a silent network cut shows too
FIRST_RETRY_S = 0.5
MAX_RETRY_S = 10.0

Clock = Callable[[], datetime]


# ---- what changed, merged -------------------------------------------------------------------


@dataclass
class ChangeSet:
    """Changes merged between two refreshes: enough to decide what to re-query."""

    everything: bool = False
    spans: list[tuple[frozenset[int], date | None, date | None]] = field(default_factory=list)
    entities: set[str] = field(default_factory=set)
    hold_ids: set[int] = field(default_factory=set)
    unnamed: set[str] = field(default_factory=set)  # entities changed without saying which
    notifications: int = 0

    def add(self, change: Change) -> None:
        self.notifications += 1
        if change.everything:
            self.everything = True
        if change.entity:
            self.entities.add(change.entity)
        if change.entity and change.entity_id is None:
            self.unnamed.add(change.entity)
        elif change.entity == "hold" and change.entity_id is not None:
            if len(self.hold_ids) < MAX_IDS:
                self.hold_ids.add(change.entity_id)
            else:  # too many to read by id (get_holds takes MAX_IDS): read again instead
                self.unnamed.add("hold")
        if change.resource_ids:
            self.spans.append((frozenset(change.resource_ids), change.date_from, change.date_to))

    def extend(self, changes: Iterable[Change]) -> None:
        for change in changes:
            self.add(change)

    @property
    def resources_changed(self) -> bool:
        """A resource was added, edited or (de)activated: names and rows may differ."""
        return self.everything or "resource" in self.entities

    @property
    def resource_ids(self) -> set[int]:
        return {rid for ids, _, _ in self.spans for rid in ids}

    def touches(self, resource_ids: Iterable[int], first: date, last: date) -> bool:
        """Whether any change may concern these resources between these dates."""
        if self.everything:
            return True
        wanted = set(resource_ids)
        for ids, date_from, date_to in self.spans:
            if not ids & wanted:
                continue
            if date_from is None or date_to is None:
                return True
            if date_from <= last and date_to >= first:
                return True
        return False

    def __bool__(self) -> bool:
        return self.everything or bool(self.spans) or bool(self.entities)


# ---- messages to the app ----------------------------------------------------------------------


class LinkUp(Message):
    """The listener is subscribed (the first time, or again after a loss)."""

    def __init__(self, restored: bool) -> None:
        super().__init__()
        self.restored = restored


class LinkLost(Message):
    """The connection is gone; the next attempt is at ``retry_at`` (the app's clock)."""

    def __init__(self, error: str, retry_at: datetime, first: bool) -> None:
        super().__init__()
        self.error = error
        self.retry_at = retry_at
        self.first = first  # the first report of this outage (later ones move retry_at)


class LinkChecked(Message):
    """A health check asked for by ``check_now`` found the connection alive."""


class LiveChanges(Message):
    def __init__(self, changes: list[Change]) -> None:
        super().__init__()
        self.changes = changes


# ---- the listener ------------------------------------------------------------------------------


class Listener:
    """Hears other connections' commits and watches the connection, in its own thread."""

    def __init__(
        self,
        url: str,
        post: Callable[[Message], Any],
        clock: Clock,
        open_feed: Callable[[str], ChangeFeed] = ChangeFeed,
    ) -> None:
        self.url = url
        self._post = post
        self._clock = clock
        self._open_feed = open_feed
        self._stop = threading.Event()
        self._wake = threading.Event()  # cuts a backoff wait short
        self._check = threading.Event()  # ping the connection at the next tick
        self._thread: threading.Thread | None = None
        # Counters, for tests and the curious (read from any thread).
        self.notifications = 0  # change notifications received
        self.losses = 0  # times the connection was found lost
        self.subscriptions = 0  # times a feed was subscribed

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="resbook-listener", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def retry_now(self) -> None:
        """Skip the rest of the backoff wait: try to reconnect at once."""
        self._wake.set()

    def check_now(self) -> None:
        """Ping the connection soon (a booking call just failed): report LinkLost or LinkChecked."""
        self._check.set()
        self._wake.set()

    def _send(self, message: Message) -> None:
        if not self._stop.is_set():
            self._post(message)

    def _run(self) -> None:
        feed: ChangeFeed | None = None
        delay = FIRST_RETRY_S
        lost = False
        last_ping = time.monotonic()
        try:
            while not self._stop.is_set():
                if feed is None:
                    try:
                        feed = self._open_feed(self.url)
                    except Exception as exc:  # noqa: BLE001 - any failure to subscribe is a loss
                        lost = self._report_loss(exc, delay, lost)
                        self._backoff(delay)
                        delay = min(delay * 2, MAX_RETRY_S)
                        continue
                    self.subscriptions += 1
                    self._check.clear()
                    self._send(LinkUp(restored=lost))
                    lost = False
                    delay = FIRST_RETRY_S
                    last_ping = time.monotonic()
                try:
                    if self._check.is_set() or time.monotonic() - last_ping > PING_EVERY_S:
                        checked = self._check.is_set()
                        self._check.clear()
                        feed.ping()
                        last_ping = time.monotonic()
                        if checked:
                            self._send(LinkChecked())
                    changes = feed.wait(TICK_S)
                    if changes:
                        self.notifications += len(changes)
                        last_ping = time.monotonic()
                        self._send(LiveChanges(changes))
                except Exception as exc:  # noqa: BLE001 - a broken feed is a lost connection
                    with contextlib.suppress(Exception):
                        feed.close()
                    feed = None
                    if self._stop.is_set():
                        break
                    lost = self._report_loss(exc, delay, lost)
                    self._backoff(delay)
                    delay = min(delay * 2, MAX_RETRY_S)
        finally:
            if feed is not None:
                with contextlib.suppress(Exception):
                    feed.close()

    def _report_loss(self, exc: BaseException, delay: float, lost: bool) -> bool:
        if not lost:
            self.losses += 1
        retry_at = self._clock() + timedelta(seconds=delay)
        self._send(LinkLost(first_line(exc), retry_at, first=not lost))
        return True

    def _backoff(self, delay: float) -> None:
        self._wake.clear()
        self._wake.wait(delay)
        self._check.clear()  # the reconnect attempt is the check
