"""Plain tables for a terminal, in the style of ``kubectl get``: one line per row, always.

Upper-case headers, columns two spaces apart, no borders. When the lines are wider than
the output, the flexible columns (names, emails, free text) are cut with an ellipsis,
widest first; when that is not enough, the least useful columns are left out, and a last
lone column is cut at the edge. A row never wraps.

The width is $COLUMNS when set, else the terminal's; a pipe or a file with no $COLUMNS
gets whole lines. Every cell goes through ``visible`` first, so a control character that
is stored in the database is printed as its escape, never raw.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len, set_cell_size

from ..text import visible

GAP = 2
ELLIPSIS = "…"
# Flexible columns are cut down to COMFORT cells before a column marked ``drop`` is left
# out, and down to FLOOR before any other column is.
COMFORT = 14
FLOOR = 6


@dataclass(frozen=True)
class Column:
    header: str
    right: bool = False  # numbers line up on the right
    flex: bool = False  # may be cut to fit the width
    drop: int = 0  # when columns must go, the highest goes first (ties: the rightmost)


def output_width() -> int | None:
    """Cells per line: $COLUMNS, else the terminal's width, else None (no limit)."""
    env = os.environ.get("COLUMNS", "").strip()
    if env.isascii() and env.isdigit() and int(env) > 0:
        return int(env)
    try:
        if sys.stdout.isatty():
            return shutil.get_terminal_size().columns
    except (AttributeError, ValueError, OSError):  # a closed or unusual stdout
        pass
    return None


def _width(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, ending with an ellipsis when it was longer."""
    if _width(text) <= width:
        return text
    if width <= 0:
        return ""
    if text.isascii():
        return text[: width - 1] + ELLIPSIS
    return set_cell_size(text, width - 1).rstrip() + ELLIPSIS


class Layout:
    """Column widths fitted once, so rows printed later (``events --follow``) line up."""

    def __init__(
        self,
        columns: Sequence[Column],
        rows: Sequence[Sequence[str]] = (),
        width: int | None = None,
        at_least: Sequence[int] = (),
    ) -> None:
        self.columns = list(columns)
        self.limit = width
        natural = [_width(c.header) for c in self.columns]
        for i, least in enumerate(at_least):
            natural[i] = max(natural[i], least)
        for row in rows:
            for i, cell in enumerate(row):
                w = _width(cell)
                if w > natural[i]:
                    natural[i] = w
        self.shown = list(range(len(self.columns)))
        self.widths = natural
        if width is not None:
            self._fit(natural, width)

    def _fit(self, natural: list[int], limit: int) -> None:
        for least, droppable in ((COMFORT, lambda c: c.drop > 0), (FLOOR, lambda c: True)):
            while True:
                self.widths = self._shrink(natural, limit, least)
                if self._used() <= limit or len(self.shown) == 1:
                    break
                candidates = [i for i in self.shown if droppable(self.columns[i])]
                if not candidates:
                    break
                self.shown.remove(max(candidates, key=lambda i: (self.columns[i].drop, i)))
        self.widths = self._shrink(natural, limit, FLOOR)

    def _used(self) -> int:
        return sum(self.widths[i] for i in self.shown) + GAP * (len(self.shown) - 1)

    def _shrink(self, natural: list[int], limit: int, least: int) -> list[int]:
        """Take one cell at a time from the widest flexible column that can still give one
        (none below ``least``)."""
        widths = list(natural)
        excess = sum(widths[i] for i in self.shown) + GAP * (len(self.shown) - 1) - limit
        floor = {i: min(widths[i], least) for i in self.shown if self.columns[i].flex}
        while excess > 0:
            candidates = [i for i in floor if widths[i] > floor[i]]
            if not candidates:
                break
            widest = max(candidates, key=lambda i: widths[i])
            widths[widest] -= 1
            excess -= 1
        return widths

    def line(self, cells: Sequence[str]) -> str:
        parts = []
        last = self.shown[-1]
        for i in self.shown:
            column, width = self.columns[i], self.widths[i]
            # Without a width (a pipe) nothing is cut, even a later row wider than the layout.
            text = cells[i] if self.limit is None else cut(cells[i], width)
            pad = width - _width(text)
            if column.right:
                parts.append(" " * pad + text)
            elif i == last:
                parts.append(text)
            else:
                parts.append(text + " " * pad)
        joined = (" " * GAP).join(parts).rstrip()
        if self.limit is not None:
            joined = cut(joined, self.limit)
        return joined

    def header(self) -> str:
        return self.line([c.header.upper() for c in self.columns])

    def lines(self, rows: Iterable[Sequence[str]]) -> list[str]:
        return [self.line(row) for row in rows]


def one_line(text: str) -> str:
    """``text`` made visible and cut to ``output_width()``: for a line outside a table."""
    shown = visible(text)
    width = output_width()
    return shown if width is None else cut(shown, width)


def cells(row: Iterable[Any]) -> list[str]:
    """A row of values as display text: None is empty, every string is made visible."""
    return ["" if v is None else visible(str(v)) for v in row]


def render(columns: Sequence[Column], rows: Iterable[Iterable[Any]]) -> list[str]:
    """The header and one line per row, fitted to ``output_width()``."""
    shown = [cells(row) for row in rows]
    layout = Layout(columns, shown, output_width())
    return [layout.header(), *layout.lines(shown)]


def print_table(
    columns: Sequence[Column], rows: Iterable[Iterable[Any]], empty: str = "Nothing found."
) -> None:
    """Print the table on stdout, or ``empty`` on stderr when there are no rows."""
    lines = render(columns, rows)
    if len(lines) == 1:
        sys.stderr.write(empty + "\n")
        return
    sys.stdout.write("\n".join(lines) + "\n")
