"""Field parsers for the TUI's forms: text in, a value out, or ``ValueError`` with a
short reason that shows beside the field as it is typed. They follow the engine's own
rules (an email is checked by the engine's validator; control characters are refused
here as the engine refuses them), so a field marked ✓ is not refused on submit."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from ..booking import validate
from ..booking.errors import BookingError
from ..text import control_characters

Parser = Callable[[str], Any]


def _plain(text: str) -> str:
    """``text`` stripped; refused if it holds a control character (a pasted tab, a bell:
    invisible in the field, and refused by the engine)."""
    found = control_characters(text)
    if found:
        raise ValueError(f"control characters ({', '.join(found[:3])})")
    return text.strip()


def integer(low: int, high: int) -> Parser:
    def parse(text: str) -> int:
        cleaned = text.strip()
        if not cleaned:
            raise ValueError("required")
        if not re.fullmatch(r"[+-]?\d+", cleaned):
            raise ValueError("a whole number")
        value = int(cleaned)
        if not low <= value <= high:
            raise ValueError(f"from {low} to {high}")
        return value

    return parse


def email(text: str) -> str:
    if not _plain(text):
        raise ValueError("required")
    try:
        return validate.email(text)  # the engine's own rule, so form and engine agree
    except BookingError:
        raise ValueError("not an email address") from None


def required_text(max_length: int = 200) -> Parser:
    def parse(text: str) -> str:
        cleaned = _plain(text)
        if not cleaned:
            raise ValueError("required")
        if len(cleaned) > max_length:
            raise ValueError(f"at most {max_length} characters")
        return cleaned

    return parse


def optional_text(max_length: int = 500) -> Parser:
    def parse(text: str) -> str | None:
        cleaned = _plain(text)
        if len(cleaned) > max_length:
            raise ValueError(f"at most {max_length} characters")
        return cleaned or None

    return parse


def a_date(not_before: date | None = None, within_days: int | None = None) -> Parser:
    def parse(text: str) -> date:
        cleaned = text.strip()
        if not cleaned:
            raise ValueError("required")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", cleaned):
            raise ValueError("YYYY-MM-DD")
        try:
            value = date.fromisoformat(cleaned)
        except ValueError:
            raise ValueError("no such date") from None
        if not_before is not None and value < not_before:
            raise ValueError(f"not before {not_before}")
        if (
            not_before is not None
            and within_days is not None
            and value > not_before + timedelta(within_days - 1)
        ):
            raise ValueError(f"at most {within_days} days")
        return value

    return parse


def choice(options: Sequence[str]) -> Parser:
    def parse(text: str) -> str:
        if text not in options:
            raise ValueError("pick one")
        return text

    return parse


def a_date_near(today: date, days_away: int) -> Parser:
    """A date at most ``days_away`` days either side of ``today`` (``:date``'s reach, and
    the heatmap's)."""
    parse_date = a_date()

    def parse(text: str) -> date:
        value: date = parse_date(text)
        if abs((value - today).days) > days_away:
            raise ValueError(f"more than {days_away} days from today")
        return value

    return parse
