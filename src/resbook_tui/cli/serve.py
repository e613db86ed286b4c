"""``resbook serve``: the shop's HTTP API."""

from __future__ import annotations

from typing import Annotated

import typer

from .support import handles_errors, settings


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


@handles_errors
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8080,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Server processes [default: one per core, at most 4, on PostgreSQL; "
            "SQLite is always one].",
            min=1,
            max=64,
            show_default=False,
        ),
    ] = None,
    threads: Annotated[
        int,
        typer.Option(
            help="Request threads per process = database connections per process.",
            min=1,
            max=256,
        ),
    ] = 8,
) -> None:
    """Serve the HTTP API (see the README, "Connect a shop"): /v1 routes for the shop and
    admin, /openapi.json, /docs and /healthz. Keys: `resbook api-keys create`.

    Logs one line per request on stderr. SIGTERM or Ctrl+C finishes the requests in
    flight, then exits.
    """
    from ..serve import run  # FastAPI loads only for this command

    run(settings(ctx).url, host=host, port=port, workers=workers, threads=threads)
