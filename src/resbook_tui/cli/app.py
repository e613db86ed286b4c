"""The root ``resbook`` command and the database option every sub-command shares."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import __version__
from ..config import ENV_DATABASE_URL
from . import api_keys, holds, operations, resources, schema, serve, tui
from .support import Settings

app = typer.Typer(
    name="resbook",
    help="Resource bookings for a tour company: holds, capacity, sweeps, and an operator TUI.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"resbook {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="URL",
            help=(
                "Database URL: sqlite:///path.db or postgresql://user:pass@host:port/db. "
                f"Default: ${ENV_DATABASE_URL}, else a SQLite file in your app directory."
            ),
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    ctx.obj = Settings(db_flag=db)


schema.register(app)
resources.register(app)
holds.register(app)
operations.register(app)
tui.register(app)
api_keys.register(app)
serve.register(app)
