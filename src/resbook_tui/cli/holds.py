"""Commands about bookings: holds and the allocations confirmed from them."""

from __future__ import annotations

from typing import Annotated

import typer

from ..booking import Allocation, Hold
from .support import booking, handles_errors, print_json, print_table, stdout

holds_app = typer.Typer(
    help="Create, confirm, release, extend and list holds.", no_args_is_help=True
)
allocations_app = typer.Typer(help="Confirmed bookings.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
HoldArg = Annotated[int, typer.Argument(metavar="ID", help="Hold id.")]


def register(app: typer.Typer) -> None:
    app.add_typer(holds_app, name="holds")
    app.add_typer(allocations_app, name="allocations")


def _hold_rows(items: list[Hold]) -> list[tuple]:
    return [
        (
            h.id,
            h.resource_id,
            h.date,
            h.quantity,
            h.customer_email,
            h.status,
            h.expires_at.strftime("%Y-%m-%d %H:%M:%S"),
            h.token,
        )
        for h in items
    ]


HOLD_COLUMNS = ["id", "resource", "date", "qty", "email", "status", "expires (UTC)", "token"]


@holds_app.command("create")
@handles_errors
def holds_create(
    ctx: typer.Context,
    resource_id: Annotated[int, typer.Argument(metavar="RES", help="Resource id.")],
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
    """Hold units of a resource on a date (or each date of a range, all or nothing)."""
    bk = booking(ctx)
    holds = bk.create_holds(resource_id, date, date_to or date, quantity, email, token, ttl)
    if json:
        print_json(holds if date_to else holds[0])
        return
    verb = "Already held (replay)" if holds[0].replay else "Held"
    for h in holds:
        stdout.print(
            f"{verb}: hold {h.id}, resource {h.resource_id} on {h.date} x{h.quantity} for "
            f"{h.customer_email}, expires {h.expires_at:%Y-%m-%d %H:%M:%S} UTC",
            markup=False,
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
    print_json(a) if json else stdout.print(
        f"Confirmed hold {hold_id} as allocation {a.id} (order {a.order_id}, line item "
        f"{a.line_item_id}).",
        markup=False,
    )


@holds_app.command("release")
@handles_errors
def holds_release(ctx: typer.Context, hold_id: HoldArg, json: Json = False) -> None:
    """Release an active hold and give its units back."""
    h = booking(ctx).release_hold(hold_id)
    print_json(h) if json else stdout.print(
        f"Released hold {h.id}: {h.quantity} unit(s) back on resource {h.resource_id} {h.date}."
    )


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
    print_json(h) if json else stdout.print(
        f"Hold {h.id} now expires {h.expires_at:%Y-%m-%d %H:%M:%S} UTC."
    )


@holds_app.command("list")
@handles_errors
def holds_list(
    ctx: typer.Context,
    email: Annotated[str | None, typer.Option(help="Customer email (any case).")] = None,
    status: Annotated[
        str | None, typer.Option(help="ACTIVE, CONFIRMED, RELEASED or EXPIRED.")
    ] = None,
    resource_id: Annotated[int | None, typer.Option("--resource", help="Resource id.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 500,
    json: Json = False,
) -> None:
    """List holds, soonest expiry first."""
    items = booking(ctx, read_only=True).list_holds(email, status, resource_id, limit=limit)
    print_json(items) if json else print_table("Holds", HOLD_COLUMNS, _hold_rows(items))


@holds_app.command("show")
@handles_errors
def holds_show(ctx: typer.Context, hold_id: HoldArg, json: Json = False) -> None:
    """Show one hold and its event history."""
    bk = booking(ctx, read_only=True)
    hold = bk.get_hold(hold_id)
    history = bk.hold_history(hold_id)
    if json:
        print_json({"hold": hold, "events": history})
        return
    print_table(f"Hold {hold.id}", HOLD_COLUMNS, _hold_rows([hold]))
    print_table(
        "History",
        ["time (UTC)", "action", "actor", "details"],
        [
            (
                e.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
                e.action,
                e.actor,
                ", ".join(f"{k}={v}" for k, v in sorted(e.details.items())),
            )
            for e in history
        ],
    )


def _print_allocations(items: list[Allocation]) -> None:
    print_table(
        "Allocations",
        ["id", "resource", "date", "qty", "order", "line item", "hold"],
        [
            (a.id, a.resource_id, a.date, a.quantity, a.order_id, a.line_item_id, a.hold_id)
            for a in items
        ],
    )


@allocations_app.command("list")
@handles_errors
def allocations_list(
    ctx: typer.Context,
    order: Annotated[str | None, typer.Option("--order", help="Shop order id.")] = None,
    email: Annotated[str | None, typer.Option(help="Customer email of the held booking.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 500,
    json: Json = False,
) -> None:
    """List confirmed bookings."""
    items = booking(ctx, read_only=True).list_allocations(order, email=email, limit=limit)
    print_json(items) if json else _print_allocations(items)


@allocations_app.command("cancel")
@handles_errors
def allocations_cancel(
    ctx: typer.Context,
    allocation_id: Annotated[int, typer.Argument(metavar="ID", help="Allocation id.")],
    json: Json = False,
) -> None:
    """Cancel a confirmed booking and give its units back."""
    a = booking(ctx).cancel_allocation(allocation_id)
    print_json(a) if json else stdout.print(
        f"Cancelled allocation {a.id}: {a.quantity} unit(s) back on resource {a.resource_id} "
        f"{a.date}."
    )
