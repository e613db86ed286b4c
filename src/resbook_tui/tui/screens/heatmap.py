"""Screen 2, the default: utilisation of every resource by date, and where to drill in.

``/`` narrows the rows by resource name or type; shift+arrows select resources and days, and
``e`` sets the max capacity of the selection (or of the cursor's cell) in one go.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Static

from ...booking.events import Action
from ...booking.records import RESOURCE_TYPES, CapacityChange, Cell, Resource
from ...text import visible
from ..command_parser import MAX_DAYS_AWAY
from ..format import clipped, day_text, plural
from ..modals import Field, FormModal, prompt
from ..outcome import Expect
from ..parsers import a_date, a_date_near, integer
from ..widgets.heatmap_grid import TYPE_TITLES, HeatmapGrid, Selection
from ..widgets.heatmap_messages import CursorMoved, Selected, SelectionChanged, WindowNeeded
from ..widgets.title import set_title
from .base import ResbookScreen
from .day import DayScreen

if TYPE_CHECKING:
    from ..live import ChangeSet

TYPE_CYCLE: tuple[str | None, ...] = (None, *RESOURCE_TYPES)
LABELS = ("max", "available", "held", "allocated")
SHORT_LABELS = ("max", "avail", "held", "alloc")
SHORT_NAME = 24  # a resource's name on the short status line: the date and numbers follow


class HeatmapScreen(ResbookScreen):
    SCREEN_TITLE = "Heatmap"
    MUTATING = frozenset({"set_capacity"})

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_day", "Day"),
        Binding("slash", "filter", "Find", key_display="/", priority=True),
        Binding("escape", "clear", "Clear"),
        Binding("e", "set_capacity", "Capacity"),
        Binding("left_square_bracket", "week(-1)", "-Week", key_display="["),
        Binding("right_square_bracket", "week(1)", "+Week", key_display="]"),
        Binding("t", "today", "Today"),
        Binding("d", "goto_date", "Date"),
        Binding("f", "cycle_type", "Type"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._generation = 0  # bumped by each reload: older window answers are dropped
        self._fetching = False
        self._wanted: tuple[tuple[int, ...], date, date, int] | None = None
        self._in_flight: tuple[tuple[int, ...], date, date, int] | None = None
        self._pending_resource: int | None = None
        self.loaded_resources = False
        self._cursor: tuple[Resource | None, date, Cell | None, bool] | None = None

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="resource name or type, or part of one: enter applies", id="find")
        yield HeatmapGrid(self.rb.today, id="grid")
        yield Static("", id="cell-status")
        yield Static("", id="legend")

    @property
    def grid(self) -> HeatmapGrid:
        return self.query_one("#grid", HeatmapGrid)

    @property
    def find_box(self) -> Input:
        return self.query_one("#find", Input)

    def on_mount(self) -> None:
        self.find_box.display = False
        self.grid.focus()

    def on_resize(self, event: events.Resize) -> None:
        self._show_legend()
        self._show_status()

    def _show_legend(self) -> None:
        legend = Text()
        for text, style in self.grid.legend(self.size.width):
            legend.append(text, style)  # type: ignore[arg-type]
        self.query_one("#legend", Static).update(legend)

    # ---- loading ---------------------------------------------------------------------------

    def reload(self) -> None:
        self._generation += 1
        self.load(lambda bk: bk.list_resources(), self._resources_loaded, group="resources")

    def live_update(self, changes: ChangeSet) -> None:
        """Re-query the visible window (one availability query) only if the changes touch
        it; other resources' cells are marked stale and fetched when scrolled into view."""
        if changes.resources_changed:
            self.reload()  # rows may differ: names, activity, new resources
            return
        ids, first, last = self.grid.visible_window()
        if changes.touches(ids, first, last):
            self._generation += 1  # an answer to a query sent before the change is dropped
            self.grid.invalidate()
        else:
            self.grid.forget(changes.resource_ids)

    def _resources_loaded(self, resources: list[Resource]) -> None:
        self.rb.remember_resources(resources)
        self.grid.set_resources(resources, reload=True)
        self.loaded_resources = True
        self.refresh_bindings()  # e (capacity) needs a resource under the cursor
        if self._pending_resource is not None:
            self.focus_resource(self._pending_resource)

    def on_heatmap_grid_window_needed(self, message: WindowNeeded) -> None:
        wanted = (message.resource_ids, message.date_from, message.date_to, self._generation)
        if wanted == self._in_flight:
            return
        self._wanted = wanted
        if not self._fetching:
            self._fetch_next()

    def _fetch_next(self) -> None:
        """One window query at a time; while it runs only the latest wish is kept."""
        if self._wanted is None:
            return
        ids, first, last, generation = self._in_flight = self._wanted
        self._wanted = None
        self._fetching = True

        def done(cells: list[Cell]) -> None:
            self._fetching = False
            self._in_flight = None
            if generation == self._generation:
                self.grid.set_cells(cells, ids, first, last)
            else:
                self.grid.invalidate()
            self._fetch_next()

        def failed(_problem: Any) -> None:
            self._fetching = False
            self._in_flight = None

        self.load(
            lambda bk: bk.availability(first, last, resource_ids=ids),
            done,
            group="window",
            failed=failed,
        )

    def set_today(self, today: date) -> None:
        self.grid.set_today(today)

    # ---- status line -----------------------------------------------------------------------

    def on_heatmap_grid_cursor_moved(self, message: CursorMoved) -> None:
        self._cursor = (message.resource, message.day, message.cell, message.known)
        self._show_status()

    def on_heatmap_grid_selection_changed(self, message: SelectionChanged) -> None:
        self._show_status()
        self.refresh_bindings()

    def _show_status(self) -> None:
        if self._cursor is None:
            return
        selection = self.grid.selection
        width = max(self.size.width, 20)
        if selection is not None:
            text = selection_status(selection)
        else:
            text = cell_status(*self._cursor)
            if text.cell_len > width:
                text = cell_status(*self._cursor, short=True)
        # One line, always: the shortest form is cut with an ellipsis rather than wrapped.
        text.truncate(width, overflow="ellipsis")
        # Every cursor move and every window that arrives rewrites this line: laying the
        # screen out again for each (what Static.update does) cost more than the page.
        set_title(self.query_one("#cell-status", Static), text)

    # ---- filter ----------------------------------------------------------------------------

    def action_filter(self) -> None:
        self.find_box.display = True
        self.focus_now(self.find_box)

    @on(Input.Changed, "#find")
    def _typed(self, event: Input.Changed) -> None:
        self.grid.set_name_filter(event.value)

    @on(Input.Submitted, "#find")
    def _applied(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.action_clear()
            return
        self.focus_now(self.grid)

    def action_clear(self) -> None:
        """Escape: drop the selection first, then the name filter."""
        if self.grid.clear_selection():
            return
        box = self.find_box
        with box.prevent(Input.Changed):
            box.value = ""
        box.display = False
        self.grid.set_name_filter("")
        self.focus_now(self.grid)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear" and not (self.find_box.display or self.grid.selection):
            return False
        if action == "set_capacity" and self.grid.cursor_resource is None:
            return False
        return super().check_action(action, parameters)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.refresh_bindings()

    # ---- keys ------------------------------------------------------------------------------

    def action_open_day(self) -> None:
        resource = self.grid.cursor_resource
        if resource is not None:
            self.app.push_screen(DayScreen(resource, self.grid.cursor_date))

    def on_heatmap_grid_selected(self, message: Selected) -> None:
        self.app.push_screen(DayScreen(message.resource, message.day))

    def action_week(self, direction: int) -> None:
        self.grid.move_days(7 * direction)

    def action_today(self) -> None:
        self.grid.goto_today()

    def action_goto_date(self) -> None:
        self.app.push_screen(
            prompt(
                "Go to date",
                "Date",
                a_date_near(self.grid.today, MAX_DAYS_AWAY),
                value=self.grid.cursor_date.isoformat(),
                submit_label="Go to date",
            ),
            self._date_chosen,
        )

    def _date_chosen(self, values: dict[str, Any] | None) -> None:
        if values:
            self.goto_date(values["value"])

    def goto_date(self, day: date) -> None:
        self.grid.goto_date(day)

    def action_cycle_type(self) -> None:
        current = TYPE_CYCLE.index(self.grid.type_filter)
        new = TYPE_CYCLE[(current + 1) % len(TYPE_CYCLE)]
        self.grid.set_type_filter(new)
        self.notify(f"Showing {TYPE_TITLES.get(new or '', 'all resources').lower()}.", timeout=2)

    def focus_resource(self, resource_id: int) -> None:
        """Put the cursor on this resource (clearing filters that hide it). A resource the
        grid has not heard of yet (just added elsewhere) reloads the list first."""
        if not self.loaded_resources or not self.grid.has_resource(resource_id):
            self._pending_resource = resource_id
            if self.loaded_resources:
                self.loaded_resources = False
                self.reload()
            return
        self._pending_resource = None
        grid = self.grid
        if not grid.goto_resource(resource_id):
            grid.set_type_filter(None)
            if not grid.goto_resource(resource_id):
                self.action_clear()
                grid.goto_resource(resource_id)
        grid.focus()

    # ---- capacity over a range --------------------------------------------------------------

    def action_set_capacity(self) -> None:
        selection = self.grid.selection
        if selection is None:
            resource = self.grid.cursor_resource
            if resource is None:
                return
            day = self.grid.cursor_date
            selection = ([resource], day, day)
        resources, first, last = selection
        ids = [r.id for r in resources]
        names = ", ".join(visible(r.name) for r in resources[:3])
        if len(resources) > 3:
            names += f" and {len(resources) - 3} more"
        form = FormModal(
            f"Set capacity · {plural(len(resources), 'resource')}",
            [
                Field("max", "Max capacity", integer(0, 1_000_000), ""),
                Field("through", "Through date", a_date(first, 366), last.isoformat()),
            ],
            submit_label="Set capacity",
            note=f"{names}, from {day_text(first)}. Refused as a whole where bookings "
            "would not fit.",
        )
        self.submit_form(
            form,
            call=lambda bk, values: bk.set_capacities(ids, first, values["through"], values["max"]),
            done=self._capacity_set,
            expect=lambda values: Expect(
                f"Set capacity of {plural(len(ids), 'resource')} to {values['max']} from {first}",
                Action.CAPACITY_SET,
                "capacity",
                resource_id=ids[0],
                details={"max_capacity": values["max"]},
            ),
        )

    def _capacity_set(self, changes: list[CapacityChange]) -> None:
        change = changes[0]
        days = (change.date_to - change.date_from).days + 1
        self.notify(
            f"Max capacity {change.max_capacity} on {plural(days, 'date')} of "
            f"{plural(len(changes), 'resource')}.",
            title="Capacity set",
            markup=False,
        )
        self.grid.clear_selection()
        self.request_reload()


def selection_status(selection: Selection) -> Text:
    resources, first, last = selection
    text = Text()
    text.append(" Selected ", "bold")
    text.append(f"{plural(len(resources), 'resource')} × {plural((last - first).days + 1, 'day')}")
    text.append(f"  {first:%m-%d}..{last:%m-%d}", "dim")
    text.append("  e: capacity · esc: clear", "dim")
    return text


def cell_status(
    resource: Resource | None, day: date, cell: Cell | None, known: bool, *, short: bool = False
) -> Text:
    """The line under the grid: the cursor's resource, date and what is in that cell;
    ``short`` abbreviates it for a narrow terminal."""
    text = Text()
    if resource is None:
        text.append(" No resources to show: add one on Resources (1), or clear the filter.")
        return text
    gap = " │ " if short else "  │  "
    name = clipped(resource.name, SHORT_NAME) if short else resource.name
    text.append(f" {visible(name)}", "bold")
    if not short:
        text.append(f" · {resource.type.lower()} #{resource.id}", "dim")
    if not resource.is_active:
        text.append(" · inactive", "italic")
    text.append(gap + (f"{day:%a %d %b}" if short else day_text(day)), "bold")
    text.append(gap)
    if cell is None:
        text.append("loading…" if not known else "no capacity set", "dim")
        return text
    if cell.blackout is not None:  # closed: what is still booked there matters, not "available"
        text.append(f"╱ blackout: {visible(cell.blackout)}", "bold magenta")
        text.append(gap)
        values = {"held": cell.held, "alloc" if short else "allocated": cell.allocated}
    else:
        labels = SHORT_LABELS if short else LABELS
        numbers = (cell.max_capacity, cell.available, cell.held, cell.allocated)
        values = dict(zip(labels, numbers, strict=True))
    for label, value in values.items():
        text.append(f"{label} ")
        text.append(str(value), "bold")
        text.append(" " if short else "  ")
    if not short and cell.blackout is None:
        used = f"{cell.utilisation:.0%}" if cell.max_capacity else "—"
        text.append(f"used {used}", "dim")
    text.rstrip()
    return text
