"""The HTTP stack alone, for http_bench.py's ``--stack``: what resbook serve's server CPU a
request would be if its handler did nothing of resbook's.

The same stack as ``resbook serve`` (uvicorn with httptools and uvloop, resbook's
ServeProtocol, two processes on one listener, FastAPI, a plain ``def`` handler on anyio's
threads), the same request (``POST /v1/holds`` with its JSON body checked by a Pydantic
model, ``Authorization: Bearer`` through HTTPBearer, an ``Idempotency-Key`` header) and an
answer of the same size, with no resbook code in between: no middleware, no log line, no
key check, no idempotency record, no hold. With ``STACK_ROUND_TRIPS`` set, the handler
also sends that many ``SELECT 1`` on its thread's own psycopg2 connection: the thread and
GIL hand-offs of a handler that waits on a database, without the database's work.

    python bench/http_stack.py PORT WORKERS      (http_bench.py starts it)
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio.to_thread
import psycopg2
from fastapi import Depends, FastAPI, Header, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.responses import Response

ANSWER = json.dumps(
    {
        "id": 1,
        "email": "bench@example.com",
        "status": "ACTIVE",
        "expires_at": "2026-12-02T19:00:00Z",
        "created_at": "2026-12-02T18:30:00Z",
        "holds": [
            {
                "id": 1,
                "resource_id": 3,
                "date": "2026-12-09",
                "quantity": 1,
                "status": "ACTIVE",
                "expires_at": "2026-12-02T19:00:00Z",
            }
        ],
        "allocations": [],
    }
)
ENV_DB, ENV_TRIPS = "STACK_DATABASE_URL", "STACK_ROUND_TRIPS"


class Line(BaseModel):
    resource_id: int
    date: str
    quantity: int


class HoldCreate(BaseModel):
    email: str
    lines: list[Line]


bearer = HTTPBearer(auto_error=False)


async def credentials(
    given: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> HTTPAuthorizationCredentials | None:
    return given


_local = threading.local()


def _cursor() -> Any:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = psycopg2.connect(os.environ[ENV_DB])
        conn.autocommit = True
    return conn.cursor()


def create_app() -> FastAPI:
    trips = int(os.environ.get(ENV_TRIPS, "0"))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 32
        yield

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/holds", status_code=201)
    def create_hold(
        body: HoldCreate,
        given: Annotated[HTTPAuthorizationCredentials | None, Depends(credentials)],
        key: Annotated[str, Header(alias="Idempotency-Key")],
    ) -> Response:
        if trips:
            with _cursor() as cursor:
                for _ in range(trips):
                    cursor.execute("SELECT 1")
                    cursor.fetchone()
        return Response(ANSWER, status_code=201, media_type="application/json")

    @app.get("/healthz")
    def healthz() -> Response:
        return Response('{"status": "ok"}', media_type="application/json")

    return app


def main() -> None:
    from uvicorn.supervisors import Multiprocess

    from resbook_tui.serve import _TcpConfig  # the listener resbook serve binds
    from resbook_tui.serve.protocol import ServeProtocol

    port, workers = int(sys.argv[1]), int(sys.argv[2])
    config = _TcpConfig(
        "http_stack:create_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        http=ServeProtocol,
        ws="none",
    )
    Multiprocess(config, sockets=[config.bind_socket()]).run()


if __name__ == "__main__":
    main()
