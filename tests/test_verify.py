"""verify reads the live catalog and names every kind of drift (made here with raw SQL)."""

import pytest

from resbook_tui.db import POSTGRESQL, dialect
from resbook_tui.errors import DatabaseError
from resbook_tui.schema.verify import verify
from seed_schema import SEED_INDEXES, SEED_TRIGGERS


def _drift(db) -> set[tuple[str, str, str]]:
    report = verify(db)
    return {(d.kind, d.object, d.name) for d in report.drift}


def _rebuild_sqlite_table(db, table: str, edit) -> None:
    """SQLite cannot alter a column or drop a constraint: rebuild the table as edited."""
    sql = db.execute_sql("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    others = db.execute_sql(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') "
        "AND sql IS NOT NULL",
        (table,),
    ).fetchall()
    db.execute_sql("PRAGMA foreign_keys = OFF")
    db.execute_sql(f"ALTER TABLE {table} RENAME TO old_{table}")
    db.execute_sql(edit(sql))
    db.execute_sql(f"INSERT INTO {table} SELECT * FROM old_{table}")
    db.execute_sql(f"DROP TABLE old_{table}")
    for (statement,) in others:
        db.execute_sql(statement)
    db.execute_sql("PRAGMA foreign_keys = ON")


def test_fresh_schema_is_clean(db):
    report = verify(db)
    assert report.ok, report.drift
    assert report.counts["tables"] == {"found": 10, "expected": 10}
    assert report.counts["triggers"] == {"found": 4, "expected": 4}
    assert report.summary().startswith("Tables 10/10, Indexes 27/27, Triggers 4/4")
    assert "Total rows 0" in report.summary()


def test_unmigrated_database_is_a_database_error(empty_db):
    with pytest.raises(DatabaseError, match="migrate up"):
        verify(empty_db)


@pytest.mark.parametrize("index", SEED_INDEXES)
def test_dropped_index_is_named(db, index):
    db.execute_sql(f"DROP INDEX {index}")
    assert _drift(db) == {("missing", "index", index)}


def test_extra_index_is_named(db):
    db.execute_sql("CREATE INDEX idx_surprise ON resource (name)")
    assert _drift(db) == {("extra", "index", "idx_surprise")}


def test_partial_index_that_lost_its_where_is_changed(db):
    db.execute_sql("DROP INDEX idx_hold_expires")
    db.execute_sql("CREATE INDEX idx_hold_expires ON resource_hold (expires_at)")
    report = verify(db)
    [drift] = report.drift
    assert (drift.kind, drift.object, drift.name) == ("changed", "index", "idx_hold_expires")
    assert "WHERE" in drift.detail
    assert report.counts["indexes"]["found"] == report.counts["indexes"]["expected"] - 1


@pytest.mark.parametrize("trigger", SEED_TRIGGERS)
def test_dropped_trigger_is_named(db, trigger):
    table = trigger.removeprefix("update_").removesuffix("_updated_at")
    on = f" ON {table}" if dialect(db) == POSTGRESQL else ""
    db.execute_sql(f"DROP TRIGGER {trigger}{on}")
    assert _drift(db) == {("missing", "trigger", trigger)}


def test_missing_check_constraint_is_named(db):
    if dialect(db) == POSTGRESQL:
        db.execute_sql("ALTER TABLE resource_hold DROP CONSTRAINT resource_hold_quantity_check")
        expected = "resource_hold_quantity_check"
    else:
        _rebuild_sqlite_table(
            db,
            "resource_hold",
            lambda sql: sql.replace("CHECK (quantity > 0)", ""),
        )
        expected = "resource_hold CHECK (quantity > 0)"
    assert ("missing", "constraint", expected) in _drift(db)


def test_missing_unique_constraint_is_named(db):
    if dialect(db) == POSTGRESQL:
        db.execute_sql("ALTER TABLE resource_capacity DROP CONSTRAINT uq_resource_date")
    else:
        _rebuild_sqlite_table(
            db,
            "resource_capacity",
            lambda sql: sql.replace(
                ",\n    CONSTRAINT uq_resource_date UNIQUE (resource_id, date)", ""
            ),
        )
    assert _drift(db) == {("missing", "constraint", "uq_resource_date")}


def test_column_of_wrong_type_is_named(db):
    if dialect(db) == POSTGRESQL:
        db.execute_sql("ALTER TABLE resource_allocation ALTER COLUMN order_id TYPE text")
    else:
        _rebuild_sqlite_table(
            db,
            "resource_allocation",
            lambda sql: sql.replace("order_id     VARCHAR(200)", "order_id     TEXT"),
        )
    report = verify(db)
    assert {(d.kind, d.object, d.name) for d in report.drift} == {
        ("changed", "column", "resource_allocation.order_id")
    }
    assert "type" in report.drift[0].detail


def test_column_that_lost_not_null_is_named(db):
    if dialect(db) == POSTGRESQL:
        db.execute_sql("ALTER TABLE resource_hold ALTER COLUMN customer_email DROP NOT NULL")
    else:
        _rebuild_sqlite_table(
            db,
            "resource_hold",
            lambda sql: sql.replace(
                "customer_email    VARCHAR(320) NOT NULL", "customer_email    VARCHAR(320)"
            ),
        )
    report = verify(db)
    assert ("changed", "column", "resource_hold.customer_email") in {
        (d.kind, d.object, d.name) for d in report.drift
    }
    assert any("nullable, expected NOT NULL" in d.detail for d in report.drift)


def test_missing_table_is_named(db):
    db.execute_sql("DROP TABLE resource_blackout")
    drift = _drift(db)
    assert ("missing", "table", "resource_blackout") in drift
    assert ("missing", "index", "idx_blackout_resource_dates") in drift


def test_changed_function_is_named(pg_db):
    db = pg_db
    db.execute_sql(
        "CREATE OR REPLACE FUNCTION update_updated_at_column() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$"
    )
    assert _drift(db) == {("changed", "function", "update_updated_at_column")}


def test_row_counts_are_reported(db):
    db.execute_sql("INSERT INTO resource (name, type) VALUES ('a', 'TOUR'), ('b', 'GUIDE')")
    report = verify(db)
    rows = {t["name"]: t["rows"] for t in report.tables}
    assert rows["resource"] == 2
    assert report.total_rows == 2


# ---- migration 0004: the request table and the request token --------------------------------


@pytest.mark.parametrize("index", ["idx_hold_request_token", "idx_hold_request_rows"])
def test_a_dropped_0004_index_is_named(db, index):
    db.execute_sql(f"DROP INDEX {index}")
    assert _drift(db) == {("missing", "index", index)}


def test_a_missing_hold_request_table_is_named(db):
    db.execute_sql("DROP TABLE hold_request")
    drift = _drift(db)
    assert ("missing", "table", "hold_request") in drift
    assert ("missing", "index", "idx_hold_request_token") in drift


def test_a_missing_request_token_column_is_named(db):
    db.execute_sql("DROP INDEX idx_hold_request_rows")
    db.execute_sql("ALTER TABLE resource_hold DROP COLUMN request_token")
    assert ("missing", "column", "resource_hold.request_token") in _drift(db)


def test_verify_knows_0004(db):
    report = verify(db)
    assert report.schema_version >= 4
    assert "hold_request" in {t["name"] for t in report.tables}
