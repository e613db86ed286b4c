"""The TUI half of the season benchmark, in a process of its own so that its CPU time and
memory are the TUI's alone (the changes it must show come from another process).

    python bench/season_tui.py SPEC.json OUT.json     (run by season.py)

The app runs under ``App.run_test`` at the spec's size and is driven by keys
(``App.simulate_key``). "Settled" means no booking call in flight, no worker pending, and
the screen text unchanged for a short quiet spell; a figure is the time from the key to the
first frame of that final screen (each check draws the whole screen, as a terminal would).

- heatmap: page down ``pages`` times, then up again; pages whose move asked the database
  for a new window are timed apart from those drawn from what was loaded (cached).
- holds: key 3 until the first ACTIVE hold (by the default order) is on screen; RSS; the
  TUI's CPU per second idle, then while another process commits ``changes`` changes (hold
  create, confirm, create, release, ...) ``interval`` seconds apart, less the idle rate, per
  change; then how long releases of the holds on screen, made by another connection, take
  to show in their rows, and a new hold in the count.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from resbook_tui.booking import Booking  # noqa: E402
from season_probe import make_app, rss_mb, screen_text, workers_busy  # noqa: E402

QUIET_S = 0.03  # the screen must stay the same this long to count as settled
NO_MOVE_S = 1.0  # a page key that changes nothing in this long was at the end: not counted
CLOCK = re.compile(r"\b\d\d:\d\d:\d\d\b")
POLL_S = 0.005
LOADING = "░"  # how the heatmap draws a cell whose window is still being read
WRITERS = str(Path(__file__).resolve().parent / "season_writers.py")


class Reads:
    """Counts the facade calls the TUI makes (calls, rows returned, in flight): every public
    method of the Booking instance is wrapped, whatever the TUI comes to call."""

    def __init__(self, booking: Booking) -> None:
        self.calls: Counter[str] = Counter()
        self.rows: Counter[str] = Counter()
        self.in_flight = 0
        self.windows: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()
        for name in dir(type(booking)):
            method = getattr(booking, name)
            if name.startswith("_") or name in ("close", "cancel_running"):
                continue
            if callable(method) and not isinstance(getattr(type(booking), name), property):
                setattr(booking, name, self._wrap(name, method))

    def total(self) -> int:
        return sum(self.calls.values())

    def _wrap(self, name: str, original: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.in_flight += 1
            try:
                result = original(*args, **kwargs)
            finally:
                with self._lock:
                    self.in_flight -= 1
            with self._lock:
                self.calls[name] += 1
                self.rows[name] += len(result) if isinstance(result, list) else 1
                if name == "availability":
                    self.windows.append((args, kwargs))
            return result

        return call

    def total_rows(self) -> int:
        return sum(self.rows.values())


def unclocked(text: str) -> str:
    """The screen without its clock: a ticking second is not a change worth waiting for."""
    return CLOCK.sub("hh:mm:ss", text)


async def settle(
    app: Any,
    reads: Reads,
    began: float,
    ok: Any = None,
    timeout: float = 120.0,
    drawn: Any = None,
    seen: list[float] | None = None,
) -> tuple[float, str]:
    """(seconds from ``began`` to the first frame of the settled screen, its text). ``ok``
    (given the text without its clock) must hold too. ``seen`` gets the seconds to the
    first frame for which ``drawn`` held, settled or not (reads may still be running)."""
    last: str | None = None
    last_at = 0.0
    while True:
        await asyncio.sleep(POLL_S)
        if time.perf_counter() - began > timeout:
            raise TimeoutError("the TUI did not settle")
        watching = drawn is not None and seen is not None and not seen
        if watching and drawn(unclocked(screen_text(app))):
            seen.append(time.perf_counter() - began)  # type: ignore[union-attr]
        if reads.in_flight or workers_busy(app):
            last = None
            continue
        text = unclocked(screen_text(app))
        if ok is not None and not ok(text):
            last = None
            continue
        if text != last:
            last, last_at = text, time.perf_counter()
            continue
        if time.perf_counter() - last_at >= QUIET_S:
            return last_at - began, last


def id_pattern(hold_id: int) -> re.Pattern[str]:
    return re.compile(rf"(?<![\d,.]){hold_id}(?![\d,.])")


def line_with(text: str, hold_id: int) -> str | None:
    pattern = id_pattern(hold_id)
    return next((line for line in text.splitlines() if pattern.search(line)), None)


def count_shown(text: str) -> str | None:
    found = re.search(r"([\d,]+) holds?\b", text)
    return found.group(1) if found else None


async def page_heatmap(app: Any, reads: Reads, pages: int, samples: int) -> dict[str, Any]:
    """Page down ``pages`` times and back up; on a small fleet, refresh (r: what is loaded
    is forgotten) and go again, until ``samples`` pages needed a new window (5 rounds at most)."""
    new: list[float] = []
    cached: list[float] = []
    drawn: list[float] = []
    for round_ in range(5):
        if len(new) >= samples:
            break
        if round_:
            app.simulate_key("r")
            await settle(app, reads, time.perf_counter())
        await _page_round(app, reads, pages, (new, cached, drawn))
    window = reads.windows[-1] if reads.windows else None
    return {
        "new_window_s": new,
        "cached_s": cached,
        "new_drawn_s": drawn,
        "window": _window(window),
    }


async def _page_round(
    app: Any, reads: Reads, pages: int, out: tuple[list[float], list[float], list[float]]
) -> None:
    new, cached, drawn = out
    for key in ["pagedown"] * pages + ["pageup"] * pages:
        before, asked = unclocked(screen_text(app)), reads.calls["availability"]
        # A cell not loaded yet draws as LOADING; the settled screen before the key has
        # none in the grid (the legend shows one): the page is drawn when that holds again.
        loading = before.count(LOADING)
        seen: list[float] = []
        began = time.perf_counter()
        app.simulate_key(key)
        try:
            took, _ = await settle(
                app,
                reads,
                began,
                ok=lambda text, b=before: text != b,
                timeout=NO_MOVE_S,
                drawn=lambda text, b=before, n=loading: text != b and text.count(LOADING) <= n,
                seen=seen,
            )
        except TimeoutError:
            continue  # nothing moved: the first or last page already
        # A new window is a Booking.availability call (the facade's one read of cells).
        if reads.calls["availability"] > asked:
            new.append(took)
            drawn.append(seen[0] if seen else took)
        else:
            cached.append(took)


def _window(call: tuple[Any, ...] | None) -> dict[str, Any] | None:
    if call is None:
        return None
    args, kwargs = call
    names = ("date_from", "date_to", "resource_id", "resource_type", "resource_ids")
    bound = {**dict(zip(names, args, strict=False)), **kwargs}
    return {
        "date_from": str(bound["date_from"]),
        "date_to": str(bound["date_to"]),
        "resource_ids": list(bound.get("resource_ids") or []),
        "resource_type": bound.get("resource_type"),
    }


async def commit_changes(spec: dict[str, Any]) -> tuple[float, float, int]:
    """Another process commits the changes; (CPU seconds, wall seconds, changes) of ours."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        WRITERS,
        "changer",
        json.dumps({"url": spec["url"], "changes": spec["changes"], "interval": spec["interval"]}),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    await proc.stdout.readline()  # ready: imported and connected
    cpu, wall = time.process_time(), time.perf_counter()
    proc.stdin.write(b"go\n")
    await proc.stdin.drain()
    done = json.loads(await proc.stdout.readline())
    await proc.wait()
    # What the last change started (a throttled refresh, its reads) belongs to the bill.
    await asyncio.sleep(spec["tail"])
    return time.process_time() - cpu, time.perf_counter() - wall, done["changes"]


async def idle(app: Any, reads: Reads, quiet: float = 0.3, timeout: float = 30.0) -> None:
    """Until nothing is in flight for ``quiet`` seconds: each watched change starts clean."""
    began = calm = time.perf_counter()
    while time.perf_counter() - calm < quiet and time.perf_counter() - began < timeout:
        await asyncio.sleep(0.02)
        if reads.in_flight or workers_busy(app):
            calm = time.perf_counter()


async def watch_releases(
    app: Any, reads: Reads, other: Booking, holds: list[int]
) -> list[float | None]:
    """Seconds from another connection's commit to the hold's row changing on screen."""
    out: list[float | None] = []
    for hold_id in holds:
        await idle(app, reads)
        before = line_with(screen_text(app), hold_id)
        if before is None:
            continue  # not on screen (any more)
        await asyncio.to_thread(other.release_hold, hold_id)
        committed = time.perf_counter()
        out.append(
            await _until(app, committed, lambda t, b=before, h=hold_id: line_with(t, h) != b)
        )
    return out


async def watch_count(
    app: Any, reads: Reads, other: Booking, cell: tuple[int, str]
) -> float | None:
    """Seconds from another connection's new hold to the count of holds changing."""
    await idle(app, reads)
    before = count_shown(screen_text(app))
    if before is None:
        return None
    await asyncio.to_thread(other.create_hold, cell[0], cell[1], 1, "watch@example.com")
    committed = time.perf_counter()
    return await _until(app, committed, lambda t: count_shown(t) != before)


async def _until(app: Any, began: float, changed: Any, timeout: float = 10.0) -> float | None:
    while time.perf_counter() - began < timeout:
        await asyncio.sleep(0.02)
        if changed(screen_text(app)):
            return time.perf_counter() - began
    return None


async def holds_screen(app: Any, reads: Reads, spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    top = spec["top_holds"]
    first = id_pattern(top[0])
    before = unclocked(screen_text(app))
    began = time.perf_counter()
    app.simulate_key("3")
    out["open_s"], _ = await settle(
        app, reads, began, ok=lambda text: text != before and bool(first.search(text))
    )
    out["rss_open_mb"], _ = rss_mb()
    await asyncio.sleep(1.0)
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.sleep(spec["idle"])
    out["idle_cpu_per_s"] = (time.process_time() - cpu) / (time.perf_counter() - wall)
    rows_before = reads.total_rows()
    calls_before = reads.total()
    cpu_s, wall_s, changes = await commit_changes(spec)
    out["changes"] = changes
    out["change_cpu_s"], out["change_wall_s"] = cpu_s, wall_s
    out["cpu_per_change_s"] = (cpu_s - out["idle_cpu_per_s"] * wall_s) / max(changes, 1)
    out["rows_per_change"] = (reads.total_rows() - rows_before) / max(changes, 1)
    out["calls_per_change"] = (reads.total() - calls_before) / max(changes, 1)
    out["rss_after_changes_mb"], out["rss_peak_mb"] = rss_mb()
    other = Booking.connect(spec["url"], actor="elsewhere")
    try:
        out["release_visible_s"] = await watch_releases(app, reads, other, top[: spec["watch"]])
        out["create_visible_s"] = await watch_count(app, reads, other, tuple(spec["free_cell"]))
    finally:
        other.close()
    return out


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    booking = Booking.connect(spec["url"])
    reads = Reads(booking)
    out: dict[str, Any] = {"rss_start_mb": rss_mb()[0]}
    app = make_app(booking)
    began = time.perf_counter()
    try:
        async with app.run_test(size=tuple(spec["size"])):
            out["first_frame_s"], _ = await settle(app, reads, began)
            out["rss_heatmap_mb"] = rss_mb()[0]
            if "heatmap" in spec["phases"]:
                out["heatmap"] = await page_heatmap(app, reads, spec["pages"], spec["samples"])
            if "holds" in spec["phases"]:
                out["holds"] = await holds_screen(app, reads, spec)
    finally:
        booking.close()
    return out


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    result = asyncio.run(run(spec))
    Path(sys.argv[2]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
