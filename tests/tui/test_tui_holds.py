"""The hold queue: countdowns, the email filter, confirm / release / extend, hold detail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tui_helpers import (
    asynctest,
    cancel_booking,
    column,
    record_notifications,
    settle,
    table_rows,
    text_of,
)

from conftest import NOW
from resbook_tui.tui.screens.hold_detail import HoldDetailScreen
from resbook_tui.tui.screens.holds import HoldsScreen
from resbook_tui.tui.widgets.countdown import countdown, format_left, seconds_left
from resbook_tui.tui.widgets.keyed_table import KeyedTable


def test_countdown_format_and_roles():
    assert format_left(0) == "expired"
    assert format_left(59) == "0:59"
    assert format_left(61 * 60 + 5) == "1:01:05"
    assert format_left(2 * 86400 + 3 * 3600) == "2d 03h"
    at = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    assert seconds_left(at, at - timedelta(seconds=0.2)) == 1  # rounds up: never 0:00 early
    assert countdown(at, at - timedelta(minutes=4)).role == "warning"
    assert countdown(at, at - timedelta(minutes=6)).role == ""
    assert countdown(at, at).text == "expired" and countdown(at, at).role == "error"


async def open_holds(pilot) -> HoldsScreen:
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    assert isinstance(pilot.app.screen, HoldsScreen)
    return pilot.app.screen


@asynctest
async def test_queue_lists_active_holds_soonest_first_with_countdowns(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_holds(pilot)
        rows = table_rows(app, "#holds")
        assert [r[5] for r in rows] == [
            "ana@example.com",
            "ben@example.com",
            "chen@example.com",
            "ana@example.com",
        ]
        assert set(column(app, "#holds", "status")) == {"ACTIVE"}
        table = app.screen.query_one("#holds", KeyedTable)
        left = [str(table.render_line(y).text).split()[1] for y in range(1, 5)]
        assert left == ["3:00", "12:00", "45:00", "2:05:00"]


@asynctest
async def test_countdown_ticks_from_the_clock_without_querying(make_app, booking):
    now = [NOW]
    app = make_app(clock=lambda: now[0])
    calls = []
    original = booking.list_holds
    booking.list_holds = lambda *a, **k: calls.append(1) or original(*a, **k)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_holds(pilot)
        queried = len(calls)
        table = app.screen.query_one("#holds", KeyedTable)
        now[0] = NOW + timedelta(minutes=2, seconds=30)
        table.tick()
        await pilot.pause(1.2)  # the screen's own one-second tick runs too
        assert str(table.render_line(1).text).split()[1] == "0:30"
        now[0] = NOW + timedelta(minutes=4)
        await pilot.pause(1.2)
        assert str(table.render_line(1).text).split()[1] == "expired"
        assert len(calls) == queried  # ticking never re-queries


@asynctest
async def test_filter_narrows_as_you_type_and_enter_shows_the_customer(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_holds(pilot)
        await pilot.press("slash")
        await pilot.press(*"ana")
        await pilot.pause()
        assert {r[5] for r in table_rows(app, "#holds")} == {"ana@example.com"}
        assert len(table_rows(app, "#holds")) == 2
        await pilot.press(*"@example.com", "enter")
        await settle(pilot)
        statuses = set(column(app, "#holds", "status"))
        assert statuses == {"ACTIVE", "CONFIRMED", "RELEASED", "EXPIRED"}
        allocations = table_rows(app, "#allocations")
        assert sorted(a[4] for a in allocations) == ["order-1", "order-6"]
        assert app.screen.query_one("#allocations").display
        await pilot.press("escape")
        await settle(pilot)
        assert not app.screen.query_one("#allocations").display
        assert len(table_rows(app, "#holds")) == 4


@asynctest
async def test_the_customer_view_says_which_booking_was_cancelled(make_app, booking):
    """Support looks a customer up: a cancelled booking is not shown as CONFIRMED."""
    allocation = cancel_booking(booking, "order-1")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_holds(pilot)
        await pilot.press("slash", *"ana@example.com", "enter")
        await settle(pilot)
        ids, statuses = column(app, "#holds", "id"), column(app, "#holds", "status")
        shown = dict(zip(ids, statuses, strict=True))
        assert shown[str(allocation.hold_id)] == "CANCELLED"
        assert "CONFIRMED" in shown.values()  # order-6 still stands
        assert sorted(a[4] for a in table_rows(app, "#allocations")) == ["order-6"]


@asynctest
async def test_the_confirmed_queue_says_which_booking_was_cancelled(make_app, booking):
    """Dispatch pages through confirmed holds: a cancelled booking reads CANCELLED there
    too (its row stays CONFIRMED, so the CONFIRMED queue still lists it)."""
    allocation = cancel_booking(booking, "order-1")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_holds(pilot)
        await pilot.press("s")  # ACTIVE -> CONFIRMED
        await settle(pilot)
        ids, statuses = column(app, "#holds", "id"), column(app, "#holds", "status")
        shown = dict(zip(ids, statuses, strict=True))
        assert shown[str(allocation.hold_id)] == "CANCELLED"
        assert "CONFIRMED" in shown.values()  # order-6 still stands


@asynctest
async def test_confirm_a_hold_with_the_form(make_app, booking, world_ids):
    app = make_app()
    notes = record_notifications(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_holds(pilot)
        hold_id = int(app.screen.query_one("#holds", KeyedTable).cursor_key)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("enter")  # empty fields: refused beside the fields
        await pilot.pause()
        assert "required" in str(app.screen.query_one("#message-order_id").content)
        await pilot.press(*"order-77", "tab", *"li-9", "enter")
        await settle(pilot)
        assert any(n.title == "Confirmed" for n in notes)
        assert booking.get_hold(hold_id).status == "CONFIRMED"
        assert str(hold_id) not in [r[0] for r in table_rows(app, "#holds")]


@asynctest
async def test_release_asks_first_then_releases(make_app, booking):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_holds(pilot)
        hold_id = int(app.screen.query_one("#holds", KeyedTable).cursor_key)
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("n")  # no: nothing happens
        await settle(pilot)
        assert booking.get_hold(hold_id).status == "ACTIVE"
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert booking.get_hold(hold_id).status == "RELEASED"
        assert len(table_rows(app, "#holds")) == 3


@asynctest
async def test_extend_moves_the_expiry(make_app, booking):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_holds(pilot)
        hold_id = int(app.screen.query_one("#holds", KeyedTable).cursor_key)
        before = booking.get_hold(hold_id).expires_at
        await pilot.press("plus")
        await pilot.pause()
        assert app.screen.query_one("#field-value").value == "15"
        await pilot.press("enter")  # the form as it opened: enter only arms the button
        await settle(pilot)
        assert booking.get_hold(hold_id).expires_at == before
        assert "enter again to extend" in str(app.screen.query_one("#form-error").content)
        notes = record_notifications(app)
        await pilot.press("enter")
        await settle(pilot)
        after = before + timedelta(minutes=15)
        assert booking.get_hold(hold_id).expires_at == after
        # The whole moment: an extension may cross midnight, or go days ahead.
        assert notes[-1].message == f"Hold #{hold_id} now expires at {after:%Y-%m-%d %H:%M:%S} UTC."
        table = app.screen.query_one("#holds", KeyedTable)
        # Re-sorted by expiry, diffed by key: the cursor followed the hold to its new place.
        assert table.cursor_key == str(hold_id) and table.cursor_row == 1
        assert str(table.render_line(2).text).split()[1] == "18:00"


@asynctest
async def test_refusal_from_the_engine_is_a_notification(make_app, booking):
    app = make_app()
    notes = record_notifications(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_holds(pilot)
        hold_id = int(app.screen.query_one("#holds", KeyedTable).cursor_key)
        booking.release_hold(hold_id)  # someone else got there first
        await pilot.press("plus", "enter", "enter")
        await settle(pilot)
        assert notes[-1].severity == "warning"
        assert notes[-1].title == "Refused: invalid state"
        assert "RELEASED" in notes[-1].message
        assert "RELEASED" in str(app.screen.query_one("#form-error").content)  # form kept
        await pilot.press("escape", "r")  # the screen is still usable
        await settle(pilot)
        assert str(hold_id) not in [r[0] for r in table_rows(app, "#holds")]


@asynctest
async def test_hold_detail_shows_history(make_app, booking, world_ids):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_holds(pilot)
        await pilot.press("slash", *"ana@example.com", "enter")
        await settle(pilot)
        table = app.screen.query_one("#holds", KeyedTable)
        status = [c.key for c in table.columns].index("status")
        confirmed = next(k for k in table.keys if table.row(k)[status].text == "CONFIRMED")
        table.move_cursor_to(confirmed)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HoldDetailScreen)
        actions = [r[1] for r in table_rows(app, "#hold-history")]
        assert actions == ["hold.create", "hold.confirm"]
        assert "CONFIRMED" in text_of(app, "#hold-title")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HoldsScreen)
