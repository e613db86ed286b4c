"""`resbook migrate down` never destroys bookings without being told to: it refuses (exit 2)
listing the rows per table that would go, --dry-run shows the plan, --force proceeds."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from booking_helpers import TABLES, make_world, state
from resbook_tui.cli import app
from resbook_tui.schema.losses import Loss, declared_losses
from resbook_tui.schema.migrations import HISTORY_TABLE, DataLossError, Migrator, load_migrations

runner = CliRunner()


def applied_versions(db) -> list[int]:
    """Every migration this database has, oldest first (all of them: the fixtures migrate up)."""
    return [m.version for m in Migrator(db).migrations]


def run(url: str, *args: str):
    return runner.invoke(app, ["--db", url, "migrate", *args])


@pytest.fixture
def booked(db):
    """Two resources, capacity, a hold confirmed into an allocation, events."""
    w = make_world(db, capacity=5, days=3)
    hold = w.bk.create_hold(w.rid, w.day(0), 1, "ana@x.io", token="cart-1")
    w.bk.confirm_hold(hold.id, "o-1", "li-1")
    return w


def test_down_to_zero_with_bookings_is_refused_and_changes_nothing(db_url, booked):
    before = state(booked.bk.db)
    result = run(db_url, "down", "--to", "0")
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "--force" in result.stderr
    assert "resource_hold: 1 row(s)" in result.stdout
    assert "resource_capacity: 3 row(s)" in result.stdout
    assert "booking_event: 4 row(s)" in result.stdout  # add, capacity, hold, confirm
    assert "Traceback" not in result.output
    assert state(booked.bk.db) == before
    assert Migrator(booked.bk.db).current_version() == applied_versions(booked.bk.db)[-1]


@pytest.mark.parametrize(
    "args, says",
    [
        (["down", "--to", "-1"], "--to must be 0 or a migration version"),
        (["down", "--to", "999"], "version 999 is not applied"),
        (["up", "--to", "-3"], "--to must be 0 or a migration version"),
    ],
)
def test_a_to_that_names_no_version_is_exit_2_and_changes_nothing(db_url, booked, args, says):
    before = state(booked.bk.db)
    result = run(db_url, *args)
    assert result.exit_code == 2, result.output
    assert says in result.stderr and result.stderr.count("\n") == 1
    assert state(booked.bk.db) == before


def test_down_one_step_that_loses_nothing_goes_ahead(db_url, booked):
    result = run(db_url, "down")  # the newest one: nothing it reverts holds bookings
    assert result.exit_code == 0, result.output
    assert Migrator(booked.bk.db).current_version() == applied_versions(booked.bk.db)[-2]
    assert run(db_url, "up").exit_code == 0


def test_down_that_would_drop_the_audit_trail_is_refused(db_url, booked):
    result = run(db_url, "down", "--to", "1")
    assert result.exit_code == 2
    assert "booking_event: 4 row(s)" in result.stdout
    assert "resource_allocation.hold_id: 1 value(s)" in result.stdout
    assert "resource_hold" not in result.stdout  # 0001 is not reverted
    assert Migrator(booked.bk.db).current_version() == applied_versions(booked.bk.db)[-1]


def test_dry_run_shows_the_plan_and_changes_nothing(db_url, booked):
    before = state(booked.bk.db)
    result = run(db_url, "down", "--to", "0", "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    newest_first = sorted(Migrator(booked.bk.db).migrations, key=lambda m: -m.version)
    assert lines[: len(newest_first)] == [
        f"Would revert {m.version:04d}_{m.name}" for m in newest_first
    ]
    assert lines[len(newest_first) - 4 : len(newest_first)] == [
        "Would revert 0004_hold_requests",
        "Would revert 0003_unique_active_resource_name",
        "Would revert 0002_booking_events",
        "Would revert 0001_resource_booking",
    ]
    assert "Would destroy resource: 1 row(s)" in lines
    assert "Nothing was changed (--dry-run)" in result.stdout
    assert state(booked.bk.db) == before


def test_force_proceeds(db_url, booked):
    result = run(db_url, "down", "--to", "0", "--force")
    assert result.exit_code == 0, result.output
    assert f"Reverted {len(applied_versions(booked.bk.db))} migration(s)" in result.stdout
    tables = set(booked.bk.db.get_tables())
    assert not tables & {*TABLES, "hold_request", "api_key", "hold_bundle", HISTORY_TABLE}


def test_an_empty_database_goes_down_without_force(db_url, db):
    assert run(db_url, "down", "--to", "0").exit_code == 0
    assert Migrator(db).current_version() == 0


def test_the_migrator_refuses_before_reverting_anything(booked):
    migrator = Migrator(booked.bk.db)
    with pytest.raises(DataLossError) as info:
        migrator.down(to=0)
    assert Loss("resource_hold", None, 1) in info.value.losses
    assert info.value.exit_code == 2
    newest_first = sorted(applied_versions(booked.bk.db), reverse=True)
    assert migrator.current_version() == newest_first[0]
    assert [m.version for m in migrator.plan_down(0).migrations] == newest_first


def test_what_a_down_file_loses_is_declared_or_read_from_its_sql():
    assert declared_losses("-- loses: a, b.c\nDROP TABLE a;") == ["a", "b.c"]
    assert declared_losses("-- loses: nothing (kept elsewhere)\nDROP TABLE a;") == []
    undeclared = (
        "DROP INDEX IF EXISTS i;\nDROP TABLE IF EXISTS x;\nDROP TABLE y, z CASCADE;\n"
        "ALTER TABLE t DROP COLUMN IF EXISTS c;\nALTER TABLE u DROP CONSTRAINT k;"
    )
    assert declared_losses(undeclared) == ["x", "y", "z", "t.c"]
    for dialect in ("sqlite", "postgresql"):
        for m in load_migrations(dialect):
            assert m.down_sql and "-- loses:" in m.down_sql, (dialect, m.name)
