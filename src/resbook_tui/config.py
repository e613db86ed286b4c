"""Where settings come from: --db flag > RESBOOK_DATABASE_URL > the default SQLite file.

Every environment setting is checked when it is read: a malformed one is a ConfigError
(exit 2) naming the variable, never a crash somewhere later.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError
from .text import control_characters, has_foreign_bytes

ENV_DATABASE_URL = "RESBOOK_DATABASE_URL"
ENV_ACTOR = "RESBOOK_ACTOR"
ENV_HOLD_TTL = "RESBOOK_HOLD_TTL_MINUTES"
ENV_LOCK_TIMEOUT = "RESBOOK_LOCK_TIMEOUT_MS"
ENV_STATEMENT_TIMEOUT = "RESBOOK_STATEMENT_TIMEOUT_MS"
ENV_EVENT_RETENTION = "RESBOOK_EVENT_RETENTION_DAYS"
ENV_EVENT_ARCHIVE_DIR = "RESBOOK_EVENT_ARCHIVE_DIR"
ENV_MAX_HOLD_LIFE = "RESBOOK_MAX_HOLD_MINUTES"

DEFAULT_HOLD_TTL_MINUTES = 30
MAX_HOLD_TTL_MINUTES = 7 * 24 * 60
# The longest a hold made over HTTP may live, from creation, however often it is extended.
DEFAULT_MAX_HOLD_LIFE_MINUTES = 120
# As pretix does: a lock held longer than this is somebody else's problem, not a reason
# to make a customer (or cron) wait; the caller gets "busy, try again".
DEFAULT_LOCK_TIMEOUT_MS = 3_000
# A bound on any one statement (a seed chunk or a sweep batch takes well under a second).
DEFAULT_STATEMENT_TIMEOUT_MS = 30_000
# PostgreSQL keeps both settings as a signed 32-bit number of milliseconds.
MAX_TIMEOUT_MS = 2_147_483_647
MAX_ACTOR_LENGTH = 200
# A century: a longer retention is a typo, not a policy.
MAX_EVENT_RETENTION_DAYS = 36_500

_WHOLE_NUMBER = re.compile(r"\d+")


APP_NAME = "resbook"


def app_dir() -> Path:
    """The per-user directory resbook keeps its files in (the default database, the TUI's
    settings and screenshots).

    The rule of click's ``get_app_dir(roaming=True)``, which resbook used before, so the
    files stay where they were: the roaming profile on Windows, Application Support on
    macOS, the XDG config directory elsewhere.
    """
    if sys.platform.startswith("win"):
        base = os.environ.get("APPDATA") or os.environ.get("LOCALAPPDATA")
        return Path(base or Path.home()) / APP_NAME
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP_NAME
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / APP_NAME


def default_database_path() -> Path:
    return app_dir() / "resbook.db"


def default_database_url() -> str:
    return f"sqlite:///{default_database_path()}"


def resolve_database_url(flag: str | None = None) -> str:
    """The URL to use: an explicit flag wins, then the environment, then the default file."""
    if flag:
        return flag
    env = os.environ.get(ENV_DATABASE_URL, "").strip()
    return env or default_database_url()


def default_actor() -> str:
    """Who audit events are attributed to when the caller does not say."""
    env = os.environ.get(ENV_ACTOR, "").strip()
    if env:
        if not _plain(env) or len(env) > MAX_ACTOR_LENGTH:
            raise ConfigError(
                f"{ENV_ACTOR} must be at most {MAX_ACTOR_LENGTH} characters of UTF-8 text "
                "with no control characters"
            )
        return env
    try:
        name = os.getlogin()
    except OSError:
        name = os.environ.get("USER") or "resbook"
    # A login name is not ours to refuse: make it fit instead.
    return name[:MAX_ACTOR_LENGTH] if _plain(name) else "resbook"


def _plain(text: str) -> bool:
    """No control characters, and no bytes that are not UTF-8 (the environment hands
    those over as lone surrogates, which no database driver can send)."""
    return not control_characters(text) and not has_foreign_bytes(text)


def _env_int(name: str, default: int, low: int, high: int, unit: str) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not _WHOLE_NUMBER.fullmatch(raw) or not low <= int(raw) <= high:
        shown = raw if len(raw) <= 40 and not control_characters(raw) else "that value"
        raise ConfigError(
            f"{name} must be a whole number of {unit} from {low} to {high}, not {shown!r}"
        )
    return int(raw)


def default_hold_ttl_minutes() -> int:
    return _env_int(ENV_HOLD_TTL, DEFAULT_HOLD_TTL_MINUTES, 1, MAX_HOLD_TTL_MINUTES, "minutes")


def max_hold_life_minutes() -> int:
    """How long a hold placed over HTTP may live in all, extensions included."""
    return _env_int(
        ENV_MAX_HOLD_LIFE, DEFAULT_MAX_HOLD_LIFE_MINUTES, 1, MAX_HOLD_TTL_MINUTES, "minutes"
    )


def lock_timeout_ms() -> int:
    """How long a PostgreSQL statement waits for a row or table lock (0: for ever)."""
    return _env_int(ENV_LOCK_TIMEOUT, DEFAULT_LOCK_TIMEOUT_MS, 0, MAX_TIMEOUT_MS, "milliseconds")


def statement_timeout_ms() -> int:
    """How long any one PostgreSQL statement may run (0: for ever)."""
    return _env_int(
        ENV_STATEMENT_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT_MS, 0, MAX_TIMEOUT_MS, "milliseconds"
    )


@dataclass(frozen=True)
class EventRetention:
    """Archive events older than ``days`` days into ``directory`` (the cron sweep does)."""

    days: int
    directory: Path


def event_retention() -> EventRetention | None:
    """The sweep's event retention, or None when RESBOOK_EVENT_RETENTION_DAYS is unset.

    Both variables go together: a retention without a directory would not know where the
    events go, and a directory without a retention looks like archiving that never happens.
    """
    days = _env_int(ENV_EVENT_RETENTION, 0, 1, MAX_EVENT_RETENTION_DAYS, "days")
    raw_dir = os.environ.get(ENV_EVENT_ARCHIVE_DIR, "").strip()
    if not days:
        if raw_dir:
            raise ConfigError(
                f"{ENV_EVENT_ARCHIVE_DIR} is set but {ENV_EVENT_RETENTION} is not: "
                "set both for the sweep to archive events, or neither"
            )
        return None
    if not raw_dir:
        raise ConfigError(
            f"{ENV_EVENT_RETENTION} is set, so {ENV_EVENT_ARCHIVE_DIR} must name the "
            "directory the archived events go to"
        )
    if control_characters(raw_dir):
        raise ConfigError(f"{ENV_EVENT_ARCHIVE_DIR} must be a path with no control characters")
    directory = Path(raw_dir).expanduser()
    if not directory.is_dir():
        raise ConfigError(f"{ENV_EVENT_ARCHIVE_DIR} names {raw_dir!r}, which is not a directory")
    return EventRetention(days, directory)
