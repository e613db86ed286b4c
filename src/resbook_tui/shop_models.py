"""Models of what the shop's HTTP API keeps (migration 0005): API keys, hold bundles and
idempotency records. Apart from models.py so each stays a readable size; ``MODELS`` there
lists these too."""

from __future__ import annotations

import peewee

from .fields import UTCDateTimeField
from .model_base import BaseModel


class ApiKey(BaseModel):
    """A key the shop calls with. Only the SHA-256 of the secret is stored."""

    id = peewee.BigAutoField()
    name = peewee.CharField(max_length=200)
    role = peewee.CharField(max_length=20)
    prefix = peewee.CharField(max_length=20)
    secret_hash = peewee.CharField(max_length=64)
    created_at = UTCDateTimeField()
    revoked_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "api_key"


class HoldBundle(BaseModel):
    """One hold request over HTTP: its holds (``resource_hold.bundle_id``) live and end
    together."""

    id = peewee.BigAutoField()
    customer_email = peewee.CharField(max_length=320)
    api_key = peewee.ForeignKeyField(
        ApiKey, column_name="api_key_id", null=True, on_delete="SET NULL"
    )
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "hold_bundle"


class IdempotencyRecord(BaseModel):
    """One Idempotency-Key of one API key on one route: the request's hash and the answer
    (``status_code`` None while the first request is in flight)."""

    id = peewee.BigAutoField()
    api_key = peewee.ForeignKeyField(ApiKey, column_name="api_key_id", on_delete="CASCADE")
    route = peewee.CharField(max_length=300)
    idempotency_key = peewee.CharField(max_length=255)
    request_hash = peewee.CharField(max_length=64)
    status_code = peewee.IntegerField(null=True)
    response_body = peewee.TextField(null=True)
    location = peewee.CharField(max_length=300, null=True)
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "idempotency_record"


ApiKey.add_index(ApiKey.index(ApiKey.secret_hash, unique=True, name="idx_api_key_secret"))
IdempotencyRecord.add_index(
    IdempotencyRecord.index(
        IdempotencyRecord.api_key,
        IdempotencyRecord.route,
        IdempotencyRecord.idempotency_key,
        unique=True,
        name="idx_idempotency_scope",
    )
)
IdempotencyRecord.add_index(
    IdempotencyRecord.index(IdempotencyRecord.created_at, name="idx_idempotency_created")
)
