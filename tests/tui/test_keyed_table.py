"""KeyedTable updates by diff: the cursor keeps its row and, scrolled down, its place."""

from __future__ import annotations

from textual.app import App, ComposeResult
from tui_helpers import asynctest

from resbook_tui.tui.widgets.keyed_table import Column, KeyedTable

COLUMNS = [Column("id", "Id", width=6), Column("name", "Name", width=10)]


def rows(keys: list[int]) -> list[tuple[str, list[str]]]:
    return [(str(k), [str(k), f"row {k}"]) for k in keys]


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, id="t")


@asynctest
async def test_rows_arriving_above_a_scrolled_view_do_not_move_what_is_seen():
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(KeyedTable)
        table.sync(rows(list(range(100, 200))))
        await pilot.pause()
        table.move_cursor_to("160")
        await pilot.pause()
        top, line = int(table.scroll_y), table.cursor_row - int(table.scroll_y)
        assert top > 0
        table.sync(rows([1, 2, 3, *range(100, 200)]))  # three rows arrive above
        await pilot.pause()
        assert table.cursor_key == "160"
        assert int(table.scroll_y) == top + 3  # the view followed the cursor's row...
        assert table.cursor_row - int(table.scroll_y) == line  # ...on the same screen line
        table.sync(rows(list(range(150, 200))))  # rows above leave: the view follows too
        await pilot.pause()
        assert table.cursor_key == "160"
        assert table.cursor_row - int(table.scroll_y) == line


@asynctest
async def test_at_the_top_new_rows_show_and_the_cursor_keeps_its_row():
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(KeyedTable)
        table.sync(rows([10, 20, 30]))
        await pilot.pause()
        table.move_cursor_to("20")
        table.sync(rows([5, 10, 20, 30]))
        await pilot.pause()
        assert table.cursor_key == "20" and table.cursor_row == 2
        assert int(table.scroll_y) == 0


@asynctest
async def test_a_new_count_alone_keeps_the_loaded_rows_and_the_cursor():
    """A change elsewhere in a long queue moves only the count: the rows loaded, the
    cursor's row and the view stay; a count below the cursor brings the cursor back."""
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(KeyedTable)
        table.sync_window(rows(list(range(100, 150))), total=10_000, offset=0)
        await pilot.pause()
        table.move_cursor_to("120")
        await pilot.pause()
        top = int(table.scroll_y)
        assert table.sync_window(rows(list(range(100, 150))), total=10_001, offset=0)
        await pilot.pause()
        assert (table.total_rows, table.loaded, table.cursor_key) == (10_001, (0, 50), "120")
        assert int(table.scroll_y) == top
        assert table.virtual_size.height == 1 + 10_001  # the scroll range follows the count
        assert not table.sync_window(rows(list(range(100, 150))), total=10_001, offset=0)
        table.sync_window(rows(list(range(100, 110))), total=10, offset=0)
        await pilot.pause()
        assert (table.total_rows, table.cursor_row) == (10, 9)


@asynctest
async def test_a_new_count_moves_the_scrollbar_without_laying_the_screen_out(layouts):
    """A change elsewhere in a long queue cost a layout of the whole screen (setting
    ``virtual_size`` does one); while the scrollbar shows before and after, only its
    range moves. When the rows come to fit, the scrollbar goes: that is laid out."""
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(KeyedTable)
        table.sync_window(rows(list(range(100, 150))), total=10_000, offset=0)
        await pilot.pause()
        table.scroll_to(y=9_995, animate=False, immediate=True)
        await pilot.pause()
        layouts.count = 0
        table.sync_window(rows(list(range(100, 150))), total=9_000, offset=0)
        await pilot.pause()
        assert layouts.count == 0
        assert table.vertical_scrollbar.window_virtual_size == 1 + 9_000
        assert table.scroll_y == table.max_scroll_y  # the view stays inside the rows
        assert table.show_vertical_scrollbar
        table.sync_window(rows(list(range(100, 105))), total=5, offset=0)
        await pilot.pause()
        assert layouts.count > 0 and not table.show_vertical_scrollbar


@asynctest
async def test_a_tick_repaints_only_the_countdowns_that_moved():
    """Each second the live column is formatted again; only lines whose text moved are
    repainted (an expired hold, or one days away, reads the same a second later)."""
    from datetime import UTC, datetime, timedelta

    now = [datetime(2026, 12, 1, 12, 0, tzinfo=UTC)]

    def left(expires: datetime, at: datetime) -> str:
        seconds = int((expires - at).total_seconds())
        return "expired" if seconds <= 0 else f"{seconds}s" if seconds < 60 else "later"

    class LiveApp(App[None]):
        def compose(self) -> ComposeResult:
            yield KeyedTable(
                [Column("id", "Id", width=6), Column("left", "Left", width=8, live=left)],
                clock=lambda: now[0],
            )

    app = LiveApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(KeyedTable)
        soon = [now[0] + timedelta(seconds=30), now[0] - timedelta(hours=1)]
        table.sync((str(n), [str(n), soon[n % 2]]) for n in range(8))
        await pilot.pause()
        repainted: list[int] = []
        refresh = table.refresh

        def recorded(*regions, **kwargs):
            repainted.extend(region.y for region in regions)
            return refresh(*regions, **kwargs)

        table.refresh = recorded
        table.tick()  # nothing moved since the first paint
        assert repainted == []
        now[0] += timedelta(seconds=1)
        table.tick()  # the even rows count down; the odd ones stay "expired"
        assert repainted == [1, 3, 5, 7]
        await pilot.pause()
        assert str(table.render_line(1).text).split() == ["0", "29s"]
