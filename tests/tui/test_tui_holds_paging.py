"""The Holds screen on a long queue: it reads a page and the count, never the whole queue;
scrolling loads the page in view; a change elsewhere reads only the holds it names."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_live import until
from tui_helpers import asynctest, column, settle

from conftest import TODAY, make_booking
from resbook_tui.tui.screens.holds_data import PAGE
from resbook_tui.tui.widgets.keyed_table import KeyedTable

SIZE = (80, 24)
EXTRA = PAGE * 2 + 37  # ACTIVE holds added to the world: three pages and a bit


def calls(booking, *methods: str) -> dict[str, list[tuple]]:  # noqa: ANN001
    """Record the calls of these facade methods (they still go to the database)."""
    seen: dict[str, list[tuple]] = {name: [] for name in methods}
    for name in methods:
        original = getattr(booking, name)

        def recording(*args, _name=name, _original=original, **kwargs):  # noqa: ANN002, ANN003, ANN202
            seen[_name].append((args, kwargs))
            return _original(*args, **kwargs)

        setattr(booking, name, recording)
    return seen


@pytest.fixture
def long_queue(booking, world_ids):  # noqa: ANN001, ANN201
    tours = [world_ids["Uluru Sunrise"], world_ids["Kings Canyon Rim"]]
    for n in range(EXTRA):
        day = TODAY + timedelta(10 + n % 40)
        booking.create_hold(tours[n % 2], day, 1, f"guest{n:04d}@example.com", ttl_minutes=60)
    return booking


@asynctest
async def test_the_queue_is_read_a_page_at_a_time(make_app, long_queue):
    seen = calls(long_queue, "list_holds", "hold_page", "count_holds", "get_holds")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        table = app.screen.query_one("#holds", KeyedTable)
        total = long_queue.count_holds(status="ACTIVE")
        assert table.row_count == total == EXTRA + 4
        assert len(table.keys) == PAGE  # loaded: one page
        assert not seen["list_holds"]  # the whole queue was never read
        assert all(kw["limit"] == PAGE for _, kw in seen["hold_page"])
        assert f"{total:,} holds" in str(app.screen.query_one("#holds-title").content)
        await pilot.press("G")  # the last hold: its page is read when it is needed
        await settle(pilot)
        first, last = table.loaded
        assert last == total and first > 0
        assert table.cursor_key is not None
        expected = long_queue.hold_page(status="ACTIVE", offset=total - 1, limit=1)[0]
        assert table.cursor_key == str(expected.id)


@asynctest
async def test_the_filter_is_applied_by_the_database(make_app, long_queue):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3", "slash", *"guest01", "enter")
        await settle(pilot)
        table = app.screen.query_one("#holds", KeyedTable)
        wanted = long_queue.count_holds(status="ACTIVE", email_contains="guest01")
        assert table.row_count == wanted == 100  # guest0100 .. guest0199
        assert all("guest01" in email for email in column(app, "#holds", "email"))


@pytest.mark.parametrize("where", ["in view", "out of view"])
@asynctest
async def test_a_change_elsewhere_reads_only_the_holds_it_names(make_app, world_url, where):
    other = make_booking(world_url)
    for n in range(EXTRA):
        day = TODAY + timedelta(10 + n % 40)
        other.create_hold(4 + n % 2, day, 1, f"guest{n:04d}@example.com", ttl_minutes=60)
    bk = make_booking(world_url)
    app = make_app(booking=bk)  # a live app: it hears the other connection's commits
    seen = calls(bk, "hold_page", "count_holds", "get_holds")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        table = app.screen.query_one("#holds", KeyedTable)
        before = {name: len(made) for name, made in seen.items()}
        queue = other.hold_page(status="ACTIVE", offset=0, limit=EXTRA + 4)
        target = queue[1] if where == "in view" else queue[-1]
        other.release_hold(target.id)
        await until(
            pilot,
            lambda: len(seen["get_holds"]) > before["get_holds"] and app.busy == 0,
            "the released hold read by id",
        )
        await settle(pilot)
        [(args, _kwargs)] = seen["get_holds"][before["get_holds"] :]
        assert list(args[0]) == [target.id]
        page_reads = len(seen["hold_page"]) - before["hold_page"]
        if where == "in view":
            assert page_reads == 1  # it shows: the page is read again
            row = table.row(str(target.id))
            assert row is not None  # kept in place, with its new status where its
            # countdown was (at 80 columns the queue has no Status column), as drawn:
            lines = [str(table.render_line(y).text).split() for y in range(1, 6)]
            assert [str(target.id), "RELEASED"] in [words[:2] for words in lines], lines
            assert "1 closed meanwhile" in str(app.screen.query_one("#holds-title").content)
        else:
            assert page_reads == 0  # off screen: only the count changes
            assert table.row_count == EXTRA + 3
    other.close()
    bk.close()
