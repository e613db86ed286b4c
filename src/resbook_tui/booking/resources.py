"""Resources: the bookable vehicles, tours and guides."""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import peewee
from peewee import fn

from ..dialects.compiled import touched
from ..models import RESOURCE_FIELDS, Action
from ..models import Resource as Row
from ..text import visible
from . import events, validate
from . import search as search_module
from .context import Context, where
from .errors import BookingError, invalid, naming, not_found
from .records import Resource
from .rows import resource_from_row

# Migration 0003: one active resource per lower(trim(name)); the database decides.
UNIQUE_ACTIVE_NAME = "idx_resource_active_name"
_ID = re.compile(r"[0-9]+")
_MAX_ID = 2**63 - 1


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
    query = where(
        Row.select(*RESOURCE_FIELDS),
        Row.live(),
        (Row.type == validate.resource_type(resource_type)) if resource_type else None,
        (Row.is_active == active) if active is not None else None,
        (search_module.like(Row.name, pattern) | search_module.like(Row.type, pattern))
        if pattern
        else None,
    ).order_by(Row.type.desc(), Row.name, Row.id)
    with ctx.read():
        return [resource_from_row(r) for r in query.tuples().execute(ctx.db)]


def get_resource(ctx: Context, resource_id: int) -> Resource:
    resource_id = validate.ident(resource_id, "resource")
    with ctx.read():
        row = (
            Row.select(*RESOURCE_FIELDS)
            .where((Row.id == resource_id) & Row.live())
            .tuples()
            .first(ctx.db)
        )
    if row is None:
        raise not_found("resource", resource_id)
    return resource_from_row(row)


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
    if not ref.strip():
        raise invalid("resource id or name must not be empty")
    # Control characters, bytes that are not UTF-8 (a shell passes them through) and a
    # name longer than any resource's: refused as a name would be, before any query.
    text = validate.required_text(ref, "name")
    if _ID.fullmatch(text):
        ident = int(text)
        if ident > _MAX_ID:
            raise not_found("resource", ident)
        return get_resource(ctx, ident)
    query = Row.select(*RESOURCE_FIELDS).where(Row.live() & Row.same_name(text)).order_by(Row.id)
    with ctx.read():
        found = [resource_from_row(r) for r in query.tuples().execute(ctx.db)]
    if not found:
        raise BookingError("not_found", f"no resource is named '{visible(text)}'")
    if len(found) > 1:
        ids = ", ".join(f"{r.id} ({'active' if r.is_active else 'inactive'})" for r in found)
        raise invalid(f"{len(found)} resources are named '{visible(text)}': ids {ids}; give the id")
    return found[0]


def resource_names(ctx: Context) -> dict[int, str]:
    """Every resource's name by id, deleted ones included (old bookings still name them)."""
    with ctx.read():
        return dict(Row.select(Row.id, Row.name).tuples().execute(ctx.db))


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
        row = (
            Row.select(Row.id, Row.name)
            .where(Row.is_active & Row.live() & Row.same_name(name or "") & (Row.id != resource_id))
            .order_by(Row.id)
            .tuples()
            .first(ctx.db)
        )
    if row is None:  # the other one was renamed or deactivated meanwhile: try again
        return invalid(f"another active resource is named {visible(name or '')!r}", field="name")
    return invalid(
        f"an active resource is already named {visible(row[1])!r} (id {row[0]}); "
        "rename or deactivate it first",
        field="name",
    )


def add_resource(
    ctx: Context,
    name: str,
    resource_type: str,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Resource:
    with naming("name"):
        name = validate.name(name)
    with naming("type"):
        kind = validate.resource_type(resource_type)
    with naming("description"):
        description = validate.text(description, "description", required=False)
    with naming("metadata"):
        metadata = validate.metadata(metadata)
    insert = Row.insert(
        {Row.name: name, Row.type: kind, Row.description: description, Row.metadata: metadata}
    ).returning(*RESOURCE_FIELDS)
    with _one_active_name(ctx, lambda: name), ctx.write():
        resource = resource_from_row(insert.tuples().execute(ctx.db)[0])
        events.record(
            ctx,
            action=Action.RESOURCE_ADD,
            entity="resource",
            entity_id=resource.id,
            resource_id=resource.id,
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
        with naming("name"):
            changes["name"] = validate.name(name)
    if resource_type is not None:
        with naming("type"):
            changes["type"] = validate.resource_type(resource_type)
    if description is not None:
        with naming("description"):
            changes["description"] = validate.text(description, "description", required=False)
    if not changes:
        raise invalid("nothing to change: give a new name, type or description")
    resource = _update(ctx, resource_id, lambda: changes.get("name"), **changes)
    return resource


def update_resource(
    ctx: Context,
    resource_id: int,
    *,
    name: str | None = None,
    resource_type: str | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> Resource:
    """The fields given and the active flag in one transaction: a refused activation (its
    name taken by another active resource) leaves the edit undone as well."""
    with ctx.write():
        resource = get_resource(ctx, resource_id)
        if name is None and resource_type is None and description is None and active is None:
            raise invalid("nothing to change: give a name, type, description or is_active")
        if name is not None or resource_type is not None or description is not None:
            resource = edit_resource(ctx, resource_id, name, resource_type, description)
        if active is not None and active != resource.is_active:
            resource = set_active(ctx, resource_id, active)
    return resource


def set_active(ctx: Context, resource_id: int, active: bool) -> Resource:
    """Activate or deactivate; an inactive resource takes no new holds."""
    resource_id = validate.ident(resource_id, "resource")
    return _update(ctx, resource_id, lambda: _name_of(ctx, resource_id), is_active=active)


def _update(
    ctx: Context, resource_id: int, refused_name: Callable[[], str | None], **changes: Any
) -> Resource:
    """Change one live resource and write the event that says what changed."""
    differs: peewee.ColumnBase
    if "is_active" in changes:
        action = Action.RESOURCE_ACTIVATE if changes["is_active"] else Action.RESOURCE_DEACTIVATE
        details, differs = None, peewee.Value(True)
    else:
        action, details, differs = Action.RESOURCE_EDIT, changes, _differs(changes)
    query = (
        Row.update(**touched(ctx.dialect, **changes))
        .where((Row.id == resource_id) & Row.live() & differs)
        .returning(*RESOURCE_FIELDS)
        .tuples()
    )
    with _one_active_name(ctx, refused_name, resource_id), ctx.write():
        row = next(iter(query.execute(ctx.db)), None)
        if row is None:
            # Not there, or an edit to the values it has: no write and no event (an
            # audit trail of edits that changed nothing hides the ones that did).
            return get_resource(ctx, resource_id)
        events.record(
            ctx,
            action=action,
            entity="resource",
            entity_id=resource_id,
            resource_id=resource_id,
            details=details,
        )
    return resource_from_row(row)


def _differs(changes: dict[str, Any]) -> peewee.ColumnBase:
    """Any of ``changes`` differs from the row (a description is None or text, never
    empty, so COALESCE tells None from text on either dialect)."""
    unlike = [
        fn.COALESCE(getattr(Row, field), "") != (value or "")
        if field == "description"
        else getattr(Row, field) != value
        for field, value in changes.items()
    ]
    return functools.reduce(operator.or_, unlike)


def _name_of(ctx: Context, resource_id: int) -> str | None:
    with ctx.read():
        name: str | None = Row.select(Row.name).where(Row.id == resource_id).scalar(ctx.db)
    return name
