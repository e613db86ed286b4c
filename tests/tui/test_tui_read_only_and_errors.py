"""Read-only sessions hide every mutating key; database trouble never freezes or crashes."""

from __future__ import annotations

import threading

from tui_helpers import asynctest, footer_keys, record_notifications, settle

from conftest import NOW, TODAY, make_booking
from resbook_tui.booking import Booking
from resbook_tui.db import open_database
from resbook_tui.errors import DatabaseError
from resbook_tui.tui import ResbookApp
from resbook_tui.tui.modals import FormModal
from resbook_tui.tui.screens.day import DayScreen
from resbook_tui.tui.screens.holds import HoldsScreen
from resbook_tui.tui.widgets.heatmap_grid import HeatmapGrid
from resbook_tui.tui.widgets.status_bar import StatusBar

MUTATING = {
    "add",
    "edit",
    "toggle_active",
    "set_capacity",
    "add_blackout",
    "new_hold",
    "confirm_hold",
    "release_hold",
    "extend_hold",
}


@asynctest
async def test_read_only_session_hides_every_mutating_key(world_url):
    booking = make_booking(world_url, read_only=True)
    assert booking.read_only  # the database session itself is read-only
    app = ResbookApp(booking, today=TODAY, clock=lambda: NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert "READ-ONLY" in str(app.screen.query_one(StatusBar).render())
        await pilot.press("1")
        await settle(pilot)
        assert not footer_keys(app) & MUTATING
        await pilot.press("a", "e", "d")
        await pilot.pause()
        assert not isinstance(app.screen, FormModal)
        await pilot.press("3")
        await settle(pilot)
        assert not footer_keys(app) & MUTATING
        await pilot.press("c", "x", "plus")
        await pilot.pause()
        assert isinstance(app.screen, HoldsScreen)
        await pilot.press("2", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DayScreen)
        assert not footer_keys(app) & MUTATING
        await pilot.press("n", "b", "e")
        await pilot.pause()
        assert isinstance(app.screen, DayScreen)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Sweep expired holds" not in titles
        await pilot.press("escape", "question_mark")
        await pilot.pause()
        listed = {desc for _, rows in app.screen.sections() for _, desc in rows}
        assert not listed & {"New hold", "Set capacity", "Confirm", "Release", "Add"}
    booking.close()


@asynctest
async def test_read_only_flag_hides_keys_even_on_a_writable_session(make_app):
    app = make_app(read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert not footer_keys(app) & MUTATING
        assert "READ-ONLY" in str(app.screen.query_one(StatusBar).render())


@asynctest
async def test_mutating_keys_show_on_a_writable_session(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert {"confirm_hold", "release_hold", "extend_hold"} <= footer_keys(app)


class SlowBooking(Booking):
    """Every availability call waits until the test lets it answer, as on a slow network."""

    answer: threading.Event

    def availability(self, *args, **kwargs):
        assert self.answer.wait(30), "the test never let the query answer"
        return super().availability(*args, **kwargs)


@asynctest
async def test_a_slow_database_never_blocks_the_ui(world_url):
    booking = SlowBooking(open_database(world_url), actor="dispatch")
    booking.answer = threading.Event()
    app = ResbookApp(booking, today=TODAY, clock=lambda: NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.2)
        grid = app.screen.query_one(HeatmapGrid)
        assert app.busy >= 1  # the window query is still running...
        await pilot.press("down", "right", "down")  # ...and the keys still work
        assert grid.cursor_resource.name == "Troop Carrier 01"
        assert app.busy >= 1  # ...while it is still held up: they did not wait for it
        await pilot.press("3")  # so does leaving the screen while it loads
        booking.answer.set()
        await settle(pilot)
        assert isinstance(app.screen, HoldsScreen)
        await pilot.press("2")
        await settle(pilot)
        assert grid.window_loaded()
    booking.close()


@asynctest
async def test_an_unreachable_database_becomes_notifications_not_a_traceback():
    # Nothing listens on port 1: every call fails with one line, quickly.
    db = open_database("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1", connect=False)
    booking = Booking(db, actor="dispatch", check_schema=False)
    app = ResbookApp(booking, today=TODAY, clock=lambda: NOW)
    notes = record_notifications(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert notes and all(n.severity == "error" for n in notes)
        assert all("\n" not in n.message for n in notes)
        assert any("127.0.0.1" in n.message or "connect" in n.message for n in notes)
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert isinstance(app.screen, HoldsScreen)
    assert app.return_code in (None, 0)


@asynctest
async def test_a_database_error_in_one_call_leaves_the_screen_usable(make_app, booking):
    def broken(*args, **kwargs):
        raise DatabaseError("database error on sqlite: disk I/O error")

    booking.hold_page = broken  # what the Holds screen reads
    app = make_app()
    notes = record_notifications(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert notes[-1].title == "Database" and "disk I/O error" in notes[-1].message
        await pilot.press("2")
        await settle(pilot)
        assert app.screen.query_one(HeatmapGrid).window_loaded()
