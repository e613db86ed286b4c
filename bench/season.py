"""A season at scale (issue 13): build the season dataset, then measure every figure the
issue lists, each beside its reference measured in the same run.

    python bench/season.py [--dialect postgresql|sqlite|both] [--scale F]
                           [--only build,sweep,list,events,heatmap,cli,holds,writers]
                           [--db URL] [--keep] [--json FILE] [--size 120x36]
                           [--writer-seconds 10] [--changes 12] [--interval 2]
                           [--sweep-rounds 2] [--markdown]

PostgreSQL is measured at scale 1 (1,000 resources x 365 days, 1M holds of which 110k
ACTIVE and 100k due, 356k allocations, 1.9M events) and SQLite at 0.1 unless --scale says
otherwise. The data is built with set-based SQL into a throwaway database (dropped at the
end unless --keep); --db measures an existing season database instead (parts that write
change it: sweep works on copies, but holds and writers add holds).

Parts, in the order they run (the approximate time is at scale 1 on PostgreSQL, 2 cores):

  build    the dataset (about 65 s)
  sweep    Booking.sweep vs one audited set-based statement, each on its own copy,
           two rounds (45 s)
  list     `holds list` default order: facade, EXPLAIN ANALYZE, whole CLI process (5 s)
  events   `events --action/--resource` at ~2M events: EXPLAIN ANALYZE and CLI (6 s)
  heatmap  TUI page downs needing a new window vs cached; the window query and its plan
           (10 s)
  cli      drawing 500-row CLI tables vs joining ready lines (1 s)
  holds    the Holds screen in a real TUI process: open, CPU per change committed by
           another process, RSS, live updates visible (60 s)
  writers  hold creation by 1, 4, 8, 16 processes vs pgbench with the same statements
           and clients (SQLite: bare sqlite3 processes); one process vs a bare loop (100 s)

Every part prints its figures as it goes; a compact table closes the run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))


import season_queries as queries  # noqa: E402
import season_writers as writers  # noqa: E402
from common import description, throwaway_postgres  # noqa: E402
from resbook_tui.booking import Booking  # noqa: E402
from season_data import Season, build, counts  # noqa: E402
from season_report import (  # noqa: E402
    Figure,
    best_of,
    markdown,
    median_ms,
    say_figure,
    table,
)
from season_sweep import sweep  # noqa: E402

PARTS = ("build", "sweep", "list", "events", "heatmap", "cli", "holds", "writers")
HERE = Path(__file__).resolve().parent
WRITER_COUNTS = (1, 4, 8, 16)


@contextmanager
def season_database(dialect: str, keep: bool) -> Iterator[str]:
    """An empty database for the season (dropped afterwards unless ``keep``)."""
    if dialect == "sqlite":
        folder = tempfile.mkdtemp(prefix="resbook_season_")
        url = f"sqlite:///{folder}/season.db"
        try:
            yield url
        finally:
            if not keep:
                for name in os.listdir(folder):
                    os.unlink(os.path.join(folder, name))
                os.rmdir(folder)
        return
    with throwaway_postgres("resbook_season", keep=keep) as url:
        yield url


# ---- the TUI parts ----------------------------------------------------------------------------


def run_tui(url: str, phases: list[str], args: argparse.Namespace, **extra: Any) -> dict:
    """season_tui.py in a process of its own; its JSON answer."""
    width, height = (int(v) for v in args.size.split("x"))
    spec = {
        "url": url,
        "size": [width, height],
        "phases": phases,
        "pages": args.pages,
        "changes": args.changes,
        "interval": args.interval,
        "idle": args.idle,
        "tail": max(3.0, args.interval),
        "watch": 3,
        **extra,
    }
    with tempfile.TemporaryDirectory() as folder:
        spec_path, out_path = Path(folder, "spec.json"), Path(folder, "out.json")
        spec_path.write_text(json.dumps(spec))
        subprocess.run(
            [sys.executable, str(HERE / "season_tui.py"), str(spec_path), str(out_path)],
            check=True,
        )
        return json.loads(out_path.read_text())


def heatmap(url: str, args: argparse.Namespace) -> list[Figure]:
    bk = Booking.connect(url, read_only=True)
    try:
        resources = len(bk.list_resources())
    finally:
        bk.close()
    # Past the last page a page key moves nothing (and is not counted): stop before it.
    height = int(args.size.split("x")[1])
    pages = min(args.pages, max(resources // height, 2))
    result = run_tui(url, ["heatmap"], args, pages=pages, samples=args.pages)
    pages = result["heatmap"]
    new, cached = pages["new_window_s"], pages["cached_s"]
    figures = [
        Figure(
            "heatmap",
            f"TUI page needing a new window (median of {len(new)})",
            median_ms(new),
            "ms",
            f"page from the loaded window (median of {len(cached)})",
            median_ms(cached),
            "< 50 ms",
            f"{args.size}; first frame {result['first_frame_s'] * 1000:,.0f} ms after start; "
            f"new-window pages max {max(new, default=0) * 1000:,.0f} ms",
        ),
        # The same pages, to the first frame with every visible cell drawn: with the
        # window read ahead, a page shows at once and the read that follows is the next's.
        Figure(
            "heatmap",
            f"same pages: first frame with all cells drawn (median of {len(new)})",
            median_ms(pages.get("new_drawn_s", [])),
            "ms",
            f"page from the loaded window (median of {len(cached)})",
            median_ms(cached),
            "",
            "until drawn, not until the TUI is idle: the read ahead may still run",
        ),
    ]
    return figures + queries.heatmap_window(url, pages["window"])


def holds(url: str, args: argparse.Namespace) -> list[Figure]:
    bk = Booking.connect(url, read_only=True)
    try:
        top = [h.id for h in bk.list_holds(status="ACTIVE", limit=5)]
        whole = best_of(3, lambda: bk.list_holds(status="ACTIVE")) * 1000
        page = best_of(3, lambda: bk.list_holds(status="ACTIVE", limit=100)) * 1000
        active = len(bk.list_holds(status="ACTIVE"))
        resource = bk.list_resources(active=True)[0].id
        free_day = bk.today() + timedelta(days=200)
    finally:
        bk.close()
    result = run_tui(url, ["holds"], args, top_holds=top, free_cell=[resource, str(free_day)])
    h = result["holds"]
    releases = h["release_visible_s"]
    seen = [s for s in releases if s is not None]
    worst = max(seen) * 1000 if seen and len(seen) == len(releases) else None
    created = h["create_visible_s"]
    part = "holds"
    return [
        Figure(
            part,
            f"open Holds (key 3 -> first rows), {active:,} ACTIVE",
            h["open_s"] * 1000,
            "ms",
            "Booking.list_holds(ACTIVE), whole queue",
            whole,
            "< 300 ms",
            f"one page of 100 through the facade: {page:,.1f} ms",
        ),
        Figure(
            part,
            "TUI CPU per change committed elsewhere",
            h["cpu_per_change_s"] * 1000,
            "ms",
            "TUI CPU per second idle",
            result["holds"]["idle_cpu_per_s"] * 1000,
            "< 20 ms",
            f"{h['changes']} changes {args.interval:g} s apart: {h['change_cpu_s']:.1f} s CPU "
            f"in {h['change_wall_s']:.1f} s; per change {h['calls_per_change']:.1f} facade "
            f"reads, {h['rows_per_change']:,.0f} rows",
        ),
        Figure(
            part,
            "TUI RSS with Holds open",
            h["rss_open_mb"],
            "MB",
            "same process before the app started",
            result["rss_start_mb"],
            "< 150 MB",
            f"heatmap only {result['rss_heatmap_mb']:,.0f} MB; after the changes "
            f"{h['rss_after_changes_mb']:,.0f} MB, peak {h['rss_peak_mb']:,.0f} MB",
        ),
        Figure(
            part,
            "live update visible: release of a hold on screen (worst)",
            worst,
            "ms",
            target="< 1000 ms",
            note="each: "
            + ", ".join(
                "not seen in 10 s" if s is None else f"{s * 1000:,.0f} ms" for s in releases
            )
            + (
                f"; a new hold in the count: {created * 1000:,.0f} ms"
                if created is not None
                else "; a new hold in the count: not seen (or no count shown)"
            ),
        ),
    ]


# ---- writers ------------------------------------------------------------------------------------


# The writers that bound what Booking can reach at 8 processes: (figure name, why it matters).
CEILINGS = {
    "message": (
        "Booking's message",
        "the ceiling for Booking: its one-date message with no Python around it",
    ),
    "bare": (
        "pgbench's statement",
        "the ceiling for any Python writer: pgbench's very statement, prepared, one commit each",
    ),
}


def writer_figures(url: str, args: argparse.Namespace, say: Callable[[str], None]) -> list[Figure]:
    bk = Booking.connect(url, read_only=True)
    try:
        ids = sorted(r.id for r in bk.list_resources(active=True))
    finally:
        bk.close()
    layout = {"first": ids[0], "resources": len(ids), "days": 365}
    pg = url.startswith("postgresql")
    seconds = args.writer_seconds
    out = []
    half = max(seconds / 2, 1.0)
    for n in WRITER_COUNTS:
        # Booking, reference, reference, Booking: drift on the machine hits both alike.
        # At 8 on PostgreSQL, also the ceilings of a Python writer, between them: Booking's
        # message and pgbench's own statement, each sent by bare psycopg2 processes.
        ceilings = ("message", "bare") if pg and n == 8 else ()
        order = ("mine", "ref", *ceilings, *reversed(ceilings), "ref", "mine")
        runs: dict[str, list[dict[str, Any]]] = {k: [] for k in ("mine", "ref", *ceilings)}
        for which in order:
            if which == "mine":
                runs[which].append(writers.processes(url, "booking", n, half, layout))
            elif which != "ref":
                runs[which].append(writers.processes(url, which, n, half, layout))
            elif pg:
                runs[which].append(writers.pgbench(url, n, half, layout))
            else:
                runs[which].append(writers.processes(url, "bare", n, half, layout))
        mine, ref = writers.combined(runs["mine"]), writers.combined(runs["ref"])
        if pg:
            ref_name = f"pgbench, same statements, {n} clients"
        else:
            ref_name = f"bare sqlite3, same statements, {n} processes"
        target = ">= 0.7x (goal 0.9x)" if pg and n == 8 else ""
        figure = Figure(
            "writers",
            f"{n} process{'es' if n > 1 else ''} creating holds (Booking)",
            mine["per_s"],
            "/s",
            ref_name,
            ref["per_s"],
            target,
            f"{mine['made']:,} holds in 2 x {half:g} s (alternating with the reference); "
            f"refused {mine['refused']}, errors "
            f"{mine['errors']}; reference errors {ref['errors']}"
            + (f"; first error: {mine['first_error']}" if mine["first_error"] else ""),
        )
        say_figure(figure)
        out.append(figure)
        for which in ceilings:
            ceiling = writers.combined(runs[which])
            figure = Figure(
                "writers",
                f"{n} processes: {CEILINGS[which][0]}, bare psycopg2",
                ceiling["per_s"],
                "/s",
                ref_name,
                ref["per_s"],
                "",
                f"{CEILINGS[which][1]}; {ceiling['made']:,} holds, refused "
                f"{ceiling['refused']}, errors {ceiling['errors']}",
            )
            say_figure(figure)
            out.append(figure)
    pair = writers.interleaved(url, args.bare_holds, layout)
    figure = Figure(
        "writers",
        "1 process: Booking.create_hold",
        pair["booking"],
        "/s",
        "bare driver loop, same statements",
        pair["bare"],
        ">= 0.85x",
        f"{args.bare_holds:,} holds each, alternating chunks of 100 on random cells",
    )
    say_figure(figure)
    return [*out, figure]


# ---- running it --------------------------------------------------------------------------------


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def measure(url: str, season: Season, args: argparse.Namespace, loads: list[float]) -> list[Figure]:
    """Run the chosen parts on ``url``; ``loads`` gets the load average around each."""
    figures: list[Figure] = []
    only = args.only

    def part(name: str, run: Callable[[], list[Figure]]) -> None:
        if name not in only:
            return
        print(f"[{name}]", flush=True)
        began, load = time.perf_counter(), os.getloadavg()[0]
        made = run()
        for figure in made:
            if name != "writers":  # writers print theirs as they come
                say_figure(figure)
        loads.extend([load, os.getloadavg()[0]])
        print(
            f"  ({name} took {time.perf_counter() - began:.0f} s; 1-minute load average "
            f"{load:.1f} before, {os.getloadavg()[0]:.1f} after)",
            flush=True,
        )
        figures.extend(made)

    if "build" in only and args.db is None:
        print(f"[build] {season.describe()}", flush=True)
        loads.append(os.getloadavg()[0])
        took = build(url, season, say=print)
        have = counts(url)
        print(f"  built in {took:.1f} s: {have}", flush=True)
        figures.append(
            Figure("build", "season dataset, set-based SQL", took, "s", target="about 60 s")
        )
    part("sweep", lambda: sweep(url, rounds=args.sweep_rounds, say=print))
    part("list", lambda: queries.holds_list(url))
    part("events", lambda: queries.events(url))
    part("heatmap", lambda: heatmap(url, args))
    part("cli", lambda: queries.cli_tables(url))
    part("holds", lambda: holds(url, args))
    part("writers", lambda: writer_figures(url, args, print))
    return figures


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds, so the throwaway database is dropped


def main() -> None:
    signal.signal(signal.SIGTERM, _stop)
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--dialect", default="both", choices=["postgresql", "sqlite", "both"])
    parser.add_argument("--scale", type=float, help="default: 1 on PostgreSQL, 0.1 on SQLite")
    parser.add_argument("--only", default=",".join(PARTS), help=f"any of {','.join(PARTS)}")
    parser.add_argument("--db", help="measure this season database (built before) instead")
    parser.add_argument("--keep", action="store_true", help="keep the database; print its URL")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--markdown", action="store_true", help="end with a Markdown table")
    parser.add_argument("--size", default="120x36", help="TUI terminal size, WIDTHxHEIGHT")
    parser.add_argument("--pages", type=int, default=10, help="heatmap page downs (and ups)")
    parser.add_argument("--changes", type=int, default=12, help="changes the TUI must follow")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between changes")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle TUI measured")
    parser.add_argument("--writer-seconds", type=float, default=10.0)
    parser.add_argument("--bare-holds", type=int, default=3000)
    parser.add_argument("--sweep-rounds", type=int, default=2)
    args = parser.parse_args()
    args.only = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(args.only) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}; parts: {', '.join(PARTS)}")
    if args.db:
        chosen = ["postgresql" if args.db.startswith("postgresql") else "sqlite"]
    else:
        chosen = ["postgresql", "sqlite"] if args.dialect == "both" else [args.dialect]
    everything: list[dict[str, Any]] = []
    began = datetime.now(UTC)
    for dialect in chosen:
        scale = args.scale if args.scale is not None else (1.0 if dialect == "postgresql" else 0.1)
        season = Season.at(scale)
        started = time.perf_counter()
        if args.db:  # what is there, not what a scale would build
            have = counts(args.db)
            what = (
                f"existing database: {have['resources']:,} resources, {have['holds']:,} holds "
                f"({have['active']:,} ACTIVE, {have['due']:,} due), {have['allocations']:,} "
                f"allocations, {have['events']:,} events"
            )
        else:
            what = f"scale {scale:g} ({season.describe()})"
        title = (
            f"season benchmark, {dialect}, {what}; "
            f"commit {git_commit()}, {began:%Y-%m-%d}, {os.cpu_count()} cores"
        )
        print(title, flush=True)
        loads: list[float] = []
        if args.db:
            figures = measure(args.db, season, args, loads)
        else:
            with season_database(dialect, args.keep) as url:
                if args.keep:
                    print(f"  database (kept): {url}", flush=True)
                figures = measure(url, season, args, loads)
        print(f"\n{markdown(figures, title) if args.markdown else table(figures, title)}")
        busy = max(loads, default=0.0)
        print(
            f"(whole run {time.perf_counter() - started:.0f} s; 1-minute load average "
            f"{min(loads, default=0.0):.1f}-{busy:.1f} around the parts"
            + (
                f": above the {os.cpu_count()} cores, so other work shared the machine and "
                "the figures are disturbed)\n"
                if busy > (os.cpu_count() or 1)
                else ")\n"
            )
        )
        everything.append({"title": title, "figures": [f.as_dict() for f in figures]})
    if args.json:
        Path(args.json).write_text(json.dumps(everything, indent=2))


if __name__ == "__main__":
    main()
