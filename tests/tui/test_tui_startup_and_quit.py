"""The TUI opens on a PostgreSQL server it cannot reach (and connects when it can), and `q`
quits at once even while a statement waits on a lock: the statement is cancelled on the
server instead of holding the exit up.

Waits are on app or server state, each bounded by a deadline (``until``): never a sleep.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg2
import pytest
from test_live import until
from test_live_outcomes import Proxy, open_queue, through
from tui_helpers import asynctest

from resbook_tui.booking import Booking
from resbook_tui.errors import DatabaseError
from resbook_tui.seed import SeedPlan, seed
from resbook_tui.tui import ResbookApp
from resbook_tui.tui.startup import open_for_tui

SIZE = (80, 24)


@pytest.mark.postgres
@asynctest
async def test_opens_on_an_unreachable_server_and_connects_when_it_is_back(pg_db, pg_url):
    seed(pg_db, SeedPlan(vehicles=2, days=5, capacity=5))
    direct = Booking.connect(pg_url, actor="shop")
    today = direct.today()
    hold = direct.create_hold(1, today, 1, "early@example.com")
    parts = urlsplit(pg_url)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    proxy.cut()  # the server is unreachable when the TUI starts
    bk = open_for_tui(through(pg_url, proxy))
    app = ResbookApp(bk, today=today)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.link == "disconnected", "unreachable at start")
            await pilot.press("3")
            proxy.restore()
            app.retry_now()
            await until(pilot, lambda: app.link == "connected", "connected once it is back")
            await open_queue(pilot)
            await until(
                pilot,
                lambda: str(hold.id) in app.screen.query_one("#holds").keys,
                "data shown after connecting",
            )
    finally:
        proxy.close()
        bk.close()
        direct.close()


def test_other_problems_are_refused_before_the_screen_opens(sqlite_url, pg_url):
    with pytest.raises(DatabaseError, match="does not exist|no resbook database"):
        open_for_tui(sqlite_url)  # no such SQLite file: nothing to retry
    with pytest.raises(DatabaseError, match="no resbook schema"):
        open_for_tui(pg_url)  # reachable but never migrated


def _waiting_on_a_lock(admin, application: str) -> bool:  # noqa: ANN001
    with admin.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND application_name = %s",
            (application,),
        )
        return cur.fetchone()[0] > 0


@pytest.mark.postgres
@asynctest
async def test_q_quits_while_a_change_waits_on_a_lock(pg_db, pg_url, monkeypatch):
    monkeypatch.setenv("RESBOOK_LOCK_TIMEOUT_MS", "600000")  # no timeout to rescue it
    seed(pg_db, SeedPlan(vehicles=1, days=3, capacity=5))
    bk = Booking.connect(pg_url, actor="dispatch")
    today = bk.today()
    hold = bk.create_hold(1, today, 1, "stuck@example.com")
    locker = psycopg2.connect(pg_url)
    admin = psycopg2.connect(pg_url)
    admin.autocommit = True
    app = ResbookApp(bk, today=today)
    try:
        with locker.cursor() as cur:  # another desk holds the hold's row in a transaction
            cur.execute("SELECT id FROM resource_hold WHERE id = %s FOR UPDATE", (hold.id,))
        async with app.run_test(size=SIZE) as pilot:
            await open_queue(pilot)
            await pilot.press("x", "y")  # the release now waits on that lock
            await until(
                pilot, lambda: _waiting_on_a_lock(admin, "resbook"), "release waiting on the lock"
            )
            await pilot.press("q")
            # The statement was cancelled on the server while the lock is still held.
            await until(
                pilot, lambda: not _waiting_on_a_lock(admin, "resbook"), "stuck statement gone"
            )
        assert app.return_code in (0, None)
        locker.rollback()
        assert bk.get_hold(hold.id).status == "ACTIVE"  # cancelled: nothing changed
    finally:
        locker.close()
        admin.close()
        bk.close()
