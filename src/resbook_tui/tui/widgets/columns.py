"""Table columns: what each shows, and how a set of them fits a width.

A column has a priority: when a table is too narrow, content-sized columns shrink first,
then the least important columns drop out, so an 80-column terminal keeps what matters
and a wide one shows everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from rich.cells import cell_len, set_cell_size

from ...text import visible


class Tag(NamedTuple):
    """Cell text with a role (a component class of the table, so themes can colour it)."""

    text: str
    role: str = ""


Value = str | int | Tag | None
LiveFormat = Callable[[Any, datetime], "Tag | str"]

ROLES = ("warning", "error", "success", "muted", "accent", "bold")
GAP = 2  # one space either side of every cell


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int | None = None  # None: fit the content, from min_width up to max_width
    align: str = "left"  # "left" or "right"
    max_width: int = 40
    live: LiveFormat | None = None  # cell holds data; live(data, now) gives its text
    # 0: always shown. Higher numbers drop out first when the table is too narrow.
    priority: int = 0
    min_width: int = 8  # a content-sized column shrinks to this before others drop out


def text_role(value: Any) -> tuple[str, str]:
    # Stored text is shown with its control characters made visible, never raw.
    if isinstance(value, Tag):
        return visible(value.text), value.role
    return ("" if value is None else visible(str(value))), ""


def label_width(column: Column) -> int:
    return column.width if column.width is not None else cell_len(column.label)


def natural_widths(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> list[int]:
    """Each column's width for these rows: fixed, or its widest cell up to its maximum."""
    rows = list(rows)
    widths = []
    for n, column in enumerate(columns):
        if column.width is not None:
            widths.append(column.width)
            continue
        widest = cell_len(column.label)
        for cells in rows:
            value = cells[n] if n < len(cells) else None
            text = value.text if isinstance(value, Tag) else value
            if text is not None:
                widest = max(widest, cell_len(str(text)))
        widths.append(min(widest, column.max_width))
    return widths


def fit_columns(columns: Sequence[Column], natural: Sequence[int], room: int) -> list[int]:
    """The width of each column in ``room`` cells: 0 for a column that is dropped.

    Content-sized columns first shrink towards their ``min_width``; if that is not
    enough, the columns with the highest ``priority`` drop out, one at a time."""
    shown = list(range(len(columns)))
    while True:
        widths = _shrink(columns, natural, shown, room)
        if widths is not None:
            return widths
        droppable = [n for n in shown if columns[n].priority > 0]
        if not droppable:
            return _shrink(columns, natural, shown, 0, force=True) or [0] * len(columns)
        # Drop the least important column; of equals, the rightmost.
        shown.remove(max(droppable, key=lambda n: (columns[n].priority, n)))


def _shrink(
    columns: Sequence[Column],
    natural: Sequence[int],
    shown: list[int],
    room: int,
    *,
    force: bool = False,
) -> list[int] | None:
    widths = [natural[n] if n in shown else 0 for n in range(len(columns))]
    excess = sum(widths[n] + GAP for n in shown) - room
    for n in reversed(shown):  # the rightmost flexible column gives way first
        if excess <= 0:
            break
        if columns[n].width is None:
            give = min(excess, max(widths[n] - min(columns[n].min_width, natural[n]), 0))
            widths[n] -= give
            excess -= give
    return widths if excess <= 0 or force else None


def fit_text(text: str, width: int, align: str) -> str:
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
    pad = width - cell_len(text)
    return " " * pad + text if align == "right" else text + " " * pad
