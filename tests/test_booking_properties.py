"""Random sequences of booking operations against a small in-memory model (SQLite).

Each example gets a fresh, migrated SQLite file. After every step the database must agree
with the model on every cell (max, available, held, allocated), every hold's status, and
the number of audit events; every refusal must carry the code the model predicts.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from booking_helpers import expire
from resbook_tui.booking import Booking, BookingError, Hold
from resbook_tui.db import open_database
from resbook_tui.schema.migrations import Migrator

DAYS = 4  # capacity rows on days 0..DAYS-1; day DAYS has none until set_capacity makes it
RESOURCES = 2
EMAILS = ["ana@x.io", "ANA@x.io", "bob@x.io"]
TOKENS = [None, None, "t1", "t2", "t3"]
MISSING = 10**6

resource_index = st.integers(0, RESOURCES - 1)
day_index = st.integers(0, DAYS)
pick = st.integers(0, 10**6)


@dataclass
class MHold:
    resource: int  # index
    day: int
    quantity: int
    status: str = "ACTIVE"
    expired: bool = False


@dataclass
class MRequest:
    """What a token was first used for."""

    resource: int
    first: int
    last: int
    quantity: int
    email: str
    hold_ids: list[int]


def note(label: str) -> None:
    """Count an outcome in --hypothesis-show-statistics (outside a test, do nothing)."""
    if currently_in_test_context():
        event(label)


class BookingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="resbook-prop-"))
        self.db = open_database(f"sqlite:///{self.tmp / 'p.db'}")
        Migrator(self.db).up()
        self.bk = Booking(self.db, actor="prop")

    def teardown(self) -> None:
        self.db.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    @initialize(capacity=st.integers(1, 5))
    def setup(self, capacity: int) -> None:
        self.first = self.bk.today() + timedelta(days=1)
        self.rids = []
        self.active = [True] * RESOURCES
        self.cells: dict[tuple[int, int], list[int]] = {}  # (r, day) -> [max, available]
        for r in range(RESOURCES):
            self.rids.append(self.bk.add_resource(f"R{r}", "VEHICLE").id)
            self.bk.set_capacity(self.rids[r], self.day(0), self.day(DAYS - 1), capacity)
            for n in range(DAYS):
                self.cells[(r, n)] = [capacity, capacity]
        self.events = 2 * RESOURCES
        self.holds: dict[int, MHold] = {}
        self.allocations: dict[int, int] = {}  # allocation id -> hold id
        self.blackouts: dict[int, tuple[int, int, int]] = {}  # id -> (r, first, last)
        self.tokens: dict[str, MRequest] = {}

    # ---- helpers ------------------------------------------------------------------------

    def day(self, n: int) -> date:
        return self.first + timedelta(days=n)

    def blacked_out(self, r: int, n: int) -> bool:
        return any(br == r and a <= n <= b for br, a, b in self.blackouts.values())

    def refusal(self, r: int, n: int, quantity: int) -> str | None:
        """Why one date cannot take ``quantity`` units now, in the engine's order."""
        if not self.active[r]:
            return "inactive_resource"
        if self.blacked_out(r, n):
            return "blackout"
        cell = self.cells.get((r, n))
        if cell is None or cell[1] < quantity:
            return "no_capacity"
        return None

    def expect_refusal(self, code: str, call) -> None:  # noqa: ANN001
        note(f"refused: {code}")
        with pytest.raises(BookingError) as info:
            call()
        assert info.value.code == code, f"expected {code}, got {info.value.code}: {info.value}"

    def hold_id(self, i: int) -> int:
        ids = sorted(self.holds)
        return ids[i % len(ids)] if ids else MISSING

    # ---- rules --------------------------------------------------------------------------

    @rule(
        r=resource_index,
        n=st.integers(0, DAYS - 1) | day_index,
        quantity=st.sampled_from([1, 2, 3, 0]),
        email=st.sampled_from(EMAILS),
        token=st.sampled_from(TOKENS),
    )
    def create_one(self, r: int, n: int, quantity: int, email: str, token) -> None:  # noqa: ANN001
        """create_hold: one date."""

        def call() -> list[Hold]:
            return [self.bk.create_hold(self.rids[r], self.day(n), quantity, email, token=token)]

        self.create(r, n, n, quantity, email, token, call)

    @rule(
        r=resource_index,
        first=day_index,
        length=st.integers(1, 3),
        quantity=st.integers(0, 2),
        email=st.sampled_from(EMAILS),
        token=st.sampled_from(TOKENS),
    )
    def create_range(
        self, r: int, first: int, length: int, quantity: int, email: str, token
    ) -> None:  # noqa: ANN001
        """create_holds: every date of a range, all or nothing."""
        last = first + length - 1

        def call() -> list[Hold]:
            return self.bk.create_holds(
                self.rids[r], self.day(first), self.day(last), quantity, email, token=token
            )

        self.create(r, first, last, quantity, email, token, call)

    def create(self, r, first, last, quantity, email, token, call) -> None:  # noqa: ANN001
        if quantity < 1:
            return self.expect_refusal("invalid_input", call)
        if token is not None and token in self.tokens:
            before = self.tokens[token]
            if (before.resource, before.first, before.last, before.quantity, before.email) == (
                r,
                first,
                last,
                quantity,
                email.lower(),
            ):
                holds = call()
                assert [h.id for h in holds] == before.hold_ids
                assert all(h.replay for h in holds)
                note("ok: replay")
                return None
            return self.expect_refusal("token_conflict", call)
        for n in range(first, last + 1):
            code = self.refusal(r, n, quantity)
            if code is not None:
                return self.expect_refusal(code, call)
        holds = call()
        assert [h.date for h in holds] == [self.day(n) for n in range(first, last + 1)]
        for n, h in zip(range(first, last + 1), holds, strict=True):
            assert (h.quantity, h.status, h.replay, h.customer_email) == (
                quantity,
                "ACTIVE",
                False,
                email.lower(),
            )
            self.holds[h.id] = MHold(r, n, quantity)
            self.cells[(r, n)][1] -= quantity
        self.events += len(holds)
        note("ok: create")
        if token is not None:
            self.tokens[token] = MRequest(
                r, first, last, quantity, email.lower(), [h.id for h in holds]
            )
        return None

    @precondition(lambda self: self.holds)
    @rule(i=pick)
    def confirm(self, i: int) -> None:
        hold_id = self.hold_id(i)
        call = lambda: self.bk.confirm_hold(hold_id, f"order-{hold_id}", "li")  # noqa: E731
        h = self.holds.get(hold_id)
        if h is None:
            return self.expect_refusal("not_found", call)
        if h.status != "ACTIVE":
            return self.expect_refusal("invalid_state", call)
        if h.expired:
            return self.expect_refusal("expired", call)
        alloc = call()
        assert (alloc.hold_id, alloc.quantity, alloc.date) == (hold_id, h.quantity, self.day(h.day))
        h.status = "CONFIRMED"
        self.allocations[alloc.id] = hold_id
        note("ok: confirm")
        self.events += 1
        return None

    @precondition(lambda self: self.holds)
    @rule(i=pick)
    def release(self, i: int) -> None:
        hold_id = self.hold_id(i)
        call = lambda: self.bk.release_hold(hold_id)  # noqa: E731
        h = self.holds.get(hold_id)
        if h is None:
            return self.expect_refusal("not_found", call)
        if h.status != "ACTIVE":
            return self.expect_refusal("invalid_state", call)
        assert call().status == "RELEASED"
        h.status = "RELEASED"
        note("ok: release")
        self.cells[(h.resource, h.day)][1] += h.quantity
        self.events += 1
        return None

    @precondition(lambda self: self.holds)
    @rule(i=pick, minutes=st.integers(1, 60))
    def extend(self, i: int, minutes: int) -> None:
        hold_id = self.hold_id(i)
        call = lambda: self.bk.extend_hold(hold_id, minutes)  # noqa: E731
        h = self.holds.get(hold_id)
        if h is None:
            return self.expect_refusal("not_found", call)
        if h.status != "ACTIVE":
            return self.expect_refusal("invalid_state", call)
        if h.expired:
            return self.expect_refusal("expired", call)
        before = self.bk.get_hold(hold_id).expires_at
        assert call().expires_at - before == timedelta(minutes=minutes)
        note("ok: extend")
        self.events += 1
        return None

    @precondition(lambda self: self.holds)
    @rule(i=pick)
    def time_passes_for(self, i: int) -> None:
        """One hold's expiry moves into the past (what waiting 30 minutes would do)."""
        hold_id = self.hold_id(i)
        if hold_id in self.holds:
            expire(self.bk, hold_id)
            self.holds[hold_id].expired = True

    @rule(batch_size=st.integers(1, 4), dry_run=st.booleans())
    def sweep(self, batch_size: int, dry_run: bool) -> None:
        due = [h for h in self.holds.values() if h.status == "ACTIVE" and h.expired]
        result = self.bk.sweep(batch_size=batch_size, dry_run=dry_run)
        assert result.expired_holds == len(due)
        assert result.returned_units == sum(h.quantity for h in due)
        assert result.cells == len({(h.resource, h.day) for h in due})
        assert result.dry_run is dry_run
        if dry_run:
            assert result.batches == 0
            return
        assert result.batches == (len(due) // batch_size + (len(due) % batch_size > 0))
        for h in due:
            h.status = "EXPIRED"
            self.cells[(h.resource, h.day)][1] += h.quantity
        self.events += len(due)
        note(f"ok: sweep expired {min(len(due), 3)}+")

    @precondition(lambda self: self.allocations)
    @rule(i=pick)
    def cancel(self, i: int) -> None:
        ids = sorted(self.allocations)
        alloc_id = ids[i % len(ids)] if ids and i % 4 else MISSING
        call = lambda: self.bk.cancel_allocation(alloc_id)  # noqa: E731
        if alloc_id not in self.allocations:
            return self.expect_refusal("not_found", call)
        h = self.holds[self.allocations.pop(alloc_id)]
        assert call().quantity == h.quantity
        note("ok: cancel")
        self.cells[(h.resource, h.day)][1] += h.quantity
        self.events += 1
        return None

    @rule(r=resource_index, first=day_index, length=st.integers(1, 2), new_max=st.integers(0, 6))
    def set_capacity(self, r: int, first: int, length: int, new_max: int) -> None:
        days = range(first, first + length)
        call = lambda: self.bk.set_capacity(  # noqa: E731
            self.rids[r], self.day(days[0]), self.day(days[-1]), new_max
        )
        existing = [self.cells[(r, n)] for n in days if (r, n) in self.cells]
        if any(new_max < m - a for m, a in existing):
            return self.expect_refusal("no_capacity", call)
        change = call()
        assert (change.updated, change.created) == (len(existing), length - len(existing))
        note("ok: set_capacity")
        for n in days:
            cell = self.cells.setdefault((r, n), [new_max, new_max])
            cell[1] += new_max - cell[0]
            cell[0] = new_max
        self.events += 1
        return None

    @rule(r=resource_index, first=day_index, length=st.integers(1, 2))
    def add_blackout(self, r: int, first: int, length: int) -> None:
        last = first + length - 1
        result = self.bk.add_blackout(self.rids[r], self.day(first), self.day(last), "x")
        inside = sorted(
            hid
            for hid, h in self.holds.items()
            if h.resource == r and first <= h.day <= last and h.status == "ACTIVE"
        )
        assert sorted(h.id for h in result.active_holds) == inside
        allocated = sorted(
            a
            for a, hid in self.allocations.items()
            if self.holds[hid].resource == r and first <= self.holds[hid].day <= last
        )
        assert sorted(a.id for a in result.allocations) == allocated
        self.blackouts[result.blackout.id] = (r, first, last)
        self.events += 1

    @precondition(lambda self: self.blackouts)
    @rule(i=pick)
    def remove_blackout(self, i: int) -> None:
        ids = sorted(self.blackouts)
        blackout_id = ids[i % len(ids)] if ids and i % 4 else MISSING
        call = lambda: self.bk.remove_blackout(blackout_id)  # noqa: E731
        if blackout_id not in self.blackouts:
            return self.expect_refusal("not_found", call)
        call()
        del self.blackouts[blackout_id]
        self.events += 1
        return None

    @rule(r=resource_index, active=st.booleans())
    def set_active(self, r: int, active: bool) -> None:
        resource = (self.bk.activate if active else self.bk.deactivate)(self.rids[r])
        assert resource.is_active is active
        self.active[r] = active
        self.events += 1

    @rule(verb=st.sampled_from(["confirm", "release", "extend", "get", "history"]))
    def unknown_hold(self, verb: str) -> None:
        call = {
            "confirm": lambda: self.bk.confirm_hold(MISSING, "o", "li"),
            "release": lambda: self.bk.release_hold(MISSING),
            "extend": lambda: self.bk.extend_hold(MISSING, 5),
            "get": lambda: self.bk.get_hold(MISSING),
            "history": lambda: self.bk.hold_history(MISSING),
        }[verb]
        self.expect_refusal("not_found", call)

    # ---- what must always hold ---------------------------------------------------------------

    @invariant()
    def cells_agree(self) -> None:
        if not hasattr(self, "cells"):
            return
        held: dict[tuple[int, int], int] = {}
        allocated: dict[tuple[int, int], int] = {}
        for hid, h in self.holds.items():
            key = (h.resource, h.day)
            if h.status == "ACTIVE":
                held[key] = held.get(key, 0) + h.quantity
            if h.status == "CONFIRMED" and hid in self.allocations.values():
                allocated[key] = allocated.get(key, 0) + h.quantity
        got = {
            (self.rids.index(c.resource_id), (c.date - self.first).days): (
                c.max_capacity,
                c.available,
                c.held,
                c.allocated,
            )
            for c in self.bk.availability(self.day(0), self.day(DAYS + 1))
        }
        want = {
            key: (m, a, held.get(key, 0), allocated.get(key, 0))
            for key, (m, a) in self.cells.items()
        }
        assert got == want
        for m, a, h, al in got.values():
            assert a >= 0 and m == a + h + al

    @invariant()
    def holds_agree(self) -> None:
        if not hasattr(self, "cells"):
            return
        got = {h.id: h.status for h in self.bk.list_holds()}
        # A confirmed hold whose allocation was cancelled reads CANCELLED (its row stays
        # CONFIRMED, as the model's does).
        booked = set(self.allocations.values())
        shown = {
            hid: "CANCELLED" if h.status == "CONFIRMED" and hid not in booked else h.status
            for hid, h in self.holds.items()
        }
        assert got == shown

    @invariant()
    def every_change_was_logged(self) -> None:
        if not hasattr(self, "cells"):
            return
        assert len(self.bk.events(limit=None)) == self.events


BookingMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_booking_rules_hold_for_random_operation_sequences = BookingMachine.TestCase


def test_the_model_notices_a_wrong_answer():
    """The machine is not vacuous: a database that disagrees with the model fails it."""
    machine = BookingMachine()
    try:
        machine.setup(capacity=3)
        machine.create_one(0, 0, 2, "ana@x.io", None)
        machine.cells_agree()
        machine.bk.db.execute_sql("UPDATE resource_capacity SET available_capacity = 3")
        with pytest.raises(AssertionError):
            machine.cells_agree()
    finally:
        machine.teardown()
