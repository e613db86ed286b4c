"""Everything fits an 80x24 terminal: the footer keeps ? and q, the heatmap cursor row stays
in sight, status lines are never clipped, the month header is legible, the Holds columns
keep what matters, forms keep their buttons on screen."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from tui_helpers import asynctest, settle, text_of

from conftest import TODAY
from resbook_tui.tui.widgets.heatmap_grid import HeatmapGrid
from resbook_tui.tui.widgets.heatmap_paint import month_labels
from resbook_tui.tui.widgets.key_bar import KeyBar

SIZE = (80, 24)
PLACES = {
    "heatmap": (),
    "holds": ("3",),
    "resources": ("1",),
    "day detail": ("enter",),
    "hold detail": ("3", "enter"),
    "holds filter": ("3", "slash"),
    "heatmap find": ("slash",),
}


@pytest.mark.parametrize("place", list(PLACES))
@asynctest
async def test_footer_always_shows_help_and_quit(make_app, place: str):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in PLACES[place]:
            await pilot.press(key)
            await settle(pilot)
        footer = str(app.screen.query_one(KeyBar).render())
        assert "Help" in footer and "Quit" in footer
        assert footer.rstrip().endswith("Quit")
        # Keys are left out whole, never cut mid-word.
        items = app.screen.query_one(KeyBar).items()
        shown = {item.label for item in items} | {item.key for item in items}
        for word in footer.split():
            assert len(word) <= 2 or any(word in text for text in shown), word


@asynctest
async def test_heatmap_cursor_row_stays_in_sight(make_app, booking):
    for n in range(30):  # more resources than 24 lines can show
        booking.add_resource(f"Spare Cruiser {n:02d}", "VEHICLE")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(HeatmapGrid)
        for key in ("pagedown", "pagedown", "G", "pageup", "g", "down", "j", "k"):
            await pilot.press(key)
            await settle(pilot)
            y = grid.cursor_row - int(grid.scroll_y) + 2  # two header lines
            visible = grid.scrollable_content_region.height
            assert 2 <= y < visible, (key, y, visible)


@asynctest
async def test_status_line_is_never_clipped(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "right", "right")  # a blacked-out cell: the longest line
        await settle(pilot)
        status = app.screen.query_one("#cell-status")
        text = text_of(app, "#cell-status")
        assert "Scheduled service" in text and "alloc 0" in text
        assert status.size.height == 1 and len(text) <= status.size.width


def test_month_header_is_legible():
    days = [date(2026, 11, 30) + timedelta(n) for n in range(18)]
    assert month_labels(days).startswith("Nov│ Dec 2026")
    january = [date(2026, 12, 25) + timedelta(n) for n in range(14)]
    assert month_labels(january).split() == ["Dec", "2026", "│", "Jan", "2027"]
    one_day_each = [date(2026, 11, 30), date(2026, 12, 1)]
    assert month_labels(one_day_each) == "Nov│  "  # no room for "Dec": only the boundary


@asynctest
async def test_holds_columns_at_80_and_wider(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        header = str(app.screen.query_one("#holds").render_line(0).text).split()
        assert header[:7] == ["Hold", "Expires", "in", "Resource", "Date", "Qty", "Customer"]
        row = str(app.screen.query_one("#holds").render_line(1).text)
        assert "Land Cruiser 01" in row and "ana@example.com" in row
    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        header = str(app.screen.query_one("#holds").render_line(0).text)
        assert "Status" in header and "Expires (UTC)" in header


@asynctest
async def test_a_form_keeps_its_buttons_on_screen(make_app):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("enter", "n")
        await settle(pilot)
        app.screen.query_one("#field-email").value = "not an email"
        await pilot.press("ctrl+s")  # a refusal line under the fields makes it taller
        await pilot.pause()
        for button in ("#submit", "#cancel"):
            region = app.screen.query_one(button).region
            assert region.y >= 0 and region.bottom <= SIZE[1], button
        app.notify("Something changed elsewhere.\nA second line.\nAnd a third.")
        await pilot.pause(0.3)
        submit = app.screen.query_one("#submit").region
        toasts = [toast.region for toast in app.screen.query("Toast")]
        assert toasts and not any(toast.overlaps(submit) for toast in toasts)


@asynctest
async def test_today_column_header_shows_today(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(HeatmapGrid)
        assert str(grid.render_line(0).text).split()[2:4] == [TODAY.strftime("%b"), "2030"]
