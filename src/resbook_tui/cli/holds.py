"""Commands about bookings: holds and the allocations confirmed from them."""

from __future__ import annotations

from typing import Annotated

import typer

from ..booking import Hold
from . import views
from .support import booking, handles_errors, not_blank, print_json, resource_id, say
from .table import one_line, print_table

holds_app = typer.Typer(
    help="Create, confirm, release, extend and list holds.", no_args_is_help=True
)
allocations_app = typer.Typer(help="Confirmed bookings.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")]
Wide = Annotated[
    bool, typer.Option("--wide", "-w", help="Add the long columns (token, full timestamps).")
]
HoldArg = Annotated[int, typer.Argument(metavar="ID", help="Hold id.")]
ResourceOpt = Annotated[
    str | None,
    typer.Option("--resource", metavar="RES", help="Resource id or exact name (any case)."),
]
EmailOpt = Annotated[
    str | None,
    typer.Option(metavar="TEXT", help="Customer email, or any part of it (any case)."),
]


def register(app: typer.Typer) -> None:
    app.add_typer(holds_app, name="holds")
    app.add_typer(allocations_app, name="allocations")


def _expiry(h: Hold) -> str:
    return f"{views.full_time(h.expires_at)} UTC"


@holds_app.command("create")
@handles_errors
def holds_create(
    ctx: typer.Context,
    resource: Annotated[
        str, typer.Argument(metavar="RES", help="Resource id or exact name (any case).")
    ],
    date: Annotated[str, typer.Argument(metavar="DATE", help="YYYY-MM-DD.")],
    quantity: Annotated[int, typer.Option("--quantity", "-q", help="Units to hold.")],
    email: Annotated[str, typer.Option(help="Customer email.")],
    date_to: Annotated[
        str | None, typer.Option("--to", metavar="DATE", help="Hold every date up to this one.")
    ] = None,
    token: Annotated[
        str | None, typer.Option(help="Idempotency token: repeating a request is safe.")
    ] = None,
    ttl: Annotated[
        int | None, typer.Option("--ttl", metavar="MINUTES", help="Minutes until it expires.")
    ] = None,
    json: Json = False,
) -> None:
    """Hold units of a resource on a date (or each date of a range, all or nothing).

    With --json: the hold as one object; with --to, an array of holds.
    """
    bk = booking(ctx)
    res = bk.resolve_resource(resource)
    holds = bk.create_holds(
        res.id, date, date_to or date, quantity, email, token=token, ttl_minutes=ttl
    )
    if json:
        print_json(holds if date_to else holds[0])
        return
    verb = "Already held (replay)" if holds[0].replay else "Held"
    for h in holds:
        say(
            f"{verb}: hold {h.id}, {res.name} on {h.date} x{h.quantity} for "
            f"{h.customer_email}, expires {_expiry(h)}"
        )


@holds_app.command("confirm")
@handles_errors
def holds_confirm(
    ctx: typer.Context,
    hold_id: HoldArg,
    order: Annotated[str, typer.Option("--order", help="Shop order id.")],
    line_item: Annotated[str, typer.Option("--line-item", help="Shop line item id.")],
    json: Json = False,
) -> None:
    """Turn an active hold into a confirmed allocation."""
    a = booking(ctx).confirm_hold(hold_id, order, line_item)
    if json:
        print_json(a)
        return
    say(
        f"Confirmed hold {hold_id} as allocation {a.id} (order {a.order_id}, line item "
        f"{a.line_item_id})."
    )


@holds_app.command("release")
@handles_errors
def holds_release(ctx: typer.Context, hold_id: HoldArg, json: Json = False) -> None:
    """Release an active hold and give its units back."""
    bk = booking(ctx)
    h = bk.release_hold(hold_id)
    if json:
        print_json(h)
        return
    name = views.named(bk.resource_names(), h.resource_id)
    say(f"Released hold {h.id}: {h.quantity} unit(s) back on {name} {h.date}.")


@holds_app.command("extend")
@handles_errors
def holds_extend(
    ctx: typer.Context,
    hold_id: HoldArg,
    minutes: Annotated[int, typer.Option("--minutes", help="Minutes to add.")],
    json: Json = False,
) -> None:
    """Push an active hold's expiry back."""
    h = booking(ctx).extend_hold(hold_id, minutes)
    print_json(h) if json else say(f"Hold {h.id} now expires {_expiry(h)}.")


@holds_app.command("list")
@handles_errors
def holds_list(
    ctx: typer.Context,
    email: EmailOpt = None,
    status: Annotated[
        str | None,
        typer.Option(
            help="ACTIVE, CONFIRMED, RELEASED or EXPIRED (a confirmed hold whose booking was "
            "cancelled reads CANCELLED, and is listed under CONFIRMED)."
        ),
    ] = None,
    resource: ResourceOpt = None,
    limit: Annotated[int, typer.Option(help="At most this many (1 to 1000000).")] = 500,
    wide: Wide = False,
    json: Json = False,
) -> None:
    """List holds, soonest expiry first: one line each, resources by name."""
    bk = booking(ctx, read_only=True)
    items = bk.list_holds(
        status=status,
        resource_id=resource_id(bk, resource),
        limit=limit,
        email_contains=not_blank(email, "--email", "list everything"),
    )
    if json:
        print_json(items)
        return
    names, now = bk.resource_names(), bk.now()
    print_table(
        views.hold_columns(wide),
        (views.hold_row(h, names, now, wide) for h in items),
        empty="No holds.",
    )


@holds_app.command("show")
@handles_errors
def holds_show(
    ctx: typer.Context, hold_id: HoldArg, wide: Wide = False, json: Json = False
) -> None:
    """Show one hold and its event history.

    With --json: {"hold": {...}, "events": [...]}.
    """
    bk = booking(ctx, read_only=True)
    hold = bk.get_hold(hold_id)
    history = bk.hold_history(hold_id)
    if json:
        print_json({"hold": hold, "events": history})
        return
    name = views.named(bk.resource_names(), hold.resource_id)
    fields = [
        ("Hold", hold.id),
        ("Status", views.status(hold, bk.now())),
        ("Resource", f"{name} (id {hold.resource_id})"),
        ("Date", hold.date),
        ("Quantity", hold.quantity),
        ("Customer", hold.customer_email),
        ("Expires at", _expiry(hold)),
        ("Token", hold.token),
        ("Created", f"{views.full_time(hold.created_at)} UTC"),
    ]
    key_width = max(len(k) for k, _ in fields) + 1
    for key, value in fields:
        say(one_line(f"{key + ':':<{key_width}} {value}"))
    say("")
    say("History:")
    print_table(
        views.HISTORY_COLUMNS, (views.history_row(e, wide) for e in history), empty="No events."
    )


@allocations_app.command("list")
@handles_errors
def allocations_list(
    ctx: typer.Context,
    order: Annotated[str | None, typer.Option("--order", help="Shop order id.")] = None,
    email: EmailOpt = None,
    resource: ResourceOpt = None,
    limit: Annotated[int, typer.Option(help="At most this many (1 to 1000000).")] = 500,
    wide: Wide = False,
    json: Json = False,
) -> None:
    """List confirmed bookings by date; --email finds those held by that customer."""
    bk = booking(ctx, read_only=True)
    items = bk.list_allocations(
        order_id=order,
        resource_id=resource_id(bk, resource),
        limit=limit,
        email_contains=not_blank(email, "--email", "list everything"),
    )
    if json:
        print_json(items)
        return
    names = bk.resource_names()
    print_table(
        views.allocation_columns(wide),
        (views.allocation_row(a, names, wide) for a in items),
        empty="No allocations.",
    )


@allocations_app.command("cancel")
@handles_errors
def allocations_cancel(
    ctx: typer.Context,
    allocation_id: Annotated[int, typer.Argument(metavar="ID", help="Allocation id.")],
    json: Json = False,
) -> None:
    """Cancel a confirmed booking and give its units back."""
    bk = booking(ctx)
    a = bk.cancel_allocation(allocation_id)
    if json:
        print_json(a)
        return
    name = views.named(bk.resource_names(), a.resource_id)
    say(f"Cancelled allocation {a.id}: {a.quantity} unit(s) back on {name} {a.date}.")
