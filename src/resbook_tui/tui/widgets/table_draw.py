"""Drawing a KeyedTable with the line API: the header, rows, placeholders, the empty text.

Component styles are looked up when the CSS changes (focus, theme), not on every paint:
refresh() drops Textual's own cache, and a countdown tick refreshes every second.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .columns import ROLES, Column, fit_text, text_role
from .styles import component_style


class DrawnTable(ScrollView):
    """The drawing half of KeyedTable (which is the class to use)."""

    columns: list[Column]
    clock: Callable[[], datetime]
    # What an empty table says ("loading…", then "No holds."): a change repaints it, since
    # the rows that arrive with it may be as empty as before and repaint nothing.
    empty_text: reactive[str] = reactive("Nothing to show.")
    cursor_row: int
    _keys: list[str]
    _rows: dict[str, tuple[Any, ...]]
    _widths: list[int]
    _offset: int  # the whole-table index of the first loaded row
    _styles: dict[str, Style]
    _styles_stale: bool
    _base: Style
    _painted: dict[int, tuple[str, tuple[Any, ...]]]  # row index -> its key, live cells drawn

    @property
    def total_rows(self) -> int:
        raise NotImplementedError

    def set_virtual_size(self, size: Size) -> None:
        """Set the scrollable size; a change of height alone lays nothing out.

        A long queue's count moves with every change committed elsewhere, and setting
        ``virtual_size`` (a layout reactive) lays the whole screen out again: that cost
        more than the change itself. While the rows overflow before and after, the
        scrollbar shows either way: only its range and the scroll limit move."""
        old = self.virtual_size
        room = self.container_size.height
        if (
            not self.is_mounted
            or size == old
            or size.width != old.width
            or not (room > 0 and old.height > room and size.height > room)
        ):
            self.virtual_size = size
            return
        self.set_reactive(DrawnTable.virtual_size, size)
        self.vertical_scrollbar.window_virtual_size = size.height  # repaints the scrollbar
        if self.scroll_y > self.max_scroll_y:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)

    def render_lines(self, crop: Region) -> list[Strip]:
        # Component styles are looked up when the CSS changes (focus, theme), not on
        # every paint: refresh() drops Textual's own cache and a countdown tick refreshes.
        if self._styles_stale:
            self._styles = {
                name: component_style(self, f"keyed-table--{name}")
                for name in ("header", "even", "cursor", "empty", *ROLES)
            }
            self._base = self.rich_style
            self._styles_stale = False
        return super().render_lines(crop)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles_stale = True

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self._base
        if y == 0:
            return self._header_line(base, width)
        index = int(self.scroll_y) + y - 1
        if not self.total_rows:
            if y == 1:
                text = fit_text(" " + self.empty_text, width, "left")
                return Strip([Segment(text, base + self._styles.get("empty", Style()))], width)
            return Strip.blank(width, base)
        if index >= self.total_rows:
            return Strip.blank(width, base)
        if not 0 <= index - self._offset < len(self._keys):  # not loaded yet: a placeholder
            text = fit_text("  …", width, "left")
            return Strip([Segment(text, base + self._styles.get("empty", Style()))], width)
        return self._row_line(index, base, width)

    def _header_line(self, base: Style, width: int) -> Strip:
        style = base + self._styles.get("header", Style())
        segments = [
            Segment(" " + fit_text(column.label, w, column.align) + " ", style)
            for column, w in zip(self.columns, self._widths, strict=True)
            if w
        ]
        return self._crop(segments, style, width)

    def _row_line(self, index: int, base: Style, width: int) -> Strip:
        """Row ``index`` (counted in the whole table, not the loaded window)."""
        key = self._keys[index - self._offset]
        cells = self._rows[key]
        line_style = base
        if index % 2:
            line_style += self._styles.get("even", Style())
        # On the cursor row a role keeps its weight but takes the cursor's colour: a
        # warning or success colour on the cursor's background is not readable.
        keep = Style()
        if index == self.cursor_row:
            cursor = self._styles.get("cursor", Style())
            line_style += cursor
            keep = Style(color=(line_style).color)
        now: datetime | None = None
        segments: list[Segment] = []
        live: list[Any] = []
        for n, (column, w) in enumerate(zip(self.columns, self._widths, strict=True)):
            if not w:
                continue
            value = cells[n] if n < len(cells) else None
            if column.live is not None:
                if isinstance(value, datetime):
                    now = now or self.clock()
                value = _shown(column, value, now)
                live.append(value)
            text, role = text_role(value)
            style = line_style + self._styles.get(role, Style()) + keep if role else line_style
            segments.append(Segment(" ", line_style))
            segments.append(Segment(fit_text(text, w, column.align), style))
            segments.append(Segment(" ", line_style))
        self._painted[index] = (key, tuple(live))
        return self._crop(segments, line_style, width)

    def tick(self) -> None:
        """Repaint the live cells (countdowns) of the visible lines whose text moved since
        they were drawn: a second later most read the same ("expired", "2d 04h")."""
        pairs = enumerate(zip(self.columns, self._widths, strict=True))
        live = [n for n, (column, w) in pairs if w and column.live is not None]
        if not live:
            return
        now = self.clock()
        top = int(self.scroll_y)
        for y in range(1, self.size.height):
            index = top + y - 1
            local = index - self._offset
            if not 0 <= local < len(self._keys):
                continue
            key = self._keys[local]
            cells = self._rows[key]
            shown = tuple(
                _shown(self.columns[n], cells[n] if n < len(cells) else None, now) for n in live
            )
            if self._painted.get(index) != (key, shown):
                self.refresh(Region(0, y, self.size.width, 1))
        if len(self._painted) > 4 * self.size.height:  # lines scrolled past long ago
            view = range(top, top + self.size.height)
            self._painted = {i: drawn for i, drawn in self._painted.items() if i in view}

    def _crop(self, segments: list[Segment], style: Style, width: int) -> Strip:
        strip = Strip(segments)
        x = int(self.scroll_x)
        return strip.crop_extend(x, x + width, style)


def _shown(column: Column, value: Any, now: datetime | None) -> Any:
    """What a live column shows: a time by its format (a countdown, from ``now``); any
    other value (a status said in its place, or nothing) as it is."""
    if column.live is None or not isinstance(value, datetime) or now is None:
        return value
    return column.live(value, now)
