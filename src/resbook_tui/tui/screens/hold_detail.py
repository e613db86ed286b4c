"""One hold: its fields, a live countdown while ACTIVE, and its event history."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Label, Static

from ...booking import Booking
from ...booking.events import Action
from ...booking.records import Event, Hold
from ...text import visible
from ..calls import Problem
from ..format import day_text, time_text
from ..widgets.countdown import Countdown
from ..widgets.keyed_table import Column, KeyedTable, Tag
from .base import Query
from .hold_actions import HoldActions

if TYPE_CHECKING:
    from ..live import ChangeSet

HISTORY_COLUMNS = [
    Column("when", "When (UTC)", width=19),
    Column("action", "Action", max_width=16),
    Column("actor", "Actor", max_width=16),
    Column("details", "Details", max_width=70),
]
ACTION_ROLES: dict[str, str] = {
    Action.HOLD_CREATE: "accent",
    Action.HOLD_CONFIRM: "success",
    Action.HOLD_RELEASE: "muted",
    Action.HOLD_EXPIRE: "warning",
    Action.HOLD_EXTEND: "accent",
}


@dataclass(frozen=True)
class HoldData:
    hold: Hold
    history: list[Event]
    resource_name: str
    clock_offset: timedelta | None = None


def load_hold(bk: Booking, hold_id: int) -> HoldData:
    hold = bk.get_hold(hold_id)
    history = bk.hold_history(hold_id)
    return HoldData(hold, history, bk.get_resource(hold.resource_id).name)


def details_text(details: dict[str, Any]) -> str:
    shown = {k: v for k, v in details.items() if k not in ("token",)}
    return ", ".join(
        f"{k}={v if not isinstance(v, dict | list) else json.dumps(v)}" for k, v in shown.items()
    )


class HoldDetailScreen(HoldActions):
    SCREEN_TITLE = "Hold detail"
    MUTATING = HoldActions.HOLD_ACTIONS

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("c", "confirm_hold", "Confirm"),
        Binding("x", "release_hold", "Release"),
        Binding("plus", "extend_hold", "Extend", key_display="+"),
    ]

    def __init__(self, hold_id: int) -> None:
        super().__init__()
        self.hold_id = hold_id
        self.data: HoldData | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(f" Hold #{self.hold_id}", id="hold-title")
        with Horizontal(id="hold-summary"):
            yield Static("loading…", id="hold-fields")
            with Horizontal(id="hold-countdown-box"):
                yield Countdown(self.rb.clock, id="hold-countdown")
        yield Label("History", classes="section")
        yield KeyedTable(HISTORY_COLUMNS, empty_text="No events.", id="hold-history")

    def on_mount(self) -> None:
        self.query_one("#hold-history", KeyedTable).focus()

    def query_data(self) -> Query:
        hold_id, app = self.hold_id, self.rb

        def call(bk: Booking) -> HoldData:
            return replace(load_hold(bk, hold_id), clock_offset=app.sample_clock(bk))

        return call, self._loaded

    def concerns(self, changes: ChangeSet) -> bool:
        if changes.everything or self.hold_id in changes.hold_ids:
            return True
        hold = self.data.hold if self.data else None
        # Its allocation's cancellation names the allocation, not the hold.
        return hold is None or changes.touches([hold.resource_id], hold.date, hold.date)

    def load_failed(self, problem: Problem) -> None:
        """No such hold, or no database: say so instead of "loading…" for good."""
        if self.data is not None:
            return  # the last data stays; the status bar says what is wrong
        reason = "not connected" if problem.code == "disconnected" else problem.message
        self.query_one("#hold-fields", Static).update(Text(f" Unavailable: {reason}", "bold"))
        self.query_one("#hold-countdown-box").display = False
        history = self.query_one("#hold-history", KeyedTable)
        history.empty_text = "No history to show."
        history.refresh()

    def _loaded(self, data: HoldData) -> None:
        self.rb.note_clock(data.clock_offset)
        self.data = data
        hold = data.hold
        cancelled = booking_cancelled(data.history)
        title = Text()
        title.append(f" Hold #{hold.id}", "bold")
        title.append(f"  {hold.status}", "bold")
        if cancelled:
            title.append(f" · booking cancelled (allocation #{cancelled})", "italic")
        title.append(f"   {visible(data.resource_name)} · {day_text(hold.date)}", "")
        self.query_one("#hold-title", Static).update(title)
        self.query_one("#hold-fields", Static).update(
            hold_fields(hold, data.resource_name, cancelled)
        )
        box = self.query_one("#hold-countdown-box")
        box.display = hold.status == "ACTIVE"
        self.query_one("#hold-countdown", Countdown).expires_at = hold.expires_at
        self.refresh_bindings()
        self.query_one("#hold-history", KeyedTable).sync(
            (
                str(event.id),
                [
                    time_text(event.occurred_at),
                    Tag(event.action, ACTION_ROLES.get(event.action, "")),
                    event.actor,
                    details_text(event.details),
                ],
            )
            for event in data.history
        )

    def selected_hold(self) -> Hold | None:
        return self.data.hold if self.data is not None else None


def booking_cancelled(history: list[Event]) -> int | None:
    """The allocation id if the booking made from this hold was cancelled."""
    for event in history:
        if event.action == Action.ALLOCATION_CANCEL:
            return event.entity_id
    return None


def hold_fields(hold: Hold, resource_name: str, cancelled: int | None = None) -> Text:
    text = Text()
    status = hold.status
    if cancelled:
        status += f", booking cancelled (allocation #{cancelled})"
    # An expiry matters while ACTIVE; afterwards only when that is how it ended.
    expiry = {"ACTIVE": "Expires at", "EXPIRED": "Expired at"}.get(hold.status)
    rows = (
        ("Resource", f"{resource_name} (#{hold.resource_id})"),
        ("Date", day_text(hold.date)),
        ("Quantity", str(hold.quantity)),
        ("Customer", hold.customer_email),
        ("Status", status),
        *(((expiry, f"{time_text(hold.expires_at)} UTC"),) if expiry else ()),
        ("Created", f"{time_text(hold.created_at)} UTC"),
        ("Token", hold.token),
    )
    for label, value in rows:
        text.append(f" {label:<11}", "dim")
        text.append(f"{visible(value)}\n")
    return text
