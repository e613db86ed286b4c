"""The Booking facade: the one object interfaces and the shop backend talk to.

    bk = Booking.connect("postgresql://localhost/resbook")
    hold = bk.create_hold(resource_id, date, quantity=2, email="ana@example.com", token="cart-42")
    alloc = bk.confirm_hold(hold.id, order_id="order_1", line_item_id="li_1")

Every method either does all it says in one transaction (with its audit event) or
raises BookingError with a ``code`` and changes nothing. Nothing else comes out of it:
database trouble is a DatabaseError (or BookingError 'busy' for a lock or statement
timeout), never a driver's exception, and bad input of any type or size is
BookingError('invalid_input').
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import peewee

from ..config import default_actor, default_hold_ttl_minutes
from ..db import cancel_statements, describe, dialect, open_database
from ..schema.migrations import require_current_schema
from . import (
    allocations,
    blackouts,
    capacity,
    events,
    holds,
    lifecycle,
    resources,
    rows,
    sweep,
    validate,
)
from .archive import ArchiveCalls
from .context import Context
from .context import api as _api
from .queue import QueueReads
from .records import (
    Allocation,
    Blackout,
    BlackoutResult,
    CapacityChange,
    Cell,
    Event,
    Hold,
    Resource,
    SweepResult,
)
from .shop import ShopApi


class Booking(ShopApi, QueueReads, ArchiveCalls):
    """See the module's docstring; the shop's calls are in shop.py, reading the hold queue
    a page at a time in queue.py, archiving the audit trail in archive.py."""

    def __init__(
        self,
        db: peewee.Database,
        *,
        actor: str | None = None,
        ttl_minutes: int | None = None,
        check_schema: bool = True,
    ) -> None:
        self.db = db
        who = default_actor() if actor is None else validate.required_text(actor, "actor")
        ttl = default_hold_ttl_minutes() if ttl_minutes is None else ttl_minutes
        self.ctx = Context(db, who, validate.minutes(ttl, "TTL minutes"))
        if check_schema:
            self.ctx.call(lambda: require_current_schema(db))

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        read_only: bool = False,
        actor: str | None = None,
        ttl_minutes: int | None = None,
    ) -> Booking:
        """Open the database ``url`` names; a SQLite file that does not exist is refused
        (DatabaseError), never created."""
        db = open_database(url, read_only=read_only, create=False)
        return cls(db, actor=actor, ttl_minutes=ttl_minutes)

    def close(self) -> None:
        self.db.close()

    def cancel_running(self, thread_id: int | None = None) -> int:
        """Stop what this Booking's connections are running, from any thread.

        Safe to call from a thread other than the one running the statement (the TUI's
        UI thread, on quit, while a worker waits on a lock): on PostgreSQL the server
        cancels the statement (psycopg2 ``connection.cancel()``), on SQLite it is
        interrupted. The interrupted call raises DatabaseError ("statement cancelled")
        and its transaction is rolled back. ``thread_id`` (``threading.get_ident()`` of
        the worker) picks one thread's connection; None means all of them. Returns how
        many connections were asked to stop.
        """
        return cancel_statements(self.db, thread_id)

    @property
    def dialect(self) -> str:
        return dialect(self.db)

    @property
    def description(self) -> str:
        """The masked URL: safe to show."""
        return describe(self.db)

    @property
    def actor(self) -> str:
        """Who this session's audit events are attributed to."""
        return self.ctx.actor

    @property
    def read_only(self) -> bool:
        return bool(getattr(self.db, "resbook_read_only", False))

    @_api
    def today(self) -> date:
        """Today by the database clock (UTC)."""
        with self.ctx.read():
            return rows.day(self.ctx.value(self.ctx.dialect.today()))

    @_api
    def now(self) -> datetime:
        """Now by the database clock, aware UTC: what hold expiry is measured against."""
        with self.ctx.read():
            return rows.moment(self.ctx.value(self.ctx.dialect.now()))

    # ---- resources ----------------------------------------------------------------------

    @_api
    def list_resources(
        self,
        *,
        resource_type: str | None = None,
        active: bool | None = None,
        search: str | None = None,
    ) -> list[Resource]:
        return resources.list_resources(self.ctx, resource_type, active, search)

    @_api
    def get_resource(self, resource_id: int) -> Resource:
        return resources.get_resource(self.ctx, resource_id)

    @_api
    def resolve_resource(self, ref: int | str) -> Resource:
        """The resource an id or an exact name (any case) refers to; digits are an id.

        Raises BookingError: ``not_found`` for an unknown id or name, ``invalid_input``
        when several (inactive) resources share the name, listing their ids.
        """
        return resources.resolve_resource(self.ctx, ref)

    @_api
    def resource_names(self) -> dict[int, str]:
        """Every resource's name by id, deleted ones included."""
        return resources.resource_names(self.ctx)

    @_api
    def add_resource(
        self,
        name: str,
        resource_type: str,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Resource:
        return resources.add_resource(self.ctx, name, resource_type, description, metadata)

    @_api
    def edit_resource(
        self,
        resource_id: int,
        name: str | None = None,
        resource_type: str | None = None,
        description: str | None = None,
    ) -> Resource:
        return resources.edit_resource(self.ctx, resource_id, name, resource_type, description)

    @_api
    def activate(self, resource_id: int) -> Resource:
        return resources.set_active(self.ctx, resource_id, True)

    @_api
    def deactivate(self, resource_id: int) -> Resource:
        return resources.set_active(self.ctx, resource_id, False)

    # ---- capacity and blackouts ------------------------------------------------------------

    @_api
    def set_capacity(
        self, resource_id: int, date_from: date | str, date_to: date | str | None, max_capacity: int
    ) -> CapacityChange:
        return capacity.set_capacity(self.ctx, resource_id, date_from, date_to, max_capacity)

    @_api
    def set_capacities(
        self,
        resource_ids: Sequence[int],
        date_from: date | str,
        date_to: date | str | None,
        max_capacity: int,
    ) -> list[CapacityChange]:
        """``set_capacity`` for several resources at once, all or nothing."""
        return capacity.set_capacities(self.ctx, resource_ids, date_from, date_to, max_capacity)

    @_api
    def availability(
        self,
        date_from: date | str,
        date_to: date | str,
        *,
        resource_id: int | None = None,
        resource_type: str | None = None,
        resource_ids: Sequence[int] | None = None,
    ) -> list[Cell]:
        return capacity.availability(
            self.ctx, date_from, date_to, resource_id, resource_type, resource_ids
        )

    @_api
    def add_blackout(
        self, resource_id: int, date_from: date | str, date_to: date | str | None, reason: str
    ) -> BlackoutResult:
        return blackouts.add_blackout(self.ctx, resource_id, date_from, date_to, reason)

    @_api
    def remove_blackout(self, blackout_id: int) -> Blackout:
        return blackouts.remove_blackout(self.ctx, blackout_id)

    @_api
    def list_blackouts(
        self,
        resource_id: int | None = None,
        *,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> list[Blackout]:
        return blackouts.list_blackouts(self.ctx, resource_id, date_from, date_to)

    # ---- holds and allocations ------------------------------------------------------------

    @_api
    def create_hold(
        self,
        resource_id: int,
        date: date | str,
        quantity: int,
        email: str,
        *,
        token: str | None = None,
        ttl_minutes: int | None = None,
    ) -> Hold:
        only = holds.create_holds(
            self.ctx, resource_id, date, None, quantity, email, token=token, ttl_minutes=ttl_minutes
        )
        return only[0]

    @_api
    def create_holds(
        self,
        resource_id: int,
        date_from: date | str,
        date_to: date | str,
        quantity: int,
        email: str,
        *,
        token: str | None = None,
        ttl_minutes: int | None = None,
    ) -> list[Hold]:
        """One hold per date of the range, all or nothing."""
        return holds.create_holds(
            self.ctx,
            resource_id,
            date_from,
            date_to,
            quantity,
            email,
            token=token,
            ttl_minutes=ttl_minutes,
        )

    @_api
    def confirm_hold(self, hold_id: int, order_id: str, line_item_id: str) -> Allocation:
        return lifecycle.confirm_hold(
            self.ctx, hold_id, order_id=order_id, line_item_id=line_item_id
        )

    @_api
    def release_hold(self, hold_id: int) -> Hold:
        return lifecycle.release_hold(self.ctx, hold_id)

    @_api
    def extend_hold(self, hold_id: int, minutes: int) -> Hold:
        return lifecycle.extend_hold(self.ctx, hold_id, minutes)

    @_api
    def get_hold(self, hold_id: int) -> Hold:
        return holds.get_hold(self.ctx, hold_id)

    @_api
    def list_holds(
        self,
        *,
        email: str | None = None,
        status: str | None = None,
        resource_id: int | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        limit: int | None = None,
        email_contains: str | None = None,
    ) -> list[Hold]:
        """``email`` matches the whole address, ``email_contains`` any part of it."""
        return holds.list_holds(
            self.ctx,
            email=email,
            status=status,
            resource_id=resource_id,
            date_from=date_from,
            date_to=date_to,
            limit=limit,
            email_contains=email_contains,
        )

    @_api
    def cancel_allocation(self, allocation_id: int) -> Allocation:
        return allocations.cancel_allocation(self.ctx, allocation_id)

    @_api
    def get_allocation(self, allocation_id: int) -> Allocation:
        return allocations.get_allocation(self.ctx, allocation_id)

    @_api
    def list_allocations(
        self,
        *,
        order_id: str | None = None,
        resource_id: int | None = None,
        email: str | None = None,
        limit: int | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        email_contains: str | None = None,
    ) -> list[Allocation]:
        return allocations.list_allocations(
            self.ctx,
            order_id=order_id,
            resource_id=resource_id,
            email=email,
            limit=limit,
            date_from=date_from,
            date_to=date_to,
            email_contains=email_contains,
        )

    # ---- sweep and audit --------------------------------------------------------------------

    @_api
    def sweep(self, *, batch_size: int = sweep.DEFAULT_BATCH, dry_run: bool = False) -> SweepResult:
        return sweep.sweep(self.ctx, batch_size, dry_run=dry_run)

    @_api
    def events(
        self,
        *,
        resource_id: int | None = None,
        email: str | None = None,
        action: str | None = None,
        entity: str | None = None,
        entity_id: int | None = None,
        after_id: int = 0,
        limit: int | None = 200,
        email_contains: str | None = None,
        oldest_first: bool = False,
    ) -> list[Event]:
        return events.list_events(
            self.ctx,
            resource_id=resource_id,
            email=email,
            action=action,
            entity=entity,
            entity_id=entity_id,
            after_id=after_id,
            limit=limit,
            email_contains=email_contains,
            oldest_first=oldest_first,
        )

    @_api
    def hold_history(self, hold_id: int) -> list[Event]:
        """Every event about one hold, oldest first, with those of the allocation it became
        (so a cancelled booking's cancellation shows in its hold's history)."""
        self.get_hold(hold_id)
        return events.hold_history(self.ctx, hold_id)
