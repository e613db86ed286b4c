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

from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive

from .columns import GAP, ROLES, Column, Tag, Value, fit_columns, label_width, natural_widths
from .table_draw import DrawnTable

__all__ = ["Column", "KeyedTable", "Tag"]  # Column and Tag: callers name them from here too


class KeyedTable(DrawnTable, can_focus=True):
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

    class RowsNeeded(Message):
        """Windowed: rows [first, last) are in view (or under the cursor) and not loaded."""

        def __init__(self, table: KeyedTable, first: int, last: int) -> None:
            super().__init__()
            self.table = table
            self.first = first
            self.last = last

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
        self._keys: list[str] = []  # the loaded rows' keys, in order
        self._index: dict[str, int] = {}  # key -> position among the loaded rows
        # Windowed: ``_total`` rows exist and rows ``_offset`` onwards are loaded.
        self._total: int | None = None
        self._offset = 0
        self._asked: tuple[int, int] | None = None
        self._rows: dict[str, tuple[Any, ...]] = {}
        self._natural = [label_width(c) for c in self.columns]
        self._widths = list(self._natural)
        self._styles: dict[str, Style] = {}
        self._styles_stale = True
        self._base = Style()
        self._painted = {}
        self._last_key: str | None = None
        self._update_virtual_size()

    # ---- data ---------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """Rows in the table: all of them, loaded or not."""
        return self.total_rows

    @property
    def total_rows(self) -> int:
        return self._total if self._total is not None else len(self._keys)

    @property
    def loaded(self) -> tuple[int, int]:
        """The whole-table indexes [first, last) of the loaded rows."""
        return self._offset, self._offset + len(self._keys)

    @property
    def keys(self) -> list[str]:
        return list(self._keys)

    @property
    def cursor_key(self) -> str | None:
        """The key of the cursor's row; None on an empty table or a row not loaded yet."""
        if not self._keys:
            return None
        local = min(self.cursor_row - self._offset, len(self._keys) - 1)
        return self._keys[local] if local >= 0 else None

    def row(self, key: str) -> tuple[Any, ...] | None:
        return self._rows.get(key)

    def sync(self, rows: Iterable[tuple[str, Sequence[Value]]]) -> bool:
        """Make the table show ``rows`` (in this order); returns whether anything changed.

        Rows are compared by key and value, so an unchanged refresh repaints nothing and
        the cursor stays on its row wherever that row moved. Scrolled down, the view moves
        with the cursor's row, so rows arriving or leaving above it do not shift what the
        operator is looking at; at the top, the view stays at the top.
        """
        return self._replace(rows, total=None, offset=0)

    def sync_window(
        self, rows: Iterable[tuple[str, Sequence[Value]]], *, total: int, offset: int
    ) -> bool:
        """Show a window of a longer table: ``total`` rows in all, ``rows`` from index
        ``offset``. Rows outside it draw as placeholders, and when the operator scrolls or
        moves to them the table posts ``RowsNeeded`` (the screen answers with this)."""
        return self._replace(rows, total=total, offset=offset)

    def _replace(
        self, rows: Iterable[tuple[str, Sequence[Value]]], *, total: int | None, offset: int
    ) -> bool:
        new_rows: dict[str, tuple[Any, ...]] = {}
        new_keys: list[str] = []
        for key, cells in rows:
            if key in new_rows:
                continue
            new_keys.append(key)
            new_rows[key] = tuple(cells)
        same_rows = offset == self._offset and new_keys == self._keys and new_rows == self._rows
        if same_rows and total == self._total:
            self._check_rows()
            return False
        if same_rows and total is not None and self._total is not None:
            # Only the count moved (a change elsewhere in a long queue): the loaded rows
            # and their widths stand; only the scroll range and the placeholders change.
            self._total = total
            self._fit_columns()
            if self.cursor_row >= total or not self._view_loaded():
                self._set_cursor(min(self.cursor_row, max(total - 1, 0)), scroll=False)
                self.refresh()
            self._check_rows()
            return True
        cursor_key = self.cursor_key
        old_index = self.cursor_row
        self._keys = new_keys
        self._rows = new_rows
        self._total, self._offset, self._asked = total, offset, None
        self._index = {key: n for n, key in enumerate(new_keys)}
        self._natural = natural_widths(self.columns, self._rows.values())
        self._fit_columns()
        if cursor_key is not None and cursor_key in self._index:
            new_index = offset + self._index[cursor_key]
            top = int(self.scroll_y)
            if top > 0 and new_index != old_index:
                self.scroll_to(y=max(top + new_index - old_index, 0), animate=False, immediate=True)
            self._set_cursor(new_index, scroll=False)
        else:
            self._set_cursor(min(old_index, max(self.total_rows - 1, 0)), scroll=False)
        self.refresh()
        self._check_rows()
        return True

    def _in_view(self) -> tuple[int, int]:
        """The rows the operator sees, and the cursor's: [first, last)."""
        top = int(self.scroll_y)
        visible = max(self.size.height - 1, 1)
        first = min(top, self.cursor_row)
        return first, min(max(top + visible, self.cursor_row + 1), self.total_rows)

    def _view_loaded(self) -> bool:
        first, last = self._in_view()
        have_first, have_last = self.loaded
        return have_first <= first and last <= have_last

    def _check_rows(self) -> None:
        """Windowed: ask for the rows in view (and the cursor's) when they are not loaded."""
        if self._total is None or not self.is_mounted:
            return
        if self._view_loaded():
            return
        first, last = self._in_view()
        if self._asked == (first, last):
            return
        self._asked = (first, last)
        self.post_message(self.RowsNeeded(self, first, last))

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._check_rows()

    def move_cursor_to_start(self) -> None:
        """The first row, scrolled to the top (a list that starts over)."""
        self.scroll_to(y=0, animate=False, immediate=True)
        self._set_cursor(0, scroll=False)

    def move_cursor_to(self, key: str) -> bool:
        index = self._index.get(key)
        if index is None:
            return False
        self._set_cursor(self._offset + index)
        return True

    def set_columns(self, columns: Sequence[Column]) -> None:
        """Show other columns (rows must then be synced with cells in this order)."""
        self.columns = list(columns)
        self._keys, self._rows, self._index = [], {}, {}
        self._total, self._offset, self._asked = None, 0, None
        self._natural = [label_width(c) for c in self.columns]
        self._fit_columns()
        self.refresh()

    def _fit_columns(self) -> None:
        """Fit the columns to the table's width (all of them before it has a size)."""
        room = self.size.width
        # Leave room for the vertical scrollbar whenever the rows overflow, before it is
        # shown: fitted to the full width, the last column would be cut by it.
        if self.total_rows + 1 > self.size.height:
            room -= self.styles.scrollbar_size_vertical
        if room <= 0:
            self._widths = list(self._natural)
        else:
            self._widths = fit_columns(self.columns, self._natural, room)
        self._update_virtual_size()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_columns()
        self.refresh()
        self._check_rows()

    def _update_virtual_size(self) -> None:
        width = sum(w + GAP for w in self._widths if w)
        self.set_virtual_size(Size(width, 1 + max(self.total_rows, 1)))

    # ---- cursor -------------------------------------------------------------------------

    def _set_cursor(self, index: int, scroll: bool = True) -> None:
        index = max(0, min(index, self.total_rows - 1)) if self.total_rows else 0
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
        self._check_rows()

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
        self._set_cursor(self.total_rows - 1)

    def action_select(self) -> None:
        key = self.cursor_key
        if key is not None:
            self.post_message(self.Selected(self, key))

    def on_click(self, event: events.Click) -> None:
        if event.y < 1:
            return
        index = int(self.scroll_y) + event.y - 1
        if 0 <= index < self.total_rows:
            if index == self.cursor_row and event.chain >= 2:
                self.action_select()
            self._set_cursor(index, scroll=False)
