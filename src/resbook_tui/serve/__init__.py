"""``resbook serve``: the shop's HTTP API (FastAPI on uvicorn). See app.py and the README's
"Connect a shop"."""

from __future__ import annotations

import logging
import os
import socket
import sys

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from ..config import max_hold_life_minutes, resolve_database_url
from ..db import open_database, parse_url
from ..errors import ConfigError, DatabaseError, ResbookError
from ..schema.migrations import require_current_schema
from .app import DEFAULT_THREADS, create_app
from .protocol import ServeProtocol

ENV_THREADS = "RESBOOK_SERVE_THREADS"
GRACEFUL_SHUTDOWN_S = 35
MAX_DEFAULT_WORKERS = 4
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

__all__ = ["DEFAULT_THREADS", "create_app", "default_workers", "from_environment", "run"]
log = logging.getLogger("resbook.serve")


def from_environment() -> FastAPI:
    """The app for a uvicorn worker process (``--workers``): the database from
    RESBOOK_DATABASE_URL, the threads from RESBOOK_SERVE_THREADS. A worker is a fresh
    (spawned) process: its request lines need logging set up here as well.

    The parent has checked the database and its schema before starting any worker, so a
    worker does not connect to start: one (re)started while the database is down serves
    503s until it is back, as the others do, instead of failing to start, which stops the
    whole server. A worker that cannot even open its database (a SQLite file gone) exits
    with uvicorn's STARTUP_FAILURE, which stops the parent; any other exit code would have
    it restarted every half second."""
    _log_to_stderr()
    threads = int(os.environ.get(ENV_THREADS, DEFAULT_THREADS))
    try:
        db = open_database(resolve_database_url(None), create=False, connect=False)
    except ResbookError as exc:
        log.error("a server process could not start: %s", exc)
        sys.exit(STARTUP_FAILURE)
    return create_app(db, threads=threads, check_schema=False)


def _log_to_stderr() -> None:
    """Log lines on stderr, one a request, in LOG_FORMAT. What LOG_FORMAT does not show
    is not gathered (the logging HOWTO's "Optimization"): the calling frame, thread,
    process and process name of every record were 2% of a busy server's CPU."""
    logging._srcfile = None  # the HOWTO's own switch for the caller's frame
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)


def default_workers(url: str) -> int:
    """One process per core, at most 4, on PostgreSQL; SQLite is served by one.

    A process runs Python on one core at a time (the GIL), and at 8 clients one process
    was the bottleneck of the HTTP benchmark with cores to spare: on the 2-core bench
    machine two processes made 0.61-0.92x the Python API's holds/s, 0.8x or more in 19
    runs of 35, where one made 0.67-0.85x, 0.8x or more in 1 of 7 (bench/README.md).
    At most 4 keeps the connections (workers x (threads + 1), 36 by default) well inside
    PostgreSQL's default max_connections of 100. The cores are those this process may run
    on (its affinity), not every core of the host."""
    if parse_url(url).path is not None:  # a SQLite file
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_DEFAULT_WORKERS))


def run(url: str, *, host: str, port: int, workers: int | None, threads: int) -> None:
    """Serve until SIGINT or SIGTERM (uvicorn finishes the requests in flight, then exits).
    ``workers`` None: ``default_workers(url)``."""
    _log_to_stderr()
    if workers is None:
        workers = default_workers(url)
    elif workers > 1 and parse_url(url).path is not None:  # a SQLite file
        raise ConfigError("SQLite is served by one process: drop --workers (or use PostgreSQL)")
    _check_address(host, port)
    # Read by the hold routes only: a malformed value is one line and exit 2 here, not a
    # 500 on every hold request.
    max_hold_life_minutes()
    db = open_database(url, create=False)
    # Checked here, before any worker starts: a database they cannot serve (no schema, an
    # old one) is one line, not a traceback from each worker.
    require_current_schema(db)
    log.info("serving on %s:%d with %d process(es) x %d threads", host, port, workers, threads)
    # No websocket upgrades: there are no websocket routes, and ServeProtocol is
    # written for HTTP answers.
    common = {
        "host": host,
        "port": port,
        "log_config": None,
        "access_log": False,
        "http": ServeProtocol,
        "ws": "none",
        # SIGTERM waits this long for the requests in flight: a statement's own limit
        # (statement_timeout, 30 s by default) ends any database work first, so what is
        # still open after it is a client holding a connection (a body never finished).
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_S,
    }
    if workers == 1:
        app = create_app(db, threads=threads, check_schema=False)  # checked just above
        uvicorn.run(app, **common)  # type: ignore[arg-type]
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
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    if any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes):
        raise DatabaseError("a server process could not start (its reason is logged above)")


def _check_address(host: str, port: int) -> None:
    """A port in use or a host that does not resolve is one line (exit 2) here, before the
    "serving on" line; uvicorn would log it after that line and exit as if the database
    had failed. (Bound as uvicorn binds, with SO_REUSEADDR, then let go.)"""
    where = f"{host}:{port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
    except OSError as exc:  # socket.gaierror included
        raise ConfigError(f"cannot listen on {where}: {exc.strerror or exc}") from None


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
