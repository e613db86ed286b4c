"""Day detail: one resource on one date, its capacity, holds, allocations and blackout."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Label, Static

from ...booking import Booking
from ...booking.records import Allocation, Blackout, BlackoutResult, CapacityChange, Cell, Hold
from ...booking.records import Resource as ResourceRecord
from ...config import default_hold_ttl_minutes
from ...errors import ResbookError
from ..format import day_text, plural, time_text
from ..modals import Field, FormModal, a_date, email, integer, required_text
from ..outcome import Expect
from ..widgets.countdown import countdown
from ..widgets.keyed_table import Column, KeyedTable, Tag
from .base import Query
from .hold_actions import HoldActions

if TYPE_CHECKING:
    from ..live import ChangeSet

HOLD_COLUMNS = [
    Column("id", "Hold", width=6, align="right"),
    Column("left", "Expires in", width=10, align="right", live=countdown),
    Column("status", "Status", width=9),
    Column("qty", "Qty", width=3, align="right"),
    Column("email", "Customer", max_width=34),
    Column("created", "Created (UTC)", width=19),
]
ALLOCATION_COLUMNS = [
    Column("id", "Alloc", width=6, align="right"),
    Column("qty", "Qty", width=3, align="right"),
    Column("order", "Order", max_width=24),
    Column("line", "Line item", max_width=16),
    Column("hold", "Hold", width=6, align="right"),
    Column("created", "Created (UTC)", width=19),
]
STATUS_ROLES = {"ACTIVE": "accent", "CONFIRMED": "success", "RELEASED": "muted", "EXPIRED": "muted"}


@dataclass(frozen=True)
class DayData:
    resource: ResourceRecord
    cell: Cell | None
    holds: list[Hold]
    allocations: list[Allocation]
    blackouts: list[Blackout]
    clock_offset: timedelta | None = None


def load_day(bk: Booking, resource_id: int, day: date) -> DayData:
    resource = bk.get_resource(resource_id)
    cells = bk.availability(day, day, resource_id=resource_id)
    holds = bk.list_holds(resource_id=resource_id, date_from=day, date_to=day)
    # list_allocations has no date filter; one resource's allocations are few enough.
    allocations = [a for a in bk.list_allocations(resource_id=resource_id) if a.date == day]
    blackouts = bk.list_blackouts(resource_id=resource_id, date_from=day, date_to=day)
    return DayData(resource, cells[0] if cells else None, holds, allocations, blackouts)


def hold_row(hold: Hold) -> list[Any]:
    return [
        str(hold.id),
        hold.expires_at if hold.status == "ACTIVE" else None,
        Tag(hold.status, STATUS_ROLES.get(hold.status, "")),
        str(hold.quantity),
        hold.customer_email,
        time_text(hold.created_at),
    ]


def allocation_row(allocation: Allocation) -> list[Any]:
    return [
        str(allocation.id),
        str(allocation.quantity),
        allocation.order_id,
        allocation.line_item_id,
        "" if allocation.hold_id is None else str(allocation.hold_id),
        time_text(allocation.created_at),
    ]


class DayScreen(HoldActions):
    SCREEN_TITLE = "Day detail"
    MUTATING = frozenset({"set_capacity", "add_blackout", "new_hold", *HoldActions.HOLD_ACTIONS})

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("e", "set_capacity", "Set capacity"),
        Binding("b", "add_blackout", "Blackout"),
        Binding("n", "new_hold", "New hold"),
        Binding("c", "confirm_hold", "Confirm"),
        Binding("x", "release_hold", "Release"),
        Binding("plus", "extend_hold", "Extend", key_display="+"),
    ]

    def __init__(self, resource: ResourceRecord, day: date) -> None:
        super().__init__()
        self.resource = resource
        self.day = day
        self.data: DayData | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(self._title(), id="day-title")
        with Horizontal(id="day-summary"):
            yield Static("loading…", id="day-capacity")
            yield Static("", id="day-blackout")
        yield Label("Holds on this date", classes="section")
        yield KeyedTable(
            HOLD_COLUMNS, clock=self.rb.clock, empty_text="No holds on this date.", id="day-holds"
        )
        yield Label("Allocations on this date", classes="section")
        yield KeyedTable(
            ALLOCATION_COLUMNS, empty_text="No allocations on this date.", id="day-allocations"
        )

    def _title(self) -> Text:
        text = Text()
        text.append(f" {self.resource.name}", "bold")
        text.append(f"  {self.resource.type.lower()} #{self.resource.id}", "dim")
        text.append(f"   {self.day:%A %d %B %Y}", "bold")
        if self.day == self.rb.today:
            text.append("  (today)", "dim")
        return text

    def on_mount(self) -> None:
        self.set_interval(1, self._tick)
        self.query_one("#day-holds", KeyedTable).focus()

    def _tick(self) -> None:
        if self.is_current:
            self.query_one("#day-holds", KeyedTable).tick()

    def query_data(self) -> Query:
        rid, day, app = self.resource.id, self.day, self.rb

        def call(bk: Booking) -> DayData:
            data = load_day(bk, rid, day)
            return replace(data, clock_offset=app.sample_clock(bk))

        return call, self._loaded

    def concerns(self, changes: ChangeSet) -> bool:
        return changes.resources_changed or changes.touches([self.resource.id], self.day, self.day)

    def _loaded(self, data: DayData) -> None:
        self.rb.note_clock(data.clock_offset)
        self.data = data
        self.resource = data.resource
        self.query_one("#day-title", Static).update(self._title())
        self.query_one("#day-capacity", Static).update(capacity_text(data.cell))
        self.query_one("#day-blackout", Static).update(blackout_text(data.blackouts))
        self.query_one("#day-holds", KeyedTable).sync((str(h.id), hold_row(h)) for h in data.holds)
        self.query_one("#day-allocations", KeyedTable).sync(
            (str(a.id), allocation_row(a)) for a in data.allocations
        )

    def selected_hold_id(self) -> int | None:
        key = self.query_one("#day-holds", KeyedTable).cursor_key
        return int(key) if key is not None else None

    def on_keyed_table_selected(self, message: KeyedTable.Selected) -> None:
        if message.table.id == "day-holds":
            from .hold_detail import HoldDetailScreen

            self.app.push_screen(HoldDetailScreen(int(message.key)))

    # ---- changes ---------------------------------------------------------------------------

    def action_set_capacity(self) -> None:
        current = self.data.cell.max_capacity if self.data and self.data.cell else 0
        form = FormModal(
            f"Set capacity · {self.resource.name}",
            [
                Field("max", "Max capacity", integer(0, 1_000_000), str(current)),
                Field("through", "Through date", a_date(self.day, 366), self.day.isoformat()),
            ],
            note=f"From {day_text(self.day)}; a range sets every date in it.",
        )
        rid, day = self.resource.id, self.day
        self.submit_form(
            form,
            lambda values: lambda bk: bk.set_capacity(rid, day, values["through"], values["max"]),
            self._capacity_set,
            lambda values: Expect(
                f"Set capacity of {self.resource.name} to {values['max']} from {day}",
                "capacity.set",
                "capacity",
                resource_id=rid,
                details={"max_capacity": values["max"]},
            ),
        )

    def _capacity_set(self, change: CapacityChange) -> None:
        days = (change.date_to - change.date_from).days + 1
        self.notify(
            f"Max capacity {change.max_capacity} on {plural(days, 'date')} "
            f"({change.updated} updated, {change.created} created).",
            title="Capacity set",
            markup=False,
        )
        self.request_reload()

    def action_add_blackout(self) -> None:
        form = FormModal(
            f"Blackout · {self.resource.name}",
            [
                Field("reason", "Reason", required_text(200), placeholder="Scheduled service"),
                Field("through", "Through date", a_date(self.day, 366), self.day.isoformat()),
            ],
            submit_label="Add blackout",
            note=f"From {day_text(self.day)}. New holds are refused on blacked-out dates.",
        )
        rid, day = self.resource.id, self.day
        self.submit_form(
            form,
            lambda values: (
                lambda bk: bk.add_blackout(rid, day, values["through"], values["reason"])
            ),
            self._blackout_added,
            lambda values: Expect(
                f"Blackout {self.resource.name} from {day}",
                "blackout.add",
                "blackout",
                resource_id=rid,
                details={"reason": values["reason"]},
            ),
        )

    def _blackout_added(self, result: BlackoutResult) -> None:
        blackout = result.blackout
        self.notify(
            f"{blackout.start_date} to {blackout.end_date}: {blackout.reason}",
            title="Blackout added",
            markup=False,
        )
        if result.active_holds or result.allocations:
            held = ", ".join(f"#{h.id}" for h in result.active_holds[:8])
            self.notify(
                f"Inside the blackout: {plural(len(result.active_holds), 'active hold')}"
                f"{' (' + held + ')' if held else ''} and "
                f"{plural(len(result.allocations), 'allocation')}. Contact those customers.",
                title="Bookings need attention",
                severity="warning",
                timeout=12,
                markup=False,
            )
        self.request_reload()

    def action_new_hold(self) -> None:
        available = self.data.cell.available if self.data and self.data.cell else None
        note = f"{day_text(self.day)}."
        if available is not None:
            note += f" {plural(available, 'unit')} available now."
        try:
            ttl = default_hold_ttl_minutes()
        except ResbookError:
            ttl = 30
        form = FormModal(
            f"New hold · {self.resource.name}",
            [
                Field("quantity", "Quantity", integer(1, 100_000), "1"),
                Field("email", "Customer email", email, placeholder="ana@example.com"),
                Field("ttl", "TTL minutes", integer(1, 7 * 24 * 60), str(ttl)),
            ],
            submit_label="Hold",
            note=note,
        )
        rid, day = self.resource.id, self.day
        # The TUI's own idempotency token: a retry cannot take units twice, and if the
        # connection breaks in flight the hold is found (or not) by it.
        tokens: dict[tuple, str] = {}

        def token(values: dict[str, Any]) -> str:
            key = (values["quantity"], values["email"], values["ttl"])
            return tokens.setdefault(key, f"tui-{uuid.uuid4()}")

        self.submit_form(
            form,
            lambda values: (
                lambda bk: bk.create_hold(
                    rid,
                    day,
                    values["quantity"],
                    values["email"],
                    token=token(values),
                    ttl_minutes=values["ttl"],
                )
            ),
            self._hold_created,
            lambda values: Expect(
                f"New hold of {values['quantity']} on {self.resource.name} {day} for "
                f"{values['email']}",
                "hold.create",
                "hold",
                resource_id=rid,
                details={"token": token(values)},
            ),
        )

    def _hold_created(self, hold: Hold) -> None:
        self.notify(
            f"Hold #{hold.id}: {hold.quantity} unit(s) for {hold.customer_email}, "
            f"expires {hold.expires_at:%H:%M:%S} UTC.",
            title="Hold created",
            markup=False,
        )
        self.request_reload()


def capacity_text(cell: Cell | None) -> Text:
    text = Text()
    if cell is None:
        text.append(" No capacity set for this date. ", "dim")
        text.append("e", "bold")
        text.append(" sets it.", "dim")
        return text
    rows = (
        ("Max capacity", cell.max_capacity),
        ("Available", cell.available),
        ("Held (active)", cell.held),
        ("Allocated", cell.allocated),
    )
    for label, value in rows:
        text.append(f" {label:<14}", "dim")
        text.append(f"{value:>6}\n", "bold")
    used = f"{cell.utilisation:.0%}" if cell.max_capacity else "—"
    text.append(f" {'Utilisation':<14}", "dim")
    text.append(f"{used:>6}", "bold")
    return text


def blackout_text(blackouts: list[Blackout]) -> Text:
    text = Text()
    if not blackouts:
        text.append(" No blackout on this date.", "dim")
        return text
    for blackout in blackouts:
        text.append(" ╱╱ Blacked out", "bold magenta")
        text.append(f"  #{blackout.id}\n", "dim")
        text.append(f" {blackout.reason}\n", "bold")
        span = f"{blackout.start_date} to {blackout.end_date}"
        if blackout.start_date == blackout.end_date:
            span = str(blackout.start_date)
        text.append(f" {span}\n", "dim")
    return text


def next_day(day: date) -> date:
    return day + timedelta(1)
