"""The app's link to the database: live updates from other connections, the connection's
state, the database clock, and changes whose outcome is unknown.

A listener thread (``live.py``) hears other connections' commits; the app merges them and
lets the visible screen re-query what it shows, at most every ``APPLY_EVERY_S``. It also
watches the connection: while it is lost the screens keep their data, mutating keys are
disabled, the status bar says when the next attempt is, and on reconnect every screen
refreshes and changes that were in flight are settled from the audit trail.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from textual.app import App
from textual.reactive import reactive
from textual.screen import Screen

from ..booking import Booking
from .calls import run_booking
from .live import ChangeSet, LinkChecked, LinkLost, LinkUp, Listener, LiveChanges
from .outcome import Unsure, find_outcome
from .screens.base import ResbookScreen

APPLY_EVERY_S = 0.2  # live refreshes of one screen start at most this often
SKEW_TOLERANCE = timedelta(milliseconds=250)  # smaller clock offsets are left alone

CONNECTING, CONNECTED, DISCONNECTED = "connecting", "connected", "disconnected"


class LinkedApp(App[None]):
    """What the app knows about its database connection and other connections' changes."""

    # CONNECTING until the listener first reports, then CONNECTED or DISCONNECTED.
    link: reactive[str] = reactive(CONNECTING)
    retry_at: reactive[datetime | None] = reactive(None)

    listener: Listener | None
    link_history: list[str]
    correct_skew: bool
    clock_offset: timedelta
    _local_clock: Callable[[], datetime]
    _changes: ChangeSet
    _apply_timer: Any
    _last_apply: float
    _unsure: list[Unsure]
    _settling: bool
    _mode_screens: dict[str, Screen[Any]]

    # ---- the clock -------------------------------------------------------------------------

    def sample_clock(self, bk: Booking) -> timedelta | None:
        """Measure the database clock against the local one (in a worker): None if unused."""
        if not self.correct_skew:
            return None
        before = self._local_clock()
        database = bk.now()
        after = self._local_clock()
        return database - (before + (after - before) / 2)

    def note_clock(self, offset: timedelta | None) -> None:
        """Take a fresh offset measurement (on the UI thread)."""
        if offset is not None and abs(offset - self.clock_offset) > SKEW_TOLERANCE:
            self.clock_offset = offset

    # ---- live updates and the connection -------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.link == CONNECTED

    def _post_from_listener(self, message: Any) -> None:
        self.post_message(message)

    def retry_now(self) -> None:
        if self.listener is not None:
            self.listener.retry_now()

    def on_link_up(self, message: LinkUp) -> None:
        was = self.link
        self.link = CONNECTED
        self.retry_at = None
        if was == DISCONNECTED:
            self.notify("Reconnected: screens refreshed.", title="Database", severity="information")
        # First report or back after a loss: everything may have changed meanwhile.
        self._refresh_all()
        self._settle_unsure()

    def on_link_lost(self, message: LinkLost) -> None:
        was = self.link
        self.link = DISCONNECTED
        self.retry_at = message.retry_at
        if message.first or was != DISCONNECTED:
            self.notify(
                f"{message.error}. Retrying; the screen keeps the last data it had.",
                title="Database disconnected",
                severity="error",
                timeout=8,
                markup=False,
            )

    def on_link_checked(self, message: LinkChecked) -> None:
        self._settle_unsure()

    def on_live_changes(self, message: LiveChanges) -> None:
        self._changes.extend(message.changes)
        if self._apply_timer is None:
            wait = max(self._last_apply + APPLY_EVERY_S - time.monotonic(), 0.01)
            self._apply_timer = self.set_timer(wait, self._apply_changes)

    def watch_link(self, old: str, new: str) -> None:
        self.link_history.append(new)
        self.refresh_bindings()

    @property
    def notifications_received(self) -> int:
        """Changes the listener has heard: one per event, or per summary of a burst."""
        return self.listener.notifications if self.listener is not None else 0

    def _live_screen(self) -> Screen[Any] | None:
        """The screen live changes go to: the top data screen, even under a form."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, ResbookScreen):
                return screen
        return None

    def _apply_changes(self) -> None:
        self._apply_timer = None
        self._last_apply = time.monotonic()
        changes, self._changes = self._changes, ChangeSet()
        if not changes or not self.connected:
            return  # a reconnect refreshes everything anyway
        screen = self._live_screen()
        if isinstance(screen, ResbookScreen):
            screen.live_update(changes)

    def _refresh_all(self) -> None:
        """After (re)connecting: the visible screen reloads now, the others when shown."""
        self._changes = ChangeSet()
        live = self._live_screen()
        screens = {*self._mode_screens.values(), *self.screen_stack}
        for screen in screens:
            if isinstance(screen, ResbookScreen):
                shown = screen is live
                if shown:
                    screen.request_reload()
                else:
                    screen.stale = True

    # ---- changes whose outcome is unknown -------------------------------------------------

    def _track_unsure(self, unsure: Unsure) -> None:
        self._unsure.append(unsure)
        self.notify(
            f"The connection broke while sending: {unsure.expect.label}. Checking whether it "
            "committed…",
            title="Outcome unknown",
            severity="warning",
            timeout=8,
            markup=False,
        )
        if self.listener is not None:
            self.listener.check_now()  # LinkChecked or LinkUp then settles it
        else:
            self._settle_unsure()

    def _settle_unsure(self) -> None:
        if not self._unsure or self._settling or not self.connected:
            return
        self._settling = True
        pending = list(self._unsure)

        def look(bk: Booking) -> list[tuple[Unsure, Any]]:
            return [(unsure, find_outcome(bk, unsure)) for unsure in pending]

        def settled(outcomes: list[tuple[Unsure, Any]]) -> None:
            self._settling = False
            for unsure, event in outcomes:
                self._unsure.remove(unsure)
                label = unsure.expect.label
                if event is not None:
                    self.notify(
                        f"{label}: committed (audit event #{event.id}).",
                        title="Committed",
                        timeout=10,
                        markup=False,
                    )
                else:
                    self.notify(
                        f"{label}: did not commit. Nothing changed; do it again if still needed.",
                        title="Did not commit",
                        severity="warning",
                        timeout=10,
                        markup=False,
                    )
                if unsure.settled is not None:
                    unsure.settled(event is not None)
            screen = self._live_screen()
            if screen is not None and hasattr(screen, "request_reload"):
                screen.request_reload()

        def failed(_problem: Any) -> None:
            self._settling = False  # still unknown: tried again on the next (re)connect
            if self.listener is not None:
                self.listener.check_now()

        run_booking(self, look, settled, failed=failed, quiet=True, group="outcome")
