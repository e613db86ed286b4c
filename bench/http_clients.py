"""The shop's side of http_bench.py: keep-alive clients, each a thread with its own
connection, sending ``POST /v1/holds`` as a shop does, and how the server's processes
shared their connections."""

from __future__ import annotations

import http.client
import json
import re
import statistics
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date

import httpx

EMAIL = "bench@example.com"


class StdlibClient:
    """One keep-alive connection (http.client), with httpx's calls as far as used here."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)

    def __enter__(self) -> StdlibClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()

    def connect(self) -> None:
        self.conn.connect()

    def request(
        self, method: str, path: str, body: object, headers: dict[str, str]
    ) -> tuple[int, str]:
        data = None if body is None else json.dumps(body).encode()
        sent = {**headers, "Content-Type": "application/json"} if data else headers
        self.conn.request(method, path, body=data, headers=sent)
        answer = self.conn.getresponse()
        return answer.status, answer.read().decode()


class HttpxClient:
    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)

    def __enter__(self) -> HttpxClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def connect(self) -> None:
        """httpx has no call to connect alone: its first request does."""

    def request(
        self, method: str, path: str, body: object, headers: dict[str, str]
    ) -> tuple[int, str]:
        answer = self.http.request(method, path, json=body, headers=headers)
        return answer.status_code, answer.text


CLIENTS = {"stdlib": StdlibClient, "httpx": HttpxClient}


@dataclass(frozen=True)
class Measured:
    """One round of requests: how many were answered in how many seconds, latencies (ms),
    the clients' CPU a request (ms) and the connections per server process."""

    requests: int
    wall: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    clients_ms: float
    split: list[int]


def pct(values: list[float], p: float) -> float:
    """The ``p``th percentile of ``values`` (seconds), in ms."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def http_round(
    url: str,
    key: str,
    work: list[tuple[int, date]],
    clients: int,
    tag: str,
    kind: str = "stdlib",
    *,
    greet: bool = True,
) -> Measured:
    """``clients`` threads share ``work``; wall time, latencies, the clients' CPU and the
    connections per server process. Each client sends ``GET /healthz`` before the clock
    starts, or with ``greet`` False only opens its socket (no request warms the server)."""
    shares = [work[n::clients] for n in range(clients)]
    took: list[float] = []
    lock = threading.Lock()
    split: list[int] = []
    port = int(url.rsplit(":", 1)[1])
    # Once every client is connected: how the server's processes shared the connections.
    barrier = threading.Barrier(clients + 1, action=lambda: split.extend(connections(port)))
    failures: list[str] = []

    def client(n: int) -> None:
        mine: list[float] = []
        headers = {"Authorization": f"Bearer {key}"}
        with CLIENTS[kind](url) as http:
            if greet:  # connected before the clock starts
                http.request("GET", "/healthz", None, {})
            else:
                http.connect()
            barrier.wait()
            for i, (rid, day) in enumerate(shares[n]):
                body = {
                    "email": EMAIL,
                    "lines": [{"resource_id": rid, "date": day.isoformat(), "quantity": 1}],
                }
                t0 = time.perf_counter()
                status, text = http.request(
                    "POST", "/v1/holds", body, {**headers, "Idempotency-Key": f"{tag}-{n}-{i}"}
                )
                mine.append(time.perf_counter() - t0)
                if status != 201:
                    failures.append(f"{status} {text[:200]}")
        with lock:
            took.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    started, cpu = time.perf_counter(), time.process_time()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    # Every thread of this process, ended ones too (unlike /proc's per thread).
    clients_ms = (time.process_time() - cpu) * 1000 / len(work)
    if failures:
        raise SystemExit(f"{len(failures)} request(s) failed, first: {failures[0]}")
    mean = statistics.mean(took) * 1000
    return Measured(len(work), wall, pct(took, 50), pct(took, 99), mean, clients_ms, split)


def connections(port: int) -> list[int]:
    """Established connections to ``port`` per server process, most first (``ss -p``).

    With several processes each accepts from one shared listener, whichever is first, so 8
    connections opened at once split unevenly (7+1 and 6+2 in most runs). Printed so that a
    run can be read with it; two one-process servers with 4 clients each made no better
    ratio than 7+1 (bench/README.md): the two cores, not one process's GIL, are the limit."""
    try:
        out = subprocess.run(
            ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return []  # no ss here: the split is not printed
    return sorted(Counter(re.findall(r"pid=(\d+)", out)).values(), reverse=True)
