"""A stuck lock is "busy, try again" (exit 4), never a hang; the sweep goes round it; a
running statement can be cancelled from another thread.

The lock is held by a real second connection in an open transaction; commands run as
real processes. The time limits below are the promise being tested (a hold refused
within 15 s, a sweep done within 30 s), not synchronisation: nothing waits on a clock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest

from booking_helpers import World, expire, make_world, state, units
from resbook_tui.booking import Booking, BookingError
from resbook_tui.db import cancel_statements, database_errors, open_database
from resbook_tui.errors import EXIT_BUSY, DatabaseError

EMAIL = "ana@example.com"
SAFETY_NET_S = 60  # turns a hang into a failure; never a synchronisation device


def resbook(url: str, *args: str, timeout: float, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "resbook_tui", "--db", url, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def plain_url(url: str) -> str:
    """The test URL for psycopg2 itself (it takes the same libpq URL)."""
    return url


@pytest.fixture
def w(pg_db) -> World:
    return make_world(pg_db, capacity=5, days=3)


@pytest.fixture
def locked_cell(pg_url, w) -> Iterator[Any]:
    """Another session holding the capacity row of (w.rid, day 0) in an open transaction."""
    conn = psycopg2.connect(plain_url(pg_url))
    with conn.cursor() as cur:
        cur.execute(
            "SELECT id FROM resource_capacity WHERE resource_id = %s AND date = %s FOR UPDATE",
            (w.rid, w.day(0)),
        )
        assert cur.fetchone() is not None
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


def _one_line(text: str) -> str:
    assert text.count("\n") == 1 and "Traceback" not in text, text
    return text


# ---- a locked cell ------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_hold_on_a_locked_cell_is_busy_within_15_seconds(pg_url, w, locked_cell):
    before = state(w.bk.db)
    result = resbook(
        pg_url,
        "holds",
        "create",
        str(w.rid),
        w.day(0).isoformat(),
        "-q",
        "1",
        "--email",
        EMAIL,
        timeout=15,
    )
    assert result.returncode == EXIT_BUSY, result.stderr
    assert "busy" in _one_line(result.stderr) and "try again" in result.stderr
    assert state(w.bk.db) == before
    as_json = resbook(
        pg_url,
        "holds",
        "create",
        str(w.rid),
        w.day(0).isoformat(),
        "-q",
        "1",
        "--email",
        EMAIL,
        "--json",
        timeout=15,
    )
    assert as_json.returncode == EXIT_BUSY and '"error": "busy"' in as_json.stdout


@pytest.mark.postgres
def test_capacity_set_on_a_locked_cell_is_busy_within_15_seconds(pg_url, w, locked_cell):
    day = w.day(0).isoformat()
    result = resbook(
        pg_url,
        "capacity",
        "set",
        str(w.rid),
        "--from",
        day,
        "--to",
        day,
        "--max",
        "9",
        timeout=15,
    )
    assert result.returncode == EXIT_BUSY and "busy" in _one_line(result.stderr)
    assert units(w.bk, w.rid, w.day(0)) == (5, 5, 0, 0)


@pytest.mark.postgres
def test_info_with_the_migrations_table_locked_is_busy_not_unreachable(pg_url, w):
    """``info`` reports the problem, and exits 4 as every command does for a lock held
    past lock_timeout (it said 3, the database unreachable, which it was not)."""
    conn = psycopg2.connect(plain_url(pg_url))
    try:
        with conn.cursor() as cur:
            cur.execute("LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE")
        fast = {"RESBOOK_LOCK_TIMEOUT_MS": "300"}
        shown = resbook(pg_url, "info", "--json", timeout=SAFETY_NET_S, env=fast)
    finally:
        conn.rollback()
        conn.close()
    assert shown.returncode == EXIT_BUSY, shown.stderr
    report = json.loads(shown.stdout)
    assert report["reachable"] is True and report["error"].startswith("busy")
    assert resbook(pg_url, "info", timeout=SAFETY_NET_S).returncode == 0


@pytest.mark.postgres
def test_the_python_api_says_busy_and_other_cells_still_work(w, locked_cell):
    with pytest.raises(BookingError) as info:
        w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)
    assert info.value.code == "busy" and info.value.exit_code == EXIT_BUSY
    assert w.bk.create_hold(w.rid, w.day(1), 1, EMAIL).status == "ACTIVE"


@pytest.mark.postgres
def test_a_statement_timeout_is_busy_too(pg_url, w, locked_cell):
    result = resbook(
        pg_url,
        "holds",
        "create",
        str(w.rid),
        w.day(0).isoformat(),
        "-q",
        "1",
        "--email",
        EMAIL,
        timeout=15,
        env={"RESBOOK_LOCK_TIMEOUT_MS": "0", "RESBOOK_STATEMENT_TIMEOUT_MS": "500"},
    )
    assert result.returncode == EXIT_BUSY and "statement_timeout" in _one_line(result.stderr)


@pytest.mark.postgres
def test_the_sweep_leaves_a_locked_cell_for_later_and_finishes_the_rest(pg_url, w):
    stuck = w.bk.create_hold(w.rid, w.day(0), 2, EMAIL)
    free = w.bk.create_hold(w.rid, w.day(1), 3, EMAIL)
    expire(w.bk, stuck.id, free.id)
    conn = psycopg2.connect(plain_url(pg_url))
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT 1 FROM resource_capacity WHERE resource_id = %s AND date = %s FOR UPDATE",
                (w.rid, w.day(0)),
            )
        result = resbook(pg_url, "sweep", "--verbose", timeout=30)
        assert result.returncode == 0, result.stderr
        assert "Expired 1 hold(s), returning 3 unit(s)" in result.stdout
        assert "Left 1 due hold(s)" in result.stdout
        assert w.bk.get_hold(stuck.id).status == "ACTIVE"
        assert w.bk.get_hold(free.id).status == "EXPIRED"
        assert units(w.bk, w.rid, w.day(1)) == (5, 5, 0, 0)
    finally:
        conn.rollback()
        conn.close()
    later = w.bk.sweep()
    assert (later.expired_holds, later.returned_units, later.skipped) == (1, 2, 0)
    assert units(w.bk, w.rid, w.day(0)) == (5, 5, 0, 0)


@pytest.mark.postgres
def test_a_sweep_skips_a_hold_another_session_has_locked(pg_url, w):
    hold = w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)
    expire(w.bk, hold.id)
    conn = psycopg2.connect(plain_url(pg_url))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM resource_hold WHERE id = %s FOR UPDATE", (hold.id,))
        result = w.bk.sweep()
        assert (result.expired_holds, result.skipped) == (0, 0)  # not even seen
        assert w.bk.get_hold(hold.id).status == "ACTIVE"
    finally:
        conn.rollback()
        conn.close()
    assert w.bk.sweep().expired_holds == 1


# ---- cancelling from another thread -------------------------------------------------------


def _wait_for(db, sql: str, params: tuple, what: str) -> None:  # noqa: ANN001
    """Poll the server until ``sql`` returns a row: a condition, not a clock."""
    deadline = time.monotonic() + SAFETY_NET_S
    while db.execute_sql(sql, params).fetchone() is None:
        assert time.monotonic() < deadline, f"never saw: {what}"


@pytest.mark.postgres
@pytest.mark.parametrize("by_thread", [False, True])
def test_a_statement_stuck_on_a_lock_is_cancelled_from_another_thread(
    pg_url, w, locked_cell, monkeypatch, by_thread
):
    monkeypatch.setenv("RESBOOK_LOCK_TIMEOUT_MS", "0")  # it would wait for ever
    bk = Booking.connect(pg_url, actor="stuck")
    outcome: dict[str, Any] = {}

    def work() -> None:
        outcome["thread"] = threading.get_ident()
        try:
            outcome["result"] = bk.create_hold(w.rid, w.day(0), 1, EMAIL)
        except Exception as exc:  # recorded and asserted below
            outcome["result"] = exc

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    _wait_for(
        w.bk.db,
        "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND application_name = 'resbook'",
        (),
        "the hold waiting for the locked cell",
    )
    asked = bk.cancel_running(outcome["thread"] if by_thread else None)
    worker.join(SAFETY_NET_S)
    assert not worker.is_alive() and asked >= 1
    assert isinstance(outcome["result"], DatabaseError), outcome["result"]
    assert "cancelled" in str(outcome["result"])
    assert units(w.bk, w.rid, w.day(0)) == (5, 5, 0, 0)
    assert bk.create_hold(w.rid, w.day(1), 1, EMAIL).status == "ACTIVE"  # usable again


def test_a_long_sqlite_statement_is_interrupted_from_another_thread(sqlite_url):
    db = open_database(sqlite_url)
    started = threading.Event()

    @db.func("mark_started")
    def mark_started() -> int:
        started.set()
        return 1

    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            with database_errors(db):
                db.execute_sql(
                    "WITH RECURSIVE n(x) AS (SELECT mark_started() UNION ALL "
                    "SELECT x + 1 FROM n) SELECT count(*) FROM n"
                ).fetchone()
        except Exception as exc:  # recorded and asserted below
            outcome["error"] = exc

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    assert started.wait(SAFETY_NET_S)
    assert cancel_statements(db) >= 1
    worker.join(SAFETY_NET_S)
    assert not worker.is_alive()
    assert isinstance(outcome["error"], DatabaseError) and "cancelled" in str(outcome["error"])


def test_cancelling_with_nothing_running_is_harmless(db):
    bk = Booking(db)
    assert bk.cancel_running(thread_id=-1) == 0
    bk.cancel_running()
    assert bk.list_resources() == []


def test_open_database_keeps_connections_of_other_threads_cancellable(db_url):
    db = open_database(db_url)
    seen: list[int] = []

    def connect() -> None:
        db.connect(reuse_if_open=True)
        seen.append(threading.get_ident())

    thread = threading.Thread(target=connect)
    thread.start()
    thread.join()
    assert seen[0] in db.resbook_connections.threads()
    # Idle on PostgreSQL: nothing to cancel, and no cancel request is sent (a cancel
    # request is a connection of its own). SQLite's interrupt is free either way.
    expected = 1 if db_url.startswith("sqlite") else 0
    assert cancel_statements(db, seen[0]) == expected


def test_a_sqlite_writer_held_past_the_busy_timeout_is_busy(sqlite_url, monkeypatch):
    """SQLite's own lock wait (busy_timeout) ends in the same "busy, try again" refusal."""
    import sqlite3

    import resbook_tui.dialects.sqlite as sqlite_dialect
    from resbook_tui.schema.migrations import Migrator

    setup = open_database(sqlite_url)
    Migrator(setup).up()
    w = make_world(setup)
    monkeypatch.setattr(sqlite_dialect, "BUSY_TIMEOUT_S", 0.2)
    bk = Booking.connect(sqlite_url)
    locker = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(BookingError) as info:
            bk.create_hold(w.rid, w.day(0), 1, EMAIL)
        assert info.value.code == "busy" and info.value.exit_code == EXIT_BUSY
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert bk.create_hold(w.rid, w.day(0), 1, EMAIL).status == "ACTIVE"
