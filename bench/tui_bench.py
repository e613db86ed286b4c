"""How fast the operator TUI is on a big fleet: heatmap first frame, cursor and page moves,
and the hold queue's countdown tick with 10,000 ACTIVE holds.

    python bench/tui_bench.py [--dialect sqlite|postgresql|both] [--resources N] [--days N]
                              [--holds N] [--size 120x36]

Targets (issue 4): the heatmap's first full frame within 1 s of the app starting its data
load; a cursor move or a page re-renders within 50 ms; the countdown tick costs under
20 ms per second with 10,000 ACTIVE holds. Runs headless (App.run_test); "render" is the
grid's own render_lines over the whole widget, which is what the compositor asks for.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from textual.geometry import Region  # noqa: E402

from common import description, dialects  # noqa: E402
from resbook_tui.booking import Booking  # noqa: E402
from resbook_tui.db import open_database  # noqa: E402
from resbook_tui.schema.migrations import Migrator  # noqa: E402
from resbook_tui.seed import SeedPlan, seed  # noqa: E402
from resbook_tui.tui import ResbookApp  # noqa: E402
from resbook_tui.tui.screens.heatmap import HeatmapScreen  # noqa: E402
from resbook_tui.tui.screens.holds import HoldsScreen  # noqa: E402
from resbook_tui.tui.widgets.heatmap_grid import HeatmapGrid  # noqa: E402
from resbook_tui.tui.widgets.keyed_table import KeyedTable  # noqa: E402


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {ms(statistics.median(ordered))}   p95 {ms(p95)}   max {ms(ordered[-1])}"


def render_all(widget) -> float:  # noqa: ANN001
    """Time one full paint of the widget (every visible line)."""
    widget.refresh()
    started = time.perf_counter()
    widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return time.perf_counter() - started


async def wait_until(pilot, done, timeout: float = 30.0) -> float:  # noqa: ANN001
    started = time.perf_counter()
    while not done():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("the TUI did not finish loading")
        await asyncio.sleep(0.002)
    return time.perf_counter() - started


async def bench_heatmap(url: str, today, size: tuple[int, int]) -> None:  # noqa: ANN001
    booking = Booking.connect(url)
    load_started: list[float] = []
    original = HeatmapScreen.reload

    def timed_reload(self: HeatmapScreen) -> None:
        load_started.append(time.perf_counter())
        original(self)

    HeatmapScreen.reload = timed_reload  # type: ignore[method-assign]
    calls: list[float] = []
    availability = booking.availability

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        return availability(*args, **kwargs)

    booking.availability = counted  # type: ignore[method-assign]
    app = ResbookApp(booking, today=today)
    try:
        async with app.run_test(size=size) as pilot:
            while not load_started or not isinstance(app.screen, HeatmapScreen):
                await asyncio.sleep(0.001)
            grid = app.screen.query_one(HeatmapGrid)
            await wait_until(pilot, lambda: grid.rows and grid.window_loaded())
            frame = render_all(grid)
            first = time.perf_counter() - load_started[0]
            print(f"  heatmap first full frame      {ms(first)}  (load start -> data -> painted)")
            rows, queries = len(grid.rows), len(calls)
            print(f"    of which the last paint     {ms(frame)}   rows {rows}, queries {queries}")

            moves = []
            for n in range(200):
                started = time.perf_counter()
                grid.action_move(1 if n % 40 < 20 else -1, 1 if n % 10 < 5 else -1)
                grid.render_lines(Region(0, 0, grid.size.width, grid.size.height))
                moves.append(time.perf_counter() - started)
            print(f"  cursor move + full repaint    {summary(moves)}")

            pages = []
            queried = len(calls)
            for n in range(40):
                started = time.perf_counter()
                grid.action_page(1 if n < 20 else -1)
                grid.render_lines(Region(0, 0, grid.size.width, grid.size.height))
                pages.append(time.perf_counter() - started)
                await wait_until(pilot, grid.window_loaded)
            print(f"  page down/up + full repaint   {summary(pages)}  (from what is loaded)")
            print(f"    window queries for 40 pages {len(calls) - queried}")

            fresh = []
            for _ in range(8):  # a week at a time, far enough that the window must be fetched
                started = time.perf_counter()
                grid.goto_date(grid.cursor_date + timedelta(35))
                await wait_until(pilot, grid.window_loaded)
                grid.render_lines(Region(0, 0, grid.size.width, grid.size.height))
                fresh.append(time.perf_counter() - started)
            print(f"  jump 5 weeks: query + paint   {summary(fresh)}")
    finally:
        HeatmapScreen.reload = original  # type: ignore[method-assign]
        booking.close()


async def bench_holds(url: str, today, holds: int, size: tuple[int, int]) -> None:  # noqa: ANN001
    booking = Booking.connect(url)
    now = [datetime.now(UTC)]
    app = ResbookApp(booking, today=today, clock=lambda: now[0])
    try:
        async with app.run_test(size=size) as pilot:
            started = time.perf_counter()
            await pilot.press("3")
            while not isinstance(app.screen, HoldsScreen):
                await asyncio.sleep(0.001)
            table = app.screen.query_one("#holds", KeyedTable)
            await wait_until(pilot, lambda: table.row_count >= holds)
            took = time.perf_counter() - started
            print(f"  hold queue: key 3 -> {table.row_count:,} rows shown {ms(took)}")
            ticks = []
            for _ in range(30):
                now[0] += timedelta(seconds=1)
                started = time.perf_counter()
                table.tick()
                table.render_lines(Region(0, 0, table.size.width, table.size.height))
                ticks.append(time.perf_counter() - started)
            print(f"  countdown tick + repaint      {summary(ticks)}")
            keys = []
            for n in range(60):  # scrolling the 10,000 rows stays as cheap
                started = time.perf_counter()
                table.action_page_down() if n < 30 else table.action_cursor_up()
                table.render_lines(Region(0, 0, table.size.width, table.size.height))
                keys.append(time.perf_counter() - started)
            print(f"  queue page/cursor + repaint   {summary(keys)}")
    finally:
        booking.close()


def build(url: str, resources: int, days: int, holds: int):  # noqa: ANN201
    db = open_database(url)
    Migrator(db).up()
    started = time.perf_counter()
    per_type = resources // 3
    result = seed(
        db,
        SeedPlan(vehicles=resources - 2 * per_type, tours=per_type, guides=per_type, days=days),
    )
    print(
        f"  seeded {resources:,} resources x {days} days in {time.perf_counter() - started:.1f} s"
    )
    bk = Booking(db, actor="bench")
    started = time.perf_counter()
    made = 0
    tours = [r for r in bk.list_resources(resource_type="TOUR")]
    span = min(days, 366)
    for resource in tours:  # tours take 12: one unit a day each, a year per call
        if made >= holds:
            break
        count = min(span, holds - made)
        last = result.start + timedelta(count - 1)
        bk.create_holds(resource.id, result.start, last, 1, "bench@example.com", ttl_minutes=600)
        made += count
    print(f"  {made:,} ACTIVE holds in {time.perf_counter() - started:.1f} s")
    db.close()
    return result.start


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--dialect", default="sqlite", choices=["both", "sqlite", "postgresql"])
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--holds", type=int, default=10_000)
    parser.add_argument("--size", default="120x36", help="terminal size, WIDTHxHEIGHT")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    for name, make in dialects(args.dialect):
        with make() as url:
            print(f"{name}: terminal {width}x{height}")
            today = build(url, args.resources, args.days, args.holds)
            asyncio.run(bench_heatmap(url, today, (width, height)))
            asyncio.run(bench_holds(url, today, args.holds, (width, height)))


if __name__ == "__main__":
    main()
