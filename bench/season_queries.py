"""The database-side parts of the season benchmark: holds list, events, the heatmap's
window query, the CLI's tables and the sweep. Each returns Figures (season_report)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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
    import sqlite3

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


# ---- the sweep ------------------------------------------------------------------------------

# Everything a sweep does, in one statement with no batching (as bench/sweep_bench.py).
_PG_SINGLE = """
WITH expired AS (
    UPDATE resource_hold SET status = 'EXPIRED'
    WHERE status = 'ACTIVE' AND expires_at <= now()
    RETURNING id, resource_id, date, quantity, customer_email, expires_at
), per_cell AS (
    SELECT resource_id, date, SUM(quantity) AS units FROM expired GROUP BY resource_id, date
), returned AS (
    UPDATE resource_capacity c SET available_capacity = c.available_capacity + p.units
    FROM per_cell p WHERE c.resource_id = p.resource_id AND c.date = p.date
    RETURNING 1
), logged AS (
    INSERT INTO booking_event (actor, action, entity, entity_id, resource_id, date_from,
                               date_to, customer_email, details)
    SELECT 'bench', 'hold.expire', 'hold', id, resource_id, date, date, customer_email,
           jsonb_build_object('quantity', quantity, 'expires_at', expires_at)
    FROM expired RETURNING 1
)
SELECT (SELECT count(*) FROM expired)
"""
_SQLITE_DUE = "status = 'ACTIVE' AND expires_at <= strftime('%Y-%m-%d %H:%M:%f', 'now')"
_SQLITE_SINGLE = (
    "INSERT INTO booking_event (actor, action, entity, entity_id, resource_id, date_from, "
    "date_to, customer_email, details) SELECT 'bench', 'hold.expire', 'hold', id, resource_id, "
    "date, date, customer_email, json_object('quantity', quantity, 'expires_at', expires_at) "
    f"FROM resource_hold WHERE {_SQLITE_DUE}",
    "UPDATE resource_capacity SET available_capacity = available_capacity + p.units "
    "FROM (SELECT resource_id, date, SUM(quantity) AS units FROM resource_hold "
    f"WHERE {_SQLITE_DUE} GROUP BY resource_id, date) AS p "
    "WHERE resource_capacity.resource_id = p.resource_id AND resource_capacity.date = p.date",
    f"UPDATE resource_hold SET status = 'EXPIRED' WHERE {_SQLITE_DUE}",
)


def sweep(url: str, say: Any = print) -> list[Figure]:
    """Booking.sweep on one copy of the season, the single statement on another."""
    copies = _pg_copies if url.startswith("postgresql") else _sqlite_copies
    with copies(url, say) as (a, b):
        single_s, single_n = _single(b)
        bk = Booking.connect(a, actor="bench")
        try:
            began = time.perf_counter()
            result = bk.sweep()
            sweep_s = time.perf_counter() - began
        finally:
            bk.close()
    return [
        Figure(
            "sweep",
            f"Booking.sweep: {result.expired_holds:,} due holds",
            sweep_s,
            "s",
            f"one audited statement ({single_n:,})",
            single_s,
            "<= 1.5x",
            f"{result.batches} batches; {result.skipped} skipped",
        )
    ]


def _single(url: str) -> tuple[float, int]:
    if url.startswith("postgresql"):
        conn = psycopg2.connect(url)
        began = time.perf_counter()
        with conn, conn.cursor() as cur:
            cur.execute(_PG_SINGLE)
            (n,) = cur.fetchone()
        took = time.perf_counter() - began
        conn.close()
        return took, n
    import sqlite3

    conn2 = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    began = time.perf_counter()
    conn2.execute("BEGIN IMMEDIATE")
    logged = conn2.execute(_SQLITE_SINGLE[0]).rowcount
    for statement in _SQLITE_SINGLE[1:]:
        conn2.execute(statement)
    conn2.execute("COMMIT")
    took = time.perf_counter() - began
    conn2.close()
    return took, logged


class _pg_copies:  # noqa: N801 - used as a context manager
    """Two copies of the season database (file copies: same pages, same statistics)."""

    def __init__(self, url: str, say: Any) -> None:
        parts = urlsplit(url)
        self.source = parts.path.lstrip("/")
        self.admin_url = urlunsplit(parts._replace(path="/postgres"))
        self.names = [f"{self.source}_sweep_{x}" for x in ("a", "b")]
        self.urls = [urlunsplit(parts._replace(path=f"/{n}")) for n in self.names]
        self.say = say

    def __enter__(self) -> tuple[str, str]:
        self.admin = psycopg2.connect(self.admin_url)
        self.admin.autocommit = True
        began = time.perf_counter()
        with self.admin.cursor() as cur:
            for name in self.names:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
                cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.source}" STRATEGY FILE_COPY')
        self.say(f"    two copies of the season database in {time.perf_counter() - began:.1f} s")
        return self.urls[0], self.urls[1]

    def __exit__(self, *exc: object) -> None:
        with self.admin.cursor() as cur:
            for name in self.names:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.close()


class _sqlite_copies:  # noqa: N801
    def __init__(self, url: str, say: Any) -> None:
        self.path = url.removeprefix("sqlite:///")
        self.paths = [f"{self.path}.sweep_{x}" for x in ("a", "b")]

    def __enter__(self) -> tuple[str, str]:
        for path in self.paths:
            shutil.copyfile(self.path, path)
        return tuple(f"sqlite:///{p}" for p in self.paths)  # type: ignore[return-value]

    def __exit__(self, *exc: object) -> None:
        for path in self.paths:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.unlink(path + suffix)
