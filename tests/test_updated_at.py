"""A change answers with the row as it is afterwards, ``updated_at`` included.

SQLite's AFTER UPDATE trigger stamps ``updated_at`` once RETURNING has read the row, so a
change that left the stamp to it answered with the old one (``holds extend --json`` said
the hold was last updated when it was made). Each row is first given an old stamp, which
on SQLite (where the trigger skips a statement that sets the stamp itself) makes a stale
answer certain rather than a matter of the clock moving on. PostgreSQL's BEFORE trigger
stamps that UPDATE with now() too, so there the answer is only checked against a fresh
read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from booking_helpers import World, make_world
from resbook_tui.models import Resource, ResourceHold

EMAIL = "ana@example.com"
LONG_AGO = datetime(2001, 1, 1, tzinfo=UTC)


@pytest.fixture
def w(db) -> World:
    return make_world(db, capacity=5, days=5)


def _aged_hold(w: World, n: int = 0) -> int:
    hold = w.bk.create_hold(w.rid, w.day(n), 1, EMAIL)
    ResourceHold.update(updated_at=LONG_AGO).where(ResourceHold.id == hold.id).execute(w.bk.db)
    return hold.id


def _aged_bundle(w: World) -> int:
    lines = [{"resource_id": w.rid, "date": w.day(n).isoformat(), "quantity": 1} for n in (0, 1)]
    bundle = w.bk.create_bundle(lines, EMAIL)
    query = ResourceHold.update(updated_at=LONG_AGO).where(ResourceHold.bundle_id == bundle.id)
    query.execute(w.bk.db)
    return bundle.id


@pytest.mark.parametrize("change", ["extend", "release"])
def test_a_changed_hold_answers_with_its_new_stamp(w: World, change: str) -> None:
    hold_id = _aged_hold(w)
    changed = w.bk.extend_hold(hold_id, 10) if change == "extend" else w.bk.release_hold(hold_id)
    assert changed.updated_at > LONG_AGO
    assert changed.updated_at == w.bk.get_hold(hold_id).updated_at


@pytest.mark.parametrize("change", ["extend", "confirm"])  # release answers a fresh read
def test_a_changed_bundle_answers_with_its_holds_new_stamps(w: World, change: str) -> None:
    bundle_id = _aged_bundle(w)
    if change == "extend":
        changed = w.bk.extend_bundle(bundle_id, 10)
    else:
        changed = w.bk.confirm_bundle(bundle_id, "order-1")
    stamps = [h.updated_at for h in changed.holds]
    assert all(s > LONG_AGO for s in stamps)
    assert stamps == [h.updated_at for h in w.bk.get_bundle(bundle_id).holds]


@pytest.mark.parametrize("change", ["edit", "deactivate"])
def test_a_changed_resource_answers_with_its_new_stamp(w: World, change: str) -> None:
    Resource.update(updated_at=LONG_AGO).where(Resource.id == w.rid).execute(w.bk.db)
    if change == "edit":
        changed = w.bk.update_resource(w.rid, description="new tyres")
    else:
        changed = w.bk.deactivate(w.rid)
    assert changed.updated_at > LONG_AGO
    assert changed.updated_at == w.bk.get_resource(w.rid).updated_at
