"""The event archive at season scale (issue 13): ``Booking.archive_events`` of the oldest
month of a season's audit trail, beside references measured in the same run on file copies
of the same database (``CREATE DATABASE ... TEMPLATE ... STRATEGY FILE_COPY``):

- the archive (copy A): events/s, and the file's bytes per event; then ``VACUUM`` of
  ``booking_event``, the cost a DELETE leaves behind that a partition drop does not;
- ``COPY (SELECT row_to_json(...)) TO STDOUT`` of the same rows (copy B), and gzip of that
  output apart: reading and serialising at best, and its bytes per event;
- the month as a standalone table with booking_event's indexes, then ``DROP TABLE`` of it:
  what dropping a monthly partition would cost;
- one ``DELETE`` statement of the same rows (rolled back) and the same batched DELETE the
  archive does, with no file (committed): what the delete half costs.

    python bench/season.py --dialect postgresql --only build --keep   # prints its URL
    python bench/archive_bench.py --db postgresql://root@127.0.0.1:5432/resbook_season_xxxx

The season database itself is only read (as a template); the copies are dropped at the end.
PostgreSQL only: SQLite has no partitions to compare with, and the archive's cost there is
the same batches on a smaller table.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from urllib.parse import urlsplit, urlunsplit

import psycopg2

from resbook_tui.booking import Booking

COLUMNS = (
    "id, occurred_at, actor, action, entity, entity_id, resource_id, date_from, date_to, "
    "customer_email, details"
)
INDEXES = (  # booking_event's own (migration 0002), on the standalone month
    "CREATE INDEX ON month_copy (entity, entity_id)",
    "CREATE INDEX ON month_copy (resource_id, occurred_at)",
    "CREATE INDEX ON month_copy (customer_email)",
    "CREATE INDEX ON month_copy (occurred_at)",
    "ALTER TABLE month_copy ADD PRIMARY KEY (id)",
)


@contextmanager
def copies(url: str, n: int) -> Iterator[list[str]]:
    parts = urlsplit(url)
    source = parts.path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    names = [f"{source}_arch_{i}" for i in range(n)]
    try:
        with admin.cursor() as cur:
            for name in names:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
                cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}" STRATEGY FILE_COPY')
        yield [urlunsplit(parts._replace(path=f"/{name}")) for name in names]
    finally:
        with admin.cursor() as cur:
            for name in names:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def timed(conn: psycopg2.extensions.connection, sql: str, *params: object) -> float:
    began = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute(sql, params or None)
    return time.perf_counter() - began


def checkpoint(url: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    timed(conn, "CHECKPOINT")
    conn.close()


def the_month(url: str, days: int) -> tuple[datetime, int, int]:
    """The cutoff that takes the oldest ``days`` days of events, how many, and the
    table's size in bytes per row."""
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT min(occurred_at)::date, count(*) FROM booking_event")
        first, total = cur.fetchone()
        cutoff = datetime.combine(first + timedelta(days=days), clock(), UTC)
        cur.execute(
            "SELECT count(*) FROM booking_event WHERE occurred_at < %s "
            "AND id < (SELECT max(id) FROM booking_event)",
            (cutoff,),
        )
        (n,) = cur.fetchone()
        cur.execute("SELECT pg_total_relation_size('booking_event')")
        (size,) = cur.fetchone()
    conn.close()
    return cutoff, n, size // max(total, 1)


def archive(url: str, cutoff: datetime, batch: int, folder: str) -> dict[str, float]:
    path = os.path.join(folder, "events.jsonl.gz")
    bk = Booking.connect(url, actor="bench")
    began = time.perf_counter()
    result = bk.archive_events(before=cutoff.date(), path=path, batch_size=batch)
    took = time.perf_counter() - began
    bk.close()
    checkpoint(url)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    vacuum = timed(conn, "VACUUM booking_event")
    conn.close()
    return {
        "events": result.archived,
        "seconds": took,
        "bytes": os.path.getsize(path),
        "batches": result.batches,
        "vacuum": vacuum,
    }


def references(url: str, cutoff: datetime, batch: int) -> dict[str, float]:
    conn = psycopg2.connect(url)
    older = "occurred_at < %s AND id < (SELECT max(id) FROM booking_event)"
    out: dict[str, float] = {}
    with conn.cursor() as cur:
        query = cur.mogrify(
            f"COPY (SELECT row_to_json(e) FROM (SELECT {COLUMNS} FROM booking_event "
            f"WHERE {older} ORDER BY id) e) TO STDOUT",
            (cutoff,),
        ).decode()
        buffer = io.BytesIO()
        began = time.perf_counter()
        cur.copy_expert(query, buffer)
        out["copy"] = time.perf_counter() - began
        data = buffer.getvalue()
        began = time.perf_counter()
        out["gzip_bytes"] = len(gzip.compress(data, 6))
        out["gzip"] = time.perf_counter() - began
        out["json_bytes"] = len(data)
    conn.commit()
    conn.autocommit = True
    timed(conn, f"CREATE TABLE month_copy AS SELECT * FROM booking_event WHERE {older}", cutoff)
    for statement in INDEXES:
        timed(conn, statement)
    checkpoint(url)
    out["drop"] = timed(conn, "DROP TABLE month_copy")
    checkpoint(url)
    conn.autocommit = False
    out["delete_one"] = timed(conn, f"DELETE FROM booking_event WHERE {older}", cutoff)
    conn.rollback()
    checkpoint(url)
    out["delete_batched"] = batched_delete(conn, cutoff, batch)
    conn.close()
    return out


def batched_delete(conn: psycopg2.extensions.connection, cutoff: datetime, batch: int) -> float:
    """What the archive's delete half does, with no file: read a batch of ids, delete them
    in one transaction (in statements of 1,000 ids, as booking/archive.py), repeat."""
    began = time.perf_counter()
    after = 0
    with conn.cursor() as cur:
        cur.execute("SELECT max(id) FROM booking_event")
        (newest,) = cur.fetchone()
        conn.commit()
        while True:
            cur.execute(
                "SELECT id FROM booking_event WHERE occurred_at < %s AND id < %s AND id > %s "
                "ORDER BY id LIMIT %s",
                (cutoff, newest, after, batch),
            )
            ids = [r[0] for r in cur.fetchall()]
            if not ids:
                break
            for start in range(0, len(ids), 1000):
                cur.execute(
                    "DELETE FROM booking_event WHERE id IN %s", (tuple(ids[start : start + 1000]),)
                )
            conn.commit()
            after = ids[-1]
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a season database (bench/season.py --keep)")
    parser.add_argument("--days", type=int, default=30, help="the oldest N days of events")
    parser.add_argument("--batch-size", type=int, default=5000)
    args = parser.parse_args()
    cutoff, n, row_bytes = the_month(args.db, args.days)
    print(f"archive of the oldest {args.days} days: {n:,} events before {cutoff:%Y-%m-%d}")
    print(f"booking_event on disk (table + indexes): {row_bytes} B per event")
    load = os.getloadavg()[0]
    with copies(args.db, 2) as (a, b), tempfile.TemporaryDirectory() as folder:
        checkpoint(a)
        got = archive(a, cutoff, args.batch_size, folder)
        ref = references(b, cutoff, args.batch_size)
    rate = got["events"] / got["seconds"]
    copy_rate = n / (ref["copy"] + ref["gzip"])
    print(f"load average before: {load:.1f}, after: {os.getloadavg()[0]:.1f} (2 cores)")
    print()
    rows = [
        (
            "Booking.archive_events",
            f"{got['seconds']:.2f} s",
            f"{rate:,.0f} events/s",
            f"{got['bytes'] / got['events']:.1f} B/event",
            f"{got['batches']:.0f} batches",
        ),
        (
            "  reference: COPY row_to_json TO STDOUT + gzip -6",
            f"{ref['copy'] + ref['gzip']:.2f} s",
            f"{copy_rate:,.0f} events/s",
            f"{ref['gzip_bytes'] / n:.1f} B/event",
            f"COPY {ref['copy']:.2f} s, gzip {ref['gzip']:.2f} s, "
            f"{ref['json_bytes'] / n:.0f} B/event raw",
        ),
        (
            "  reference: batched DELETE, same batches, no file",
            f"{ref['delete_batched']:.2f} s",
            f"{n / ref['delete_batched']:,.0f} events/s",
            "",
            "",
        ),
        (
            "  reference: one DELETE statement (rolled back)",
            f"{ref['delete_one']:.2f} s",
            f"{n / ref['delete_one']:,.0f} events/s",
            "",
            "",
        ),
        (
            "  partition drop: DROP TABLE of the month (+ indexes)",
            f"{ref['drop'] * 1000:.1f} ms",
            "",
            "",
            "",
        ),
        ("VACUUM booking_event after the archive", f"{got['vacuum']:.2f} s", "", "", ""),
    ]
    for row in rows:
        print(" | ".join(cell for cell in row if cell))
    print()
    print(
        f"archive / (COPY + gzip): {got['seconds'] / (ref['copy'] + ref['gzip']):.2f}x; "
        f"archive / batched DELETE: {got['seconds'] / ref['delete_batched']:.2f}x; "
        f"archive / DROP: {got['seconds'] / ref['drop']:,.0f}x"
    )


if __name__ == "__main__":
    main()
