"""Records as the HTTP API's JSON: dates ``YYYY-MM-DD``, times ISO 8601 in UTC with ``Z``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from ..booking.records import (
    Allocation,
    Blackout,
    BlackoutResult,
    Bundle,
    CapacityChange,
    Cell,
    Event,
    Hold,
    Resource,
    SweepResult,
)
from ..jsonable import event_json, json_time
from ..text import json_escaped

LIMITED_BELOW = 0.25  # under a quarter left is LIMITED


def dumps(document: Any) -> str:
    """Compact JSON; stored text that holds control characters (put there by other means
    than the API, which refuses them) goes out escaped."""
    return json_escaped(json.dumps(document, ensure_ascii=False, separators=(",", ":")))


def hold(h: Hold) -> dict[str, Any]:
    return {
        "id": h.id,
        "resource_id": h.resource_id,
        "date": h.date.isoformat(),
        "quantity": h.quantity,
        "status": h.status,
        "expires_at": json_time(h.expires_at),
    }


def allocation(a: Allocation) -> dict[str, Any]:
    return {
        "id": a.id,
        "resource_id": a.resource_id,
        "date": a.date.isoformat(),
        "quantity": a.quantity,
        "order_id": a.order_id,
        "line_item_id": a.line_item_id,
        "hold_id": a.hold_id,
        "created_at": json_time(a.created_at),
    }


def bundle(b: Bundle) -> dict[str, Any]:
    return {
        "id": b.id,
        "email": b.email,
        "status": b.status,
        "expires_at": json_time(b.expires_at),
        "created_at": json_time(b.created_at),
        "holds": [hold(h) for h in b.holds],
        "allocations": [allocation(a) for a in b.allocations],
    }


def resource(r: Resource) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "type": r.type,
        "description": r.description,
        "is_active": r.is_active,
    }


def day_status(c: Cell | None) -> str:
    if c is None or c.blackout is not None or c.max_capacity == 0:
        return "CLOSED"
    if c.available <= 0:
        return "SOLD_OUT"
    return "LIMITED" if c.available < c.max_capacity * LIMITED_BELOW else "AVAILABLE"


def availability(
    resources: Sequence[Resource], cells: Sequence[Cell], first: date, last: date
) -> dict[str, Any]:
    """Every day of the window for every resource; a day without capacity is CLOSED."""
    by_cell = {(c.resource_id, c.date): c for c in cells}
    span = [first + timedelta(n) for n in range((last - first).days + 1)]
    out = []
    for r in resources:
        days = []
        for d in span:
            c = by_cell.get((r.id, d))
            days.append(
                {
                    "date": d.isoformat(),
                    "max": c.max_capacity if c else 0,
                    "available": c.available if c else 0,
                    "held": c.held if c else 0,
                    "allocated": c.allocated if c else 0,
                    "blackout": c.blackout if c else None,
                    "status": day_status(c),
                }
            )
        out.append({"resource_id": r.id, "name": r.name, "type": r.type, "days": days})
    return {"resources": out}


def capacity_change(c: CapacityChange) -> dict[str, Any]:
    return {
        "resource_id": c.resource_id,
        "date_from": c.date_from.isoformat(),
        "date_to": c.date_to.isoformat(),
        "max_capacity": c.max_capacity,
        "updated": c.updated,
        "created": c.created,
    }


def blackout(b: Blackout) -> dict[str, Any]:
    return {
        "id": b.id,
        "resource_id": b.resource_id,
        "start_date": b.start_date.isoformat(),
        "end_date": b.end_date.isoformat(),
        "reason": b.reason,
        "created_at": json_time(b.created_at),
    }


def blackout_created(result: BlackoutResult) -> dict[str, Any]:
    return {
        "blackout": blackout(result.blackout),
        "active_hold_ids": [h.id for h in result.active_holds],
        "allocation_ids": [a.id for a in result.allocations],
    }


def event(e: Event) -> dict[str, Any]:
    return event_json(e)


def sweep(s: SweepResult) -> dict[str, Any]:
    return {
        "expired_holds": s.expired_holds,
        "returned_units": s.returned_units,
        "cells": s.cells,
        "batches": s.batches,
        "dry_run": s.dry_run,
        "skipped": s.skipped,
        "idempotency_keys_removed": s.idempotency_keys_removed,
    }
