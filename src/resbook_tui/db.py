"""Open a database from a URL: SQLite (embedded default) or PostgreSQL (production).

Everything above this module works with a Peewee ``Database`` and asks ``dialect(db)``
when SQL must differ; nothing else parses URLs or sets connection options.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

import peewee

from .config import default_database_path
from .errors import ConfigError, DatabaseError

SQLITE = "sqlite"
POSTGRESQL = "postgresql"

# Seconds a SQLite writer waits for another writer before giving up with "database is locked".
SQLITE_BUSY_TIMEOUT_S = 10
PG_CONNECT_TIMEOUT_S = 5


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed database URL; ``masked`` is safe to print."""

    raw: str
    dialect: str
    path: Path | None = None  # SQLite only
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    name: str | None = None
    options: dict[str, str] | None = None

    @property
    def masked(self) -> str:
        return mask_url(self.raw)


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{userinfo}:***@{netloc[1]}"))


def parse_url(url: str) -> DatabaseUrl:
    """Parse ``sqlite:///path.db`` or ``postgresql://user:pass@host:port/db``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute.db, as SQLAlchemy spells them.
        raw_path = unquote(url[len("sqlite://") :])
        if raw_path.startswith("/"):
            raw_path = raw_path[1:]
        raw_path = raw_path.split("?", 1)[0]
        if not raw_path:
            raise ConfigError(f"SQLite URL names no file: {url!r} (use sqlite:///path/to/file.db)")
        return DatabaseUrl(raw=url, dialect=SQLITE, path=Path(raw_path).expanduser())
    if scheme in ("postgresql", "postgres", "postgresql+psycopg2"):
        try:
            port = parts.port
        except ValueError as exc:
            raise ConfigError(f"bad port in database URL {mask_url(url)}: {exc}") from None
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ConfigError(f"PostgreSQL URL names no database: {mask_url(url)}")
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        return DatabaseUrl(
            raw=url,
            dialect=POSTGRESQL,
            host=parts.hostname,
            port=port,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            name=name,
            options=options,
        )
    shown = scheme or "(none)"
    raise ConfigError(
        f"unknown database URL scheme {shown!r} in {mask_url(url)}: "
        "use sqlite:///path.db or postgresql://user:pass@host:port/db"
    )


def _adapt_datetime(value: datetime) -> str:
    """SQLite keeps UTC text in the same shape as strftime('%Y-%m-%d %H:%M:%f', 'now')."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


# Explicit adapters: the stdlib defaults are deprecated and would not write UTC text.
sqlite3.register_adapter(date, date.isoformat)
sqlite3.register_adapter(datetime, _adapt_datetime)


def dialect(db: peewee.Database) -> str:
    return POSTGRESQL if isinstance(db, peewee.PostgresqlDatabase) else SQLITE


def open_database(url: str, read_only: bool = False, connect: bool = True) -> peewee.Database:
    """Open (and by default connect to) the database ``url`` names.

    Raises ConfigError for a malformed URL and DatabaseError when it cannot be reached,
    both with one line fit to show a person.
    """
    parsed = parse_url(url)
    if parsed.dialect == SQLITE:
        db = _open_sqlite(parsed, read_only)
    else:
        db = _open_postgresql(parsed, read_only)
    db.resbook_url = parsed  # type: ignore[attr-defined]
    db.resbook_read_only = read_only  # type: ignore[attr-defined]
    if connect:
        connect_or_fail(db)
    return db


def _open_sqlite(parsed: DatabaseUrl, read_only: bool) -> peewee.SqliteDatabase:
    path = parsed.path
    assert path is not None
    if path == default_database_path() and not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    if read_only:
        # A read-only connection cannot switch the journal mode; WAL stays as the file has it.
        pragmas = {"foreign_keys": 1, "query_only": 1}
        return peewee.SqliteDatabase(
            f"file:{path}?mode=ro",
            uri=True,
            pragmas=pragmas,
            timeout=SQLITE_BUSY_TIMEOUT_S,
            check_same_thread=False,
        )
    pragmas = {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "synchronous": "normal",
        "busy_timeout": SQLITE_BUSY_TIMEOUT_S * 1000,
    }
    # BEGIN IMMEDIATE for every write transaction: a reader that later writes would
    # otherwise fail with SQLITE_BUSY instead of waiting its turn.
    return peewee.SqliteDatabase(
        str(path),
        pragmas=pragmas,
        timeout=SQLITE_BUSY_TIMEOUT_S,
        lock_type="IMMEDIATE",
        check_same_thread=False,
    )


def _open_postgresql(parsed: DatabaseUrl, read_only: bool) -> peewee.PostgresqlDatabase:
    opts = dict(parsed.options or {})
    # Time always comes from the database clock, in UTC, whatever the server's zone is.
    server_opts = ["-c timezone=UTC"]
    if read_only:
        server_opts.append("-c default_transaction_read_only=on")
    if "options" in opts:
        server_opts.append(opts.pop("options"))
    params: dict[str, object] = {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.user,
        "password": parsed.password,
        "connect_timeout": int(opts.pop("connect_timeout", PG_CONNECT_TIMEOUT_S)),
        "options": " ".join(server_opts),
        "application_name": "resbook",
    }
    params.update(opts)
    params = {k: v for k, v in params.items() if v is not None}
    return peewee.PostgresqlDatabase(parsed.name, **params)


def describe(db: peewee.Database) -> str:
    url: DatabaseUrl | None = getattr(db, "resbook_url", None)
    return url.masked if url else f"{dialect(db)} database {db.database}"


def connect_or_fail(db: peewee.Database) -> None:
    """Connect now so a bad URL fails with one line instead of deep inside a command."""
    try:
        db.connect(reuse_if_open=True)
        # SQLite opens files lazily; touch it so an unwritable or missing path fails here.
        db.execute_sql("SELECT 1").fetchone()
    except (peewee.OperationalError, peewee.InterfaceError, sqlite3.Error) as exc:
        with contextlib.suppress(Exception):
            db.close()
        raise DatabaseError(f"cannot open {describe(db)}: {first_line(exc)}") from None


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].strip()


@contextlib.contextmanager
def database_errors(db: peewee.Database) -> Iterator[None]:
    """Turn driver errors about the connection into one-line DatabaseErrors."""
    try:
        yield
    except (peewee.OperationalError, peewee.InterfaceError) as exc:
        drop_if_broken(db)
        raise DatabaseError(f"database error on {describe(db)}: {first_line(exc)}") from None


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
