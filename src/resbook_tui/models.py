"""Peewee models of the migrated tables. Models never create tables: migrations do.

Models are bound through ``database_proxy``; ``bind(db)`` points them at an open database.
One process talks to one resbook database at a time.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import peewee

database_proxy = peewee.DatabaseProxy()


def bind(db: peewee.Database) -> None:
    database_proxy.initialize(db)


class UTCDateTimeField(peewee.Field):
    """A timestamp that is always read back as an aware UTC datetime.

    PostgreSQL stores TIMESTAMPTZ; SQLite stores UTC text written by the database clock.
    """

    field_type = "TIMESTAMPTZ"

    def python_value(self, value):  # noqa: ANN001 - Peewee's signature
        return to_utc(value)

    def db_value(self, value):  # noqa: ANN001
        if isinstance(value, datetime):
            return to_utc(value)
        return value


def to_utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class JSONTextField(peewee.Field):
    """JSONB on PostgreSQL (psycopg2 decodes it), JSON text on SQLite."""

    field_type = "JSON"

    def db_value(self, value):  # noqa: ANN001
        return None if value is None else json.dumps(value, sort_keys=True)

    def python_value(self, value):  # noqa: ANN001
        if isinstance(value, str | bytes):
            return json.loads(value)
        return value


class BaseModel(peewee.Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


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


class ResourceHold(BaseModel):
    id = peewee.BigAutoField()
    resource = peewee.ForeignKeyField(Resource, column_name="resource_id", on_delete="CASCADE")
    date = peewee.DateField()
    quantity = peewee.IntegerField()
    customer_email = peewee.CharField(max_length=320)
    idempotency_token = peewee.CharField(max_length=200, unique=True)  # the row's own key
    status = peewee.CharField(max_length=20, default="ACTIVE")
    expires_at = UTCDateTimeField()
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    request_token = peewee.CharField(max_length=200, null=True)  # the caller's token

    class Meta:
        table_name = "resource_hold"


class HoldRequest(BaseModel):
    """One request made with an idempotency token: the token and what it asked for."""

    id = peewee.BigAutoField()
    token = peewee.CharField(max_length=200, unique=True)
    resource = peewee.ForeignKeyField(Resource, column_name="resource_id", on_delete="CASCADE")
    date_from = peewee.DateField()
    date_to = peewee.DateField()
    quantity = peewee.IntegerField()
    customer_email = peewee.CharField(max_length=320)
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "hold_request"


class ResourceAllocation(BaseModel):
    id = peewee.BigAutoField()
    resource = peewee.ForeignKeyField(Resource, column_name="resource_id", on_delete="CASCADE")
    date = peewee.DateField()
    quantity = peewee.IntegerField()
    order_id = peewee.CharField(max_length=200)
    line_item_id = peewee.CharField(max_length=200)
    created_at = UTCDateTimeField()
    hold = peewee.ForeignKeyField(
        ResourceHold, column_name="hold_id", null=True, on_delete="SET NULL", unique=True
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


MODELS: tuple[type[BaseModel], ...] = (
    Resource,
    ResourceCapacity,
    ResourceBlackout,
    ResourceHold,
    ResourceAllocation,
    BookingEvent,
    HoldRequest,
)
