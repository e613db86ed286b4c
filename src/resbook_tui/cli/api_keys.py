"""``resbook api-keys``: the keys the shop calls the HTTP API (``resbook serve``) with."""

from __future__ import annotations

from typing import Annotated

import typer

from . import views
from .support import booking, handles_errors, print_json, say
from .table import Column, print_table

api_keys_app = typer.Typer(
    help="API keys for the HTTP API (resbook serve): create, list, revoke.", no_args_is_help=True
)
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")]


def register(app: typer.Typer) -> None:
    app.add_typer(api_keys_app, name="api-keys")


@api_keys_app.command("create")
@handles_errors
def api_keys_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Who the key is for (the shop).")],
    role: Annotated[
        str,
        typer.Option(
            "--role", metavar="ROLE", help="store (holds, availability) or admin (everything)."
        ),
    ],
    json: Json = False,
) -> None:
    """Make a key and print its secret, once: only its hash is stored."""
    made = booking(ctx).create_api_key(name, role)
    if json:
        info = made.info
        print_json({"id": info.id, "name": info.name, "role": info.role, "key": made.key})
        return
    say(f"Created API key {made.info.id} ({made.info.role}) for {made.info.name}.")
    say(made.key)
    say("This is the only time the key is shown: store it in the shop's secrets now.")


@api_keys_app.command("list")
@handles_errors
def api_keys_list(ctx: typer.Context, json: Json = False) -> None:
    """Every key: id, name, role, its first characters, and whether it is revoked. Never a
    secret (resbook does not have them)."""
    keys = booking(ctx, read_only=True).list_api_keys()
    if json:
        print_json(keys)
        return
    columns = [
        Column("ID", right=True),
        Column("NAME", flex=True),
        Column("ROLE"),
        Column("PREFIX"),
        Column("CREATED"),
        Column("REVOKED"),
    ]
    rows = (
        [
            k.id,
            k.name,
            k.role,
            k.prefix + "…",
            views.full_time(k.created_at),
            views.full_time(k.revoked_at) if k.revoked_at else "-",
        ]
        for k in keys
    )
    print_table(columns, rows, empty="No API keys (resbook api-keys create NAME --role store).")


@api_keys_app.command("revoke")
@handles_errors
def api_keys_revoke(
    ctx: typer.Context,
    key_id: Annotated[int, typer.Argument(metavar="ID", help="API key id (api-keys list).")],
    json: Json = False,
) -> None:
    """Revoke a key: requests with it get 401 from now on. Revoking again changes nothing."""
    info = booking(ctx).revoke_api_key(key_id)
    if json:
        print_json(info)
        return
    assert info.revoked_at is not None
    say(f"API key {info.id} ({info.name}) is revoked since {views.full_time(info.revoked_at)} UTC.")
