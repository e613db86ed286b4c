"""Sweep of 100,000 expired holds spread over 9,000 cells.

    python bench/sweep_bench.py [--holds 100000] [--rounds 2] [--dialect both|sqlite|postgresql]

PostgreSQL: Booking.sweep (batches of 5,000, each one statement with its events) against
a single set-based statement doing the same work (expire, give units back, write the
events) in one go. Runs alternate, with the same data restored and
VACUUMed in between. Target (issue 3): sweep <= 1.5x the single statement.
SQLite: Booking.sweep alone. Target: under 5 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import description, throwaway_postgres, throwaway_sqlite  # noqa: E402
from resbook_tui.booking import Booking  # noqa: E402
from resbook_tui.db import open_database  # noqa: E402
from resbook_tui.schema.migrations import Migrator  # noqa: E402
from resbook_tui.seed import SeedPlan, seed  # noqa: E402

RESOURCES, DAYS, CAPACITY = 100, 90, 1000  # 9,000 cells

_PG_SETUP = """
INSERT INTO resource_hold (resource_id, date, quantity, customer_email, idempotency_token,
                           status, expires_at)
SELECT c.resource_id, c.date, 1, 'bench' || n || '@example.com', 'bench-' || n, 'ACTIVE',
       now() - interval '1 minute'
FROM generate_series(0, %(holds)s - 1) AS n
JOIN (SELECT resource_id, date, row_number() OVER (ORDER BY resource_id, date) - 1 AS k
      FROM resource_capacity) c ON c.k = n %% %(cells)s
"""
_SQLITE_SETUP = """
INSERT INTO resource_hold (resource_id, date, quantity, customer_email, idempotency_token,
                           status, expires_at)
WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ?)
SELECT c.resource_id, c.date, 1, 'bench' || n || '@example.com', 'bench-' || n, 'ACTIVE',
       strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 minutes')
FROM seq JOIN (SELECT resource_id, date, row_number() OVER (ORDER BY resource_id, date) - 1 AS k
               FROM resource_capacity) c ON c.k = seq.n % ?
"""
_RESTORE = (
    "DELETE FROM booking_event WHERE action = 'hold.expire'",
    "UPDATE resource_hold SET status = 'ACTIVE' WHERE status = 'EXPIRED'",
    "UPDATE resource_capacity SET available_capacity = max_capacity - COALESCE((SELECT "
    "SUM(quantity) FROM resource_hold h WHERE h.resource_id = resource_capacity.resource_id "
    "AND h.date = resource_capacity.date AND h.status = 'ACTIVE'), 0)",
)

# The reference: everything the sweep does, in one statement, with no batching.
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
SELECT (SELECT count(*) FROM expired), (SELECT count(*) FROM returned),
       (SELECT count(*) FROM logged)
"""


def prepare(url: str, holds: int) -> None:
    db = open_database(url)
    Migrator(db).up()
    seed(db, SeedPlan(vehicles=RESOURCES, days=DAYS, capacity=CAPACITY))
    with db.atomic():
        if url.startswith("postgresql"):
            db.execute_sql(_PG_SETUP, {"holds": holds, "cells": RESOURCES * DAYS})
        else:
            db.execute_sql(_SQLITE_SETUP, (holds, RESOURCES * DAYS))
        for statement in _RESTORE[1:]:
            db.execute_sql(statement)
    db.close()


def restore(url: str) -> None:
    db = open_database(url)
    with db.atomic():
        for statement in _RESTORE:
            db.execute_sql(statement)
    if url.startswith("postgresql"):
        db.execute_sql("VACUUM ANALYZE")
    db.close()


def time_booking(url: str) -> tuple[float, int]:
    bk = Booking(open_database(url), actor="bench")
    started = time.perf_counter()
    result = bk.sweep()
    elapsed = time.perf_counter() - started
    bk.close()
    return elapsed, result.expired_holds


def time_single(url: str) -> tuple[float, int]:
    db = open_database(url)
    started = time.perf_counter()
    with db.atomic():
        expired, _cells, _logged = db.execute_sql(_PG_SINGLE).fetchone()
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed, expired


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--holds", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--dialect", default="both", choices=["both", "sqlite", "postgresql"])
    args = parser.parse_args()
    cells = RESOURCES * DAYS
    if args.dialect in ("both", "postgresql"):
        with throwaway_postgres() as url:
            prepare(url, args.holds)
            restore(url)
            single, sweep = [], []
            for _ in range(args.rounds):
                t, n = time_single(url)
                assert n == args.holds, n
                single.append(t)
                restore(url)
                t, n = time_booking(url)
                assert n == args.holds, n
                sweep.append(t)
                restore(url)
            s, b = statistics.median(single), statistics.median(sweep)
            print(
                f"postgresql sweep of {args.holds:,} expired holds over {cells:,} cells: "
                f"single statement {s:.2f} s, Booking.sweep {b:.2f} s, ratio {b / s:.2f} "
                f"(target <= 1.5; runs single {[round(x, 2) for x in single]}, "
                f"sweep {[round(x, 2) for x in sweep]})"
            )
    if args.dialect in ("both", "sqlite"):
        with throwaway_sqlite() as url:
            prepare(url, args.holds)
            times = []
            for _ in range(args.rounds):
                t, n = time_booking(url)
                assert n == args.holds, n
                times.append(t)
                restore(url)
            print(
                f"sqlite     sweep of {args.holds:,} expired holds over {cells:,} cells: "
                f"Booking.sweep {statistics.median(times):.2f} s (target < 5 s; runs "
                f"{[round(x, 2) for x in times]})"
            )


if __name__ == "__main__":
    main()
