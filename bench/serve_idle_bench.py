"""The first requests after a quiet spell, against `resbook serve` on PostgreSQL.

    python bench/serve_idle_bench.py [--cycles 3] [--clients 8] [--requests 400] [--idle 11]

A shop's traffic comes in bursts. The server's request threads are anyio's, which end
after 10 s idle; the next burst starts new ones, and each needs a database connection.
Each cycle here: ``--idle`` seconds with no request, then a burst of ``--clients``
keep-alive clients sending ``--requests`` holds in all (the same POST /v1/holds as
http_bench.py), then at once a second burst of the same size: the reference, a server
whose threads are still there. For each burst: p50, p99 and the slowest request, and
the PostgreSQL backends started during it (``pg_stat_activity.backend_start``).

The clients connect their sockets before the clock starts but send nothing, so no
request of theirs warms the server first.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import description, throwaway_postgres  # noqa: E402
from http_bench import RESOURCES, cells, http_round, pct, start_server  # noqa: E402
from resbook_tui.booking import Booking  # noqa: E402
from resbook_tui.db import open_database  # noqa: E402
from resbook_tui.schema.migrations import Migrator  # noqa: E402
from resbook_tui.seed import SeedPlan, seed  # noqa: E402

DAYS, CAPACITY = 60, 100_000


@dataclass(frozen=True)
class Burst:
    took: list[float]
    backends_started: int


def burst(
    *, url: str, key: str, bk: Booking, work: list[tuple[int, date]], clients: int, tag: str
) -> Burst:
    started = bk.db.execute_sql("SELECT clock_timestamp()").fetchone()[0]
    _, took, _ = http_round(url, key, work, clients, tag, greet=False)
    new = bk.db.execute_sql(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND backend_start >= %s",
        (started,),
    ).fetchone()[0]
    return Burst(took, int(new))


def line(name: str, b: Burst) -> str:
    return (
        f"  {name}: p50 {pct(b.took, 50):.1f} ms, p99 {pct(b.took, 99):.1f} ms, "
        f"slowest {max(b.took) * 1000:.1f} ms, backends started {b.backends_started}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400, help="holds a burst, in all")
    parser.add_argument("--idle", type=float, default=11.0, help="seconds before a burst")
    parser.add_argument("--threads", type=int, default=8, help="server threads (connections)")
    args = parser.parse_args()
    with throwaway_postgres() as url:
        db = open_database(url)
        Migrator(db).up()
        seed(db, SeedPlan(vehicles=RESOURCES, days=DAYS, capacity=CAPACITY))
        bk = Booking(db, actor="bench")
        key = bk.create_api_key("bench", "store").key
        today, rng = bk.today(), random.Random(42)
        process, server = start_server(url, args.threads, None)
        n, c = args.requests, args.clients
        try:
            burst(url=server, key=key, bk=bk, work=cells(rng, today, n), clients=c, tag="w")
            print(
                f"PostgreSQL, bursts of {n} holds from {c} clients; server: resbook serve's "
                f"default processes x {args.threads} threads; {args.idle:g} s idle before "
                "each first burst"
            )
            for i in range(args.cycles):
                time.sleep(args.idle)  # the quiet spell is what is measured
                cold = burst(
                    url=server, key=key, bk=bk, work=cells(rng, today, n), clients=c, tag=f"i{i}"
                )
                warm = burst(
                    url=server, key=key, bk=bk, work=cells(rng, today, n), clients=c, tag=f"r{i}"
                )
                print(f" cycle {i + 1}")
                print(line("after the quiet spell", cold))
                print(line("straight after (reference)", warm))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
            bk.close()


if __name__ == "__main__":
    main()
