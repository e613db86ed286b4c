"""What every CLI command shares: the open database, error reporting, JSON and tables.

Kept apart from cli.py so command modules stay about their commands.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, datetime
from typing import Any

import peewee
import typer
from rich.console import Console
from rich.table import Table

from ..config import resolve_database_url
from ..db import open_database
from ..errors import EXIT_DATABASE, ResbookError

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class Settings:
    db_flag: str | None = None
    _db: peewee.Database | None = None
    _read_only: bool = False

    @property
    def url(self) -> str:
        return resolve_database_url(self.db_flag)

    def database(self, read_only: bool = False) -> peewee.Database:
        if self._db is None or self._read_only != read_only:
            self._db = open_database(self.url, read_only=read_only)
            self._read_only = read_only
        return self._db


def booking(ctx: typer.Context, read_only: bool = False):  # noqa: ANN201 - avoids an import cycle
    """The Booking facade over the database the root options name."""
    from ..booking import Booking

    return Booking(settings(ctx).database(read_only=read_only))


def settings(ctx: typer.Context) -> Settings:
    obj = ctx.find_root().obj
    if not isinstance(obj, Settings):
        obj = ctx.find_root().obj = Settings()
    return obj


def fail(message: str, code: int) -> typer.Exit:
    stderr.print(f"resbook: error: {message}", markup=False)
    return typer.Exit(code)


@contextmanager
def reported() -> Iterator[None]:
    """Turn resbook errors into one line on stderr and the documented exit code."""
    try:
        yield
    except ResbookError as exc:
        raise fail(str(exc), exc.exit_code) from None
    except (peewee.OperationalError, peewee.InterfaceError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise fail(f"database error: {first}", EXIT_DATABASE) from None


def handles_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for a command: no tracebacks for user mistakes or database trouble.

    With ``--json`` a refusal is also printed to stdout as ``{"error": code, "message": ...}``
    so scripts can read it; the one-line message always goes to stderr.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with reported():
            try:
                return fn(*args, **kwargs)
            except ResbookError as exc:
                if kwargs.get("json"):
                    print_json({"error": exc.code, "message": str(exc)})
                raise

    return wrapper


def to_jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(asdict(value))
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, sort_keys=False) + "\n")


def print_table(title: str | None, columns: list[str], rows: Iterable[Iterable[Any]]) -> None:
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column)
    count = 0
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
        count += 1
    if count:
        stdout.print(table)
    else:
        stdout.print(f"No {title.lower() if title else 'rows'}.")
