"""Hold creation throughput: Booking.create_hold vs a bare psycopg2 loop, side by side.

    python bench/hold_bench.py [--holds 3000] [--rounds 3]

The bare loop issues the same conditional UPDATE + INSERT per commit with no checks,
no audit event and no notification; Booking also locks the cell, writes the event and
NOTIFYs in the same transaction. Target (issue 3): Booking >= 0.8x the bare loop.
Runs alternate so that drift on the machine hits both alike.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import throwaway_postgres  # noqa: E402
from resbook_tui.booking import Booking  # noqa: E402
from resbook_tui.db import open_database  # noqa: E402
from resbook_tui.schema.migrations import Migrator  # noqa: E402
from resbook_tui.seed import SeedPlan, seed  # noqa: E402

RESOURCES, DAYS, CAPACITY = 100, 60, 100_000


def bare_loop(url: str, cells: list[tuple[int, object]]) -> float:
    conn = psycopg2.connect(url)
    cur = conn.cursor()
    started = time.perf_counter()
    for resource_id, day in cells:
        cur.execute(
            "UPDATE resource_capacity SET available_capacity = available_capacity - %s "
            "WHERE resource_id = %s AND date = %s AND available_capacity >= %s",
            (1, resource_id, day, 1),
        )
        cur.execute(
            "INSERT INTO resource_hold (resource_id, date, quantity, customer_email, "
            "idempotency_token, status, expires_at) "
            "VALUES (%s, %s, %s, %s, %s, 'ACTIVE', now() + interval '30 minutes')",
            (resource_id, day, 1, "bench@example.com", uuid.uuid4().hex),
        )
        conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def booking_loop(url: str, cells: list[tuple[int, object]]) -> float:
    bk = Booking(open_database(url), actor="bench")
    started = time.perf_counter()
    for resource_id, day in cells:
        bk.create_hold(resource_id, day, 1, "bench@example.com")
    elapsed = time.perf_counter() - started
    bk.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holds", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with throwaway_postgres() as url:
        db = open_database(url)
        Migrator(db).up()
        seed(db, SeedPlan(vehicles=RESOURCES, days=DAYS, capacity=CAPACITY))
        today = Booking(db).today()
        db.close()
        rng = random.Random(42)
        bare_rates, booking_rates = [], []
        for n in range(args.rounds):
            cells = [
                (rng.randint(1, RESOURCES), today + timedelta(rng.randrange(DAYS)))
                for _ in range(args.holds)
            ]
            b = args.holds / bare_loop(url, cells)
            k = args.holds / booking_loop(url, cells)
            bare_rates.append(b)
            booking_rates.append(k)
            print(
                f"round {n + 1}: bare psycopg2 {b:,.0f} commits/s, "
                f"Booking.create_hold {k:,.0f} holds/s, ratio {k / b:.2f}"
            )
        bare, booking = sum(bare_rates) / len(bare_rates), sum(booking_rates) / len(booking_rates)
        print(
            f"PostgreSQL, {args.holds} holds x {args.rounds} rounds on random cells: "
            f"bare {bare:,.0f}/s, Booking {booking:,.0f}/s, ratio {booking / bare:.2f} "
            "(target >= 0.80)"
        )


if __name__ == "__main__":
    main()
