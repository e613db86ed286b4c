"""What every booking module needs: the database, its dialect's SQL spellings, the actor.

SQL in booking/ is written once with ``?`` placeholders and the spellings below; ``sql()``
turns it into PostgreSQL's ``%s`` form. Time always comes from the database clock.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

import peewee

from ..db import POSTGRESQL, database_errors, describe, dialect, scrubbed
from ..errors import BusyError, ResbookError
from ..models import to_utc
from ..session import ConflictError, classify, first_line
from .errors import BookingError, busy, invalid

T = TypeVar("T")

# A deadlock or serialization failure rolls the whole transaction back; it is run again
# from the start this many times in all before the caller hears "busy".
MAX_ATTEMPTS = 5

try:  # psycopg2 errors that Peewee did not wrap (its wrapper knows the DB-API classes)
    from psycopg2 import Error as _PsycopgError
except ImportError:  # pragma: no cover - psycopg2 is a dependency
    _PsycopgError = sqlite3.Error  # type: ignore[assignment,misc]

SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"


@dataclass
class Context:
    db: peewee.Database
    actor: str
    default_ttl_minutes: int
    dialect: str = field(init=False)

    def __post_init__(self) -> None:
        self.dialect = dialect(self.db)

    @property
    def is_pg(self) -> bool:
        return self.dialect == POSTGRESQL

    # ---- SQL spellings ----------------------------------------------------------------

    @property
    def now(self) -> str:
        """The database clock, UTC."""
        return "now()" if self.is_pg else SQLITE_NOW

    @property
    def today(self) -> str:
        return "CURRENT_DATE" if self.is_pg else "date('now')"

    def now_plus_minutes(self, placeholder: str = "?") -> str:
        """``now`` plus a number of minutes bound to ``placeholder``."""
        if self.is_pg:
            return f"now() + make_interval(mins => {placeholder})"
        return f"strftime('%Y-%m-%d %H:%M:%f', 'now', '+' || {placeholder} || ' minutes')"

    def plus_minutes(self, column: str, placeholder: str = "?") -> str:
        if self.is_pg:
            return f"{column} + make_interval(mins => {placeholder})"
        return f"strftime('%Y-%m-%d %H:%M:%f', {column}, '+' || {placeholder} || ' minutes')"

    @property
    def true(self) -> str:
        return "TRUE" if self.is_pg else "1"

    def sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.is_pg else text

    # ---- running it ---------------------------------------------------------------------

    def execute(self, text: str, params: Sequence[Any] = ()) -> Any:
        return self.db.execute_sql(self.sql(text), tuple(params))

    def one(self, text: str, params: Sequence[Any] = ()) -> tuple | None:
        return self.execute(text, params).fetchone()

    def all(self, text: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self.execute(text, params).fetchall()

    def call(self, operation: Callable[[], T]) -> T:
        """Run one booking operation: a deadlock or serialization failure is retried from
        the start (its transaction was rolled back whole), and whatever the database says
        comes out as a resbook error, never a driver's (busy: BookingError 'busy')."""
        attempt = 1
        while True:
            try:
                return operation()
            except BookingError:
                raise
            except Exception as exc:
                error = self._as_resbook_error(exc)
                if error is None:
                    raise
                retry = isinstance(error, ConflictError) and not self.db.in_transaction()
                if retry and attempt < MAX_ATTEMPTS:
                    attempt += 1
                    # Spread the retries so the colliding transactions do not meet again.
                    time.sleep(random.uniform(0, 0.005 * attempt))
                    continue
                if isinstance(error, BusyError):
                    raise busy(str(error)) from None
                raise error from None

    def _as_resbook_error(self, exc: Exception) -> ResbookError | None:
        if isinstance(exc, ResbookError):
            return exc
        if isinstance(exc, peewee.IntegrityError):
            return invalid(f"refused by a database constraint: {first_line(exc)}")
        if isinstance(exc, peewee.PeeweeException | sqlite3.Error | _PsycopgError):
            return classify(exc, describe(self.db), lambda text: scrubbed(self.db, text))
        return None

    @contextmanager
    def write(self) -> Iterator[None]:
        """One write transaction (BEGIN IMMEDIATE on SQLite, READ COMMITTED on PostgreSQL)."""
        with database_errors(self.db), self.db.atomic():
            yield

    @contextmanager
    def read(self) -> Iterator[None]:
        with database_errors(self.db):
            yield

    def lock_cells(self, resource_id: int, date_from: date, date_to: date) -> None:
        """Lock capacity rows in (resource_id, date) order so writers cannot deadlock.

        SQLite needs nothing: BEGIN IMMEDIATE already made this the only writer.
        """
        if self.is_pg:
            self.all(
                "SELECT id FROM resource_capacity WHERE resource_id = ? AND date BETWEEN ? AND ? "
                "ORDER BY resource_id, date FOR UPDATE",
                (resource_id, date_from, date_to),
            )


class Where:
    """A WHERE clause built from optional filters: a filter whose value is None (or empty)
    adds nothing."""

    def __init__(self, *fixed: str) -> None:
        self.clauses: list[str] = list(fixed)
        self.params: list[Any] = []

    def add(self, clause: str, value: Any, *more: Any) -> Where:
        """``clause`` holds one ``?`` per value (``more`` repeats for further ``?``)."""
        if value is not None and value != "":
            self.clauses.append(clause)
            self.params += [value, *more]
        return self

    @property
    def sql(self) -> str:
        return " AND ".join(self.clauses) or "1 = 1"


def as_date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def as_time(value: datetime | str | None) -> datetime | None:
    return to_utc(value)
