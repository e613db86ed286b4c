"""Day detail (set capacity, blackout, new hold, a refused hold) and the resources screen."""

from __future__ import annotations

from datetime import timedelta

from tui_helpers import asynctest, cancel_booking, record_notifications, settle, table_rows, text_of

from conftest import TODAY
from resbook_tui.tui.modals import FormModal
from resbook_tui.tui.screens.day import DayScreen
from resbook_tui.tui.screens.heatmap import HeatmapScreen
from resbook_tui.tui.screens.resources import ResourcesScreen
from resbook_tui.tui.widgets.heatmap_grid import HeatmapGrid


async def open_day(pilot, downs: int = 0, rights: int = 0) -> DayScreen:
    await settle(pilot)
    await pilot.press(*["down"] * downs, *["right"] * rights, "enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, DayScreen)
    return pilot.app.screen


async def fill(pilot, values: dict[str, str]) -> None:
    for name, value in values.items():
        pilot.app.screen.query_one(f"#field-{name}").value = value
    await pilot.pause()


async def ask_for_more_than_there_is(pilot) -> None:
    """A New-hold form for 5 units of Land Cruiser 01 today (1 of 6 available), sent."""
    await open_day(pilot)
    await pilot.press("n")
    await pilot.pause()
    await fill(pilot, {"quantity": "5", "email": "zoe@example.com"})
    await pilot.press("ctrl+s")
    await settle(pilot)


@asynctest
async def test_day_detail_shows_capacity_holds_and_allocations(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_day(pilot)  # Land Cruiser 01, today
        assert "Land Cruiser 01" in text_of(app, "#day-title")
        capacity = text_of(app, "#day-capacity")
        assert "Max capacity" in capacity and "Available" in capacity
        holds = table_rows(app, "#day-holds")
        assert sorted(r[2] for r in holds) == ["ACTIVE", "CONFIRMED"]
        assert [r[2] for r in table_rows(app, "#day-allocations")] == ["order-1"]
        assert "No blackout" in text_of(app, "#day-blackout")


@asynctest
async def test_a_hold_whose_booking_was_cancelled_reads_cancelled(make_app, booking):
    """Not CONFIRMED beside an allocation list that no longer has its booking."""
    allocation = cancel_booking(booking, "order-1")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_day(pilot)  # Land Cruiser 01, today: the day of order-1
        holds = {r[0]: r[2] for r in table_rows(app, "#day-holds")}
        assert holds[str(allocation.hold_id)] == "CANCELLED"
        assert sorted(holds.values()) == ["ACTIVE", "CANCELLED"]
        assert table_rows(app, "#day-allocations") == []


@asynctest
async def test_set_capacity(make_app, booking, world_ids):
    app = make_app()
    notes = record_notifications(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_day(pilot, downs=2)  # Troop Carrier 01
        await pilot.press("e")
        await pilot.pause()
        await fill(pilot, {"max": "-1"})
        assert "from 0 to" in str(app.screen.query_one("#message-max").content)
        await fill(pilot, {"max": "14", "through": (TODAY + timedelta(2)).isoformat()})
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert notes[-1].title == "Capacity set"
        cells = booking.availability(
            TODAY, TODAY + timedelta(3), resource_id=world_ids["Troop Carrier 01"]
        )
        assert [c.max_capacity for c in cells] == [14, 14, 14, 11]
        assert "14" in text_of(app, "#day-capacity")


@asynctest
async def test_add_blackout_reports_the_bookings_inside(make_app, booking, world_ids):
    app = make_app()
    notes = record_notifications(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_day(pilot)  # Land Cruiser 01 today: one active hold, one allocation
        await pilot.press("b")
        await pilot.pause()
        await fill(pilot, {"reason": "Flood on the access road"})
        await pilot.press("enter")
        await settle(pilot)
        assert [n.title for n in notes[-2:]] == ["Blackout added", "Bookings need attention"]
        assert "1 active hold" in notes[-1].message and "1 allocation" in notes[-1].message
        assert "Flood on the access road" in text_of(app, "#day-blackout")
        blackouts = booking.list_blackouts(resource_id=world_ids["Land Cruiser 01"])
        assert [b.reason for b in blackouts] == ["Flood on the access road"]


@asynctest
async def test_new_hold_from_the_day_detail(make_app, booking, world_ids):
    app = make_app()
    notes = record_notifications(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_day(pilot, downs=3, rights=4)  # Kings Canyon Rim, 2030-01-11
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, FormModal)
        await fill(pilot, {"quantity": "3", "email": "not-an-email", "ttl": "20"})
        assert "not an email" in str(app.screen.query_one("#message-email").content)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormModal)  # refused until the field is right
        await fill(pilot, {"email": "Zoe@Example.com"})
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert notes[-1].title == "Hold created"
        holds = booking.list_holds(email="zoe@example.com")
        assert [(h.quantity, h.date) for h in holds] == [(3, TODAY + timedelta(4))]
        assert [r[4] for r in table_rows(app, "#day-holds")] == ["zoe@example.com"]


@asynctest
async def test_a_refused_hold_keeps_the_form_open_with_the_values(make_app, booking):
    app = make_app()
    notes = record_notifications(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await ask_for_more_than_there_is(pilot)
        assert notes[-1].title == "Refused: no capacity"
        assert notes[-1].severity == "warning"
        assert "1 available" in notes[-1].message
        # The form is still open, with what was typed and the refusal under it.
        form = app.screen
        assert isinstance(form, FormModal)
        assert form.query_one("#field-email").value == "zoe@example.com"
        assert "1 available" in str(form.query_one("#form-error").content)
        assert form.query_one("#form-error").display
        assert not form.working
        await fill(pilot, {"quantity": "1"})  # correct one field, submit again
        # ... and the refusal of the old values goes (the field says if the new is right).
        assert not form.query_one("#form-error").display
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DayScreen)
        assert notes[-1].title == "Hold created"
        [hold] = booking.list_holds(email="zoe@example.com")
        assert hold.quantity == 1 and hold.token.startswith("tui-")
        await pilot.press("escape", "right", "enter")  # still driving the app
        await settle(pilot)
        assert isinstance(app.screen, DayScreen)


@asynctest
async def test_a_hold_on_a_blackout_is_refused(make_app):
    app = make_app()
    notes = record_notifications(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_day(pilot, downs=1, rights=2)  # Land Cruiser 02 in its service blackout
        assert "Scheduled service" in text_of(app, "#day-blackout")
        await pilot.press("n")
        await pilot.pause()
        await fill(pilot, {"email": "zoe@example.com"})
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert notes[-1].title == "Refused: blackout"


@asynctest
async def test_resources_filter_as_you_type(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("slash", *"cruis")
        await pilot.pause()
        assert [r[1] for r in table_rows(app, "#resources")] == [
            "Land Cruiser 01",
            "Land Cruiser 02",
        ]
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace")
        await pilot.press(*"guide")
        await pilot.pause()
        assert {r[2] for r in table_rows(app, "#resources")} == {"GUIDE"}
        await pilot.press("escape")
        await pilot.pause()
        assert len(table_rows(app, "#resources")) == 7


@asynctest
async def test_resources_utilisation_columns(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        rows = {r[1]: r for r in table_rows(app, "#resources")}
        assert rows["Land Cruiser 01"][4].endswith("83%")  # 5 of 6 taken today
        assert rows["Alice Nguyen"][4].endswith("100%")
        assert rows["Ben Carter"][3] == "no"


@asynctest
async def test_add_edit_and_deactivate_a_resource(make_app, booking):
    app = make_app()
    notes = record_notifications(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        await fill(pilot, {"name": "Hilux 07", "description": "Spare 4WD"})
        await pilot.press("ctrl+s")
        await settle(pilot)
        added = next(r for r in booking.list_resources() if r.name == "Hilux 07")
        assert added.type == "VEHICLE" and added.description == "Spare 4WD"
        screen = app.screen
        assert isinstance(screen, ResourcesScreen)
        assert screen.table.cursor_key == str(added.id)
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.query_one("#field-name").value == "Hilux 07"
        await fill(pilot, {"name": "Hilux 08"})
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert booking.get_resource(added.id).name == "Hilux 08"
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert booking.get_resource(added.id).is_active is False
        assert notes[-1].message.endswith("deactivated.")
        await pilot.press("d", "y")
        await settle(pilot)
        assert booking.get_resource(added.id).is_active is True


@asynctest
async def test_day_changes_show_on_the_heatmap_when_back(make_app, booking):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_day(pilot, downs=2)  # Troop Carrier 01 today: 2 of 11 held
        await pilot.press("n")
        await pilot.pause()
        await fill(pilot, {"quantity": "4", "email": "zoe@example.com"})
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HeatmapScreen)
        grid = app.screen.query_one(HeatmapGrid)
        assert grid.cursor_resource.name == "Troop Carrier 01"
        assert "held 6" in text_of(app, "#cell-status")


@asynctest
async def test_a_refusal_under_a_scrolled_form_is_brought_into_view(make_app):
    """At 80x24 the New-hold form's fields scroll; its refusal, under them, is scrolled to
    (the toast that also says it goes after a few seconds)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ask_for_more_than_there_is(pilot)
        body, error = app.screen.query_one("#form-body"), app.screen.query_one("#form-error")
        assert "1 available" in str(error.content)
        assert body.max_scroll_y > 0  # the form is taller than the screen: it scrolls
        assert body.region.contains_region(error.region)


@asynctest
async def test_a_long_name_leaves_the_date_in_sight_at_80_columns(make_app, booking, world_ids):
    long = "Land Cruiser 01 Extra Long Name For The Big Group Safari Vehicle With Roof Tent"
    booking.edit_resource(world_ids["Land Cruiser 01"], name=long)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        status = text_of(app, "#cell-status")  # the cursor starts on the renamed vehicle
        assert status.startswith(" Land Cruiser 01 Extra")
        assert f"{TODAY:%a %d %b}" in status and "max " in status, status
        day = await open_day(pilot)
        title = day.query_one("#day-title")
        assert f"{TODAY:%d %B %Y}" in text_of(app, "#day-title")
        # ... on the title's two lines: the whole title takes no more.
        width = title.content_size.width
        assert title.get_content_height(title.size, title.size, width) <= 2
