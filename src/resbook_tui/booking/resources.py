"""Resources: the bookable vehicles, tours and guides."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import peewee

from ..text import visible
from . import events, validate
from . import search as search_module
from .context import Context, Where, as_time
from .errors import BookingError, invalid, not_found
from .records import Resource

_COLUMNS = "id, name, type, description, is_active, metadata, created_at, updated_at"
# Migration 0003: one active resource per lower(trim(name)); the database decides.
UNIQUE_ACTIVE_NAME = "idx_resource_active_name"
_ID = re.compile(r"[0-9]+")
_MAX_ID = 2**63 - 1


def _resource(row: tuple) -> Resource:
    metadata = row[5]
    if isinstance(metadata, str | bytes):
        metadata = json.loads(metadata)
    return Resource(
        id=row[0],
        name=row[1],
        type=row[2],
        description=row[3],
        is_active=bool(row[4]),
        metadata=metadata or {},
        created_at=as_time(row[6]),
        updated_at=as_time(row[7]),
    )


def list_resources(
    ctx: Context,
    resource_type: str | None = None,
    active: bool | None = None,
    search: str | None = None,
) -> list[Resource]:
    """Resources not deleted, by type then name. ``search`` is part of the name or type,
    in any case; ``%`` and ``_`` in it are literal."""
    search = validate.search(search)
    active = validate.flag(active, "active")
    pattern = search_module.contains(search)
    where = (
        Where("deleted_at IS NULL")
        .add("type = ?", validate.resource_type(resource_type) if resource_type else None)
        .add("is_active = ?", active)
        .add(f"({search_module.like('name')} OR {search_module.like('type')})", pattern, pattern)
    )
    with ctx.read():
        rows = ctx.all(
            f"SELECT {_COLUMNS} FROM resource WHERE {where.sql} ORDER BY type DESC, name, id",
            where.params,
        )
    return [_resource(r) for r in rows]


def get_resource(ctx: Context, resource_id: int) -> Resource:
    resource_id = validate.ident(resource_id, "resource")
    with ctx.read():
        row = ctx.one(
            f"SELECT {_COLUMNS} FROM resource WHERE id = ? AND deleted_at IS NULL", (resource_id,)
        )
    if row is None:
        raise not_found("resource", resource_id)
    return _resource(row)


def resolve_resource(ctx: Context, ref: int | str) -> Resource:
    """The resource ``ref`` names: an id (an int, or text of digits) or its exact name.

    Names match ignoring case and outer spaces. An unknown name is ``not_found``; a name
    that several resources share (only one of them can be active) is ``invalid_input``
    listing their ids, so the caller can say which one it means.
    """
    if isinstance(ref, int) and not isinstance(ref, bool):
        return get_resource(ctx, ref)
    if not isinstance(ref, str):
        raise invalid(f"a resource is named by its id or its name, not {ref!r}")
    text = ref.strip()
    if not text:
        raise invalid("resource id or name must not be empty")
    if _ID.fullmatch(text):
        ident = int(text)
        if ident > _MAX_ID:
            raise not_found("resource", ident)
        return get_resource(ctx, ident)
    with ctx.read():
        rows = ctx.all(
            f"SELECT {_COLUMNS} FROM resource WHERE deleted_at IS NULL "
            "AND lower(trim(name)) = lower(?) ORDER BY id",
            (text,),
        )
    if not rows:
        raise BookingError("not_found", f"no resource is named {visible(text)!r}")
    if len(rows) > 1:
        found = ", ".join(f"{r[0]} ({'active' if r[4] else 'inactive'})" for r in rows)
        raise invalid(
            f"{len(rows)} resources are named {visible(text)!r}: ids {found}; give the id"
        )
    return _resource(rows[0])


def resource_names(ctx: Context) -> dict[int, str]:
    """Every resource's name by id, deleted ones included (old bookings still name them)."""
    with ctx.read():
        return {row[0]: row[1] for row in ctx.all("SELECT id, name FROM resource")}


@contextmanager
def _one_active_name(
    ctx: Context, name: Callable[[], str | None], resource_id: int = 0
) -> Iterator[None]:
    """Turn the unique index's refusal into one line naming the active resource in the way.

    ``name`` gives the name that was refused (read after the failure: for an activation
    it is the resource's own name).
    """
    try:
        yield
    except peewee.IntegrityError as exc:
        if UNIQUE_ACTIVE_NAME not in str(exc):
            raise
        raise _name_taken(ctx, name(), resource_id) from None


def _name_taken(ctx: Context, name: str | None, resource_id: int) -> BookingError:
    with ctx.read():
        row = ctx.one(
            f"SELECT id, name FROM resource WHERE is_active = {ctx.true} "
            "AND deleted_at IS NULL AND lower(trim(name)) = lower(trim(?)) AND id <> ? "
            "ORDER BY id LIMIT 1",
            (name or "", resource_id),
        )
    if row is None:  # the other one was renamed or deactivated meanwhile: try again
        return invalid(f"another active resource is named {visible(name or '')!r}")
    return invalid(
        f"an active resource is already named {visible(row[1])!r} (id {row[0]}); "
        "rename or deactivate it first"
    )


def add_resource(
    ctx: Context,
    name: str,
    resource_type: str,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Resource:
    name = validate.required_text(name, "name")
    kind = validate.resource_type(resource_type)
    description = validate.text(description, "description", required=False)
    metadata = validate.metadata(metadata)
    with _one_active_name(ctx, lambda: name), ctx.write():
        row = ctx.one(
            f"INSERT INTO resource (name, type, description, metadata) VALUES (?, ?, ?, ?) "
            f"RETURNING {_COLUMNS}",
            (name, kind, description, json.dumps(metadata, sort_keys=True)),
        )
        resource = _resource(row)
        events.record(
            ctx,
            "resource.add",
            "resource",
            resource.id,
            resource.id,
            details={"name": name, "type": kind},
        )
    return resource


def edit_resource(
    ctx: Context,
    resource_id: int,
    name: str | None = None,
    resource_type: str | None = None,
    description: str | None = None,
) -> Resource:
    """Change the fields given (None leaves one as it is; an empty description clears it)."""
    resource_id = validate.ident(resource_id, "resource")
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = validate.required_text(name, "name")
    if resource_type is not None:
        changes["type"] = validate.resource_type(resource_type)
    if description is not None:
        changes["description"] = validate.text(description, "description", required=False)
    if not changes:
        raise invalid("nothing to change: give a new name, type or description")
    assignments = ", ".join(f"{column} = ?" for column in changes)
    with _one_active_name(ctx, lambda: changes.get("name"), resource_id), ctx.write():
        row = ctx.one(
            f"UPDATE resource SET {assignments} WHERE id = ? AND deleted_at IS NULL "
            f"RETURNING {_COLUMNS}",
            (*changes.values(), resource_id),
        )
        if row is None:
            raise not_found("resource", resource_id)
        events.record(ctx, "resource.edit", "resource", resource_id, resource_id, details=changes)
    return _resource(row)


def set_active(ctx: Context, resource_id: int, active: bool) -> Resource:
    """Activate or deactivate; an inactive resource takes no new holds."""
    resource_id = validate.ident(resource_id, "resource")
    with _one_active_name(ctx, lambda: _name_of(ctx, resource_id), resource_id), ctx.write():
        row = ctx.one(
            f"UPDATE resource SET is_active = ? WHERE id = ? AND deleted_at IS NULL "
            f"RETURNING {_COLUMNS}",
            (active, resource_id),
        )
        if row is None:
            raise not_found("resource", resource_id)
        action = "resource.activate" if active else "resource.deactivate"
        events.record(ctx, action, "resource", resource_id, resource_id)
    return _resource(row)


def _name_of(ctx: Context, resource_id: int) -> str | None:
    with ctx.read():
        row = ctx.one("SELECT name FROM resource WHERE id = ?", (resource_id,))
    return row[0] if row else None
