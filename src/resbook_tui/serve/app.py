"""The FastAPI application: routes, problem+json for every error, one log line a request.

Handlers are plain ``def``: Starlette runs them on anyio's worker threads, whose number
is set to ``threads`` at startup. Peewee gives each thread its own connection, so that is
also the number of database connections, and a request past it waits for a thread
instead of failing for want of a connection.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
import peewee
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..booking.api_keys import KEY_PREFIX, MAX_KEY_LENGTH
from ..errors import ResbookError
from ..text import visible
from . import admin, store
from .calls import Service, json_response, refused_caller, service
from .problems import (
    PROBLEM_SCHEMA,
    REFUSED,
    Problem,
    from_error,
    invalid,
    problem_responses,
)
from .schemas import Health

log = logging.getLogger("resbook.serve")
DEFAULT_THREADS = 8
MAX_BODY_BYTES = 1 << 20
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# A run of a key's alphabet longer than a hex UUID, unless it is hex (UUIDs, trace ids): a
# request id holding one may hold most of a key's secret (43 characters of token_urlsafe,
# which are hex alone with a chance of about 1e-20), with or without its prefix.
_SECRET_LIKE = re.compile(r"[A-Za-z0-9_-]{33,}")
_HEX = re.compile(r"[0-9A-Fa-f-]+")
_SHARED = 16  # characters of the request's own credential a request id may not contain


def create_app(
    db: peewee.Database, *, threads: int = DEFAULT_THREADS, check_schema: bool = True
) -> FastAPI:
    """The app serving ``db``; ``check_schema`` False when the caller has checked it (a
    worker process of ``resbook serve``, which then need not reach the database to start)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    app = FastAPI(
        title="resbook shop API",
        version=__version__,
        summary="Availability, holds of many lines (all or nothing), confirm, release; admin.",
        lifespan=lifespan,
        # /v1/resources/ is a 404 problem, not a redirect built from the Host header.
        redirect_slashes=False,
    )
    app.state.service = Service(db, check_schema=check_schema)
    app.include_router(store.router)
    app.include_router(admin.router)
    app.add_api_route(
        "/healthz",
        healthz,
        methods=["GET"],
        operation_id="healthz",
        response_model=Health,
        responses=problem_responses(503),
        tags=["operations"],
    )
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(ResbookError, _resbook_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _internal)
    app.add_middleware(HeadAsGet)
    app.add_middleware(RequestLog, routes=app.routes)  # outermost: it logs HEAD as HEAD
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def healthz(request: Request) -> Response:
    """200 while the database answers, else 503 (no API key needed)."""
    found = service(request)
    try:
        found.base.today()
    except ResbookError as exc:
        raise from_error(exc) from None
    return json_response(200, {"status": "ok", "database": found.dialect})


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with the Problem schema, and without the 422 FastAPI lists on
    every route for its own validation errors (they are 400 problems here)."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        for path in schema["paths"].values():
            for operation in path.values():
                responses = operation.get("responses", {})
                if "application/json" in responses.get("422", {}).get("content", {}):
                    del responses["422"]
        app.openapi_schema = schema
    return app.openapi_schema


# ---- errors ---------------------------------------------------------------------------------


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return exc.response()


async def _resbook_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ResbookError)
    return from_error(exc).response()


def _field(loc: tuple[Any, ...]) -> str:
    """``("body", "lines", 0, "quantity")`` as ``lines[0].quantity``."""
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name if name and not name.startswith("[") else "body"


def _reason(request: Request, error: Any) -> str:
    """Pydantic's message, without its "Value error, " prefix; a body that was not read
    as JSON says why."""
    if tuple(error.get("loc", ())) == ("body",) and "json" not in request.headers.get(
        "content-type", ""
    ):
        return "send a JSON object with Content-Type: application/json"
    given, most = error.get("input"), (error.get("ctx") or {}).get("max_length")
    if error.get("type") == "too_long" and isinstance(given, str) and most is not None:
        # A query's text limited by Query(max_length) after its own check: pydantic
        # counts it as a sequence ("items").
        return f"String should have at most {most} characters"
    return str(error.get("msg")).removeprefix("Value error, ")


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # FastAPI validates the request before the handler reads the key: a bad key is told
    # so (401, or 403 on an admin route) before anything about its request.
    refused = await anyio.to_thread.run_sync(refused_caller, request)
    if refused is not None:
        return refused.response()
    errors = list(exc.errors())
    for error in errors:
        loc = tuple(error.get("loc", ()))
        header = loc[:1] == ("header",) and str(loc[-1]).lower() == "idempotency-key"
        if header and error.get("type") == "missing":
            return Problem(
                "idempotency_key_missing", "send an Idempotency-Key header (a cart id, say)"
            ).response()
    named = [
        {
            "name": visible(_field(tuple(e.get("loc", ()))))[:200],
            "reason": visible(_reason(request, e))[:300],
        }
        for e in errors[:20]
    ]
    detail = "; ".join(f"{e['name']}: {e['reason']}" for e in named[:3]) or "invalid request"
    return Problem("invalid_input", detail, extra={"errors": named}).response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed here"
        return Problem("method_not_allowed", detail, headers=dict(exc.headers or {})).response()
    if exc.status_code == 404:
        return Problem("not_found", "no such route").response()
    return invalid(str(exc.detail), field="body").response()  # FastAPI's: the body unread


async def _internal(request: Request, exc: Exception) -> Response:
    log.error("internal error on %s %s", request.method, _route(request.scope), exc_info=exc)
    return Problem(
        "internal_error", "the server failed; nothing is known to have changed"
    ).response()


# ---- one line a request -------------------------------------------------------------------


def _route(scope: Scope, routes: Sequence[BaseRoute] = ()) -> str:
    """The route template (``/v1/holds/{hold_id}``): never a raw path, which may carry
    anything a caller typed. The docs' own routes do not say which they are: ``routes``
    (the app's) are matched here. A body refused before routing has none."""
    route = scope.get("route") or _matching(scope, routes)
    return str(getattr(route, "path", "(no route)"))


def _matching(scope: Scope, routes: Sequence[BaseRoute]) -> BaseRoute | None:
    """The route whose path and method ``scope`` has, else one whose path it has (a 405)."""
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return partial


TOO_BIG = f"a request body may be at most {MAX_BODY_BYTES} bytes"


def _at_most(receive: Receive) -> Receive:
    """``receive``, refusing a body past MAX_BODY_BYTES however it comes: a chunked body
    has no Content-Length to refuse it by, and would be read whole."""
    seen = 0

    async def receive_at_most() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > MAX_BODY_BYTES:
            # FastAPI passes an HTTPException met while reading the body on as it is.
            raise HTTPException(400, TOO_BIG)
        return message

    return receive_at_most


class HeadAsGet:
    """HEAD answered wherever GET is (RFC 9110 section 9.3.2; monitors check /healthz
    with it): the app is asked for GET, and uvicorn, which knows the request was HEAD,
    sends the head (Content-Length included) without the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        # A copy: uvicorn's own scope must still say HEAD when the body is sent.
        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, send)
        finally:
            if "route" in as_get:  # for RequestLog's line
                scope["route"] = as_get["route"]


def _caller_id(headers: dict[bytes, bytes]) -> str | None:
    """The caller's X-Request-Id if it is sane and can hold no secret: it goes into the
    log and back out. Not one with an API key's prefix (in any case), nor any 16
    characters of the request's own Authorization credential, nor a run of a key's
    characters longer than a hex UUID unless it is hex."""
    given = headers.get(b"x-request-id", b"").decode("latin-1")
    if not _REQUEST_ID.fullmatch(given):
        return None
    if any(not _HEX.fullmatch(run) for run in _SECRET_LIKE.findall(given)):
        return None
    if KEY_PREFIX in given.lower():
        return None
    credential = headers.get(b"authorization", b"").decode("latin-1").partition(" ")[2]
    # One longer than any key is no key of ours (and its windows would cost a caller's
    # megabyte header a quarter of a second of the event loop).
    credential = credential.strip().lower() if len(credential) <= MAX_KEY_LENGTH else ""
    lowered = given.lower()
    if credential and credential in lowered:
        return None
    windows = range(len(credential) - _SHARED + 1)
    if any(credential[i : i + _SHARED] in lowered for i in windows):
        return None
    return given


class RequestLog:
    """Logs method, route, status, milliseconds and request id, one line a request (never
    a header or a body: no secrets). Sends X-Request-Id back (the caller's, if sane).
    Refuses a body over 1 MiB before it is read."""

    def __init__(self, app: ASGIApp, *, routes: Sequence[BaseRoute] = ()) -> None:
        self.app = app
        self.routes = routes  # the app's, to name a route that did not say (_route)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers: dict[bytes, bytes] = {}
        for name, value in scope.get("headers") or []:
            headers.setdefault(name, value)  # the first of a repeated header, as Starlette reads
        request_id = _caller_id(headers) or uuid.uuid4().hex
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-Id", request_id)
            await send(message)

        try:
            length = headers.get(b"content-length", b"0")
            if length.isdigit() and int(length) > MAX_BODY_BYTES:
                await invalid(TOO_BIG, field="body").response()(scope, receive, send_with_id)
                return
            await self.app(scope, _at_most(receive), send_with_id)
        finally:
            ms = (time.perf_counter() - started) * 1000
            sent = str(status)
            if REFUSED in scope:  # the app's answer was dropped: the refusal went instead
                refused = scope[REFUSED]
                sent = str(refused.status) if refused is not None else "-"
            route = _route(scope, self.routes)
            log.info("%s %s %s %.1fms %s", scope["method"], route, sent, ms, request_id)
