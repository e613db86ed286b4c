"""Where a hold's CPU goes, client and server, on PostgreSQL (issue 13's writer target).

    python bench/hold_cpu.py --db postgresql://.../resbook_season_xxxx [--holds 3000]

With every core busy (8 writers on 2 cores), holds/s is about the cores divided by the CPU
one hold costs, in the client process and in its server backend together. This runs one
process at a time and reads both from /proc/<pid>/schedstat (nanoseconds on the CPU,
precise, unlike the tick-sampled rusage), for:

- ``pgbench statement``: the reference statement of season.py's writers (the conditional
  capacity UPDATE, the hold, its event) in autocommit, one round trip, through psycopg2;
- ``Booking's message, bare``: the message ``Booking.create_hold`` sends for one date (the
  cell lock and the take, one implicit transaction) through bare psycopg2;
- ``Booking.create_hold``: the whole call, refusals (blackouts, full cells) explained.

Cells are drawn at random from the database's active resources over the next year, fresh
each run. The load average is printed: on a shared machine, compare rows of one run.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))

import season_writers  # noqa: E402
from common import cpu_ms, description  # noqa: E402
from resbook_tui.booking import Booking, BookingError  # noqa: E402

Hold = Callable[[int, date], bool]  # True when made


def bare(url: str, today: date, message: bool) -> tuple[int, Hold]:
    if message:  # Booking's one-date message, as season.py's "message" writers send it
        loop = season_writers.MessageLoop(url)
        return loop.conn.get_backend_pid(), lambda rid, day: loop.hold(rid, day, today)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET TIME ZONE 'UTC'")
    sql = season_writers._PG_HOLD.format(r="$1", d="$2")
    cur.execute(f"PREPARE bare_hold(bigint, int) AS {sql}")

    def statement(resource_id: int, day: date) -> bool:
        cur.execute("EXECUTE bare_hold(%s, %s)", (resource_id, (day - today).days))
        return cur.rowcount == 1

    return conn.get_backend_pid(), statement


def booking(url: str) -> tuple[int, Hold]:
    bk = Booking.connect(url, actor="bench")
    pid = bk.ctx.db.connection().get_backend_pid()

    def call(resource_id: int, day: date) -> bool:
        try:
            bk.create_hold(resource_id, day, 1, "cpu@example.com")
        except BookingError as exc:
            if exc.code not in ("no_capacity", "blackout"):
                raise
            return False
        return True

    return pid, call


def measure(name: str, pid: int, hold: Hold, cells: list[tuple[int, date]]) -> dict:
    hold(*cells[0])  # the first call prepares and plans
    client0, server0, began = cpu_ms(os.getpid()), cpu_ms(pid), time.perf_counter()
    made = sum(1 for cell in cells[1:] if hold(*cell))
    wall = time.perf_counter() - began
    n = len(cells) - 1
    client = (cpu_ms(os.getpid()) - client0) / n * 1000  # microseconds a hold
    server = (cpu_ms(pid) - server0) / n * 1000
    return {"name": name, "per_s": n / wall, "client": client, "server": server, "made": made}


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--db", required=True, help="a PostgreSQL database with a season")
    parser.add_argument("--holds", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    probe = Booking.connect(args.db, read_only=True)
    today = probe.today()
    resources = [r.id for r in probe.list_resources(active=True)]
    probe.close()
    rng = random.Random()
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    rows = []
    for _ in range(args.rounds):
        for name, (pid, hold) in (
            ("pgbench statement", bare(args.db, today, message=False)),
            ("Booking's message, bare", bare(args.db, today, message=True)),
            ("Booking.create_hold", booking(args.db)),
        ):
            cells = [
                (rng.choice(resources), today + timedelta(rng.randint(1, 364)))
                for _ in range(args.holds)
            ]
            rows.append(measure(name, pid, hold, cells))
    print(f"{'':25} {'holds/s':>8} {'client us':>10} {'server us':>10} {'total us':>9} made")
    for r in rows:
        total = r["client"] + r["server"]
        print(
            f"{r['name']:25} {r['per_s']:8.0f} {r['client']:10.0f} {r['server']:10.0f} "
            f"{total:9.0f} {r['made']}/{args.holds - 1}"
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
