"""The season dataset of issue 13, built with set-based SQL (no Python loop over rows).

At scale 1: 1,000 resources x 365 days from today (capacity 20 a cell); 1,000,000 holds
over the last 90 days, of which 110,000 are ACTIVE (100,000 past their expiry, 10,000
expiring in 2-4 hours), 356,000 CONFIRMED (each with its allocation), 234,000 RELEASED and
300,000 EXPIRED; and their audit trail: a seed event, one hold.create per hold, a
hold.extend for one hold in 50 and one closing event per closed hold (about 1.91M events,
oldest first, ids in time order). Every count scales with ``scale`` (resources too; days
stay 365). Available capacity is made consistent with the ACTIVE holds and allocations.

Holds are numbered n = 0..N-1 in creation order (id = n + 1). The last 2 x ACTIVE of
them, made in the last 30 hours, alternate ACTIVE / closed; the newest 10,000 ACTIVE ones
still run. A hold's cell is n x 104729 mod cells and its closed status comes from a
multiplicative permutation of its index, so statuses and cells are spread evenly. The
same SQL is written once with a few dialect spellings (PostgreSQL and SQLite).
"""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg2

DAYS = 365
CAPACITY = 20
CELL_STEP = 104_729  # a prime: spreads consecutive holds over resources and dates
STATUS_STEP = 7_919  # a prime: spreads closed statuses over the holds


@dataclass(frozen=True)
class Season:
    resources: int
    days: int
    holds: int
    active: int
    due: int  # ACTIVE holds past their expiry
    confirmed: int
    released: int

    @classmethod
    def at(cls, scale: float) -> Season:
        def n(full: int) -> int:
            return max(int(round(full * scale)), 1)

        return cls(n(1000), DAYS, n(1_000_000), n(110_000), n(100_000), n(356_000), n(234_000))

    @property
    def expired(self) -> int:
        return self.holds - self.active - self.confirmed - self.released

    @property
    def cells(self) -> int:
        return self.resources * self.days

    @property
    def extended(self) -> int:
        return len(range(7, self.holds, 50))

    @property
    def events(self) -> int:
        return 1 + self.holds + self.extended + (self.holds - self.active)

    def describe(self) -> str:
        return (
            f"{self.resources:,} resources x {self.days} days, {self.holds:,} holds "
            f"({self.active:,} ACTIVE, {self.due:,} of them due), {self.confirmed:,} allocations, "
            f"{self.events:,} events"
        )

    def check(self) -> None:
        if self.expired < 0 or self.due > self.active or 2 * self.active > self.holds:
            raise SystemExit(f"season sizes do not add up: {self}")
        for step, modulus in ((CELL_STEP, self.cells), (STATUS_STEP, self.holds - self.active)):
            if math.gcd(step, modulus) != 1:
                raise SystemExit(f"scale gives {modulus}, a multiple of {step}: pick another")


@dataclass(frozen=True)
class Dialect:
    name: str
    double: str  # a float type for offsets in seconds
    least: str  # the two-argument minimum

    def series(self, count: str) -> str:
        """A CTE ``g(n)`` of 0..count-1."""
        if self.name == "postgresql":
            return f"g AS (SELECT n::bigint AS n FROM generate_series(0, {count} - 1) AS n)"
        return f"g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n + 1 < {count})"

    def at(self, offset: str) -> str:
        """The base time (a parameter) plus ``offset`` seconds, as the schema stores it."""
        if self.name == "postgresql":
            return f"(%(base)s::timestamptz + make_interval(secs => {offset}))"
        return f"strftime('%Y-%m-%d %H:%M:%f', :base, printf('%+.3f seconds', {offset}))"

    def day(self, offset: str) -> str:
        if self.name == "postgresql":
            return f"(%(start)s::date + ({offset})::int)"
        return f"date(:start, printf('%+d days', {offset}))"

    def key(self, n: str) -> str:
        if self.name == "postgresql":
            return f"md5('season' || {n})"
        return "lower(hex(randomblob(16)))"

    def json(self, *pairs: str) -> str:
        return ("jsonb_build_object(" if self.name == "postgresql" else "json_object(") + (
            ", ".join(pairs) + ")"
        )

    def mod(self, a: str, b: str) -> str:
        return f"mod({a}, {b})" if self.name == "postgresql" else f"(({a}) % ({b}))"

    def param(self, name: str) -> str:
        return f"%({name})s" if self.name == "postgresql" else f":{name}"


PG = Dialect("postgresql", "double precision", "LEAST")
SQLITE = Dialect("sqlite", "REAL", "min")


def _plan_sql(d: Dialect) -> str:
    """One row per hold with everything the inserts need (offsets in seconds from base)."""
    p = d.param
    created = (
        f"CASE WHEN j < 0 THEN -7776000 + CAST(n AS {d.double}) / {p('first_tail')} * 7668000 "
        f"ELSE -108000 + CAST(j AS {d.double}) / (2 * {p('active')}) * 107400 END"
    )
    # A closed hold's index among the closed ones, permuted: decides its status.
    closed_index = f"(CASE WHEN j < 0 THEN n ELSE {p('first_tail')} + j / 2 END)"
    perm = d.mod(f"{closed_index} * {STATUS_STEP}", f"({p('holds')} - {p('active')})")
    cell = d.mod(f"n * {CELL_STEP}", p("cells"))
    return f"""
CREATE TEMP TABLE plan_hold AS
WITH RECURSIVE {d.series(p("holds"))},
s AS (
    SELECT n, n - {p("first_tail")} AS j FROM g
), t AS (
    SELECT n, j, j >= 0 AND {d.mod("j", "2")} = 1 AS active,
           j >= 2 * ({p("active")} - {p("running")}) AND {d.mod("j", "2")} = 1 AS running,
           {perm} AS perm,
           {cell} AS cell,
           {created} AS created_s
    FROM s
), u AS (
    SELECT n, j, active, running, cell, created_s,
           CASE WHEN active THEN 'ACTIVE'
                WHEN perm < {p("confirmed")} THEN 'CONFIRMED'
                WHEN perm < {p("confirmed")} + {p("released")} THEN 'RELEASED'
                ELSE 'EXPIRED' END AS status
    FROM t
), v AS (
    SELECT n, status, cell, created_s,
           CASE WHEN running THEN 7200 + {d.mod("j", "120")} * 60
                WHEN status = 'EXPIRED' THEN {d.least}(created_s + 1800, -60)
                ELSE created_s + 1800 END AS expires_s
    FROM u
)
SELECT n + 1 AS id, n, status, {p("first_resource")} + cell / {p("days")} AS resource_id,
       {d.mod("cell", p("days"))} AS day,
       1 + CASE WHEN {d.mod("n", "5")} = 0 THEN 1 ELSE 0 END AS quantity,
       'customer.' || {d.mod("n * 7", p("customers"))} || '@example-travel.com' AS email,
       created_s, expires_s,
       {d.least}(CASE status WHEN 'CONFIRMED' THEN created_s + 180 + {d.mod("n", "20")} * 60
                             WHEN 'RELEASED' THEN created_s + 60 + {d.mod("n", "25")} * 60
                             WHEN 'EXPIRED' THEN expires_s + 60 + {d.mod("n", "50")} * 60
                             ELSE created_s END, -1) AS closed_s
FROM v
"""


def _steps(d: Dialect) -> list[tuple[str, str]]:
    p, at = d.param, d.at
    seed_details = d.json(
        "'capacity_rows_created'",
        f"{p('resources')} * {p('days')}",
        "'days'",
        p("days"),
        "'resources_created'",
        p("resources"),
    )
    type_of = (
        f"CASE WHEN n < {p('resources')} * 4 / 10 THEN 'VEHICLE' "
        f"WHEN n < {p('resources')} * 7 / 10 THEN 'TOUR' ELSE 'GUIDE' END"
    )
    number = (
        f"n + 1 - CASE WHEN n < {p('resources')} * 4 / 10 THEN 0 "
        f"WHEN n < {p('resources')} * 7 / 10 THEN {p('resources')} * 4 / 10 "
        f"ELSE {p('resources')} * 7 / 10 END"
    )
    hold_event = (
        "INSERT INTO booking_event (occurred_at, actor, action, entity, entity_id, resource_id, "
        "date_from, date_to, customer_email, details) "
    )
    where_day = d.day("h.day")
    return [
        (
            "resources",
            f"""INSERT INTO resource (name, type, created_at, updated_at)
WITH RECURSIVE {d.series(p("resources"))}
SELECT CASE WHEN {type_of} = 'VEHICLE' THEN '4WD Cruiser ' WHEN {type_of} = 'TOUR'
            THEN 'Outback Day Tour ' ELSE 'Guide ' END || ({number}),
       {type_of}, {at("-7862400")}, {at("-7862400")}
FROM g ORDER BY n""",
        ),
        (
            "capacity",
            f"""INSERT INTO resource_capacity (resource_id, date, max_capacity, available_capacity,
                               created_at, updated_at)
WITH RECURSIVE {d.series(p("days"))}
SELECT r.id, {d.day("g.n")}, {CAPACITY}, {CAPACITY}, {at("-7862400")}, {at("-7862400")}
FROM resource r CROSS JOIN g ORDER BY r.id, g.n""",
        ),
        (
            "seed event",
            f"""{hold_event}
VALUES ({at("-7862400")}, 'bench', 'seed', 'capacity', NULL, NULL, {d.day("0")},
        {d.day(p("days") + " - 1")}, NULL, {seed_details})""",
        ),
        ("hold plan", _plan_sql(d)),
        (
            "holds",
            f"""INSERT INTO resource_hold (id, resource_id, date, quantity, customer_email,
                           idempotency_token, status, expires_at, created_at, updated_at)
SELECT h.id, h.resource_id, {where_day}, h.quantity, h.email, {d.key("h.n")}, h.status,
       {at("h.expires_s")}, {at("h.created_s")}, {at("h.closed_s")}
FROM plan_hold h ORDER BY h.id""",
        ),
        (
            "allocations",
            f"""INSERT INTO resource_allocation (resource_id, date, quantity, order_id,
                                 line_item_id, hold_id, created_at)
SELECT h.resource_id, {where_day}, h.quantity, 'ORD-' || (100000 + h.n), 'LI-' || h.n || '-1',
       h.id, {at("h.closed_s")}
FROM plan_hold h WHERE h.status = 'CONFIRMED' ORDER BY h.closed_s, h.id""",
        ),
        (
            "events",
            f"""{hold_event}
SELECT {at("e.at_s")}, e.actor, e.action, 'hold', e.id, e.resource_id, {d.day("e.day")},
       {d.day("e.day")}, e.email, e.details
FROM (
    SELECT h.created_s AS at_s, 1 AS ord, 'shop' AS actor, 'hold.create' AS action, h.id,
           h.resource_id, h.day, h.email,
           {
                d.json(
                    "'expires_at'",
                    at("h.created_s + 1800"),
                    "'quantity'",
                    "h.quantity",
                    "'token'",
                    d.key("h.n"),
                    "'ttl_minutes'",
                    "30",
                )
            } AS details
    FROM plan_hold h
    UNION ALL
    SELECT h.created_s + 60, 2, 'shop', 'hold.extend', h.id, h.resource_id, h.day, h.email,
           {d.json("'expires_at'", at("h.created_s + 2700"), "'minutes'", "15")}
    FROM plan_hold h WHERE {d.mod("h.n", "50")} = 7
    UNION ALL
    SELECT h.closed_s, 3, 'shop', 'hold.confirm', h.id, h.resource_id, h.day, h.email,
           {
                d.json(
                    "'allocation_id'",
                    "a.id",
                    "'line_item_id'",
                    "a.line_item_id",
                    "'order_id'",
                    "a.order_id",
                    "'quantity'",
                    "h.quantity",
                )
            }
    FROM plan_hold h JOIN resource_allocation a ON a.hold_id = h.id
    UNION ALL
    SELECT h.closed_s, 3, 'shop', 'hold.release', h.id, h.resource_id, h.day, h.email,
           {d.json("'quantity'", "h.quantity")}
    FROM plan_hold h WHERE h.status = 'RELEASED'
    UNION ALL
    SELECT h.closed_s, 3, 'cron', 'hold.expire', h.id, h.resource_id, h.day, h.email,
           {d.json("'expires_at'", at("h.expires_s"), "'quantity'", "h.quantity")}
    FROM plan_hold h WHERE h.status = 'EXPIRED'
) e ORDER BY e.at_s, e.ord, e.id""",
        ),
        (
            "available capacity",
            """UPDATE resource_capacity SET available_capacity = max_capacity - u.units
FROM (SELECT resource_id, date, SUM(quantity) AS units FROM (
          SELECT resource_id, date, quantity FROM resource_hold WHERE status = 'ACTIVE'
          UNION ALL SELECT resource_id, date, quantity FROM resource_allocation) x
      GROUP BY resource_id, date) u
WHERE resource_capacity.resource_id = u.resource_id AND resource_capacity.date = u.date""",
        ),
        ("drop plan", "DROP TABLE plan_hold"),
    ]


def _params(season: Season, base: datetime, start: str, first_resource: int) -> dict[str, object]:
    return {
        "base": base.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
        "start": start,
        "resources": season.resources,
        "days": season.days,
        "holds": season.holds,
        "active": season.active,
        "running": season.active - season.due,
        "confirmed": season.confirmed,
        "released": season.released,
        "cells": season.cells,
        "first_tail": season.holds - 2 * season.active,
        "first_resource": first_resource,
        "customers": max(season.holds // 3, 1),
    }


def migrate(url: str) -> None:
    """The schema, through the CLI as a user would make it."""
    subprocess.run(
        [sys.executable, "-m", "resbook_tui", "--db", url, "migrate", "up"],
        check=True,
        capture_output=True,
    )


def build(url: str, season: Season, say=print) -> float:  # noqa: ANN001
    """Migrate and fill an empty database; returns the seconds the data took."""
    season.check()
    migrate(url)
    started = time.perf_counter()
    if url.startswith("postgresql"):
        _build_pg(url, season, say)
    else:
        _build_sqlite(url, season, say)
    return time.perf_counter() - started


def _timed(say, name: str, run) -> None:  # noqa: ANN001
    began = time.perf_counter()
    run()
    say(f"    {name:<20} {time.perf_counter() - began:6.1f} s")


def _build_pg(url: str, season: Season, say) -> None:  # noqa: ANN001
    conn = psycopg2.connect(url)
    base = datetime.now(UTC)
    with conn, conn.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
        cur.execute("SET LOCAL work_mem = '256MB'")
        cur.execute("SELECT CURRENT_DATE::text, COALESCE(MAX(id), 0) + 1 FROM resource")
        start, first = cur.fetchone()
        params = _params(season, base, start, first)
        params["base"] = base.isoformat()
        for name, sql in _steps(PG):
            _timed(say, name, lambda sql=sql: cur.execute(sql, params))
        for table in (
            "resource",
            "resource_capacity",
            "resource_hold",
            "resource_allocation",
            "booking_event",
        ):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
    conn.autocommit = True
    with conn.cursor() as cur:
        _timed(say, "vacuum analyze", lambda: cur.execute("VACUUM ANALYZE"))
    conn.close()


def _build_sqlite(url: str, season: Season, say) -> None:  # noqa: ANN001
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    conn.execute("PRAGMA journal_mode = wal")
    base = datetime.now(UTC)
    start, first = conn.execute(
        "SELECT date('now'), COALESCE(MAX(id), 0) + 1 FROM resource"
    ).fetchone()
    params = _params(season, base, start, first)
    conn.execute("BEGIN IMMEDIATE")
    for name, sql in _steps(SQLITE):
        _timed(say, name, lambda sql=sql: conn.execute(sql, params))
    conn.execute("COMMIT")
    _timed(say, "analyze", lambda: conn.execute("ANALYZE"))
    conn.close()


def counts(url: str) -> dict[str, int]:
    """What the database holds now (a check that the build did what it says)."""
    queries = {
        "resources": "SELECT count(*) FROM resource",
        "cells": "SELECT count(*) FROM resource_capacity",
        "holds": "SELECT count(*) FROM resource_hold",
        "active": "SELECT count(*) FROM resource_hold WHERE status = 'ACTIVE'",
        "allocations": "SELECT count(*) FROM resource_allocation",
        "events": "SELECT count(*) FROM booking_event",
    }
    if url.startswith("postgresql"):
        queries["due"] = (
            "SELECT count(*) FROM resource_hold WHERE status = 'ACTIVE' AND expires_at <= now()"
        )
        conn = psycopg2.connect(url)
        with conn.cursor() as cur:
            out = {}
            for name, sql in queries.items():
                cur.execute(sql)
                out[name] = cur.fetchone()[0]
        conn.close()
        return out
    queries["due"] = (
        "SELECT count(*) FROM resource_hold WHERE status = 'ACTIVE' "
        "AND expires_at <= strftime('%Y-%m-%d %H:%M:%f', 'now')"
    )
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    out = {name: conn.execute(sql).fetchone()[0] for name, sql in queries.items()}
    conn.close()
    return out
