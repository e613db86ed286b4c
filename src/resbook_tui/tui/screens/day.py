"""Day detail: one resource on one date, its capacity, holds, allocations and blackout."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Label, Static

from ...booking import Booking
from ...booking.events import Action
from ...booking.records import Allocation, Blackout, BlackoutResult, CapacityChange, Hold
from ...booking.records import Resource as ResourceRecord
from ...config import default_hold_ttl_minutes
from ...errors import ResbookError
from ...text import visible
from ..calls import Problem
from ..format import clipped, day_text, plural
from ..modals import ConfirmModal, Field, FormModal
from ..outcome import Expect
from ..parsers import a_date, choice, email, integer, required_text
from ..widgets.keyed_table import KeyedTable
from .base import Query
from .day_data import (
    ALLOCATION_COLUMNS,
    HOLD_COLUMNS,
    DayData,
    allocation_row,
    blackout_text,
    capacity_text,
    hold_row,
    load_day,
)
from .hold_actions import HoldActions

if TYPE_CHECKING:
    from ..live import ChangeSet


class DayScreen(HoldActions):
    SCREEN_TITLE = "Day detail"
    MUTATING = frozenset(
        {"set_capacity", "add_blackout", "remove_blackout", "new_hold"}
        | HoldActions.HOLD_ACTIONS
        | HoldActions.ALLOCATION_ACTIONS
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("n", "new_hold", "New hold"),
        Binding("c", "confirm_hold", "Confirm"),
        Binding("x", "release_hold", "Release"),
        Binding("x", "cancel_allocation", "Cancel booking"),
        Binding("plus", "extend_hold", "Extend", key_display="+"),
        Binding("e", "set_capacity", "Capacity"),
        Binding("b", "add_blackout", "Blackout"),
        Binding("B", "remove_blackout", "Lift blackout", key_display="B"),
    ]

    def __init__(self, resource: ResourceRecord, day: date) -> None:
        super().__init__()
        self.resource = resource
        self.day = day
        self.data: DayData | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(self._title(), id="day-title")
        with Vertical(id="day-summary"):
            yield Static(" loading…", id="day-capacity")
            yield Static("", id="day-blackout")
        yield Label("Holds on this date", classes="section")
        yield KeyedTable(HOLD_COLUMNS, clock=self.rb.clock, empty_text="loading…", id="day-holds")
        yield Label("Allocations on this date", classes="section")
        yield KeyedTable(ALLOCATION_COLUMNS, empty_text="loading…", id="day-allocations")

    def _title(self) -> Text:
        text = Text()
        text.append(f" {visible(clipped(self.resource.name, 40))}", "bold")  # date in 2 lines
        text.append(f"  {self.resource.type.lower()} #{self.resource.id}", "dim")
        text.append(f"   {self.day:%A %d %B %Y}", "bold")
        if self.day == self.rb.today:
            text.append("  (today)", "dim")
        if not self.resource.is_active:
            text.append("  inactive: takes no new holds", "italic")
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

    def load_failed(self, problem: Problem) -> None:
        """Nothing loaded yet: say the data is unavailable, not that there is none."""
        if self.data is not None:
            return  # the last data stays on screen; the status bar says what is wrong
        reason = "not connected" if problem.code == "disconnected" else problem.message
        self.query_one("#day-capacity", Static).update(f" Unavailable: {reason}")
        for table in self.query(KeyedTable):
            table.empty_text = f"Unavailable: {reason}."
            table.refresh()

    def _loaded(self, data: DayData) -> None:
        self.rb.note_clock(data.clock_offset)
        self.data = data
        # empty_text is reactive: a table whose rows stay empty repaints with its new text.
        self.query_one("#day-holds", KeyedTable).empty_text = "No holds on this date."
        self.query_one("#day-allocations", KeyedTable).empty_text = "No allocations on this date."
        self.resource = data.resource
        self.query_one("#day-title", Static).update(self._title())
        self.query_one("#day-capacity", Static).update(capacity_text(data.cell))
        self.query_one("#day-blackout", Static).update(blackout_text(data.blackouts))
        self.query_one("#day-holds", KeyedTable).sync((str(h.id), hold_row(h)) for h in data.holds)
        self.query_one("#day-allocations", KeyedTable).sync(
            (str(a.id), allocation_row(a)) for a in data.allocations
        )
        self.refresh_bindings()

    # ---- selection: a key acts on the focused table only -----------------------------------

    def selected_hold(self) -> Hold | None:
        table = self.query_one("#day-holds", KeyedTable)
        if self.data is None or not table.has_focus or table.cursor_key is None:
            return None
        return next((h for h in self.data.holds if str(h.id) == table.cursor_key), None)

    def selected_allocation(self) -> Allocation | None:
        table = self.query_one("#day-allocations", KeyedTable)
        if self.data is None or not table.has_focus or table.cursor_key is None:
            return None
        return next((a for a in self.data.allocations if str(a.id) == table.cursor_key), None)

    def allocation_customer(self, allocation: Allocation) -> str | None:
        holds = self.data.holds if self.data else []
        return next((h.customer_email for h in holds if h.id == allocation.hold_id), None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "remove_blackout" and not (self.data and self.data.blackouts):
            return False
        if action == "new_hold" and not self.resource.is_active:
            return False
        return super().check_action(action, parameters)

    def unavailable_reason(self, action: str) -> str | None:
        if action == "new_hold" and not self.resource.is_active and not self.rb.read_only:
            return f"{self.resource.name} is inactive: activate it on Resources (1) first."
        return super().unavailable_reason(action)

    def on_keyed_table_highlighted(self, message: KeyedTable.Highlighted) -> None:
        self.refresh_bindings()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.refresh_bindings()

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
            call=lambda bk, values: bk.set_capacity(rid, day, values["through"], values["max"]),
            done=self._capacity_set,
            expect=lambda values: Expect(
                f"Set capacity of {self.resource.name} to {values['max']} from {day}",
                Action.CAPACITY_SET,
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
                Field("reason", "Reason", required_text(200), placeholder="e.g. Scheduled service"),
                Field("through", "Through date", a_date(self.day, 366), self.day.isoformat()),
            ],
            submit_label="Add blackout",
            note=f"From {day_text(self.day)}. New holds are refused on blacked-out dates.",
        )
        rid, day = self.resource.id, self.day
        self.submit_form(
            form,
            call=lambda bk, values: bk.add_blackout(rid, day, values["through"], values["reason"]),
            done=self._blackout_added,
            expect=lambda values: Expect(
                f"Blackout {self.resource.name} from {day}",
                Action.BLACKOUT_ADD,
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

    def action_remove_blackout(self) -> None:
        blackouts = self.data.blackouts if self.data else []
        if not blackouts:
            return
        if len(blackouts) == 1:
            self._confirm_remove(blackouts[0])
            return
        labels = {f"#{b.id} {b.start_date}..{b.end_date} {b.reason}"[:60]: b for b in blackouts}
        form = FormModal(
            f"Lift a blackout · {self.resource.name}",
            [Field("which", "Blackout", choice(list(labels)), choices=list(labels))],
            submit_label="Next",
            note=f"{plural(len(blackouts), 'blackout')} cover {day_text(self.day)}.",
        )

        def chosen(values: dict[str, Any] | None) -> None:
            if values:
                self._confirm_remove(labels[values["which"]])

        self.app.push_screen(form, chosen)

    def _confirm_remove(self, blackout: Blackout) -> None:
        blackout_id = blackout.id

        def answered(yes: bool | None) -> None:
            if yes:
                self.change(
                    lambda bk: bk.remove_blackout(blackout_id),
                    self._blackout_removed,
                    expect=Expect(
                        f"Lift blackout #{blackout_id}",
                        Action.BLACKOUT_REMOVE,
                        "blackout",
                        blackout_id,
                    ),
                )

        self.app.push_screen(
            ConfirmModal(
                "Lift this blackout? New holds are taken again on its dates.",
                subject=[
                    ("Blackout", f"#{blackout_id}"),
                    ("Resource", self.resource.name),
                    ("Dates", f"{blackout.start_date} to {blackout.end_date}"),
                    ("Reason", blackout.reason),
                ],
                confirm_label="Lift",
                title=f"Lift blackout #{blackout_id}",
            ),
            answered,
        )

    def _blackout_removed(self, blackout: Blackout) -> None:
        self.notify(
            f"Blackout #{blackout.id} lifted ({blackout.start_date} to {blackout.end_date}).",
            title="Blackout lifted",
            markup=False,
        )
        self.request_reload()

    def action_new_hold(self) -> None:
        available = self.data.cell.available if self.data and self.data.cell else None
        note = f"From {day_text(self.day)}; a range holds every date, all or nothing."
        if available is not None:
            note += f" {plural(available, 'unit')} available on the first date."
        try:
            ttl = default_hold_ttl_minutes()
        except ResbookError:
            ttl = 30
        form = FormModal(
            f"New hold · {self.resource.name}",
            [
                Field("quantity", "Quantity", integer(1, 100_000), "1"),
                Field("email", "Customer email", email, placeholder="e.g. ana@example.com"),
                Field("through", "Through date", a_date(self.day, 366), self.day.isoformat()),
                Field("ttl", "TTL minutes", integer(1, 7 * 24 * 60), str(ttl)),
            ],
            submit_label="Hold",
            note=note,
        )
        rid, day = self.resource.id, self.day
        # The TUI's own idempotency token: a retry cannot take units twice, and if the
        # connection breaks in flight the hold is found (or not) by it.
        tokens: dict[tuple[Any, ...], str] = {}

        def token(values: dict[str, Any]) -> str:
            key = (values["quantity"], values["email"], values["through"], values["ttl"])
            return tokens.setdefault(key, f"tui-{uuid.uuid4()}")

        self.submit_form(
            form,
            call=lambda bk, values: _create(bk, rid, day, values, token(values)),
            done=self._holds_created,
            expect=lambda values: Expect(
                f"New hold of {values['quantity']} on {self.resource.name} {day} for "
                f"{values['email']}",
                Action.HOLD_CREATE,
                "hold",
                resource_id=rid,
                details={"token": token(values)},
            ),
        )

    def _holds_created(self, holds: list[Hold]) -> None:
        if len(holds) == 1:
            self._hold_created(holds[0])
            return
        first, last = holds[0], holds[-1]
        self.notify(
            f"Holds #{first.id}..#{last.id}: {first.quantity} unit(s) a day from {first.date} "
            f"to {last.date} for {first.customer_email}, expire "
            f"{first.expires_at:%H:%M:%S} UTC.",
            title=f"{len(holds)} holds created",
            markup=False,
        )
        self.request_reload()

    def _hold_created(self, hold: Hold) -> None:
        self.notify(
            f"Hold #{hold.id}: {hold.quantity} unit(s) for {hold.customer_email}, "
            f"expires {hold.expires_at:%H:%M:%S} UTC.",
            title="Hold created",
            markup=False,
        )
        self.request_reload()


def _create(bk: Booking, rid: int, day: date, values: dict[str, Any], token: str) -> list[Hold]:
    """One hold, or one per date of a range (all or nothing)."""
    quantity, email, ttl = values["quantity"], values["email"], values["ttl"]
    if values["through"] == day:
        return [bk.create_hold(rid, day, quantity, email, token=token, ttl_minutes=ttl)]
    return bk.create_holds(
        rid, day, values["through"], quantity, email, token=token, ttl_minutes=ttl
    )
