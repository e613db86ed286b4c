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
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

__all__ = ["DEFAULT_THREADS", "create_app", "from_environment", "run"]


def from_environment() -> FastAPI:
    """The app for a uvicorn worker process (``--workers``): the database from
    RESBOOK_DATABASE_URL, the threads from RESBOOK_SERVE_THREADS."""
    db = open_database(resolve_database_url(None), create=False)
    return create_app(db, threads=int(os.environ.get(ENV_THREADS, DEFAULT_THREADS)))


def run(url: str, *, host: str, port: int, workers: int, threads: int) -> None:
    """Serve until SIGINT or SIGTERM (uvicorn finishes the requests in flight, then exits)."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    if workers > 1 and parse_url(url).path is not None:  # a SQLite file
        raise ConfigError("SQLite is served by one process: drop --workers (or use PostgreSQL)")
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
