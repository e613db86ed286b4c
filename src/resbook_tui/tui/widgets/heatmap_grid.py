"""The utilisation heatmap: resources down, dates across, drawn with the line API.

Only the visible lines are rendered, and each line only its visible date columns, so a
1,000 x 365 grid costs what a screenful costs. The grid holds no database code: when the
visible window has cells it has not seen it posts ``WindowNeeded`` (one request per
window, never one per cell) and the screen answers with ``set_cells``. After
``invalidate()`` old values stay on screen until fresh ones arrive, so a refresh never
flickers. Drawing lives in ``heatmap_paint``; this module keeps the state: the rows (by
type, narrowed by a name filter), the cursor, a selection and what is loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import ClassVar

from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size

from ...booking.records import RESOURCE_TYPES, Cell, Resource
from ..command_parser import MAX_DAYS_AWAY
from .heatmap_draw import DrawnGrid
from .heatmap_messages import CursorMoved, Selected, Selection, SelectionChanged, WindowNeeded
from .heatmap_paint import (
    BUCKETS,
    CELL_W,
    COMPONENT_CLASSES,
    HEADER_H,
    LABEL_W,
    TYPE_TITLES,
    GridRow,
    Painter,
    bucket,
)

__all__ = ["BUCKETS", "TYPE_TITLES", "GridRow", "HeatmapGrid", "Selection", "bucket"]

DEFAULT_DAYS = 365
MAX_DAYS = 3660
LINE_CACHE = 4000  # rendered resource lines kept (a screenful is ~70)


class HeatmapGrid(DrawnGrid, can_focus=True):
    DEFAULT_CSS = """
    HeatmapGrid {
        height: 1fr;
        background: $surface;
        & > .heatmap--header { color: $text-muted; background: $panel; }
        & > .heatmap--weekend { color: $text-secondary; background: $panel; }
        & > .heatmap--today { color: $text; background: $accent; text-style: bold; }
        & > .heatmap--today-cell { text-style: bold underline; }
        & > .heatmap--cursor-date { color: $text; background: $primary-muted; text-style: bold; }
        & > .heatmap--group { color: $text-primary; text-style: bold; background: $panel; }
        & > .heatmap--label { color: $foreground; }
        & > .heatmap--inactive { color: $text-muted; text-style: italic; }
        & > .heatmap--label-cursor { background: $primary-muted; text-style: bold; }
        & > .heatmap--cursor { text-style: reverse bold; }
        & > .heatmap--selected { text-style: bold underline; background: $primary; color: $text; }
        & > .heatmap--empty { color: $text-muted; }
        & > .heatmap--loading { color: $text-disabled; }
        & > .heatmap--blackout { background: #6b2d82; color: #f4d7ff; text-style: bold; }
        & > .heatmap--u0 { background: #23392f; color: #b9d8c8; }
        & > .heatmap--u1 { background: #2e7d4f; color: #ffffff; }
        & > .heatmap--u2 { background: #5f6f12; color: #ffffff; }
        & > .heatmap--u3 { background: #c58a00; color: #1a1a1a; }
        & > .heatmap--u4 { background: #b8460f; color: #ffffff; }
        & > .heatmap--u5 { background: #b3202a; color: #ffffff; text-style: bold; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = COMPONENT_CLASSES

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1, 0)", "Up", show=False),
        Binding("down,j", "move(1, 0)", "Down", show=False),
        Binding("left,h", "move(0, -1)", "Left", show=False),
        Binding("right,l", "move(0, 1)", "Right", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "edge(-1)", "First resource", show=False),
        Binding("end,G", "edge(1)", "Last resource", show=False),
        Binding("shift+up", "select(-1, 0)", "Select up", show=False),
        Binding("shift+down", "select(1, 0)", "Select down", show=False),
        Binding("shift+left", "select(0, -1)", "Select a day back", show=False),
        Binding("shift+right", "select(0, 1)", "Select a day on", show=False),
    ]

    # The grid's messages (handlers: on_heatmap_grid_cursor_moved and so on).
    CursorMoved = CursorMoved
    WindowNeeded = WindowNeeded
    Selected = Selected
    SelectionChanged = SelectionChanged

    def __init__(
        self,
        today: date,
        *,
        days: int = DEFAULT_DAYS,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's own spelling
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.today = today
        self.origin = today
        self.days = days
        self.type_filter: str | None = None
        self.name_filter = ""
        self._resources: list[Resource] = []
        self._rows: list[GridRow] = []
        self._row_of: dict[int, int] = {}  # resource id -> row index
        self._cells: dict[tuple[int, date], Cell] = {}
        self._known: set[tuple[int, date]] = set()
        self._painter = Painter()
        # Rendered resource lines, keyed by everything that shows in them: a cursor move
        # repaints two lines, not the screen. Emptied whenever the data or styles change.
        self._lines: LRUCache[tuple[object, ...], list[Segment]] = LRUCache(LINE_CACHE)
        self._version = 0
        self._styles_stale = True
        self.cursor_row = 0
        self.cursor_day = 0
        self._anchor: tuple[int, int] | None = None  # where a shift+arrow selection began
        self._last_request: tuple[tuple[int, ...], date, date] | None = None
        self._ahead = 0
        self._update_virtual_size()

    # ---- what the grid shows -----------------------------------------------------------

    @property
    def rows(self) -> list[GridRow]:
        return self._rows

    @property
    def cursor_resource(self) -> Resource | None:
        if 0 <= self.cursor_row < len(self._rows):
            return self._rows[self.cursor_row].resource
        return None

    def cell(self, resource_id: int, day: date) -> Cell | None:
        return self._cells.get((resource_id, day))

    def set_resources(self, resources: Sequence[Resource], reload: bool = False) -> None:
        """Show these resources (grouped by type); the cursor stays on its resource.

        ``reload`` also forgets what is loaded, so the one window request that follows
        fetches fresh values (old ones stay on screen until then)."""
        self._resources = list(resources)
        if reload:
            self._known.clear()
            self._last_request = None
            self._ahead = 0
        self._version += 1
        self._rebuild_rows()

    def set_type_filter(self, resource_type: str | None) -> None:
        self.type_filter = resource_type
        self._version += 1
        self._rebuild_rows()

    def set_name_filter(self, text: str) -> None:
        """Show only resources whose name or type contains ``text`` (any case)."""
        self.name_filter = text.strip().lower()
        self._version += 1
        self._rebuild_rows()

    def set_today(self, today: date) -> None:
        moved = today != self.today
        self.today = today
        self._version += 1
        if moved:
            self.origin = today
            self.cursor_day = 0
            self._update_virtual_size()
            self.scroll_to(x=0, animate=False, immediate=True)
            self._changed()

    def goto_date(self, day: date) -> None:
        """The cursor on ``day``, the window grown to take it in. A window never spans
        more than MAX_DAYS: past that it slides, letting go of its far end, so that any
        date (today, after a trip ten years back) can always be reached again."""
        first = min(self.origin, day)
        last = max(self.origin + timedelta(self.days - 1), day)
        if (last - first).days >= MAX_DAYS:
            if day == first:
                last = day + timedelta(MAX_DAYS - 1)
            else:
                first = day - timedelta(MAX_DAYS - 1)
        if first != self.origin:
            self.origin = first
            self._anchor = None  # a selection is kept as offsets from the origin
        self.days = (last - first).days + 1
        self._update_virtual_size()
        self.cursor_day = (day - first).days
        self._changed(center_day=True)

    def goto_resource(self, resource_id: int) -> bool:
        row = self._row_of.get(resource_id)
        if row is None:
            return False
        self.cursor_row = row
        self._changed()
        return True

    def has_resource(self, resource_id: int) -> bool:
        return any(r.id == resource_id for r in self._resources)

    # ---- selection ------------------------------------------------------------------------

    @property
    def selection(self) -> Selection | None:
        """The selected resources and dates (None without a shift+arrow selection)."""
        if self._anchor is None:
            return None
        row_a, day_a = self._anchor
        top, bottom = sorted((row_a, self.cursor_row))
        first, last = sorted((day_a, self.cursor_day))
        resources = [r.resource for r in self._rows[top : bottom + 1] if r.resource is not None]
        if not resources:
            return None
        return resources, self.origin + timedelta(first), self.origin + timedelta(last)

    def clear_selection(self) -> bool:
        """Drop the selection; whether there was one."""
        if self._anchor is None:
            return False
        self._anchor = None
        self._version += 1
        self.refresh()
        self.post_message(self.SelectionChanged(None))
        return True

    def action_select(self, rows: int, days: int) -> None:
        if self._anchor is None:
            self._anchor = (self.cursor_row, self.cursor_day)
        self._move(rows, days)
        self._version += 1
        self._changed()
        self.post_message(self.SelectionChanged(self.selection))

    # ---- layout -------------------------------------------------------------------------

    def _rebuild_rows(self) -> None:
        current = self.cursor_resource
        by_type: dict[str, list[Resource]] = {t: [] for t in RESOURCE_TYPES}
        needle = self.name_filter
        for resource in self._resources:
            if self.type_filter and resource.type != self.type_filter:
                continue
            if (
                needle
                and needle not in resource.name.lower()
                and needle not in resource.type.lower()
            ):
                continue
            by_type.setdefault(resource.type, []).append(resource)
        rows: list[GridRow] = []
        for type_, members in by_type.items():
            if not members:
                continue
            rows.append(GridRow(type_, None, len(members)))
            rows.extend(GridRow(type_, r) for r in members)
        self._rows = rows
        self._row_of = {row.resource.id: n for n, row in enumerate(rows) if row.resource}
        self._anchor = None
        if current is not None and current.id in self._row_of:
            self.cursor_row = self._row_of[current.id]
        else:
            self.cursor_row = self._nearest_resource_row(min(self.cursor_row, len(rows) - 1), 1)
        self._update_virtual_size()
        self._changed()

    def _update_virtual_size(self) -> None:
        # One spare column so the last date can always scroll fully into view.
        self.virtual_size = Size(LABEL_W + (self.days + 1) * CELL_W, HEADER_H + len(self._rows))

    def _nearest_resource_row(self, start: int, step: int) -> int:
        if not self._rows:
            return 0
        n = max(0, min(start, len(self._rows) - 1))
        for direction in (step, -step):
            probe = n
            while 0 <= probe < len(self._rows):
                if not self._rows[probe].is_group:
                    return probe
                probe += direction
        return n

    # ---- moving -------------------------------------------------------------------------

    def action_move(self, rows: int, days: int) -> None:
        self.clear_selection()
        if self._move(rows, days):
            self._changed()

    def _move(self, rows: int, days: int) -> bool:
        """Move the cursor; False when it moved by going to a date (already redrawn)."""
        if rows and self._rows:
            self._ahead = 1 if rows > 0 else -1
            # A page past either end stops at the first or last resource.
            target = max(0, min(self.cursor_row + rows, len(self._rows) - 1))
            self.cursor_row = self._nearest_resource_row(target, 1 if rows > 0 else -1)
        if days:
            target_day = self.cursor_day + days
            if not 0 <= target_day < self.days:  # beyond the window: it grows or slides
                # ... as far as :date goes, either side of today (clamped in days, so no
                # date past the calendar's ends is ever made).
                ahead = (self.today - self.cursor_date).days + MAX_DAYS_AWAY
                behind = (self.today - self.cursor_date).days - MAX_DAYS_AWAY
                self.goto_date(self.cursor_date + timedelta(max(behind, min(days, ahead))))
                return False
            self.cursor_day = target_day
        return True

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(self._visible_rows() - 1, 1), 0)

    def action_edge(self, direction: int) -> None:
        self.clear_selection()
        start = 0 if direction < 0 else len(self._rows) - 1
        self.cursor_row = self._nearest_resource_row(start, 1 if direction < 0 else -1)
        self._changed()

    def move_days(self, days: int) -> None:
        self.action_move(0, days)

    def goto_today(self) -> None:
        self.goto_date(self.today)

    def _changed(self, center_day: bool = False) -> None:
        self._scroll_to_cursor(center_day)
        self.refresh()
        # The window first: its query then starts before the status line is redrawn.
        self._check_window()
        self._post_cursor()

    def _scroll_to_cursor(self, center_day: bool = False) -> None:
        visible_days = self._visible_days()
        first_day = self._first_day()
        x = None
        if center_day and not (first_day <= self.cursor_day < first_day + visible_days):
            x = max(self.cursor_day - visible_days // 3, 0) * CELL_W
        elif self.cursor_day < first_day:
            x = self.cursor_day * CELL_W
        elif self.cursor_day >= first_day + visible_days:
            x = (self.cursor_day - visible_days + 1) * CELL_W
        visible_rows = self._visible_rows()
        first_row = self._first_row()
        y = None
        # Keep the heading of the cursor's group in view when it is just above.
        wanted_top = self.cursor_row - 1 if self.cursor_row > 0 else 0
        if wanted_top < first_row:
            y = wanted_top
        elif self.cursor_row >= first_row + visible_rows:
            y = self.cursor_row - visible_rows + 1
        if x is not None or y is not None:
            self.scroll_to(x=x, y=y, animate=False, immediate=True)

    def _post_cursor(self) -> None:
        resource = self.cursor_resource
        day = self.cursor_date
        cell = self._cells.get((resource.id, day)) if resource else None
        known = resource is not None and (resource.id, day) in self._known
        self.post_message(self.CursorMoved(resource, day, cell, known))

    def watch_scroll_x(self, old: float, new: float) -> None:
        super().watch_scroll_x(old, new)
        self._check_window()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._check_window()

    def on_resize(self, event: events.Resize) -> None:
        # A smaller window (or a scrollbar appearing) may have hidden the cursor's row.
        self._scroll_to_cursor()
        self._check_window()

    def on_click(self, event: events.Click) -> None:
        if event.y < HEADER_H:
            return
        row = self._first_row() + event.y - HEADER_H
        if not (0 <= row < len(self._rows)) or self._rows[row].is_group:
            return
        day = self.cursor_day
        if event.x >= LABEL_W:
            day = self._first_day() + (event.x - LABEL_W) // CELL_W
        same = row == self.cursor_row and day == self.cursor_day
        self.clear_selection()
        self.cursor_row = row
        self.cursor_day = min(max(day, 0), self.days - 1)
        self._changed()
        if same and event.chain >= 2 and self.cursor_resource is not None:
            self.post_message(self.Selected(self.cursor_resource, self.cursor_date))
