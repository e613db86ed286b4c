"""``resbook tui`` and ``resbook demo``: the operator TUI, on your database or a demo one.

Textual (anything under ``tui/``) is imported inside these commands, so the rest of the
CLI starts without it.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ..booking import Booking
from ..errors import ConfigError
from .support import handles_errors, not_blank, settings, stderr


def register(app: typer.Typer) -> None:
    app.command("tui")(tui_command)
    app.command("demo")(demo_command)


@handles_errors
def tui_command(
    ctx: typer.Context,
    read_only: Annotated[
        bool,
        typer.Option(
            "--read-only",
            help="Open a read-only session (support staff): mutating keys are hidden.",
        ),
    ] = False,
) -> None:
    """Open the operator TUI: heatmap, resources and the hold queue.

    On a PostgreSQL server that cannot be reached it opens anyway and retries."""
    from ..tui.startup import open_for_tui

    _require_terminal("resbook tui")
    _run(open_for_tui(settings(ctx).url, read_only=read_only), read_only)


@handles_errors
def demo_command(
    ctx: typer.Context,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Throw the demo database away and build it anew.")
    ] = False,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Open the demo as support staff would.")
    ] = False,
) -> None:
    """Build (or reuse) a SQLite demo database with a realistic fleet and open the TUI.

    The demo lives in your app directory unless --db names a SQLite file.
    """
    from ..tui.demo import open_demo

    _require_terminal("resbook demo")
    flag = not_blank(settings(ctx).db_flag, "--db", "use the demo file in your app directory")
    url = open_demo(flag, fresh, lambda message: stderr.print(message))
    _run(Booking.connect(url, read_only=read_only), read_only)


def terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _require_terminal(command: str) -> None:
    """The TUI draws on a terminal and reads its keys from one: run from cron or into a
    file it would draw into the file for ever. Refused first, with exit 2."""
    if not terminal():
        raise ConfigError(
            f"{command} opens the TUI, which needs a terminal on stdin and stdout; "
            "for scripts use the other commands (resbook --help)"
        )


def _run(booking: Booking, read_only: bool) -> None:
    from ..tui import ResbookApp

    try:
        ResbookApp(booking, read_only=read_only).run()
    finally:
        booking.close()
