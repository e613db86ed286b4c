"""The change feed: other connections' commits are heard (read from the audit trail), named
hold by hold, summarised for sweeps, and late commits below a newer id are not lost."""

from datetime import timedelta

import pytest

from resbook_tui.booking import Booking, BookingError, changes
from resbook_tui.booking.changes import Change, ChangeFeed
from resbook_tui.db import open_database
from resbook_tui.models import BookingEvent
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
        # Both dialects name the hold, its resource and its date.
        [change] = changes
        assert (change.action, change.entity, change.entity_id) == ("hold.create", "hold", hold.id)
        assert change.resource_ids == (1,) and change.date_from == hold.date
        assert not change.everything
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


def test_a_big_sweep_is_a_few_summarised_changes(pg_db, pg_url):
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
        # One summary per poll that found a batch (the two batches may land in one poll),
        # never one change per hold.
        assert result.batches == 2 and 1 <= len(changes) <= 2
        assert all(c.action == "hold.expire" and c.entity_id is None for c in changes)
        assert sum(c.raw["count"] for c in changes) == 10_000
        assert set(changes[0].resource_ids) == set(range(1, 11))
        assert changes[0].date_from == today and changes[-1].date_to == today + timedelta(9)
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
        [change] = feed.wait(2)
        assert (change.action, change.entity) == ("resource.add", "resource")
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


def _open_event(pg_url: str, resource_id: int):
    """A psycopg2 connection holding an uncommitted event (its id drawn, not yet visible)."""
    import psycopg2

    conn = psycopg2.connect(pg_url)
    cur = conn.cursor()
    cur.execute(
        "INSERT INTO booking_event (actor, action, entity, entity_id, resource_id) "
        "VALUES ('slow', 'resource.edit', 'resource', %s, %s) RETURNING id",
        (resource_id, resource_id),
    )
    return conn, cur.fetchone()[0]


def test_an_event_committed_after_a_newer_one_is_still_heard(pg_db, pg_url):
    """PostgreSQL draws an event's id at insert, so a lower id can commit after a higher
    one the feed has read: the feed looks for the missing id again until it shows."""
    seed(pg_db, SeedPlan(vehicles=2, days=3))
    feed = ChangeFeed(pg_url)
    slow, slow_id = _open_event(pg_url, 2)
    try:
        other = Booking.connect(pg_url)
        hold = other.create_hold(1, other.today(), 1, "a@x.io")
        heard = _drain(feed, rounds=2)
        assert [c.entity_id for c in heard] == [hold.id]
        assert heard[0].event_id > slow_id
        slow.commit()
        [late] = feed.wait(5)
        assert (late.event_id, late.action, late.resource_ids) == (slow_id, "resource.edit", (2,))
        assert _drain(feed, rounds=2) == []  # heard once
    finally:
        slow.close()
        feed.close()


def test_a_rolled_back_id_is_given_up_after_a_while(pg_db, pg_url):
    seed(pg_db, SeedPlan(vehicles=2, days=3))
    now = [0.0]
    feed = ChangeFeed(pg_url, clock=lambda: now[0])
    slow, _slow_id = _open_event(pg_url, 2)
    try:
        other = Booking.connect(pg_url)
        other.create_hold(1, other.today(), 1, "a@x.io")
        assert len(_drain(feed, rounds=2)) == 1
        assert feed.holes == 1
        slow.rollback()
        now[0] = changes.HOLE_TTL_S + 1
        assert feed.poll() == [] and feed.holes == 0
    finally:
        slow.close()
        feed.close()


def test_a_burst_is_summarised_and_a_huge_one_is_everything(db_url, db, monkeypatch):
    seed(db, SeedPlan(vehicles=3, days=5, capacity=50))
    monkeypatch.setattr(changes, "NAMED_MAX", 4)
    feed = ChangeFeed(db_url)
    try:
        other = Booking.connect(db_url)
        today = other.today()
        made = [
            other.create_hold(1 + n % 3, today + timedelta(n % 2), 1, "a@x.io") for n in range(4)
        ]
        assert sorted(c.entity_id for c in _drain(feed, rounds=2)) == [h.id for h in made]
        for n in range(6):
            other.create_hold(1 + n % 2, today + timedelta(1 + n % 3), 1, "b@x.io")
        [burst] = _drain(feed, rounds=2)
        assert (burst.action, burst.entity, burst.entity_id) == ("hold.create", "hold", None)
        assert burst.raw["count"] == 6 and burst.resource_ids == (1, 2)
        assert (burst.date_from, burst.date_to) == (today + timedelta(1), today + timedelta(3))
        assert not burst.everything
        monkeypatch.setattr(changes, "SUMMARY_MAX", 5)
        for _ in range(6):
            other.create_hold(3, today, 1, "c@x.io")
        [huge] = _drain(feed, rounds=2)
        assert huge.everything
        assert _drain(feed, rounds=2) == []
    finally:
        feed.close()


def test_events_deleted_from_the_top_mean_everything(db_url, db):
    seed(db, SeedPlan(vehicles=1, days=3))
    other = Booking.connect(db_url)
    other.create_hold(1, other.today(), 1, "a@x.io")
    feed = ChangeFeed(db_url)
    try:
        BookingEvent.delete().where(BookingEvent.id > 1).execute(db)
        [change] = feed.wait(5)
        assert change.everything
        hold = other.create_hold(1, other.today(), 1, "b@x.io")
        assert [c.entity_id for c in _drain(feed, rounds=2)] == [hold.id]
    finally:
        feed.close()


def test_a_listener_loop_probes_once_per_poll_interval(sqlite_url, monkeypatch):
    """Back-to-back short waits (the TUI listener's loop) keep probes POLL_S apart: each
    wait used to probe at its start, right after the probe that ended the wait before."""
    from types import SimpleNamespace

    from resbook_tui.schema.migrations import Migrator

    Migrator(open_database(sqlite_url)).up()
    now = [1000.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    monkeypatch.setattr(changes, "time", SimpleNamespace(monotonic=lambda: now[0], sleep=sleep))
    feed = ChangeFeed(sqlite_url)
    probes = 0
    polled = feed.poll

    def counted() -> list[Change]:
        nonlocal probes
        probes += 1
        return polled()

    monkeypatch.setattr(feed, "poll", counted)
    try:
        began = now[0]
        while now[0] - began < 10:
            assert feed.wait(0.25) == []
        # One probe every POLL_S (0.2 s): 50 in 10 s (it was 3 per 0.25 s wait: 120).
        assert abs(probes - 10 / changes.POLL_S) <= 1
    finally:
        feed.close()
