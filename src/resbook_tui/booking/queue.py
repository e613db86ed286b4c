"""Reading the hold queue a page at a time: what a screen showing a season's holds needs.

A screen never reads the whole queue: it counts the holds a filter matches, reads the
page around what it shows (``hold_page``), and after a change reads only the holds the
change named (``get_holds``). ACTIVE holds come soonest expiry first; any other status,
or all of them, newest first, which is what a person looking back wants.
"""

from __future__ import annotations

from collections.abc import Sequence

import peewee

from ..models import SHOWN_HOLD_FIELDS
from ..models import ResourceHold as Row
from . import search, validate
from .context import Context, where
from .context import api as _api
from .errors import invalid
from .records import Hold
from .rows import hold_from_row

MAX_PAGE = 1_000  # rows one page may hold
MAX_IDS = 1_000  # holds one get_holds may name


def _filters(status: str | None, email_contains: str | None) -> list[peewee.ColumnBase | None]:
    status = validate.hold_status(status) if status else None
    email_contains = validate.email_filter(email_contains)
    return [
        (Row.status == status) if status else None,
        search.matching(Row.customer_email, email_contains),
    ]


def _order(status: str | None) -> tuple[peewee.Ordering, ...]:
    if status == "ACTIVE":
        return (Row.expires_at.asc(), Row.id.asc())
    return (Row.id.desc(),)


def count_holds(ctx: Context, *, status: str | None, email_contains: str | None) -> int:
    query = where(Row.select(peewee.fn.COUNT(Row.id)), *_filters(status, email_contains))
    with ctx.read():
        return int(query.scalar(ctx.db) or 0)


def hold_page(
    ctx: Context, *, status: str | None, email_contains: str | None, offset: int, limit: int
) -> list[Hold]:
    offset = validate.whole(offset, "offset", 0, validate.INT32_MAX)
    limit = validate.whole(limit, "limit", 1, MAX_PAGE)
    query = (
        where(Row.select(*SHOWN_HOLD_FIELDS), *_filters(status, email_contains))
        .order_by(*_order(status.upper() if status else None))
        .offset(offset)
        .limit(limit)
    )
    with ctx.read():
        return [hold_from_row(r) for r in query.tuples().execute(ctx.db)]


def get_holds(ctx: Context, hold_ids: Sequence[int]) -> list[Hold]:
    ids = sorted(set(validate.idents(hold_ids, "hold") or []))
    if len(ids) > MAX_IDS:
        raise invalid(f"at most {MAX_IDS} holds at once, not {len(ids)}")
    if not ids:
        return []
    query = Row.select(*SHOWN_HOLD_FIELDS).where(Row.id.in_(ids)).order_by(Row.id)
    with ctx.read():
        return [hold_from_row(r) for r in query.tuples().execute(ctx.db)]


class QueueReads:
    """The Booking facade's queue-reading calls (a mixin: Booking is the class to use)."""

    ctx: Context

    @_api
    def count_holds(self, *, status: str | None = None, email_contains: str | None = None) -> int:
        """How many holds have ``status`` (None: any) and an email containing the text."""
        return count_holds(self.ctx, status=status, email_contains=email_contains)

    @_api
    def hold_page(
        self,
        *,
        status: str | None = None,
        email_contains: str | None = None,
        offset: int = 0,
        limit: int = 200,
    ) -> list[Hold]:
        """``limit`` holds from position ``offset`` in the queue's order: ACTIVE soonest
        expiry first, any other status (or all) newest first."""
        return hold_page(
            self.ctx, status=status, email_contains=email_contains, offset=offset, limit=limit
        )

    @_api
    def get_holds(self, hold_ids: Sequence[int]) -> list[Hold]:
        """These holds, by id order; ids that do not exist are left out."""
        return get_holds(self.ctx, hold_ids)
