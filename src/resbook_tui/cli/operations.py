"""Commands for cron and monitoring: the sweep and the audit trail."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Annotated

import typer

from ..booking import Booking, Event, SweepResult
from ..booking.changes import follow_events, last_event_id
from ..booking.events import EventFilters
from ..config import event_retention
from ..errors import ResbookError
from . import archive, views
from .support import (
    booking,
    fail,
    handles_errors,
    not_blank,
    print_json,
    print_json_line,
    resource_id,
    say,
)
from .table import Layout, cells, output_width

events_app = typer.Typer(
    invoke_without_command=True,
    help="Print the audit trail, newest last; `events archive` moves old events to a file.",
)


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)
    app.add_typer(events_app, name="events")
    events_app.callback()(events)
    archive.register(events_app)


@handles_errors
def sweep(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would expire.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Say so even when idle.")
    ] = False,
    batch_size: Annotated[int, typer.Option(help="Holds per transaction.", min=1)] = 5000,
    json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Expire every active hold past its expiry and give its units back; with
    RESBOOK_EVENT_RETENTION_DAYS set, also archive older events (see `events archive`)
    into RESBOOK_EVENT_ARCHIVE_DIR.

    Cron-friendly: prints nothing unless it did something (or --verbose); exit 0 on
    success, 2 for a bad setting, 3 when the database is unreachable, 4 when a table it
    reads stays locked past the lock timeout (a locked row is skipped, not waited on); an
    archive that fails after the holds were swept exits with its own code.
    """
    retention = event_retention()  # a bad setting stops the run before anything changes
    bk = booking(ctx)
    result = bk.sweep(batch_size=batch_size, dry_run=dry_run)
    if not json:
        _say_swept(result, verbose=verbose, dry_run=dry_run)
    if retention is None:
        if json:
            print_json({**asdict(result), "archive": None})
        return
    try:
        archived = bk.archive_past_retention(
            days=retention.days, directory=retention.directory, dry_run=dry_run
        )
    except ResbookError as exc:
        if json:  # the sweep happened: say so, with what stopped the archive
            print_json({**asdict(result), "archive": {"error": exc.code, "message": str(exc)}})
        raise fail(f"archiving events: {exc}", exc.exit_code) from None
    if json:
        print_json({**asdict(result), "archive": archived})
    elif archived.archived or archived.resumed or archived.skipped or verbose:
        say(archive.result_line(archived))


def _say_swept(result: SweepResult, *, verbose: bool, dry_run: bool) -> None:
    if result.expired_holds or verbose:
        verb = "Would expire" if dry_run else "Expired"
        say(
            f"{verb} {result.expired_holds} hold(s), returning {result.returned_units} unit(s) "
            f"on {result.cells} resource-day(s)"
            + ("" if dry_run else f" in {result.batches} batch(es)")
            + "."
        )
    if result.idempotency_keys_removed:
        say(f"Removed {result.idempotency_keys_removed} idempotency key(s) older than 24 hours.")
    if result.skipped:
        say(
            f"Left {result.skipped} due hold(s) that another session has locked; "
            "the next sweep takes them."
        )


@handles_errors
def events(
    ctx: typer.Context,
    resource: Annotated[
        str | None,
        typer.Option("--resource", metavar="RES", help="Resource id or exact name (any case)."),
    ] = None,
    email: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="Customer email, or any part of it (any case)."),
    ] = None,
    action: Annotated[str | None, typer.Option(help="e.g. hold.create, hold.expire.")] = None,
    limit: Annotated[
        int,
        typer.Option(
            help="How many of the newest to print (0: only new ones with --follow).", min=0
        ),
    ] = 50,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events (Ctrl+C stops).")
    ] = False,
    wide: Annotated[
        bool, typer.Option("--wide", "-w", help="Add event id, actor, details, full times.")
    ] = False,
    json: Annotated[
        bool,
        typer.Option(
            "--json", help="One JSON array; with --follow, one JSON object per line instead."
        ),
    ] = False,
) -> None:
    """Print the audit trail, newest last; `events archive` moves old events to a file."""
    if ctx.invoked_subcommand:
        return
    bk = booking(ctx, read_only=True)
    filters: EventFilters = {
        "resource_id": resource_id(bk, resource),
        "email_contains": not_blank(email, "--email", "list everything"),
        "action": action,
    }
    # --limit 0 --follow: only what comes next. Otherwise the engine checks the limit
    # (at least 1: `--limit 0` alone would print nothing, so it is refused).
    shown = [] if follow and limit == 0 else bk.events(**filters, limit=limit)
    if json and not follow:
        print_json(shown)
        return
    printer = _JsonLines() if json else _EventTable(bk, wide, shown, follow)
    printer.emit(shown)
    if not follow:
        return
    last = shown[-1].id if shown else last_event_id(bk.db)
    try:
        for batch in follow_events(bk, after_id=last, filters=filters):
            printer.emit(batch)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


class _JsonLines:
    def emit(self, items: list[Event]) -> None:
        for e in items:
            print_json_line(e)


class _EventTable:
    """The trail as a table; a followed one keeps the first layout so later rows line up."""

    def __init__(self, bk: Booking, wide: bool, first: list[Event], follow: bool) -> None:
        self.bk = bk
        self.wide = wide
        self.names = bk.resource_names()
        columns = views.event_columns(wide)
        rows = [self._row(e) for e in first]
        room = views.event_room(wide) if follow else {}
        at_least = [room.get(c.header, 0) for c in columns]
        self.layout = Layout(columns, rows, output_width(), at_least=at_least)
        self.header_due = True
        self.follow = follow

    def _row(self, e: Event) -> list[str]:
        if e.resource_id is not None and e.resource_id not in self.names:
            self.names = self.bk.resource_names()  # a resource added while we follow
        return cells(views.event_row(e, self.names, self.wide))

    def emit(self, items: list[Event]) -> None:
        if not items and not self.follow:
            sys.stderr.write("No events.\n")
            return
        lines = [self.layout.header()] if self.header_due else []
        self.header_due = False
        lines += self.layout.lines(self._row(e) for e in items)
        sys.stdout.write("".join(f"{line}\n" for line in lines))
        sys.stdout.flush()
