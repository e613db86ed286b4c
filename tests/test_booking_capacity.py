"""Capacity, blackouts and availability."""

from datetime import timedelta

import pytest

from booking_helpers import World, actions, make_world, refused, units
from resbook_tui.booking import Booking

EMAIL = "ana@example.com"


@pytest.fixture
def w(db) -> World:
    return make_world(db, capacity=5, days=5)


# ---- set_capacity ---------------------------------------------------------------------------


def test_set_capacity_creates_missing_dates(db):
    bk = Booking(db, actor="test")
    r = bk.add_resource("Tour", "TOUR")
    start = bk.today() + timedelta(days=1)
    change = bk.set_capacity(r.id, start, start + timedelta(days=6), 12)
    assert (change.updated, change.created, change.max_capacity) == (0, 7, 12)
    assert (change.date_from, change.date_to) == (start, start + timedelta(days=6))
    cells = bk.availability(start - timedelta(days=1), start + timedelta(days=7), resource_id=r.id)
    assert [c.date for c in cells] == [start + timedelta(days=n) for n in range(7)]
    assert {(c.max_capacity, c.available, c.held, c.allocated) for c in cells} == {(12, 12, 0, 0)}


def test_set_capacity_one_date_when_no_end(w):
    change = w.bk.set_capacity(w.rid, w.day(1), None, 8)
    assert (change.updated, change.created) == (1, 0)
    assert units(w.bk, w.rid, w.day(1)) == (8, 8, 0, 0)
    assert units(w.bk, w.rid, w.day(2)) == (5, 5, 0, 0)


def test_set_capacity_over_existing_and_missing_dates(w):
    change = w.bk.set_capacity(w.rid, w.day(3), w.day(7), 6)
    assert (change.updated, change.created) == (2, 3)
    assert [units(w.bk, w.rid, w.day(n)) for n in range(2, 8)] == [(5, 5, 0, 0)] + [
        (6, 6, 0, 0)
    ] * 5


def test_raising_capacity_moves_available_by_the_difference(w):
    h = w.bk.create_hold(w.rid, w.day(0), 2, EMAIL)
    w.bk.confirm_hold(w.bk.create_hold(w.rid, w.day(0), 1, EMAIL).id, "o", "li")
    w.bk.set_capacity(w.rid, w.day(0), None, 9)
    assert units(w.bk, w.rid, w.day(0)) == (9, 6, 2, 1)
    w.bk.release_hold(h.id)
    assert units(w.bk, w.rid, w.day(0)) == (9, 8, 0, 1)


def test_lowering_capacity_moves_available_by_the_difference(w):
    w.bk.create_hold(w.rid, w.day(0), 2, EMAIL)
    w.bk.set_capacity(w.rid, w.day(0), w.day(1), 3)
    assert units(w.bk, w.rid, w.day(0)) == (3, 1, 2, 0)
    assert units(w.bk, w.rid, w.day(1)) == (3, 3, 0, 0)


def test_capacity_can_drop_exactly_to_what_is_taken(w):
    w.bk.create_hold(w.rid, w.day(0), 2, EMAIL)
    w.bk.confirm_hold(w.bk.create_hold(w.rid, w.day(0), 1, EMAIL).id, "o", "li")
    w.bk.set_capacity(w.rid, w.day(0), None, 3)
    assert units(w.bk, w.rid, w.day(0)) == (3, 0, 2, 1)
    with refused(w.bk, "no_capacity"):
        w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)


def test_capacity_below_held_plus_allocated_changes_no_date(w):
    w.bk.create_hold(w.rid, w.day(2), 2, EMAIL)
    w.bk.confirm_hold(w.bk.create_hold(w.rid, w.day(2), 1, EMAIL).id, "o", "li")
    # Days 0, 1, 3, 4 could take max 2; day 2 cannot (3 taken): the whole range is refused,
    # including the missing dates after the end of the current range.
    with refused(w.bk, "no_capacity") as info:
        w.bk.set_capacity(w.rid, w.day(0), w.day(w.days + 2), 2)
    assert str(w.day(2)) in str(info.value) and "3 unit(s)" in str(info.value)


def test_capacity_zero_closes_a_date(w):
    w.bk.set_capacity(w.rid, w.day(0), None, 0)
    assert units(w.bk, w.rid, w.day(0)) == (0, 0, 0, 0)
    with refused(w.bk, "no_capacity"):
        w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)


@pytest.mark.parametrize("value", [-1, 1_000_001, 2.5, True, None])
def test_bad_capacity_is_invalid_input(w, value):
    with refused(w.bk, "invalid_input"):
        w.bk.set_capacity(w.rid, w.day(0), None, value)


def test_bad_capacity_ranges_are_invalid_input(w):
    with refused(w.bk, "invalid_input"):
        w.bk.set_capacity(w.rid, w.day(3), w.day(1), 4)
    with refused(w.bk, "invalid_input"):
        w.bk.set_capacity(w.rid, w.day(0), w.day(366), 4)
    with refused(w.bk, "invalid_input"):
        w.bk.set_capacity(w.rid, "2030-13-01", None, 4)


def test_set_capacity_on_unknown_resource_is_not_found(w):
    with refused(w.bk, "not_found"):
        w.bk.set_capacity(w.rid + 50, w.day(0), w.day(1), 4)


def test_set_capacity_is_logged_with_its_counts(w):
    w.bk.set_capacity(w.rid, w.day(4), w.day(6), 7)
    event = w.bk.events(action="capacity.set")[-1]
    assert (event.resource_id, event.date_from, event.date_to) == (w.rid, w.day(4), w.day(6))
    assert event.details == {"max_capacity": 7, "updated": 1, "created": 2}


# ---- blackouts ------------------------------------------------------------------------------


def test_blackout_reports_active_holds_and_allocations_inside(w):
    inside = w.bk.create_hold(w.rid, w.day(1), 1, EMAIL)
    confirmed = w.bk.create_hold(w.rid, w.day(2), 2, EMAIL)
    alloc = w.bk.confirm_hold(confirmed.id, "o", "li")
    released = w.bk.create_hold(w.rid, w.day(2), 1, EMAIL)
    w.bk.release_hold(released.id)
    w.bk.create_hold(w.rid, w.day(4), 1, EMAIL)  # outside the blackout
    result = w.bk.add_blackout(w.rid, w.day(1), w.day(3), "  flood  ")
    assert [h.id for h in result.active_holds] == [inside.id]
    assert [a.id for a in result.allocations] == [alloc.id]
    b = result.blackout
    assert (b.resource_id, b.start_date, b.end_date, b.reason) == (
        w.rid,
        w.day(1),
        w.day(3),
        "flood",
    )
    # Existing bookings are left for staff: nothing was released or cancelled.
    assert w.bk.get_hold(inside.id).status == "ACTIVE"
    assert units(w.bk, w.rid, w.day(1)) == (5, 4, 1, 0)
    event = w.bk.events(action="blackout.add")[-1]
    assert event.details["active_holds"] == [inside.id]
    assert event.details["allocations"] == [alloc.id]


def test_no_new_holds_inside_a_blackout(w):
    w.bk.add_blackout(w.rid, w.day(1), w.day(2), "service")
    for n in (1, 2):
        with refused(w.bk, "blackout"):
            w.bk.create_hold(w.rid, w.day(n), 1, EMAIL)
    assert w.bk.create_hold(w.rid, w.day(0), 1, EMAIL).status == "ACTIVE"
    assert w.bk.create_hold(w.rid, w.day(3), 1, EMAIL).status == "ACTIVE"


def test_a_blackout_on_one_resource_leaves_others_bookable(db, w):
    other = w.bk.add_resource("Other", "VEHICLE")
    w.bk.set_capacity(other.id, w.day(0), w.day(1), 2)
    w.bk.add_blackout(w.rid, w.day(0), w.day(1), "service")
    assert w.bk.create_hold(other.id, w.day(1), 1, EMAIL).status == "ACTIVE"


def test_a_hold_made_before_a_blackout_can_still_be_confirmed_or_released(w):
    a = w.bk.create_hold(w.rid, w.day(1), 1, EMAIL)
    b = w.bk.create_hold(w.rid, w.day(1), 1, EMAIL)
    w.bk.add_blackout(w.rid, w.day(1), None, "service")
    w.bk.confirm_hold(a.id, "o", "li")
    w.bk.release_hold(b.id)
    assert units(w.bk, w.rid, w.day(1)) == (5, 4, 0, 1)


def test_remove_blackout_reopens_dates(w):
    first = w.bk.add_blackout(w.rid, w.day(1), w.day(2), "service").blackout
    second = w.bk.add_blackout(w.rid, w.day(2), w.day(3), "inspection").blackout
    removed = w.bk.remove_blackout(first.id)
    assert removed == first
    assert w.bk.create_hold(w.rid, w.day(1), 1, EMAIL).status == "ACTIVE"
    with refused(w.bk, "blackout") as info:
        w.bk.create_hold(w.rid, w.day(2), 1, EMAIL)  # still inside the second one
    assert "inspection" in str(info.value)
    w.bk.remove_blackout(second.id)
    assert w.bk.create_hold(w.rid, w.day(2), 1, EMAIL).status == "ACTIVE"
    with refused(w.bk, "not_found"):
        w.bk.remove_blackout(second.id)
    assert actions(w.bk, entity="blackout") == [
        "blackout.add",
        "blackout.add",
        "blackout.remove",
        "blackout.remove",
    ]


def test_list_blackouts_by_window(w):
    a = w.bk.add_blackout(w.rid, w.day(0), w.day(1), "a").blackout
    b = w.bk.add_blackout(w.rid, w.day(3), w.day(4), "b").blackout
    assert w.bk.list_blackouts() == [a, b]
    assert w.bk.list_blackouts(resource_id=w.rid, date_from=w.day(2)) == [b]
    assert w.bk.list_blackouts(date_to=w.day(2)) == [a]
    assert w.bk.list_blackouts(date_from=w.day(1), date_to=w.day(3)) == [a, b]
    assert w.bk.list_blackouts(date_from=w.day(2), date_to=w.day(2)) == []
    assert w.bk.list_blackouts(resource_id=w.rid + 9) == []


def test_bad_blackouts_are_refused(w):
    with refused(w.bk, "not_found"):
        w.bk.add_blackout(w.rid + 9, w.day(0), None, "x")
    with refused(w.bk, "invalid_input"):
        w.bk.add_blackout(w.rid, w.day(2), w.day(1), "x")
    with refused(w.bk, "invalid_input"):
        w.bk.add_blackout(w.rid, w.day(0), None, "   ")
    with refused(w.bk, "not_found"):
        w.bk.remove_blackout(777)


# ---- availability ---------------------------------------------------------------------------


def test_availability_shows_where_units_are(w):
    w.bk.create_hold(w.rid, w.day(0), 2, EMAIL)
    w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)
    w.bk.confirm_hold(w.bk.create_hold(w.rid, w.day(0), 1, EMAIL).id, "o", "li")
    w.bk.release_hold(w.bk.create_hold(w.rid, w.day(1), 3, EMAIL).id)
    w.bk.add_blackout(w.rid, w.day(2), None, "service")
    cells = w.bk.availability(w.day(0), w.day(2))
    got = [(c.date, c.max_capacity, c.available, c.held, c.allocated, c.blackout) for c in cells]
    assert got == [
        (w.day(0), 5, 1, 3, 1, None),
        (w.day(1), 5, 5, 0, 0, None),
        (w.day(2), 5, 5, 0, 0, "service"),
    ]
    assert cells[0].utilisation == pytest.approx(0.8)


def test_availability_filters(db, w):
    tour = w.bk.add_resource("Tour", "TOUR")
    w.bk.set_capacity(tour.id, w.day(0), w.day(1), 12)
    window = (w.day(0), w.day(1))
    assert {c.resource_id for c in w.bk.availability(*window)} == {w.rid, tour.id}
    assert {c.resource_id for c in w.bk.availability(*window, resource_type="tour")} == {tour.id}
    assert {c.resource_id for c in w.bk.availability(*window, resource_id=w.rid)} == {w.rid}
    assert len(w.bk.availability(*window, resource_ids=[tour.id, w.rid])) == 4
    assert w.bk.availability(*window, resource_ids=[]) == []
    assert w.bk.availability(w.day(10), w.day(12)) == []
    with refused(w.bk, "invalid_input"):
        w.bk.availability(*window, resource_type="BOAT")


# ---- resources ------------------------------------------------------------------------------


def test_resources_add_edit_activate(db):
    bk = Booking(db, actor="test")
    r = bk.add_resource(" Cruiser 9 ", "vehicle", "long range", {"seats": 6})
    assert (r.name, r.type, r.description, r.metadata, r.is_active) == (
        "Cruiser 9",
        "VEHICLE",
        "long range",
        {"seats": 6},
        True,
    )
    edited = bk.edit_resource(r.id, name="Cruiser X", resource_type="GUIDE")
    assert (edited.name, edited.type) == ("Cruiser X", "GUIDE")
    assert bk.deactivate(r.id).is_active is False
    assert bk.list_resources(active=True) == []
    assert bk.activate(r.id).is_active is True
    assert [x.id for x in bk.list_resources(search="cruiser")] == [r.id]
    with refused(bk, "not_found"):
        bk.edit_resource(r.id + 1, name="x")
    with refused(bk, "not_found"):
        bk.deactivate(r.id + 1)
    with refused(bk, "invalid_input"):
        bk.add_resource("Boat", "BOAT")
    with refused(bk, "invalid_input"):
        bk.edit_resource(r.id, name="  ")


def test_an_edit_to_the_values_it_has_writes_nothing(db):
    """The TUI's form sends every field; saved unchanged it wrote a resource.edit event
    that changed nothing."""
    bk = Booking(db, actor="test")
    r = bk.add_resource("Cruiser 9", "VEHICLE", "long range")
    before = actions(bk)
    same = bk.edit_resource(
        r.id, name="Cruiser 9", resource_type="VEHICLE", description="long range"
    )
    assert same == bk.get_resource(r.id) and actions(bk) == before
    no_description = bk.add_resource("Boat", "TOUR")
    bk.edit_resource(no_description.id, description="")  # None stays None: nothing
    assert actions(bk) == before + ["resource.add"]
    changed = bk.edit_resource(r.id, description="")  # text to none is a change
    assert changed.description is None and actions(bk)[-1] == "resource.edit"
    with refused(bk, "not_found"):
        bk.edit_resource(r.id + 99, name="Cruiser 9")


def test_allocations_by_date_window_and_database_now(db):
    from datetime import UTC, datetime, timedelta

    from resbook_tui.booking import Booking
    from resbook_tui.seed import SeedPlan, seed

    seed(db, SeedPlan(vehicles=1, days=5))
    bk = Booking(db, actor="test")
    today = bk.today()
    for offset in (0, 2, 4):
        hold = bk.create_hold(1, today + timedelta(offset), 1, "a@x.io")
        bk.confirm_hold(hold.id, f"o-{offset}", "li")
    window = bk.list_allocations(date_from=today + timedelta(1), date_to=today + timedelta(3))
    assert [a.order_id for a in window] == ["o-2"]
    assert abs(bk.now() - datetime.now(UTC)) < timedelta(minutes=5)
    assert bk.now().tzinfo is not None


def test_availability_names_each_cells_blackout(db, w):
    """Blackouts are read apart from the cells: each cell still shows the one over its
    day, on its resource only, and every filter of the window applies to them too."""
    other = w.bk.add_resource("Other", "TOUR")
    w.bk.set_capacity(other.id, w.day(0), w.day(4), 2)
    w.bk.add_blackout(w.rid, w.day(1), w.day(2), "service")
    w.bk.add_blackout(w.rid, w.day(4), w.day(9), "flood")
    w.bk.add_blackout(other.id, w.day(0), w.day(0), "tour off")
    cells = w.bk.availability(w.day(0), w.day(4))
    by_resource = {
        rid: [c.blackout for c in cells if c.resource_id == rid] for rid in (w.rid, other.id)
    }
    assert by_resource == {
        w.rid: [None, "service", "service", None, "flood"],
        other.id: ["tour off", None, None, None, None],
    }
    assert [c.blackout for c in w.bk.availability(w.day(3), w.day(4), resource_id=w.rid)] == [
        None,
        "flood",
    ]
    kinds = w.bk.availability(w.day(0), w.day(1), resource_type="TOUR")
    assert [(c.resource_id, c.blackout) for c in kinds] == [
        (other.id, "tour off"),
        (other.id, None),
    ]
    picked = w.bk.availability(w.day(0), w.day(2), resource_ids=[w.rid])
    assert [c.blackout for c in picked] == [None, "service", "service"]
