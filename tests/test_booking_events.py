"""The audit trail: one event per mutation, in the same transaction, none for a refusal."""

from datetime import timedelta

import peewee
import pytest

from booking_helpers import World, actions, count, expire, make_world, refused, state
from resbook_tui.booking import Booking, BookingError
from resbook_tui.errors import ResbookError

EMAIL = "ana@example.com"


@pytest.fixture
def w(db) -> World:
    return make_world(db, capacity=5, days=5)


def test_every_mutation_writes_its_event(db):
    bk = Booking(db, actor="test")
    r = bk.add_resource("Cruiser", "VEHICLE")
    bk.edit_resource(r.id, description="roof rack")
    bk.deactivate(r.id)
    bk.activate(r.id)
    day = bk.today()
    d1, d2 = day + timedelta(days=1), day + timedelta(days=2)
    bk.set_capacity(r.id, d1, d2, 4)
    blackout = bk.add_blackout(r.id, d2, None, "service").blackout
    bk.remove_blackout(blackout.id)
    a = bk.create_hold(r.id, d1, 1, "Ana@Example.com")
    bk.extend_hold(a.id, 10)
    alloc = bk.confirm_hold(a.id, "o-1", "li-1")
    b = bk.create_hold(r.id, d1, 1, EMAIL)
    bk.release_hold(b.id)
    c = bk.create_hold(r.id, d2, 2, EMAIL)
    expire(bk, c.id)
    bk.sweep()
    bk.cancel_allocation(alloc.id)

    events = bk.events(limit=None)
    got = [(e.action, e.entity, e.entity_id) for e in events]
    assert got == [
        ("resource.add", "resource", r.id),
        ("resource.edit", "resource", r.id),
        ("resource.deactivate", "resource", r.id),
        ("resource.activate", "resource", r.id),
        ("capacity.set", "capacity", None),
        ("blackout.add", "blackout", blackout.id),
        ("blackout.remove", "blackout", blackout.id),
        ("hold.create", "hold", a.id),
        ("hold.extend", "hold", a.id),
        ("hold.confirm", "hold", a.id),
        ("hold.create", "hold", b.id),
        ("hold.release", "hold", b.id),
        ("hold.create", "hold", c.id),
        ("hold.expire", "hold", c.id),
        ("allocation.cancel", "allocation", alloc.id),
    ]
    assert {e.actor for e in events} == {"test"}
    assert {e.resource_id for e in events} == {r.id}
    assert [e.id for e in events] == sorted(e.id for e in events)
    by_action = {e.action: e for e in events}
    assert (by_action["capacity.set"].date_from, by_action["capacity.set"].date_to) == (d1, d2)
    assert (by_action["blackout.add"].date_from, by_action["blackout.add"].date_to) == (d2, d2)
    assert by_action["hold.confirm"].details["allocation_id"] == alloc.id
    assert by_action["hold.confirm"].details["order_id"] == "o-1"
    assert by_action["hold.extend"].details["minutes"] == 10
    assert by_action["hold.expire"].date_from == d2
    cancel = by_action["allocation.cancel"]
    assert cancel.customer_email == "ana@example.com"
    assert cancel.details == {
        "order_id": "o-1",
        "line_item_id": "li-1",
        "quantity": 1,
        "hold_id": a.id,
    }
    create = [e for e in events if e.action == "hold.create"][0]
    assert create.customer_email == "ana@example.com" and create.date_from == d1
    assert create.details["quantity"] == 1 and create.details["token"] == a.token
    assert create.details["ttl_minutes"] == 30
    assert all(e.occurred_at.utcoffset().total_seconds() == 0 for e in events)


def test_refused_operations_write_no_event(w):
    hold = w.bk.create_hold(w.rid, w.day(0), 5, EMAIL, token="t")
    w.bk.confirm_hold(hold.id, "o", "li")
    events_before = count(w.bk.db, "SELECT count(*) FROM booking_event")
    refusals = [
        lambda: w.bk.create_hold(w.rid, w.day(0), 1, EMAIL),  # no_capacity
        lambda: w.bk.create_hold(w.rid, w.day(1), 1, EMAIL, token="t"),  # token_conflict
        lambda: w.bk.create_hold(w.rid, w.day(1), 0, EMAIL),  # invalid_input
        lambda: w.bk.confirm_hold(hold.id, "o", "li"),  # invalid_state
        lambda: w.bk.release_hold(hold.id),
        lambda: w.bk.extend_hold(hold.id, 5),
        lambda: w.bk.release_hold(999),  # not_found
        lambda: w.bk.cancel_allocation(999),
        lambda: w.bk.set_capacity(w.rid, w.day(0), None, 4),  # below allocated
        lambda: w.bk.remove_blackout(999),
        lambda: w.bk.edit_resource(999, name="x"),
        lambda: w.bk.add_blackout(999, w.day(0), None, "x"),
    ]
    for call in refusals:
        with pytest.raises(BookingError):
            call()
    assert count(w.bk.db, "SELECT count(*) FROM booking_event") == events_before


def test_a_replay_writes_no_event(w):
    w.bk.create_hold(w.rid, w.day(0), 1, EMAIL, token="t")
    before = state(w.bk.db)
    assert w.bk.create_hold(w.rid, w.day(0), 1, EMAIL, token="t").replay
    assert state(w.bk.db) == before


def test_hold_history_lists_one_holds_events_oldest_first(w):
    hold = w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)
    other = w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)
    w.bk.extend_hold(hold.id, 5)
    w.bk.release_hold(other.id)
    w.bk.extend_hold(hold.id, 5)
    w.bk.confirm_hold(hold.id, "o", "li")
    history = w.bk.hold_history(hold.id)
    assert [e.action for e in history] == [
        "hold.create",
        "hold.extend",
        "hold.extend",
        "hold.confirm",
    ]
    assert {e.entity_id for e in history} == {hold.id}
    assert [e.action for e in w.bk.hold_history(other.id)] == ["hold.create", "hold.release"]
    with refused(w.bk, "not_found"):
        w.bk.hold_history(hold.id + 100)


def test_event_filters(db, w):
    other = w.bk.add_resource("Other", "VEHICLE")
    w.bk.set_capacity(other.id, w.day(0), None, 3)
    a = w.bk.create_hold(w.rid, w.day(0), 1, "Ana@Example.com")
    w.bk.create_hold(other.id, w.day(0), 1, "bob@example.com")
    w.bk.release_hold(a.id)
    assert actions(w.bk, resource_id=other.id) == ["resource.add", "capacity.set", "hold.create"]
    assert actions(w.bk, email="ANA@example.com") == ["hold.create", "hold.release"]
    assert actions(w.bk, email="bob@EXAMPLE.com") == ["hold.create"]
    assert actions(w.bk, resource_id=w.rid, action="hold.create") == ["hold.create"]
    assert [e.entity_id for e in w.bk.events(action="resource.add")] == [w.rid, other.id]
    assert actions(w.bk, entity="hold", entity_id=a.id) == ["hold.create", "hold.release"]
    assert w.bk.events(action="nothing.like.this") == []


def test_events_limit_and_after_id_page_through(w):
    for n in range(4):
        w.bk.create_hold(w.rid, w.day(n), 1, EMAIL)
    everything = w.bk.events(limit=None)
    assert len(everything) == 6  # resource.add, capacity.set, 4 x hold.create
    newest = w.bk.events(limit=2)
    assert newest == everything[-2:]
    page = w.bk.events(after_id=everything[1].id, limit=3)
    assert page == everything[2:5]
    assert w.bk.events(after_id=everything[-1].id) == []


# ---- the event is written in the same transaction as the change ------------------------------


def _break_audit_trail(bk: Booking) -> None:
    """From now on every event insert fails inside the database."""
    if bk.dialect == "postgresql":
        bk.db.execute_sql(
            "CREATE FUNCTION refuse_event() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit trail unavailable'; END; $$"
        )
        bk.db.execute_sql(
            "CREATE TRIGGER refuse_events BEFORE INSERT ON booking_event "
            "FOR EACH ROW EXECUTE FUNCTION refuse_event()"
        )
    else:
        bk.db.execute_sql(
            "CREATE TRIGGER refuse_events BEFORE INSERT ON booking_event "
            "BEGIN SELECT RAISE(ABORT, 'audit trail unavailable'); END"
        )


MUTATIONS = {
    "resource.add": lambda w, h, a, b: w.bk.add_resource("New", "GUIDE"),
    "resource.edit": lambda w, h, a, b: w.bk.edit_resource(w.rid, name="Renamed"),
    "resource.deactivate": lambda w, h, a, b: w.bk.deactivate(w.rid),
    "capacity.set": lambda w, h, a, b: w.bk.set_capacity(w.rid, w.day(0), w.day(9), 8),
    "blackout.add": lambda w, h, a, b: w.bk.add_blackout(w.rid, w.day(3), None, "x"),
    "blackout.remove": lambda w, h, a, b: w.bk.remove_blackout(b),
    "hold.create": lambda w, h, a, b: w.bk.create_hold(w.rid, w.day(1), 2, EMAIL),
    "hold.create range": lambda w, h, a, b: w.bk.create_holds(w.rid, w.day(0), w.day(2), 1, EMAIL),
    "hold.confirm": lambda w, h, a, b: w.bk.confirm_hold(h, "o2", "li2"),
    "hold.release": lambda w, h, a, b: w.bk.release_hold(h),
    "hold.extend": lambda w, h, a, b: w.bk.extend_hold(h, 5),
    "hold.expire": lambda w, h, a, b: w.bk.sweep(),  # the hold was made due above
    "allocation.cancel": lambda w, h, a, b: w.bk.cancel_allocation(a),
}


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_a_change_whose_event_fails_is_rolled_back(w, mutation):
    hold = w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)
    alloc = w.bk.confirm_hold(w.bk.create_hold(w.rid, w.day(0), 1, EMAIL).id, "o", "li")
    blackout = w.bk.add_blackout(w.rid, w.day(4), None, "x").blackout
    if mutation == "hold.expire":
        expire(w.bk, hold.id)
    _break_audit_trail(w.bk)
    before = state(w.bk.db)
    # The database's refusal comes out as resbook's own error, never the driver's.
    with pytest.raises(ResbookError, match="audit trail unavailable") as info:
        MUTATIONS[mutation](w, hold.id, alloc.id, blackout.id)
    assert not isinstance(info.value, peewee.PeeweeException)
    assert state(w.bk.db) == before


def test_hold_history_includes_the_cancellation_of_its_allocation(db):
    from resbook_tui.booking import Booking
    from resbook_tui.seed import SeedPlan, seed

    seed(db, SeedPlan(vehicles=1, days=2))
    bk = Booking(db, actor="test")
    hold = bk.create_hold(1, bk.today(), 1, "a@x.io")
    allocation = bk.confirm_hold(hold.id, "o-1", "li-1")
    bk.cancel_allocation(allocation.id)
    assert [e.action for e in bk.hold_history(hold.id)] == [
        "hold.create",
        "hold.confirm",
        "allocation.cancel",
    ]


def test_a_zero_default_ttl_is_refused(db):
    import pytest

    from resbook_tui.booking import Booking, BookingError

    with pytest.raises(BookingError, match="TTL minutes"):
        Booking(db, ttl_minutes=0)
