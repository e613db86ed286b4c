"""Screen 3: the hold queue with live countdowns, and 'where is my booking?'.

The queue shows one status at a time (ACTIVE by default, soonest expiry first; ``s``
cycles CONFIRMED, RELEASED, EXPIRED and all). ``/`` narrows it by email as you type,
partial text included; ``enter`` applies the filter and moves to the table, or, for a
complete email address, switches to that customer: every hold in any status, and their
allocations. ``escape`` clears the filter.

The countdown ticks once a second and repaints only the countdown column of the visible
rows; the queue is re-queried on focus, with ``r`` and when another connection commits a
change, never by the tick. A live refresh of the ACTIVE queue updates rows by diff (the
cursor, filter and scroll stay), and a hold that someone else confirmed, released or
expired stays in its row with its new status until the next full refresh (``r``), so it
never just vanishes from under the cursor.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Label, Static

from ...booking import Booking
from ...booking.records import HOLD_STATUSES, Allocation, Hold
from ...text import visible
from ..format import plural
from ..parsers import email as parse_email
from ..widgets.keyed_table import KeyedTable
from .base import Query
from .hold_actions import HoldActions
from .holds_data import (
    ACTIVE_COLUMNS,
    ALLOCATION_COLUMNS,
    OTHER_COLUMNS,
    Customer,
    allocation_row,
    hold_row,
    load_customer,
)
from .holds_queue import QueueView

ACTIVE = "ACTIVE"
STATUS_CYCLE: tuple[str | None, ...] = (*HOLD_STATUSES, None)  # None: every status
# A cancelled booking stays among the confirmed, where its row is.
STATUS_ORDER = {"ACTIVE": 0, "CONFIRMED": 1, "CANCELLED": 1, "RELEASED": 2, "EXPIRED": 3}


class HoldsScreen(QueueView):
    SCREEN_TITLE = "Holds"
    MUTATING = HoldActions.HOLD_ACTIONS | HoldActions.ALLOCATION_ACTIONS

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Find", key_display="/", priority=True),
        Binding("escape", "clear_filter", "Clear"),
        Binding("c", "confirm_hold", "Confirm"),
        Binding("x", "release_hold", "Release"),
        Binding("x", "cancel_allocation", "Cancel booking"),
        Binding("plus", "extend_hold", "Extend", key_display="+"),
        Binding("s", "cycle_status", "Status"),
        Binding("enter", "open_hold", "Hold detail", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.status: str | None = ACTIVE  # the status shown; None: all of them
        self.customer: str | None = None  # the customer shown, or None for the queue
        self.typed = ""  # the filter: narrows the list by email, partial text included
        self._holds: list[Hold] = []  # the loaded window of the queue, in its order
        self._total = 0  # holds the queue's filter matches, by the database
        self._offset = 0  # the queue position of the window's first hold
        self._shown: dict[str, Hold] = {}  # row key -> the hold as shown (status included)
        self._allocations: dict[str, Allocation] = {}
        # Holds others closed while shown: kept in place with their new status until `r`
        # (or until their window is left).
        self._closed_holds: dict[int, Hold] = {}
        self._changed: set[int] = set()  # holds other connections changed, not yet read
        self._reread = False  # a change that names no hold: read the window again

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="email, or part of one: enter applies", id="email")
        yield Static("", id="holds-title")
        yield KeyedTable(
            ACTIVE_COLUMNS, clock=self.rb.clock, empty_text="No active holds.", id="holds"
        )
        yield Label("Allocations", id="allocations-title", classes="section")
        yield KeyedTable(ALLOCATION_COLUMNS, empty_text="No allocations.", id="allocations")

    @property
    def table(self) -> KeyedTable:
        return self.query_one("#holds", KeyedTable)

    @property
    def filter_box(self) -> Input:
        return self.query_one("#email", Input)

    def on_mount(self) -> None:
        self.filter_box.display = False
        self._show_allocations(False)
        self.set_interval(1, self._tick)
        self.table.focus()

    def _tick(self) -> None:
        if self.is_current:
            self.table.tick()

    # ---- loading -------------------------------------------------------------------------

    def query_data(self) -> Query:
        if self.customer is None:
            return self.queue_query()
        app, email = self.rb, self.customer

        def customer(bk: Booking) -> Customer:
            return replace(load_customer(bk, email), clock_offset=app.sample_clock(bk))

        return customer, self._customer_loaded

    def _fill(self, holds: list[Hold]) -> None:
        """The customer view: every hold of one customer (a handful), all loaded."""
        if self.table.columns != OTHER_COLUMNS:
            self.table.set_columns(OTHER_COLUMNS)
        names = self.rb.resource_names
        self._shown = {str(h.id): h for h in holds}
        rows = ((str(h.id), hold_row(h, names, OTHER_COLUMNS)) for h in holds)
        self.table.sync(rows)
        self.refresh_bindings()

    def _customer_loaded(self, customer: Customer) -> None:
        if self.customer != customer.email:
            return
        self.rb.note_clock(customer.clock_offset)
        self.rb.remember_resources(customer.resources)
        self.table.empty_text = f"No holds for {visible(customer.email)}."
        # 'Where is my booking?': what is still open first, then by date.
        holds = sorted(customer.holds, key=lambda h: (STATUS_ORDER.get(h.status, 9), h.date))
        self._fill(holds)
        names = self.rb.resource_names
        self._allocations = {str(a.id): a for a in customer.allocations}
        self.query_one("#allocations", KeyedTable).sync(
            (str(a.id), allocation_row(a, names)) for a in customer.allocations
        )
        title = Text()
        title.append(f" Customer {visible(customer.email)}", "bold")
        title.append(
            f" · {plural(len(customer.holds), 'hold')} in any status · "
            f"{plural(len(customer.allocations), 'allocation')}",
        )
        title.append("  esc: back to the queue", "dim")
        self.query_one("#holds-title", Static).update(title)

    # ---- status --------------------------------------------------------------------------

    def action_cycle_status(self) -> None:
        index = STATUS_CYCLE.index(self.status) if self.customer is None else -1
        self.show_status(STATUS_CYCLE[(index + 1) % len(STATUS_CYCLE)])

    def show_status(self, status: str | None) -> None:
        """The queue of holds in ``status`` (None: every status); the filter stays."""
        self.customer = None
        self._show_allocations(False)
        self.status = status
        self._restart()
        self.focus_now(self.table)

    def _restart(self) -> None:
        """Another status or filter: the queue from its start, read again."""
        self._holds, self._closed_holds, self._total, self._offset = [], {}, 0, 0
        self._changed, self._reread = set(), False
        self.table.move_cursor_to_start()
        self._show_queue()
        self.reload()

    # ---- filter --------------------------------------------------------------------------

    def action_filter(self) -> None:
        self.filter_box.display = True
        self.focus_now(self.filter_box)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter" and not self.filtered:
            return False
        return super().check_action(action, parameters)

    @property
    def filtered(self) -> bool:
        return bool(self.customer or self.typed or self.filter_box.display)

    @on(Input.Changed, "#email")
    def _typed(self, event: Input.Changed) -> None:
        """The database narrows the queue as you type (a newer read replaces an older)."""
        self.typed = event.value
        if self.customer is None:
            self._restart()

    @on(Input.Submitted, "#email")
    def _applied(self, event: Input.Submitted) -> None:
        """Enter: a complete address shows that customer; anything else stays a filter."""
        text = event.value.strip()
        try:
            email = parse_email(text)
        except ValueError:
            self.apply_filter(text)
            return
        self.show_customer(email)

    def find(self, text: str) -> None:
        """Holds of every status whose email contains ``text`` (``:email TEXT``)."""
        self.show_status(None)
        self.apply_filter(text)

    def apply_filter(self, text: str) -> None:
        """Narrow the queue to emails containing ``text`` and move to the results."""
        if self.customer is not None:
            self.show_status(self.status)
        box = self.filter_box
        with box.prevent(Input.Changed):
            box.value = text
        box.display = bool(text)
        changed = text != self.typed
        self.typed = text
        if changed:
            self._restart()
        self.focus_now(self.table)

    def show_customer(self, email: str) -> None:
        """Every hold of this customer, in any status, and their allocations."""
        self.customer = email.strip().lower()
        box = self.filter_box
        box.display = True
        with box.prevent(Input.Changed):
            box.value = self.customer
        self.typed = ""
        self._show_allocations(True)
        self._fill([])
        self.focus_now(self.table)
        self.reload()

    def action_clear_filter(self) -> None:
        box = self.filter_box
        if not self.filtered:
            return
        self.customer = None
        self.typed = ""
        with box.prevent(Input.Changed):
            box.value = ""
        box.display = False
        self._show_allocations(False)
        self.focus_now(self.table)
        self._restart()

    def _show_allocations(self, show: bool) -> None:
        self.query_one("#allocations-title").display = show
        self.query_one("#allocations", KeyedTable).display = show
        if not show:
            self._allocations = {}

    # ---- selection -----------------------------------------------------------------------

    def selected_hold(self) -> Hold | None:
        if not self.table.has_focus:
            return None
        key = self.table.cursor_key
        return self._shown.get(key) if key is not None else None

    def allocation_customer(self, allocation: Allocation) -> str | None:
        return self.customer  # allocations are shown in the customer view only

    def selected_allocation(self) -> Allocation | None:
        table = self.query_one("#allocations", KeyedTable)
        if not table.display or not table.has_focus or table.cursor_key is None:
            return None
        return self._allocations.get(table.cursor_key)

    def on_keyed_table_highlighted(self, message: KeyedTable.Highlighted) -> None:
        self.refresh_bindings()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.refresh_bindings()

    def action_open_hold(self) -> None:
        hold = self.selected_hold()
        if hold is not None:
            from .hold_detail import HoldDetailScreen

            self.app.push_screen(HoldDetailScreen(hold.id))

    def on_keyed_table_selected(self, message: KeyedTable.Selected) -> None:
        if message.table.id == "holds":
            message.stop()
            self.action_open_hold()
