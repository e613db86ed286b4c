"""The utilisation heatmap: resources down, dates across, drawn with the line API.

Only the visible lines are rendered, and each line only its visible date columns, so a
1,000 x 365 grid costs what a screenful costs. The grid holds no database code: when the
visible window has cells it has not seen it posts ``WindowNeeded`` (one request per
window, never one per cell) and the screen answers with ``set_cells``. After
``invalidate()`` old values stay on screen until fresh ones arrive, so a refresh never
flickers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...booking.records import RESOURCE_TYPES, Cell, Resource

LABEL_W = 24  # resource names, fixed on the left
CELL_W = 3  # one date: two characters and a gap
HEADER_H = 2  # month line and day-number line, fixed on top
DEFAULT_DAYS = 365
MAX_DAYS = 3660

TYPE_TITLES = {"VEHICLE": "Vehicles", "TOUR": "Tours", "GUIDE": "Guides"}

# Utilisation buckets: (upper bound inclusive, component name). 0 and full are their own.
BUCKETS = (
    (0.0, "u0"),
    (0.25, "u1"),
    (0.5, "u2"),
    (0.75, "u3"),
    (0.999999, "u4"),
    (1.0, "u5"),
)
BUCKET_LABELS = {"u0": "0%", "u1": "≤25%", "u2": "≤50%", "u3": "≤75%", "u4": "<100%", "u5": "full"}


_PLAIN = Style()


def bucket(utilisation: float) -> str:
    for bound, name in BUCKETS:
        if utilisation <= bound:
            return name
    return "u5"


@dataclass(frozen=True)
class GridRow:
    """A line of the grid: a type heading or one resource."""

    type: str
    resource: Resource | None = None
    count: int = 0

    @property
    def is_group(self) -> bool:
        return self.resource is None


class HeatmapGrid(ScrollView, can_focus=True):
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
        &:focus > .heatmap--cursor { text-style: reverse bold; }
        & > .heatmap--empty { color: $text-muted; }
        & > .heatmap--loading { color: $text-disabled; }
        & > .heatmap--blackout { background: #6b2d82; color: #f4d7ff; text-style: bold; }
        & > .heatmap--u0 { background: #23392f; color: #b9d8c8; }
        & > .heatmap--u1 { background: #2e7d4f; color: #ffffff; }
        & > .heatmap--u2 { background: #7b8f1f; color: #ffffff; }
        & > .heatmap--u3 { background: #c58a00; color: #1a1a1a; }
        & > .heatmap--u4 { background: #d4561c; color: #ffffff; }
        & > .heatmap--u5 { background: #b3202a; color: #ffffff; text-style: bold; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "heatmap--header",
        "heatmap--weekend",
        "heatmap--today",
        "heatmap--today-cell",
        "heatmap--cursor-date",
        "heatmap--group",
        "heatmap--label",
        "heatmap--inactive",
        "heatmap--label-cursor",
        "heatmap--cursor",
        "heatmap--empty",
        "heatmap--loading",
        "heatmap--blackout",
        *(f"heatmap--{name}" for _, name in BUCKETS),
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1, 0)", "Up", show=False),
        Binding("down", "move(1, 0)", "Down", show=False),
        Binding("left", "move(0, -1)", "Left", show=False),
        Binding("right", "move(0, 1)", "Right", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(-1)", "First resource", show=False),
        Binding("end", "edge(1)", "Last resource", show=False),
        Binding("shift+left", "move(0, -7)", "Week back", show=False),
        Binding("shift+right", "move(0, 7)", "Week on", show=False),
    ]

    class CursorMoved(Message):
        """The cursor is on a new cell, or the data under it changed."""

        def __init__(
            self, resource: Resource | None, day: date, cell: Cell | None, known: bool
        ) -> None:
            super().__init__()
            self.resource = resource
            self.day = day
            self.cell = cell
            self.known = known

    class WindowNeeded(Message):
        """The visible window has cells the grid has not loaded: fetch them in one query."""

        def __init__(self, resource_ids: tuple[int, ...], date_from: date, date_to: date) -> None:
            super().__init__()
            self.resource_ids = resource_ids
            self.date_from = date_from
            self.date_to = date_to

    class Selected(Message):
        def __init__(self, resource: Resource, day: date) -> None:
            super().__init__()
            self.resource = resource
            self.day = day

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
        self._resources: list[Resource] = []
        self._rows: list[GridRow] = []
        self._row_of: dict[int, int] = {}  # resource id -> row index
        self._cells: dict[tuple[int, date], Cell] = {}
        self._known: set[tuple[int, date]] = set()
        self._styles: dict[str, Style] = {}
        self._combined: dict[tuple[str, bool, bool], Style] = {}
        self._base = Style()
        # Rendered resource lines, keyed by everything that shows in them: a cursor move
        # repaints two lines, not the screen. Cleared whenever the data or styles change.
        self._lines: dict[tuple, list[Segment]] = {}
        self._version = 0
        self._styles_stale = True
        self.cursor_row = 0
        self.cursor_day = 0
        self._last_request: tuple[tuple[int, ...], date, date] | None = None
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

    @property
    def cursor_date(self) -> date:
        return self.origin + timedelta(self.cursor_day)

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
        self._version += 1
        self._rebuild_rows()

    def set_type_filter(self, resource_type: str | None) -> None:
        self.type_filter = resource_type
        self._version += 1
        self._rebuild_rows()

    def set_today(self, today: date) -> None:
        moved = today != self.today
        self.today = today
        if moved:
            self.origin = today
            self.cursor_day = 0
            self._update_virtual_size()
            self.scroll_to(x=0, animate=False, immediate=True)
            self._changed()

    def set_cells(
        self, cells: Iterable[Cell], resource_ids: Sequence[int], date_from: date, date_to: date
    ) -> None:
        """Take the answer to a WindowNeeded: every (resource, date) of it is now known."""
        span = [date_from + timedelta(n) for n in range((date_to - date_from).days + 1)]
        for rid in resource_ids:
            for day in span:
                key = (rid, day)
                self._known.add(key)
                self._cells.pop(key, None)
        for cell in cells:
            self._cells[(cell.resource_id, cell.date)] = cell
        self._version += 1
        self._last_request = None
        self.refresh()
        self._post_cursor()
        self._check_window()

    def invalidate(self) -> None:
        """Forget what is loaded (keeping it on screen until fresh values arrive)."""
        self._known.clear()
        self._version += 1
        self._last_request = None
        self._check_window()

    def forget(self, resource_ids: Iterable[int]) -> None:
        """Mark what is loaded for these resources stale, fetching nothing now: their
        cells are fetched afresh when next in view (old values stay on screen until then)."""
        ids = set(resource_ids)
        if ids:
            self._known = {key for key in self._known if key[0] not in ids}
            self._last_request = None

    def goto_date(self, day: date) -> None:
        if day < self.origin:
            self.origin = day
            self.days = min(self.days + (self.origin - day).days, MAX_DAYS)
        offset = (day - self.origin).days
        if offset >= self.days:
            self.days = min(offset + 1, MAX_DAYS)
            offset = min(offset, self.days - 1)
        self._update_virtual_size()
        self.cursor_day = offset
        self._changed(center_day=True)

    def goto_resource(self, resource_id: int) -> bool:
        row = self._row_of.get(resource_id)
        if row is None:
            return False
        self.cursor_row = row
        self._changed()
        return True

    # ---- layout -------------------------------------------------------------------------

    def _rebuild_rows(self) -> None:
        current = self.cursor_resource
        by_type: dict[str, list[Resource]] = {t: [] for t in RESOURCE_TYPES}
        for resource in self._resources:
            if self.type_filter and resource.type != self.type_filter:
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
        if current is not None and current.id in self._row_of:
            self.cursor_row = self._row_of[current.id]
        else:
            self.cursor_row = self._nearest_resource_row(min(self.cursor_row, len(rows) - 1), 1)
        self._update_virtual_size()
        self._changed()

    def _update_virtual_size(self) -> None:
        # One spare column so the last date can always scroll fully into view.
        self.virtual_size = Size(LABEL_W + (self.days + 1) * CELL_W, HEADER_H + len(self._rows))

    def _visible_days(self) -> int:
        return max((self.size.width - LABEL_W) // CELL_W, 1)

    def _visible_rows(self) -> int:
        return max(self.size.height - HEADER_H, 1)

    def _first_day(self) -> int:
        return int(self.scroll_x) // CELL_W

    def _first_row(self) -> int:
        return int(self.scroll_y)

    def _nearest_resource_row(self, start: int, step: int) -> int:
        if not self._rows:
            return 0
        n = max(0, min(start, len(self._rows) - 1))
        probe = n
        while 0 <= probe < len(self._rows):
            if not self._rows[probe].is_group:
                return probe
            probe += step
        probe = n
        while 0 <= probe < len(self._rows):
            if not self._rows[probe].is_group:
                return probe
            probe -= step
        return n

    # ---- moving -------------------------------------------------------------------------

    def action_move(self, rows: int, days: int) -> None:
        if rows:
            target = self.cursor_row + rows
            if 0 <= target < len(self._rows):
                self.cursor_row = self._nearest_resource_row(target, 1 if rows > 0 else -1)
        if days:
            target_day = self.cursor_day + days
            if target_day < 0:
                self.goto_date(self.cursor_date + timedelta(days))
                return
            self.cursor_day = min(target_day, self.days - 1)
        self._changed()

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(self._visible_rows() - 1, 1), 0)

    def action_edge(self, direction: int) -> None:
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
        self._post_cursor()
        self._check_window()

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
        self.cursor_row = row
        self.cursor_day = min(max(day, 0), self.days - 1)
        self._changed()
        if same and event.chain >= 2 and self.cursor_resource is not None:
            self.post_message(self.Selected(self.cursor_resource, self.cursor_date))

    # ---- loading ------------------------------------------------------------------------

    def visible_window(self) -> tuple[list[int], date, date]:
        first_row = self._first_row()
        rows = self._rows[first_row : first_row + self._visible_rows()]
        ids = [row.resource.id for row in rows if row.resource is not None]
        first = self.origin + timedelta(self._first_day())
        last = first + timedelta(self._visible_days() - 1)
        return ids, first, last

    def window_loaded(self) -> bool:
        ids, first, last = self.visible_window()
        days = [first + timedelta(n) for n in range((last - first).days + 1)]
        return all((rid, day) in self._known for rid in ids for day in days)

    def _check_window(self) -> None:
        """Ask for the visible window (with a margin) when any of it is not loaded."""
        if not self.is_mounted or not self._rows or self.size.width == 0:
            return
        if self.window_loaded():
            return
        first_row = max(self._first_row() - self._visible_rows() // 2, 0)
        last_row = self._first_row() + self._visible_rows() + self._visible_rows() // 2
        ids = tuple(
            row.resource.id for row in self._rows[first_row:last_row] if row.resource is not None
        )
        first = self.origin + timedelta(max(self._first_day() - 7, 0))
        last = self.origin + timedelta(
            min(self._first_day() + self._visible_days() + 14, self.days) - 1
        )
        request = (ids, first, last)
        if request == self._last_request:
            return
        self._last_request = request
        self.post_message(self.WindowNeeded(ids, first, last))

    # ---- drawing ------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        # Styles are looked up (and combined) when the CSS changes, not on every paint:
        # refresh() drops Textual's own component-style cache, and 20 lookups cost ~10 ms.
        if self._styles_stale:
            self._load_styles()
        return super().render_lines(crop)

    def _load_styles(self) -> None:
        self._styles = {
            name.removeprefix("heatmap--"): self.get_component_rich_style(name, partial=True)
            for name in self.COMPONENT_CLASSES
        }
        self._base = self.rich_style
        self._combined.clear()
        self._lines.clear()
        self._styles_stale = False

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles_stale = True

    def _style(self, name: str) -> Style:
        return self._styles.get(name, _PLAIN)

    def _cell_style(self, name: str, today: bool, cursor: bool) -> Style:
        key = (name, today, cursor)
        style = self._combined.get(key)
        if style is None:
            style = self._base + self._style(name)
            if today:
                style += self._style("today-cell")
            if cursor:
                style += self._style("cursor")
            self._combined[key] = style
        return style

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self._base
        first_day = self._first_day()
        count = min(self._visible_days(), max(self.days - first_day, 0))
        days = [self.origin + timedelta(first_day + n) for n in range(count)]
        if y < HEADER_H:
            segments = self._header_line(y, days, base)
        else:
            row = self._first_row() + y - HEADER_H
            if row >= len(self._rows):
                return Strip.blank(width, base)
            key = (
                row,
                first_day,
                count,
                self.cursor_day if row == self.cursor_row else -1,
                self._version,
                self.today,
                self.origin,
            )
            segments = self._lines.get(key)
            if segments is None:
                if len(self._lines) > 4000:
                    self._lines.clear()
                segments = self._lines[key] = self._row_line(row, days, base)
        return Strip(segments).crop_extend(0, width, base)

    def _header_line(self, y: int, days: list[date], base: Style) -> list[Segment]:
        header = base + self._style("header")
        if y == 0:
            title = f" {TYPE_TITLES.get(self.type_filter or '', 'All resources')}"
            segments = [Segment(_fit(title, LABEL_W), header + self._style("group"))]
            chars = [" "] * (len(days) * CELL_W)
            for n, day in enumerate(days):
                if n == 0 or day.day == 1:
                    label = f"{day:%b %Y}" if (n == 0 or day.month == 1) else f"{day:%b}"
                    for i, ch in enumerate(label):
                        pos = n * CELL_W + i
                        if pos < len(chars):
                            chars[pos] = ch
            for n in range(len(days)):
                segments.append(Segment("".join(chars[n * CELL_W : (n + 1) * CELL_W]), header))
            return segments
        segments = [Segment(_fit(" Resource", LABEL_W), header)]
        cursor_day = self.cursor_date
        for day in days:
            style = header + self._style("weekend") if day.weekday() >= 5 else header
            if day == self.today:
                style = header + self._style("today")
            if day == cursor_day:
                style += self._style("cursor-date")
            segments.append(Segment(f"{day.day:>2} ", style))
        return segments

    def _row_line(self, row_index: int, days: list[date], base: Style) -> list[Segment]:
        row = self._rows[row_index]
        if row.resource is None:
            title = f" ▾ {TYPE_TITLES.get(row.type, row.type)} · {row.count}"
            style = base + self._style("group")
            return [Segment(_fit(title, LABEL_W + len(days) * CELL_W), style)]
        resource = row.resource
        is_cursor_row = row_index == self.cursor_row
        label_style = base + self._style("label")
        name = resource.name
        if not resource.is_active:
            label_style += self._style("inactive")
            name += " (off)"
        if is_cursor_row:
            label_style += self._style("label-cursor")
        segments = [Segment(_fit(f" {name}", LABEL_W - 1) + " ", label_style)]
        cells, known = self._cells, self._known
        rid = resource.id
        cursor_day = self.cursor_date
        today = self.today
        cell_style = self._cell_style
        for day in days:
            key = (rid, day)
            cell = cells.get(key)
            if cell is None:
                text, name = (" · ", "empty") if key in known else (" ░ ", "loading")
            elif cell.blackout is not None:
                text, name = "╱╱╱", "blackout"
            elif cell.max_capacity <= 0:
                text, name = " · ", "empty"
            else:
                available = cell.available
                text = f"{available:>2} " if 0 <= available < 100 else "99+"
                name = bucket(cell.utilisation)
            style = cell_style(name, day == today, is_cursor_row and day == cursor_day)
            segments.append(Segment(text, style))
        return segments

    def legend(self) -> list[tuple[str, Style]]:
        """(text, style) pairs for a legend drawn with the grid's own styles."""
        if self._styles_stale:
            self._load_styles()
        base = self._base
        parts: list[tuple[str, Style]] = [(" used ", Style())]
        for _, name in BUCKETS:
            parts.append((f" {BUCKET_LABELS[name]} ", base + self._style(name)))
        parts.append(("  ", Style()))
        parts.append(("╱╱╱", base + self._style("blackout")))
        parts.append((" blackout  ", Style()))
        parts.append((" · ", base + self._style("empty")))
        parts.append((" no capacity  ", Style()))
        parts.append((" ░ ", base + self._style("loading")))
        parts.append((" loading  ", Style()))
        parts.append(("Today", base + self._style("today")))
        parts.append(("  numbers: units available", Style()))
        return parts


def _fit(text: str, width: int) -> str:
    if cell_len(text) > width:
        return set_cell_size(text, max(width - 1, 0)) + "…"
    return text + " " * (width - cell_len(text))
