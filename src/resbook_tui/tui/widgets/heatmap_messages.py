"""What the heatmap grid tells its screen: the cursor moved, a window needs loading, a
cell was chosen, the selection changed."""

from __future__ import annotations

from datetime import date

from textual.message import Message

from ...booking.records import Cell, Resource

Selection = tuple[list[Resource], date, date]  # resources, first date, last date


class CursorMoved(Message, namespace="heatmap_grid"):
    """The cursor is on a new cell, or the data under it changed."""

    def __init__(
        self, resource: Resource | None, day: date, cell: Cell | None, known: bool
    ) -> None:
        super().__init__()
        self.resource = resource
        self.day = day
        self.cell = cell
        self.known = known


class WindowNeeded(Message, namespace="heatmap_grid"):
    """The visible window has cells the grid has not loaded: fetch them in one query."""

    def __init__(self, resource_ids: tuple[int, ...], date_from: date, date_to: date) -> None:
        super().__init__()
        self.resource_ids = resource_ids
        self.date_from = date_from
        self.date_to = date_to


class Selected(Message, namespace="heatmap_grid"):
    def __init__(self, resource: Resource, day: date) -> None:
        super().__init__()
        self.resource = resource
        self.day = day


class SelectionChanged(Message, namespace="heatmap_grid"):
    """A selection was made, changed or cleared (``selection`` is None)."""

    def __init__(self, selection: Selection | None) -> None:
        super().__init__()
        self.selection = selection
