from datetime import date, timedelta

import pytest

from resbook_tui.seed import SeedError, SeedPlan, seed


def _count(db, sql: str) -> int:
    return db.execute_sql(sql).fetchone()[0]


def test_default_seed_is_three_vehicles_with_90_days(db):
    result = seed(db, SeedPlan())
    assert (result.resources_created, result.capacity_rows_created) == (3, 270)
    names = [r[0] for r in db.execute_sql("SELECT name FROM resource ORDER BY name").fetchall()]
    assert names == ["4WD Cruiser 1", "4WD Cruiser 2", "4WD Cruiser 3"]
    assert _count(db, "SELECT count(*) FROM resource WHERE type = 'VEHICLE' AND is_active") == 3
    assert _count(db, "SELECT count(DISTINCT date) FROM resource_capacity") == 90


def test_seed_twice_creates_nothing_new(db):
    seed(db, SeedPlan(vehicles=2, tours=1, guides=1, days=10))
    again = seed(db, SeedPlan(vehicles=2, tours=1, guides=1, days=10))
    assert (again.resources_created, again.resources_existing, again.capacity_rows_created) == (
        0,
        4,
        0,
    )
    assert _count(db, "SELECT count(*) FROM resource") == 4
    assert _count(db, "SELECT count(*) FROM resource_capacity") == 40


def test_seed_extends_what_is_there(db):
    seed(db, SeedPlan(vehicles=1, days=5))
    more = seed(db, SeedPlan(vehicles=2, days=7))
    assert (more.resources_created, more.capacity_rows_created) == (1, 2 + 7)


def test_seed_options_start_and_capacity(db):
    start = date(2030, 1, 30)
    seed(db, SeedPlan(vehicles=0, tours=2, days=3, start=start, capacity=9))
    rows = db.execute_sql(
        "SELECT min(date), max(date), min(max_capacity), max(available_capacity) "
        "FROM resource_capacity"
    ).fetchone()
    first, last = (d if isinstance(d, date) else date.fromisoformat(d) for d in rows[:2])
    assert (first, last, rows[2], rows[3]) == (start, start + timedelta(days=2), 9, 9)


def test_seed_defaults_capacity_by_type(db):
    seed(db, SeedPlan(vehicles=1, tours=1, guides=1, days=1))
    caps = dict(
        db.execute_sql(
            "SELECT r.type, c.max_capacity FROM resource_capacity c "
            "JOIN resource r ON r.id = c.resource_id"
        ).fetchall()
    )
    assert caps == {"VEHICLE": 6, "TOUR": 12, "GUIDE": 1}


@pytest.mark.parametrize(
    "plan, message",
    [
        (SeedPlan(vehicles=-1), "--vehicles"),
        (SeedPlan(days=0), "--days"),
        (SeedPlan(capacity=-3), "--capacity"),
        (SeedPlan(days=2, start=date.max), "runs past 9999-12-31"),
    ],
)
def test_bad_plans_are_refused_before_touching_data(db, plan, message):
    with pytest.raises(SeedError, match=message):
        seed(db, plan)
    assert _count(db, "SELECT count(*) FROM resource") == 0


def test_progress_reports_chunks(db):
    seen: list[tuple[int, int]] = []
    seed(db, SeedPlan(vehicles=120, days=2), progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (120, 120)
    assert len(seen) == 3


def test_seed_refuses_a_name_an_active_resource_has_in_another_case(db):
    db.execute_sql("INSERT INTO resource (name, type) VALUES ('4wd cruiser 2', 'TOUR')")
    with pytest.raises(SeedError, match=r"already has one of the names .*4WD Cruiser 2"):
        seed(db, SeedPlan(vehicles=2, days=3))
    assert _count(db, "SELECT count(*) FROM resource") == 1  # all or nothing
    assert _count(db, "SELECT count(*) FROM resource_capacity") == 0
