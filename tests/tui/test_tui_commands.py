"""k9s-style navigation: the ':' command line, '/' on every list (the heatmap included),
vim keys, the Holds status filter, and the operator actions added with them."""

from __future__ import annotations

from datetime import timedelta

from tui_helpers import asynctest, column, record_notifications, settle, table_rows

from conftest import TODAY
from resbook_tui.settings import load_settings
from resbook_tui.tui.screens.heatmap import HeatmapScreen
from resbook_tui.tui.screens.hold_detail import HoldDetailScreen
from resbook_tui.tui.screens.holds import HoldsScreen
from resbook_tui.tui.widgets.heatmap_grid import HeatmapGrid

SIZE = (80, 24)


async def command(pilot, line: str) -> None:  # noqa: ANN001
    await pilot.press("colon", *line, "enter")
    await settle(pilot)


@asynctest
async def test_colon_hold_opens_that_hold(make_app, booking):
    [hold, *_] = booking.list_holds(status="ACTIVE")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await command(pilot, f"hold {hold.id}")
        assert isinstance(app.screen, HoldDetailScreen) and app.screen.hold_id == hold.id


@asynctest
async def test_colon_holds_status_and_the_s_key(make_app, booking):
    [released] = booking.list_holds(status="RELEASED")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await command(pilot, "holds released")
        assert isinstance(app.screen, HoldsScreen)
        assert column(app, "#holds", "id") == [str(released.id)]
        assert set(column(app, "#holds", "status")) == {"RELEASED"}
        await pilot.press("s")  # RELEASED -> EXPIRED
        await settle(pilot)
        assert app.screen.status == "EXPIRED"
        await pilot.press("s")  # -> every status
        await settle(pilot)
        assert app.screen.status is None
        assert {"ACTIVE", "CONFIRMED", "RELEASED"} <= set(column(app, "#holds", "status"))


@asynctest
async def test_colon_email_matches_part_of_an_address(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await command(pilot, "email ana")
        assert isinstance(app.screen, HoldsScreen)
        emails = set(column(app, "#holds", "email"))
        assert emails == {"ana@example.com"}
        assert len(table_rows(app, "#holds")) >= 4  # every status, not only ACTIVE


@asynctest
async def test_colon_res_and_date_move_the_heatmap(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await command(pilot, "res kings")
        grid = app.screen.query_one(HeatmapGrid)
        assert isinstance(app.screen, HeatmapScreen)
        assert grid.cursor_resource.name == "Kings Canyon Rim"
        await command(pilot, "+7")
        assert grid.cursor_date == TODAY + timedelta(7)
        await command(pilot, "date 2030-02-01")
        assert grid.cursor_date.isoformat() == "2030-02-01"


@asynctest
async def test_an_unknown_command_is_one_line_and_stays_open(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("colon", *"frobnicate", "enter")
        await pilot.pause()
        assert "unknown command 'frobnicate'" in app.screen.error
        assert "\n" not in app.screen.error
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HeatmapScreen)


@asynctest
async def test_theme_is_remembered_between_runs(make_app, tmp_path):
    path = tmp_path / "settings.json"
    app = make_app(settings_path=path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"
        await command(pilot, "theme light")
        assert app.theme == "textual-light"
    assert load_settings(path).theme == "textual-light"
    again = make_app(settings_path=path)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert again.theme == "textual-light"


@asynctest
async def test_slash_on_the_heatmap_narrows_rows_by_name(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(HeatmapGrid)
        await pilot.press("slash", *"cruiser", "enter")
        await settle(pilot)
        names = [row.resource.name for row in grid.rows if row.resource]
        assert names == ["Land Cruiser 01", "Land Cruiser 02"]
        assert grid.has_focus
        await pilot.press("escape")
        await settle(pilot)
        assert len([row for row in grid.rows if row.resource]) == 7


@asynctest
async def test_vim_keys_move_like_arrows(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(HeatmapGrid)
        await pilot.press("j", "j", "l", "l", "l", "h")
        assert grid.cursor_resource.name == "Troop Carrier 01"
        assert grid.cursor_date == TODAY + timedelta(2)
        await pilot.press("k", "G")
        assert grid.cursor_resource.name == "Ben Carter"
        await pilot.press("g")
        assert grid.cursor_resource.name == "Land Cruiser 01"
        await pilot.press("3")
        await settle(pilot)
        table = app.screen.query_one("#holds")
        await pilot.press("j", "j", "G")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("g")
        assert table.cursor_row == 0


@asynctest
async def test_capacity_over_a_selection(make_app, booking, world_ids):
    app = make_app()
    notes = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Land Cruiser 01 and 02 (skipping nothing), today and the next three days.
        await pilot.press("shift+down", "shift+right", "shift+right", "shift+right")
        await pilot.pause()
        resources, first, last = app.screen.query_one(HeatmapGrid).selection
        assert [r.name for r in resources] == ["Land Cruiser 01", "Land Cruiser 02"]
        assert (first, last) == (TODAY, TODAY + timedelta(3))
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#field-max").value = "9"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert notes[-1].title == "Capacity set"
        for name in ("Land Cruiser 01", "Land Cruiser 02"):
            cells = booking.availability(first, last, resource_id=world_ids[name])
            assert {c.max_capacity for c in cells} == {9}
        after = booking.availability(last + timedelta(1), last + timedelta(1))
        assert {c.max_capacity for c in after if c.resource_id == world_ids["Land Cruiser 01"]} == {
            6
        }


@asynctest
async def test_new_hold_over_a_range_is_all_or_nothing(make_app, booking, world_ids):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "enter", "n")  # Troop Carrier 01, today
        await pilot.pause()
        for name, value in {
            "quantity": "2",
            "email": "zoe@example.com",
            "through": (TODAY + timedelta(2)).isoformat(),
        }.items():
            app.screen.query_one(f"#field-{name}").value = value
        await pilot.press("ctrl+s")
        await settle(pilot)
        holds = booking.list_holds(email="zoe@example.com")
        assert sorted(h.date for h in holds) == [TODAY + timedelta(n) for n in range(3)]
        assert {h.resource_id for h in holds} == {world_ids["Troop Carrier 01"]}
