"""What every booking module needs: the database, its dialect object, the actor.

Queries are built with the Peewee models and always run on ``ctx.db`` (never on whatever
the models were bound to last). Time always comes from the database clock.
"""

from __future__ import annotations

import functools
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import peewee
from psycopg2 import Error as PsycopgError  # the driver's own, when Peewee did not wrap it

from .. import dialects
from ..db import database_errors, describe, scrubbed
from ..errors import BusyError, ResbookError
from ..session import ConflictError, classify, first_line
from .errors import BookingError, busy, invalid

T = TypeVar("T")
P = ParamSpec("P")
Q = TypeVar("Q", bound=peewee.Query)

# A deadlock or serialization failure rolls the whole transaction back; it is run again
# from the start this many times in all before the caller hears "busy".
MAX_ATTEMPTS = 5


@dataclass
class Context:
    db: peewee.Database
    actor: str
    default_ttl_minutes: int
    dialect: dialects.Dialect = field(init=False)

    def __post_init__(self) -> None:
        self.dialect = dialects.of(self.db)

    def value(self, expression: peewee.Node) -> Any:
        """One expression evaluated by the database (its clock, say)."""
        return peewee.Select(columns=[expression]).scalar(self.db)

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
        if isinstance(exc, peewee.PeeweeException | sqlite3.Error | PsycopgError):
            return classify(exc, describe(self.db), lambda text: scrubbed(self.db, text))
        return None

    @contextmanager
    def write(self) -> Iterator[None]:
        """One write transaction (BEGIN IMMEDIATE on SQLite, READ COMMITTED on PostgreSQL)."""
        with database_errors(self.db), self.db.atomic():
            yield

    @contextmanager
    def read(self) -> Iterator[None]:
        """Reads, and dialect calls that run their own transaction (``hold_one``): what
        the database says comes out as resbook's errors; no transaction is opened here."""
        with database_errors(self.db):
            yield

    def lock_cells(self, resource_id: int, date_from: date, date_to: date) -> None:
        """Lock capacity rows in (resource_id, date) order so writers cannot deadlock."""
        self.dialect.lock_cells(self.db, resource_id, date_from, date_to)


def where(query: Q, *clauses: peewee.ColumnBase | None) -> Q:
    """``query`` filtered by every clause given; a None clause (a filter nobody asked for)
    adds nothing."""
    given = [c for c in clauses if c is not None]
    return query.where(*given) if given else query


class _HasContext(Protocol):
    ctx: Context


S = TypeVar("S", bound=_HasContext)


def api(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """A public Booking call: retried on a deadlock, and only resbook's errors come out."""

    def call(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.ctx.call(lambda: method(self, *args, **kwargs))

    functools.update_wrapper(call, method)
    return call
