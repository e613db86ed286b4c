"""What the Holds screen reads and how its rows look: loaders run in worker threads."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ...booking import Booking
from ...booking.errors import BookingError
from ...booking.events import Action
from ...booking.records import Allocation, Hold, Resource
from ..outcome import newest_event_id
from ..widgets.columns import Column, Tag
from ..widgets.countdown import countdown
from .day_data import STATUS_ROLES

if TYPE_CHECKING:
    from ..app import ResbookApp

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

# What a hold's status becomes with each event that ends its ACTIVE life.
CLOSING: dict[str, str] = {
    Action.HOLD_CONFIRM: "CONFIRMED",
    Action.HOLD_RELEASE: "RELEASED",
    Action.HOLD_EXPIRE: "EXPIRED",
}
EVENTS_CAP = 20_000  # hold events read per live refresh (a sweep writes one per hold)
LOOKUPS_CAP = 50  # holds looked up one by one when the events do not say what became of them
LIST_LIMIT = 2_000  # holds of a closed status read at once (the newest)


@dataclass(frozen=True)
class Queue:
    status: str | None
    holds: list[Hold]
    resources: list[Resource]
    after_id: int = 0  # the newest audit event before the holds were read
    truncated: bool = False
    clock_offset: timedelta | None = None


@dataclass(frozen=True)
class QueueUpdate:
    """A live refresh of the ACTIVE queue: the holds now, and what became of others."""

    holds: list[Hold]
    closed: dict[int, str]  # hold id -> status it left ACTIVE for, since ``after_id``
    after_id: int
    resources: list[Resource] | None
    clock_offset: timedelta | None = None


@dataclass(frozen=True)
class Customer:
    email: str
    holds: list[Hold]
    allocations: list[Allocation]
    resources: list[Resource]
    clock_offset: timedelta | None = None


def load_queue(bk: Booking, status: str | None) -> Queue:
    after_id = newest_event_id(bk)  # first: nothing after it is missed
    if status == "ACTIVE":
        holds = bk.list_holds(status=status)
        truncated = False
    else:
        holds = bk.list_holds(status=status, limit=LIST_LIMIT + 1)
        truncated = len(holds) > LIST_LIMIT
        holds = holds[:LIST_LIMIT]
    return Queue(status, holds, bk.list_resources(), after_id, truncated)


def load_queue_update(
    bk: Booking,
    after_id: int,
    shown: frozenset[int],
    known_resources: frozenset[int],
    app: ResbookApp,
) -> QueueUpdate:
    """The ACTIVE holds, then the hold events since ``after_id`` (read in this order, an
    event newer than the list wins); holds that were ``shown`` and left the queue without
    an event read here are looked up, a few at most."""
    holds = bk.list_holds(status="ACTIVE")
    events = bk.events(entity="hold", after_id=after_id, limit=EVENTS_CAP)
    closed = {
        e.entity_id: CLOSING[e.action]
        for e in events
        if e.action in CLOSING and e.entity_id is not None
    }
    active = {h.id for h in holds}
    unknown = [i for i in shown if i not in active and i not in closed]
    if len(unknown) <= LOOKUPS_CAP:
        for hold_id in unknown:
            with contextlib.suppress(BookingError):  # gone: dropped from the queue
                closed[hold_id] = bk.get_hold(hold_id).status
    newest = max([after_id, *(e.id for e in events)])
    resources = None
    if any(h.resource_id not in known_resources for h in holds):
        resources = bk.list_resources()
    return QueueUpdate(holds, closed, newest, resources, app.sample_clock(bk))


def load_customer(bk: Booking, email: str) -> Customer:
    return Customer(
        email, bk.list_holds(email=email), bk.list_allocations(email=email), bk.list_resources()
    )


def hold_row(hold: Hold, names: dict[int, str], columns: list[Column]) -> list[Any]:
    active = hold.status == "ACTIVE"
    cells: dict[str, Any] = {
        "id": str(hold.id),
        "left": hold.expires_at if active else None,
        "resource": names.get(hold.resource_id, f"#{hold.resource_id}"),
        "date": hold.date.isoformat(),
        "qty": str(hold.quantity),
        "email": hold.customer_email,
        "status": Tag(hold.status, STATUS_ROLES.get(hold.status, "")),
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
