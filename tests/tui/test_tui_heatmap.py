"""The heatmap: cursor, status line, week moves, today, go to date, type filter, and
one availability query per visible window (never one per cell, none for a cursor move)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from tui_helpers import asynctest, settle, text_of

from conftest import TODAY
from resbook_tui.tui.command_parser import MAX_DAYS_AWAY
from resbook_tui.tui.widgets.heatmap_grid import BUCKETS, MAX_DAYS, HeatmapGrid, bucket


def counting(booking, method: str) -> list[tuple]:
    """Count calls of one facade method (the calls still go to the database)."""
    calls: list[tuple] = []
    original = getattr(booking, method)

    def wrapper(*args, **kwargs):
        calls.append((args, kwargs))
        return original(*args, **kwargs)

    setattr(booking, method, wrapper)
    return calls


def test_buckets_cover_zero_to_full():
    assert bucket(0.0) == "u0"
    assert bucket(0.1) == "u1"
    assert bucket(0.5) == "u2"
    assert bucket(0.7) == "u3"
    assert bucket(0.9) == "u4"
    assert bucket(1.0) == "u5"
    assert [name for _, name in BUCKETS] == ["u0", "u1", "u2", "u3", "u4", "u5"]


@asynctest
async def test_first_frame_loads_the_visible_window_in_one_query(make_app, booking):
    calls = counting(booking, "availability")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(HeatmapGrid)
        assert grid.window_loaded()
        assert len(calls) == 1
        (date_from, date_to), kwargs = calls[0]
        assert date_from == TODAY and len(kwargs["resource_ids"]) == 7
        # Cursor moves inside the loaded window render from memory: no query.
        await pilot.press("down", "down", "right", "right", "left", "up")
        await settle(pilot)
        assert len(calls) == 1


@asynctest
async def test_moving_the_cursor_lays_nothing_out(make_app, layouts):
    """The status line under the grid is rewritten on every move and every window that
    arrives; each rewrite laid the whole screen out again (most of a page's cost)."""
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        before = text_of(app, "#cell-status")
        layouts.count = 0
        await pilot.press("down", "right", "pagedown", "pageup")
        await settle(pilot)
        assert text_of(app, "#cell-status") != before  # the line did change...
        assert layouts.count == 0  # ...without a layout


@asynctest
async def test_cursor_and_status_line(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(HeatmapGrid)
        assert grid.cursor_resource.name == "Land Cruiser 01"
        assert grid.cursor_date == TODAY
        status = text_of(app, "#cell-status")
        # Land Cruiser 01 today: max 6, 4 allocated, 1 held -> 1 available.
        assert "Land Cruiser 01" in status and "Mon 2030-01-07" in status
        for part in ("max 6", "available 1", "held 1", "allocated 4"):
            assert part in status
        await pilot.press("down", "right", "right")  # Land Cruiser 02, two days on: blackout
        await settle(pilot)
        status = text_of(app, "#cell-status")
        assert "Land Cruiser 02" in status and "Wed 2030-01-09" in status
        assert "blackout: Scheduled service" in status


@asynctest
async def test_week_keys_today_and_go_to_date(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(HeatmapGrid)
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert grid.cursor_date == TODAY + timedelta(14)
        await pilot.press("left_square_bracket")
        assert grid.cursor_date == TODAY + timedelta(7)
        await pilot.press("t")
        assert grid.cursor_date == TODAY
        await pilot.press("d")
        await pilot.pause()
        box = app.screen.query_one("#field-value")
        box.value = ""
        await pilot.press(*"2030-04-01", "enter")
        await settle(pilot)
        assert grid.cursor_date.isoformat() == "2030-04-01"
        # The new window was fetched and the cell beyond the seeded capacity is known empty.
        assert grid.window_loaded()
        assert "no capacity set" in text_of(app, "#cell-status")


@pytest.mark.parametrize(
    "typed, says",
    [
        ("2030-02-30", "no such date"),
        ("9999-12-31", f"more than {MAX_DAYS_AWAY} days from today"),  # as :date refuses
    ],
)
@pytest.mark.parametrize("opened_by", ["d", "palette"])
@asynctest
async def test_go_to_date_refuses_a_bad_date_beside_the_field(make_app, typed, says, opened_by):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        if opened_by == "d":
            await pilot.press("d")
        else:  # ctrl+p, "Go to date": the same reach
            app.action_goto_date()
        await pilot.pause()
        app.screen.query_one("#field-value").value = ""
        await pilot.press(*typed, "enter")
        await pilot.pause()
        assert says in str(app.screen.query_one("#message-value").content)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.query_one(HeatmapGrid).cursor_date == TODAY


@asynctest
async def test_type_filter_cycles(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(HeatmapGrid)
        seen = []
        for _ in range(4):
            await pilot.press("f")
            await settle(pilot)
            seen.append(grid.type_filter)
            types = {row.type for row in grid.rows}
            assert types == ({grid.type_filter} if grid.type_filter else types)
        assert seen == ["VEHICLE", "TOUR", "GUIDE", None]


@asynctest
async def test_scrolling_far_fetches_the_new_window_once(make_app, booking):
    calls = counting(booking, "availability")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press(*["right_square_bracket"] * 8)  # eight weeks on: off the first window
        await settle(pilot)
        grid = app.screen.query_one(HeatmapGrid)
        assert grid.window_loaded()
        assert 2 <= len(calls) <= 3  # first window, then at most one per new window


@asynctest
async def test_refresh_keeps_the_cursor_and_shows_new_data(make_app, booking, world_ids):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(HeatmapGrid)
        await pilot.press("down", "down", "down", "down")  # the tours heading is skipped
        assert grid.cursor_resource.name == "Uluru Sunrise"
        booking.create_hold(world_ids["Uluru Sunrise"], TODAY, 3, "zoe@example.com")
        await pilot.press("r")
        await settle(pilot)
        assert grid.cursor_resource.name == "Uluru Sunrise"
        assert "held 3" in text_of(app, "#cell-status")


@asynctest
async def test_paging_down_reads_the_next_screen_ahead(sqlite_url):
    """After a page down, the screen below is read ahead (only rows not loaded), so the
    next page down is drawn from memory; paging back up reads nothing."""
    from resbook_tui.booking import Booking
    from resbook_tui.db import open_database
    from resbook_tui.schema.migrations import Migrator
    from resbook_tui.seed import SeedPlan, seed
    from resbook_tui.tui import ResbookApp

    db = open_database(sqlite_url)
    Migrator(db).up()
    seed(db, SeedPlan(vehicles=60, days=10, capacity=5))
    bk = Booking(db, actor="dispatch")
    calls = counting(bk, "availability")
    answer = threading.Event()  # cleared: every read waits, as on a slow network
    answer.set()
    read = bk.availability
    bk.availability = lambda *a, **k: answer.wait(30) and read(*a, **k)
    app = ResbookApp(bk, today=bk.today())
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(HeatmapGrid)
        assert len(calls) == 1  # the first window: no reading ahead before a move
        for page in range(3):
            answer.clear()
            await pilot.press("pagedown")
            # Drawn from what the page before read ahead, while no read can answer
            # (the first page down is still inside the first window's margin).
            assert grid.window_loaded(), f"page {page + 1} waits for a read"
            answer.set()
            await settle(pilot)
        assert len(calls) >= 4  # each page read the screen below it
        read = [kwargs["resource_ids"] for _, kwargs in calls]
        everything = [rid for ids in read for rid in ids]
        assert len(everything) == len(set(everything))  # no row was read twice
        asked = len(calls)
        await pilot.press("pageup", "pageup")
        await settle(pilot)
        assert len(calls) == asked and grid.window_loaded()
    bk.close()


@asynctest
async def test_any_date_in_reach_can_be_reached_again(make_app):
    """The window spans at most MAX_DAYS: past that it slides. The cursor walks past the
    window's end; ten years back then ten forward lands on the date asked for, and no
    further (the end of reach stays put); `t` comes back to today from anywhere."""
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(HeatmapGrid)
        end = grid.origin + timedelta(grid.days - 1)  # the first window's last day
        grid.goto_date(end)
        await settle(pilot)
        await pilot.press("right", "right_square_bracket")
        assert grid.cursor_date == end + timedelta(8)
        await settle(pilot)
        assert grid.window_loaded()
        for away, key in ((-MAX_DAYS_AWAY, "left"), (MAX_DAYS_AWAY, "right")):
            grid.goto_date(TODAY + timedelta(away))
            await settle(pilot)
            assert grid.cursor_date == TODAY + timedelta(away)
            assert grid.days <= MAX_DAYS
            await pilot.press(key, "right_square_bracket" if away > 0 else "left_square_bracket")
            assert grid.cursor_date == TODAY + timedelta(away)  # the end of reach: it stays
        await pilot.press("t")
        await settle(pilot)
        assert grid.cursor_date == TODAY
