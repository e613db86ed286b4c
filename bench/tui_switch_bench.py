"""The TUI as an operator meets it: the demo database at 80x24, its first frame and how long
switching screens takes, beside the database reads those screens make (the reference).

    python bench/tui_switch_bench.py [--size 80x24] [--rounds 20]

"First frame": from the app starting until the heatmap's window is loaded and painted.
"Switch": from the key's action (1, 2, 3) until that screen shows fresh data and is painted. The
reference is the same screen's read, run directly on the Booking facade in this run, so the
difference is what the TUI itself costs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from textual.geometry import Region  # noqa: E402

from common import description  # noqa: E402
from resbook_tui.booking import Booking  # noqa: E402
from resbook_tui.tui import ResbookApp  # noqa: E402
from resbook_tui.tui.demo import prepare_demo  # noqa: E402
from resbook_tui.tui.screens.heatmap import HeatmapScreen  # noqa: E402
from resbook_tui.tui.screens.holds import HoldsScreen  # noqa: E402
from resbook_tui.tui.screens.holds_data import load_window  # noqa: E402
from resbook_tui.tui.screens.resources import (
    ResourcesScreen,  # noqa: E402
    load_fleet,  # noqa: E402
)
from resbook_tui.tui.widgets.heatmap_grid import HeatmapGrid  # noqa: E402

SCREENS = {"1": ResourcesScreen, "2": HeatmapScreen, "3": HoldsScreen}
MODES = {"1": "resources", "2": "heatmap", "3": "holds"}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:6.1f} ms"


def spread(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {ms(statistics.median(ordered))}  p95 {ms(p95)}  max {ms(ordered[-1])}"


async def until(done, timeout: float = 20.0) -> None:  # noqa: ANN001
    started = time.perf_counter()
    while not done():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("the TUI did not settle")
        await asyncio.sleep(0.001)


def painted(app: ResbookApp) -> None:
    screen = app.screen
    screen.refresh()
    for widget in screen.query("*"):
        if widget.display and widget.size.area:
            widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))


async def run(url: str, size: tuple[int, int], rounds: int) -> None:
    booking = Booking.connect(url)
    today = booking.today()
    answered: list[str] = []  # one entry per read the TUI's screens made
    for name in ("list_resources", "list_holds", "hold_page", "availability"):
        original = getattr(booking, name)

        def counted(*args, _read=original, _name=name, **kwargs):  # noqa: ANN002, ANN003, ANN202
            result = _read(*args, **kwargs)
            answered.append(_name)
            return result

        setattr(booking, name, counted)
    started = time.perf_counter()
    app = ResbookApp(booking, live=False)
    async with app.run_test(size=size) as pilot:
        await until(lambda: isinstance(app.screen, HeatmapScreen))
        grid = app.screen.query_one(HeatmapGrid)
        await until(lambda: bool(grid.rows) and grid.window_loaded() and app.busy == 0)
        painted(app)
        first = time.perf_counter() - started
        where = f"{size[0]}x{size[1]}"
        print(f"  first frame at {where:<14} {ms(first)}  (app start -> heatmap painted)")

        switches: dict[str, list[float]] = {key: [] for key in SCREENS}
        for _ in range(rounds):
            for key, screen_type in SCREENS.items():
                await pilot.pause()
                before = len(answered)
                began = time.perf_counter()
                # What the key runs (Pilot.press would add its own waiting for idle).
                await app.run_action(f"switch_mode('{MODES[key]}')")
                await until(lambda t=screen_type: isinstance(app.screen, t))
                # The screen's fresh data has come back and nothing else is in flight.
                await until(lambda n=before: len(answered) > n and app.busy == 0)
                painted(app)
                switches[key].append(time.perf_counter() - began)
        for key, screen_type in SCREENS.items():
            print(f"  switch to {screen_type.__name__:<16} {spread(switches[key])}")

    reads = {
        "resources": lambda: load_fleet(booking, today),
        "holds": lambda: load_window(booking, status="ACTIVE", text="", offset=0),
        "heatmap": lambda: booking.list_resources(),
    }
    for name, read in reads.items():
        samples = []
        for _ in range(rounds):
            began = time.perf_counter()
            read()
            samples.append(time.perf_counter() - began)
        print(f"  reference: {name + ' read':<19} {spread(samples)}")
    booking.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--size", default="80x24")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/demo.db"
        began = time.perf_counter()
        prepare_demo(url)
        print(f"demo database built in {time.perf_counter() - began:.1f} s (SQLite)")
        asyncio.run(run(url, (width, height), args.rounds))


if __name__ == "__main__":
    main()
