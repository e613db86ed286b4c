"""What the booking engine returns: plain frozen dataclasses, safe to hand to any thread."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

RESOURCE_TYPES = ("VEHICLE", "TOUR", "GUIDE")
HOLD_STATUSES = ("ACTIVE", "CONFIRMED", "RELEASED", "EXPIRED")


@dataclass(frozen=True)
class Resource:
    id: int
    name: str
    type: str
    description: str | None
    is_active: bool
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Cell:
    """One resource on one date: what it can take and where its units are."""

    resource_id: int
    date: date
    max_capacity: int
    available: int
    held: int
    allocated: int
    blackout: str | None = None

    @property
    def utilisation(self) -> float:
        return (
            0.0
            if self.max_capacity == 0
            else (self.max_capacity - self.available) / (self.max_capacity)
        )


@dataclass(frozen=True)
class Hold:
    id: int
    resource_id: int
    date: date
    quantity: int
    customer_email: str
    token: str
    status: str
    expires_at: datetime
    created_at: datetime
    updated_at: datetime
    replay: bool = False

    def status_beside(self, booked: Collection[int | None]) -> str:
        """The status to show beside the allocations made from the holds in ``booked``:
        a confirmed hold none of them came from had its booking cancelled (the row stays
        CONFIRMED, what the hold became; the cancel is the allocation's, in the audit
        trail)."""
        return "CANCELLED" if self.status == "CONFIRMED" and self.id not in booked else self.status


@dataclass(frozen=True)
class Allocation:
    id: int
    resource_id: int
    date: date
    quantity: int
    order_id: str
    line_item_id: str
    hold_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class Blackout:
    id: int
    resource_id: int
    start_date: date
    end_date: date
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class BlackoutResult:
    """A new blackout and the bookings already inside it, which staff must now look at."""

    blackout: Blackout
    active_holds: tuple[Hold, ...] = ()
    allocations: tuple[Allocation, ...] = ()


@dataclass(frozen=True)
class CapacityChange:
    resource_id: int
    date_from: date
    date_to: date
    max_capacity: int
    updated: int
    created: int


@dataclass(frozen=True)
class SweepResult:
    expired_holds: int
    returned_units: int
    cells: int
    batches: int
    dry_run: bool = False
    # Due holds left ACTIVE because another session had them or their cell locked
    # (PostgreSQL); the next sweep takes them.
    skipped: int = 0
    # Idempotency records of the HTTP API past their 24 hours, removed.
    idempotency_keys_removed: int = 0


@dataclass(frozen=True)
class Event:
    id: int
    occurred_at: datetime
    actor: str
    action: str
    entity: str
    entity_id: int | None
    resource_id: int | None
    date_from: date | None
    date_to: date | None
    customer_email: str | None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiKeyInfo:
    """An API key as it may be shown: never its secret (``prefix`` tells keys apart)."""

    id: int
    name: str
    role: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class NewApiKey:
    """A key just made: ``key`` is the secret, shown this once and stored only hashed."""

    info: ApiKeyInfo
    key: str


@dataclass(frozen=True)
class Bundle:
    """A hold request made over HTTP: every line of every date, held all or none.

    ``status`` is read from its holds: ACTIVE while they hold units, then CONFIRMED,
    RELEASED, EXPIRED or CANCELLED (confirmed, then its bookings cancelled); MIXED when
    its holds differ (one booking of two cancelled, or a hold moved alone outside the shop).
    """

    id: int
    email: str
    status: str
    expires_at: datetime
    created_at: datetime
    holds: tuple[Hold, ...]
    allocations: tuple[Allocation, ...] = ()


@dataclass(frozen=True)
class Shortfall:
    """One cell a bundle asked more of than it has."""

    resource_id: int
    date: date
    requested: int
    available: int
