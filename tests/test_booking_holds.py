"""Holds: taking units, refusals that change nothing, idempotency, and the lifecycle."""

from datetime import timedelta

import pytest

from booking_helpers import World, count, expire, make_world, refused, state, units
from resbook_tui.booking import Booking

EMAIL = "ana@example.com"


@pytest.fixture
def w(db) -> World:
    return make_world(db, capacity=5, days=5)


# ---- taking units ---------------------------------------------------------------------------


def test_hold_takes_units_in_the_same_transaction(w):
    hold = w.bk.create_hold(w.rid, w.day(1), 2, "Ana@Example.COM ")
    assert (hold.resource_id, hold.date, hold.quantity) == (w.rid, w.day(1), 2)
    assert hold.status == "ACTIVE" and hold.replay is False
    assert hold.customer_email == EMAIL
    assert hold.token  # one is made up when the caller gives none
    assert units(w.bk, w.rid, w.day(1)) == (5, 3, 2, 0)
    assert units(w.bk, w.rid, w.day(0)) == (5, 5, 0, 0)
    assert w.bk.get_hold(hold.id) == hold


def test_holds_until_the_cell_is_full_then_no_capacity(w):
    w.bk.create_hold(w.rid, w.day(0), 3, EMAIL)
    w.bk.create_hold(w.rid, w.day(0), 2, EMAIL)
    assert units(w.bk, w.rid, w.day(0)) == (5, 0, 5, 0)
    with refused(w.bk, "no_capacity") as info:
        w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)
    assert "0 available" in str(info.value)


def test_tokens_made_up_for_each_hold_are_distinct(w):
    a = w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)
    b = w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)
    assert a.token != b.token and a.id != b.id


def test_default_ttl_is_30_minutes_from_the_database_clock(w):
    hold = w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)
    # created_at is the column default (database clock); expires_at must be on the same clock.
    assert hold.expires_at - hold.created_at == timedelta(minutes=30)
    assert hold.expires_at.utcoffset() == timedelta(0)


def test_ttl_per_call_and_per_booking(db, w):
    hold = w.bk.create_hold(w.rid, w.day(0), 1, EMAIL, ttl_minutes=5)
    assert hold.expires_at - hold.created_at == timedelta(minutes=5)
    other = Booking(db, actor="test", ttl_minutes=45)
    hold = other.create_hold(w.rid, w.day(0), 1, EMAIL)
    assert hold.expires_at - hold.created_at == timedelta(minutes=45)


def test_range_takes_every_date(w):
    holds = w.bk.create_holds(w.rid, w.day(1), w.day(3), 2, EMAIL)
    assert [h.date for h in holds] == [w.day(1), w.day(2), w.day(3)]
    assert len({h.id for h in holds}) == 3
    for n in range(w.days):
        expected = (5, 3, 2, 0) if 1 <= n <= 3 else (5, 5, 0, 0)
        assert units(w.bk, w.rid, w.day(n)) == expected


def test_range_is_all_or_nothing_when_one_date_is_short(w):
    w.bk.create_hold(w.rid, w.day(2), 4, EMAIL)
    with refused(w.bk, "no_capacity"):
        w.bk.create_holds(w.rid, w.day(0), w.day(4), 2, EMAIL)


def test_range_is_all_or_nothing_when_the_last_date_has_no_capacity(w):
    with refused(w.bk, "no_capacity") as info:
        w.bk.create_holds(w.rid, w.day(3), w.day(w.days), 1, EMAIL)
    assert "no capacity set" in str(info.value)


def test_range_is_all_or_nothing_across_a_blackout(w):
    w.bk.add_blackout(w.rid, w.day(2), None, "service")
    with refused(w.bk, "blackout"):
        w.bk.create_holds(w.rid, w.day(0), w.day(4), 1, EMAIL)


# ---- refusals ---------------------------------------------------------------------------------


def test_no_capacity_row_is_no_capacity(w):
    with refused(w.bk, "no_capacity"):
        w.bk.create_hold(w.rid, w.day(w.days + 3), 1, EMAIL)


def test_more_than_available_is_no_capacity(w):
    with refused(w.bk, "no_capacity") as info:
        w.bk.create_hold(w.rid, w.day(0), 6, EMAIL)
    assert "5 available" in str(info.value) and "6 requested" in str(info.value)


def test_blackout_date_is_refused(w):
    w.bk.add_blackout(w.rid, w.day(1), w.day(2), "annual service")
    with refused(w.bk, "blackout") as info:
        w.bk.create_hold(w.rid, w.day(2), 1, EMAIL)
    assert "annual service" in str(info.value)


def test_blackout_wins_over_no_capacity(w):
    # Even a request that could never fit says why the date is closed.
    w.bk.add_blackout(w.rid, w.day(1), None, "closed")
    with refused(w.bk, "blackout"):
        w.bk.create_hold(w.rid, w.day(1), 99, EMAIL)


def test_inactive_resource_is_refused(w):
    w.bk.deactivate(w.rid)
    with refused(w.bk, "inactive_resource"):
        w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)
    w.bk.activate(w.rid)
    assert w.bk.create_hold(w.rid, w.day(0), 1, EMAIL).status == "ACTIVE"


def test_nonexistent_resource_is_not_found(w):
    with refused(w.bk, "not_found"):
        w.bk.create_hold(w.rid + 1000, w.day(0), 1, EMAIL)
    with refused(w.bk, "not_found"):
        w.bk.create_holds(w.rid + 1000, w.day(0), w.day(2), 1, EMAIL, token="x")


def test_past_date_is_invalid_input(w):
    yesterday = w.bk.today() - timedelta(days=1)
    w.bk.set_capacity(w.rid, yesterday, None, 5)  # a capacity row does not make it bookable
    with refused(w.bk, "invalid_input") as info:
        w.bk.create_hold(w.rid, yesterday, 1, EMAIL)
    assert "in the past" in str(info.value)


def test_past_date_in_a_range_refuses_the_whole_range(w):
    yesterday = w.bk.today() - timedelta(days=1)
    w.bk.set_capacity(w.rid, yesterday, w.day(0), 5)
    with refused(w.bk, "invalid_input"):
        w.bk.create_holds(w.rid, yesterday, w.day(1), 1, EMAIL)


@pytest.mark.parametrize("quantity", [0, -1, True, 1.5, "2", None])
def test_bad_quantity_is_invalid_input(w, quantity):
    with refused(w.bk, "invalid_input"):
        w.bk.create_hold(w.rid, w.day(0), quantity, EMAIL)


@pytest.mark.parametrize(
    "email",
    [
        "",
        "   ",
        "ana",
        "ana@",
        "@example.com",
        "ana@example",
        "ana @example.com",
        "a@b@c.com",
        None,
    ],
)
def test_malformed_email_is_invalid_input(w, email):
    with refused(w.bk, "invalid_input"):
        w.bk.create_hold(w.rid, w.day(0), 1, email)


@pytest.mark.parametrize("ttl", [0, -5, 7 * 24 * 60 + 1, True])
def test_bad_ttl_is_invalid_input(w, ttl):
    with refused(w.bk, "invalid_input"):
        w.bk.create_hold(w.rid, w.day(0), 1, EMAIL, ttl_minutes=ttl)


@pytest.mark.parametrize(
    "start, end",
    [("2030-02-30", None), ("tomorrow", None), ("2030-01-05", "2030-01-04")],
)
def test_bad_dates_are_invalid_input(w, start, end):
    with refused(w.bk, "invalid_input"):
        w.bk.create_holds(w.rid, start, end or start, 1, EMAIL)


def test_bad_token_is_invalid_input(w):
    with refused(w.bk, "invalid_input"):
        w.bk.create_hold(w.rid, w.day(0), 1, EMAIL, token="   ")
    with refused(w.bk, "invalid_input"):
        w.bk.create_hold(w.rid, w.day(0), 1, EMAIL, token="x" * 201)
    # 200 characters fit: the token has a column of its own now (no "@date" suffix).
    assert w.bk.create_hold(w.rid, w.day(0), 1, EMAIL, token="x" * 200).token == "x" * 200


# ---- idempotency ------------------------------------------------------------------------------


def test_same_token_same_request_is_a_replay(w):
    first = w.bk.create_hold(w.rid, w.day(0), 2, EMAIL, token="cart-1")
    again = w.bk.create_hold(w.rid, w.day(0), 2, EMAIL.upper(), token="cart-1")
    assert again.replay is True and first.replay is False
    assert again.id == first.id and again.token == "cart-1"
    assert units(w.bk, w.rid, w.day(0)) == (5, 3, 2, 0)
    assert count(w.bk.db, "SELECT count(*) FROM resource_hold") == 1
    assert count(w.bk.db, "SELECT count(*) FROM booking_event WHERE action = 'hold.create'") == 1


def test_replay_when_the_cell_is_full_since(w):
    first = w.bk.create_hold(w.rid, w.day(0), 2, EMAIL, token="cart-1")
    w.bk.create_hold(w.rid, w.day(0), 3, EMAIL)
    again = w.bk.create_hold(w.rid, w.day(0), 2, EMAIL, token="cart-1")
    assert again.replay and again.id == first.id
    assert units(w.bk, w.rid, w.day(0)) == (5, 0, 5, 0)


def test_replay_of_a_released_hold_takes_nothing_again(w):
    first = w.bk.create_hold(w.rid, w.day(0), 2, EMAIL, token="cart-1")
    w.bk.release_hold(first.id)
    before = state(w.bk.db)
    again = w.bk.create_hold(w.rid, w.day(0), 2, EMAIL, token="cart-1")
    assert (again.id, again.status, again.replay) == (first.id, "RELEASED", True)
    assert state(w.bk.db) == before


@pytest.mark.parametrize(
    "change",
    [
        {"quantity": 3},
        {"email": "bob@example.com"},
        {"day": 1},
        {"resource": "other"},
    ],
)
def test_same_token_different_request_is_token_conflict(db, w, change):
    other = w.bk.add_resource("Other", "VEHICLE")
    w.bk.set_capacity(other.id, w.day(0), w.day(1), 5)
    w.bk.create_hold(w.rid, w.day(0), 2, EMAIL, token="cart-1")
    rid = other.id if change.get("resource") else w.rid
    with refused(w.bk, "token_conflict") as info:
        w.bk.create_hold(
            rid,
            w.day(change.get("day", 0)),
            change.get("quantity", 2),
            change.get("email", EMAIL),
            token="cart-1",
        )
    assert "cart-1" in str(info.value)


def test_range_replay_and_conflicts(w):
    holds = w.bk.create_holds(w.rid, w.day(0), w.day(2), 1, EMAIL, token="trip")
    again = w.bk.create_holds(w.rid, w.day(0), w.day(2), 1, EMAIL, token="trip")
    assert [h.id for h in again] == [h.id for h in holds]
    assert all(h.replay for h in again)
    assert [units(w.bk, w.rid, w.day(n))[1] for n in range(4)] == [4, 4, 4, 5]
    with refused(w.bk, "token_conflict"):
        w.bk.create_holds(w.rid, w.day(0), w.day(3), 1, EMAIL, token="trip")
    with refused(w.bk, "token_conflict"):
        w.bk.create_holds(w.rid, w.day(0), w.day(2), 2, EMAIL, token="trip")


def test_a_sub_range_of_a_token_is_a_different_request(w):
    w.bk.create_holds(w.rid, w.day(0), w.day(2), 1, EMAIL, token="trip")
    with refused(w.bk, "token_conflict"):
        w.bk.create_holds(w.rid, w.day(1), w.day(2), 1, EMAIL, token="trip")
    with refused(w.bk, "token_conflict"):
        w.bk.create_hold(w.rid, w.day(0), 1, EMAIL, token="trip")


def test_a_single_date_token_reused_for_a_range_is_token_conflict(w):
    w.bk.create_hold(w.rid, w.day(0), 1, EMAIL, token="cart-9")
    with refused(w.bk, "token_conflict"):
        w.bk.create_holds(w.rid, w.day(0), w.day(1), 1, EMAIL, token="cart-9")
    with refused(w.bk, "token_conflict"):
        w.bk.create_holds(w.rid, w.day(1), w.day(2), 1, EMAIL, token="cart-9")


def test_a_refused_request_does_not_burn_its_token(w):
    with refused(w.bk, "no_capacity"):
        w.bk.create_hold(w.rid, w.day(0), 9, EMAIL, token="cart-2")
    hold = w.bk.create_hold(w.rid, w.day(0), 2, EMAIL, token="cart-2")
    assert hold.replay is False and hold.token == "cart-2"


# ---- lifecycle ------------------------------------------------------------------------------


def test_confirm_moves_units_from_held_to_allocated(w):
    hold = w.bk.create_hold(w.rid, w.day(0), 2, EMAIL)
    alloc = w.bk.confirm_hold(hold.id, " order-1 ", "li-1")
    assert (alloc.resource_id, alloc.date, alloc.quantity) == (w.rid, w.day(0), 2)
    assert (alloc.order_id, alloc.line_item_id, alloc.hold_id) == ("order-1", "li-1", hold.id)
    assert w.bk.get_hold(hold.id).status == "CONFIRMED"
    assert w.bk.get_allocation(alloc.id) == alloc
    assert units(w.bk, w.rid, w.day(0)) == (5, 3, 0, 2)
    assert w.bk.list_allocations(order_id="order-1") == [alloc]


@pytest.mark.parametrize("order, line", [("", "li"), ("o", "  "), ("o" * 201, "li")])
def test_confirm_needs_order_and_line_item(w, order, line):
    hold = w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)
    with refused(w.bk, "invalid_input"):
        w.bk.confirm_hold(hold.id, order, line)


def test_release_gives_units_back(w):
    hold = w.bk.create_hold(w.rid, w.day(0), 2, EMAIL)
    released = w.bk.release_hold(hold.id)
    assert released.status == "RELEASED" and released.id == hold.id
    assert units(w.bk, w.rid, w.day(0)) == (5, 5, 0, 0)


def test_extend_pushes_expiry_by_minutes(w):
    hold = w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)
    longer = w.bk.extend_hold(hold.id, 15)
    assert longer.expires_at - hold.expires_at == timedelta(minutes=15)
    assert longer.status == "ACTIVE"
    assert units(w.bk, w.rid, w.day(0)) == (5, 4, 1, 0)


@pytest.mark.parametrize("minutes", [0, -1, 7 * 24 * 60 + 1])
def test_extend_by_bad_minutes_is_invalid_input(w, minutes):
    hold = w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)
    with refused(w.bk, "invalid_input"):
        w.bk.extend_hold(hold.id, minutes)


def test_expired_hold_cannot_be_confirmed_even_before_the_sweep(w):
    hold = w.bk.create_hold(w.rid, w.day(0), 2, EMAIL)
    expire(w.bk, hold.id)
    with refused(w.bk, "expired"):
        w.bk.confirm_hold(hold.id, "o", "li")
    with refused(w.bk, "expired"):
        w.bk.extend_hold(hold.id, 30)
    assert w.bk.get_hold(hold.id).status == "ACTIVE"  # only the sweep marks it EXPIRED


def test_expired_but_unswept_hold_can_still_be_released(w):
    hold = w.bk.create_hold(w.rid, w.day(0), 2, EMAIL)
    expire(w.bk, hold.id)
    assert w.bk.release_hold(hold.id).status == "RELEASED"
    assert units(w.bk, w.rid, w.day(0)) == (5, 5, 0, 0)
    assert w.bk.sweep().expired_holds == 0


def _hold_in(w: World, status: str) -> int:
    hold = w.bk.create_hold(w.rid, w.day(0), 2, EMAIL)
    if status == "CONFIRMED":
        w.bk.confirm_hold(hold.id, "o", "li")
    elif status == "RELEASED":
        w.bk.release_hold(hold.id)
    elif status == "EXPIRED":
        expire(w.bk, hold.id)
        assert w.bk.sweep().expired_holds == 1
    assert w.bk.get_hold(hold.id).status == status
    return hold.id


@pytest.mark.parametrize("status", ["CONFIRMED", "RELEASED", "EXPIRED"])
@pytest.mark.parametrize("verb", ["confirm", "release", "extend"])
def test_only_an_active_hold_moves(w, status, verb):
    hold_id = _hold_in(w, status)
    call = {
        "confirm": lambda: w.bk.confirm_hold(hold_id, "o2", "li2"),
        "release": lambda: w.bk.release_hold(hold_id),
        "extend": lambda: w.bk.extend_hold(hold_id, 10),
    }[verb]
    with refused(w.bk, "invalid_state") as info:
        call()
    assert status in str(info.value)


@pytest.mark.parametrize("verb", ["confirm", "release", "extend", "get"])
def test_unknown_hold_is_not_found(w, verb):
    call = {
        "confirm": lambda: w.bk.confirm_hold(4242, "o", "li"),
        "release": lambda: w.bk.release_hold(4242),
        "extend": lambda: w.bk.extend_hold(4242, 10),
        "get": lambda: w.bk.get_hold(4242),
    }[verb]
    with refused(w.bk, "not_found"):
        call()


def test_a_hold_is_confirmed_into_one_allocation_only(w):
    hold = w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)
    w.bk.confirm_hold(hold.id, "o", "li")
    with refused(w.bk, "invalid_state"):
        w.bk.confirm_hold(hold.id, "o", "li")
    assert count(w.bk.db, "SELECT count(*) FROM resource_allocation") == 1


def test_ids_of_cancelled_allocations_and_removed_blackouts_are_never_handed_out_again(w):
    """A stale id (a script, another terminal) must not act on another booking, and the
    audit trail must not name two by one id. The newest one goes: SQLite without
    AUTOINCREMENT gave its id to the next (migration 0007)."""
    hold = w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)
    newest = w.bk.confirm_hold(hold.id, "o-1", "li-1")
    w.bk.cancel_allocation(newest.id)
    again = w.bk.confirm_hold(w.bk.create_hold(w.rid, w.day(1), 1, EMAIL).id, "o-2", "li-1")
    assert again.id > newest.id
    with refused(w.bk, "not_found"):
        w.bk.cancel_allocation(newest.id)  # the stale id finds nothing
    closed = w.bk.add_blackout(w.rid, w.day(3), None, "road closed").blackout
    w.bk.remove_blackout(closed.id)
    assert w.bk.add_blackout(w.rid, w.day(4), None, "flood").blackout.id > closed.id


def test_cancel_allocation_gives_units_back(w):
    hold = w.bk.create_hold(w.rid, w.day(0), 2, EMAIL)
    alloc = w.bk.confirm_hold(hold.id, "o", "li")
    cancelled = w.bk.cancel_allocation(alloc.id)
    assert cancelled == alloc
    assert units(w.bk, w.rid, w.day(0)) == (5, 5, 0, 0)
    assert w.bk.list_allocations() == []
    # The hold's row stays CONFIRMED (its history is kept), so a CONFIRMED filter finds
    # it; every read says CANCELLED; it cannot be released for more units.
    assert w.bk.get_hold(hold.id).status == "CANCELLED"
    [listed] = w.bk.list_holds(status="CONFIRMED")
    assert listed.id == hold.id and listed.status == "CANCELLED"
    [paged] = w.bk.hold_page(status="CONFIRMED", email_contains=None, offset=0, limit=10)
    assert paged.status == "CANCELLED" and w.bk.get_holds([hold.id])[0].status == "CANCELLED"
    with refused(w.bk, "invalid_state"):
        w.bk.release_hold(hold.id)
    with refused(w.bk, "not_found"):
        w.bk.cancel_allocation(alloc.id)
    with refused(w.bk, "not_found"):
        w.bk.get_allocation(alloc.id)


# ---- reading ------------------------------------------------------------------------------


def test_list_holds_matches_email_case_insensitively(w):
    a = w.bk.create_hold(w.rid, w.day(0), 1, "Ana@Example.com")
    w.bk.create_hold(w.rid, w.day(1), 1, "bob@example.com")
    c = w.bk.create_hold(w.rid, w.day(2), 1, "ANA@EXAMPLE.COM")
    assert [h.id for h in w.bk.list_holds(email="aNa@eXample.com")] == [a.id, c.id]
    assert [h.id for h in w.bk.list_holds(email="  ana@example.com ")] == [a.id, c.id]
    assert w.bk.list_holds(email="nobody@example.com") == []


def test_list_holds_filters(w):
    a = w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)
    b = w.bk.create_hold(w.rid, w.day(1), 1, EMAIL)
    c = w.bk.create_hold(w.rid, w.day(2), 1, EMAIL)
    w.bk.release_hold(b.id)
    assert [h.id for h in w.bk.list_holds(status="active")] == [a.id, c.id]
    assert [h.id for h in w.bk.list_holds(status="RELEASED")] == [b.id]
    assert [h.id for h in w.bk.list_holds(date_from=w.day(1))] == [b.id, c.id]
    assert [h.id for h in w.bk.list_holds(date_to=w.day(1))] == [a.id, b.id]
    assert [h.id for h in w.bk.list_holds(resource_id=w.rid + 99)] == []
    assert len(w.bk.list_holds(limit=2)) == 2
    with refused(w.bk, "invalid_input"):
        w.bk.list_holds(status="GONE")


def test_list_allocations_by_customer_email(w):
    hold = w.bk.create_hold(w.rid, w.day(0), 1, "Ana@Example.com")
    alloc = w.bk.confirm_hold(hold.id, "o", "li")
    other = w.bk.create_hold(w.rid, w.day(0), 1, "bob@example.com")
    w.bk.confirm_hold(other.id, "o2", "li")
    assert w.bk.list_allocations(email="ANA@example.COM") == [alloc]


@pytest.mark.parametrize("token", [None, "order-77"])
def test_a_new_hold_reads_back_exactly_as_returned(w, token):
    # PostgreSQL's one-round-trip hold builds the returned record from the plan and the few
    # columns the database chose; it must be the row as stored, field for field.
    made = w.bk.create_hold(w.rid, w.day(1), 2, "Ana@Example.com", token=token, ttl_minutes=45)
    assert made == w.bk.get_hold(made.id)
    assert (made.quantity, made.status, made.replay) == (2, "ACTIVE", False)
    assert made.token == (token or made.token) and made.token
