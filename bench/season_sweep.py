"""The sweep part of the season benchmark: Booking.sweep of the due holds against one audited
set-based statement doing the same work, each on its own copy of the season database (a
file copy on PostgreSQL, so both start from the same pages and statistics)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import statistics
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2

from resbook_tui.booking import Booking
from season_report import Figure

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


def sweep(url: str, rounds: int = 2, say: Any = print) -> list[Figure]:
    """Booking.sweep on one copy of the season, the single statement on another; ``rounds``
    times with fresh copies, the order swapped each round, a checkpoint before each run."""
    copies = _pg_copies if url.startswith("postgresql") else _sqlite_copies
    sweeps: list[float] = []
    singles: list[float] = []
    for round_ in range(rounds):
        with copies(url, say) as (a, b):
            for which in ("single", "sweep") if round_ % 2 == 0 else ("sweep", "single"):
                _checkpoint(url)
                if which == "single":
                    took, single_n = _single(b)
                    singles.append(took)
                else:
                    took, result = _booking_sweep(a)
                    sweeps.append(took)
    runs = ", ".join(f"{w:.2f}/{s:.2f} s" for w, s in zip(sweeps, singles, strict=True))
    return [
        Figure(
            "sweep",
            f"Booking.sweep: {result.expired_holds:,} due holds (median of {rounds})",
            statistics.median(sweeps),
            "s",
            f"one audited statement ({single_n:,})",
            statistics.median(singles),
            "<= 1.5x",
            f"{result.batches} batches; {result.skipped} skipped; sweep/statement by round {runs}",
        )
    ]


def _booking_sweep(url: str) -> tuple[float, Any]:
    bk = Booking.connect(url, actor="bench")
    try:
        began = time.perf_counter()
        result = bk.sweep()
        return time.perf_counter() - began, result
    finally:
        bk.close()


def _checkpoint(url: str) -> None:
    """Start from clean buffers: the run before must not leave its writes to this one."""
    if url.startswith("postgresql"):
        conn = psycopg2.connect(url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CHECKPOINT")
        conn.close()


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
