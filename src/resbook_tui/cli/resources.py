"""Commands about what can be booked: resources, capacity, blackouts, availability."""

from __future__ import annotations

from typing import Annotated

import typer

from ..booking import Cell, Resource
from .support import booking, handles_errors, print_json, print_table, stdout

resources_app = typer.Typer(help="List and manage bookable resources.", no_args_is_help=True)
capacity_app = typer.Typer(help="Set daily capacity.", no_args_is_help=True)
blackouts_app = typer.Typer(help="Periods when a resource cannot be booked.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ResourceArg = Annotated[int, typer.Argument(metavar="RES", help="Resource id.")]
FromOpt = Annotated[str, typer.Option("--from", metavar="YYYY-MM-DD", help="First date.")]
ToOpt = Annotated[str, typer.Option("--to", metavar="YYYY-MM-DD", help="Last date (inclusive).")]


def register(app: typer.Typer) -> None:
    app.add_typer(resources_app, name="resources")
    app.add_typer(capacity_app, name="capacity")
    app.add_typer(blackouts_app, name="blackouts")
    app.command("availability")(availability)


def _print_resources(items: list[Resource]) -> None:
    print_table(
        "Resources",
        ["id", "name", "type", "active", "description"],
        [(r.id, r.name, r.type, "yes" if r.is_active else "no", r.description) for r in items],
    )


@resources_app.command("list")
@handles_errors
def resources_list(
    ctx: typer.Context,
    type: Annotated[str | None, typer.Option("--type", help="VEHICLE, TOUR or GUIDE.")] = None,
    search: Annotated[str | None, typer.Option(help="Part of the name or type.")] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Only active or inactive ones.")
    ] = None,
    json: Json = False,
) -> None:
    """List resources (deleted ones are never shown)."""
    items = booking(ctx, read_only=True).list_resources(type, active, search)
    print_json(items) if json else _print_resources(items)


@resources_app.command("add")
@handles_errors
def resources_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Display name, e.g. '4WD Cruiser 4'.")],
    type: Annotated[str, typer.Option("--type", help="VEHICLE, TOUR or GUIDE.")],
    description: Annotated[str | None, typer.Option(help="Free text.")] = None,
    json: Json = False,
) -> None:
    """Add a resource (active, with no capacity yet: see `resbook capacity set`)."""
    resource = booking(ctx).add_resource(name, type, description)
    print_json(resource) if json else stdout.print(
        f"Added resource {resource.id}: {resource.name} ({resource.type})", markup=False
    )


@resources_app.command("edit")
@handles_errors
def resources_edit(
    ctx: typer.Context,
    resource_id: ResourceArg,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    type: Annotated[str | None, typer.Option("--type", help="New type.")] = None,
    description: Annotated[str | None, typer.Option(help="New description.")] = None,
    json: Json = False,
) -> None:
    """Change a resource's name, type or description."""
    resource = booking(ctx).edit_resource(resource_id, name, type, description)
    print_json(resource) if json else stdout.print(
        f"Resource {resource.id} is now {resource.name} ({resource.type})", markup=False
    )


@resources_app.command("activate")
@handles_errors
def resources_activate(ctx: typer.Context, resource_id: ResourceArg, json: Json = False) -> None:
    """Let a resource take new holds again."""
    resource = booking(ctx).activate(resource_id)
    print_json(resource) if json else stdout.print(f"Resource {resource.id} is active.")


@resources_app.command("deactivate")
@handles_errors
def resources_deactivate(ctx: typer.Context, resource_id: ResourceArg, json: Json = False) -> None:
    """Stop a resource taking new holds (existing bookings stay)."""
    resource = booking(ctx).deactivate(resource_id)
    print_json(resource) if json else stdout.print(f"Resource {resource.id} is inactive.")


@capacity_app.command("set")
@handles_errors
def capacity_set(
    ctx: typer.Context,
    resource_id: ResourceArg,
    date_from: FromOpt,
    date_to: ToOpt,
    max_capacity: Annotated[int, typer.Option("--max", help="Units per day.")],
    json: Json = False,
) -> None:
    """Set max capacity on every date of a range; refused where bookings would not fit."""
    change = booking(ctx).set_capacity(resource_id, date_from, date_to, max_capacity)
    print_json(change) if json else stdout.print(
        f"Resource {change.resource_id}: max {change.max_capacity} from {change.date_from} to "
        f"{change.date_to} ({change.updated} day(s) updated, {change.created} created)."
    )


@blackouts_app.command("list")
@handles_errors
def blackouts_list(
    ctx: typer.Context,
    resource_id: Annotated[int | None, typer.Option("--resource", help="Resource id.")] = None,
    json: Json = False,
) -> None:
    """List blackouts."""
    items = booking(ctx, read_only=True).list_blackouts(resource_id)
    if json:
        print_json(items)
        return
    print_table(
        "Blackouts",
        ["id", "resource", "from", "to", "reason"],
        [(b.id, b.resource_id, b.start_date, b.end_date, b.reason) for b in items],
    )


@blackouts_app.command("add")
@handles_errors
def blackouts_add(
    ctx: typer.Context,
    resource_id: ResourceArg,
    date_from: FromOpt,
    date_to: ToOpt,
    reason: Annotated[str, typer.Option(help="Why, e.g. 'service'.")],
    json: Json = False,
) -> None:
    """Black out a resource; bookings already inside the period are listed for follow-up."""
    result = booking(ctx).add_blackout(resource_id, date_from, date_to, reason)
    if json:
        print_json(result)
        return
    b = result.blackout
    stdout.print(
        f"Added blackout {b.id} on resource {b.resource_id} from {b.start_date} to {b.end_date}.",
        markup=False,
    )
    if result.active_holds or result.allocations:
        stdout.print(
            f"Inside it: {len(result.active_holds)} active hold(s) and "
            f"{len(result.allocations)} allocation(s) need attention:",
            style="yellow",
        )
        for h in result.active_holds:
            stdout.print(f"  hold {h.id}: {h.date} x{h.quantity} {h.customer_email}", markup=False)
        for a in result.allocations:
            stdout.print(
                f"  allocation {a.id}: {a.date} x{a.quantity} order {a.order_id}", markup=False
            )


@blackouts_app.command("remove")
@handles_errors
def blackouts_remove(
    ctx: typer.Context,
    blackout_id: Annotated[int, typer.Argument(metavar="ID", help="Blackout id.")],
    json: Json = False,
) -> None:
    """Remove a blackout."""
    b = booking(ctx).remove_blackout(blackout_id)
    print_json(b) if json else stdout.print(f"Removed blackout {b.id}.")


@handles_errors
def availability(
    ctx: typer.Context,
    date_from: FromOpt,
    date_to: ToOpt,
    resource_id: Annotated[int | None, typer.Option("--resource", help="Resource id.")] = None,
    type: Annotated[str | None, typer.Option("--type", help="VEHICLE, TOUR or GUIDE.")] = None,
    json: Json = False,
) -> None:
    """Per resource and date: max, available, held, allocated and any blackout."""
    cells: list[Cell] = booking(ctx, read_only=True).availability(
        date_from, date_to, resource_id, type
    )
    if json:
        print_json(cells)
        return
    print_table(
        "Availability",
        ["resource", "date", "max", "available", "held", "allocated", "blackout"],
        [
            (c.resource_id, c.date, c.max_capacity, c.available, c.held, c.allocated, c.blackout)
            for c in cells
        ],
    )
