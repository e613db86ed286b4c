"""What every CLI command shares: the open database, error reporting and JSON.

Kept apart from cli.py so command modules stay about their commands.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import peewee
import typer
from rich.console import Console

from ..booking import Booking
from ..config import resolve_database_url
from ..db import open_database
from ..errors import EXIT_DATABASE, EXIT_REFUSED, ConfigError, ResbookError
from ..jsonable import json_time as json_time
from ..jsonable import json_time_text as json_time_text
from ..jsonable import to_jsonable
from ..text import visible

if TYPE_CHECKING:  # rich.progress is imported only when a bar is shown
    from rich.progress import Progress

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class Settings:
    db_flag: str | None = None
    _db: peewee.Database | None = None
    _read_only: bool = False

    @property
    def url(self) -> str:
        flag = not_blank(self.db_flag, "--db", "use $RESBOOK_DATABASE_URL or the default file")
        return resolve_database_url(flag)

    def database(self, read_only: bool = False, create: bool = False) -> peewee.Database:
        """The database the options name; only ``create`` (migrate up, demo) may make a
        new SQLite file, every other command says there is none."""
        if self._db is None or self._read_only != read_only:
            self._db = open_database(self.url, read_only=read_only, create=create)
            self._read_only = read_only
        return self._db


def booking(ctx: typer.Context, read_only: bool = False) -> Booking:
    """The Booking facade over the database the root options name."""
    return Booking(settings(ctx).database(read_only=read_only))


def settings(ctx: typer.Context) -> Settings:
    obj = ctx.find_root().obj
    if not isinstance(obj, Settings):
        obj = ctx.find_root().obj = Settings()
    return obj


def progress_bar() -> Progress:
    """A transient bar on stderr (a terminal's): what it is doing, n of m, time taken."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
    )


def not_blank(value: str | None, option: str, instead: str) -> str | None:
    """An option given empty (an unset shell variable, say) is refused: taken as absent it
    would quietly do ``instead``."""
    if value is not None and not value.strip():
        raise ConfigError(f"{option} is empty: leave it out to {instead}")
    return value


def fail(message: str, code: int) -> typer.Exit:
    stderr.print(f"resbook: error: {visible(message)}", markup=False)
    return typer.Exit(code)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _database_message(exc: Exception) -> str:
    return f"database error: {_first_line(exc)}"


def _refusal_message(exc: Exception) -> str:
    return f"the database refused the change: {_first_line(exc)}"


@contextmanager
def reported() -> Iterator[None]:
    """Turn resbook errors into one line on stderr and the documented exit code."""
    try:
        yield
    except ResbookError as exc:
        raise fail(str(exc), exc.exit_code) from None
    except (peewee.OperationalError, peewee.InterfaceError) as exc:
        raise fail(_database_message(exc), EXIT_DATABASE) from None
    except peewee.IntegrityError as exc:
        # booking turns the constraints it expects into BookingErrors; this is the backstop
        # so that one it did not expect is still one line, not a traceback.
        raise fail(_refusal_message(exc), EXIT_REFUSED) from None


def handles_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for a command: no tracebacks for user mistakes or database trouble.

    With ``--json`` a refusal is also printed to stdout as ``{"error": code, "message": ...}``
    on one line (the one JSON document of that run, and still one line in a JSON Lines
    stream), so scripts can read it; the one-line message always goes to stderr.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with reported():
            try:
                return fn(*args, **kwargs)
            except ResbookError as exc:
                if kwargs.get("json"):
                    print_json_line({"error": exc.code, "message": str(exc)})
                raise
            except (peewee.OperationalError, peewee.InterfaceError) as exc:
                if kwargs.get("json"):
                    print_json_line({"error": "database_error", "message": _database_message(exc)})
                raise
            except peewee.IntegrityError as exc:
                if kwargs.get("json"):
                    print_json_line({"error": "refused", "message": _refusal_message(exc)})
                raise

    return wrapper


def print_json(value: Any) -> None:
    """One JSON document (an object or an array) on stdout."""
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, sort_keys=False) + "\n")


def print_json_line(value: Any) -> None:
    """One compact JSON object on one line, flushed: for streams (``events --follow``)."""
    sys.stdout.write(json.dumps(to_jsonable(value)) + "\n")
    sys.stdout.flush()


def say(message: str) -> None:
    """One line for a person on stdout; stored text in it is shown through ``visible``."""
    sys.stdout.write(visible(message) + "\n")


def resource_id(bk: Any, ref: str | None) -> int | None:
    """The id of the resource ``ref`` names (an id or an exact name); None for no ref."""
    return None if ref is None else bk.resolve_resource(ref).id
