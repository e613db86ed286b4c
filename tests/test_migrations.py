import shutil
import subprocess
import sys
import threading
from datetime import timedelta

import peewee
import pytest

from resbook_tui.booking import Booking
from resbook_tui.db import open_database
from resbook_tui.errors import ConfigError
from resbook_tui.schema.catalog import read_catalog
from resbook_tui.schema.migrations import (
    ADVISORY_LOCK_KEY,
    HISTORY_TABLE,
    MigrationError,
    Migrator,
    load_migrations,
    migrations_root,
)
from resbook_tui.schema.verify import verify
from seed_schema import SEED_INDEXES, SEED_TABLES, SEED_TRIGGERS


def _object_names(db: peewee.Database) -> set[str]:
    catalog = read_catalog(db, count_rows=False)
    return (
        set(catalog.tables)
        | set(catalog.indexes)
        | set(catalog.triggers)
        | set(catalog.functions)
        | set(catalog.constraints)
    )


def test_up_down_up_round_trip_leaves_nothing_behind(empty_db):
    before = _object_names(empty_db)
    migrator = Migrator(empty_db)
    applied = migrator.up()
    assert [m.version for m in applied] == [m.version for m in migrator.migrations]
    after_up = _object_names(empty_db)
    assert after_up >= SEED_TABLES

    reverted = migrator.down(to=0)
    assert [m.version for m in reverted] == sorted((m.version for m in applied), reverse=True)
    assert _object_names(empty_db) == before
    assert HISTORY_TABLE not in empty_db.get_tables()

    migrator.up()
    assert _object_names(empty_db) == after_up


def test_migration_0001_alone_is_the_seed_schema(empty_db):
    Migrator(empty_db).up(target=1)
    catalog = read_catalog(empty_db, count_rows=False)
    assert set(catalog.tables) == SEED_TABLES
    assert set(catalog.indexes) == set(SEED_INDEXES)
    assert set(catalog.triggers) == set(SEED_TRIGGERS)
    assert "WHERE" in catalog.indexes["idx_hold_expires"].definition
    assert "UNIQUE" in catalog.indexes["idx_hold_idempotency"].definition
    fks = [c for c in catalog.constraints.values() if c.kind == "FOREIGN KEY"]
    assert len(fks) == 4 and all("CASCADE" in c.definition for c in fks)
    assert [c for c in catalog.constraints.values() if c.kind == "UNIQUE"]
    cols = {t: len(info.columns) for t, info in catalog.tables.items()}
    assert cols == {
        "resource": 9,
        "resource_capacity": 7,
        "resource_blackout": 7,
        "resource_hold": 10,
        "resource_allocation": 7,
    }


def test_down_reverts_one_step_and_to_a_version(empty_db):
    migrator = Migrator(empty_db)
    migrator.up()
    versions = [a.version for a in migrator.applied()]
    assert [m.version for m in migrator.down()] == [versions[-1]]
    # Back to the version applied before it, whatever the gap between their numbers.
    assert migrator.current_version() == versions[-2]
    migrator.up()
    migrator.down(to=1)
    assert migrator.current_version() == 1
    with pytest.raises(ConfigError, match="not applied"):  # a wrong --to: exit 2
        migrator.down(to=7)


def test_status_lists_applied_and_pending(empty_db):
    migrator = Migrator(empty_db)
    assert {s.status for s in migrator.status()} == {"pending"}
    migrator.up(target=1)
    states = {s.version: s.status for s in migrator.status()}
    assert states[1] == "applied" and states[2] == "pending"


def test_edited_migration_is_reported_and_blocks_up(empty_db, tmp_path):
    root = tmp_path / "migrations"
    shutil.copytree(migrations_root(), root)
    migrator = Migrator(empty_db, root=root)
    migrator.up(target=1)
    first = next((root / migrator.dialect).glob("0001_*.up.sql"))
    first.write_text(first.read_text() + "\n-- an edit after the fact\n")

    edited = Migrator(empty_db, root=root)
    assert edited.status()[0].status == "modified"
    with pytest.raises(MigrationError, match="0001_resource_booking was edited"):
        edited.up()
    assert edited.current_version() == 1


def test_failed_migration_rolls_back_whole(empty_db, tmp_path):
    root = tmp_path / "migrations"
    shutil.copytree(migrations_root(), root)
    dialect_dir = root / Migrator(empty_db).dialect
    (dialect_dir / "0099_broken.up.sql").write_text(
        "CREATE TABLE half_done (x INTEGER);\nTHIS IS NOT SQL;\n"
    )
    migrator = Migrator(empty_db, root=root)
    with pytest.raises(MigrationError, match="0099_broken failed and was rolled back"):
        migrator.up()
    assert migrator.current_version() == _versions(migrator.dialect)[-1]
    assert "half_done" not in empty_db.get_tables()


@pytest.mark.postgres
def test_concurrent_migrate_up_applies_each_migration_once(pg_url):
    workers = 4
    barrier = threading.Barrier(workers)
    results: list[object] = []

    def run() -> None:
        db = open_database(pg_url)
        try:
            barrier.wait()
            results.append([m.version for m in Migrator(db).up()])
        except Exception as exc:  # collected and asserted below
            results.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(r, list) for r in results), results
    applied = sorted(v for r in results for v in r)  # type: ignore[union-attr]
    assert applied == _versions("postgresql")
    db = open_database(pg_url)
    rows = db.execute_sql(f"SELECT version FROM {HISTORY_TABLE} ORDER BY version").fetchall()
    assert rows == [(v,) for v in _versions("postgresql")]


@pytest.mark.postgres
def test_second_migrate_up_waits_for_the_lock_and_says_so(pg_url):
    holder = open_database(pg_url)
    holder.execute_sql("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
    proc = subprocess.Popen(
        [sys.executable, "-m", "resbook_tui", "--db", pg_url, "migrate", "up"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Reading the line blocks until the process has found the lock taken.
        assert "Another resbook migration is running" in proc.stderr.readline()
        assert proc.poll() is None
    finally:
        holder.execute_sql("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert f"Applied {len(_versions('postgresql'))} migration(s)" in out


def test_a_migration_numbered_below_an_applied_one_is_still_required(empty_db, tmp_path):
    """Migration numbers may have gaps (0004 was written before 0003 landed): a database
    migrated without 0003 has it pending, Booking refuses the schema until it is applied,
    and `up` applies it."""
    from resbook_tui.booking import Booking
    from resbook_tui.errors import DatabaseError

    without = tmp_path / "migrations"
    shutil.copytree(migrations_root(), without)
    dialect = Migrator(empty_db).dialect
    for path in (without / dialect).glob("0003_*"):
        path.unlink()
    later = [v for v in _versions(dialect) if v > 3]
    assert [m.version for m in Migrator(empty_db, root=without).up()] == [1, 2, *later]
    migrator = Migrator(empty_db)
    assert [s.status for s in migrator.status()] == ["applied", "applied", "pending"] + [
        "applied"
    ] * len(later)
    with pytest.raises(DatabaseError, match="lacks migration 0003"):
        Booking(empty_db)
    assert [m.version for m in migrator.up()] == [3]
    Booking(empty_db)
    assert [m.version for m in migrator.down()] == later[-1:]  # the newest applied goes first


def _versions(dialect: str) -> list[int]:
    """Every migration's version for ``dialect``, oldest first."""
    return [m.version for m in load_migrations(dialect)]


def test_0007_keeps_every_allocation_and_blackout_as_it_was(empty_db):
    """SQLite rebuilds both tables (for AUTOINCREMENT); the rows, their ids and the
    verify check come through, and it goes down and up again."""
    migrator = Migrator(empty_db)
    migrator.up(target=6)
    bk = Booking(empty_db, actor="test", check_schema=False)  # the schema of a release ago
    rid = bk.add_resource("Cruiser", "VEHICLE").id
    day = bk.today() + timedelta(days=1)
    bk.set_capacity(rid, day, day + timedelta(days=2), 5)
    hold = bk.create_hold(rid, day, 2, "ana@example.com")
    before = (
        bk.confirm_hold(hold.id, "o-1", "li-1"),
        bk.add_blackout(rid, day + timedelta(days=2), None, "road closed").blackout,
    )
    migrator.up()
    assert migrator.current_version() == 7
    assert (bk.list_allocations(), bk.list_blackouts()) == ([before[0]], [before[1]])
    assert verify(empty_db).ok
    migrator.down()
    assert migrator.current_version() == 6 and verify(empty_db).ok
    migrator.up()
    assert bk.get_allocation(before[0].id) == before[0]
