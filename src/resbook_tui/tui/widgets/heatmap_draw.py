"""Drawing the heatmap grid with the line API: one resource line at a time, from a cache.

A rendered resource line is kept (Textual's ``LRUCache``) under everything that shows in
it, so a cursor move repaints two lines, not the screen.
"""

from __future__ import annotations

from datetime import date, timedelta

from rich.segment import Segment
from textual.cache import LRUCache
from textual.geometry import Region
from textual.strip import Strip

from ...booking.records import Cell
from .heatmap_messages import Selection
from .heatmap_paint import CELL_W, HEADER_H, LABEL_W, TYPE_TITLES, Painter
from .heatmap_window import WindowLoading
from .styles import component_style


class DrawnGrid(WindowLoading):
    """The drawing half of the heatmap grid."""

    today: date
    type_filter: str | None
    cursor_row: int
    _painter: Painter
    _lines: LRUCache[tuple[object, ...], list[Segment]]
    _styles_stale: bool

    @property
    def selection(self) -> Selection | None:
        raise NotImplementedError

    def render_lines(self, crop: Region) -> list[Strip]:
        # Styles are looked up (and combined) when the CSS changes, not on every paint:
        # refresh() drops Textual's own component-style cache, and 20 lookups cost ~10 ms.
        if self._styles_stale:
            self._load_styles()
        return super().render_lines(crop)

    def _load_styles(self) -> None:
        self._painter.load(lambda name: component_style(self, name), self.rich_style)
        self._lines.clear()
        self._styles_stale = False

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles_stale = True

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        painter = self._painter
        first_day = self._first_day()
        count = min(self._visible_days(), max(self.days - first_day, 0))
        days = [self.origin + timedelta(first_day + n) for n in range(count)]
        if y == 0:
            title = TYPE_TITLES.get(self.type_filter or "", "All resources")
            segments = painter.month_line(title, days)
        elif y == 1:
            segments = painter.day_line(days, self.today, self.cursor_date)
        else:
            row = self._first_row() + y - HEADER_H
            if row >= len(self._rows):
                return Strip.blank(width, painter.base)
            segments = self._row_segments(row, first_day, days)
        return Strip(segments).crop_extend(0, width, painter.base)

    def _row_segments(self, row: int, first_day: int, days: list[date]) -> list[Segment]:
        grid_row = self._rows[row]
        if grid_row.resource is None:
            return self._painter.group_line(grid_row, LABEL_W + len(days) * CELL_W)
        selection = self.selection
        selected = None
        if selection is not None and grid_row.resource in selection[0]:
            selected = (selection[1], selection[2])
        cursor_day = self.cursor_date if row == self.cursor_row else None
        key = (row, first_day, len(days), cursor_day, selected, self._version, self.origin)
        segments = self._lines.get(key)
        if segments is None:
            rid = grid_row.resource.id
            cells, known = self._cells, self._known

            def at(day: date) -> tuple[Cell | None, bool]:
                return cells.get((rid, day)), (rid, day) in known

            segments = self._painter.resource_line(
                grid_row.resource,
                days,
                at,
                today=self.today,
                cursor_day=cursor_day,
                selected=selected,
            )
            self._lines.set(key, segments)
        return segments

    def legend(self, width: int = 200) -> list[tuple[str, object]]:
        """(text, style) pairs for a legend drawn with the grid's own styles."""
        if self._styles_stale:
            self._load_styles()
        return list(self._painter.legend(width))
