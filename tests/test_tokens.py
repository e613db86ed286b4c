"""Idempotency tokens live in a key space of their own (migration 0004), and racing
holds never report a deadlock.

Before 0004 a range hold with token T stored its later rows as "T@<date>" in the same
unique column clients' tokens went to: a client token of that shape was answered as a
replay of another customer's hold, and racing such pairs deadlocked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import psycopg2
import pytest

from booking_helpers import World, count, make_world, refused, units
from resbook_tui.booking import Booking, Hold
from resbook_tui.db import open_database
from resbook_tui.schema.migrations import Migrator
from resbook_tui.schema.verify import verify

EMAIL = "ana@example.com"
SAFETY_NET_S = 120  # turns a hang into a failure; never a synchronisation device


@pytest.fixture
def w(db) -> World:
    return make_world(db, capacity=5, days=4)


# ---- no cross-talk --------------------------------------------------------------------------


def test_a_token_shaped_like_a_range_row_is_its_own_request(w):
    trip = w.bk.create_holds(w.rid, w.day(0), w.day(2), 1, EMAIL, token="T")
    shaped = f"T@{w.day(1).isoformat()}"
    other = w.bk.create_hold(w.rid, w.day(1), 2, "bob@example.com", token=shaped)
    assert not other.replay and other.id not in {h.id for h in trip}
    assert other.token == shaped and other.customer_email == "bob@example.com"
    assert {h.token for h in trip} == {"T"}
    assert units(w.bk, w.rid, w.day(1)) == (5, 2, 3, 0)
    # Each replays as itself.
    assert [h.id for h in w.bk.create_holds(w.rid, w.day(0), w.day(2), 1, EMAIL, token="T")] == [
        h.id for h in trip
    ]
    assert w.bk.create_hold(w.rid, w.day(1), 2, "bob@example.com", token=shaped).id == other.id


def test_the_shaped_token_first_then_the_range(w):
    shaped = f"T@{w.day(1).isoformat()}"
    other = w.bk.create_hold(w.rid, w.day(1), 2, "bob@example.com", token=shaped)
    trip = w.bk.create_holds(w.rid, w.day(0), w.day(2), 1, EMAIL, token="T")
    assert len(trip) == 3 and not any(h.replay for h in trip)
    assert other.id not in {h.id for h in trip}


def test_a_replay_must_ask_for_exactly_the_same(w):
    w.bk.create_holds(w.rid, w.day(0), w.day(1), 1, EMAIL, token="trip")
    for call in (
        lambda: w.bk.create_holds(w.rid, w.day(0), w.day(2), 1, EMAIL, token="trip"),
        lambda: w.bk.create_holds(w.rid, w.day(1), w.day(1), 1, EMAIL, token="trip"),
        lambda: w.bk.create_holds(w.rid, w.day(0), w.day(1), 2, EMAIL, token="trip"),
        lambda: w.bk.create_holds(w.rid, w.day(0), w.day(1), 1, "bob@x.io", token="trip"),
    ):
        with refused(w.bk, "token_conflict") as info:
            call()
        assert "'trip'" in str(info.value)


def test_row_keys_are_made_up_and_the_request_is_recorded(w):
    trip = w.bk.create_holds(w.rid, w.day(0), w.day(2), 1, EMAIL, token="T")
    keys = w.bk.db.execute_sql("SELECT idempotency_token FROM resource_hold ORDER BY id").fetchall()
    assert len({k for (k,) in keys}) == 3 and ("T",) not in keys
    request = w.bk.db.execute_sql(
        "SELECT token, resource_id, quantity, customer_email FROM hold_request"
    ).fetchall()
    assert request == [("T", w.rid, 1, EMAIL)]
    assert [e.details["token"] for e in w.bk.events(action="hold.create")] == ["T"] * len(trip)


def test_a_refused_hold_leaves_its_token_free_for_a_retry(w):
    # A one-date hold commits its whole message even when refused (PostgreSQL), so the
    # request row it claimed must go again: a retry once room is made is a new hold.
    full = w.bk.create_hold(w.rid, w.day(0), 5, EMAIL)
    with refused(w.bk, "no_capacity"):
        w.bk.create_hold(w.rid, w.day(0), 1, "bob@x.io", token="late")
    assert count(w.bk.db, "SELECT count(*) FROM hold_request WHERE token = 'late'") == 0
    assert units(w.bk, w.rid, w.day(0)) == (5, 0, 5, 0)
    w.bk.release_hold(full.id)
    retried = w.bk.create_hold(w.rid, w.day(0), 1, "bob@x.io", token="late")
    assert not retried.replay and retried.token == "late"
    assert w.bk.create_hold(w.rid, w.day(0), 1, "bob@x.io", token="late").id == retried.id


def test_a_refused_range_keeps_nothing_either(w):
    w.bk.create_hold(w.rid, w.day(1), 5, EMAIL)
    with refused(w.bk, "no_capacity"):
        w.bk.create_holds(w.rid, w.day(0), w.day(2), 1, "bob@x.io", token="trip")
    assert count(w.bk.db, "SELECT count(*) FROM hold_request WHERE token = 'trip'") == 0
    assert units(w.bk, w.rid, w.day(0)) == (5, 5, 0, 0)


def test_a_reason_read_after_the_refusal_says_the_cell_changed(w):
    # The one-date path explains a refusal just after its transaction; if the units came
    # back in between, it says so instead of "5 available, 1 requested".
    from resbook_tui.booking.holds import _refusal
    from resbook_tui.dialects import HoldPlan

    plan = HoldPlan(
        resource_id=w.rid, first=w.day(0), last=w.day(0), quantity=1, email=EMAIL,
        token=None, ttl=30, actor="test", keys=("k",),
    )  # fmt: skip
    error = _refusal(w.bk.ctx, plan, w.day(0), after=True)
    assert error.code == "no_capacity"
    assert "fewer than 1 available" in str(error) and "5 now, freed since" in str(error)
    assert "5 available" in str(_refusal(w.bk.ctx, plan, w.day(0), after=False))


# ---- migration 0004: holds made before keep answering to their tokens ------------------------


def _legacy_world(empty_db) -> tuple[Booking, int, list]:  # noqa: ANN001
    """A version-2 database with holds in the old shape, written as the old code did."""
    Migrator(empty_db).up(target=2)
    p = "%s" if Migrator(empty_db).dialect == "postgresql" else "?"
    db = empty_db
    db.execute_sql("INSERT INTO resource (name, type) VALUES ('Cruiser', 'VEHICLE')")
    rid = db.execute_sql("SELECT id FROM resource").fetchone()[0]
    today = db.execute_sql("SELECT CURRENT_DATE" if p == "%s" else "SELECT date('now')").fetchone()[
        0
    ]
    from datetime import date as _date

    first = (_date.fromisoformat(today) if isinstance(today, str) else today) + timedelta(1)
    days = [first + timedelta(n) for n in range(3)]
    for day in days:
        db.execute_sql(
            f"INSERT INTO resource_capacity (resource_id, date, max_capacity, "
            f"available_capacity) VALUES ({p}, {p}, 5, 5)",
            (rid, day),
        )
    expires = (
        "now() + interval '30 minutes'"
        if p == "%s"
        else ("strftime('%Y-%m-%d %H:%M:%f', 'now', '+30 minutes')")
    )
    rows = [
        (days[0], 1, EMAIL, "T"),  # a range with token T...
        (days[1], 1, EMAIL, f"T@{days[1].isoformat()}"),
        (days[2], 1, EMAIL, f"T@{days[2].isoformat()}"),
        (days[0], 2, EMAIL, "0123456789abcdef0123456789abcdef"),  # a hold without a token
        (days[1], 1, "bob@x.io", f"X@{days[1].isoformat()}"),  # shaped, but no "X" request
    ]
    for day, quantity, email, token in rows:
        db.execute_sql(
            f"INSERT INTO resource_hold (resource_id, date, quantity, customer_email, "
            f"idempotency_token, status, expires_at) VALUES ({p}, {p}, {p}, {p}, {p}, "
            f"'ACTIVE', {expires})",
            (rid, day, quantity, email, token),
        )
        db.execute_sql(
            f"UPDATE resource_capacity SET available_capacity = available_capacity - {p} "
            f"WHERE resource_id = {p} AND date = {p}",
            (quantity, rid, day),
        )
    Migrator(db).up()
    return Booking(db, actor="test"), rid, days


def test_migration_0004_keeps_old_holds_replayable(empty_db):
    bk, rid, days = _legacy_world(empty_db)
    assert verify(empty_db).ok
    trip = bk.create_holds(rid, days[0], days[2], 1, EMAIL, token="T")
    assert all(h.replay for h in trip) and [h.date for h in trip] == days
    assert {h.token for h in trip} == {"T"}
    untokened = bk.create_hold(rid, days[0], 2, EMAIL, token="0123456789abcdef0123456789abcdef")
    assert untokened.replay
    shaped = bk.create_hold(rid, days[1], 1, "bob@x.io", token=f"X@{days[1].isoformat()}")
    assert shaped.replay and shaped.customer_email == "bob@x.io"
    # The old row key "T@<day 1>" is no client's token any more: that token is new.
    fresh = bk.create_hold(rid, days[1], 1, "eve@x.io", token=f"T@{days[1].isoformat()}")
    assert not fresh.replay and fresh.id not in {h.id for h in trip}
    assert units(bk, rid, days[0]) == (5, 2, 3, 0)
    assert units(bk, rid, days[1]) == (5, 2, 3, 0)


def test_migration_0004_down_and_up_round_trip(db):
    w = make_world(db, capacity=5, days=3)
    trip = w.bk.create_holds(w.rid, w.day(0), w.day(2), 1, EMAIL, token="T")
    single = w.bk.create_hold(w.rid, w.day(1), 1, EMAIL, token="cart-1")
    migrator = Migrator(db)
    assert migrator.plan_down(3).losses == []  # the tokens go back into the old column
    migrator.down(to=3)
    keys = [k for (k,) in db.execute_sql("SELECT idempotency_token FROM resource_hold ORDER BY id")]
    assert keys == ["T", f"T@{w.day(1)}", f"T@{w.day(2)}", "cart-1"]
    migrator.up()
    assert verify(db).ok
    again = Booking(db, actor="test")
    assert [h.id for h in again.create_holds(w.rid, w.day(0), w.day(2), 1, EMAIL, token="T")] == [
        h.id for h in trip
    ]
    assert again.create_hold(w.rid, w.day(1), 1, EMAIL, token="cart-1").id == single.id


# ---- deadlocks ------------------------------------------------------------------------------


def _wait_until(db, sql: str, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + SAFETY_NET_S
    while db.execute_sql(sql).fetchone() is None:
        assert time.monotonic() < deadline, f"never saw: {what}"


@pytest.mark.postgres
def test_a_detected_deadlock_is_retried_transparently(pg_url, pg_db, monkeypatch):
    """Another session locks day 1 and then day 0 while a range hold has day 0 and waits
    for day 1. The server breaks the deadlock by rolling the range hold back (the other
    session waits much longer before it looks); the hold is run again and succeeds. The
    other session's lock on day 0 is granted only if the hold's first try was rolled
    back, so the test cannot pass without a deadlock and its retry."""
    monkeypatch.setenv("RESBOOK_LOCK_TIMEOUT_MS", str(SAFETY_NET_S * 1000))
    monkeypatch.setenv("PGOPTIONS", "-c deadlock_timeout=2s")  # time for the cycle to form
    w = make_world(pg_db, capacity=5, days=2)
    other = psycopg2.connect(pg_url)
    cur = other.cursor()
    cur.execute("SET deadlock_timeout = '60s'")  # so the hold's backend is the one to look
    cur.execute(
        "SELECT 1 FROM resource_capacity WHERE resource_id = %s AND date = %s FOR UPDATE",
        (w.rid, w.day(1)),
    )
    outcome: dict[str, Any] = {}

    def hold_range() -> None:
        bk = Booking.connect(pg_url, actor="range")
        try:
            outcome["holds"] = bk.create_holds(w.rid, w.day(0), w.day(1), 1, EMAIL)
        except Exception as exc:  # recorded and asserted below
            outcome["holds"] = exc

    def lock_day_0() -> None:
        cur.execute(
            "SELECT 1 FROM resource_capacity WHERE resource_id = %s AND date = %s FOR UPDATE",
            (w.rid, w.day(0)),
        )

    ranger = threading.Thread(target=hold_range)
    ranger.start()
    waiting = (
        "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND application_name = 'resbook'"
    )
    _wait_until(pg_db, waiting, "the range hold waiting for day 1")
    locker = threading.Thread(target=lock_day_0)
    locker.start()
    locker.join(SAFETY_NET_S)  # granted only once the range hold was rolled back
    assert not locker.is_alive()
    other.commit()
    ranger.join(SAFETY_NET_S)
    other.close()
    assert isinstance(outcome["holds"], list), outcome["holds"]
    assert [h.date for h in outcome["holds"]] == [w.day(0), w.day(1)]
    assert units(w.bk, w.rid, w.day(0)) == (5, 4, 1, 0)


PAIRS = 24  # 48 racing processes


@pytest.mark.postgres
def test_48_processes_racing_ranges_and_range_shaped_tokens(pg_url, pg_db):
    """24 range holds with token T<i> and 24 single holds with token T<i>@<day 1>, each a
    real `resbook` process, released at once onto the same cells. No database error (exit
    3) or busy (exit 4), no cross-talk, and max = available + held + allocated everywhere."""
    w = make_world(pg_db, capacity=30, days=3)
    day1 = w.day(1).isoformat()
    holder = psycopg2.connect(pg_url)
    hcur = holder.cursor()
    hcur.execute(
        "SELECT 1 FROM resource_capacity WHERE resource_id = %s ORDER BY date FOR UPDATE",
        (w.rid,),
    )
    env = {**os.environ, "RESBOOK_LOCK_TIMEOUT_MS": str(SAFETY_NET_S * 1000)}
    procs: list[tuple[str, int, subprocess.Popen]] = []
    try:
        for i in range(PAIRS):
            for kind, args in (
                (
                    "range",
                    [
                        w.day(0).isoformat(),
                        "--to",
                        w.day(2).isoformat(),
                        "--token",
                        f"T{i}",
                        "--email",
                        f"a{i}@x.io",
                    ],
                ),
                ("single", [day1, "--token", f"T{i}@{day1}", "--email", f"b{i}@x.io"]),
            ):
                procs.append(
                    (
                        kind,
                        i,
                        subprocess.Popen(
                            [
                                sys.executable,
                                "-m",
                                "resbook_tui",
                                "--db",
                                pg_url,
                                "holds",
                                "create",
                                str(w.rid),
                                *args,
                                "-q",
                                "1",
                                "--json",
                            ],
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            text=True,
                            env=env,
                        ),
                    )
                )
        _wait_until(
            pg_db,
            "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'resbook' AND wait_event_type = 'Lock' "
            f"HAVING count(*) >= {2 * PAIRS}",
            "every racer waiting on the locked cells",
        )
    finally:
        holder.rollback()  # the start signal
        holder.close()
    exits: Counter = Counter()
    won: dict[str, list] = {"range": [], "single": []}
    import json

    for kind, i, proc in procs:
        out, err = proc.communicate(timeout=SAFETY_NET_S)
        exits[proc.returncode] += 1
        assert proc.returncode in (0, 1), (kind, i, proc.returncode, err)
        assert "Traceback" not in err
        if proc.returncode == 0:
            result = json.loads(out)
            holds = result if isinstance(result, list) else [result]
            assert not any(h["replay"] for h in holds), (kind, i)
            assert {h["token"] for h in holds} == {f"T{i}" if kind == "range" else f"T{i}@{day1}"}
            won[kind].append(holds)
        else:
            assert "no_capacity" in out, (kind, i, out)
    assert exits[0] > 0 and exits[1] > 0  # a real race: 48 asked for 30 units on day 1
    assert all(len(h) == 3 for h in won["range"])
    cells = w.bk.availability(w.day(0), w.day(2))
    for c in cells:
        assert c.max_capacity == c.available + c.held + c.allocated, c
    day1_taken = len(won["range"]) + len(won["single"])
    assert units(w.bk, w.rid, w.day(1))[2] == day1_taken <= 30
    assert count(pg_db, "SELECT count(*) FROM resource_hold") == 3 * len(won["range"]) + len(
        won["single"]
    )


def test_holds_racing_on_sqlite_wait_their_turn(sqlite_url):
    """SQLite has one writer at a time (BEGIN IMMEDIATE): threads take turns, none fails."""
    db = open_database(sqlite_url)
    Migrator(db).up()
    w = make_world(db, capacity=6, days=2)
    results: list[Any] = []
    barrier = threading.Barrier(8, timeout=SAFETY_NET_S)

    def work(i: int) -> None:
        bk = Booking.connect(sqlite_url, actor=f"w{i}")
        barrier.wait()
        try:
            results.append(bk.create_holds(w.rid, w.day(0), w.day(1), 1, EMAIL, token=f"s{i}"))
        except Exception as exc:  # recorded and asserted below
            results.append(getattr(exc, "code", exc))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(SAFETY_NET_S)
    assert Counter(type(r).__name__ if isinstance(r, list) else r for r in results) == {
        "list": 6,
        "no_capacity": 2,
    }
    assert all(isinstance(h, Hold) for r in results if isinstance(r, list) for h in r)
