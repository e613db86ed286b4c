"""Commands for cron and monitoring: the sweep and the audit trail."""

from __future__ import annotations

import json as jsonlib
from typing import Annotated

import typer

from ..booking import Event
from .support import booking, handles_errors, print_json, stdout, to_jsonable


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)
    app.command("events")(events)


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
    """Expire every active hold past its expiry and give its units back.

    Cron-friendly: prints nothing unless it did something (or --verbose); exit 0 on
    success, 3 when the database is unreachable.
    """
    result = booking(ctx).sweep(batch_size=batch_size, dry_run=dry_run)
    if json:
        print_json(result)
    elif result.expired_holds or verbose:
        verb = "Would expire" if dry_run else "Expired"
        stdout.print(
            f"{verb} {result.expired_holds} hold(s), returning {result.returned_units} unit(s) "
            f"on {result.cells} resource-day(s)"
            + ("" if dry_run else f" in {result.batches} batch(es)")
            + "."
        )


def _print_events(items: list[Event]) -> None:
    for e in items:
        where = f" resource {e.resource_id}" if e.resource_id is not None else ""
        when = ""
        if e.date_from:
            when = f" {e.date_from}" + (f"..{e.date_to}" if e.date_to != e.date_from else "")
        who = f" {e.customer_email}" if e.customer_email else ""
        details = ", ".join(f"{k}={v}" for k, v in sorted(e.details.items()))
        stdout.print(
            f"{e.occurred_at:%Y-%m-%d %H:%M:%S} #{e.id} {e.action} {e.entity} "
            f"{e.entity_id if e.entity_id is not None else ''}{where}{when}{who} by {e.actor}"
            + (f" ({details})" if details else ""),
            markup=False,
        )


@handles_errors
def events(
    ctx: typer.Context,
    resource_id: Annotated[int | None, typer.Option("--resource", help="Resource id.")] = None,
    email: Annotated[str | None, typer.Option(help="Customer email.")] = None,
    action: Annotated[str | None, typer.Option(help="e.g. hold.create, hold.expire.")] = None,
    limit: Annotated[int, typer.Option(help="How many of the newest to print.")] = 50,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events (Ctrl+C stops).")
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Print the audit trail, newest last."""
    bk = booking(ctx, read_only=True)
    filters = {"resource_id": resource_id, "email": email, "action": action}
    shown = bk.events(**filters, limit=limit)
    _emit(shown, json)
    if not follow:
        return
    from ..booking.changes import follow_events, last_event_id

    last = shown[-1].id if shown else last_event_id(bk.db)
    try:
        for batch in follow_events(bk, after_id=last, **filters):
            _emit(batch, json)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


def _emit(items: list[Event], json: bool) -> None:
    if not json:
        _print_events(items)
        return
    for e in items:
        print(jsonlib.dumps(to_jsonable(e)), flush=True)
