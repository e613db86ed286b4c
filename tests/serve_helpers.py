"""Helpers for the HTTP API tests (not a test module): an app over a migrated database
with a store key, an admin key, and two resources with capacity from tomorrow."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import peewee
import psycopg2
from fastapi.testclient import TestClient

from resbook_tui.booking import Booking
from resbook_tui.db import open_database
from resbook_tui.schema.migrations import Migrator
from resbook_tui.serve import create_app

PROBLEM = "application/problem+json"
DEADLINE_S = 30.0


@dataclass
class Shop:
    client: TestClient
    bk: Booking
    store: dict[str, str]
    admin: dict[str, str]
    van: int  # 5 a day
    guide: int  # 2 a day
    first: date

    def day(self, n: int = 0) -> str:
        return (self.first + timedelta(days=n)).isoformat()

    def hold(self, key: str, *lines: dict[str, Any], email: str = "ana@example.com", **more: Any):
        body = {"email": email, "lines": list(lines), **more}
        return self.client.post(
            "/v1/holds", json=body, headers={**self.store, "Idempotency-Key": key}
        )

    def line(self, rid: int, n: int, quantity: int, to: int | None = None) -> dict[str, Any]:
        found: dict[str, Any] = {"resource_id": rid, "date": self.day(n), "quantity": quantity}
        return found if to is None else {**found, "to": self.day(to)}


def make_shop(db: peewee.Database, *, threads: int = 8) -> Iterator[Shop]:
    bk = Booking(db, actor="test")
    van = bk.add_resource("Van", "VEHICLE").id
    guide = bk.add_resource("Guide", "GUIDE").id
    first = bk.today() + timedelta(days=1)
    bk.set_capacity(van, first, first + timedelta(days=9), 5)
    bk.set_capacity(guide, first, first + timedelta(days=9), 2)
    store = {"Authorization": f"Bearer {bk.create_api_key('shop', 'store').key}"}
    admin = {"Authorization": f"Bearer {bk.create_api_key('ops', 'admin').key}"}
    with TestClient(create_app(db, threads=threads), raise_server_exceptions=False) as client:
        yield Shop(client, bk, store, admin, van, guide, first)


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is a problem+json with this status and code; its document."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    doc: dict[str, Any] = response.json()
    assert doc["code"] == code and doc["status"] == status, doc
    assert {"type", "title", "detail"} <= set(doc)
    assert "\n" not in doc["detail"]
    return doc


# ---- a real `resbook serve` process -------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(condition, what: str, deadline: float = DEADLINE_S) -> None:  # noqa: ANN001
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < deadline, f"not within {deadline} s: {what}"
        time.sleep(0.02)


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


_LOGS: dict[int, Any] = {}  # a server's pid -> the file its log goes to


def start(
    db_url: str,
    *,
    env: dict[str, str] | None = None,
    threads: int = 32,
    workers: int | None = None,
) -> tuple:
    """A `resbook serve` process and its base URL. Its log (a line a request) goes to a
    file, not a pipe: a pipe nobody reads fills up and stops the server mid-request.
    ``workers`` None: serve's default (one process per core on PostgreSQL)."""
    port = free_port()
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed by stop()
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
        stdout=log,
        stderr=log,
        text=True,
        env={**os.environ, **(env or {})},
    )
    _LOGS[process.pid] = log
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: answers(url) or process.poll() is not None, "the server answering")
    assert process.poll() is None, read_log(process)
    return process, url


def read_log(process: subprocess.Popen[str]) -> str:
    log = _LOGS[process.pid]
    log.seek(0)
    return str(log.read())


def stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM, wait, and the server's log."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=DEADLINE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    text = read_log(process)
    _LOGS.pop(process.pid).close()
    return text


def world(db_url: str) -> tuple[Booking, date, int, dict[str, str], dict[str, str]]:
    db = open_database(db_url)
    Migrator(db).up()
    bk = Booking(db, actor="test")
    tour = bk.add_resource("Sunrise tour", "TOUR").id
    bk.add_resource("Cruiser", "VEHICLE")
    first = bk.today() + timedelta(days=1)
    bk.set_capacities([1, 2], first, first + timedelta(days=13), 5)
    store = {"Authorization": f"Bearer {bk.create_api_key('shop', 'store').key}"}
    admin = {"Authorization": f"Bearer {bk.create_api_key('ops', 'admin').key}"}
    return bk, first, tour, store, admin


# ---- locks held from outside ------------------------------------------------------------


def lock_cell(db_url: str, resource_id: int, day: str):  # noqa: ANN201
    conn = psycopg2.connect(db_url)
    cur = conn.cursor()
    cur.execute(
        "SELECT 1 FROM resource_capacity WHERE resource_id = %s AND date = %s FOR UPDATE",
        (resource_id, day),
    )
    return conn


def someone_waits_on_a_lock(db_url: str) -> bool:
    conn = psycopg2.connect(db_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            )
            return cur.fetchone() is not None
    finally:
        conn.close()
