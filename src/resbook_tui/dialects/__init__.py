"""The dialect object: everything that differs between SQLite and PostgreSQL (base.py).

``for_url`` picks one by the URL's scheme when a database is opened (db.py), and
``of(db)`` gives back the one an open database was opened with. No other module asks
which database it is talking to.
"""

from __future__ import annotations

import peewee

from ..urls import DatabaseUrl
from .base import CellRefused, Dialect, HoldPlan, HoldRow, SweepBatch, TokenTaken
from .postgresql import PostgresqlDialect
from .sqlite import SqliteDialect

__all__ = [
    "CellRefused",
    "Dialect",
    "HoldPlan",
    "HoldRow",
    "SweepBatch",
    "TokenTaken",
    "for_url",
    "of",
]

_BY_NAME: dict[str, Dialect] = {d.name: d for d in (SqliteDialect(), PostgresqlDialect())}


def for_url(url: DatabaseUrl) -> Dialect:
    return _BY_NAME[url.dialect]


def of(db: peewee.Database) -> Dialect:
    """The dialect of an open database, as playhouse's ``from_database`` finds it (also for
    a Database resbook did not open itself, such as verify's in-memory scratch copy)."""
    if isinstance(db, peewee.PostgresqlDatabase):
        return _BY_NAME["postgresql"]
    return _BY_NAME["sqlite"]
