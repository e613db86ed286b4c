"""Bugs found by trying the TUI as a new user, each pinned so it stays fixed."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Button
from tui_helpers import asynctest, settle, text_of

from resbook_tui.tui.command_line import CommandLine
from resbook_tui.tui.modals import FormModal
from resbook_tui.tui.screens.day import DayScreen
from resbook_tui.tui.screens.heatmap import HeatmapScreen
from resbook_tui.tui.screens.hold_detail import HoldDetailScreen
from resbook_tui.tui.widgets.heatmap_grid import HeatmapGrid
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
