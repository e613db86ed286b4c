"""Screen 3: the ACTIVE hold queue with live countdowns, and 'where is my booking?'.

Typing after ``/`` narrows the loaded queue by email as you type; enter on an email
switches to that customer: every hold in any status, and their allocations.
The countdown ticks once a second and repaints only the countdown column of the visible
rows; the queue is re-queried on focus and with ``r``, never by the tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Label, Static

from ...booking import Booking
from ...booking.records import Allocation, Hold, Resource
from ..format import plural
from ..modals import email as parse_email
from ..widgets.countdown import countdown
from ..widgets.keyed_table import Column, KeyedTable, Tag
from .day import STATUS_ROLES
from .hold_actions import HoldActions

HOLD_COLUMNS = [
    Column("id", "Hold", width=7, align="right"),
    Column("left", "Expires in", width=10, align="right", live=countdown),
    Column("resource", "Resource", max_width=28),
    Column("date", "Date", width=10),
    Column("qty", "Qty", width=3, align="right"),
    Column("email", "Customer", max_width=32),
    Column("status", "Status", width=9),
    Column("expires", "Expires (UTC)", width=14),
]
STATUS_ORDER = {"ACTIVE": 0, "CONFIRMED": 1, "RELEASED": 2, "EXPIRED": 3}
ALLOCATION_COLUMNS = [
    Column("id", "Alloc", width=7, align="right"),
    Column("resource", "Resource", max_width=28),
    Column("date", "Date", width=10),
    Column("qty", "Qty", width=3, align="right"),
    Column("order", "Order", max_width=24),
    Column("line", "Line item", max_width=16),
    Column("hold", "Hold", width=7, align="right"),
]


@dataclass(frozen=True)
class Queue:
    holds: list[Hold]
    resources: list[Resource]


@dataclass(frozen=True)
class Customer:
    email: str
    holds: list[Hold]
    allocations: list[Allocation]
    resources: list[Resource]


def load_queue(bk: Booking) -> Queue:
    return Queue(bk.list_holds(status="ACTIVE"), bk.list_resources())


def load_customer(bk: Booking, email: str) -> Customer:
    return Customer(
        email, bk.list_holds(email=email), bk.list_allocations(email=email), bk.list_resources()
    )


class HoldsScreen(HoldActions):
    SCREEN_TITLE = "Holds"
    MUTATING = HoldActions.HOLD_ACTIONS

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Find by email", key_display="/"),
        Binding("c", "confirm_hold", "Confirm"),
        Binding("x", "release_hold", "Release"),
        Binding("plus", "extend_hold", "Extend", key_display="+"),
        Binding("enter", "open_hold", "Hold detail", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.customer: str | None = None  # the customer shown, or None for the queue
        self.typed = ""  # what is typed in the filter: narrows the queue as you type
        self._queue: list[Hold] = []

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="customer email: type to narrow, enter to find", id="email")
        yield Static("", id="holds-title")
        yield KeyedTable(
            HOLD_COLUMNS, clock=self.rb.clock, empty_text="No active holds.", id="holds"
        )
        yield Label("Allocations", id="allocations-title", classes="section")
        yield KeyedTable(ALLOCATION_COLUMNS, empty_text="No allocations.", id="allocations")

    @property
    def table(self) -> KeyedTable:
        return self.query_one("#holds", KeyedTable)

    def on_mount(self) -> None:
        self.query_one("#email", Input).display = False
        self._show_allocations(False)
        self.set_interval(1, self._tick)
        self.table.focus()

    def _tick(self) -> None:
        if self.is_current:
            self.table.tick()

    # ---- loading -------------------------------------------------------------------------

    def reload(self) -> None:
        if self.customer is None:
            self.load(load_queue, self._queue_loaded)
        else:
            email = self.customer
            self.load(lambda bk: load_customer(bk, email), self._customer_loaded)

    def _queue_loaded(self, queue: Queue) -> None:
        if self.customer is not None:
            return
        self.rb.remember_resources(queue.resources)
        self._queue = queue.holds
        self._show_queue()

    def _show_queue(self) -> None:
        typed = self.typed.strip().lower()
        holds = [h for h in self._queue if typed in h.customer_email] if typed else self._queue
        self.table.empty_text = (
            "No active holds." if not typed else f"No active hold matches {typed!r}."
        )
        self.table.sync((str(h.id), self._row(h)) for h in holds)
        title = Text()
        title.append(" Active holds", "bold")
        title.append(f" · {plural(len(holds), 'hold')}", "")
        if typed:
            title.append(f" matching {typed!r} (enter: every hold of that customer)", "dim")
        else:
            title.append(" · soonest expiry first", "dim")
        self.query_one("#holds-title", Static).update(title)

    def _customer_loaded(self, customer: Customer) -> None:
        if self.customer != customer.email:
            return
        self.rb.remember_resources(customer.resources)
        self.table.empty_text = f"No holds for {customer.email}."
        # 'Where is my booking?': what is still open first, then by date.
        holds = sorted(customer.holds, key=lambda h: (STATUS_ORDER.get(h.status, 9), h.date))
        self.table.sync((str(h.id), self._row(h)) for h in holds)
        names = self.rb.resource_names
        self.query_one("#allocations", KeyedTable).sync(
            (
                str(a.id),
                [
                    str(a.id),
                    names.get(a.resource_id, f"#{a.resource_id}"),
                    a.date.isoformat(),
                    str(a.quantity),
                    a.order_id,
                    a.line_item_id,
                    "" if a.hold_id is None else str(a.hold_id),
                ],
            )
            for a in customer.allocations
        )
        title = Text()
        title.append(f" Customer {customer.email}", "bold")
        title.append(
            f" · {plural(len(customer.holds), 'hold')} in any status · "
            f"{plural(len(customer.allocations), 'allocation')}",
        )
        title.append("  (escape: back to the queue)", "dim")
        self.query_one("#holds-title", Static).update(title)

    def _row(self, hold: Hold) -> list[Any]:
        name = self.rb.resource_names.get(hold.resource_id, f"#{hold.resource_id}")
        return [
            str(hold.id),
            hold.expires_at if hold.status == "ACTIVE" else None,
            name,
            hold.date.isoformat(),
            str(hold.quantity),
            hold.customer_email,
            Tag(hold.status, STATUS_ROLES.get(hold.status, "")),
            f"{hold.expires_at:%m-%d %H:%M:%S}" if hold.status == "ACTIVE" else "",
        ]

    # ---- filter --------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#email", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#email")
    def _typed(self, event: Input.Changed) -> None:
        self.typed = event.value
        if self.customer is None:
            self._show_queue()

    @on(Input.Submitted, "#email")
    def _find(self, event: Input.Submitted) -> None:
        try:
            email = parse_email(event.value)
        except ValueError as exc:
            if event.value.strip():
                self.notify(f"{event.value.strip()!r}: {exc}", severity="warning", markup=False)
            self.table.focus()
            return
        self.show_customer(email)

    def show_customer(self, email: str) -> None:
        """Every hold of this customer, in any status, and their allocations."""
        self.customer = email.strip().lower()
        box = self.query_one("#email", Input)
        box.display = True
        with box.prevent(Input.Changed):
            box.value = self.customer
        self.typed = ""
        self._show_allocations(True)
        self.table.sync([])
        self.table.focus()
        self.reload()

    def action_clear_filter(self) -> None:
        box = self.query_one("#email", Input)
        if self.customer is None and not self.typed and not box.display:
            return
        self.customer = None
        self.typed = ""
        with box.prevent(Input.Changed):
            box.value = ""
        box.display = False
        self._show_allocations(False)
        self.table.focus()
        self._show_queue()
        self.reload()

    def _show_allocations(self, show: bool) -> None:
        self.query_one("#allocations-title").display = show
        self.query_one("#allocations", KeyedTable).display = show

    # ---- holds ---------------------------------------------------------------------------

    def selected_hold_id(self) -> int | None:
        key = self.table.cursor_key
        return int(key) if key is not None else None

    def action_open_hold(self) -> None:
        hold_id = self.selected_hold_id()
        if hold_id is not None:
            from .hold_detail import HoldDetailScreen

            self.app.push_screen(HoldDetailScreen(hold_id))

    def on_keyed_table_selected(self, message: KeyedTable.Selected) -> None:
        if message.table.id == "holds":
            message.stop()
            self.action_open_hold()
