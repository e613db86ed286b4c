"""The column types resbook's models need beyond Peewee's own: UTC timestamps and JSON,
read back the same from SQLite's text and PostgreSQL's native types."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import peewee

if TYPE_CHECKING:  # peewee's stubs make Field generic; the class itself is not
    _Field = peewee.Field[Any]
else:
    _Field = peewee.Field


def to_utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTimeField(_Field):
    """A timestamp that is always read back as an aware UTC datetime.

    PostgreSQL stores TIMESTAMPTZ; SQLite stores UTC text written by the database clock.
    """

    field_type = "TIMESTAMPTZ"

    def python_value(self, value: datetime | str | None) -> datetime | None:
        return to_utc(value)

    def db_value(self, value: object) -> object:
        if isinstance(value, datetime):
            return to_utc(value)
        return value


class JSONTextField(_Field):
    """JSONB on PostgreSQL (psycopg2 decodes it), JSON text on SQLite."""

    field_type = "JSON"

    def db_value(self, value: object) -> str | None:
        return None if value is None else json.dumps(value, sort_keys=True, default=str)

    def python_value(self, value: object) -> Any:
        if isinstance(value, str | bytes):
            return json.loads(value)
        return value
