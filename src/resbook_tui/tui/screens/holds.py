"""Screen 3: the ACTIVE hold queue with live countdowns, and 'where is my booking?'.

Typing after ``/`` narrows the loaded queue by email as you type; enter on an email
switches to that customer: every hold in any status, and their allocations.
The countdown ticks once a second and repaints only the countdown column of the visible
rows; the queue is re-queried on focus, with ``r`` and when another connection commits a
change, never by the tick. A live refresh updates rows by diff (the cursor, filter and
scroll stay), and a hold that someone else confirmed, released or expired stays in its
row with its new status until the next full refresh (``r``), so it never just vanishes
from under the cursor.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Label, Static

from ...booking import Booking
from ...booking.errors import BookingError
from ...booking.records import Allocation, Hold, Resource
from ..format import plural
from ..modals import email as parse_email
from ..outcome import newest_event_id
from ..widgets.countdown import countdown
from ..widgets.keyed_table import Column, KeyedTable, Tag
from .base import Query
from .day import STATUS_ROLES
from .hold_actions import HoldActions

if TYPE_CHECKING:
    from ..app import ResbookApp

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


# What a hold's status becomes with each event that ends its ACTIVE life.
CLOSING = {"hold.confirm": "CONFIRMED", "hold.release": "RELEASED", "hold.expire": "EXPIRED"}
EVENTS_CAP = 20_000  # hold events read per live refresh (a sweep writes one per hold)
LOOKUPS_CAP = 50  # holds looked up one by one when the events do not say what became of them


@dataclass(frozen=True)
class Queue:
    holds: list[Hold]
    resources: list[Resource]
    after_id: int = 0  # the newest audit event before the holds were read
    clock_offset: timedelta | None = None


@dataclass(frozen=True)
class QueueUpdate:
    """A live refresh of the queue: the ACTIVE holds now, and what became of others."""

    holds: list[Hold]
    closed: dict[int, str]  # hold id -> status it left ACTIVE for, since ``after_id``
    after_id: int
    resources: list[Resource] | None
    clock_offset: timedelta | None = None


@dataclass(frozen=True)
class Customer:
    email: str
    holds: list[Hold]
    allocations: list[Allocation]
    resources: list[Resource]
    clock_offset: timedelta | None = None


def load_queue(bk: Booking) -> Queue:
    return Queue(bk.list_holds(status="ACTIVE"), bk.list_resources())


def load_queue_update(
    bk: Booking,
    after_id: int,
    shown: frozenset[int],
    known_resources: frozenset[int],
    app: ResbookApp,
) -> QueueUpdate:
    """The ACTIVE holds, then the hold events since ``after_id`` (read in this order, an
    event newer than the list wins); holds that were ``shown`` and left the queue without
    an event read here are looked up, a few at most."""
    holds = bk.list_holds(status="ACTIVE")
    events = bk.events(entity="hold", after_id=after_id, limit=EVENTS_CAP)
    closed = {e.entity_id: CLOSING[e.action] for e in events if e.action in CLOSING}
    active = {h.id for h in holds}
    unknown = [i for i in shown if i not in active and i not in closed]
    if len(unknown) <= LOOKUPS_CAP:
        for hold_id in unknown:
            with contextlib.suppress(BookingError):  # gone: dropped from the queue
                closed[hold_id] = bk.get_hold(hold_id).status
    newest = max([after_id, *(e.id for e in events)])
    resources = None
    if any(h.resource_id not in known_resources for h in holds):
        resources = bk.list_resources()
    return QueueUpdate(holds, closed, newest, resources, app.sample_clock(bk))


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
        # Holds others closed while shown: kept in place with their new status until `r`.
        self._closed_holds: dict[int, tuple[Hold, str]] = {}
        self._after_id: int | None = None  # audit events up to here are reflected

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

    def query_data(self) -> Query:
        app = self.rb
        if self.customer is None:

            def queue(bk: Booking) -> Queue:
                after_id = newest_event_id(bk)  # first: nothing after it is missed
                loaded = load_queue(bk)
                return Queue(loaded.holds, loaded.resources, after_id, app.sample_clock(bk))

            return queue, self._queue_loaded
        email = self.customer

        def customer(bk: Booking) -> Customer:
            loaded = load_customer(bk, email)
            return Customer(
                loaded.email,
                loaded.holds,
                loaded.allocations,
                loaded.resources,
                app.sample_clock(bk),
            )

        return customer, self._customer_loaded

    def live_query(self) -> Query:
        if self.customer is not None or self._after_id is None:
            return self.query_data()  # the customer view shows every status anyway
        after_id, app = self._after_id, self.rb
        shown = frozenset(h.id for h in self._queue)
        known = frozenset(app.resource_names)

        def update(bk: Booking) -> QueueUpdate:
            return load_queue_update(bk, after_id, shown, known, app)

        return update, self._queue_updated

    def _queue_loaded(self, queue: Queue) -> None:
        if self.customer is not None:
            return
        self.rb.note_clock(queue.clock_offset)
        self.rb.remember_resources(queue.resources)
        self._queue = queue.holds
        self._closed_holds.clear()
        self._after_id = queue.after_id
        self._show_queue()

    def _queue_updated(self, update: QueueUpdate) -> None:
        if self.customer is not None:
            return
        self.rb.note_clock(update.clock_offset)
        if update.resources is not None:
            self.rb.remember_resources(update.resources)
        own = self.rb.own_holds
        for hold in self._queue:  # shown as ACTIVE until now
            status = update.closed.get(hold.id, "ACTIVE")
            if status != "ACTIVE" and hold.id not in own:  # someone else closed it
                self._closed_holds[hold.id] = (hold, status)
        self._queue = [h for h in update.holds if update.closed.get(h.id, "ACTIVE") == "ACTIVE"]
        self._after_id = update.after_id
        self._show_queue()

    def _show_queue(self) -> None:
        typed = self.typed.strip().lower()
        rows: list[tuple[Hold, str]] = [(h, h.status) for h in self._queue]
        rows += [(h, status) for h, status in self._closed_holds.values()]
        rows.sort(key=lambda row: (row[0].expires_at, row[0].id))
        if typed:
            rows = [(h, status) for h, status in rows if typed in h.customer_email]
        self.table.empty_text = (
            "No active holds." if not typed else f"No active hold matches {typed!r}."
        )
        self.table.sync((str(h.id), self._row(h, status)) for h, status in rows)
        active = sum(1 for _, status in rows if status == "ACTIVE")
        title = Text()
        title.append(" Active holds", "bold")
        title.append(f" · {plural(active, 'hold')}", "")
        if typed:
            title.append(f" matching {typed!r} (enter: every hold of that customer)", "dim")
        else:
            title.append(" · soonest expiry first", "dim")
        closed = len(rows) - active
        if closed:
            title.append(f" · {closed} closed meanwhile (r clears)", "italic")
        self.query_one("#holds-title", Static).update(title)

    def _customer_loaded(self, customer: Customer) -> None:
        if self.customer != customer.email:
            return
        self.rb.note_clock(customer.clock_offset)
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

    def _row(self, hold: Hold, status: str | None = None) -> list[Any]:
        status = status or hold.status
        name = self.rb.resource_names.get(hold.resource_id, f"#{hold.resource_id}")
        return [
            str(hold.id),
            hold.expires_at if status == "ACTIVE" else None,
            name,
            hold.date.isoformat(),
            str(hold.quantity),
            hold.customer_email,
            Tag(status, STATUS_ROLES.get(status, "")),
            f"{hold.expires_at:%m-%d %H:%M:%S}" if status == "ACTIVE" else "",
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
