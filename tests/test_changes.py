"""The change feed: other connections' commits are heard, coalesced for sweeps."""

from datetime import timedelta

import pytest

from resbook_tui.booking import Booking, BookingError
from resbook_tui.booking.changes import Change, ChangeFeed
from resbook_tui.db import POSTGRESQL, dialect, open_database
from resbook_tui.seed import SeedPlan, seed


def _drain(feed: ChangeFeed, rounds: int = 3) -> list[Change]:
    """Everything the feed has; stops after a quiet wait so nothing pending is missed."""
    out: list[Change] = []
    quiet = 0
    while quiet < rounds:
        got = feed.wait(0.3)
        out += got
        quiet = 0 if got else quiet + 1
    return out


def test_feed_hears_a_commit_from_another_connection(db_url, db):
    seed(db, SeedPlan(vehicles=1, days=3))
    feed = ChangeFeed(db_url)
    try:
        assert feed.wait(0.1) == []
        other = Booking.connect(db_url, actor="other")
        hold = other.create_hold(1, other.today(), 1, "a@x.io")
        changes = feed.wait(5)
        assert changes, "no change heard within 5 s"
        if dialect(feed.db) == POSTGRESQL:
            [change] = changes
            assert (change.action, change.entity, change.entity_id) == (
                "hold.create",
                "hold",
                hold.id,
            )
            assert change.resource_ids == (1,) and change.date_from == hold.date
        else:
            assert changes[0].everything
    finally:
        feed.close()


def test_rolled_back_work_is_not_announced(pg_db, pg_url):
    seed(pg_db, SeedPlan(vehicles=1, days=3))
    feed = ChangeFeed(pg_url)
    try:
        other = Booking.connect(pg_url)
        with pytest.raises(BookingError, match="available"):
            other.create_hold(1, other.today(), 99, "a@x.io")
        assert _drain(feed, rounds=2) == []
    finally:
        feed.close()


def test_a_big_sweep_is_a_few_notifications(pg_db, pg_url):
    seed(pg_db, SeedPlan(vehicles=10, days=10, capacity=1000))
    bk = Booking(pg_db)
    today = bk.today()
    pg_db.execute_sql(
        "INSERT INTO resource_hold (resource_id, date, quantity, customer_email, "
        "idempotency_token, status, expires_at) "
        "SELECT 1 + mod(n, 10), %s::date + mod(n / 10, 10), 1, 'x@y.io', 'tok-' || n, 'ACTIVE', "
        "now() - interval '1 minute' FROM generate_series(0, 9999) n",
        (today,),
    )
    pg_db.execute_sql(
        "UPDATE resource_capacity c SET available_capacity = max_capacity - (SELECT count(*) "
        "FROM resource_hold h WHERE h.resource_id = c.resource_id AND h.date = c.date)"
    )
    feed = ChangeFeed(pg_url)
    try:
        result = Booking.connect(pg_url).sweep(batch_size=5000)
        assert result.expired_holds == 10_000
        changes = _drain(feed)
        assert len(changes) == result.batches == 2
        assert all(c.action == "hold.expire" for c in changes)
        assert sum(c.raw["count"] for c in changes) == 10_000
        assert set(changes[0].resource_ids) == set(range(1, 11))
    finally:
        feed.close()
    cells = bk.availability(today, today + timedelta(days=9))
    assert all(c.available == c.max_capacity and c.held == 0 for c in cells)


def test_sqlite_feed_ignores_its_own_reads(sqlite_url):
    db = open_database(sqlite_url)
    from resbook_tui.schema.migrations import Migrator

    Migrator(db).up()
    feed = ChangeFeed(sqlite_url)
    try:
        Booking(db).list_resources()
        assert feed.wait(0.6) == []
        Booking(db).add_resource("Bus", "VEHICLE")
        assert feed.wait(2)[0].everything
    finally:
        feed.close()


def test_a_lost_feed_connection_is_one_line_database_error(pg_db, pg_url):
    from resbook_tui.errors import DatabaseError

    feed = ChangeFeed(pg_url)
    try:
        pid = feed.db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
        pg_db.execute_sql("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(DatabaseError, match="change feed lost on postgresql://") as caught:
            for _ in range(50):  # the termination reaches the socket at once; bounded anyway
                feed.wait(0.2)
        assert "\n" not in str(caught.value)
    finally:
        feed.close()


def test_booking_names_its_actor(db):
    assert Booking(db, actor="dispatch-7").actor == "dispatch-7"
