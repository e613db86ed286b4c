"""Store routes (store and admin keys): resources, availability, and hold requests."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from starlette.responses import Response

from ..booking.records import Bundle
from ..booking.validate import INT64_MAX
from . import render
from .calls import (
    Caller,
    IdemKey,
    Key,
    idempotent,
    json_response,
    service,
    single_values,
)
from .problems import Problem, problem_responses
from .schemas import (
    AvailabilityOut,
    Day,
    Digits,
    HoldConfirm,
    HoldCreate,
    HoldExtend,
    HoldRequestOut,
    QueryId,
    ResourcesOut,
    TypeFilter,
)

router = APIRouter(prefix="/v1", tags=["store"], dependencies=[Depends(single_values)])
OptionalIdemKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=255, description="Optional."),
]
HoldId = Annotated[int, Path(ge=1, le=INT64_MAX), Digits]

_LINKS = {
    name: {"operationId": op, "parameters": {"hold_id": "$response.body#/id"}}
    for name, op in (
        ("GetHold", "get_hold"),
        ("ExtendHold", "extend_hold"),
        ("ConfirmHold", "confirm_hold"),
        ("ReleaseHold", "release_hold"),
    )
}


# The answer headers a shop may read, for the OpenAPI document.
_REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` on the stored answer to an earlier request with this key",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
# A 404 is stored under the Idempotency-Key (calls.RETRIED says which are not), so its
# replay carries Idempotent-Replayed too.
_IDEMPOTENT_PROBLEMS = problem_responses(400, 401, 404, 409, 422, 503)
_IDEMPOTENT_PROBLEMS[404] = {**_IDEMPOTENT_PROBLEMS[404], "headers": _REPLAYED}
_LOCATION = {
    "Location": {"description": "The hold request: /v1/holds/{id}", "schema": {"type": "string"}}
}


@router.get(
    "/resources",
    operation_id="list_resources",
    response_model=ResourcesOut,
    responses=problem_responses(400, 401, 503),
)
def list_resources(request: Request, credentials: Key, type: TypeFilter = None) -> Response:
    """Active resources, by type and name."""
    caller = service(request).caller(credentials)
    found = caller.bk.list_resources(resource_type=type or None, active=True)
    return json_response(200, {"resources": [render.resource(r) for r in found]})


@router.get(
    "/availability",
    operation_id="availability",
    response_model=AvailabilityOut,
    responses=problem_responses(400, 401, 404, 503),
)
def availability(
    request: Request,
    credentials: Key,
    date_from: Annotated[Day, Query(alias="from", description="First date (YYYY-MM-DD).")],
    date_to: Annotated[
        Day | None, Query(alias="to", description="Last date (default: the first).")
    ] = None,
    resource_id: Annotated[list[QueryId] | None, Query(max_length=1000)] = None,
    type: TypeFilter = None,
) -> Response:
    """Every day of the window for each active resource asked for (all of them by default):
    max, available, held, allocated, blackout, and a status for a shop's calendar:
    AVAILABLE, LIMITED (under 25% left), SOLD_OUT, CLOSED (blackout or no capacity)."""
    caller = service(request).caller(credentials)
    last = date_from if date_to is None else date_to  # the window's order and span: the engine's
    resources = caller.bk.list_resources(resource_type=type or None, active=True)
    if resource_id:
        wanted = set(resource_id)
        resources = [r for r in resources if r.id in wanted]
        if len(resources) < len(wanted):  # filtered out by type, or not there at all?
            _require_active(caller, wanted)
    cells = caller.bk.availability(date_from, last, resource_ids=[r.id for r in resources])
    return json_response(200, render.availability(resources, cells, date_from, last))


def _require_active(caller: Caller, wanted: set[int]) -> None:
    """404 for the first id asked for that names no active resource (one of another type
    than the filter asks for is simply not in the answer)."""
    missing = sorted(wanted - {r.id for r in caller.bk.list_resources(active=True)})
    if missing:
        raise Problem("not_found", f"resource {missing[0]} is unknown or inactive")


def _created(b: Bundle) -> tuple[int, dict[str, object], str | None]:
    return 201, render.bundle(b), f"/v1/holds/{b.id}"


def _ok(b: Bundle) -> tuple[int, dict[str, object], str | None]:
    return 200, render.bundle(b), None


@router.post(
    "/holds",
    operation_id="create_hold",
    status_code=201,
    response_model=HoldRequestOut,
    responses={
        201: {"description": "Every line held", "links": _LINKS, "headers": _LOCATION | _REPLAYED},
        **_IDEMPOTENT_PROBLEMS,
    },
)
def create_hold(
    request: Request, credentials: Key, body: HoldCreate, idempotency_key: IdemKey
) -> Response:
    """Hold every line of every date, all or nothing, across resources. Lines on one
    (resource, date) are summed before the check. The answer's ``id`` names the request:
    get, extend, confirm and release it by that id."""
    caller = service(request).caller(credentials, checked_later=True)
    lines = [line.model_dump(mode="json") for line in body.lines]
    return idempotent(
        request,
        caller,
        key=idempotency_key,
        body=body,
        effect=lambda bk: bk.create_bundle(
            lines, body.email, ttl_minutes=body.ttl_minutes, api_key_id=caller.key.id
        ),
        answer=_created,
    )


@router.get(
    "/holds/{hold_id}",
    operation_id="get_hold",
    response_model=HoldRequestOut,
    responses=problem_responses(400, 401, 404, 503),
)
def get_hold(request: Request, credentials: Key, hold_id: HoldId) -> Response:
    """The hold request and its holds (and allocations, once confirmed)."""
    caller = service(request).caller(credentials)
    return json_response(200, render.bundle(caller.bk.get_bundle(hold_id)))


@router.post(
    "/holds/{hold_id}/extend",
    operation_id="extend_hold",
    response_model=HoldRequestOut,
    responses={
        200: {"description": "Extended", "headers": _REPLAYED},
        **_IDEMPOTENT_PROBLEMS,
    },
)
def extend_hold(
    request: Request,
    credentials: Key,
    hold_id: HoldId,
    body: HoldExtend,
    idempotency_key: OptionalIdemKey = None,
) -> Response:
    """Push the expiry back by ``minutes``; never past the longest hold life from creation
    (RESBOOK_MAX_HOLD_MINUTES, default 120): past it, 409 hold_life_exceeded."""
    caller = service(request).caller(credentials, checked_later=idempotency_key is not None)
    if idempotency_key is None:
        return json_response(200, render.bundle(caller.bk.extend_bundle(hold_id, body.minutes)))
    return idempotent(
        request,
        caller,
        key=idempotency_key,
        body=body,
        effect=lambda bk: bk.extend_bundle(hold_id, body.minutes),
        answer=_ok,
        ids={"hold_id": hold_id},
    )


@router.post(
    "/holds/{hold_id}/confirm",
    operation_id="confirm_hold",
    response_model=HoldRequestOut,
    responses={
        200: {"description": "Confirmed: an allocation per hold", "headers": _REPLAYED},
        **_IDEMPOTENT_PROBLEMS,
    },
)
def confirm_hold(
    request: Request,
    credentials: Key,
    hold_id: HoldId,
    body: HoldConfirm,
    idempotency_key: IdemKey,
) -> Response:
    """Turn every hold of the request into an allocation for the order (line item
    ``hold-<id>`` unless one is given). All or nothing."""
    caller = service(request).caller(credentials, checked_later=True)
    return idempotent(
        request,
        caller,
        key=idempotency_key,
        body=body,
        effect=lambda bk: bk.confirm_bundle(hold_id, body.order_id, body.line_item_id),
        answer=_ok,
        ids={"hold_id": hold_id},
    )


@router.delete(
    "/holds/{hold_id}",
    operation_id="release_hold",
    response_model=HoldRequestOut,
    responses=problem_responses(400, 401, 404, 409, 503),
)
def release_hold(request: Request, credentials: Key, hold_id: HoldId) -> Response:
    """Release every hold of the request. Releasing again (or after expiry) is a success:
    shops retry their compensations. A confirmed request is 409 hold_not_active."""
    caller = service(request).caller(credentials)
    return json_response(200, render.bundle(caller.bk.release_bundle(hold_id)))
