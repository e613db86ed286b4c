"""Helpers for driving the TUI in tests: wait for every booking call, read what is shown."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Static
from textual.worker import WorkerCancelled, WorkerFailed

from resbook_tui.booking import Booking
from resbook_tui.booking.records import Allocation
from resbook_tui.tui import ResbookApp
from resbook_tui.tui.widgets.keyed_table import KeyedTable, Tag


def asynctest(fn: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async test on a fresh event loop (no async plugin needed for Pilot tests)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return run


@dataclass
class Note:
    message: str
    title: str
    severity: str


def record_notifications(app: ResbookApp) -> list[Note]:
    """Every notification the app shows, in order (toasts are not easy to read back)."""
    notes: list[Note] = []
    original = app.notify

    def notify(message: str, *, title: str = "", severity: str = "information", **kw: Any):
        notes.append(Note(message, title, severity))
        return original(message, title=title, severity=severity, **kw)  # type: ignore[arg-type]

    app.notify = notify  # type: ignore[method-assign]
    return notes


async def settle(pilot: Pilot, rounds: int = 50) -> None:
    """Wait until the listener has reported, no booking call is in flight and every result
    has been handled."""
    app = pilot.app
    quiet = 0
    for _ in range(rounds):
        for worker in list(app.workers):
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
        await pilot.pause(0.01 if app.link == "connecting" else None)  # type: ignore[attr-defined]
        idle = app.busy == 0 and not any(w.is_running for w in app.workers)  # type: ignore[attr-defined]
        if idle and app.link != "connecting":  # type: ignore[attr-defined]
            quiet += 1
            if quiet >= 2:
                return
        else:
            quiet = 0
    running = [w for w in app.workers if w.is_running]
    raise AssertionError(f"the app did not settle: busy={app.busy}, running={running}")


def cancel_booking(booking: Booking, order_id: str) -> Allocation:
    """Cancel the world's one allocation of ``order_id``, as another desk would."""
    (allocation,) = [a for a in booking.list_allocations() if a.order_id == order_id]
    booking.cancel_allocation(allocation.id)
    return allocation


def text_of(app: ResbookApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


def table_rows(app: ResbookApp, selector: str) -> list[list[str]]:
    """A KeyedTable's rows as plain text, in display order."""
    table = app.screen.query_one(selector, KeyedTable)
    rows = []
    for key in table.keys:
        cells = table.row(key) or ()
        rows.append(
            [c.text if isinstance(c, Tag) else ("" if c is None else str(c)) for c in cells]
        )
    return rows


def column(app: ResbookApp, selector: str, key: str) -> list[str]:
    """One column of a KeyedTable (by its key), as plain text, in display order."""
    table = app.screen.query_one(selector, KeyedTable)
    index = [c.key for c in table.columns].index(key)
    return [row[index] for row in table_rows(app, selector)]


def footer_keys(app: ResbookApp) -> set[str]:
    """The actions whose keys the footer shows on the current screen."""
    return {
        binding.action
        for (_node, binding, enabled, _tooltip) in app.screen.active_bindings.values()
        if binding.show and enabled
    }


async def type_into(pilot: Pilot, selector: str, text: str) -> None:
    box = pilot.app.screen.query_one(selector, Input)
    box.focus()
    box.value = ""
    await pilot.pause()
    await pilot.press(*list(text))
    await pilot.pause()


def no_blink(app: ResbookApp) -> None:
    """Snapshots must not catch a text cursor half-way through a blink."""
    for box in app.screen.query(Input):
        box.cursor_blink = False
