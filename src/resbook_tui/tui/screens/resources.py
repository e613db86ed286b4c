"""Screen 1: the fleet, with today's and the coming week's utilisation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Static

from ...booking import Booking
from ...booking.events import Action
from ...booking.records import RESOURCE_TYPES, Cell, Resource
from ...text import visible
from ..format import plural, utilisation, utilisation_tag
from ..modals import ConfirmModal, Field, FormModal
from ..outcome import Expect
from ..parsers import optional_text, required_text
from ..widgets.keyed_table import Column, KeyedTable, Tag
from .base import Query, ResbookScreen

WEEK = 7
COLUMNS = [
    Column("id", "ID", width=6, align="right"),
    Column("name", "Name", max_width=36),
    Column("type", "Type", width=8),
    Column("active", "Active", width=6),
    Column("today", "Today", width=11),
    Column("week", f"Next {WEEK} days", width=11),
]


@dataclass(frozen=True)
class Fleet:
    resources: list[Resource]
    today: dict[int, float | None]
    week: dict[int, float | None]


def load_fleet(bk: Booking, today: date) -> Fleet:
    resources = bk.list_resources()
    cells: dict[int, list[Cell]] = defaultdict(list)
    # One query for the whole fleet and the week, not one per resource.
    for cell in bk.availability(today, today + timedelta(WEEK - 1)):
        cells[cell.resource_id].append(cell)
    return Fleet(
        resources,
        {r.id: utilisation(c for c in cells[r.id] if c.date == today) for r in resources},
        {r.id: utilisation(cells[r.id]) for r in resources},
    )


class ResourcesScreen(ResbookScreen):
    SCREEN_TITLE = "Resources"
    MUTATING = frozenset({"add", "edit", "toggle_active"})

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", key_display="/", priority=True),
        Binding("escape", "clear_filter", "Clear"),
        Binding("enter", "open_heatmap", "Heatmap"),
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Edit"),
        Binding("d", "toggle_active", "(De)activate"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.fleet = Fleet([], {}, {})
        self.filter_text = ""
        self._focus_key: str | None = None  # a row to put the cursor on once it arrives

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="filter by name or type", id="filter")
        yield Static("", id="resources-title")
        yield KeyedTable(COLUMNS, empty_text="No resources.", id="resources")

    @property
    def table(self) -> KeyedTable:
        return self.query_one("#resources", KeyedTable)

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.table.focus()

    def query_data(self) -> Query:
        today = self.rb.today
        return (lambda bk: load_fleet(bk, today)), self._loaded

    def _loaded(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.rb.remember_resources(fleet.resources)
        self._show()
        if self._focus_key is not None and self.table.move_cursor_to(self._focus_key):
            self._focus_key = None

    def _show(self) -> None:
        needle = self.filter_text.strip().lower()
        shown = [
            r
            for r in self.fleet.resources
            if not needle or needle in r.name.lower() or needle in r.type.lower()
        ]
        self.table.sync((str(r.id), self._row(r)) for r in shown)
        inactive = sum(1 for r in self.fleet.resources if not r.is_active)
        title = Text()
        title.append(f" {plural(len(self.fleet.resources), 'resource')}", "bold")
        if inactive:
            title.append(f" · {inactive} inactive", "dim")
        if needle:
            title.append(f" · {len(shown)} match {visible(needle)!r}", "")
        title.append(f" · utilisation from {self.rb.today}", "dim")
        self.query_one("#resources-title", Static).update(title)

    def _row(self, resource: Resource) -> list[Any]:
        return [
            str(resource.id),
            resource.name if resource.is_active else Tag(resource.name, "muted"),
            resource.type,
            Tag("yes", "success") if resource.is_active else Tag("no", "muted"),
            utilisation_tag(self.fleet.today.get(resource.id)),
            utilisation_tag(self.fleet.week.get(resource.id)),
        ]

    def selected(self) -> Resource | None:
        key = self.table.cursor_key
        if key is None:
            return None
        return next((r for r in self.fleet.resources if str(r.id) == key), None)

    # ---- filter ----------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        self.focus_now(box)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter" and not self.query_one("#filter", Input).display:
            return False
        if action in ("edit", "toggle_active", "open_heatmap") and self.selected() is None:
            return False
        return super().check_action(action, parameters)

    def on_keyed_table_highlighted(self, message: KeyedTable.Highlighted) -> None:
        self.refresh_bindings()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.refresh_bindings()

    @on(Input.Changed, "#filter")
    def _typed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self._show()

    @on(Input.Submitted, "#filter")
    def _done_typing(self, event: Input.Submitted) -> None:
        """Enter applies the filter (partial text included) and moves to the results."""
        if not event.value.strip():
            self.action_clear_filter()
            return
        self.focus_now(self.table)

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        with box.prevent(Input.Changed):
            box.value = ""
        box.display = False
        self.filter_text = ""
        self._show()
        self.focus_now(self.table)

    # ---- keys ------------------------------------------------------------------------------

    def action_open_heatmap(self) -> None:
        resource = self.selected()
        if resource is not None:
            self.run_worker(self.rb.show_on_heatmap(resource.id), group="navigate")

    def on_keyed_table_selected(self, message: KeyedTable.Selected) -> None:
        message.stop()
        self.action_open_heatmap()

    def action_add(self) -> None:
        self.submit_form(
            resource_form("Add resource", None),
            call=lambda bk, values: bk.add_resource(
                values["name"], values["type"], values["description"]
            ),
            done=lambda r: self._saved(r, "added"),
            expect=lambda values: Expect(
                f"Add resource {values['name']}",
                Action.RESOURCE_ADD,
                "resource",
                details={"name": values["name"], "type": values["type"]},
            ),
        )

    def action_edit(self) -> None:
        resource = self.selected()
        if resource is None:
            return
        rid = resource.id
        self.submit_form(
            resource_form(f"Edit resource #{rid}", resource),
            call=lambda bk, values: bk.edit_resource(
                rid, values["name"], values["type"], values["description"]
            ),
            done=lambda r: self._saved(r, "saved"),
            expect=lambda values: Expect(
                f"Edit resource #{rid}", Action.RESOURCE_EDIT, "resource", rid
            ),
        )

    def _saved(self, resource: Resource, verb: str) -> None:
        self.notify(f"{resource.name} ({resource.type.lower()}) {verb}.", markup=False)
        self._focus_key = str(resource.id)
        self.reload()

    def action_toggle_active(self) -> None:
        resource = self.selected()
        if resource is None:
            return
        verb = "Deactivate" if resource.is_active else "Activate"
        consequence = (
            "New holds on it will be refused; existing bookings stay."
            if resource.is_active
            else "It can take holds again."
        )
        rid, active = resource.id, resource.is_active

        def answered(yes: bool | None) -> None:
            if yes:
                self.change(
                    lambda bk: bk.deactivate(rid) if active else bk.activate(rid),
                    lambda r: self._saved(r, "deactivated" if active else "activated"),
                    expect=Expect(
                        f"{verb} resource #{rid}",
                        Action.RESOURCE_DEACTIVATE if active else Action.RESOURCE_ACTIVATE,
                        "resource",
                        rid,
                    ),
                )

        self.app.push_screen(
            ConfirmModal(
                f"{verb} this resource? {consequence}",
                subject=[
                    ("Resource", f"{resource.name} (#{rid})"),
                    ("Type", resource.type.lower()),
                ],
                confirm_label=verb,
                title=f"{verb} {resource.name}",
            ),
            answered,
        )


def resource_form(title: str, resource: Resource | None) -> FormModal:
    return FormModal(
        title,
        [
            Field("name", "Name", required_text(200), resource.name if resource else ""),
            Field(
                "type",
                "Type",
                lambda text: text,
                resource.type if resource else RESOURCE_TYPES[0],
                choices=RESOURCE_TYPES,
            ),
            Field(
                "description",
                "Description",
                optional_text(500),
                (resource.description or "") if resource else "",
            ),
        ],
    )
