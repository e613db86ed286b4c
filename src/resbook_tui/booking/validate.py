"""Checks of caller input; each failure is one BookingError('invalid_input') line."""

from __future__ import annotations

import re
from datetime import date

from .errors import invalid
from .records import HOLD_STATUSES, RESOURCE_TYPES

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MAX_RANGE_DAYS = 366
MAX_TTL_MINUTES = 7 * 24 * 60


def email(value: str) -> str:
    """Emails are compared case-insensitively, so they are stored lower-case."""
    cleaned = (value or "").strip().lower()
    if not _EMAIL.match(cleaned) or len(cleaned) > 320:
        raise invalid(f"malformed email address {value!r}")
    return cleaned


def quantity(value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise invalid(f"quantity must be a whole number of at least 1, not {value!r}")
    return value


def minutes(value: int, what: str = "minutes") -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_TTL_MINUTES:
        raise invalid(f"{what} must be between 1 and {MAX_TTL_MINUTES}, not {value!r}")
    return value


def day(value: date | str, what: str = "date") -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise invalid(f"{what} must be a date as YYYY-MM-DD, not {value!r}") from None


def date_range(start: date | str, end: date | str | None) -> tuple[date, date]:
    first = day(start, "start date")
    last = day(end, "end date") if end is not None else first
    if last < first:
        raise invalid(f"end date {last} is before start date {first}")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise invalid(f"a date range may span at most {MAX_RANGE_DAYS} days")
    return first, last


def resource_type(value: str) -> str:
    cleaned = (value or "").strip().upper()
    if cleaned not in RESOURCE_TYPES:
        raise invalid(f"resource type must be one of {', '.join(RESOURCE_TYPES)}, not {value!r}")
    return cleaned


def hold_status(value: str) -> str:
    cleaned = (value or "").strip().upper()
    if cleaned not in HOLD_STATUSES:
        raise invalid(f"hold status must be one of {', '.join(HOLD_STATUSES)}, not {value!r}")
    return cleaned


def text(value: str, what: str, max_length: int = 200) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise invalid(f"{what} must not be empty")
    if len(cleaned) > max_length:
        raise invalid(f"{what} must be at most {max_length} characters")
    return cleaned


def capacity(value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1_000_000:
        raise invalid(f"max capacity must be a whole number from 0 to 1000000, not {value!r}")
    return value


def token(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = value.strip()
    if not cleaned or len(cleaned) > 150:
        raise invalid("idempotency token must be 1 to 150 characters")
    return cleaned
