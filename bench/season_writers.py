"""Writers for the season benchmark: hold creation in many processes, and their references.

As a library (season.py): ``processes`` runs N writer processes on distinct cells for a
fixed time, ``pgbench`` runs the same statements with N clients for the same time,
``interleaved`` times one Booking process against a bare driver loop in alternating chunks.

As a program, one writer process (started by the functions here or by season_tui.py):

    python bench/season_writers.py booking|bare|message|changer SPEC_JSON

It connects, prints ``ready``, waits for ``go`` on stdin, works, and prints one JSON line.
Writer ``i`` of ``n`` holds only resources ``first + i + n*k``, so no two writers share a
cell; dates are today+1 .. today+days-1, at random.
"""

from __future__ import annotations

import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg2

from resbook_tui.booking import Booking, BookingError
from resbook_tui.dialects import postgresql_sql as raw
from resbook_tui.errors import ResbookError

HERE = Path(__file__).resolve()

# ---- the same statements, straight through the driver ------------------------------------------
#
# pgbench and the bare loops do what a hold is in the database (the conditional capacity
# UPDATE, the hold row, its audit event) with no checks, no lock statement, no NOTIFY.

_PG_HOLD = """
WITH c AS (
    UPDATE resource_capacity SET available_capacity = available_capacity - 1
    WHERE resource_id = {r} AND date = CURRENT_DATE + {d} AND available_capacity >= 1
      AND date >= CURRENT_DATE
      AND EXISTS (SELECT 1 FROM resource r WHERE r.id = {r} AND r.is_active
                  AND r.deleted_at IS NULL)
      AND NOT EXISTS (SELECT 1 FROM resource_blackout b WHERE b.resource_id = {r}
                      AND b.start_date <= CURRENT_DATE + {d} AND b.end_date >= CURRENT_DATE + {d})
    RETURNING resource_id, date
), h AS (
    INSERT INTO resource_hold (resource_id, date, quantity, customer_email, idempotency_token,
                               status, expires_at)
    SELECT resource_id, date, 1, 'pgbench@example.com', md5(random()::text || clock_timestamp()),
           'ACTIVE', now() + interval '30 minutes'
    FROM c RETURNING id, resource_id, date, customer_email, expires_at, idempotency_token
)
INSERT INTO booking_event (actor, action, entity, entity_id, resource_id, date_from, date_to,
                           customer_email, details)
SELECT 'bench', 'hold.create', 'hold', id, resource_id, date, date, customer_email,
       jsonb_build_object('quantity', 1, 'ttl_minutes', 30, 'token', idempotency_token,
                          'expires_at', expires_at)
FROM h
"""

_SQLITE_HOLD = (
    "UPDATE resource_capacity SET available_capacity = available_capacity - 1 "
    "WHERE resource_id = ? AND date = ? AND available_capacity >= 1",
    "INSERT INTO resource_hold (resource_id, date, quantity, customer_email, idempotency_token, "
    "status, expires_at) VALUES (?, ?, 1, 'bare@example.com', ?, 'ACTIVE', "
    "strftime('%Y-%m-%d %H:%M:%f', 'now', '+30 minutes')) RETURNING id",
    "INSERT INTO booking_event (actor, action, entity, entity_id, resource_id, date_from, "
    "date_to, customer_email, details) VALUES ('bench', 'hold.create', 'hold', ?, ?, ?, ?, "
    "'bare@example.com', json_object('quantity', 1, 'ttl_minutes', 30, 'token', ?))",
)


class BareLoop:
    """One hold per commit through the bare driver: the same statements, nothing else."""

    def __init__(self, url: str) -> None:
        self.pg = url.startswith("postgresql")
        if self.pg:
            self.conn: Any = psycopg2.connect(url)
            self.cur = self.conn.cursor()
            sql = _PG_HOLD.format(r="$1", d="$2")
            self.cur.execute(f"PREPARE bare_hold(bigint, int) AS {sql}")
            self.conn.commit()
        else:
            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            for pragma in ("synchronous = normal", "foreign_keys = 1", "busy_timeout = 30000"):
                self.conn.execute(f"PRAGMA {pragma}")  # as resbook sets its sessions

    def hold(self, resource_id: int, day: date, today: date) -> bool:
        """True when the hold was made, False when the cell was full."""
        if self.pg:
            self.cur.execute("EXECUTE bare_hold(%s, %s)", (resource_id, (day - today).days))
            made = self.cur.rowcount == 1
            self.conn.commit()
            return made
        update, insert, event = _SQLITE_HOLD
        token = uuid.uuid4().hex
        self.conn.execute("BEGIN IMMEDIATE")
        iso = day.isoformat()
        made = self.conn.execute(update, (resource_id, iso)).rowcount == 1
        if made:
            (hold_id,) = self.conn.execute(insert, (resource_id, iso, token)).fetchone()
            self.conn.execute(event, (hold_id, resource_id, iso, iso, token))
        self.conn.execute("COMMIT")
        return made

    def close(self) -> None:
        self.conn.close()


class MessageLoop:
    """Booking's own one-date message (the cell lock and the take, one implicit
    transaction) through bare psycopg2: what any Python writer sending it costs, with none
    of Booking's Python around it. Its ratio to pgbench is the ceiling for Booking's."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg2.connect(url)
        self.conn.autocommit = True  # the message carries its own BEGIN and COMMIT
        self.cur = self.conn.cursor()
        self.cur.execute("SET TIME ZONE 'UTC'")
        self.cur.execute(raw.HOLD_STATEMENTS._prepare_sql)
        self.sql = raw.HOLD_STATEMENTS.sql(*raw.first_steps(False))

    def hold(self, resource_id: int, day: date, today: date) -> bool:
        values = {"r": resource_id, "d": day, "until": day, "q": 1, "e": "message@example.com"}
        values.update(t=None, k=uuid.uuid4().hex, ttl=30, actor="bench")
        self.cur.execute(self.sql, values)
        return self.cur.fetchone()[raw.EVENT_ID] is not None

    def close(self) -> None:
        self.conn.close()


class BookingLoop:
    def __init__(self, url: str) -> None:
        self.bk = Booking.connect(url, actor="bench")

    def hold(self, resource_id: int, day: date, today: date) -> bool:
        try:
            self.bk.create_hold(resource_id, day, 1, "writer@example.com")
        except BookingError as exc:  # a full cell is refused, as the bare loop's UPDATE is
            if exc.code != "no_capacity":
                raise
            return False
        return True

    def close(self) -> None:
        self.bk.close()


# ---- the parent's side ---------------------------------------------------------------------------


def processes(url: str, mode: str, n: int, seconds: float, layout: dict[str, Any]) -> dict:
    """``n`` writer processes of ``mode`` for ``seconds``: holds/s and refusals."""
    # A fresh draw of cells each run, as pgbench's: with the same seeds, every run would
    # revisit the cells the last one filled and measure refusals instead of holds.
    seed = random.randrange(2**32)
    procs = []
    for i in range(n):
        spec = {"url": url, "client": i, "clients": n, "seconds": seconds, "seed": seed, **layout}
        procs.append(
            subprocess.Popen(
                [sys.executable, str(HERE), mode, json.dumps(spec)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    for proc in procs:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"a {mode} writer did not start")
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, _ = proc.communicate()
        results.append(json.loads(out.strip().splitlines()[-1]))
    made = sum(r["made"] for r in results)
    longest = max(r["elapsed"] for r in results)
    return {
        "per_s": made / longest,
        "made": made,
        "refused": sum(r["refused"] for r in results),
        "errors": sum(r["errors"] for r in results),
        "first_error": next((r["first_error"] for r in results if r["first_error"]), ""),
    }


def combined(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Runs of equal length as one: the mean rate, the other counts summed."""
    out: dict[str, Any] = {"per_s": sum(r["per_s"] for r in runs) / len(runs)}
    for key in ("made", "refused", "errors"):
        out[key] = sum(r.get(key, 0) for r in runs)
    out["first_error"] = next((r["first_error"] for r in runs if r.get("first_error")), "")
    return out


def pgbench(url: str, n: int, seconds: float, layout: dict[str, Any]) -> dict:
    """pgbench with ``n`` clients running _PG_HOLD on the same distinct cells."""
    per = layout["resources"] // n
    script = (
        f"\\set r {layout['first']} + :client_id + {n} * random(0, {per - 1})\n"
        f"\\set d random(1, {layout['days'] - 1})\n"
        + _PG_HOLD.format(r="CAST(:r AS bigint)", d="CAST(:d AS int)").strip()
        + ";\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    try:
        threads = min(n, 4)
        run = subprocess.run(
            [
                "pgbench",
                "-n",
                "-M",
                "prepared",
                "-c",
                str(n),
                "-j",
                str(threads),
                "-T",
                str(int(seconds)),
                "-f",
                f.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PGTZ": "UTC"},
        )
    finally:
        os.unlink(f.name)
    found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", run.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", run.stdout)
    if found is None:
        raise RuntimeError(f"pgbench said: {run.stdout[-500:]} {run.stderr[-500:]}")
    return {"per_s": float(found.group(1)), "errors": int(failed.group(1)) if failed else 0}


def interleaved(url: str, holds: int, layout: dict[str, Any], chunk: int = 100) -> dict:
    """One process: Booking.create_hold vs the bare loop, alternating chunks of ``chunk``
    holds so that the machine's moods hit both alike. Holds/s of each."""
    rng = random.Random(13)
    booking, bare = BookingLoop(url), BareLoop(url)
    today = booking.bk.today()
    spent = {"booking": 0.0, "bare": 0.0}
    done = 0
    for _ in range(max(holds // chunk, 1)):
        cells = [_cell(rng, layout, 0, 1, today) for _ in range(chunk)]
        for name, loop in (("bare", bare), ("booking", booking)):
            began = time.perf_counter()
            for resource_id, day in cells:
                loop.hold(resource_id, day, today)
            spent[name] += time.perf_counter() - began
        done += chunk
    booking.close()
    bare.close()
    return {name: done / seconds for name, seconds in spent.items()}


def _cell(rng: random.Random, layout: dict[str, Any], i: int, n: int, today: date) -> tuple:
    k = rng.randrange(max(layout["resources"] // n, 1))
    return layout["first"] + i + n * k, today + timedelta(rng.randint(1, layout["days"] - 1))


# ---- one writer process -------------------------------------------------------------------


def _writer(mode: str, spec: dict[str, Any]) -> dict[str, Any]:
    loops = {"booking": BookingLoop, "bare": BareLoop, "message": MessageLoop}
    loop: BookingLoop | BareLoop | MessageLoop = loops[mode](spec["url"])
    probe = Booking.connect(spec["url"])
    today = probe.today()
    probe.close()
    rng = random.Random(f"{spec['seed']}/{spec['client']}")
    print("ready", flush=True)
    sys.stdin.readline()
    made = refused = errors = 0
    first_error = ""
    began = time.perf_counter()
    deadline = began + spec["seconds"]
    while time.perf_counter() < deadline:
        resource_id, day = _cell(rng, spec, spec["client"], spec["clients"], today)
        try:
            if loop.hold(resource_id, day, today):
                made += 1
            else:
                refused += 1
        except (ResbookError, sqlite3.Error, psycopg2.Error) as exc:
            errors += 1
            first_error = first_error or f"{type(exc).__name__}: {exc}"
    elapsed = time.perf_counter() - began
    loop.close()
    return {
        "made": made,
        "refused": refused,
        "errors": errors,
        "first_error": first_error,
        "elapsed": elapsed,
    }


def _changer(spec: dict[str, Any]) -> dict[str, Any]:
    """Commit ``changes`` changes ``interval`` s apart: create, confirm, create, release..."""
    bk = Booking.connect(spec["url"], actor="changer")
    today = bk.today()
    resources = [r.id for r in bk.list_resources(active=True)]
    rng = random.Random(7)
    print("ready", flush=True)
    sys.stdin.readline()
    hold = None
    began = time.perf_counter()
    for n in range(spec["changes"]):
        due = began + n * spec["interval"]
        time.sleep(max(due - time.perf_counter(), 0))
        step = n % 4
        if step in (0, 2):
            day = today + timedelta(rng.randint(1, 300))
            hold = bk.create_hold(
                rng.choice(resources), day, 1, "changer@example.com", ttl_minutes=120
            )
        elif step == 1:
            bk.confirm_hold(hold.id, order_id=f"chg-{n}", line_item_id="1")
        else:
            bk.release_hold(hold.id)
    bk.close()
    return {"changes": spec["changes"], "elapsed": time.perf_counter() - began}


def main() -> None:
    mode, spec = sys.argv[1], json.loads(sys.argv[2])
    result = _changer(spec) if mode == "changer" else _writer(mode, spec)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
