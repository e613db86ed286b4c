"""Admin routes (admin keys): resources, capacity, blackouts, allocations, events, sweep."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials
from starlette.responses import Response

from ..booking import BlackoutResult, Resource, SweepResult
from ..booking.records import Event
from ..booking.validate import INT64_MAX, MAX_LENGTH
from . import render
from .calls import (
    ADMIN_PREFIX,
    Caller,
    IdemKey,
    Key,
    idempotent,
    json_response,
    service,
    single_values,
)
from .problems import problem_responses
from .schemas import (
    AllocationOut,
    AllocationsOut,
    BlackoutCreate,
    BlackoutCreated,
    BlackoutOut,
    BlackoutsOut,
    CapacityOut,
    CapacityPut,
    Day,
    Digits,
    EventsOut,
    QueryText,
    ResourceCreate,
    ResourceOut,
    ResourcePatch,
    ResourcesOut,
    SweepIn,
    SweepOut,
    TypeFilter,
)

router = APIRouter(prefix=ADMIN_PREFIX, tags=["admin"], dependencies=[Depends(single_values)])
PathId = Annotated[int, Path(ge=1, le=INT64_MAX), Digits]
OptionalId = Annotated[int | None, Query(ge=1, le=INT64_MAX), Digits]
READ = problem_responses(400, 401, 403, 503)
WRITE = problem_responses(400, 401, 403, 404, 409, 422, 503)


def _admin(request: Request, credentials: HTTPAuthorizationCredentials) -> Caller:
    return service(request).caller(credentials, admin=True)


@router.get(
    "/resources", operation_id="admin_list_resources", response_model=ResourcesOut, responses=READ
)
def admin_list_resources(
    request: Request,
    credentials: Key,
    type: TypeFilter = None,
    active: bool | None = None,
    search: Annotated[QueryText | None, Query(max_length=MAX_LENGTH["search"])] = None,
) -> Response:
    """Every resource (active and inactive; deleted ones never), by type and name."""
    bk = _admin(request, credentials).bk
    found = bk.list_resources(resource_type=type or None, active=active, search=search)
    return json_response(200, {"resources": [render.resource(r) for r in found]})


@router.post(
    "/resources",
    operation_id="admin_create_resource",
    status_code=201,
    response_model=ResourceOut,
    responses=WRITE,
)
def admin_create_resource(
    request: Request, credentials: Key, body: ResourceCreate, idempotency_key: IdemKey
) -> Response:
    caller = _admin(request, credentials)

    def answer(r: Resource) -> tuple[int, dict[str, object], str | None]:
        return 201, render.resource(r), None

    return idempotent(
        request,
        caller,
        key=idempotency_key,
        body=body,
        effect=lambda bk: bk.add_resource(body.name, body.type, body.description),
        answer=answer,
    )


@router.patch(
    "/resources/{resource_id}",
    operation_id="admin_edit_resource",
    response_model=ResourceOut,
    responses=problem_responses(400, 401, 403, 404, 409, 503),
)
def admin_edit_resource(
    request: Request, credentials: Key, resource_id: PathId, body: ResourcePatch
) -> Response:
    """Change the name, type or description, and activate or deactivate."""
    resource = _admin(request, credentials).bk.update_resource(
        resource_id,
        name=body.name,
        resource_type=body.type,
        description=body.description,
        active=body.is_active,
    )
    return json_response(200, render.resource(resource))


@router.put(
    "/capacity",
    operation_id="admin_set_capacity",
    response_model=CapacityOut,
    responses=problem_responses(400, 401, 403, 404, 409, 503),
)
def admin_set_capacity(request: Request, credentials: Key, body: CapacityPut) -> Response:
    """Set the max capacity of every date in the range, for each resource, all or nothing
    (held and allocated units stay; the available count follows)."""
    bk = _admin(request, credentials).bk
    changes = bk.set_capacities(body.resource_ids, body.date_from, body.date_to, body.max)
    return json_response(200, {"changes": [render.capacity_change(c) for c in changes]})


@router.get(
    "/blackouts", operation_id="admin_list_blackouts", response_model=BlackoutsOut, responses=READ
)
def admin_list_blackouts(
    request: Request,
    credentials: Key,
    resource_id: OptionalId = None,
    date_from: Annotated[Day | None, Query(alias="from")] = None,
    date_to: Annotated[Day | None, Query(alias="to")] = None,
) -> Response:
    bk = _admin(request, credentials).bk
    found = bk.list_blackouts(resource_id, date_from=date_from, date_to=date_to)
    return json_response(200, {"blackouts": [render.blackout(b) for b in found]})


@router.post(
    "/blackouts",
    operation_id="admin_create_blackout",
    status_code=201,
    response_model=BlackoutCreated,
    responses=WRITE,
)
def admin_create_blackout(
    request: Request, credentials: Key, body: BlackoutCreate, idempotency_key: IdemKey
) -> Response:
    """Close a resource on a range of dates. Holds and allocations already inside it stay
    (staff must look at them): their ids come back."""
    caller = _admin(request, credentials)

    def answer(result: BlackoutResult) -> tuple[int, dict[str, object], str | None]:
        return 201, render.blackout_created(result), None

    return idempotent(
        request,
        caller,
        key=idempotency_key,
        body=body,
        effect=lambda bk: bk.add_blackout(
            body.resource_id, body.date_from, body.date_to, body.reason
        ),
        answer=answer,
    )


@router.delete(
    "/blackouts/{blackout_id}",
    operation_id="admin_delete_blackout",
    response_model=BlackoutOut,
    responses=problem_responses(400, 401, 403, 404, 503),
)
def admin_delete_blackout(request: Request, credentials: Key, blackout_id: PathId) -> Response:
    bk = _admin(request, credentials).bk
    return json_response(200, render.blackout(bk.remove_blackout(blackout_id)))


@router.get(
    "/allocations",
    operation_id="admin_list_allocations",
    response_model=AllocationsOut,
    responses=READ,
)
def admin_list_allocations(
    request: Request,
    credentials: Key,
    order_id: Annotated[QueryText | None, Query(max_length=MAX_LENGTH["order id"])] = None,
    resource_id: OptionalId = None,
    date_from: Annotated[Day | None, Query(alias="from")] = None,
    date_to: Annotated[Day | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=1000), Digits] = 100,
) -> Response:
    bk = _admin(request, credentials).bk
    found = bk.list_allocations(
        order_id=order_id,
        resource_id=resource_id,
        date_from=date_from,
        date_to=date_to,
        limit=limit,
    )
    return json_response(200, {"allocations": [render.allocation(a) for a in found]})


@router.delete(
    "/allocations/{allocation_id}",
    operation_id="admin_cancel_allocation",
    response_model=AllocationOut,
    responses=problem_responses(400, 401, 403, 404, 503),
)
def admin_cancel_allocation(request: Request, credentials: Key, allocation_id: PathId) -> Response:
    """Cancel a confirmed booking: its units go back (the audit trail keeps it)."""
    bk = _admin(request, credentials).bk
    return json_response(200, render.allocation(bk.cancel_allocation(allocation_id)))


@router.get("/events", operation_id="admin_events", response_model=EventsOut, responses=READ)
def admin_events(
    request: Request,
    credentials: Key,
    after_id: Annotated[int, Query(ge=0, le=INT64_MAX), Digits] = 0,
    limit: Annotated[int, Query(ge=1, le=1000), Digits] = 100,
) -> Response:
    """The audit trail, oldest first, a page at a time: pass ``next_after_id`` back as
    ``after_id`` for the next page (it stays put when there is nothing new)."""
    bk = _admin(request, credentials).bk
    found: list[Event] = bk.events(after_id=after_id, limit=limit, oldest_first=True)
    last = found[-1].id if found else after_id
    return json_response(200, {"events": [render.event(e) for e in found], "next_after_id": last})


@router.post("/sweep", operation_id="admin_sweep", response_model=SweepOut, responses=WRITE)
def admin_sweep(
    request: Request, credentials: Key, idempotency_key: IdemKey, body: SweepIn | None = None
) -> Response:
    """Expire every active hold past its expiry now (as cron's ``resbook sweep`` does)."""
    caller = _admin(request, credentials)
    asked = body or SweepIn()  # no body and {} are the same request, under one key too

    def answer(result: SweepResult) -> tuple[int, dict[str, object], str | None]:
        return 200, render.sweep(result), None

    return idempotent(
        request,
        caller,
        key=idempotency_key,
        body=asked,
        effect=lambda bk: bk.sweep(dry_run=asked.dry_run),
        answer=answer,
    )
