"""How long `seed` takes for 1,000 resources x 365 days (365,000 capacity rows).

    python bench/seed_bench.py [--dialect both|sqlite|postgresql] [--resources N] [--days N]

Targets (issue 2): under 15 s on PostgreSQL and under 10 s on SQLite on a 2-core machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import description, dialects  # noqa: E402
from resbook_tui.db import open_database  # noqa: E402
from resbook_tui.schema.migrations import Migrator  # noqa: E402
from resbook_tui.seed import SeedPlan, seed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--dialect", default="both", choices=["both", "sqlite", "postgresql"])
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    plan = SeedPlan(vehicles=args.resources, days=args.days)
    for name, make in dialects(args.dialect):
        with make() as url:
            db = open_database(url)
            Migrator(db).up()
            started = time.perf_counter()
            result = seed(db, plan)
            first = time.perf_counter() - started
            started = time.perf_counter()
            again = seed(db, plan)
            second = time.perf_counter() - started
            db.close()
        print(
            f"{name:<10} seed {args.resources} resources x {args.days} days: "
            f"{result.capacity_rows_created:,} rows in {first:.2f} s "
            f"({result.capacity_rows_created / first:,.0f} rows/s); "
            f"re-run (idempotent, {again.capacity_rows_created} rows) {second:.2f} s"
        )


if __name__ == "__main__":
    main()
