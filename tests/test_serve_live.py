"""`resbook serve` as a real process on 127.0.0.1, called from outside over HTTP, on
PostgreSQL: 30 racers for 5 units, a stuck lock (503 with Retry-After), SIGTERM finishing
the request in flight, the database going away (/healthz 503), and Schemathesis.

Waits are on conditions with a deadline (the server answering, a backend waiting on a
lock), never a sleep standing in for synchronisation.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import psycopg2
import pytest

from resbook_tui.booking import Booking
from resbook_tui.db import open_database
from resbook_tui.schema.migrations import Migrator
from serve_helpers import (
    DEADLINE_S,
    lock_cell,
    read_log,
    someone_waits_on_a_lock,
    start,
    stop,
    wait_until,
    world,
)

pytestmark = pytest.mark.postgres


@dataclass
class Server:
    url: str
    db_url: str
    process: subprocess.Popen[str]
    store: dict[str, str]
    admin: dict[str, str]
    bk: Booking
    first: date
    tour: int  # 5 a day

    def day(self, n: int = 0) -> str:
        return (self.first + timedelta(days=n)).isoformat()


@pytest.fixture
def server(pg_url: str, request: pytest.FixtureRequest) -> Iterator[Server]:
    """serve's default processes, or as many as an indirect parameter says."""
    bk, first, tour, store, admin = world(pg_url)
    process, url = start(pg_url, workers=getattr(request, "param", None))
    try:
        yield Server(url, pg_url, process, store, admin, bk, first, tour)
    finally:
        err = stop(process)
        bk.close()
    assert "Traceback" not in err, err


def invariant_holds(bk: Booking) -> None:
    """max = available + active held + allocated, on every cell."""
    rows = bk.db.execute_sql(
        "SELECT c.resource_id, c.date, c.max_capacity, c.available_capacity,"
        " COALESCE((SELECT sum(quantity) FROM resource_hold h WHERE h.resource_id = c.resource_id"
        "  AND h.date = c.date AND h.status = 'ACTIVE'), 0),"
        " COALESCE((SELECT sum(quantity) FROM resource_allocation a"
        "  WHERE a.resource_id = c.resource_id AND a.date = c.date), 0)"
        " FROM resource_capacity c"
    ).fetchall()
    assert rows
    broken = [r for r in rows if r[2] != r[3] + r[4] + r[5] or r[3] < 0]
    assert not broken, broken


def test_thirty_racers_for_five_units(server):
    body = {
        "email": "racer@example.com",
        "lines": [{"resource_id": server.tour, "date": server.day(0), "quantity": 1}],
    }
    barrier = threading.Barrier(30)
    results: list[int] = []
    lock = threading.Lock()

    def race(n: int) -> None:
        with httpx.Client(base_url=server.url, timeout=DEADLINE_S) as client:
            barrier.wait()
            answer = client.post(
                "/v1/holds", json=body, headers={**server.store, "Idempotency-Key": f"racer-{n}"}
            )
        with lock:
            results.append(answer.status_code)
        if answer.status_code == 409:
            assert answer.json()["code"] == "insufficient_capacity"

    threads = [threading.Thread(target=race, args=(n,)) for n in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201] * 5 + [409] * 25
    [cell] = server.bk.availability(server.day(0), server.day(0), resource_id=server.tour)
    assert (cell.available, cell.held) == (0, 5)
    invariant_holds(server.bk)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_stuck_lock_is_503_with_retry_after(pg_url, workers):
    """In one process and in several (each worker logs its own request lines)."""
    bk, first, tour, store, _ = world(pg_url)
    process, url = start(pg_url, env={"RESBOOK_LOCK_TIMEOUT_MS": "200"}, workers=workers)
    holder = lock_cell(pg_url, tour, first.isoformat())
    try:
        body = {
            "email": "a@example.com",
            "lines": [{"resource_id": tour, "date": first.isoformat(), "quantity": 1}],
        }
        answer = httpx.post(
            f"{url}/v1/holds",
            json=body,
            headers={**store, "Idempotency-Key": "stuck"},
            timeout=DEADLINE_S,
        )
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "busy" and answer.headers["retry-after"] == "1"
    finally:
        holder.rollback()
        holder.close()
    again = httpx.post(
        f"{url}/v1/holds",
        json=body,
        headers={**store, "Idempotency-Key": "stuck"},
        timeout=DEADLINE_S,
    )
    assert again.status_code == 201, again.text  # the 503 was not stored
    err = stop(process)
    bk.close()
    lines = [line for line in err.splitlines() if "POST /v1/holds" in line]
    assert any(" 503 " in line for line in lines) and any(" 201 " in line for line in lines)
    assert "Bearer" not in err and "rbk_" not in err


@pytest.mark.parametrize("server", [1, 2], indirect=True)
def test_sigterm_finishes_the_request_in_flight(server):
    holder = lock_cell(server.db_url, server.tour, server.day(1))
    outcome: list[httpx.Response] = []
    body = {
        "email": "late@example.com",
        "lines": [{"resource_id": server.tour, "date": server.day(1), "quantity": 2}],
    }

    def ask() -> None:
        outcome.append(
            httpx.post(
                f"{server.url}/v1/holds",
                json=body,
                headers={**server.store, "Idempotency-Key": "late"},
                timeout=DEADLINE_S,
            )
        )

    asker = threading.Thread(target=ask)
    asker.start()
    try:
        wait_until(
            lambda: someone_waits_on_a_lock(server.db_url), "the request waiting on the lock"
        )
        server.process.send_signal(signal.SIGTERM)
    finally:
        holder.rollback()
        holder.close()
    asker.join(DEADLINE_S)
    assert outcome and outcome[0].status_code == 201, outcome
    # uvicorn finishes, then re-raises the signal: the exit says SIGTERM, not a crash.
    assert server.process.wait(DEADLINE_S) in (0, -signal.SIGTERM)


def test_head_is_answered_wherever_get_is(server):
    """HEAD is GET's head, no body (RFC 9110); the same keys are needed; a POST-only route
    is still a 405. Over a real socket: uvicorn, not the app, leaves the body out."""
    host, port = server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=DEADLINE_S)

    def ask(method: str, path: str, headers: dict[str, str]) -> tuple[int, dict, bytes]:
        conn.request(method, path, headers=headers)
        answer = conn.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()

    try:
        for path in ("/healthz", "/v1/resources"):
            got, got_head, got_body = ask("GET", path, server.store)
            status, head, body = ask("HEAD", path, server.store)
            assert (status, body, head["content-type"]) == (200, b"", "application/json")
            assert head["content-length"] == got_head["content-length"] == str(len(got_body))
        assert ask("HEAD", "/v1/resources", {})[0] == 401
        assert ask("HEAD", "/v1/holds", server.store)[0] == 405
    finally:
        conn.close()
    assert " HEAD /v1/resources 200 " in read_log(server.process)


def test_healthz_is_503_when_the_database_is_gone(pg_server_url):
    import uuid

    name = f"resbook_gone_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(pg_server_url)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = pg_server_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        db = open_database(url)
        Migrator(db).up()
        db.close()
        process, base = start(url)
        admin.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        answer = httpx.get(f"{base}/healthz", timeout=DEADLINE_S)
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "database_unavailable"
        assert name not in answer.text and "127.0.0.1" not in answer.text  # in the log only
        assert answer.headers["retry-after"]
        stop(process)
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_schemathesis_from_outside(server, tmp_path):
    """Every route, fuzzed from outside (examples, coverage, fuzzing and stateful phases
    through the OpenAPI links): no 5xx, every answer as the schema says; then the
    capacity invariant holds on every cell."""
    tool = shutil.which("schemathesis") or os.path.join(
        os.path.dirname(sys.executable), "schemathesis"
    )
    result = subprocess.run(
        [
            tool,
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            "15",
            "--max-time",
            "90",
            "--seed",
            "10",
            # One worker: Hypothesis describes filters by parsing lambda source with
            # ast.parse, which CPython 3.11 can fail from two threads at once
            # ("AST constructor recursion depth mismatch").
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--generation-database",
            "none",
            "--no-color",
            "-H",
            f"Authorization: {server.admin['Authorization']}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    invariant_holds(server.bk)
