"""Commands that create, check and fill the schema: info, migrate, verify, seed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import peewee
import typer
from rich.console import Console

from ..booking import BookingError, validate
from ..config import default_database_path
from ..db import dialect, parse_url
from ..errors import EXIT_DATABASE, EXIT_REFUSED, BusyError, ResbookError
from ..schema.losses import Loss
from ..schema.migrations import DataLossError, DownPlan, Migration, Migrator, require_migrated
from ..schema.verify import VerifyReport, verify
from ..seed import SeedError, SeedPlan, SeedResult, seed
from ..text import visible
from .support import (
    handles_errors,
    json_time_text,
    print_json,
    progress_bar,
    settings,
    stderr,
    stdout,
)
from .table import Column, print_table

migrate_app = typer.Typer(help="Apply, revert and list schema migrations.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]


def register(app: typer.Typer) -> None:
    app.command("info")(info)
    app.add_typer(migrate_app, name="migrate")
    app.command("verify")(verify_command)
    app.command("seed")(seed_command)


@handles_errors
def info(ctx: typer.Context, json: JsonOpt = False) -> None:
    """Show which database resbook uses, its dialect and schema version."""
    s = settings(ctx)
    parsed = parse_url(s.url)
    result: dict[str, Any] = {
        "database": parsed.masked,
        "dialect": parsed.dialect,
        "default_sqlite_file": str(default_database_path()),
        "schema_version": None,
        "latest_version": None,
        "reachable": False,
        "error": None,
    }
    failed: int | None = None  # the exit code of the problem met, if any
    try:
        db = s.database()
        migrator = Migrator(db)
        result.update(
            schema_version=migrator.current_version(),
            latest_version=migrator.migrations[-1].version if migrator.migrations else 0,
            reachable=True,
        )
    except Exception as exc:  # info reports the problem instead of failing on it
        result["error"] = str(exc)
        # Each resbook error exits with its own code, as for every other command (a lock
        # held past lock_timeout is busy, 4, and the database was reached; a setting the
        # driver refuses is 2); anything else is a database problem (3).
        failed = exc.exit_code if isinstance(exc, ResbookError) else EXIT_DATABASE
        result["reachable"] = isinstance(exc, BusyError)
    if json:
        print_json(result)
    else:
        for key in (
            "database",
            "dialect",
            "schema_version",
            "latest_version",
            "default_sqlite_file",
        ):
            shown = visible(str(result[key]))  # a path may hold any byte
            stdout.print(f"{key.replace('_', ' '):>20}: {shown}", markup=False)
        if result["error"]:
            stdout.print(f"{'error':>20}: {visible(result['error'])}", markup=False)
    if failed is not None:
        raise typer.Exit(failed)


@migrate_app.command("up")
@handles_errors
def migrate_up(
    ctx: typer.Context,
    to: Annotated[int | None, typer.Option("--to", help="Stop at this version.")] = None,
    json: JsonOpt = False,
) -> None:
    """Apply every pending migration (or those up to --to)."""
    db = settings(ctx).database(create=True)
    migrator = Migrator(db)
    progress = stderr if json else stdout  # with --json, stdout is the one document
    applied = migrator.up(
        target=to,
        on_wait=lambda: stderr.print("Another resbook migration is running; waiting for it..."),
        on_apply=lambda m: progress.print(f"Applying {_label(m)}...", markup=False),
    )
    version = migrator.current_version()
    if json:
        print_json({"applied": _listed(applied), "schema_version": version})
    elif applied:
        stdout.print(f"Applied {len(applied)} migration(s); schema is at version {version}.")
    else:
        stdout.print(f"Nothing to apply; schema is at version {version}.")


@migrate_app.command("down")
@handles_errors
def migrate_down(
    ctx: typer.Context,
    to: Annotated[
        int | None,
        typer.Option("--to", help="Revert every migration above this version (0 = all)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Revert even though rows would be destroyed.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show what would be reverted and lost."),
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Revert the newest migration, or every migration above --to.

    Refused (exit 2, nothing changed) when a table it would drop or empty holds rows;
    the rows per table are listed. --force proceeds anyway.
    """
    db = settings(ctx).database()
    migrator = Migrator(db)
    if dry_run:
        plan = migrator.plan_down(to)
        if json:
            print_json(
                {
                    "would_revert": _listed(plan.migrations),
                    "would_destroy": plan.losses,
                    "schema_version": plan.target,
                }
            )
        else:
            _print_down_plan(plan)
        return
    progress = stderr if json else stdout
    try:
        reverted = migrator.down(
            to=to,
            force=force,
            on_wait=lambda: stderr.print("Another resbook migration is running; waiting for it..."),
            on_revert=lambda m: progress.print(f"Reverting {_label(m)}...", markup=False),
        )
    except DataLossError as exc:
        # With --json the error's one line is stdout's; the losses go to stderr.
        _print_losses(exc.losses, "Would destroy", to=progress)
        raise
    version = migrator.current_version()
    if json:
        print_json({"reverted": _listed(reverted), "schema_version": version})
    elif reverted:
        stdout.print(f"Reverted {len(reverted)} migration(s); schema is at version {version}.")
    else:
        stdout.print("Nothing to revert; no migration is applied.")


@migrate_app.command("status")
@handles_errors
def migrate_status(
    ctx: typer.Context,
    wide: Annotated[
        bool, typer.Option("--wide", "-w", help="Whole checksums and applied times.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """List applied and pending migrations with their checksums."""
    db = settings(ctx).database()
    states = Migrator(db).status()
    if json:
        print_json({"dialect": dialect(db), "migrations": states})
        return
    stdout.print(f"Migrations ({dialect(db)}):", markup=False)
    print_table(
        [
            Column("version"),
            Column("name", flex=True),
            Column("status"),
            Column("checksum", flex=wide),
            Column("applied at (utc)"),
        ],
        [
            (
                f"{s.version:04d}",
                s.name,
                s.status,
                (s.checksum or s.applied_checksum or "")[: None if wide else 12],
                _applied_at(s.applied_at, wide),
            )
            for s in states
        ],
        empty="No migrations.",
    )
    bad = [s for s in states if s.status in ("modified", "missing")]
    if bad:
        raise typer.Exit(EXIT_REFUSED)


def _applied_at(text: str | None, wide: bool) -> str:
    """The history table's time (text whose form depends on the dialect) as UTC."""
    if not text:
        return ""
    stamp = json_time_text(text)
    shown = stamp.removesuffix("Z").replace("T", " ")
    return shown if wide else shown[:16]


def _label(m: Migration) -> str:
    return f"{m.version:04d}_{m.name}"


def _listed(migrations: Sequence[Migration]) -> list[dict[str, Any]]:
    return [{"version": m.version, "name": m.name} for m in migrations]


def _print_losses(losses: list[Loss], verb: str, *, to: Console = stdout) -> None:
    for loss in losses:
        to.print(f"{verb} {loss}", markup=False)


def _print_down_plan(plan: DownPlan) -> None:
    if not plan.migrations:
        stdout.print("Nothing to revert; no migration is applied.")
        return
    for m in plan.migrations:
        stdout.print(f"Would revert {_label(m)}", markup=False)
    _print_losses(plan.losses, "Would destroy")
    if not plan.losses:
        stdout.print("No rows would be destroyed.")
    stdout.print(f"Schema would be at version {plan.target}. Nothing was changed (--dry-run).")


@handles_errors
def verify_command(ctx: typer.Context, json: JsonOpt = False) -> None:
    """Compare the live schema with what its applied migrations should have made.

    Exit 0 when it matches, 1 when anything drifted, 3 when the database is unreachable
    or not migrated, 4 when the catalog is locked past the lock timeout (a migration
    running elsewhere).
    """
    db = settings(ctx).database()
    report = verify(db)
    if json:
        print_json(report.to_dict())
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(EXIT_REFUSED)


def _print_report(report: VerifyReport) -> None:
    stdout.print(f"Schema verification ({report.dialect}, version {report.schema_version})")
    stdout.print("Tables:")
    print_table(
        [
            Column("table"),
            Column("columns", right=True),
            Column("rows", right=True),
            Column("status"),
        ],
        [(t["name"], t["columns"], t["rows"], t["status"]) for t in report.tables],
        empty="No tables.",
    )
    for object_name, title in (
        ("index", "Indexes"),
        ("trigger", "Triggers"),
        ("function", "Functions"),
        ("constraint", "Constraints"),
    ):
        checks = [o for o in report.objects if o.object == object_name]
        if object_name == "constraint":
            # Dozens of constraints: list them only when one of them drifted.
            checks = [o for o in checks if o.status != "ok"]
        if not checks:
            continue
        stdout.print(f"{title}:", markup=False)
        print_table(
            [Column(object_name, flex=True), Column("table"), Column("status")],
            [(o.name, o.table, o.status) for o in checks],
        )
    if report.drift:
        stdout.print(f"Drift ({len(report.drift)}):", style="bold red")
        for d in report.drift:
            stdout.print(f"  - {visible(str(d))}", markup=False)  # names read from the catalog
    kinds = report.constraint_kinds
    stdout.print(
        f"Constraints: {kinds.get('CHECK', 0)} CHECK (NOT NULL included), "
        f"{kinds.get('FOREIGN KEY', 0)} FOREIGN KEY, {kinds.get('UNIQUE', 0)} UNIQUE, "
        f"{kinds.get('PRIMARY KEY', 0)} PRIMARY KEY"
    )
    status = "OK" if report.ok else "DRIFT"
    stdout.print(f"{report.summary()} - {status}", style="bold green" if report.ok else "bold red")


@handles_errors
def seed_command(
    ctx: typer.Context,
    vehicles: Annotated[int, typer.Option(help="How many vehicles ('4WD Cruiser N').")] = 3,
    tours: Annotated[int, typer.Option(help="How many tours.")] = 0,
    guides: Annotated[int, typer.Option(help="How many guides.")] = 0,
    days: Annotated[int, typer.Option(help="Days of capacity per resource.")] = 90,
    start: Annotated[
        str | None, typer.Option(help="First day of capacity, YYYY-MM-DD (default: today).")
    ] = None,
    capacity: Annotated[
        int | None,
        typer.Option(help="Capacity per day (default: 6 per vehicle, 12 per tour, 1 per guide)."),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Create resources with daily capacity; running it again creates nothing twice."""
    try:
        first_day = validate.day(start, "--start") if start else None
    except BookingError as exc:
        raise SeedError(str(exc)) from None
    plan = SeedPlan(vehicles, tours, guides, days, first_day, capacity)
    plan.validate()
    db = settings(ctx).database()
    require_migrated(db)
    result = _seed_with_progress(db, plan, show=not json and stderr.is_terminal)
    if json:
        print_json(result)
        return
    stdout.print(
        f"Seeded {result.resources_created} new resource(s) "
        f"({result.resources_existing} already there) and "
        f"{result.capacity_rows_created} capacity row(s) "
        f"from {result.start} for {result.days} day(s)."
    )


def _seed_with_progress(db: peewee.Database, plan: SeedPlan, show: bool) -> SeedResult:
    if not show:
        return seed(db, plan)
    with progress_bar() as bar:
        task = bar.add_task("Seeding capacity", total=None)
        return seed(
            db, plan, progress=lambda done, total: bar.update(task, completed=done, total=total)
        )
