"""``resbook serve``: the shop's HTTP API (FastAPI on uvicorn). See app.py and the README's
"Connect a shop"."""

from __future__ import annotations

import logging
import os
import socket

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from ..config import resolve_database_url
from ..db import open_database, parse_url
from ..errors import ConfigError
from .app import DEFAULT_THREADS, create_app
from .one_write import OneWriteProtocol

ENV_THREADS = "RESBOOK_SERVE_THREADS"
MAX_DEFAULT_WORKERS = 4
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

__all__ = ["DEFAULT_THREADS", "create_app", "default_workers", "from_environment", "run"]
log = logging.getLogger("resbook.serve")


def from_environment() -> FastAPI:
    """The app for a uvicorn worker process (``--workers``): the database from
    RESBOOK_DATABASE_URL, the threads from RESBOOK_SERVE_THREADS. A worker is a fresh
    (spawned) process: its request lines need logging set up here as well."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    db = open_database(resolve_database_url(None), create=False)
    return create_app(db, threads=int(os.environ.get(ENV_THREADS, DEFAULT_THREADS)))


def default_workers(url: str) -> int:
    """One process per core, at most 4, on PostgreSQL; SQLite is served by one.

    A process runs Python on one core at a time (the GIL), and at 8 clients one process
    was the bottleneck of the HTTP benchmark with cores to spare: on the 2-core bench
    machine two processes made 0.80-0.92x the Python API's holds/s where one made
    0.67-0.85x (bench/http_bench.py). At most 4 keeps the connections (workers x
    threads, 32 by default) well inside PostgreSQL's default max_connections of 100."""
    if parse_url(url).path is not None:  # a SQLite file
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))


def run(url: str, *, host: str, port: int, workers: int | None, threads: int) -> None:
    """Serve until SIGINT or SIGTERM (uvicorn finishes the requests in flight, then exits).
    ``workers`` None: ``default_workers(url)``."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    if workers is None:
        workers = default_workers(url)
    elif workers > 1 and parse_url(url).path is not None:  # a SQLite file
        raise ConfigError("SQLite is served by one process: drop --workers (or use PostgreSQL)")
    log.info(
        "serving on %s:%d with %d process(es) x %d threads (database connections)",
        host,
        port,
        workers,
        threads,
    )
    db = open_database(url, create=False)
    # proxy_headers off: nothing here reads the client's address, so uvicorn's
    # X-Forwarded-For middleware would be a layer every request passes for nothing.
    common = {
        "host": host,
        "port": port,
        "log_config": None,
        "access_log": False,
        "proxy_headers": False,
        "http": OneWriteProtocol,
    }
    if workers == 1:
        uvicorn.run(create_app(db, threads=threads), **common)  # type: ignore[arg-type]
        return
    db.close()
    os.environ["RESBOOK_DATABASE_URL"] = url
    os.environ[ENV_THREADS] = str(threads)
    config = _TcpConfig(
        "resbook_tui.serve:from_environment",
        factory=True,
        workers=workers,
        **common,  # type: ignore[arg-type]
    )
    # What uvicorn.run does for workers > 1, with the listener _TcpConfig binds.
    Multiprocess(config, sockets=[config.bind_socket()]).run()


class _TcpConfig(uvicorn.Config):
    """uvicorn's Config whose listener says it is TCP (``proto`` 6), so asyncio turns
    Nagle off (TCP_NODELAY) on every connection a worker accepts.

    uvicorn 0.54 binds the workers' listener with ``proto`` 0 and asyncio only sets
    TCP_NODELAY when the accepted socket says IPPROTO_TCP: every keep-alive answer then
    waited for the client's delayed ACK, about 40 ms a request (uvicorn issue 3149).
    One process is unaffected: asyncio binds that listener itself, from getaddrinfo."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto:
            return sock
        return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
