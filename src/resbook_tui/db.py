"""Open a database from a URL: SQLite (embedded default) or PostgreSQL (production).

Everything above this module works with a Peewee ``Database`` and asks ``dialect(db)``
when SQL must differ; nothing else parses URLs or sets connection options.

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
from datetime import UTC, date, datetime
from urllib.parse import quote

import peewee

from .config import default_database_path
from .errors import ConfigError, DatabaseError, ResbookError
from .session import (
    ConnectionRegistry,
    PgSettings,
    classify,
    first_line,
    pg_settings,
    set_up_postgresql,
    set_up_sqlite,
)
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
    "scrubbed",
]

# Seconds a SQLite writer waits for another writer before giving up with "database is locked".
SQLITE_BUSY_TIMEOUT_S = 10
PG_CONNECT_TIMEOUT_S = 5


def _adapt_datetime(value: datetime) -> str:
    """SQLite keeps UTC text in the same shape as strftime('%Y-%m-%d %H:%M:%f', 'now')."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


# Explicit adapters: the stdlib defaults are deprecated and would not write UTC text.
sqlite3.register_adapter(date, date.isoformat)
sqlite3.register_adapter(datetime, _adapt_datetime)


class ResbookSqliteDatabase(peewee.SqliteDatabase):
    """SQLite whose every connection is checked after it opens and can be interrupted."""

    def __init__(self, *args: object, read_only: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.resbook_read_only = read_only
        self.resbook_connections = ConnectionRegistry()

    def _initialize_connection(self, conn: sqlite3.Connection) -> None:
        super()._initialize_connection(conn)
        set_up_sqlite(conn, read_only=self.resbook_read_only)
        self.resbook_connections.add(conn)

    def _close(self, conn: sqlite3.Connection) -> None:
        self.resbook_connections.discard(conn)
        super()._close(conn)


class ResbookPostgresqlDatabase(peewee.PostgresqlDatabase):
    """PostgreSQL whose every connection gets resbook's session settings (checked with
    SHOW) and can be cancelled from another thread."""

    def __init__(self, *args: object, settings: PgSettings, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.resbook_settings = settings
        self.resbook_read_only = settings.read_only
        self.resbook_connections = ConnectionRegistry()

    def _initialize_connection(self, conn: object) -> None:
        super()._initialize_connection(conn)
        set_up_postgresql(conn, self.resbook_settings)
        self.resbook_connections.add(conn)

    def _close(self, conn: object) -> None:
        self.resbook_connections.discard(conn)
        super()._close(conn)


def dialect(db: peewee.Database) -> str:
    return POSTGRESQL if isinstance(db, peewee.PostgresqlDatabase) else SQLITE


def open_database(
    url: str, read_only: bool = False, connect: bool = True, create: bool = True
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
    if parsed.dialect == SQLITE:
        db: peewee.Database = _open_sqlite(parsed, read_only, create)
    else:
        db = _open_postgresql(parsed, settings)
    db.resbook_url = parsed  # type: ignore[attr-defined]
    if connect:
        connect_or_fail(db)
    return db


def _sqlite_uri(path: object, mode: str) -> str:
    return f"file:{quote(str(path))}?mode={mode}"


def _open_sqlite(parsed: DatabaseUrl, read_only: bool, create: bool) -> peewee.SqliteDatabase:
    path = parsed.path
    assert path is not None
    if not path.exists() and (read_only or not create):
        raise DatabaseError(
            f"cannot open {parsed.masked}: there is no resbook database at {path.absolute()} "
            "(`resbook migrate up` creates one)"
        )
    if path == default_database_path() and not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    if read_only:
        # A read-only connection cannot switch the journal mode; WAL stays as the file has it.
        return ResbookSqliteDatabase(
            _sqlite_uri(path, "ro"),
            uri=True,
            pragmas={"foreign_keys": 1, "query_only": 1},
            timeout=SQLITE_BUSY_TIMEOUT_S,
            check_same_thread=False,
            read_only=True,
        )
    pragmas = {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "synchronous": "normal",
        "busy_timeout": SQLITE_BUSY_TIMEOUT_S * 1000,
    }
    # BEGIN IMMEDIATE for every write transaction: a reader that later writes would
    # otherwise fail with SQLITE_BUSY instead of waiting its turn. mode=rw opens only a
    # file that exists, so a file removed since the check above is not made again.
    return ResbookSqliteDatabase(
        _sqlite_uri(path, "rwc" if create else "rw"),
        uri=True,
        pragmas=pragmas,
        timeout=SQLITE_BUSY_TIMEOUT_S,
        lock_type="IMMEDIATE",
        check_same_thread=False,
    )


def _open_postgresql(parsed: DatabaseUrl, settings: PgSettings) -> peewee.PostgresqlDatabase:
    opts = dict(parsed.options)
    raw_timeout = opts.pop("connect_timeout", str(PG_CONNECT_TIMEOUT_S))
    try:
        connect_timeout = int(raw_timeout)
    except ValueError:
        raise ConfigError(
            f"connect_timeout in the database URL must be whole seconds, not {raw_timeout!r}"
        ) from None
    params: dict[str, object] = {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.user,
        "password": parsed.password,
        "connect_timeout": connect_timeout,
        "application_name": "resbook",
    }
    # Other libpq options (options=-c search_path=..., sslmode, ...) pass through; the
    # settings resbook relies on are set again after connecting, so none of them can
    # change those.
    params.update(opts)
    params = {k: v for k, v in params.items() if v is not None}
    return ResbookPostgresqlDatabase(parsed.name, settings=settings, **params)


def describe(db: peewee.Database) -> str:
    url: DatabaseUrl | None = getattr(db, "resbook_url", None)
    return url.masked if url else f"{dialect(db)} database {db.database}"


def scrubbed(db: peewee.Database, text: str) -> str:
    url: DatabaseUrl | None = getattr(db, "resbook_url", None)
    return scrub(text, url.raw) if url else text


def connect_or_fail(db: peewee.Database) -> None:
    """Connect now so a bad URL fails with one line instead of deep inside a command."""
    try:
        db.connect(reuse_if_open=True)
        # SQLite opens files lazily; touch it so an unwritable or missing path fails here.
        db.execute_sql("SELECT 1").fetchone()
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
    conn = db._state.conn  # noqa: SLF001 - Peewee exposes no public "current connection"
    if conn is not None and getattr(conn, "closed", 0):
        try:
            db.close()
        except Exception:  # noqa: BLE001 - closing a dead connection may fail; forget it
            db.dispose()
