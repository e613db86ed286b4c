"""How the season benchmark looks inside: the few places that reach past the public API.

Everything else in bench/season*.py goes through the Booking facade, the CLI as a
subprocess and the TUI through keys under ``App.run_test``. What cannot be had that way is
kept here, one small function each, so that a refactor of resbook breaks at most this file:

- ``captured_sql``: the SQL a facade call sends, from peewee's own query log (to EXPLAIN it);
- ``screen_text``: what a person would read on the TUI's screen (Textual's compositor,
  as ``App.export_screenshot`` draws it, but as text);
- ``make_app``: the TUI's app object;
- ``draw_cli_table``: the CLI's table drawing, to time it apart from the query.
"""

from __future__ import annotations

import io
import logging
import re
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg2
from rich.console import Console

# ---- what a facade call sends ------------------------------------------------------------


@contextmanager
def captured_sql() -> Iterator[list[tuple[str, Any]]]:
    """(sql, params) of every statement run through peewee in this block (any thread)."""
    records: list[tuple[str, Any]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if isinstance(record.msg, tuple) and len(record.msg) == 2:
                records.append(record.msg)

    logger = logging.getLogger("peewee")
    handler, level = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def main_statement(records: Sequence[tuple[str, Any]], table: str) -> tuple[str, Any]:
    """The longest statement that reads ``table``: the one that does the work."""
    reading = [r for r in records if re.search(rf"\b{table}\b", r[0], re.IGNORECASE)]
    if not reading:
        raise RuntimeError(f"no statement read {table}: {[r[0][:60] for r in records]}")
    return max(reading, key=lambda r: len(r[0]))


# ---- plans -------------------------------------------------------------------------------------


def explain_pg(url: str, sql: str, params: Any) -> tuple[float, str]:
    """EXPLAIN ANALYZE: (execution time in ms, a one-line summary of the plan)."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
            cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
            (plan,) = cur.fetchone()[0]
    finally:
        conn.rollback()
        conn.close()
    return plan["Execution Time"], plan_summary(plan["Plan"])


def best_pg_execution(url: str, sql: str, params: Any, runs: int = 5) -> tuple[float, str]:
    """The best of ``runs`` EXPLAIN ANALYZE execution times (the first warms the cache)."""
    results = [explain_pg(url, sql, params) for _ in range(runs)]
    return min(r[0] for r in results), results[-1][1]


def plan_summary(node: dict[str, Any]) -> str:
    """Scans (with their index and direction), sorts (method, disk) and grouping, in plan
    order: enough to see a seq scan, a top-N sort or a spill."""
    parts: list[str] = []

    def walk(n: dict[str, Any]) -> None:
        kind = n["Node Type"]
        if "Scan" in kind and ("Relation Name" in n or "Index Name" in n):
            label = kind + (" Backward" if n.get("Scan Direction") == "Backward" else "")
            if "Relation Name" in n:
                label += f" on {n['Relation Name']}"
            if n.get("Index Name"):
                label += f" using {n['Index Name']}"
            loops = n.get("Actual Loops", 1)
            label += f" ({n.get('Actual Rows', 0) * loops:,} rows)"
            parts.append(label)
        elif kind == "Sort":
            space = n.get("Sort Space Type", "")
            label = f"Sort {n.get('Sort Method', '')}"
            if space == "Disk":
                label += f" on disk {n.get('Sort Space Used', 0):,} kB"
            parts.append(label)
        elif kind == "Aggregate" and n.get("Strategy") in ("Hashed", "Sorted"):
            rows = n.get("Actual Rows", 0) * n.get("Actual Loops", 1)
            parts.append(f"{n['Strategy']} Aggregate ({rows:,} groups)")
        for child in n.get("Plans", []):
            walk(child)

    walk(node)
    return "; ".join(parts)


def explain_sqlite(path: str, sql: str, params: Any, runs: int = 3) -> tuple[float, str]:
    """SQLite has no EXPLAIN ANALYZE: (the best run's time in ms, EXPLAIN QUERY PLAN)."""
    conn = sqlite3.connect(path)
    try:
        plan = conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        best = float("inf")
        for _ in range(runs):
            began = time.perf_counter()
            conn.execute(sql, params).fetchall()
            best = min(best, time.perf_counter() - began)
    finally:
        conn.close()
    return best * 1000, "; ".join(row[-1] for row in plan)


def explain(url: str, statement: tuple[str, Any], runs: int = 5) -> tuple[float, str]:
    sql, params = statement
    if url.startswith("postgresql"):
        return best_pg_execution(url, sql, params, runs)
    return explain_sqlite(url.removeprefix("sqlite:///"), sql, params, runs)


# ---- the TUI ---------------------------------------------------------------------------------


def make_app(booking: Any) -> Any:
    from resbook_tui.tui import ResbookApp

    return ResbookApp(booking)


def screen_text(app: Any) -> str:
    """The screen as plain text, one line per terminal row."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system=None,
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()


def workers_busy(app: Any) -> bool:
    """A worker (a booking call) is pending or running: public Textual API."""
    return any(not worker.is_finished for worker in app.workers)


# ---- the CLI's tables ----------------------------------------------------------------------------


def draw_cli_table(kind: str, items: Sequence[Any], names: dict[int, str], now: Any) -> Callable:
    """A function that draws ``items`` as ``resbook holds list`` (or allocations, events)
    would, into a string: the drawing alone, with no query."""
    from resbook_tui.cli import table, views

    rows: Callable[[], list[Any]]
    if kind == "holds":
        columns = views.hold_columns(False)
        rows = lambda: [views.hold_row(h, names, now, False) for h in items]  # noqa: E731
    elif kind == "allocations":
        columns = views.allocation_columns(False)
        rows = lambda: [views.allocation_row(a, names, False) for a in items]  # noqa: E731
    else:
        columns = views.event_columns(False)
        rows = lambda: [table.cells(views.event_row(e, names, False)) for e in items]  # noqa: E731

    def draw() -> str:
        return "\n".join(table.render(columns, rows()))

    return draw


def rss_mb() -> tuple[float, float]:
    """(resident now, peak) of this process in MB, from /proc."""
    now = peak = 0.0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                now = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return now, peak
