"""The database-side parts of the season benchmark: holds list, events, the heatmap's
window query and the CLI's tables. Each returns Figures (season_report)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from typing import Any

import psycopg2

from resbook_tui.booking import Booking
from season_probe import captured_sql, draw_cli_table, explain, main_statement
from season_report import Figure, best_of, median_of

LIST_LIMIT = 500  # `resbook holds list` shows this many by default
EVENTS_LIMIT = 50  # `resbook events` likewise


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``resbook --db URL ARGS`` as a user runs it, at 80 columns."""
    return subprocess.run(
        [sys.executable, "-m", "resbook_tui", "--db", url, *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "80"},
    )


def cli_ms(url: str, *args: str, runs: int = 3) -> float:
    return median_of(runs, lambda: cli(url, *args)) * 1000


def _facade_statement(url: str, call: Any, table: str) -> tuple[float, tuple[str, Any], Any]:
    """(best wall ms of the facade call, the statement it sent that reads ``table``, result)."""
    with captured_sql() as log:
        result = call()
    statement = main_statement(log, table)
    return best_of(5, call) * 1000, statement, result


def _plain(sql: str) -> tuple[str, tuple]:
    """A reference statement (no parameters)."""
    return sql, ()


# ---- holds list ------------------------------------------------------------------------------


def holds_list(url: str) -> list[Figure]:
    bk = Booking.connect(url, read_only=True)
    try:
        wall, statement, shown = _facade_statement(
            url, lambda: bk.list_holds(limit=LIST_LIMIT), "resource_hold"
        )
    finally:
        bk.close()
    db_ms, plan = explain(url, statement)
    reference = _plain(f"SELECT * FROM resource_hold ORDER BY id DESC LIMIT {LIST_LIMIT}")
    ref_db, ref_plan = explain(url, reference)
    ref_wall = best_of(5, lambda: _run(url, reference)) * 1000
    part = "holds list"
    return [
        Figure(
            part,
            f"Booking.list_holds(limit={LIST_LIMIT}), default order",
            wall,
            "ms",
            f"{LIST_LIMIT} rows by primary key, driver",
            ref_wall,
        ),
        Figure(
            part,
            "  same, in the database",
            db_ms,
            "ms",
            f"{LIST_LIMIT} rows by primary key",
            ref_db,
            "uses an index",
            f"plan: {plan}",
        ),
        Figure(
            part,
            "`resbook holds list` whole process",
            cli_ms(url, "holds", "list"),
            "ms",
            "`resbook holds show ID` (indexed reads)",
            cli_ms(url, "holds", "show", str(shown[0].id)),
        ),
    ]


def _run(url: str, statement: tuple[str, Any]) -> list[tuple]:
    sql, params = statement
    if url.startswith("postgresql"):
        conn = psycopg2.connect(url)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            conn.close()
    conn2 = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return conn2.execute(sql, params).fetchall()
    finally:
        conn2.close()


# ---- events -------------------------------------------------------------------------------------


def middle_resource(url: str) -> int:
    bk = Booking.connect(url, read_only=True)
    try:
        ids = sorted(r.id for r in bk.list_resources())
    finally:
        bk.close()
    return ids[len(ids) // 2]


def events(url: str) -> list[Figure]:
    resource = middle_resource(url)
    cases = [
        ("--action hold.confirm", {"action": "hold.confirm"}, ["--action", "hold.confirm"]),
        ("--action seed (one, the oldest)", {"action": "seed"}, ["--action", "seed"]),
        (f"--resource {resource}", {"resource_id": resource}, ["--resource", str(resource)]),
    ]
    tail = _plain(f"SELECT * FROM booking_event ORDER BY id DESC LIMIT {EVENTS_LIMIT}")
    tail_db, _ = explain(url, tail)
    out: list[Figure] = []
    bk = Booking.connect(url, read_only=True)
    try:
        for label, filters, _args in cases:
            _, statement, found = _facade_statement(
                url,
                lambda f=filters: bk.events(limit=EVENTS_LIMIT, **f),
                "booking_event",
            )
            db_ms, plan = explain(url, statement)
            out.append(
                Figure(
                    "events",
                    f"events {label}: in the database",
                    db_ms,
                    "ms",
                    f"the newest {EVENTS_LIMIT}, unfiltered",
                    tail_db,
                    "< 10 ms, an index",
                    f"{len(found)} events; plan: {plan}",
                )
            )
        cli_tail = cli_ms(url, "events")
        for label, _filters, args in cases[::2]:
            out.append(
                Figure(
                    "events",
                    f"`resbook events {label.split(' (')[0]}` whole process",
                    cli_ms(url, "events", *args),
                    "ms",
                    "`resbook events`",
                    cli_tail,
                )
            )
    finally:
        bk.close()
    return out


# ---- the heatmap's window query ---------------------------------------------------------------


def default_window(url: str) -> dict[str, Any]:
    """A window like the TUI's at 120x36 (45 resources x 35 days), when it was not run."""
    bk = Booking.connect(url, read_only=True)
    try:
        today = bk.today()
        ids = sorted(r.id for r in bk.list_resources())
    finally:
        bk.close()
    middle = len(ids) // 2
    return {
        "date_from": str(today),
        "date_to": str(today + timedelta(34)),
        "resource_ids": ids[middle : middle + 45],
        "resource_type": None,
    }


def heatmap_window(url: str, window: dict[str, Any] | None) -> list[Figure]:
    window = window or default_window(url)
    first, last = date.fromisoformat(window["date_from"]), date.fromisoformat(window["date_to"])
    ids = window["resource_ids"]
    bk = Booking.connect(url, read_only=True)
    try:
        wall, statement, cells = _facade_statement(
            url,
            lambda: bk.availability(
                first, last, resource_ids=ids or None, resource_type=window["resource_type"]
            ),
            "resource_capacity",
        )
    finally:
        bk.close()
    db_ms, plan = explain(url, statement)
    where = f"resource_id IN ({', '.join(map(str, ids))}) AND " if ids else ""
    reference = _plain(
        "SELECT resource_id, date, max_capacity, available_capacity FROM resource_capacity "
        f"WHERE {where}date BETWEEN '{first}' AND '{last}' ORDER BY resource_id, date",
    )
    ref_db, _ = explain(url, reference)
    ref_wall = best_of(5, lambda: _run(url, reference)) * 1000
    what = f"{len(ids)} resources x {(last - first).days + 1} days, {len(cells):,} cells"
    return [
        Figure(
            "heatmap",
            "window query: Booking.availability",
            wall,
            "ms",
            "the window's cells alone, driver",
            ref_wall,
            note=what,
        ),
        Figure(
            "heatmap",
            "  same, in the database",
            db_ms,
            "ms",
            "the window's cells alone",
            ref_db,
            note=f"plan: {plan}",
        ),
    ]


# ---- the CLI's tables ---------------------------------------------------------------------------


def cli_tables(url: str) -> list[Figure]:
    os.environ["COLUMNS"] = "80"
    bk = Booking.connect(url, read_only=True)
    try:
        names, now = bk.resource_names(), bk.now()
        lists = {
            "holds": bk.list_holds(limit=LIST_LIMIT),
            "allocations": bk.list_allocations(limit=LIST_LIMIT),
            "events": bk.events(limit=LIST_LIMIT),
        }
    finally:
        bk.close()
    out = []
    for kind, items in lists.items():
        draw = draw_cli_table(kind, items, names, now)
        lines = draw().splitlines()
        bare = list(lines)

        def write(lines: list[str] = bare) -> str:
            return "\n".join(lines)

        out.append(
            Figure(
                "cli",
                f"draw `{kind}` table, {len(items)} rows, 80 columns",
                best_of(10, draw) * 1000,
                "ms",
                "joining the same number of ready lines",
                best_of(10, write) * 1000,
                "< 150 ms",
            )
        )
    return out
