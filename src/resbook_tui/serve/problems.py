"""RFC 9457 problem details: every error the HTTP API answers, as application/problem+json.

Each carries ``type``, ``title``, ``status``, ``detail`` and ``code``: the stable snake_case
code the CLI (``--json``) and the Python API (``BookingError.code``) use for the same
refusal, plus the HTTP API's own (auth, idempotency). The README lists them.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.responses import Response

from ..booking.errors import CapacityRefused
from ..errors import BusyError, DatabaseError, ResbookError
from ..text import visible

log = logging.getLogger("resbook.serve")

PROBLEM_JSON = "application/problem+json"
# The scope key ServeProtocol sets when it drops a running request's answer for a refusal
# (or, stopping, for nothing): RequestLog's one line for the request says what was sent.
REFUSED = "resbook.refused"
RETRY_AFTER_S = "1"

# code -> (HTTP status, title)
PROBLEMS: dict[str, tuple[int, str]] = {
    "invalid_input": (400, "The request is not valid"),
    "idempotency_key_missing": (400, "This request needs an Idempotency-Key header"),
    "unauthorized": (401, "A valid API key is required"),
    "forbidden": (403, "This API key may not use this route"),
    "not_found": (404, "Not found"),
    "method_not_allowed": (405, "Method not allowed"),
    "request_timeout": (408, "The request did not arrive in time"),
    "insufficient_capacity": (409, "Not enough capacity"),
    "blacked_out": (409, "The resource is blacked out on a date asked for"),
    "hold_not_active": (409, "The hold is no longer active"),
    "hold_life_exceeded": (409, "A hold cannot live that long"),
    "inactive_resource": (409, "The resource is inactive"),
    "no_capacity": (409, "Not enough capacity"),
    "blackout": (409, "The resource is blacked out"),
    "invalid_state": (409, "Not possible in the current state"),
    "expired": (409, "The hold has expired"),
    "token_conflict": (409, "The token was used for another request"),
    "idempotency_request_in_progress": (409, "A request with this Idempotency-Key is in flight"),
    "idempotency_key_reused": (422, "The Idempotency-Key was used with another request body"),
    "unsupported_media_type": (415, "Send JSON (Content-Type: application/json)"),
    "request_head_too_large": (431, "The request line and headers are too large"),
    "internal_error": (500, "Internal error"),
    "busy": (503, "Busy: nothing changed, try again"),
    "database_unavailable": (503, "The database cannot be reached"),
}


class Problem(Exception):
    """An error answer; raise it from a handler, or build one from a resbook error."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        cause: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.cause = cause  # for the server's log when this is answered, not for the caller
        self.code = code
        self.status, self.title = PROBLEMS[code]
        self.detail = visible(detail)
        self.extra = extra or {}
        self.headers = dict(headers or {})
        if self.status == 503 or code == "idempotency_request_in_progress":
            self.headers.setdefault("Retry-After", RETRY_AFTER_S)

    def document(self) -> dict[str, Any]:
        return {
            "type": f"/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            **self.extra,
        }

    def body(self) -> str:
        return json.dumps(self.document(), ensure_ascii=False)

    def response(self) -> Response:
        if self.cause:
            log.warning("%s: %s", self.code, self.cause)
        return Response(
            self.body(), status_code=self.status, headers=self.headers, media_type=PROBLEM_JSON
        )


def invalid(detail: str, *, field: str | None) -> Problem:
    """A 400 invalid_input, its ``errors`` naming the field at fault ("request" when the
    rule is about the request as a whole or the engine did not say which)."""
    errors = [{"name": visible(field or "request")[:200], "reason": visible(detail)[:300]}]
    return Problem("invalid_input", detail, extra={"errors": errors})


def from_error(exc: ResbookError) -> Problem:
    """The problem a resbook error means (BookingError codes map one to one)."""
    if isinstance(exc, CapacityRefused):
        shortfalls = [
            {
                "resource_id": s.resource_id,
                "date": s.date.isoformat(),
                "requested": s.requested,
                "available": s.available,
            }
            for s in exc.shortfalls
        ]
        return Problem("insufficient_capacity", str(exc), extra={"shortfalls": shortfalls})
    code = getattr(exc, "code", "")
    if code == "invalid_input":
        return invalid(str(exc), field=getattr(exc, "field", None))
    if code in PROBLEMS:
        return Problem(code, str(exc))
    if isinstance(exc, BusyError):
        return Problem("busy", str(exc))
    if isinstance(exc, DatabaseError):
        # Where the database is and what its driver said go to the server's log, if this
        # is answered: /healthz answers anyone, and a shop needs only to retry.
        detail = "the database cannot be reached; retry later"
        return Problem("database_unavailable", detail, cause=str(exc))
    return Problem("internal_error", str(exc))


# What every route may answer besides its success, for the OpenAPI document.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "enum": sorted(PROBLEMS)},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "reason"],
                "properties": {"name": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
        "shortfalls": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["resource_id", "date", "requested", "available"],
                "properties": {
                    "resource_id": {"type": "integer"},
                    "date": {"type": "string", "format": "date"},
                    "requested": {"type": "integer"},
                    "available": {"type": "integer"},
                },
            },
        },
    },
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: "Invalid input (with errors[] naming each field)",
        401: "Missing, unknown or revoked API key",
        403: "A store key on an admin route",
        404: "Unknown id",
        409: "Refused by a rule (capacity, blackout, state) or a request in flight",
        415: "Not JSON",
        422: "Idempotency-Key reused with another body",
        503: "Busy or the database is unreachable: try again after Retry-After",
    }
    content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    return {s: {"description": described[s], "content": content} for s in statuses}
