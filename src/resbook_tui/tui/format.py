"""Small text helpers shared by screens: dates, times, utilisation, pluralisation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from ..booking.records import Cell
from .widgets.columns import Tag


def day_text(day: date) -> str:
    return f"{day:%a} {day.isoformat()}"


def time_text(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}"


def clipped(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis: a long name must not push
    what follows it (a date, the numbers) off a line."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def utilisation(cells: Iterable[Cell]) -> float | None:
    """Units taken over units offered, across cells; None when nothing is offered."""
    offered = taken = 0
    for cell in cells:
        if cell.blackout is not None or cell.max_capacity <= 0:
            continue
        offered += cell.max_capacity
        taken += cell.max_capacity - cell.available
    return None if offered == 0 else taken / offered


def utilisation_tag(value: float | None) -> Tag:
    """A five-step bar and a percentage, coloured once it gets tight."""
    if value is None:
        return Tag("    —", "muted")
    steps = round(value * 5)
    bar = "▮" * steps + "▯" * (5 - steps)
    role = "error" if value >= 1 else "warning" if value >= 0.75 else ""
    return Tag(f"{bar} {value:>4.0%}", role)
