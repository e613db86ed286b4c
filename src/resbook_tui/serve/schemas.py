"""The HTTP API's bodies, as pydantic models: what the OpenAPI document shows and what a
request is checked against before a handler runs (a failure is a 400 naming the field).

Text fields refuse control characters (the rule of ``text.py``) and have the booking
layer's lengths; integers have the column's range; dates are ``YYYY-MM-DD``. The booking
layer checks everything again: these are for clear errors and an honest schema.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from ..booking.records import RESOURCE_TYPES
from ..booking.validate import INT32_MAX, INT64_MAX, MAX_CAPACITY, MAX_LENGTH, MAX_TTL_MINUTES
from ..text import control_characters


def _no_controls(value: str) -> str:
    found = control_characters(value)
    if found:
        raise ValueError(f"contains control characters ({', '.join(found)})")
    return value


Safe = AfterValidator(_no_controls)
Email = Annotated[str, Field(min_length=1, max_length=MAX_LENGTH["email"]), Safe]
Name = Annotated[str, Field(min_length=1, max_length=MAX_LENGTH["name"]), Safe]
Description = Annotated[str, Field(min_length=1, max_length=MAX_LENGTH["description"]), Safe]
OrderId = Annotated[str, Field(min_length=1, max_length=MAX_LENGTH["order id"]), Safe]
LineItemId = Annotated[str, Field(min_length=1, max_length=MAX_LENGTH["line item id"]), Safe]
Reason = Annotated[str, Field(min_length=1, max_length=MAX_LENGTH["reason"]), Safe]
QueryText = Annotated[str, Safe]  # a query's text (its length is the Query's to limit)


def _digits(value: object) -> object:
    """A number in a path or query, which comes as text: ASCII digits only. Python's and
    pydantic's int() also take "+16", "1_6", " 16" and "16.0", other spellings of one id
    that no client means."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("must be a whole number in digits (0-9)")
    return value


Digits = BeforeValidator(_digits)  # after a Path(...) or Query(...) in an Annotated
Id = Annotated[int, Field(ge=1, le=INT64_MAX, strict=True)]
QueryId = Annotated[int, Field(ge=1, le=INT64_MAX), Digits]  # a query's digits are text
Quantity = Annotated[int, Field(ge=1, le=INT32_MAX, strict=True)]
Minutes = Annotated[int, Field(ge=1, le=MAX_TTL_MINUTES, strict=True)]
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: object) -> object:
    """The date itself, so that one that does not exist (2026-02-30) is told the same
    way as one in another form, not in pydantic's words."""
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value} is not a date (YYYY-MM-DD)") from None
    raise ValueError("must be a date as YYYY-MM-DD")


Day = Annotated[dt.date, BeforeValidator(_iso_day)]
ResourceType = Literal["VEHICLE", "TOUR", "GUIDE"]
# A filter by type in a query; empty (``type=``) means any type.
TypeFilter = Annotated[
    Literal["VEHICLE", "TOUR", "GUIDE", ""] | None,
    Field(description="VEHICLE, TOUR or GUIDE; empty or absent: any"),
]
assert set(RESOURCE_TYPES) == {"VEHICLE", "TOUR", "GUIDE"}


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- store -------------------------------------------------------------------------------


class HoldLine(Body):
    resource_id: Id
    date: Day
    to: Day | None = Field(None, description="Hold every date up to this one (inclusive).")
    quantity: Quantity


class HoldCreate(Body):
    email: Email
    ttl_minutes: Minutes | None = Field(None, description="Minutes until the holds expire.")
    lines: list[HoldLine] = Field(min_length=1, max_length=100)


class HoldExtend(Body):
    minutes: Minutes


class HoldConfirm(Body):
    order_id: OrderId
    line_item_id: LineItemId | None = None


class HoldOut(BaseModel):
    id: int
    resource_id: int
    date: dt.date
    quantity: int
    status: str
    expires_at: dt.datetime


class AllocationOut(BaseModel):
    id: int
    resource_id: int
    date: dt.date
    quantity: int
    order_id: str
    line_item_id: str
    hold_id: int | None
    created_at: dt.datetime


class HoldRequestOut(BaseModel):
    id: int
    email: str
    status: str
    expires_at: dt.datetime
    created_at: dt.datetime
    holds: list[HoldOut]
    allocations: list[AllocationOut]


class ResourceOut(BaseModel):
    id: int
    name: str
    type: str
    description: str | None
    is_active: bool


class ResourcesOut(BaseModel):
    resources: list[ResourceOut]


class DayOut(BaseModel):
    date: dt.date
    max: int
    available: int
    held: int
    allocated: int
    blackout: str | None
    status: Literal["AVAILABLE", "LIMITED", "SOLD_OUT", "CLOSED"]


class ResourceDaysOut(BaseModel):
    resource_id: int
    name: str
    type: str
    days: list[DayOut]


class AvailabilityOut(BaseModel):
    resources: list[ResourceDaysOut]


class Health(BaseModel):
    status: str
    database: str


# ---- admin -------------------------------------------------------------------------------


class ResourceCreate(Body):
    name: Name
    type: ResourceType
    description: Description | None = None


class ResourcePatch(Body):
    name: Name | None = None
    type: ResourceType | None = None
    description: Description | None = None
    is_active: StrictBool | None = None  # JSON true or false: never "off" or 1


class CapacityPut(Body):
    resource_ids: list[Id] = Field(min_length=1, max_length=1000)
    date_from: Day = Field(alias="from")
    date_to: Day | None = Field(None, alias="to")
    max: Annotated[int, Field(ge=0, le=MAX_CAPACITY, strict=True)]


class CapacityChangeOut(BaseModel):
    resource_id: int
    date_from: dt.date
    date_to: dt.date
    max_capacity: int
    updated: int
    created: int


class CapacityOut(BaseModel):
    changes: list[CapacityChangeOut]


class BlackoutCreate(Body):
    resource_id: Id
    date_from: Day = Field(alias="from")
    date_to: Day | None = Field(None, alias="to")
    reason: Reason


class BlackoutOut(BaseModel):
    id: int
    resource_id: int
    start_date: dt.date
    end_date: dt.date
    reason: str
    created_at: dt.datetime


class BlackoutCreated(BaseModel):
    blackout: BlackoutOut
    active_hold_ids: list[int]
    allocation_ids: list[int]


class BlackoutsOut(BaseModel):
    blackouts: list[BlackoutOut]


class AllocationsOut(BaseModel):
    allocations: list[AllocationOut]


class EventOut(BaseModel):
    id: int
    occurred_at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: int | None
    resource_id: int | None
    date_from: dt.date | None
    date_to: dt.date | None
    customer_email: str | None
    details: dict[str, Any]


class EventsOut(BaseModel):
    events: list[EventOut]
    next_after_id: int


class SweepIn(Body):
    dry_run: StrictBool = False


class SweepOut(BaseModel):
    expired_holds: int
    returned_units: int
    cells: int
    batches: int
    dry_run: bool
    skipped: int
    idempotency_keys_removed: int
