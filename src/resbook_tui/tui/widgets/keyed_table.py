"""A table of keyed rows drawn with the line API: only visible lines are ever rendered.

Textual's DataTable measures every cell of every new row and recomputes its row offsets
on each ``update_cell``; with 10,000 holds that is seconds per load and ~90 ms per
countdown tick. This table keeps rows as plain tuples keyed by id, diffs a new list
against the old one in ``sync`` (no rebuild, the cursor stays on its row), and renders a
line only when the compositor asks for it. A column may be *live*: its cell holds data
(an expiry time) and a formatter turns it into text at render time, so ``tick()`` only
repaints that column of the visible lines and never touches the data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .columns import GAP, ROLES, Column, Tag, Value, fit_columns, fit_text, text_role
from .styles import component_style

__all__ = ["Column", "KeyedTable", "Tag"]  # Column and Tag: callers name them from here too


class KeyedTable(ScrollView, can_focus=True):
    """Rows keyed by a string id, updated by diff; a row cursor; live columns."""

    DEFAULT_CSS = """
    KeyedTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        & > .keyed-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .keyed-table--even { background: $surface-lighten-1 40%; }
        & > .keyed-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .keyed-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .keyed-table--warning { color: $text-warning; text-style: bold; }
        & > .keyed-table--error { color: $text-error; text-style: bold; }
        & > .keyed-table--success { color: $text-success; }
        & > .keyed-table--muted { color: $text-muted; }
        & > .keyed-table--accent { color: $text-accent; }
        & > .keyed-table--bold { text-style: bold; }
        & > .keyed-table--empty { color: $text-muted; text-style: italic; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "keyed-table--header",
        "keyed-table--even",
        "keyed-table--cursor",
        "keyed-table--empty",
        *(f"keyed-table--{role}" for role in ROLES),
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
        Binding("left,h", "scroll_left", "Left", show=False),
        Binding("right,l", "scroll_right", "Right", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=True, init=False)

    class Highlighted(Message):
        """The cursor moved to a row (``key`` is None when the table is empty)."""

        def __init__(self, table: KeyedTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> KeyedTable:
            return self.table

    class Selected(Message):
        """Enter (or a click on the cursor row) on a row."""

        def __init__(self, table: KeyedTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> KeyedTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        clock: Callable[[], datetime] | None = None,
        empty_text: str = "Nothing to show.",
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's own spelling
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = list(columns)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.empty_text = empty_text
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        self._rows: dict[str, tuple[Any, ...]] = {}
        self._natural = [self._label_width(c) for c in self.columns]
        self._widths = list(self._natural)
        self._styles: dict[str, Style] = {}
        self._styles_stale = True
        self._base = Style()
        self._last_key: str | None = None
        self._update_virtual_size()

    # ---- data ---------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def keys(self) -> list[str]:
        return list(self._keys)

    @property
    def cursor_key(self) -> str | None:
        if not self._keys:
            return None
        return self._keys[min(self.cursor_row, len(self._keys) - 1)]

    def row(self, key: str) -> tuple[Any, ...] | None:
        return self._rows.get(key)

    def sync(self, rows: Iterable[tuple[str, Sequence[Value]]]) -> bool:
        """Make the table show ``rows`` (in this order); returns whether anything changed.

        Rows are compared by key and value, so an unchanged refresh repaints nothing and
        the cursor stays on its row wherever that row moved. Scrolled down, the view moves
        with the cursor's row, so rows arriving or leaving above it do not shift what the
        operator is looking at; at the top, the view stays at the top.
        """
        new_rows: dict[str, tuple[Any, ...]] = {}
        new_keys: list[str] = []
        for key, cells in rows:
            if key in new_rows:
                continue
            new_keys.append(key)
            new_rows[key] = tuple(cells)
        if new_keys == self._keys and new_rows == self._rows:
            return False
        cursor_key = self.cursor_key
        old_index = self.cursor_row
        self._keys = new_keys
        self._rows = new_rows
        self._index = {key: n for n, key in enumerate(new_keys)}
        self._natural = self._measure()
        self._fit_columns()
        if cursor_key is not None and cursor_key in self._index:
            new_index = self._index[cursor_key]
            top = int(self.scroll_y)
            if top > 0 and new_index != old_index:
                self.scroll_to(y=max(top + new_index - old_index, 0), animate=False, immediate=True)
            self._set_cursor(new_index, scroll=False)
        else:
            self._set_cursor(min(old_index, max(len(new_keys) - 1, 0)), scroll=False)
        self.refresh()
        return True

    def move_cursor_to(self, key: str) -> bool:
        index = self._index.get(key)
        if index is None:
            return False
        self._set_cursor(index)
        return True

    def tick(self) -> None:
        """Repaint the live columns of the visible lines (nothing else is re-rendered)."""
        x = 0
        for column, width in zip(self.columns, self._widths, strict=True):
            if not width:
                continue
            if column.live is not None:
                self.refresh(
                    Region(x - int(self.scroll_x), 1, width + GAP, max(self.size.height - 1, 0))
                )
            x += width + GAP

    def _label_width(self, column: Column) -> int:
        return column.width if column.width is not None else cell_len(column.label)

    def _measure(self) -> list[int]:
        widths = []
        for n, column in enumerate(self.columns):
            if column.width is not None:
                widths.append(column.width)
                continue
            widest = cell_len(column.label)
            for cells in self._rows.values():
                value = cells[n] if n < len(cells) else None
                text = value.text if isinstance(value, Tag) else value
                if text is not None:
                    widest = max(widest, cell_len(str(text)))
            widths.append(min(widest, column.max_width))
        return widths

    def set_columns(self, columns: Sequence[Column]) -> None:
        """Show other columns (rows must then be synced with cells in this order)."""
        self.columns = list(columns)
        self._keys, self._rows, self._index = [], {}, {}
        self._natural = [self._label_width(c) for c in self.columns]
        self._fit_columns()
        self.refresh()

    def _fit_columns(self) -> None:
        """Fit the columns to the table's width (all of them before it has a size)."""
        room = self.size.width
        # Leave room for the vertical scrollbar whenever the rows overflow, before it is
        # shown: fitted to the full width, the last column would be cut by it.
        if len(self._keys) + 1 > self.size.height:
            room -= self.styles.scrollbar_size_vertical
        if room <= 0:
            self._widths = list(self._natural)
        else:
            self._widths = fit_columns(self.columns, self._natural, room)
        self._update_virtual_size()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_columns()
        self.refresh()

    def _update_virtual_size(self) -> None:
        width = sum(w + GAP for w in self._widths if w)
        self.virtual_size = Size(width, 1 + max(len(self._keys), 1))

    # ---- cursor -------------------------------------------------------------------------

    def _set_cursor(self, index: int, scroll: bool = True) -> None:
        index = max(0, min(index, len(self._keys) - 1)) if self._keys else 0
        old = self.cursor_row
        self.cursor_row = index
        if old != index:
            self._refresh_row(old)
            self._refresh_row(index)
        if scroll:
            self._scroll_to_cursor()
        key = self.cursor_key
        if key != self._last_key:
            self._last_key = key
            self.post_message(self.Highlighted(self, key))

    def _refresh_row(self, index: int) -> None:
        y = 1 + index - int(self.scroll_y)
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _scroll_to_cursor(self) -> None:
        visible = max(self.size.height - 1 - self._scrollbar_lines(), 1)
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)

    def _scrollbar_lines(self) -> int:
        return self.scrollbar_size_horizontal if self.show_horizontal_scrollbar else 0

    def _page(self) -> int:
        return max(self.size.height - 2 - self._scrollbar_lines(), 1)

    def action_cursor_up(self) -> None:
        self._set_cursor(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self._set_cursor(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self._set_cursor(self.cursor_row - self._page())

    def action_page_down(self) -> None:
        self._set_cursor(self.cursor_row + self._page())

    def action_first(self) -> None:
        self._set_cursor(0)

    def action_last(self) -> None:
        self._set_cursor(len(self._keys) - 1)

    def action_select(self) -> None:
        key = self.cursor_key
        if key is not None:
            self.post_message(self.Selected(self, key))

    def on_click(self, event: events.Click) -> None:
        if event.y < 1:
            return
        index = int(self.scroll_y) + event.y - 1
        if 0 <= index < len(self._keys):
            if index == self.cursor_row and event.chain >= 2:
                self.action_select()
            self._set_cursor(index, scroll=False)

    # ---- drawing ------------------------------------------------------------------------

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
        if not self._keys:
            if y == 1:
                text = fit_text(" " + self.empty_text, width, "left")
                return Strip([Segment(text, base + self._styles.get("empty", Style()))], width)
            return Strip.blank(width, base)
        if index >= len(self._keys):
            return Strip.blank(width, base)
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
        key = self._keys[index]
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
        for n, (column, w) in enumerate(zip(self.columns, self._widths, strict=True)):
            if not w:
                continue
            value = cells[n] if n < len(cells) else None
            if column.live is not None and value is not None:
                now = now or self.clock()
                value = column.live(value, now)
            text, role = text_role(value)
            style = line_style + self._styles.get(role, Style()) + keep if role else line_style
            segments.append(Segment(" ", line_style))
            segments.append(Segment(fit_text(text, w, column.align), style))
            segments.append(Segment(" ", line_style))
        return self._crop(segments, line_style, width)

    def _crop(self, segments: list[Segment], style: Style, width: int) -> Strip:
        strip = Strip(segments)
        x = int(self.scroll_x)
        return strip.crop_extend(x, x + width, style)
