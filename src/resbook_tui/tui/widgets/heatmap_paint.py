"""How the heatmap looks: its styles, the two header lines, resource lines and the legend.

Pure drawing, no state about the cursor or the database: the grid passes in what a line
shows and gets segments back. Styles are looked up from the widget's component classes
once per CSS change (a lookup costs ~0.5 ms; a paint asks for hundreds).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from itertools import groupby

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style

from ...booking.records import Cell, Resource
from ...text import visible

LABEL_W = 24  # resource names, fixed on the left
CELL_W = 3  # one date: two characters and a gap
HEADER_H = 2  # month line and day-number line, fixed on top

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
STYLE_NAMES = (
    "header",
    "weekend",
    "today",
    "today-cell",
    "cursor-date",
    "group",
    "label",
    "inactive",
    "label-cursor",
    "cursor",
    "selected",
    "empty",
    "loading",
    "blackout",
    *(name for _, name in BUCKETS),
)
COMPONENT_CLASSES = {f"heatmap--{name}" for name in STYLE_NAMES}

_PLAIN = Style()


def bucket(utilisation: float) -> str:
    for bound, name in BUCKETS:
        if utilisation <= bound:
            return name
    return "u5"


def fit(text: str, width: int) -> str:
    """``text`` cut (with an ellipsis) or padded to exactly ``width`` cells."""
    if cell_len(text) > width:
        return set_cell_size(text, max(width - 1, 0)) + "…"
    return text + " " * (width - cell_len(text))


@dataclass(frozen=True)
class GridRow:
    """A line of the grid: a type heading or one resource."""

    type: str
    resource: Resource | None = None
    count: int = 0

    @property
    def is_group(self) -> bool:
        return self.resource is None


class Painter:
    """Turns what a line shows into styled segments."""

    def __init__(self) -> None:
        self.styles: dict[str, Style] = {}
        self.base = Style()
        self._combined: dict[tuple[str, bool, bool, bool], Style] = {}

    def load(self, lookup: Callable[[str], Style], base: Style) -> None:
        """Take the current styles (after a CSS or theme change)."""
        self.styles = {name: lookup(f"heatmap--{name}") for name in STYLE_NAMES}
        self.base = base
        self._combined.clear()

    def style(self, name: str) -> Style:
        return self.styles.get(name, _PLAIN)

    def cell_style(self, name: str, *, today: bool, cursor: bool, selected: bool) -> Style:
        key = (name, today, cursor, selected)
        style = self._combined.get(key)
        if style is None:
            style = self.base + self.style(name)
            if today:
                style += self.style("today-cell")
            if selected:
                style += self.style("selected")
            if cursor:
                style += self.style("cursor")
            self._combined[key] = style
        return style

    # ---- the two header lines ----------------------------------------------------------

    def month_line(self, title: str, days: list[date]) -> list[Segment]:
        header = self.base + self.style("header")
        segments = [Segment(fit(f" {title}", LABEL_W), header + self.style("group"))]
        segments.append(Segment(month_labels(days), header))
        return segments

    def day_line(self, days: list[date], today: date, cursor_day: date) -> list[Segment]:
        header = self.base + self.style("header")
        segments = [Segment(fit(" Resource", LABEL_W), header)]
        for day in days:
            style = header + self.style("weekend") if day.weekday() >= 5 else header
            if day == today:
                style = header + self.style("today")
            if day == cursor_day:
                style += self.style("cursor-date")
            segments.append(Segment(f"{day.day:>2} ", style))
        return segments

    # ---- body lines --------------------------------------------------------------------

    def group_line(self, row: GridRow, width: int) -> list[Segment]:
        title = f" ▾ {TYPE_TITLES.get(row.type, row.type)} · {row.count}"
        return [Segment(fit(title, width), self.base + self.style("group"))]

    def resource_line(
        self,
        resource: Resource,
        days: list[date],
        cells: Callable[[date], tuple[Cell | None, bool]],
        *,
        today: date,
        cursor_day: date | None,
        selected: tuple[date, date] | None,
    ) -> list[Segment]:
        """One resource across ``days``; ``cells(day)`` gives (cell, known)."""
        label_style = self.base + self.style("label")
        name = visible(resource.name)
        if not resource.is_active:
            label_style += self.style("inactive")
            name += " (off)"
        if cursor_day is not None:
            label_style += self.style("label-cursor")
        segments = [Segment(fit(f" {name}", LABEL_W - 1) + " ", label_style)]
        for day in days:
            text, name = cell_face(*cells(day))
            in_selection = selected is not None and selected[0] <= day <= selected[1]
            style = self.cell_style(
                name, today=day == today, cursor=day == cursor_day, selected=in_selection
            )
            segments.append(Segment(text, style))
        return segments

    def legend(self, width: int) -> list[tuple[str, Style]]:
        """(text, style) pairs for the line under the grid, short when the width is."""
        long = width >= 96
        parts: list[tuple[str, Style]] = [(" used " if long else " ", _PLAIN)]
        for _, name in BUCKETS:
            label = BUCKET_LABELS[name] if long else BUCKET_LABELS[name].rstrip("%")
            parts.append((f" {label} ", self.base + self.style(name)))
        parts.append(("  ", _PLAIN))
        parts.append(("╱╱╱", self.base + self.style("blackout")))
        parts.append((" blackout  " if long else " closed ", _PLAIN))
        parts.append((" · ", self.base + self.style("empty")))
        parts.append((" no capacity  " if long else " none ", _PLAIN))
        parts.append((" ░ ", self.base + self.style("loading")))
        parts.append((" loading  " if long else " loading ", _PLAIN))
        parts.append(("Today", self.base + self.style("today")))
        if long:
            parts.append(("  numbers: units available", _PLAIN))
        return parts


def cell_face(cell: Cell | None, known: bool) -> tuple[str, str]:
    """The three characters a cell shows and its style name."""
    if cell is None:
        return (" · ", "empty") if known else (" ░ ", "loading")
    if cell.blackout is not None:
        return "╱╱╱", "blackout"
    if cell.max_capacity <= 0:
        return " · ", "empty"
    available = cell.available
    text = f"{available:>2} " if 0 <= available < 100 else "99+"
    return text, bucket(cell.utilisation)


def month_labels(days: Iterable[date]) -> str:
    """The month line over the date columns: ``Nov│ Dec 2026``.

    Each month's label starts over its first visible date, after a ``│`` at the boundary;
    a label is shortened (or left out) rather than run into the next month's, and the
    year shows once, on the first label with room for it, and on every January."""
    days = list(days)
    chars = [" "] * (len(days) * CELL_W)
    year_shown = False
    start = 0
    for n, (_, group) in enumerate(groupby(days, key=lambda d: (d.year, d.month))):
        count = len(list(group))
        first = days[start]
        width = count * CELL_W
        lead = "│ " if n else ""
        labels = [f"{first:%b}"]
        if not year_shown or first.month == 1:
            labels.insert(0, f"{first:%b %Y}")
        label = next((lead + text for text in labels if len(lead + text) <= width), lead[:1])
        if str(first.year) in label:
            year_shown = True
        for i, ch in enumerate(label):
            chars[start * CELL_W + i] = ch
        start += count
    return "".join(chars)
