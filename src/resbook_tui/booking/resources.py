"""Resources: the bookable vehicles, tours and guides."""

from __future__ import annotations

import json
from typing import Any

from . import events, validate
from .context import Context, Where, as_time
from .errors import not_found
from .records import Resource

_COLUMNS = "id, name, type, description, is_active, metadata, created_at, updated_at"


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
    """Resources not deleted, by type then name. ``search`` matches name or type."""
    pattern = f"%{search.strip().lower()}%" if search and search.strip() else None
    where = (
        Where("deleted_at IS NULL")
        .add("type = ?", validate.resource_type(resource_type) if resource_type else None)
        .add("is_active = ?", active)
        .add("(lower(name) LIKE ? OR lower(type) LIKE ?)", pattern, pattern)
    )
    with ctx.read():
        rows = ctx.all(
            f"SELECT {_COLUMNS} FROM resource WHERE {where.sql} ORDER BY type DESC, name, id",
            where.params,
        )
    return [_resource(r) for r in rows]


def get_resource(ctx: Context, resource_id: int) -> Resource:
    with ctx.read():
        row = ctx.one(
            f"SELECT {_COLUMNS} FROM resource WHERE id = ? AND deleted_at IS NULL", (resource_id,)
        )
    if row is None:
        raise not_found("resource", resource_id)
    return _resource(row)


def add_resource(
    ctx: Context,
    name: str,
    resource_type: str,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Resource:
    name = validate.text(name, "name")
    kind = validate.resource_type(resource_type)
    with ctx.write():
        row = ctx.one(
            f"INSERT INTO resource (name, type, description, metadata) VALUES (?, ?, ?, ?) "
            f"RETURNING {_COLUMNS}",
            (name, kind, description, json.dumps(metadata or {}, sort_keys=True)),
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
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = validate.text(name, "name")
    if resource_type is not None:
        changes["type"] = validate.resource_type(resource_type)
    if description is not None:
        changes["description"] = description.strip() or None
    if not changes:
        return get_resource(ctx, resource_id)
    assignments = ", ".join(f"{column} = ?" for column in changes)
    with ctx.write():
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
    with ctx.write():
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
