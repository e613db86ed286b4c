"""Peewee models of the migrated tables, and the queries the rules are written in.

Models never create tables: migrations do, and ``tests/test_models.py`` proves the two
agree (columns, types, nullability, lengths, indexes, keys) on both dialects.

The models are bound to no database: every query names the one it runs on
(``query.execute(db)``), so several databases open in one process (a TUI and its change
feed, a test's racing threads, SQLite and PostgreSQL side by side) never mix. (Peewee also
reads a bound database when it builds an INSERT, to decide on an implicit RETURNING; an
unbound model leaves that to the database the query runs on.)
"""

from __future__ import annotations

from typing import Any, Unpack

import peewee
from peewee import SQL, fn

from .audit import Action as Action  # the audit vocabulary is named from here too
from .audit import EventFacts as EventFacts
from .fields import JSONTextField, UTCDateTimeField
from .model_base import BaseModel
from .shop_models import ApiKey, HoldBundle, IdempotencyRecord


class Resource(BaseModel):
    id = peewee.BigAutoField()
    name = peewee.CharField(max_length=200)
    type = peewee.CharField(max_length=20)
    description = peewee.TextField(null=True)
    is_active = peewee.BooleanField(default=True)
    metadata = JSONTextField(default=dict)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    deleted_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "resource"

    @classmethod
    def live(cls) -> peewee.Expression:
        """Not deleted."""
        return cls.deleted_at.is_null()

    @classmethod
    def same_name(cls, name: str) -> peewee.Expression:
        """The name as migration 0003's unique index compares it: any case, outer spaces
        ignored."""
        return fn.lower(fn.trim(cls.name)) == fn.lower(fn.trim(name))


class ResourceCapacity(BaseModel):
    id = peewee.BigAutoField()
    resource = peewee.ForeignKeyField(Resource, column_name="resource_id", on_delete="CASCADE")
    date = peewee.DateField()
    max_capacity = peewee.IntegerField()
    available_capacity = peewee.IntegerField()
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    class Meta:
        table_name = "resource_capacity"
        constraints = [SQL("CONSTRAINT uq_resource_date UNIQUE (resource_id, date)")]

    @classmethod
    def take(
        cls, resource_id: object, day: object, quantity: object, *, today: peewee.Node
    ) -> peewee.ModelUpdate:
        """The whole rule for taking units from a cell, as one conditional UPDATE: enough
        available, not in the past, an active resource, no blackout that day. A row count
        of 0 is the refusal; the database decides, never a read before the write.

        The arguments may be values or SQL nodes (PostgreSQL prepares this statement with
        parameter placeholders in their place).
        """
        r, b = Resource, ResourceBlackout
        active = r.select(SQL("1")).where(
            (r.id == resource_id) & r.is_active & r.deleted_at.is_null()
        )
        blacked_out = b.select(SQL("1")).where(
            (b.resource == resource_id) & (b.start_date <= day) & (b.end_date >= day)
        )
        return cls.update(available_capacity=cls.available_capacity - quantity).where(
            (cls.resource == resource_id)
            & (cls.date == day)
            & (cls.available_capacity >= quantity)
            & (cls.date >= today)
            & fn.EXISTS(active)
            & ~fn.EXISTS(blacked_out)
        )

    @classmethod
    def give_back(cls, resource_id: object, day: object, quantity: object) -> peewee.ModelUpdate:
        return cls.update(available_capacity=cls.available_capacity + quantity).where(
            (cls.resource == resource_id) & (cls.date == day)
        )

    @classmethod
    def cells(
        cls, resource_id: object, first: object, last: object
    ) -> peewee.ModelSelect[ResourceCapacity]:
        """A resource's cells over a range, in the one global lock order (resource_id, date).
        Values or SQL nodes, as for ``take``."""
        return (
            cls.select(cls.id)
            .where((cls.resource == resource_id) & cls.date.between(first, last))
            .order_by(cls.resource, cls.date)
        )


class ResourceBlackout(BaseModel):
    id = peewee.BigAutoField()
    resource = peewee.ForeignKeyField(Resource, column_name="resource_id", on_delete="CASCADE")
    start_date = peewee.DateField()
    end_date = peewee.DateField()
    reason = peewee.TextField()
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    class Meta:
        table_name = "resource_blackout"

    @classmethod
    def covering(cls, resource_id: object, day: object) -> peewee.Expression:
        """Blackouts of the resource over the day (values or SQL nodes)."""
        return (cls.resource == resource_id) & (cls.start_date <= day) & (cls.end_date >= day)


class ResourceHold(BaseModel):
    id = peewee.BigAutoField()
    resource = peewee.ForeignKeyField(Resource, column_name="resource_id", on_delete="CASCADE")
    date = peewee.DateField()
    quantity = peewee.IntegerField()
    customer_email = peewee.CharField(max_length=320)
    idempotency_token = peewee.CharField(max_length=200)  # the row's own key
    status = peewee.CharField(max_length=20, default="ACTIVE")
    expires_at = UTCDateTimeField()
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    request_token = peewee.CharField(max_length=200, null=True)  # the caller's token
    bundle_id = peewee.BigIntegerField(null=True)  # its HoldBundle, if made over HTTP

    class Meta:
        table_name = "resource_hold"


class HoldRequest(BaseModel):
    """One request made with an idempotency token: the token and what it asked for."""

    id = peewee.BigAutoField()
    token = peewee.CharField(max_length=200)
    resource = peewee.ForeignKeyField(Resource, column_name="resource_id", on_delete="CASCADE")
    date_from = peewee.DateField()
    date_to = peewee.DateField()
    quantity = peewee.IntegerField()
    customer_email = peewee.CharField(max_length=320)
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "hold_request"

    @classmethod
    def claim(
        cls,
        token: object,
        resource_id: object,
        first: object,
        last: object,
        quantity: object,
        email: object,
    ) -> peewee.ModelInsert:
        """Insert the request row unless the token is taken: one row back means it is ours.
        A racing duplicate waits on the unique index here, holding nothing else. (Values
        or SQL nodes, as for ``ResourceCapacity.take``.)"""
        row = {
            cls.token: token,
            cls.resource: resource_id,
            cls.date_from: first,
            cls.date_to: last,
            cls.quantity: quantity,
            cls.customer_email: email,
        }
        return (
            cls.insert(row)
            .on_conflict(conflict_target=[cls.token], action="NOTHING")
            .returning(cls.id)
        )


class ResourceAllocation(BaseModel):
    id = peewee.BigAutoField()
    resource = peewee.ForeignKeyField(Resource, column_name="resource_id", on_delete="CASCADE")
    date = peewee.DateField()
    quantity = peewee.IntegerField()
    order_id = peewee.CharField(max_length=200)
    line_item_id = peewee.CharField(max_length=200)
    created_at = UTCDateTimeField()
    hold = peewee.ForeignKeyField(
        ResourceHold, column_name="hold_id", null=True, on_delete="SET NULL"
    )

    class Meta:
        table_name = "resource_allocation"


class BookingEvent(BaseModel):
    id = peewee.BigAutoField()
    occurred_at = UTCDateTimeField()
    actor = peewee.CharField(max_length=200)
    action = peewee.CharField(max_length=50)
    entity = peewee.CharField(max_length=30)
    entity_id = peewee.BigIntegerField(null=True)
    resource_id = peewee.BigIntegerField(null=True)
    date_from = peewee.DateField(null=True)
    date_to = peewee.DateField(null=True)
    customer_email = peewee.CharField(max_length=320, null=True)
    details = JSONTextField(default=dict)

    class Meta:
        table_name = "booking_event"

    @classmethod
    def row(cls, *, actor: str, **event: Unpack[EventFacts]) -> dict[str, Any]:
        """One event's values (a single date stands for a range of one day)."""
        date_from = event.get("date_from")
        return {
            "actor": actor,
            "action": str(event["action"]),
            "entity": event["entity"],
            "entity_id": event["entity_id"],
            "resource_id": event.get("resource_id"),
            "date_from": date_from,
            "date_to": event.get("date_to") or date_from,
            "customer_email": event.get("email"),
            "details": event.get("details") or {},
        }


def _index(
    model: type[BaseModel],
    name: str,
    *fields: Any,
    unique: bool = False,
    where: peewee.Expression | None = None,
) -> None:
    """Declare an index by the name its migration gives it (peewee would make one up)."""
    model.add_index(model.index(*fields, unique=unique, where=where, name=name))


_index(Resource, "idx_resource_type", Resource.type)
_index(Resource, "idx_resource_active", Resource.is_active)
_index(
    Resource,
    "idx_resource_active_name",
    fn.lower(fn.trim(Resource.name)),
    unique=True,
    where=Resource.is_active & Resource.deleted_at.is_null(),
)
_index(ResourceCapacity, "idx_capacity_date", ResourceCapacity.date)
_index(
    ResourceCapacity, "idx_capacity_resource_date", ResourceCapacity.resource, ResourceCapacity.date
)
_index(
    ResourceBlackout,
    "idx_blackout_resource_dates",
    ResourceBlackout.resource,
    ResourceBlackout.start_date,
    ResourceBlackout.end_date,
)
_index(ResourceHold, "idx_hold_idempotency", ResourceHold.idempotency_token, unique=True)
_index(
    ResourceHold,
    "idx_hold_resource_date_status",
    ResourceHold.resource,
    ResourceHold.date,
    ResourceHold.status,
)
_index(
    ResourceHold, "idx_hold_expires", ResourceHold.expires_at, where=ResourceHold.status == "ACTIVE"
)
_index(ResourceHold, "idx_hold_expires_all", ResourceHold.expires_at, ResourceHold.id)
_index(ResourceHold, "idx_hold_active_id", ResourceHold.id, where=ResourceHold.status == "ACTIVE")
_index(ResourceHold, "idx_hold_customer", ResourceHold.customer_email)
_index(ResourceHold, "idx_hold_request_rows", ResourceHold.request_token)
_index(ResourceHold, "idx_hold_bundle_rows", ResourceHold.bundle_id)
_index(HoldRequest, "idx_hold_request_token", HoldRequest.token, unique=True)
_index(
    ResourceAllocation,
    "idx_allocation_resource_date",
    ResourceAllocation.resource,
    ResourceAllocation.date,
)
_index(ResourceAllocation, "idx_allocation_order", ResourceAllocation.order_id)
_index(ResourceAllocation, "idx_allocation_line_item", ResourceAllocation.line_item_id)
_index(ResourceAllocation, "idx_allocation_hold", ResourceAllocation.hold, unique=True)
_index(BookingEvent, "idx_event_entity", BookingEvent.entity, BookingEvent.entity_id)
_index(BookingEvent, "idx_event_resource", BookingEvent.resource_id, BookingEvent.id)
_index(BookingEvent, "idx_event_action", BookingEvent.action, BookingEvent.id)
_index(BookingEvent, "idx_event_customer", BookingEvent.customer_email)
_index(BookingEvent, "idx_event_occurred", BookingEvent.occurred_at)


# What a Hold or Allocation record is read from, in order. request_token comes last: a hold
# made with a caller's token shows that token, one made without shows the key resbook made
# up for it (idempotency_token).
HOLD_FIELDS: tuple[peewee.Field[Any], ...] = (
    ResourceHold.id,
    ResourceHold.resource,
    ResourceHold.date,
    ResourceHold.quantity,
    ResourceHold.customer_email,
    ResourceHold.idempotency_token,
    ResourceHold.status,
    ResourceHold.expires_at,
    ResourceHold.created_at,
    ResourceHold.updated_at,
    ResourceHold.request_token,
)
# A hold as the interfaces read it (get_hold, list_holds, the queue): a confirmed hold
# with no allocation had its booking cancelled and reads CANCELLED. The row stays
# CONFIRMED, what the hold became; the cancel is the allocation's, in the audit trail.
# (Its EXISTS is one probe of idx_allocation_hold.)
_BOOKING_CANCELLED = (ResourceHold.status == "CONFIRMED") & ~fn.EXISTS(
    ResourceAllocation.select(SQL("1")).where(ResourceAllocation.hold == ResourceHold.id)
)
SHOWN_HOLD_FIELDS: tuple[Any, ...] = tuple(
    peewee.Case(None, [(_BOOKING_CANCELLED, "CANCELLED")], ResourceHold.status)
    if field is ResourceHold.status
    else field
    for field in HOLD_FIELDS
)
RESOURCE_FIELDS: tuple[peewee.Field[Any], ...] = (
    Resource.id,
    Resource.name,
    Resource.type,
    Resource.description,
    Resource.is_active,
    Resource.metadata,
    Resource.created_at,
    Resource.updated_at,
)
BLACKOUT_FIELDS: tuple[peewee.Field[Any], ...] = (
    ResourceBlackout.id,
    ResourceBlackout.resource,
    ResourceBlackout.start_date,
    ResourceBlackout.end_date,
    ResourceBlackout.reason,
    ResourceBlackout.created_at,
)
ALLOCATION_FIELDS: tuple[peewee.Field[Any], ...] = (
    ResourceAllocation.id,
    ResourceAllocation.resource,
    ResourceAllocation.date,
    ResourceAllocation.quantity,
    ResourceAllocation.order_id,
    ResourceAllocation.line_item_id,
    ResourceAllocation.hold,
    ResourceAllocation.created_at,
)

# What an event row is written with (its id and time come from the database).
EVENT_FIELDS: tuple[peewee.Field[Any], ...] = (
    BookingEvent.actor,
    BookingEvent.action,
    BookingEvent.entity,
    BookingEvent.entity_id,
    BookingEvent.resource_id,
    BookingEvent.date_from,
    BookingEvent.date_to,
    BookingEvent.customer_email,
    BookingEvent.details,
)

MODELS: tuple[type[BaseModel], ...] = (
    Resource,
    ResourceCapacity,
    ResourceBlackout,
    ResourceHold,
    ResourceAllocation,
    BookingEvent,
    HoldRequest,
    ApiKey,
    HoldBundle,
    IdempotencyRecord,
)
