"""Hold countdowns: time left until ``expires_at`` by the injected clock.

Formatting is a pure function so the hold queue can re-render only its countdown cells on
each tick; ``Countdown`` is the single-value widget the hold detail uses.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from textual.reactive import reactive
from textual.widgets import Static

from .columns import Tag

Clock = Callable[[], datetime]

WARN_BELOW = timedelta(minutes=5)


def seconds_left(expires_at: datetime, now: datetime) -> int:
    """Whole seconds until expiry, rounded up so a countdown reads 0:00 only when done."""
    delta = (expires_at - now).total_seconds()
    whole = int(delta)
    return whole + 1 if delta > whole else whole


def format_left(seconds: int) -> str:
    if seconds <= 0:
        return "expired"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def countdown(expires_at: datetime, now: datetime) -> Tag:
    """The countdown cell: warning colour under five minutes, error once expired."""
    left = seconds_left(expires_at, now)
    if left <= 0:
        return Tag("expired", "error")
    role = "warning" if left < WARN_BELOW.total_seconds() else ""
    return Tag(format_left(left), role)


class Countdown(Static):
    """Time left on one hold ("Expires in 3:00", then "Expired"), re-rendered every
    second from the app's clock."""

    expires_at: reactive[datetime | None] = reactive(None)

    def __init__(self, clock: Clock, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self._clock = clock

    def on_mount(self) -> None:
        self.set_interval(1, self._tick)
        self._tick()

    def watch_expires_at(self) -> None:
        self._tick()

    def _tick(self) -> None:
        if self.expires_at is None:
            self.update("")
            return
        tag = countdown(self.expires_at, self._clock())
        self.set_class(tag.role == "warning", "-warning")
        self.set_class(tag.role == "error", "-expired")
        self.update("Expired" if tag.role == "error" else f"Expires in {tag.text}")
