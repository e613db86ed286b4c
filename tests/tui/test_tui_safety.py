"""No keystroke sequence changes data without an explicit, informed confirmation.

Each test types what an operator types (at 80x24) and checks the database, not only the
screen: the hold is still ACTIVE, the allocation still there, the blackout still in place.
"""

from __future__ import annotations

from tui_helpers import asynctest, column, record_notifications, settle, table_rows, text_of

from conftest import NOW, TODAY, make_booking
from resbook_tui.tui import ResbookApp
from resbook_tui.tui.modals import ConfirmModal, FormModal
from resbook_tui.tui.screens.day import DayScreen
from resbook_tui.tui.screens.hold_detail import HoldDetailScreen
from resbook_tui.tui.screens.holds import HoldsScreen
from resbook_tui.tui.widgets.key_bar import KeyBar
from resbook_tui.tui.widgets.keyed_table import KeyedTable

SIZE = (80, 24)


async def holds_screen(pilot) -> HoldsScreen:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    assert isinstance(pilot.app.screen, HoldsScreen)
    return pilot.app.screen


async def ask_to_release_bens_hold(pilot, booking):  # noqa: ANN001, ANN201
    """The Holds screen, filtered to ben's one hold, with x pressed: the question open."""
    await holds_screen(pilot)
    await pilot.press("slash", *"ben", "enter", "x")
    await pilot.pause()
    [hold] = booking.list_holds(email="ben@example.com")
    return hold


def question(app: ResbookApp) -> str:
    screen = app.screen
    assert isinstance(screen, ConfirmModal)
    return text_of(app, ".question") + "\n" + str(screen.query_one(".subject").render())


@asynctest
async def test_typing_on_after_a_filter_cannot_release_a_hold(make_app, booking):
    """/ ben, enter, then x and enter typed on: the dialog opens and enter cancels it."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await holds_screen(pilot)
        await pilot.press("slash", *"ben", "enter", "x", "enter")
        await settle(pilot)
        assert isinstance(app.screen, HoldsScreen)
        [hold] = booking.list_holds(email="ben@example.com")
        assert hold.status == "ACTIVE"
        assert app.screen.query_one("#holds", KeyedTable).has_focus  # enter moved there
        assert column(app, "#holds", "email") == ["ben@example.com"]  # partial text applied


@asynctest
async def test_release_asks_naming_the_hold_and_y_releases(make_app, booking):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        hold = await ask_to_release_bens_hold(pilot, booking)
        asked = question(app)
        for shown in (f"#{hold.id}", "ben@example.com", "Uluru Sunrise", "2030-01-08", "2"):
            assert shown in asked
        assert app.screen.focused.id == "no"  # the safe answer is the default
        await pilot.press("y")
        await settle(pilot)
        assert booking.get_hold(hold.id).status == "RELEASED"


@asynctest
async def test_the_arrows_move_between_the_answers_and_enter_takes_the_focused(make_app, booking):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        hold = await ask_to_release_bens_hold(pilot, booking)
        footer = str(app.screen.query_one(KeyBar).render())
        assert "esc No" in footer  # not "Cancel": the change asked about may be one
        await pilot.press("right")
        assert app.screen.focused.id == "yes"
        await pilot.press("left")
        assert app.screen.focused.id == "no"
        await pilot.press("enter")
        await settle(pilot)
        assert booking.get_hold(hold.id).status == "ACTIVE"


@asynctest
async def test_escape_clears_the_filter(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await holds_screen(pilot)
        await pilot.press("slash", *"ben", "enter")
        await settle(pilot)
        assert len(table_rows(app, "#holds")) == 1
        await pilot.press("escape")
        await settle(pilot)
        assert len(table_rows(app, "#holds")) == 4
        assert not app.screen.query_one("#email").display


@asynctest
async def test_hold_keys_only_on_active_holds(make_app, booking, world_ids):
    app = make_app()
    notes = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        screen = await holds_screen(pilot)
        await pilot.press("s")  # CONFIRMED holds
        await settle(pilot)
        assert screen.status == "CONFIRMED"
        active = {b.action for (_n, b, enabled, _t) in app.screen.active_bindings.values()}
        assert not active & {"confirm_hold", "release_hold", "extend_hold"}
        confirmed = booking.list_holds(status="CONFIRMED")
        await pilot.press("x", "c", "plus")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmModal | FormModal)
        assert booking.list_holds(status="CONFIRMED") == confirmed
        assert "is CONFIRMED: to cancel its booking, press x on its allocation" in notes[-1].message


@asynctest
async def test_hold_detail_of_a_released_hold_offers_no_hold_actions(make_app, booking):
    [released] = booking.list_holds(status="RELEASED")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.show_hold(released.id)
        await settle(pilot)
        assert isinstance(app.screen, HoldDetailScreen)
        keys = {b.action for (_n, b, _e, _t) in app.screen.active_bindings.values()}
        assert not keys & {"confirm_hold", "release_hold", "extend_hold"}
        [active, *_] = booking.list_holds(status="ACTIVE")
        await app.show_hold(active.id)  # an ACTIVE hold: all three offered
        await settle(pilot)
        keys = {b.action for (_n, b, _e, _t) in app.screen.active_bindings.values()}
        assert {"confirm_hold", "release_hold", "extend_hold"} <= keys


@asynctest
async def test_day_detail_keys_act_on_the_focused_table(make_app, booking):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # Land Cruiser 01 today: an active hold, allocations
        await settle(pilot)
        assert isinstance(app.screen, DayScreen)
        allocations = app.screen.query_one("#day-allocations", KeyedTable)
        allocations.focus()
        await pilot.pause()
        actions = {b.action for (_n, b, _e, _t) in app.screen.active_bindings.values()}
        assert "cancel_allocation" in actions and "release_hold" not in actions
        allocation = booking.get_allocation(int(allocations.cursor_key))
        await pilot.press("x")
        await pilot.pause()
        asked = question(app)
        assert f"#{allocation.id}" in asked and allocation.order_id in asked
        await pilot.press("enter")  # the default: keep it
        await settle(pilot)
        assert booking.get_allocation(allocation.id).id == allocation.id
        await pilot.press("x", "y")
        await settle(pilot)
        left = [a.id for a in booking.list_allocations(resource_id=allocation.resource_id)]
        assert allocation.id not in left


@asynctest
async def test_read_only_write_keys_say_so(world_url):
    booking = make_booking(world_url, read_only=True)
    app = ResbookApp(booking, today=TODAY, clock=lambda: NOW)
    notes = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await holds_screen(pilot)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, HoldsScreen)
        assert notes[-1].message == "This session is read-only: nothing can be changed here."
        await pilot.press("2", "e")
        await pilot.pause()
        assert "read-only" in notes[-1].message
        await pilot.press("colon", *"sweep", "enter")
        await settle(pilot)
        assert "read-only" in notes[-1].message
    booking.close()


@asynctest
async def test_lifting_a_blackout_asks_naming_it(make_app, booking, world_ids):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "right", "right", "enter")  # Land Cruiser 02, blacked out
        await settle(pilot)
        [blackout] = booking.list_blackouts(resource_id=world_ids["Land Cruiser 02"])
        await pilot.press("B")
        await pilot.pause()
        asked = question(app)
        assert "Scheduled service" in asked and "Land Cruiser 02" in asked
        await pilot.press("enter")
        await settle(pilot)
        assert booking.list_blackouts(resource_id=world_ids["Land Cruiser 02"]) == [blackout]
        await pilot.press("B", "y")
        await settle(pilot)
        assert booking.list_blackouts(resource_id=world_ids["Land Cruiser 02"]) == []
