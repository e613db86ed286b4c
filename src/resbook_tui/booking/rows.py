"""How rows are read back into records: one mapper per record, from the models' field lists
(``HOLD_FIELDS``, ``ALLOCATION_FIELDS``). Values may come straight from the driver (the
PostgreSQL hot path's raw statement), so dates and times are converted here too."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from ..fields import to_utc
from .records import Allocation, Blackout, Hold, Resource


def day(value: date | str | None) -> date:
    """A date from a NOT NULL column, as the driver or Peewee gave it."""
    assert value is not None, "a NOT NULL date column"
    return value if isinstance(value, date) else date.fromisoformat(value)


def moment(value: datetime | str | None) -> datetime:
    """An aware UTC time from a NOT NULL column."""
    found = to_utc(value)
    assert found is not None, "a NOT NULL timestamp column"
    return found


def hold_from_row(row: Sequence[Any], replay: bool = False) -> Hold:
    return Hold(
        id=row[0],
        resource_id=row[1],
        date=day(row[2]),
        quantity=row[3],
        customer_email=row[4],
        token=row[10] or row[5],
        status=row[6],
        expires_at=moment(row[7]),
        created_at=moment(row[8]),
        updated_at=moment(row[9]),
        replay=replay,
    )


def allocation_from_row(row: Sequence[Any]) -> Allocation:
    return Allocation(
        id=row[0],
        resource_id=row[1],
        date=day(row[2]),
        quantity=row[3],
        order_id=row[4],
        line_item_id=row[5],
        hold_id=row[6],
        created_at=moment(row[7]),
    )


def resource_from_row(row: Sequence[Any]) -> Resource:
    return Resource(
        id=row[0],
        name=row[1],
        type=row[2],
        description=row[3],
        is_active=bool(row[4]),
        metadata=row[5] or {},
        created_at=moment(row[6]),
        updated_at=moment(row[7]),
    )


def blackout_from_row(row: Sequence[Any]) -> Blackout:
    return Blackout(row[0], row[1], day(row[2]), day(row[3]), row[4], moment(row[5]))
