"""Holds over HTTP (`resbook serve`) with 1, 8 and 32 keep-alive clients, against the
Python API in one process, in the same run on the same PostgreSQL database.

    python bench/http_bench.py [--requests 1500] [--clients 1,8,32] [--warm-up 500]
                               [--threads 32] [--workers N] [--client wrk|stdlib|httpx]

Each HTTP request is what a shop sends: POST /v1/holds, one line (one unit of a random
cell), a fresh Idempotency-Key, Authorization: Bearer. The server checks the key, claims
the Idempotency-Key, holds, stores the answer in the hold's transaction and logs a line.
The reference is the same hold through the Python API (``Booking.create_bundle``, one
thread, no HTTP, no key, no idempotency record), a round of it just before the first HTTP
round and one after each: each HTTP round's ratio is to the two rounds around it, since
the machine's speed drifts within a run. ``Booking.create_hold`` (the single-cell hot
path) is printed too.

The clients are wrk's (http_wrk.py), the C load generator, one thread of its own process
with a keep-alive connection a client, where wrk is installed (``apt-get install wrk``);
otherwise, or with ``--client stdlib``, threads of this process, each with the standard
library's ``http.client``; ``--client httpx`` (what the figures before December 2026
used). On a small machine the clients compete with the server for the CPU, which the
figures include: wrk takes 0.07-0.11 ms a request, http.client 0.3-0.4, httpx about three
times that (a shop's calls come from other machines). The requests, and the server's
work, are the same.
Before the measured rounds the server is warmed up with ``--warm-up`` requests at the
largest client count, not counted: a shop's server has been running, its threads and
their PostgreSQL connections open (a new backend's first hold costs about 10 ms more:
its catalogue caches and the triggers' PL/pgSQL plans), as the reference's connection is.
A client count given twice (``--clients 8,8,8``) is measured twice. ``--stack`` adds two
8-client rounds against the HTTP stack alone (http_stack.py: the same server stack and
request, a handler doing nothing of resbook's; then with 4 round trips of ``SELECT 1``),
so the server's CPU a request can be read beside what the stack itself costs.
Floor (issue 10): 8 clients >= 0.8x the Python API, p99 < 50 ms at 8. Goal 1.0x.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import cpu_ms, description, throwaway_postgres  # noqa: E402
from http_clients import CLIENTS, EMAIL, Measured, http_round, pct  # noqa: E402
from http_wrk import available as wrk_available  # noqa: E402
from http_wrk import wrk_round  # noqa: E402
from resbook_tui.booking import Booking  # noqa: E402
from resbook_tui.db import open_database  # noqa: E402
from resbook_tui.schema.migrations import Migrator  # noqa: E402
from resbook_tui.seed import SeedPlan, seed  # noqa: E402
from resbook_tui.serve import default_workers  # noqa: E402

RESOURCES, DAYS, CAPACITY = 100, 60, 100_000


@dataclass(frozen=True)
class Round:
    clients: int
    measured: Measured
    server_ms: float  # CPU a request, every process of the server
    db_ms: float  # CPU a request, every backend of the bench database
    reference: float = 0.0  # the Python API's holds/s in the rounds just before and after

    @property
    def rate(self) -> float:
        return self.measured.requests / self.measured.wall


@dataclass
class Reference:
    """The Python API's rounds, one just before the first HTTP round and one after each:
    each HTTP round is read against the two around it, as this machine's speed drifts
    within a run (a reference measured only before and after every round once differed
    by 40% between the two)."""

    seconds: list[float] = field(default_factory=list)
    took: list[float] = field(default_factory=list)
    cpu_ms: float = 0.0  # this process
    db_ms: float = 0.0

    def measure(self, bk: Booking, work: list[tuple[int, date]]) -> None:
        mine, base = cpu_ms(os.getpid()), database_cpu(bk)
        wall, took = python_api(bk, work)
        self.cpu_ms += cpu_ms(os.getpid()) - mine
        self.db_ms += database_spent(base, bk)
        self.seconds.append(wall)
        self.took.extend(took)

    def around(self, n: int) -> float:
        """Holds/s of the last two rounds (``n`` holds each)."""
        return 2 * n / sum(self.seconds[-2:])


def cells(rng: random.Random, today: date, n: int) -> list[tuple[int, date]]:
    return [(rng.randint(1, RESOURCES), today + timedelta(rng.randrange(DAYS))) for _ in range(n)]


def python_api(bk: Booking, work: list[tuple[int, date]]) -> tuple[float, list[float]]:
    took: list[float] = []
    started = time.perf_counter()
    for rid, day in work:
        t0 = time.perf_counter()
        bk.create_bundle([{"resource_id": rid, "date": day.isoformat(), "quantity": 1}], EMAIL)
        took.append(time.perf_counter() - t0)
    return time.perf_counter() - started, took


def python_create_hold(bk: Booking, work: list[tuple[int, date]]) -> float:
    started = time.perf_counter()
    for rid, day in work:
        bk.create_hold(rid, day, 1, EMAIL)
    return time.perf_counter() - started


def database_cpu(bk: Booking) -> dict[int, float]:
    """CPU milliseconds of every backend of this database, by pid (a backend that appears
    later counts from zero: the server's threads connect on their first request)."""
    pids = bk.db.execute_sql(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
    ).fetchall()
    return {pid: cpu_ms(pid) for (pid,) in pids}


def database_spent(before: dict[int, float], bk: Booking) -> float:
    return sum(ms - before.get(pid, 0.0) for pid, ms in database_cpu(bk).items())


def send(
    url: str, key: str, work: list[tuple[int, date]], clients: int, tag: str, kind: str
) -> Measured:
    """One round of ``work`` by ``clients`` keep-alive clients of ``kind``."""
    if kind == "wrk":
        return wrk_round(url, key, work, clients, tag)
    return http_round(url, key, work, clients, tag, kind)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    db_url: str, threads: int, workers: int | None
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "resbook_tui",
            "--db",
            db_url,
            "serve",
            "--port",
            str(port),
            "--threads",
            str(threads),
            *(["--workers", str(workers)] if workers else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # one log line a request: not what is measured here
        env={**os.environ, "RESBOOK_ACTOR": "bench"},
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(url, process)
    return process, url


def wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    """Until ``url`` answers /healthz (polling a process we started: nothing to wait on)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the server did not start")
        time.sleep(0.05)


def stack_rounds(
    url: str, work: list[tuple[int, date]], workers: int, kind: str
) -> list[tuple[int, float, float]]:
    """(round trips, requests/s, server CPU ms a request) of http_stack.py's server at 8
    clients, with 0 and then 4 round trips to PostgreSQL a request."""
    found = []
    for trips in (0, 4):
        port = free_port()
        env = {**os.environ, "STACK_DATABASE_URL": url, "STACK_ROUND_TRIPS": str(trips)}
        stack = Path(__file__).with_name("http_stack.py")
        process = subprocess.Popen(
            [sys.executable, str(stack), str(port), str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server = f"http://127.0.0.1:{port}"
        try:
            wait_for(server, process)
            send(server, "bench", work, 8, f"stack-warm{trips}", kind)
            spent = cpu_ms(process.pid)
            m = send(server, "bench", work, 8, f"stack{trips}", kind)
            found.append((trips, m.requests / m.wall, (cpu_ms(process.pid) - spent) / m.requests))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--requests", type=int, default=1500, help="holds per round")
    parser.add_argument("--clients", default="1,8,32", help="a round for each, in order")
    parser.add_argument(
        "--warm-up", type=int, default=500, help="requests before the rounds, not counted"
    )
    parser.add_argument("--threads", type=int, default=32, help="server threads (connections)")
    parser.add_argument(
        "--workers", type=int, help="server processes (default: resbook serve's own default)"
    )
    parser.add_argument(
        "--client",
        choices=sorted([*CLIENTS, "wrk"]),
        default="wrk" if wrk_available() else "stdlib",
        help="the clients: wrk's own process (the default where wrk is installed), or "
        "threads of this script (stdlib, httpx)",
    )
    parser.add_argument(
        "--stack", action="store_true", help="also measure the HTTP stack alone (http_stack.py)"
    )
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    load_before = os.getloadavg()[0]  # others' work, before this run adds its own
    with throwaway_postgres() as url:
        db = open_database(url)
        Migrator(db).up()
        seed(db, SeedPlan(vehicles=RESOURCES, days=DAYS, capacity=CAPACITY))
        bk = Booking(db, actor="bench")
        today = bk.today()
        key = bk.create_api_key("bench", "store").key
        rng = random.Random(42)
        process, server = start_server(url, args.threads, args.workers)
        workers = args.workers or default_workers(url)
        try:
            n = args.requests
            hold_s = python_create_hold(bk, cells(rng, today, n))
            if args.warm_up:
                work = cells(rng, today, args.warm_up)
                send(server, key, work, max(counts), "warm", args.client)
            reference = Reference()
            reference.measure(bk, cells(rng, today, n))
            rounds: list[Round] = []
            for i, c in enumerate(counts):
                work = cells(rng, today, n)
                spent, base = cpu_ms(process.pid), database_cpu(bk)
                m = send(server, key, work, c, f"r{i}", args.client)
                server_ms, db_ms = cpu_ms(process.pid) - spent, database_spent(base, bk)
                reference.measure(bk, cells(rng, today, n))
                rounds.append(
                    Round(
                        clients=c,
                        measured=m,
                        server_ms=server_ms / m.requests,
                        db_ms=db_ms / m.requests,
                        reference=reference.around(n),
                    )
                )
            stack = []
            if args.stack:
                stack = stack_rounds(url, cells(rng, today, n), workers, args.client)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
            bk.close()
        runs = len(reference.seconds)
        print(
            f"PostgreSQL, {n} holds a round, one line each on random cells of "
            f"{RESOURCES} resources x {DAYS} days; server: {workers} process(es) x "
            f"{args.threads} threads; clients: {args.client}; warm-up {args.warm_up} "
            f"requests at {max(counts)} clients; load average "
            f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores"
        )
        rates = ", ".join(f"{n / s:,.0f}" for s in reference.seconds)
        print(
            f"  Python API create_bundle, 1 thread, before the first HTTP round and after "
            f"each: {rates} holds/s, p50 {pct(reference.took, 50):.1f} ms, "
            f"p99 {pct(reference.took, 99):.1f} ms, "
            f"CPU {reference.cpu_ms / (runs * n):.2f} ms a hold in this process, "
            f"{reference.db_ms / (runs * n):.2f} ms in the database"
        )
        print(f"  Python API create_hold (single-cell path): {n / hold_s:,.0f} holds/s")
        for r in rounds:
            m = r.measured
            shared = "+".join(map(str, m.split)) or "?"
            print(
                f"  HTTP, {r.clients:>2} client(s): {r.rate:,.0f} holds/s = "
                f"{r.rate / r.reference:.2f}x the Python API around it ({r.reference:,.0f}), "
                f"p50 {m.p50_ms:.1f} ms, p99 {m.p99_ms:.1f} ms, mean {m.mean_ms:.1f} ms, "
                f"server CPU {r.server_ms:.2f} ms a request, "
                f"database {r.db_ms:.2f} ms, clients {m.clients_ms:.2f} ms, "
                f"connections per server process {shared}"
            )
        for trips, rate, server_ms in stack:
            print(
                f"  the HTTP stack alone, 8 clients, {trips} round trip(s) of SELECT 1 a "
                f"request: {rate:,.0f} requests/s, server CPU {server_ms:.2f} ms a request"
            )
        for r in rounds:
            if r.clients == 8:
                ratio, p99 = r.rate / r.reference, r.measured.p99_ms
                verdict = "meets" if ratio >= 0.8 and p99 < 50 else "misses"
                print(
                    f"  8 clients: {ratio:.2f}x, p99 {p99:.1f} ms: {verdict} the floor "
                    "(>= 0.80x, p99 < 50 ms)"
                )


if __name__ == "__main__":
    main()
