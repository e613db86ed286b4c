"""Where settings come from: --db flag > RESBOOK_DATABASE_URL > the default SQLite file."""

from __future__ import annotations

import os
from pathlib import Path

import typer

ENV_DATABASE_URL = "RESBOOK_DATABASE_URL"
ENV_ACTOR = "RESBOOK_ACTOR"
ENV_HOLD_TTL = "RESBOOK_HOLD_TTL_MINUTES"
DEFAULT_HOLD_TTL_MINUTES = 30


def app_dir() -> Path:
    """The per-user directory resbook keeps its default database in."""
    return Path(typer.get_app_dir("resbook"))


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
        return env
    try:
        return os.getlogin()
    except OSError:
        return os.environ.get("USER") or "resbook"


def default_hold_ttl_minutes() -> int:
    raw = os.environ.get(ENV_HOLD_TTL, "").strip()
    if not raw:
        return DEFAULT_HOLD_TTL_MINUTES
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        from .errors import ConfigError

        raise ConfigError(f"{ENV_HOLD_TTL} must be a whole number of minutes >= 1, not {raw!r}")
    return value
