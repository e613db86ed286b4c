"""Moving around: screens by number, help, the command palette, theme, quit."""

from __future__ import annotations

from tui_helpers import asynctest, column, record_notifications, settle, table_rows, text_of

from conftest import TODAY
from resbook_tui.tui.screens.day import DayScreen
from resbook_tui.tui.screens.heatmap import HeatmapScreen
from resbook_tui.tui.screens.help import HelpScreen
from resbook_tui.tui.screens.holds import HoldsScreen
from resbook_tui.tui.screens.resources import ResourcesScreen
from resbook_tui.tui.widgets.heatmap_grid import HeatmapGrid
from resbook_tui.tui.widgets.status_bar import StatusBar


@asynctest
async def test_starts_on_the_heatmap_and_switches_screens_by_number(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HeatmapScreen)
        await pilot.press("1")
        await settle(pilot)
        assert isinstance(app.screen, ResourcesScreen)
        assert [row[1] for row in table_rows(app, "#resources")][:3] == [
            "Land Cruiser 01",
            "Land Cruiser 02",
            "Troop Carrier 01",
        ]
        await pilot.press("3")
        await settle(pilot)
        assert isinstance(app.screen, HoldsScreen)
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, HeatmapScreen)


@asynctest
async def test_status_bar_shows_url_dialect_and_injected_time(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(StatusBar)
        shown = str(bar.render())
        assert "sqlite:///resbook-tui-test.db" in shown
        assert "sqlite" in shown
        assert "2030-01-07 09:00:00 UTC" in shown
        assert "READ-ONLY" not in shown


@asynctest
async def test_help_lists_keys_and_closes(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        sections = dict(app.screen.sections())
        assert ("n", "New hold") in sections["Day detail"]
        assert ("tab", "Holds / allocations") in sections["Day detail"]
        assert ("c", "Confirm") in sections["3 Holds"]
        assert any(desc == "Go to date" or desc == "Date" for _, desc in sections["2 Heatmap"])
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HeatmapScreen)


@asynctest
async def test_q_quits(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


@asynctest
async def test_palette_commands_exist(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in (
            "Go to resources",
            "Go to heatmap",
            "Go to holds",
            "Find holds by email",
            "Go to date",
            "Sweep expired holds",
            "Toggle dark/light theme",
        ):
            assert title in titles


@asynctest
async def test_palette_find_holds_by_email(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"find holds")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press(*"ana@example.com", "enter")
        await settle(pilot)
        assert isinstance(app.screen, HoldsScreen)
        statuses = set(column(app, "#holds", "status"))
        assert statuses == {"ACTIVE", "CONFIRMED", "RELEASED", "EXPIRED"}
        assert "Customer ana@example.com" in text_of(app, "#holds-title")


@asynctest
async def test_palette_go_to_date_moves_the_heatmap(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"go to date")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        app.screen.query_one("#field-value").value = ""
        await pilot.press(*"2030-02-14", "enter")
        await settle(pilot)
        assert isinstance(app.screen, HeatmapScreen)
        assert app.screen.query_one(HeatmapGrid).cursor_date.isoformat() == "2030-02-14"


@asynctest
async def test_palette_sweep_and_theme(make_app):
    app = make_app()
    notes = record_notifications(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.action_sweep()
        await settle(pilot)
        assert any(n.title == "Sweep" for n in notes)
        dark = app.current_theme.dark
        app.action_toggle_theme()
        await pilot.pause()
        assert app.current_theme.dark is not dark


@asynctest
async def test_enter_on_a_resource_opens_the_heatmap_there(make_app, world_ids):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("2", "f")  # filter the heatmap to vehicles: the guide is hidden
        await pilot.press("1")
        await settle(pilot)
        table = app.screen.query_one("#resources")
        table.move_cursor_to(str(world_ids["Alice Nguyen"]))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HeatmapScreen)
        grid = app.screen.query_one(HeatmapGrid)
        assert grid.cursor_resource.name == "Alice Nguyen"
        assert grid.type_filter is None
        assert "Alice Nguyen" in text_of(app, "#cell-status")


@asynctest
async def test_screens_reload_when_they_come_back_into_view(make_app, booking, world_ids):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        before = len(table_rows(app, "#holds"))
        booking.create_hold(world_ids["Uluru Sunrise"], TODAY, 1, "zoe@example.com")
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert len(table_rows(app, "#holds")) == before + 1


@asynctest
async def test_day_detail_opens_from_the_heatmap_and_escape_returns(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DayScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HeatmapScreen)
