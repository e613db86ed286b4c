"""What every route does around its booking call: who is calling (the API key), and the
Idempotency-Key (claimed, replayed, or the effect and its answer stored together)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import peewee
from fastapi import Depends, Header, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel
from starlette.responses import Response

from ..booking import Booking
from ..booking.api_keys import MAX_KEY_LENGTH, secret_hash
from ..booking.idempotency import Stored
from ..booking.records import ApiKeyInfo
from ..db import dialect
from ..errors import ResbookError
from .problems import Problem, from_error
from .render import dumps

T = TypeVar("T")
JSON = "application/json"
SERVER_ACTOR = "resbook-serve"

bearer = HTTPBearer(
    auto_error=False,
    description="An API key from `resbook api-keys create NAME --role store|admin`.",
)


async def credentials(
    given: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> HTTPAuthorizationCredentials:
    """A request without ``Authorization: Bearer`` is 401 before its body is looked at (the
    key itself is checked against the database in the handler's thread)."""
    if given is None:
        raise missing_key()
    return given


def missing_key() -> Problem:
    challenge = {"WWW-Authenticate": "Bearer"}
    return Problem("unauthorized", "send Authorization: Bearer <API key>", headers=challenge)


# Query parameters that are lists, by route; any other given twice is a 400, not the last
# of them taken silently (a shop's URL built by appending, say).
REPEATABLE = {"/v1/availability": frozenset({"resource_id"})}
# Headers read as one value: given twice, Starlette would take the first silently (and a
# proxy or a client library adding its own could make a key the caller never meant).
SINGLE_HEADERS = {b"authorization": "Authorization", b"idempotency-key": "Idempotency-Key"}


async def single_values(request: Request) -> None:
    """A scalar query parameter, or a header of SINGLE_HEADERS, given twice is invalid
    input (told after the key's 401). Read from the ASGI scope: this runs on every
    request, and Starlette's parsed views cost more than the check."""
    errors: list[dict[str, Any]] = []
    scope = request.scope
    if scope["query_string"]:
        lists = REPEATABLE.get(scope["path"], frozenset())
        seen: set[str] = set()
        for name, _ in request.query_params.multi_items():
            if name in seen and name not in lists:
                errors.append({"loc": ("query", name), "msg": "given more than once"})
            seen.add(name)
    given = [name for name, _ in scope["headers"] if name in SINGLE_HEADERS]
    for name in sorted(set(given)):
        if given.count(name) > 1:
            errors.append({"loc": ("header", SINGLE_HEADERS[name]), "msg": "given more than once"})
    if errors:
        raise RequestValidationError([{**e, "type": "value_error"} for e in errors])


# Every route's API key (the handler checks it), and the Idempotency-Key where required.
Key = Annotated[HTTPAuthorizationCredentials, Depends(credentials)]
IdemKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Required: the same key with the same body replays the first answer.",
    ),
]


@dataclass(frozen=True)
class Caller:
    key: ApiKeyInfo
    bk: Booking  # its audit events are the key's: "api:<id>:<name>"


class Service:
    """The database and one Booking per API key (so each key's changes are its own in the
    audit trail), shared by every request thread; Peewee gives each thread its own
    connection, so the thread pool is the connection pool.

    Keys that were live once are remembered by secret hash (their id, name and role never
    change). Only an idempotent request uses that, because its claim checks in the same
    statement that the key is still live (idempotency.py); every other request reads the
    key first. Either way a revoked key is refused from its next request on."""

    def __init__(self, db: peewee.Database, *, check_schema: bool = True) -> None:
        self.db = db
        self.base = Booking(db, actor=SERVER_ACTOR, check_schema=check_schema)
        self._by_key: dict[int, Booking] = {}
        self._known: dict[str, ApiKeyInfo] = {}
        self._lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return dialect(self.db)

    def booking_for(self, key: ApiKeyInfo) -> Booking:
        with self._lock:
            found = self._by_key.get(key.id)
            if found is None:
                actor = f"api:{key.id}:{key.name}"[:200]
                found = self._by_key[key.id] = Booking(self.db, actor=actor, check_schema=False)
            return found

    def caller(
        self,
        credentials: HTTPAuthorizationCredentials,
        *,
        admin: bool = False,
        checked_later: bool = False,
    ) -> Caller:
        """The caller a request's ``Authorization: Bearer`` names; 401 or 403 if none may.
        ``checked_later``: the request's idempotency claim checks the key is live, so a key
        known from an earlier request is taken without reading it now."""
        secret = credentials.credentials
        digest = secret_hash(secret) if 0 < len(secret) <= MAX_KEY_LENGTH else ""
        key = self._known.get(digest) if checked_later else None
        if key is None:
            try:
                key = self.base.authenticate(secret)
            except ResbookError as exc:
                raise from_error(exc) from None
            if key is None:
                self._known.pop(digest, None)
                raise unauthorized()
            self._known[digest] = key
        if admin and key.role != "admin":
            raise Problem("forbidden", "this route needs an admin key; this one is a store key")
        return Caller(key, self.booking_for(key))

    def forget(self, key_id: int) -> None:
        """A key found revoked is read again next time (and refused there)."""
        with self._lock:
            for digest in [d for d, k in self._known.items() if k.id == key_id]:
                self._known.pop(digest, None)


ADMIN_PREFIX = "/v1/admin"


def refused_caller(request: Request) -> Problem | None:
    """The 401 or 403 this request's key gets, read from the database now (None: the key
    may call this route). For the error paths only: a caller is told that its key is bad
    before it is told what is wrong with its request."""
    scheme, secret = get_authorization_scheme_param(request.headers.get("authorization"))
    if scheme.lower() != "bearer" or not secret:
        return missing_key()
    given = HTTPAuthorizationCredentials(scheme=scheme, credentials=secret)
    admin = request.url.path.startswith(ADMIN_PREFIX)
    try:
        service(request).caller(given, admin=admin)
    except Problem as problem:
        if problem.status in (401, 403):
            return problem
    return None


def unauthorized() -> Problem:
    challenge = {"WWW-Authenticate": "Bearer"}
    return Problem("unauthorized", "the API key is unknown or revoked", headers=challenge)


def service(request: Request) -> Service:
    found: Service = request.app.state.service
    return found


def json_response(status: int, document: Any, location: str | None = None) -> Response:
    headers = {"Location": location} if location else None
    return Response(dumps(document), status_code=status, headers=headers, media_type=JSON)


def _fingerprint(body: BaseModel | None) -> str:
    text = "" if body is None else dumps(body.model_dump(mode="json", by_alias=True))
    return hashlib.sha256(text.encode()).hexdigest()


def _sent(stored: Stored, *, replayed: bool) -> Response:
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    if stored.location:
        headers["Location"] = stored.location
    media = JSON if stored.status < 400 else "application/problem+json"
    return Response(stored.body, status_code=stored.status, headers=headers, media_type=media)


# Refusals not stored under the Idempotency-Key, so the same key runs again: bad input
# (400), which the shop corrects and sends again with the same key (a cart id), as Stripe
# saves nothing when validation fails; conflicts (409: no capacity, a blackout, a hold no
# longer active), which a retry may get past, as pretix stores no 409; and server
# failures (5xx, never stored). What is stored is what the same request would get again
# (404, say).
RETRIED = frozenset({400, 409, 429})


def scope_of(request: Request, ids: Mapping[str, int]) -> str:
    """The route an Idempotency-Key belongs to: method and route template with its ids as
    parsed (``POST /v1/holds/4/extend``), never the raw path, where ``/v1/holds/04/extend``
    or ``/v1/holds/+4/extend`` would name the same hold under another key scope and run
    its effect again."""
    template: str = request.scope["route"].path_format
    return f"{request.method} {template.format_map(ids)}"


def idempotent(
    request: Request,
    caller: Caller,
    *,
    key: str | None,
    body: BaseModel | None,
    effect: Callable[[Booking], T],
    answer: Callable[[T], tuple[int, Any, str | None]],
    ids: Mapping[str, int] | None = None,
) -> Response:
    """Run ``effect`` once per Idempotency-Key ``key`` (per API key and route, the route's
    ``ids`` as parsed), as the IETF draft says: a replay gets the stored answer, another
    body 422, a request in flight 409. The answer is stored in the effect's transaction,
    unless it is RETRIED or a 5xx."""
    if key is None:
        raise Problem("idempotency_key_missing", "send an Idempotency-Key header (a cart id, say)")
    bk = caller.bk

    def stored(result: T) -> Stored:
        status, document, location = answer(result)
        return Stored(status, dumps(document), location)

    def refusal(exc: ResbookError) -> Stored | None:
        problem = from_error(exc)
        if problem.status in RETRIED or problem.status >= 500:
            return None
        return Stored(problem.status, problem.body())

    try:
        outcome = bk.run_idempotent(
            api_key_id=caller.key.id,
            route=scope_of(request, ids or {})[:300],
            key=key,
            request_hash=_fingerprint(body),
            effect=lambda: effect(bk),
            answer=stored,
            refusal=refusal,
        )
    except ResbookError as exc:
        problem = from_error(exc)
        if problem.status < 500:
            # Not stored, so no claim looked at the key: one revoked since this server
            # remembered it is refused here, not its request.
            problem = refused_caller(request) or problem
        raise problem from None
    if outcome.state == "revoked":
        service(request).forget(caller.key.id)
        raise unauthorized()
    if outcome.state == "reused":
        raise Problem(
            "idempotency_key_reused",
            "this Idempotency-Key was used with another request body; use a new key",
        )
    if outcome.state == "in_flight":
        raise Problem(
            "idempotency_request_in_progress",
            "the first request with this Idempotency-Key is still running; retry shortly",
        )
    assert outcome.stored is not None
    return _sent(outcome.stored, replayed=outcome.state == "replay")
