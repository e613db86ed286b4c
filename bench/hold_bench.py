"""Hold creation throughput: Booking.create_hold vs a bare psycopg2 loop, side by side.

    python bench/hold_bench.py [--holds 3000] [--rounds 3]

The bare loop issues the same conditional UPDATE + INSERT per commit with no checks and
no audit event; Booking also locks the cell and writes the event in the same transaction
(it sent a NOTIFY too until issue 13). Target (issue 3): Booking >= 0.8x the bare loop.
Chunks of 100 alternate so that drift on the machine hits both alike.
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

from common import description, throwaway_postgres  # noqa: E402
from resbook_tui.booking import Booking  # noqa: E402
from resbook_tui.db import open_database  # noqa: E402
from resbook_tui.schema.migrations import Migrator  # noqa: E402
from resbook_tui.seed import SeedPlan, seed  # noqa: E402

RESOURCES, DAYS, CAPACITY = 100, 60, 100_000
CHUNK = 100


class BareLoop:
    """The same conditional UPDATE + INSERT per commit, straight through psycopg2."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg2.connect(url)
        self.cur = self.conn.cursor()

    def run(self, cells: list[tuple[int, object]]) -> float:
        started = time.perf_counter()
        for resource_id, day in cells:
            self.cur.execute(
                "UPDATE resource_capacity SET available_capacity = available_capacity - %s "
                "WHERE resource_id = %s AND date = %s AND available_capacity >= %s",
                (1, resource_id, day, 1),
            )
            self.cur.execute(
                "INSERT INTO resource_hold (resource_id, date, quantity, customer_email, "
                "idempotency_token, status, expires_at) "
                "VALUES (%s, %s, %s, %s, %s, 'ACTIVE', now() + interval '30 minutes')",
                (resource_id, day, 1, "bench@example.com", uuid.uuid4().hex),
            )
            self.conn.commit()
        return time.perf_counter() - started


class BookingLoop:
    def __init__(self, url: str) -> None:
        self.bk = Booking(open_database(url), actor="bench")

    def run(self, cells: list[tuple[int, object]]) -> float:
        started = time.perf_counter()
        for resource_id, day in cells:
            self.bk.create_hold(resource_id, day, 1, "bench@example.com")
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--holds", type=int, default=3000, help=f"per round, in chunks of {CHUNK}")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.holds < CHUNK or args.rounds < 1:
        parser.error(f"--holds must be at least {CHUNK} (one chunk) and --rounds at least 1")
    with throwaway_postgres() as url:
        db = open_database(url)
        Migrator(db).up()
        seed(db, SeedPlan(vehicles=RESOURCES, days=DAYS, capacity=CAPACITY))
        today = Booking(db).today()
        db.close()
        totals = [0.0, 0.0]
        rng = random.Random(42)
        bare, booking = BareLoop(url), BookingLoop(url)
        for n in range(args.rounds):
            # Chunks alternate so that the disk's and the machine's moods hit both alike.
            bare_s = booking_s = 0.0
            for _ in range(args.holds // CHUNK):
                cells = [
                    (rng.randint(1, RESOURCES), today + timedelta(rng.randrange(DAYS)))
                    for _ in range(CHUNK)
                ]
                bare_s += bare.run(cells)
                booking_s += booking.run(cells)
            done = args.holds // CHUNK * CHUNK
            b, k = done / bare_s, done / booking_s
            print(
                f"round {n + 1}: bare psycopg2 {b:,.0f} commits/s, "
                f"Booking.create_hold {k:,.0f} holds/s, ratio {k / b:.2f}"
            )
            totals[0] += bare_s
            totals[1] += booking_s
        print(
            f"PostgreSQL, {args.rounds} x {args.holds} holds on random cells, interleaved in "
            f"chunks of {CHUNK}: bare {done * args.rounds / totals[0]:,.0f}/s, Booking "
            f"{done * args.rounds / totals[1]:,.0f}/s, ratio {totals[0] / totals[1]:.2f} "
            "(target >= 0.80)"
        )


if __name__ == "__main__":
    main()
