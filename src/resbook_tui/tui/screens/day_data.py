"""What the day detail reads and shows: its loader (run in a worker) and its texts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rich.text import Text

from ...booking import Booking
from ...booking.records import Allocation, Blackout, Cell, Hold
from ...booking.records import Resource as ResourceRecord
from ...text import visible
from ..format import time_text
from ..widgets.columns import Column, Tag
from ..widgets.countdown import countdown

HOLD_COLUMNS = [
    Column("id", "Hold", width=6, align="right"),
    Column("left", "Expires in", width=10, align="right", live=countdown),
    Column("status", "Status", width=9),
    Column("qty", "Qty", width=3, align="right"),
    Column("email", "Customer", max_width=34),
    Column("created", "Created (UTC)", width=19),
]
ALLOCATION_COLUMNS = [
    Column("id", "Alloc", width=6, align="right"),
    Column("qty", "Qty", width=3, align="right"),
    Column("order", "Order", max_width=24),
    Column("line", "Line item", max_width=16),
    Column("hold", "Hold", width=6, align="right"),
    Column("created", "Created (UTC)", width=19),
]
STATUS_ROLES = {"ACTIVE": "accent", "CONFIRMED": "success", "RELEASED": "muted", "EXPIRED": "muted"}


@dataclass(frozen=True)
class DayData:
    resource: ResourceRecord
    cell: Cell | None
    holds: list[Hold]
    allocations: list[Allocation]
    blackouts: list[Blackout]
    clock_offset: timedelta | None = None


def load_day(bk: Booking, resource_id: int, day: date) -> DayData:
    resource = bk.get_resource(resource_id)
    cells = bk.availability(day, day, resource_id=resource_id)
    holds = bk.list_holds(resource_id=resource_id, date_from=day, date_to=day)
    holds.sort(key=_day_order)
    # list_allocations has no date filter; one resource's allocations are few enough.
    allocations = [a for a in bk.list_allocations(resource_id=resource_id) if a.date == day]
    blackouts = bk.list_blackouts(resource_id=resource_id, date_from=day, date_to=day)
    return DayData(resource, cells[0] if cells else None, holds, allocations, blackouts)


def _day_order(hold: Hold) -> tuple[bool, float]:
    """What can still change first (ACTIVE, soonest expiry), then the rest, newest first."""
    if hold.status == "ACTIVE":
        return (False, hold.expires_at.timestamp())
    return (True, -hold.id)


def hold_row(hold: Hold) -> list[Any]:
    """A hold's row; a cancelled booking's hold reads CANCELLED as the engine reads it."""
    return [
        str(hold.id),
        hold.expires_at if hold.status == "ACTIVE" else None,
        Tag(hold.status, STATUS_ROLES.get(hold.status, "muted")),
        str(hold.quantity),
        hold.customer_email,
        time_text(hold.created_at),
    ]


def allocation_row(allocation: Allocation) -> list[Any]:
    return [
        str(allocation.id),
        str(allocation.quantity),
        allocation.order_id,
        allocation.line_item_id,
        "" if allocation.hold_id is None else str(allocation.hold_id),
        time_text(allocation.created_at),
    ]


def capacity_text(cell: Cell | None) -> Text:
    """One line: max, available, held, allocated and utilisation (wraps when narrow)."""
    text = Text()
    if cell is None:
        text.append(" No capacity set for this date. ", "dim")
        text.append("e", "bold")
        text.append(" sets it.", "dim")
        return text
    rows = (
        ("Max capacity", str(cell.max_capacity)),
        ("Available", str(cell.available)),
        ("Held", str(cell.held)),
        ("Allocated", str(cell.allocated)),
        ("Used", f"{cell.utilisation:.0%}" if cell.max_capacity else "—"),
    )
    for label, value in rows:
        text.append(f" {label} ", "dim")
        text.append(value, "bold")
        text.append("  ")
    return text


def blackout_text(blackouts: list[Blackout]) -> Text:
    text = Text()
    if not blackouts:
        text.append(" No blackout on this date.", "dim")
        return text
    for n, blackout in enumerate(blackouts):
        if n:
            text.append("\n")
        span = f"{blackout.start_date} to {blackout.end_date}"
        if blackout.start_date == blackout.end_date:
            span = str(blackout.start_date)
        text.append(" ╱╱ Blacked out", "bold magenta")
        text.append(f" #{blackout.id} ", "dim")
        text.append(visible(blackout.reason), "bold")
        text.append(f"  {span}", "dim")
    return text
