"""How fast the support CLI prints a long list: ``resbook holds list`` with 500 holds.

    python bench/cli_bench.py [--dialect sqlite|postgresql|both] [--holds 500] [--width 80]

Target (issue 9): 500 rows draw well under 150 ms. Printed beside references measured in
the same run: the one SQL statement that reads the holds, and a bare loop that writes the
same number of ready-made lines. "whole process" runs `resbook holds list` as a user would
(COLUMNS set), next to `--limit 1` (start-up and imports alone).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import description, dialects  # noqa: E402
from resbook_tui.booking import Booking  # noqa: E402
from resbook_tui.cli import views  # noqa: E402
from resbook_tui.cli.table import print_table  # noqa: E402
from resbook_tui.db import open_database  # noqa: E402
from resbook_tui.schema.migrations import Migrator  # noqa: E402
from resbook_tui.seed import SeedPlan, seed  # noqa: E402


def best_of(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def fill(url: str, holds: int) -> None:
    db = open_database(url)
    Migrator(db).up()
    seed(db, SeedPlan(vehicles=25, tours=10, days=30, capacity=100))
    bk = Booking(db, actor="bench")
    first = bk.today() + timedelta(days=1)
    for n in range(holds):
        email = f"customer.with.a.long.name.{n:04d}@example-travel.com"
        bk.create_hold(1 + n % 35, first + timedelta(n % 28), 1 + n % 3, email)
    db.close()


def whole_process(url: str, limit: int, width: int) -> float:
    env = {**os.environ, "COLUMNS": str(width)}
    command = [sys.executable, "-m", "resbook_tui", "--db", url, "holds", "list"]
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([*command, "--limit", str(limit)], env=env, check=True, capture_output=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def bench(name: str, url: str, holds: int, width: int) -> None:
    fill(url, holds)
    os.environ["COLUMNS"] = str(width)
    bk = Booking.connect(url, read_only=True)
    items = bk.list_holds(limit=holds)
    names, now = bk.resource_names(), bk.now()
    sink = io.StringIO()

    def draw() -> None:
        sink.seek(0)
        with redirect_stdout(sink):
            print_table(
                views.hold_columns(False), (views.hold_row(h, names, now, False) for h in items)
            )

    lines = [f"{h.id:>5}  {h.customer_email}" for h in items]

    def bare() -> None:
        sink.seek(0)
        sink.write("\n".join(lines) + "\n")

    query = best_of(20, lambda: bk.list_holds(limit=holds))
    one_sql = best_of(20, lambda: bk.db.execute_sql("SELECT * FROM resource_hold").fetchall())
    rows = [
        (f"draw (table, {len(items)} rows)", best_of(20, draw), "target < 150 ms"),
        ("reference: bare loop, same lines", best_of(20, bare), ""),
        ("query (Booking.list_holds)", query, ""),
        ("reference: one SELECT statement", one_sql, ""),
        (f"whole process, {holds} holds", whole_process(url, holds, width), ""),
        ("reference: whole process, 1 hold", whole_process(url, 1, width), ""),
    ]
    print(f"{name}: {len(items)} holds at {width} columns")
    for label, seconds, note in rows:
        print(f"  {label:<36}{ms(seconds)}   {note}".rstrip())
    bk.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--dialect", default="sqlite", choices=["sqlite", "postgresql", "both"])
    parser.add_argument("--holds", type=int, default=500)
    parser.add_argument("--width", type=int, default=80)
    args = parser.parse_args()
    for name, make in dialects(args.dialect):
        with make() as url:  # type: ignore[operator]
            bench(name, url, args.holds, args.width)


if __name__ == "__main__":
    main()
