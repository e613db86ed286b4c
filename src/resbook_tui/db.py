"""Open a database from a URL: SQLite (embedded default) or PostgreSQL (production).

Everything above this module works with a Peewee ``Database``; where SQL must differ it
asks the dialect object (``dialects.of(db)``) chosen here, by the URL's scheme, when the
database is opened. Nothing else parses URLs or sets connection options.

Every new connection is set up by resbook itself, after connecting, and checked: UTC,
READ COMMITTED, read-only when asked, and on PostgreSQL ``lock_timeout`` and
``statement_timeout`` (session.py). Nothing in the URL or the environment (``PGTZ``,
``PGOPTIONS``, ``?options=-c ...``) can move "today" off UTC or make a read-only
session writable.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

import peewee

from . import dialects
from .connections import ConnectionRegistry
from .errors import ConfigError, DatabaseError, ResbookError
from .session import classify, first_line, pg_settings
from .urls import POSTGRESQL, SQLITE, DatabaseUrl, mask_url, parse_url, scrub

__all__ = [
    "POSTGRESQL",
    "SQLITE",
    "DatabaseUrl",
    "cancel_statements",
    "connect_or_fail",
    "database_errors",
    "describe",
    "dialect",
    "drop_if_broken",
    "first_line",
    "mask_url",
    "open_database",
    "parse_url",
    "raw_url",
    "scrubbed",
]


def dialect(db: peewee.Database) -> str:
    """The name of ``db``'s dialect ("sqlite" or "postgresql"), to show a person."""
    return dialects.of(db).name


def open_database(
    url: str, *, read_only: bool = False, connect: bool = True, create: bool = True
) -> peewee.Database:
    """Open (and by default connect to) the database ``url`` names.

    ``create=False`` refuses a SQLite file that does not exist yet instead of creating
    an empty one (every command but ``migrate up``, ``demo`` and ``info``).
    Raises ConfigError for a malformed URL or setting and DatabaseError when the database
    cannot be reached, both with one line fit to show a person.
    """
    parsed = parse_url(url)
    # Read (and check) every setting whatever the dialect: a bad one is an error even
    # where it would not be used.
    settings = pg_settings(read_only)
    db = dialects.for_url(parsed).open(
        parsed, read_only=read_only, create=create, settings=settings
    )
    db.resbook_url = parsed  # type: ignore[attr-defined]
    if connect:
        connect_or_fail(db)
    return db


def describe(db: peewee.Database) -> str:
    url: DatabaseUrl | None = getattr(db, "resbook_url", None)
    return url.masked if url else f"{dialect(db)} database {db.database}"


def raw_url(db: peewee.Database) -> str | None:
    """The URL ``db`` was opened with, secrets and all: to open another connection to the
    same database, never to show (``describe`` is for that)."""
    url: DatabaseUrl | None = getattr(db, "resbook_url", None)
    return url.raw if url else None


def scrubbed(db: peewee.Database, text: str) -> str:
    url: DatabaseUrl | None = getattr(db, "resbook_url", None)
    return scrub(text, url.raw) if url else text


def connect_or_fail(db: peewee.Database) -> None:
    """Connect now so a bad URL fails with one line instead of deep inside a command."""
    try:
        db.connect(reuse_if_open=True)
        # SQLite opens files lazily; touch it so an unwritable or missing path fails here.
        db.execute(peewee.Select(columns=[peewee.Value(1)])).fetchone()
    except ResbookError:
        _forget(db)
        raise
    except peewee.ProgrammingError as exc:  # libpq refused an option in the URL
        _forget(db)
        message = scrubbed(db, first_line(exc))
        raise ConfigError(f"cannot use {describe(db)}: {message}") from None
    except (peewee.DatabaseError, peewee.InterfaceError, sqlite3.Error) as exc:
        _forget(db)
        message = scrubbed(db, first_line(exc))
        raise DatabaseError(f"cannot open {describe(db)}: {message}") from None


def _forget(db: peewee.Database) -> None:
    with contextlib.suppress(Exception):
        db.close()


@contextlib.contextmanager
def database_errors(db: peewee.Database) -> Iterator[None]:
    """Turn driver errors into one-line resbook errors.

    A lock or statement timeout becomes BusyError (exit 4, nothing changed); a deadlock
    or serialization failure a ConflictError (a BusyError the booking layer retries);
    anything else about the database a DatabaseError. IntegrityError passes through:
    the caller knows which constraint it expects and what that means.
    """
    try:
        yield
    except peewee.IntegrityError:
        raise
    except (peewee.DatabaseError, peewee.InterfaceError, sqlite3.Error) as exc:
        drop_if_broken(db)
        raise classify(exc, describe(db), lambda text: scrubbed(db, text)) from None


def cancel_statements(db: peewee.Database, thread_id: int | None = None) -> int:
    """Cancel what ``db``'s connections are running, from any thread; how many were asked.

    ``thread_id`` (a ``threading.get_ident()``) picks the one connection that thread
    opened; ``None`` cancels on every connection of ``db``. On PostgreSQL this is
    psycopg2's ``connection.cancel()`` (the server stops the statement, its transaction
    rolls back, and the waiting call raises DatabaseError "statement cancelled"); on
    SQLite ``Connection.interrupt()``. A connection that is idle is left as it is.
    The TUI calls it when quitting, so a statement stuck behind a lock never holds it up.
    """
    registry: ConnectionRegistry | None = getattr(db, "resbook_connections", None)
    return registry.cancel(thread_id) if registry is not None else 0


def drop_if_broken(db: peewee.Database) -> None:
    """Forget a connection the server has dropped, so the next call connects afresh.

    Peewee would otherwise keep handing out the dead connection (psycopg2 marks it closed).
    """
    if db.in_transaction():
        return  # whoever owns the transaction sees the error and unwinds first
    # Peewee exposes no public "current connection" (and its stubs do not list _state).
    conn = db._state.conn  # type: ignore[attr-defined]  # noqa: SLF001
    if conn is not None and getattr(conn, "closed", False):
        try:
            db.close()
        except Exception:  # noqa: BLE001 - closing a dead connection may fail; forget it
            db.dispose()
