"""Live TUI: two operators' screens follow a third connection's commits, a big sweep is a
couple of summarised changes (not one per hold), and a lost database is ridden out without
losing anything.

Every wait here is on app state, bounded by a deadline (``until``): never a sleep.
Latencies are printed (run with -s), not asserted tightly: the requirement is 1 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg2
import pytest
from textual.pilot import Pilot
from tui_helpers import asynctest, column, footer_keys, record_notifications, settle

from resbook_tui.booking import Booking
from resbook_tui.db import open_database
from resbook_tui.schema.migrations import Migrator
from resbook_tui.seed import SeedPlan, seed
from resbook_tui.tui import ResbookApp
from resbook_tui.tui.widgets.columns import Tag
from resbook_tui.tui.widgets.heatmap_grid import HeatmapGrid
from resbook_tui.tui.widgets.keyed_table import KeyedTable
from resbook_tui.tui.widgets.status_bar import StatusBar

SIZE = (120, 36)
DEADLINE_S = 5.0  # a generous bound for a slow CI machine; typical latencies are printed
LATENCIES: dict[str, list[float]] = {}


async def until(pilot: Pilot, condition: Callable[[], bool], what: str) -> float:
    """Poll the apps (they share the event loop) until ``condition``; seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > DEADLINE_S:
            raise AssertionError(f"not within {DEADLINE_S} s: {what}")
        await pilot.pause(0.02)
    took = time.monotonic() - started
    LATENCIES.setdefault(what, []).append(took)
    print(f"  {what}: {took * 1000:.0f} ms")
    return took


def statuses(app: ResbookApp) -> dict[int, str]:
    """Hold id -> status as the hold table on screen shows it."""
    ids = column(app, "#holds", "id")
    return {int(i): status for i, status in zip(ids, column(app, "#holds", "status"), strict=True)}


def cell_matches(grid: HeatmapGrid, bk: Booking, resource_id: int, day) -> bool:
    shown = grid.cell(resource_id, day)
    [actual] = bk.availability(day, day, resource_id=resource_id)
    return shown is not None and (shown.available, shown.held, shown.allocated) == (
        actual.available,
        actual.held,
        actual.allocated,
    )


def connect(url: str, actor: str) -> Booking:
    return Booking.connect(url, actor=actor)


async def follow_a_third_connection(url: str) -> None:
    """Two TUIs (hold queue and heatmap) while a third connection creates, confirms and
    releases holds: both show each change, with cursors and scroll left alone."""
    other = connect(url, "shop")
    today = other.today()
    old = other.create_hold(1, today, 1, "old@example.com", ttl_minutes=120)
    bk1, bk2 = connect(url, "dispatch-1"), connect(url, "dispatch-2")
    app1, app2 = ResbookApp(bk1, today=today), ResbookApp(bk2, today=today)
    async with app1.run_test(size=SIZE) as p1, app2.run_test(size=SIZE) as p2:
        await settle(p1)
        await settle(p2)
        await p1.press("3")
        await settle(p1)
        table = app1.screen.query_one("#holds", KeyedTable)
        assert table.cursor_key == str(old.id)
        grid = app2.screen.query_one(HeatmapGrid)
        await p2.press("down", "right", "left")  # the operator's own place in the grid
        await settle(p2)
        place = (grid.cursor_row, grid.cursor_day, grid.scroll_x, grid.scroll_y)
        assert grid.cursor_resource.id == 2

        new = other.create_hold(1, today, 2, "new@example.com")
        await until(
            p1,
            lambda: statuses(app1).get(new.id) == "ACTIVE" and cell_matches(grid, other, 1, today),
            "created hold shown in both TUIs",
        )
        assert table.cursor_key == str(old.id)  # a row arrived above it; the cursor stayed
        assert (grid.cursor_row, grid.cursor_day, grid.scroll_x, grid.scroll_y) == place

        other.confirm_hold(new.id, "order-9", "li-1")
        await until(
            p1,
            lambda: (
                statuses(app1).get(new.id) == "CONFIRMED" and cell_matches(grid, other, 1, today)
            ),
            "confirmed hold shown in both TUIs",
        )
        row = table.row(str(new.id))
        # No countdown any more: the status changed in place, and says so there too.
        assert row[1] == Tag("CONFIRMED", "success")

        gone = other.create_hold(2, today, 1, "gone@example.com")
        await until(
            p1,
            lambda: gone.id in statuses(app1) and cell_matches(grid, other, 2, today),
            "second hold shown in both TUIs",
        )
        other.release_hold(gone.id)
        await until(
            p1,
            lambda: (
                statuses(app1).get(gone.id) == "RELEASED" and cell_matches(grid, other, 2, today)
            ),
            "released hold shown in both TUIs",
        )
        assert table.cursor_key == str(old.id)
        assert (grid.cursor_row, grid.cursor_day, grid.scroll_x, grid.scroll_y) == place
        assert "1 hold" in str(app1.screen.query_one("#holds-title").content)
        # r: a full refresh shows exactly the ACTIVE queue again.
        await p1.press("r")
        await settle(p1)
        assert statuses(app1) == {h.id: "ACTIVE" for h in other.list_holds(status="ACTIVE")}
        assert app1.notifications_received >= 4 and app2.notifications_received >= 4
    for bk in (bk1, bk2, other):
        bk.close()


@pytest.mark.postgres
@asynctest
async def test_two_tuis_follow_a_third_connection_on_postgresql(pg_db, pg_url):
    seed(pg_db, SeedPlan(vehicles=3, days=10, capacity=5))
    await follow_a_third_connection(pg_url)


@asynctest
async def test_two_tuis_follow_a_third_connection_on_sqlite(sqlite_url):
    db = open_database(sqlite_url)
    Migrator(db).up()
    seed(db, SeedPlan(vehicles=3, days=10, capacity=5))
    db.close()
    await follow_a_third_connection(sqlite_url)


@pytest.mark.postgres
@asynctest
async def test_a_sweep_of_ten_thousand_holds_is_at_most_two_changes(pg_db, pg_url):
    seed(pg_db, SeedPlan(vehicles=10, days=10, capacity=1000))
    other = connect(pg_url, "cron")
    today = other.today()
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
    bk1, bk2 = connect(pg_url, "dispatch-1"), connect(pg_url, "dispatch-2")
    app1, app2 = ResbookApp(bk1, today=today), ResbookApp(bk2, today=today)
    async with app1.run_test(size=SIZE) as p1, app2.run_test(size=SIZE) as p2:
        await settle(p1)
        await settle(p2)
        await p1.press("3")
        await settle(p1)
        # The screen counts the whole queue in the database and loads only a page of it.
        table = app1.screen.query_one("#holds", KeyedTable)
        assert table.total_rows == 10_000
        assert 0 < len(statuses(app1)) < 10_000
        assert "10,000 holds" in str(app1.screen.query_one("#holds-title").content)
        grid = app2.screen.query_one(HeatmapGrid)
        assert grid.cell(1, today).held == 100

        result = other.sweep(batch_size=5000)
        assert (result.expired_holds, result.batches) == (10_000, 2)
        await until(
            p1,
            lambda: (
                set(statuses(app1).values()) == {"EXPIRED"}
                and all(cell_matches(grid, other, r, today) for r in range(1, 11))
            ),
            "10,000 swept holds shown as expired in both TUIs",
        )
        await settle(p1)
        await settle(p2)
        # Bounded: at most one summarised change per sweep batch (both batches may land in
        # one poll of the feed), not one per hold.
        print(f"  changes heard for 10,000 swept holds: {app1.notifications_received}")
        assert 1 <= app1.notifications_received <= result.batches
        assert 1 <= app2.notifications_received <= result.batches
        # Exactly the database's state: every row's status, and the whole visible grid.
        in_db = {h.id: h.status for h in other.list_holds()}
        assert statuses(app1) == {hold_id: in_db[hold_id] for hold_id in statuses(app1)}
        assert {i for i, s in in_db.items() if s == "ACTIVE"} == set()
        assert "0 holds" in str(app1.screen.query_one("#holds-title").content)
        ids, first, last = grid.visible_window()
        for cell in other.availability(first, last, resource_ids=ids):
            shown = grid.cell(cell.resource_id, cell.date)
            assert (shown.available, shown.held) == (cell.available, cell.held)
        assert grid.cell(1, today).held == 0
    for bk in (bk1, bk2, other):
        bk.close()


def terminate_resbook_backends(url: str) -> int:
    """What a DBA's pg_terminate_backend (or a server restart) does to every resbook
    session on this database; the shared server itself keeps running."""
    conn = psycopg2.connect(url.split("?")[0], application_name="resbook-test-admin")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND application_name = 'resbook'"
        )
        (count,) = cur.fetchone()
    conn.close()
    return count


@pytest.mark.postgres
@asynctest
async def test_a_lost_connection_is_ridden_out_and_the_screen_matches_the_database_after(
    pg_db, pg_url
):
    seed(pg_db, SeedPlan(vehicles=3, days=10, capacity=5))
    other = connect(pg_url, "shop")
    today = other.today()
    first = other.create_hold(1, today, 1, "first@example.com")
    other.close()
    bk = connect(pg_url, "dispatch")
    app = ResbookApp(bk, today=today)
    notes = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert set(statuses(app)) == {first.id}
        assert {"confirm_hold", "release_hold"} <= footer_keys(app)

        assert terminate_resbook_backends(pg_url) >= 2  # the listener's and the calls'
        await until(pilot, lambda: app.link == "disconnected", "disconnected state shown")
        bar = str(app.screen.query_one(StatusBar).render())
        assert "disconnected - retrying at" in bar
        assert set(statuses(app)) == {first.id}  # the last data stays on screen
        assert not {"confirm_hold", "release_hold", "extend_hold"} & footer_keys(app)
        assert any(n.title == "Database disconnected" for n in notes)

        # Meanwhile another process books: the TUI must show it once it is back.
        other = connect(pg_url, "shop")
        meanwhile = other.create_hold(2, today, 1, "meanwhile@example.com")
        await until(pilot, lambda: app.link == "connected", "reconnected")
        await until(
            pilot,
            lambda: set(statuses(app)) == {first.id, meanwhile.id},
            "data refreshed after reconnect",
        )
        await settle(pilot)
        assert app.link_history[-3:] == ["connected", "disconnected", "connected"]
        assert "disconnected" not in str(app.screen.query_one(StatusBar).render())
        assert {"confirm_hold", "release_hold"} <= footer_keys(app)
        assert statuses(app) == {h.id: "ACTIVE" for h in other.list_holds(status="ACTIVE")}
        assert app.listener.subscriptions == 2 and app.listener.losses == 1
        # Still live after the reconnect.
        later = other.create_hold(3, today, 1, "later@example.com")
        await until(pilot, lambda: later.id in statuses(app), "live again after reconnect")
        # And the TUI's own changes work again, on fresh connections.
        await pilot.press("x", "y")
        await settle(pilot)
        assert any(n.title == "Released" for n in notes)
    bk.close()
    other.close()


@pytest.mark.postgres
@asynctest
async def test_a_change_in_flight_when_the_connection_drops_is_reported_as_not_committed(
    pg_db, pg_url
):
    """The release waits on a row lock the test holds; then every resbook backend is
    terminated, so the release's transaction dies uncommitted. The TUI says exactly that."""
    seed(pg_db, SeedPlan(vehicles=1, days=3, capacity=5))
    other = connect(pg_url, "shop")
    hold = other.create_hold(1, other.today(), 1, "ana@example.com")
    other.close()
    bk = connect(pg_url, "dispatch")
    app = ResbookApp(bk, today=hold.date)
    notes = record_notifications(app)
    locker = psycopg2.connect(pg_url.split("?")[0], application_name="resbook-test-locker")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        search_path = pg_url.split("search_path%3D")[1]
        with locker.cursor() as cur:
            cur.execute(f'SET search_path = "{search_path}"')
            cur.execute("SELECT id FROM resource_hold WHERE id = %s FOR UPDATE", (hold.id,))
        await pilot.press("x", "y")  # the release now waits on the lock
        admin = psycopg2.connect(pg_url.split("?")[0], application_name="resbook-test-admin")
        admin.autocommit = True

        def release_waits_on_the_lock() -> bool:
            with admin.cursor() as cur:
                cur.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'resbook' "
                    "AND datname = current_database() AND wait_event_type = 'Lock'"
                )
                return cur.fetchone()[0] == 1

        await until(pilot, release_waits_on_the_lock, "release in flight, waiting on the lock")
        admin.close()
        terminate_resbook_backends(pg_url)
        await until(
            pilot, lambda: any(n.title == "Did not commit" for n in notes), "outcome settled"
        )
        locker.rollback()
        assert any(n.title == "Outcome unknown" for n in notes)
        assert "Release hold" in next(n.message for n in notes if n.title == "Did not commit")
        assert not any(n.title == "Committed" for n in notes)
        await until(pilot, lambda: app.link == "connected", "reconnected")
        check = connect(pg_url, "check")
        assert check.get_hold(hold.id).status == "ACTIVE"  # indeed not committed
        check.close()
    locker.close()
    bk.close()


@pytest.mark.postgres
@asynctest
async def test_the_heatmap_queries_its_window_once_and_only_for_changes_it_shows(pg_db, pg_url):
    seed(pg_db, SeedPlan(vehicles=40, days=10, capacity=5))
    other = connect(pg_url, "shop")
    today = other.today()
    bk = connect(pg_url, "dispatch")
    calls: list[tuple] = []
    original = bk.availability

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append((args, kwargs))
        return original(*args, **kwargs)

    bk.availability = counted  # type: ignore[method-assign]
    app = ResbookApp(bk, today=today)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(HeatmapGrid)
        ids, _first, _last = grid.visible_window()
        assert 1 in ids and 40 not in ids  # resource 40 is below the fold
        before = len(calls)
        other.create_hold(40, today, 2, "far@example.com")
        await until(pilot, lambda: app.notifications_received == 1, "notification heard")
        await settle(pilot)
        assert len(calls) == before  # nothing visible changed: no query
        other.create_hold(1, today, 1, "near@example.com")
        await until(pilot, lambda: cell_matches(grid, other, 1, today), "visible cell updated")
        await settle(pilot)
        assert len(calls) == before + 1  # one availability query for the visible window
        app.screen.focus_resource(40)  # scroll down to it: its stale cells are refetched
        await settle(pilot)
        assert grid.cursor_resource.id == 40
        assert cell_matches(grid, other, 40, today) and grid.cell(40, today).held == 2
    bk.close()
    other.close()
