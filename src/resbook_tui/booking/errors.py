"""The one family of refusals the booking engine raises, each with a machine-readable code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import EXIT_BUSY, EXIT_INVALID, EXIT_REFUSED, ResbookError

# code -> exit code of the CLI. Rules refuse with 1; a bad request (including an id that
# does not exist) is the caller's mistake, 2; busy (a lock or statement timeout, or
# concurrent changes that kept colliding) changed nothing and may simply be tried again, 4.
CODES: dict[str, int] = {
    "no_capacity": EXIT_REFUSED,
    "blackout": EXIT_REFUSED,
    "inactive_resource": EXIT_REFUSED,
    "invalid_state": EXIT_REFUSED,
    "expired": EXIT_REFUSED,
    "token_conflict": EXIT_REFUSED,
    # The shop's hold requests (bundles, booking/bundles.py) and its HTTP API.
    "insufficient_capacity": EXIT_REFUSED,
    "blacked_out": EXIT_REFUSED,
    "hold_not_active": EXIT_REFUSED,
    "hold_life_exceeded": EXIT_REFUSED,
    "not_found": EXIT_INVALID,
    "invalid_input": EXIT_INVALID,
    "busy": EXIT_BUSY,
}


class BookingError(ResbookError):
    """A booking request was refused; nothing was changed.

    ``code`` is one of CODES; ``str(error)`` is one line fit to show a person. ``field``
    names the argument at fault where the engine knows it, as the HTTP API's bodies name
    it (``email``, ``lines[0].quantity``; see ``naming``).
    """

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        if code not in CODES:
            raise ValueError(f"unknown booking error code {code!r}")
        super().__init__(message)
        self.code = code
        self.exit_code = CODES[code]
        self.field = field

    def to_dict(self) -> dict[str, str]:
        return {"error": self.code, "message": str(self)}


class CapacityRefused(BookingError):
    """A hold request asked some cells for more than they have: ``shortfalls`` lists each
    (resource_id, date, requested, available)."""

    def __init__(self, message: str, shortfalls: tuple[Any, ...]) -> None:
        super().__init__("insufficient_capacity", message)
        self.shortfalls = shortfalls


def invalid(message: str, *, field: str | None = None) -> BookingError:
    return BookingError("invalid_input", message, field=field)


@contextmanager
def naming(field: str | None) -> Iterator[None]:
    """A refusal raised inside, with no field named yet, names ``field`` (None: none)."""
    try:
        yield
    except BookingError as exc:
        if exc.field is None:
            exc.field = field
        raise


def not_found(what: str, ident: object) -> BookingError:
    return BookingError("not_found", f"{what} {ident} does not exist")


def busy(message: str) -> BookingError:
    return BookingError("busy", message)
