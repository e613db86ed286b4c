"""What every database connection is made to be, and what its errors mean.

resbook sets a session up itself right after connecting (each dialect does, in
``dialects/``) and then reads the settings back, so no URL option or environment variable
decides them:
- UTC, so "today" and every timestamp mean the same on every machine;
- READ COMMITTED on PostgreSQL (the engine's conditional UPDATEs are written for it);
- read-only when asked, checked, so a read-only session cannot be talked into writing;
- PostgreSQL ``lock_timeout`` and ``statement_timeout``, so a stuck lock is a "busy, try
  again" refusal instead of a hang.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .config import lock_timeout_ms, statement_timeout_ms
from .errors import BusyError, DatabaseError, ResbookError

# SQLSTATEs (PostgreSQL appendix A).
LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"
DEADLOCK_DETECTED = "40P01"
SERIALIZATION_FAILURE = "40001"
READ_ONLY_TRANSACTION = "25006"


class ConflictError(BusyError):
    """A deadlock or serialization failure: the server rolled the transaction back, and
    running it again from the start is safe (the booking layer does so a few times)."""


@dataclass(frozen=True)
class PgSettings:
    read_only: bool
    lock_timeout_ms: int
    statement_timeout_ms: int


def pg_settings(read_only: bool) -> PgSettings:
    """The settings for a new PostgreSQL database, read (and checked) from the environment
    once when it is opened."""
    return PgSettings(read_only, lock_timeout_ms(), statement_timeout_ms())


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].strip()


def pgcode(exc: BaseException) -> str | None:
    """The SQLSTATE of a psycopg2 error, also when Peewee wrapped it."""
    seen: list[BaseException] = [exc]
    if exc.args and isinstance(exc.args[0], BaseException):
        seen.append(exc.args[0])
    seen += [e for e in (exc.__cause__, exc.__context__) if e is not None]
    for candidate in seen:
        code = getattr(candidate, "pgcode", None)
        if code:
            return str(code)
    return None


def classify(exc: BaseException, where: str, scrub: Callable[[str], str]) -> ResbookError:
    """The resbook error a driver error means, with one line fit to show a person."""
    code = pgcode(exc)
    text = scrub(first_line(exc))
    lowered = text.lower()
    if code == LOCK_NOT_AVAILABLE:
        return BusyError(
            "busy: another session holds a lock this change needs (lock_timeout); "
            "nothing changed, try again"
        )
    if code == QUERY_CANCELED and "statement timeout" in lowered:
        return BusyError(
            "busy: the statement ran past statement_timeout; nothing changed, try again"
        )
    if code in (DEADLOCK_DETECTED, SERIALIZATION_FAILURE):
        return ConflictError(
            "busy: concurrent changes collided (the database rolled this one back); "
            "nothing changed, try again"
        )
    if code == QUERY_CANCELED or lowered == "interrupted":
        return DatabaseError(f"statement cancelled on {where}")
    if "database is locked" in lowered or "database table is locked" in lowered:
        return BusyError(
            "busy: another writer kept the SQLite database locked; nothing changed, try again"
        )
    if code == READ_ONLY_TRANSACTION or "readonly database" in lowered:
        return DatabaseError(f"this session is read-only: nothing changed on {where}")
    return DatabaseError(f"database error on {where}: {text}")
