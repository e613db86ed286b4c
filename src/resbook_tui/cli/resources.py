"""Commands about what can be booked: resources, capacity, blackouts, availability."""

from __future__ import annotations

from typing import Annotated

import typer

from . import views
from .support import booking, handles_errors, print_json, resource_id, say
from .table import print_table

resources_app = typer.Typer(help="List and manage bookable resources.", no_args_is_help=True)
capacity_app = typer.Typer(help="Set daily capacity.", no_args_is_help=True)
blackouts_app = typer.Typer(help="Periods when a resource cannot be booked.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")]
Wide = Annotated[bool, typer.Option("--wide", "-w", help="Add the long columns.")]
ResourceArg = Annotated[
    str, typer.Argument(metavar="RES", help="Resource id or exact name (any case).")
]
ResourceOpt = Annotated[
    str | None,
    typer.Option("--resource", metavar="RES", help="Resource id or exact name (any case)."),
]
FromOpt = Annotated[str, typer.Option("--from", metavar="YYYY-MM-DD", help="First date.")]
ToOpt = Annotated[str, typer.Option("--to", metavar="YYYY-MM-DD", help="Last date (inclusive).")]


def register(app: typer.Typer) -> None:
    app.add_typer(resources_app, name="resources")
    app.add_typer(capacity_app, name="capacity")
    app.add_typer(blackouts_app, name="blackouts")
    app.command("availability")(availability)


@resources_app.command("list")
@handles_errors
def resources_list(
    ctx: typer.Context,
    type: Annotated[str | None, typer.Option("--type", help="VEHICLE, TOUR or GUIDE.")] = None,
    search: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="Part of the name or type, any case (% and _ literal)."),
    ] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Only active or inactive ones.")
    ] = None,
    wide: Annotated[
        bool, typer.Option("--wide", "-w", help="Add description and last change.")
    ] = False,
    json: Json = False,
) -> None:
    """List resources by type and name (deleted ones are never shown)."""
    items = booking(ctx, read_only=True).list_resources(
        resource_type=type, active=active, search=search
    )
    if json:
        print_json(items)
        return
    print_table(
        views.resource_columns(wide),
        (views.resource_row(r, wide) for r in items),
        empty="No resources.",
    )


@resources_app.command("add")
@handles_errors
def resources_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Display name, e.g. '4WD Cruiser 4'.")],
    type: Annotated[str, typer.Option("--type", help="VEHICLE, TOUR or GUIDE.")],
    description: Annotated[str | None, typer.Option(help="Free text.")] = None,
    json: Json = False,
) -> None:
    """Add a resource (active, with no capacity yet: see `resbook capacity set`).

    Refused (exit 2) when an active resource already has that name, in any case.
    """
    resource = booking(ctx).add_resource(name, type, description)
    print_json(resource) if json else say(
        f"Added resource {resource.id}: {resource.name} ({resource.type})"
    )


@resources_app.command("edit")
@handles_errors
def resources_edit(
    ctx: typer.Context,
    res: ResourceArg,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    type: Annotated[str | None, typer.Option("--type", help="New type.")] = None,
    description: Annotated[str | None, typer.Option(help="New description.")] = None,
    json: Json = False,
) -> None:
    """Change a resource's name, type or description (a name no other active one has)."""
    bk = booking(ctx)
    resource = bk.edit_resource(bk.resolve_resource(res).id, name, type, description)
    print_json(resource) if json else say(
        f"Resource {resource.id} is now {resource.name} ({resource.type})"
    )


@resources_app.command("activate")
@handles_errors
def resources_activate(ctx: typer.Context, res: ResourceArg, json: Json = False) -> None:
    """Let a resource take new holds again (refused while another active one has its name)."""
    bk = booking(ctx)
    resource = bk.activate(bk.resolve_resource(res).id)
    print_json(resource) if json else say(f"Resource {resource.id} ({resource.name}) is active.")


@resources_app.command("deactivate")
@handles_errors
def resources_deactivate(ctx: typer.Context, res: ResourceArg, json: Json = False) -> None:
    """Stop a resource taking new holds (existing bookings stay)."""
    bk = booking(ctx)
    resource = bk.deactivate(bk.resolve_resource(res).id)
    print_json(resource) if json else say(f"Resource {resource.id} ({resource.name}) is inactive.")


@capacity_app.command("set")
@handles_errors
def capacity_set(
    ctx: typer.Context,
    res: ResourceArg,
    date_from: FromOpt,
    date_to: ToOpt,
    max_capacity: Annotated[int, typer.Option("--max", help="Units per day.")],
    json: Json = False,
) -> None:
    """Set max capacity on every date of a range; refused where bookings would not fit."""
    bk = booking(ctx)
    resource = bk.resolve_resource(res)
    change = bk.set_capacity(resource.id, date_from, date_to, max_capacity)
    print_json(change) if json else say(
        f"{resource.name}: max {change.max_capacity} from {change.date_from} to "
        f"{change.date_to} ({change.updated} day(s) updated, {change.created} created)."
    )


@blackouts_app.command("list")
@handles_errors
def blackouts_list(
    ctx: typer.Context,
    resource: ResourceOpt = None,
    wide: Wide = False,
    json: Json = False,
) -> None:
    """List blackouts by start date."""
    bk = booking(ctx, read_only=True)
    items = bk.list_blackouts(resource_id(bk, resource))
    if json:
        print_json(items)
        return
    names = bk.resource_names()
    print_table(
        views.blackout_columns(wide),
        (views.blackout_row(b, names, wide) for b in items),
        empty="No blackouts.",
    )


@blackouts_app.command("add")
@handles_errors
def blackouts_add(
    ctx: typer.Context,
    res: ResourceArg,
    date_from: FromOpt,
    date_to: ToOpt,
    reason: Annotated[str, typer.Option(help="Why, e.g. 'service'.")],
    json: Json = False,
) -> None:
    """Black out a resource; bookings already inside the period are listed for follow-up."""
    bk = booking(ctx)
    resource = bk.resolve_resource(res)
    result = bk.add_blackout(resource.id, date_from, date_to, reason)
    if json:
        print_json(result)
        return
    b = result.blackout
    say(f"Added blackout {b.id} on {resource.name} from {b.start_date} to {b.end_date}.")
    if result.active_holds or result.allocations:
        say(
            f"Inside it: {len(result.active_holds)} active hold(s) and "
            f"{len(result.allocations)} allocation(s) need attention:"
        )
        for h in result.active_holds:
            say(f"  hold {h.id}: {h.date} x{h.quantity} {h.customer_email}")
        for a in result.allocations:
            say(f"  allocation {a.id}: {a.date} x{a.quantity} order {a.order_id}")


@blackouts_app.command("remove")
@handles_errors
def blackouts_remove(
    ctx: typer.Context,
    blackout_id: Annotated[int, typer.Argument(metavar="ID", help="Blackout id.")],
    json: Json = False,
) -> None:
    """Remove a blackout."""
    b = booking(ctx).remove_blackout(blackout_id)
    print_json(b) if json else say(f"Removed blackout {b.id} ({b.start_date} to {b.end_date}).")


@handles_errors
def availability(
    ctx: typer.Context,
    date_from: FromOpt,
    date_to: ToOpt,
    resource: ResourceOpt = None,
    type: Annotated[str | None, typer.Option("--type", help="VEHICLE, TOUR or GUIDE.")] = None,
    wide: Annotated[
        bool, typer.Option("--wide", "-w", help="Add the resource id and how much is used.")
    ] = False,
    json: Json = False,
) -> None:
    """Per resource and date: max, free, held, booked (allocated) and any blackout."""
    bk = booking(ctx, read_only=True)
    cells = bk.availability(
        date_from, date_to, resource_id=resource_id(bk, resource), resource_type=type
    )
    if json:
        print_json(cells)
        return
    names = bk.resource_names()
    print_table(
        views.availability_columns(wide),
        (views.availability_row(c, names, wide) for c in cells),
        empty="No capacity in that range.",
    )
