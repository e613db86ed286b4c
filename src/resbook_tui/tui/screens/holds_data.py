"""What the Holds screen reads and how its rows look: loaders run in worker threads."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ...booking import Booking
from ...booking.records import Allocation, Hold, Resource
from ..widgets.columns import Column, Tag
from ..widgets.countdown import countdown
from .day_data import STATUS_ROLES

if TYPE_CHECKING:
    pass

# At 80 columns a hold keeps its id, time left, resource, date, quantity and customer;
# wider terminals add the rest (the higher the priority number, the sooner it drops out).
ACTIVE_COLUMNS = [
    Column("id", "Hold", width=7, align="right"),
    Column("left", "Expires in", width=10, align="right", live=countdown),
    Column("resource", "Resource", max_width=28, min_width=16),
    Column("date", "Date", width=10),
    Column("qty", "Qty", width=3, align="right"),
    Column("email", "Customer", max_width=36, min_width=20),
    Column("status", "Status", width=9, priority=1),
    Column("expires", "Expires (UTC)", width=14, priority=2),
]
OTHER_COLUMNS = [
    Column("id", "Hold", width=7, align="right"),
    Column("status", "Status", width=9),
    Column("resource", "Resource", max_width=28, min_width=16),
    Column("date", "Date", width=10),
    Column("qty", "Qty", width=3, align="right"),
    Column("email", "Customer", max_width=36, min_width=20),
    Column("left", "Expires in", width=10, align="right", live=countdown, priority=1),
    Column("expires", "Expires (UTC)", width=14, priority=2),
]
ALLOCATION_COLUMNS = [
    Column("id", "Alloc", width=7, align="right"),
    Column("resource", "Resource", max_width=28, min_width=16),
    Column("date", "Date", width=10),
    Column("qty", "Qty", width=3, align="right"),
    Column("order", "Order", max_width=24, min_width=10),
    Column("line", "Line item", max_width=16, priority=2),
    Column("hold", "Hold", width=7, align="right", priority=1),
]

PAGE = 200  # holds read around what the screen shows
LOOKUPS_CAP = 200  # changed holds read by id; more than that re-reads the window


@dataclass(frozen=True)
class Window:
    """A window of the queue: ``total`` holds match, ``holds`` are those from ``offset``."""

    status: str | None
    text: str  # the email filter (part of an address)
    total: int
    offset: int
    holds: list[Hold]
    resources: list[Resource] | None = None
    changed: list[Hold] = field(default_factory=list)  # holds a live change named
    clock_offset: timedelta | None = None


@dataclass(frozen=True)
class Customer:
    email: str
    holds: list[Hold]
    allocations: list[Allocation]
    resources: list[Resource]
    clock_offset: timedelta | None = None


def load_window(
    bk: Booking,
    *,
    status: str | None,
    text: str,
    offset: int,
    known: frozenset[int] = frozenset(),
) -> Window:
    """The count and one page of the queue: what the screen shows, never the whole queue.
    Resource names are read only when the page names a resource not in ``known``."""
    contains = text or None
    total = bk.count_holds(status=status, email_contains=contains)
    offset = max(min(offset, total - 1), 0)
    page = bk.hold_page(status=status, email_contains=contains, offset=offset, limit=PAGE)
    return Window(status, text, total, offset, page, _names(bk, page, known))


def _names(bk: Booking, holds: list[Hold], known: frozenset[int]) -> list[Resource] | None:
    """Every resource (for their names) when ``holds`` name one not known yet, else None."""
    if all(h.resource_id in known for h in holds):
        return None
    return bk.list_resources()


def load_change(
    bk: Booking,
    *,
    status: str | None,
    text: str,
    offset: int,
    changed: frozenset[int],
    shown: frozenset[int],
    span: tuple[Hold, Hold] | None,
    known_resources: frozenset[int],
) -> Window | None:
    """After other connections' changes: the changed holds by id and the count; the page
    is read again only if a change can show in it. None: nothing on screen changes."""
    if len(changed) > LOOKUPS_CAP:
        return load_window(bk, status=status, text=text, offset=offset, known=known_resources)
    holds = bk.get_holds(sorted(changed))
    contains = text or None
    total = bk.count_holds(status=status, email_contains=contains)
    lands = [h for h in holds if h.id in shown or _within(h, status, span)]
    if not lands:
        return Window(status, text, total, offset, [], None, holds)
    page = bk.hold_page(status=status, email_contains=contains, offset=offset, limit=PAGE)
    return Window(status, text, total, offset, page, _names(bk, page, known_resources), holds)


def load_reread(
    bk: Booking,
    *,
    status: str | None,
    text: str,
    offset: int,
    shown: frozenset[int],
    known: frozenset[int],
) -> Window:
    """A change that names no hold (SQLite, a big sweep): the window again, and what became
    of the holds that were on screen and are not in it now (so they keep their row)."""
    window = load_window(bk, status=status, text=text, offset=offset, known=known)
    gone = shown - {h.id for h in window.holds}
    changed = bk.get_holds(sorted(gone)) if 0 < len(gone) <= LOOKUPS_CAP else []
    return replace(window, changed=changed)


def queue_order(status: str | None, hold: Hold) -> tuple[float, int]:
    """A hold's place in the queue: ACTIVE soonest expiry first, the rest newest first."""
    if status == "ACTIVE":
        return (hold.expires_at.timestamp(), hold.id)
    return (0.0, -hold.id)


def _within(hold: Hold, status: str | None, span: tuple[Hold, Hold] | None) -> bool:
    """Whether ``hold`` sorts inside the loaded window (or the window is the whole end)."""
    if span is None:
        return True
    first, last = (queue_order(status, h) for h in span)
    return first <= queue_order(status, hold) <= last


def load_customer(bk: Booking, email: str) -> Customer:
    return Customer(
        email, bk.list_holds(email=email), bk.list_allocations(email=email), bk.list_resources()
    )


def _left(hold: Hold, status: Tag, columns: list[Column]) -> Any:
    """An active hold's expiry (drawn as its countdown). In the Active queue a hold that
    was closed meanwhile says what it became there instead: at 80 columns the queue has
    no Status column."""
    if hold.status == "ACTIVE":
        return hold.expires_at
    return status if columns is ACTIVE_COLUMNS else None


def hold_row(hold: Hold, names: dict[int, str], columns: list[Column]) -> list[Any]:
    """A hold's row; a cancelled booking's hold reads CANCELLED as the engine reads it."""
    active = hold.status == "ACTIVE"
    status = Tag(hold.status, STATUS_ROLES.get(hold.status, "muted"))
    cells: dict[str, Any] = {
        "id": str(hold.id),
        "left": _left(hold, status, columns),
        "resource": names.get(hold.resource_id, f"#{hold.resource_id}"),
        "date": hold.date.isoformat(),
        "qty": str(hold.quantity),
        "email": hold.customer_email,
        "status": status,
        "expires": f"{hold.expires_at:%m-%d %H:%M:%S}" if active else "",
    }
    return [cells[column.key] for column in columns]


def allocation_row(allocation: Allocation, names: dict[int, str]) -> list[Any]:
    return [
        str(allocation.id),
        names.get(allocation.resource_id, f"#{allocation.resource_id}"),
        allocation.date.isoformat(),
        str(allocation.quantity),
        allocation.order_id,
        allocation.line_item_id,
        "" if allocation.hold_id is None else str(allocation.hold_id),
    ]
