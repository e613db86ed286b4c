"""Screen 2, the default: utilisation of every resource by date, and where to drill in."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from ...booking.records import RESOURCE_TYPES, Cell, Resource
from ..format import day_text
from ..modals import a_date, prompt
from ..widgets.heatmap_grid import TYPE_TITLES, HeatmapGrid
from .base import ResbookScreen
from .day import DayScreen

if TYPE_CHECKING:
    from ..live import ChangeSet

TYPE_CYCLE: tuple[str | None, ...] = (None, *RESOURCE_TYPES)


class HeatmapScreen(ResbookScreen):
    SCREEN_TITLE = "Heatmap"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_day", "Day"),
        Binding("left_square_bracket", "week(-1)", "-Week", key_display="["),
        Binding("right_square_bracket", "week(1)", "+Week", key_display="]"),
        Binding("t", "today", "Today"),
        Binding("g", "goto_date", "Date"),
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

    def compose_body(self) -> ComposeResult:
        yield HeatmapGrid(self.rb.today, id="grid")
        yield Static("", id="cell-status", markup=False)
        yield Static("", id="legend")

    @property
    def grid(self) -> HeatmapGrid:
        return self.query_one("#grid", HeatmapGrid)

    def on_mount(self) -> None:
        self.grid.focus()
        legend = Text()
        for text, style in self.grid.legend():
            legend.append(text, style)
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
        if self._pending_resource is not None:
            self.focus_resource(self._pending_resource)

    def on_heatmap_grid_window_needed(self, message: HeatmapGrid.WindowNeeded) -> None:
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

    def on_heatmap_grid_cursor_moved(self, message: HeatmapGrid.CursorMoved) -> None:
        self.query_one("#cell-status", Static).update(
            cell_status(message.resource, message.day, message.cell, message.known)
        )

    # ---- keys ------------------------------------------------------------------------------

    def action_open_day(self) -> None:
        resource = self.grid.cursor_resource
        if resource is not None:
            self.app.push_screen(DayScreen(resource, self.grid.cursor_date))

    def on_heatmap_grid_selected(self, message: HeatmapGrid.Selected) -> None:
        self.app.push_screen(DayScreen(message.resource, message.day))

    def action_week(self, direction: int) -> None:
        self.grid.move_days(7 * direction)

    def action_today(self) -> None:
        self.grid.goto_today()

    def action_goto_date(self) -> None:
        self.app.push_screen(
            prompt("Go to date", "Date", a_date(), value=self.grid.cursor_date.isoformat()),
            lambda values: values and self.goto_date(values["value"]),
        )

    def goto_date(self, day: date) -> None:
        self.grid.goto_date(day)

    def action_cycle_type(self) -> None:
        current = TYPE_CYCLE.index(self.grid.type_filter)
        new = TYPE_CYCLE[(current + 1) % len(TYPE_CYCLE)]
        self.grid.set_type_filter(new)
        self.notify(f"Showing {TYPE_TITLES.get(new or '', 'all resources').lower()}.", timeout=2)

    def focus_resource(self, resource_id: int) -> None:
        """Put the cursor on this resource (clearing a type filter that hides it)."""
        if not self.loaded_resources:
            self._pending_resource = resource_id
            return
        self._pending_resource = None
        grid = self.grid
        if not grid.goto_resource(resource_id) and grid.type_filter is not None:
            grid.set_type_filter(None)
            grid.goto_resource(resource_id)
        grid.focus()


def cell_status(resource: Resource | None, day: date, cell: Cell | None, known: bool) -> Text:
    """The line under the grid: the cursor's resource, date and what is in that cell."""
    text = Text()
    if resource is None:
        text.append(" No resources yet: add one on the Resources screen (1).", "dim")
        return text
    text.append(f" {resource.name}", "bold")
    text.append(f" · {resource.type.lower()} #{resource.id}", "dim")
    if not resource.is_active:
        text.append(" · inactive", "italic")
    text.append(f"  │  {day_text(day)}", "bold")
    text.append("  │  ")
    if cell is None:
        text.append("loading…" if not known else "no capacity set", "dim")
        return text
    used = f"{cell.utilisation:.0%}" if cell.max_capacity else "—"
    for label, value in (
        ("max", cell.max_capacity),
        ("available", cell.available),
        ("held", cell.held),
        ("allocated", cell.allocated),
    ):
        text.append(f"{label} ")
        text.append(str(value), "bold")
        text.append("  ")
    text.append(f"used {used}", "dim")
    if cell.blackout is not None:
        text.append("  │  ")
        text.append(f"╱ blackout: {cell.blackout}", "bold magenta")
    return text
