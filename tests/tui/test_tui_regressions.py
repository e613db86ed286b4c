"""Bugs found by trying the TUI as a new user, each pinned so it stays fixed."""

from __future__ import annotations

from datetime import timedelta

from textual import events
from textual.widgets import Button
from tui_helpers import asynctest, record_notifications, settle, text_of

from conftest import TODAY
from resbook_tui.demo_history import backdate_holds
from resbook_tui.tui.command_line import CommandLine
from resbook_tui.tui.modals import ConfirmModal, FormModal
from resbook_tui.tui.screens.day import DayScreen
from resbook_tui.tui.screens.heatmap import HeatmapScreen
from resbook_tui.tui.screens.help import HelpScreen
from resbook_tui.tui.screens.hold_detail import HoldDetailScreen
from resbook_tui.tui.widgets.heatmap_grid import HeatmapGrid
from resbook_tui.tui.widgets.key_bar import KeyBar
from resbook_tui.tui.widgets.keyed_table import KeyedTable

SIZE = (80, 24)


@asynctest
async def test_enter_on_a_just_added_resource_shows_that_resource(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)  # the heatmap has loaded the resources as they were
        await pilot.press("1", "a")
        await settle(pilot)
        app.screen.query_one("#field-name").value = "Hilux 07"
        await pilot.press("ctrl+s")
        await settle(pilot)
        table = app.screen.query_one("#resources", KeyedTable)
        assert table.row(table.cursor_key)[1] == "Hilux 07"  # the cursor is on it
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HeatmapScreen)
        assert app.screen.query_one(HeatmapGrid).cursor_resource.name == "Hilux 07"


@asynctest
async def test_2_after_day_detail_and_holds_shows_the_heatmap(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DayScreen)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, HeatmapScreen)


@asynctest
async def test_day_detail_during_an_outage_says_unavailable(make_app):
    app = make_app(live=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.link = "disconnected"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DayScreen)
        holds = app.screen.query_one("#day-holds", KeyedTable)
        assert holds.empty_text.startswith("Unavailable")
        assert "No holds" not in str(holds.render_line(1).text)
        assert "Unavailable" in text_of(app, "#day-capacity")


@asynctest
async def test_screenshot_needs_no_downloads_folder(make_app, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home-without-downloads"))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screenshot()
        await pilot.pause()
    saved = list(tmp_path.parent.glob("**/screenshots/resbook-*.svg"))
    assert saved and saved[0].read_text().startswith("<svg")


@asynctest
async def test_palette_lists_each_command_once(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert len(titles) == len(set(titles))
        assert "Keys" not in titles and titles.count("Help") == 1


@asynctest
async def test_an_expired_hold_reads_expired(make_app, booking):
    [hold, *_] = booking.list_holds(status="ACTIVE")
    later = hold.expires_at + timedelta(seconds=5)
    app = make_app(clock=lambda: later)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.show_hold(hold.id)
        await settle(pilot)
        assert isinstance(app.screen, HoldDetailScreen)
        shown = str(app.screen.query_one("#hold-countdown").render())
        assert shown == "Expired"


@asynctest
async def test_no_button_says_go(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for keys in (("d",), ("3", "plus"), ("enter", "n"), ("enter", "e"), ("enter", "b")):
            for key in keys:
                await pilot.press(key)
                await settle(pilot)
            assert isinstance(app.screen, FormModal)
            labels = {str(b.label) for b in app.screen.query(Button)}
            assert "Go" not in labels and "OK" not in labels, labels
            await pilot.press("escape")
            await settle(pilot)
            await app.go_to("heatmap")
            await settle(pilot)


@asynctest
async def test_colon_opens_the_command_line_not_the_palette(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        await pilot.pause()
        assert isinstance(app.screen, CommandLine)


# ---- found by a second look at 80x24 ------------------------------------------------------


@asynctest
async def test_page_down_and_up_reach_the_last_and_first_resource(make_app):
    app = make_app()
    async with app.run_test(size=(80, 12)) as pilot:  # a short terminal: several pages
        await settle(pilot)
        grid = app.screen.query_one(HeatmapGrid)
        await pilot.press("pagedown", "pagedown", "pagedown", "pagedown")
        assert grid.cursor_resource.name == "Ben Carter"
        await pilot.press("pageup", "pageup", "pageup", "pageup")
        assert grid.cursor_resource.name == "Land Cruiser 01"


@asynctest
async def test_keys_typed_in_one_burst_after_slash_reach_the_filter(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        for character, key in (("/", "slash"), ("b", "b"), ("e", "e"), ("n", "n")):
            app.post_message(events.Key(key, character))  # no pause between them
        await settle(pilot)
        assert app.screen.query_one("#email").value == "ben"


@asynctest
async def test_a_hold_that_does_not_exist_says_so(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("colon", *"hold 999999", "enter")
        await settle(pilot)
        assert isinstance(app.screen, HoldDetailScreen)
        assert "Unavailable: hold 999999 does not exist" in text_of(app, "#hold-fields")


@asynctest
async def test_the_sweep_asks_first_and_says_what_it_would_expire(make_app, booking):
    [first, second, *_] = booking.list_holds(status="ACTIVE")
    backdate_holds(booking.db, [first.id, second.id], minutes_ago=90)  # past their expiry
    app = make_app()
    notes = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("colon", *"sweep", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        asked = str(app.screen.query_one(".subject").render())
        assert "2 ACTIVE, past their expiry" in asked
        await pilot.press("enter")  # the default: keep them
        await settle(pilot)
        assert booking.sweep(dry_run=True).expired_holds == 2
        await pilot.press("colon", *"sweep", "enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert notes[-1].title == "Sweep"
        assert booking.sweep(dry_run=True).expired_holds == 0


@asynctest
async def test_forms_and_questions_show_help_and_quit_keys_that_work_there(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter", "n")
        await settle(pilot)
        footer = str(app.screen.query_one(KeyBar).render())
        assert "f1 Help" in footer and "^q Quit" in footer
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)


@asynctest
async def test_an_inactive_resource_takes_no_new_hold_form(make_app):
    app = make_app()
    notes = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("G", "enter")  # Ben Carter, inactive
        await settle(pilot)
        assert "inactive" in text_of(app, "#day-title")
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, DayScreen)
        assert notes[-1].message == "Ben Carter is inactive: activate it on Resources (1) first."


@asynctest
async def test_a_cancelled_booking_shows_on_its_hold(make_app, booking):
    [allocation, *_] = booking.list_allocations()
    booking.cancel_allocation(allocation.id)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.show_hold(allocation.hold_id)
        await settle(pilot)
        fields = text_of(app, "#hold-fields")
        assert f"booking cancelled (allocation #{allocation.id})" in fields
        assert "Expires at" not in fields


@asynctest
async def test_a_long_table_fits_its_width_beside_the_scrollbar(make_app, booking, world_ids):
    for n in range(30):
        day = TODAY + timedelta(n)
        booking.create_hold(world_ids["Uluru Sunrise"], day, 1, f"guest{n:02d}@example.com")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3", "s")  # a status view with the customer column
        await settle(pilot)
        await pilot.press("s", "s", "s")  # back round to every status: 40 rows
        await settle(pilot)
        table = app.screen.query_one("#holds", KeyedTable)
        assert table.row_count > table.size.height
        assert table.virtual_size.width <= table.scrollable_content_region.width
