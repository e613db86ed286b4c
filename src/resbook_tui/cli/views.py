"""How records read in a table: the columns of each list, with and without ``--wide``.

Resources are shown by name. Long columns (tokens, descriptions, details, full
timestamps) appear only with ``--wide``, so the default fits 80 columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..booking import Allocation, Blackout, Cell, Event, Hold, Resource
from ..fields import to_utc
from .table import Column

Row = Sequence[Any]


def full_time(value: datetime) -> str:
    """``2026-11-30 22:35:06`` in UTC."""
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S}"


def short_time(value: datetime) -> str:
    """``11-30 22:35:06`` in UTC: the year is in --wide."""
    return f"{value.astimezone(UTC):%m-%d %H:%M:%S}"


def span(seconds: float) -> str:
    """A duration in at most two units: ``45s``, ``14m``, ``2h05m``, ``3d04h``, ``12d``."""
    s = int(abs(seconds))
    if s < 60:
        return f"{s}s"
    minutes = s // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h" if days < 10 else f"{days}d"


def status(hold: Hold, now: datetime) -> str:
    """``ACTIVE, expires in 14m``, ``EXPIRED 3h ago``, ``CONFIRMED``."""
    if hold.status == "ACTIVE":
        return f"ACTIVE, expires {expires(hold, now)}"
    if hold.status == "EXPIRED":
        return f"EXPIRED {expires(hold, now)}"
    return hold.status


def expires(hold: Hold, now: datetime) -> str:
    """When an open hold runs out (``in 14m``) or an expired one did (``3h ago``)."""
    if hold.status not in ("ACTIVE", "EXPIRED"):
        return "-"
    left = (hold.expires_at - now).total_seconds()
    return f"in {span(left)}" if left > 0 else f"{span(left)} ago"


def named(names: Mapping[int, str], resource_id: int | None) -> str:
    if resource_id is None:
        return ""
    return names.get(resource_id, f"#{resource_id}")


# ---- holds ----------------------------------------------------------------------------------

HOLD_COLUMNS = [
    Column("id", right=True),
    Column("resource", flex=True),
    Column("date"),
    Column("qty", right=True, drop=2),
    Column("email", flex=True),
    Column("status", drop=1),
    Column("expires", drop=3),
]
HOLD_WIDE = [Column("expires at (utc)"), Column("token", flex=True)]


def hold_columns(wide: bool) -> list[Column]:
    return HOLD_COLUMNS + (HOLD_WIDE if wide else [])


def hold_row(h: Hold, names: Mapping[int, str], now: datetime, wide: bool) -> Row:
    row: list[Any] = [
        h.id,
        named(names, h.resource_id),
        h.date,
        h.quantity,
        h.customer_email,
        h.status,
        expires(h, now),
    ]
    if wide:
        row += [full_time(h.expires_at), h.token]
    return row


# ---- allocations ----------------------------------------------------------------------------

ALLOCATION_COLUMNS = [
    Column("id", right=True),
    Column("resource", flex=True),
    Column("date"),
    Column("qty", right=True),
    Column("order", flex=True),
    Column("line item", flex=True),
    Column("hold", right=True),
]


def allocation_columns(wide: bool) -> list[Column]:
    return ALLOCATION_COLUMNS + ([Column("created (utc)")] if wide else [])


def allocation_row(a: Allocation, names: Mapping[int, str], wide: bool) -> Row:
    row: list[Any] = [
        a.id,
        named(names, a.resource_id),
        a.date,
        a.quantity,
        a.order_id,
        a.line_item_id,
        a.hold_id,
    ]
    if wide:
        row.append(full_time(a.created_at))
    return row


# ---- resources, blackouts, availability -----------------------------------------------------


def resource_columns(wide: bool) -> list[Column]:
    columns = [
        Column("id", right=True),
        Column("name", flex=True),
        Column("type"),
        Column("active"),
    ]
    if wide:
        columns += [Column("updated (utc)"), Column("description", flex=True)]
    return columns


def resource_row(r: Resource, wide: bool) -> Row:
    row: list[Any] = [r.id, r.name, r.type, "yes" if r.is_active else "no"]
    if wide:
        row += [full_time(r.updated_at), r.description]
    return row


def blackout_columns(wide: bool) -> list[Column]:
    columns = [
        Column("id", right=True),
        Column("resource", flex=True),
        Column("from"),
        Column("to"),
        Column("reason", flex=True),
    ]
    return columns + ([Column("created (utc)")] if wide else [])


def blackout_row(b: Blackout, names: Mapping[int, str], wide: bool) -> Row:
    row: list[Any] = [b.id, named(names, b.resource_id), b.start_date, b.end_date, b.reason]
    if wide:
        row.append(full_time(b.created_at))
    return row


def availability_columns(wide: bool) -> list[Column]:
    columns = [
        Column("resource", flex=True),
        Column("date"),
        Column("max", right=True),
        Column("free", right=True),
        Column("held", right=True),
        Column("booked", right=True),
        Column("blackout", flex=True),
    ]
    return (
        ([Column("res id", right=True)] if wide else [])
        + columns
        + ([Column("used", right=True)] if wide else [])
    )


def availability_row(c: Cell, names: Mapping[int, str], wide: bool) -> Row:
    row: list[Any] = [
        named(names, c.resource_id),
        c.date,
        c.max_capacity,
        c.available,
        c.held,
        c.allocated,
        c.blackout,
    ]
    if wide:
        row = [c.resource_id, *row, f"{c.utilisation:.0%}"]
    return row


# ---- a hold's history and the audit trail ----------------------------------------------------


HISTORY_COLUMNS = [
    Column("time (utc)"),
    Column("action"),
    Column("actor", flex=True),
    Column("details", flex=True),
]


def history_row(e: Event, wide: bool) -> Row:
    when = full_time(e.occurred_at) if wide else short_time(e.occurred_at)
    return [when, e.action, e.actor, details(e)]


def event_columns(wide: bool) -> list[Column]:
    columns = [
        Column("time (utc)"),
        Column("event"),
        Column("resource", flex=True),
        Column("date"),
        Column("email", flex=True),
    ]
    if wide:
        columns = [Column("#", right=True), *columns, Column("actor"), Column("details", flex=True)]
    return columns


def what(e: Event) -> str:
    """``hold.confirm 1342``: the action and the id of what it acted on."""
    ident = "" if e.entity_id is None else f" {e.entity_id}"
    if e.action.startswith(f"{e.entity}."):
        return f"{e.action}{ident}"
    return f"{e.action} {e.entity}{ident}"


def dates(e: Event, wide: bool = False) -> str:
    """``2026-12-06``, or a range: ``2026-12-06..12-07`` (the year once when it is the same)."""
    if e.date_from is None:
        return ""
    if e.date_to is None or e.date_to == e.date_from:
        return e.date_from.isoformat()
    if e.date_to.year == e.date_from.year and not wide:
        return f"{e.date_from}..{e.date_to:%m-%d}"
    return f"{e.date_from}..{e.date_to}"


def details(e: Event) -> str:
    """``quantity=2, expires_at=2026-11-30 22:35:06``: times in details read as in tables."""
    return ", ".join(f"{k}={_detail(k, v)}" for k, v in sorted(e.details.items()))


def _detail(key: str, value: Any) -> Any:
    if key.endswith("_at") and isinstance(value, str):
        try:
            moment = to_utc(value)
        except ValueError:
            return value
        if moment is not None:
            return full_time(moment)
    return value


def event_row(e: Event, names: Mapping[int, str], wide: bool) -> Row:
    when = full_time(e.occurred_at) if wide else short_time(e.occurred_at)
    row: list[Any] = [when, what(e), named(names, e.resource_id), dates(e, wide), e.customer_email]
    if wide:
        row = [e.id, *row, e.actor, details(e)]
    return row


def event_room(wide: bool) -> dict[str, int]:
    """A followed stream is laid out before its rows exist: room for typical values."""
    return {"time (utc)": 19 if wide else 14, "event": 17, "resource": 16, "date": 10, "email": 24}
