"""Throwaway databases for the benchmarks (not tests: they print figures)."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg2

DEFAULT_PG_SERVER = "postgresql://root@127.0.0.1:5432/postgres"


def description(doc: str | None) -> str:
    """A bench's --help summary: its docstring's first paragraph, on one line (its first
    line alone stops mid-sentence where the summary wraps)."""
    return " ".join((doc or "").split("\n\n")[0].split())


def cpu_ms(pid: int) -> float:
    """Milliseconds on the CPU of process ``pid``, its threads and its children (workers),
    from /proc/<pid>/task/*/schedstat (nanosecond counts, unlike the tick-sampled rusage)."""
    total = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:  # the process ended meanwhile
        return 0.0
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                children = [int(c) for c in f.read().split()]
        except OSError:  # the thread ended meanwhile
            continue
        total += sum(round(cpu_ms(c) * 1e6) for c in children)
    return total / 1e6


def pg_server_url() -> str:
    return (
        os.environ.get("RESBOOK_BENCH_POSTGRES_URL")
        or os.environ.get("RESBOOK_TEST_POSTGRES_URL")
        or DEFAULT_PG_SERVER
    )


@contextmanager
def throwaway_postgres(prefix: str = "resbook_bench", *, keep: bool = False) -> Iterator[str]:
    """A new database on the server, dropped afterwards unless ``keep``."""
    server = pg_server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(server)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    finally:
        if not keep:
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@contextmanager
def throwaway_sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{folder}/bench.db"


def dialects(selected: str) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    if selected in ("both", "sqlite"):
        out.append(("sqlite", throwaway_sqlite))
    if selected in ("both", "postgresql"):
        out.append(("postgresql", throwaway_postgres))
    return out
