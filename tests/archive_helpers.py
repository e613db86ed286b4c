"""Helpers for the event archive tests (not a test module)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import peewee

from resbook_tui.booking import Booking
from resbook_tui.models import BookingEvent


def add_events(db: peewee.Database, n: int, start: datetime, step: timedelta) -> list[int]:
    """``n`` events at ``start``, ``start + step``, ... (ids in time order); their ids."""
    rows = [
        {
            "occurred_at": start + step * i,
            "actor": "test",
            "action": "hold.create",
            "entity": "hold",
            "entity_id": i + 1,
            "resource_id": 1 + i % 3,
            "date_from": date(2026, 1, 1),
            "date_to": date(2026, 1, 1),
            "customer_email": f"c{i}@example.com",
            "details": {"quantity": 1 + i % 4, "expires_at": (start + step * i).isoformat()},
        }
        for i in range(n)
    ]
    ids = []
    with db.atomic():
        for start_at in range(0, n, 500):
            chunk = rows[start_at : start_at + 500]
            first = BookingEvent.select(peewee.fn.COALESCE(peewee.fn.MAX(BookingEvent.id), 0))
            base = int(first.scalar(db))
            BookingEvent.insert_many(chunk).execute(db)
            ids += list(range(base + 1, base + 1 + len(chunk)))
    return ids


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def days_ago(bk: Booking, n: int) -> date:
    return bk.today() - timedelta(days=n)


def archived(path: Path) -> list[dict[str, Any]]:
    """Every event object in an archive file, in file order."""
    with gzip.open(path, "rt", encoding="utf-8") as source:
        return [json.loads(line) for line in source]


def event_ids(db: peewee.Database) -> list[int]:
    return [
        e.id for e in BookingEvent.select(BookingEvent.id).order_by(BookingEvent.id).execute(db)
    ]


def older_than(db: peewee.Database, moment: datetime) -> int:
    return BookingEvent.select().where(BookingEvent.occurred_at < moment).count(db)
