"""Checks of caller input; each failure is one BookingError('invalid_input') line naming
the field.

Text: every text field refuses control characters (``text.control_characters``: C0 and
C1 controls, so ESC, BEL, NUL, CR and LF too, since every field is one line) and has a
maximum length (``MAX_LENGTH``, listed in the README). Numbers: every integer is checked
against the column it goes to, so the database never sees one it would overflow on.
Dates: ``YYYY-MM-DD`` exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from ..config import MAX_ACTOR_LENGTH, MAX_HOLD_TTL_MINUTES
from ..text import control_characters, has_foreign_bytes, invisible_characters, visible
from .errors import invalid, naming
from .records import HOLD_STATUSES, RESOURCE_TYPES

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_RANGE_DAYS = 366
MAX_TTL_MINUTES = MAX_HOLD_TTL_MINUTES
MAX_CAPACITY = 1_000_000
MAX_LIMIT = 1_000_000
MAX_BATCH = 100_000
INT32_MAX = 2**31 - 1  # INTEGER columns (quantities, capacities)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # BIGINT ids (INTEGER on SQLite: also 64-bit)
MAX_METADATA_CHARS = 10_000

# The longest value each text field takes (characters); the README lists them.
MAX_LENGTH = {
    "email": 254,  # RFC 5321's limit on a forward path
    "name": 200,
    "description": 1000,
    "order id": 200,
    "line item id": 200,
    "reason": 500,
    "idempotency token": 200,
    "idempotency key": 255,  # the HTTP API's Idempotency-Key header
    "actor": MAX_ACTOR_LENGTH,
    "search": 200,
    "action": 50,
    "entity": 30,
}


def _unicode(text: str) -> str:
    """``text`` with lone surrogates (undecodable bytes from argv) escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def shown(value: object, limit: int = 40) -> str:
    """A caller's value, quoted for an error message: control characters made visible
    and long values cut, so the message stays one safe line."""
    text = visible(_unicode(value)) if isinstance(value, str) else visible(repr(value))
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"'{text}'" if isinstance(value, str) else text


# ---- text -------------------------------------------------------------------------------------


def text(value: object, what: str, *, required: bool = True) -> str | None:
    """One line of text for the field ``what`` (a key of MAX_LENGTH), stripped of
    surrounding spaces; None for an empty optional field."""
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise invalid(f"{what} must be text, not {type(value).__name__}")
    bad = control_characters(value)
    if bad:
        raise invalid(
            f"{what} contains control characters ({', '.join(bad[:5])}); they are not allowed"
        )
    if has_foreign_bytes(value):
        raise invalid(f"{what} is not valid text: it holds bytes that are not UTF-8")
    cleaned = value.strip()
    if not cleaned:
        if required:
            raise invalid(f"{what} must not be empty")
        return None
    limit = MAX_LENGTH[what]
    if len(cleaned) > limit:
        raise invalid(f"{what} must be at most {limit} characters, not {len(cleaned)}")
    return cleaned


def required_text(value: object, what: str) -> str:
    cleaned = text(value, what)
    assert cleaned is not None
    return cleaned


def email(value: object) -> str:
    """Emails are compared case-insensitively, so they are stored lower-case."""
    cleaned = _seen_as_typed(required_text(value, "email"), "email", joiners=False).lower()
    if not _EMAIL.match(cleaned):
        raise invalid(f"malformed email address {shown(value)}")
    return cleaned


def name(value: object) -> str:
    """A resource's name: one line of text, told apart by eye and typed to find it."""
    return _seen_as_typed(required_text(value, "name"), "name", joiners=True)


def _seen_as_typed(cleaned: str, what: str, *, joiners: bool) -> str:
    """``cleaned`` unless it holds characters that show as nothing (a zero-width space):
    a look-alike of another customer or resource, which nobody could type to find."""
    bad = invisible_characters(cleaned, joiners=joiners)
    if bad:
        raise invalid(
            f"{what} contains invisible characters ({', '.join(bad[:5])}); they are not allowed"
        )
    return cleaned


def email_filter(value: object) -> str | None:
    """An email to look up (any case): the text rule, not the shape of an address."""
    cleaned = text(value, "email", required=False)
    return cleaned.lower() if cleaned else None


def search(value: object, what: str = "search") -> str | None:
    """A filter's text: the text rule; empty means no filter."""
    return text(value, what, required=False)


def token(value: object) -> str | None:
    if value is None:
        return None
    return required_text(value, "idempotency token")


def metadata(value: object) -> dict[str, Any]:
    """A resource's metadata: a JSON object whose text has no control characters."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid(f"metadata must be a dict, not {type(value).__name__}")
    try:
        encoded = json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise invalid(f"metadata must be plain JSON: {exc}") from None
    if len(encoded) > MAX_METADATA_CHARS:
        raise invalid(f"metadata must be at most {MAX_METADATA_CHARS} characters as JSON")
    _check_json_text(value)
    return value


def _check_json_text(value: object) -> None:
    if isinstance(value, str):
        if control_characters(value) or has_foreign_bytes(value):
            raise invalid("metadata contains control characters or bytes that are not UTF-8")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_json_text(key)
            _check_json_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_json_text(item)


# ---- numbers ----------------------------------------------------------------------------------


def whole(value: object, what: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise invalid(f"{what} must be a whole number from {low} to {high}, not {shown(value)}")
    return value


def ident(value: object, what: str) -> int:
    """An id (BIGINT): any 64-bit number is a fair question; one that is not there is
    ``not_found``, one the column cannot hold is bad input."""
    if not isinstance(value, int) or isinstance(value, bool) or not INT64_MIN <= value <= INT64_MAX:
        raise invalid(
            f"{what} id must be a whole number of at most {INT64_MAX}, not {shown(value)}"
        )
    return value


def optional_ident(value: object, what: str) -> int | None:
    return None if value is None else ident(value, what)


def idents(values: Sequence[object] | None, what: str) -> list[int] | None:
    if values is None:
        return None
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise invalid(f"{what} ids must be a list of whole numbers")
    return [ident(v, what) for v in values]


def quantity(value: object) -> int:
    return whole(value, "quantity", 1, INT32_MAX)


def minutes(value: object, what: str = "minutes") -> int:
    return whole(value, what, 1, MAX_TTL_MINUTES)


def capacity(value: object) -> int:
    return whole(value, "max capacity", 0, MAX_CAPACITY)


def limit(value: object) -> int | None:
    return None if value is None else whole(value, "limit", 1, MAX_LIMIT)


def after_id(value: object) -> int:
    return whole(value, "after id", 0, INT64_MAX)


def batch_size(value: object) -> int:
    return whole(value, "batch size", 1, MAX_BATCH)


def flag(value: object, what: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise invalid(f"{what} must be True, False or None, not {shown(value)}")


# ---- dates and choices --------------------------------------------------------------------------


def day(value: object, what: str = "date") -> date:
    if isinstance(value, datetime):
        raise invalid(f"{what} must be a date, not a date and time")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise invalid(f"{what} must be a date as YYYY-MM-DD, not {shown(value)}")


def optional_day(value: object, what: str = "date") -> date | None:
    return None if value is None else day(value, what)


def date_range(start: object, end: object, *, end_field: str | None = None) -> tuple[date, date]:
    """A start and an end date (the start when None). What refuses the end (its value,
    its order, the span) names ``end_field`` (the HTTP API's ``to``)."""
    first = day(start, "start date")
    with naming(end_field):
        last = day(end, "end date") if end is not None else first
        _ordered(first, last)
        if (last - first).days >= MAX_RANGE_DAYS:
            raise invalid(f"a date range may span at most {MAX_RANGE_DAYS} days")
    return first, last


def optional_window(
    start: object, end: object, *, end_field: str | None = None
) -> tuple[date | None, date | None]:
    """A list's optional start and end dates: an end before the start is refused, not an
    empty answer."""
    first = optional_day(start, "start date")
    with naming(end_field):
        last = optional_day(end, "end date")
        if first is not None and last is not None:
            _ordered(first, last)
    return first, last


def _ordered(first: date, last: date) -> None:
    if last < first:
        raise invalid(f"end date {last} is before start date {first}")


def resource_type(value: object) -> str:
    cleaned = value.strip().upper() if isinstance(value, str) else None
    if cleaned not in RESOURCE_TYPES:
        raise invalid(
            f"resource type must be one of {', '.join(RESOURCE_TYPES)}, not {shown(value)}"
        )
    return cleaned


def hold_status(value: object) -> str:
    cleaned = value.strip().upper() if isinstance(value, str) else None
    if cleaned not in HOLD_STATUSES:
        choices = ", ".join(HOLD_STATUSES)
        raise invalid(f"hold status must be one of {choices}, not {shown(value)}")
    return cleaned
