"""The operator's own settings: the TUI theme and the ``:`` command history, in one JSON file.

The file lives in the app directory, beside the default SQLite database (``config.app_dir``),
as ``settings.json``. It is a convenience, never a reason to stop: loading a missing,
unreadable or corrupt file gives the defaults (keeping whatever parts of it are sound), and
saving writes a temporary file and renames it over the old one, so a crash or a full disk
never leaves half a file, and reports failure as ``False`` rather than raising.

Two TUIs may run at once; ``update_settings`` re-reads the file just before writing, so one
session's new theme does not wipe the other's history.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .config import app_dir
from .text import has_control_characters

FILE_NAME = "settings.json"
THEMES = ("textual-dark", "textual-light")
DEFAULT_THEME = "textual-dark"
HISTORY_LIMIT = 100  # command lines kept, newest last
MAX_COMMAND_LENGTH = 200  # longer lines are not commands anyone typed; drop them
MAX_FILE_BYTES = 1 << 20  # a settings file bigger than this is not ours: use the defaults


@dataclass(frozen=True)
class Settings:
    theme: str = DEFAULT_THEME
    command_history: tuple[str, ...] = ()  # oldest first

    def with_theme(self, theme: str) -> Settings:
        return replace(self, theme=theme if theme in THEMES else DEFAULT_THEME)

    def with_command(self, line: str) -> Settings:
        """The history with ``line`` as its newest entry (an earlier copy moves, not repeats)."""
        line = line.strip()
        if not _keepable(line):
            return self
        kept = [entry for entry in self.command_history if entry != line]
        return replace(self, command_history=(*kept, line)[-HISTORY_LIMIT:])


def settings_path() -> Path:
    return app_dir() / FILE_NAME


def load_settings(path: Path | None = None) -> Settings:
    """The settings in ``path`` (default: the app directory's file); the defaults if it is
    missing, unreadable or corrupt. Never raises."""
    try:
        raw = _read(path or settings_path())
    except (OSError, ValueError, RecursionError):  # bad UTF-8 and bad JSON are ValueErrors
        return Settings()
    return _from_json(raw)


def save_settings(settings: Settings, path: Path | None = None) -> bool:
    """Write ``settings`` atomically; False (and the old file untouched) if that failed."""
    target = path or settings_path()
    document = {"theme": settings.theme, "command_history": list(settings.command_history)}
    temporary: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # mkstemp makes the file readable by its owner only: the history can hold customer
        # emails typed into ``:email``.
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=2, ensure_ascii=False)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
        temporary = None
        return True
    except (OSError, TypeError, ValueError):
        return False
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def update_settings(
    change: Callable[[Settings], Settings], path: Path | None = None
) -> tuple[Settings, bool]:
    """Re-read the file, apply ``change`` and save: (the new settings, whether saved)."""
    updated = change(load_settings(path))
    return updated, save_settings(updated, path)


def remember_command(line: str, path: Path | None = None) -> bool:
    """Add one command line to the saved history; False if it could not be saved."""
    return update_settings(lambda current: current.with_command(line), path)[1]


def remember_theme(theme: str, path: Path | None = None) -> bool:
    """Save the chosen theme; False if it could not be saved."""
    return update_settings(lambda current: current.with_theme(theme), path)[1]


# ---- reading, forgivingly -------------------------------------------------------------------


def _read(path: Path) -> Any:
    with path.open("rb") as source:
        data = source.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError("settings file too large")
    return json.loads(data.decode("utf-8"))


def _from_json(raw: Any) -> Settings:
    """Whatever parts of the document are sound; the defaults for the rest."""
    if not isinstance(raw, dict):
        return Settings()
    theme = raw.get("theme")
    history = raw.get("command_history")
    return Settings(
        theme=theme if isinstance(theme, str) and theme in THEMES else DEFAULT_THEME,
        command_history=_history(history if isinstance(history, list) else []),
    )


def _history(entries: Iterable[Any]) -> tuple[str, ...]:
    kept = [entry.strip() for entry in entries if isinstance(entry, str) and _keepable(entry)]
    return tuple(kept[-HISTORY_LIMIT:])


def _keepable(line: str) -> bool:
    # An entry that could not have been typed at the prompt (control characters, absurd
    # length) would only be refused when recalled: leave it out of the history.
    line = line.strip()
    return bool(line) and len(line) <= MAX_COMMAND_LENGTH and not has_control_characters(line)
