"""The sweep: expire every ACTIVE hold past its expiry, give its units back, count it right."""

import pytest

from booking_helpers import World, actions, count, expire, make_world, refused, state, units

EMAIL = "ana@example.com"


@pytest.fixture
def w(db) -> World:
    return make_world(db, capacity=10, days=4)


def test_sweep_expires_only_active_holds_past_expiry(w):
    due = w.bk.create_hold(w.rid, w.day(0), 2, EMAIL)
    fresh = w.bk.create_hold(w.rid, w.day(0), 3, EMAIL)
    confirmed = w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)
    w.bk.confirm_hold(confirmed.id, "o", "li")
    released = w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)
    w.bk.release_hold(released.id)
    # Confirmed and released holds keep their expiry; it passing must not touch them.
    expire(w.bk, due.id, confirmed.id, released.id)
    assert units(w.bk, w.rid, w.day(0)) == (10, 4, 5, 1)

    result = w.bk.sweep()

    assert (result.expired_holds, result.returned_units, result.cells, result.batches) == (
        1,
        2,
        1,
        1,
    )
    assert result.dry_run is False
    status = {h.id: h.status for h in w.bk.list_holds()}
    assert status == {
        due.id: "EXPIRED",
        fresh.id: "ACTIVE",
        confirmed.id: "CONFIRMED",
        released.id: "RELEASED",
    }
    assert units(w.bk, w.rid, w.day(0)) == (10, 6, 3, 1)


def test_sweep_counts_holds_units_and_cells(db, w):
    other = w.bk.add_resource("Other", "VEHICLE")
    w.bk.set_capacity(other.id, w.day(0), w.day(1), 10)
    holds = [
        w.bk.create_hold(w.rid, w.day(0), 1, EMAIL),
        w.bk.create_hold(w.rid, w.day(0), 2, EMAIL),
        w.bk.create_hold(w.rid, w.day(1), 3, EMAIL),
        w.bk.create_hold(other.id, w.day(1), 4, EMAIL),
    ]
    w.bk.create_hold(other.id, w.day(0), 5, EMAIL)  # not due
    expire(w.bk, *(h.id for h in holds))
    result = w.bk.sweep()
    assert (result.expired_holds, result.returned_units, result.cells) == (4, 10, 3)
    assert units(w.bk, w.rid, w.day(0)) == (10, 10, 0, 0)
    assert units(w.bk, w.rid, w.day(1)) == (10, 10, 0, 0)
    assert units(w.bk, other.id, w.day(1)) == (10, 10, 0, 0)
    assert units(w.bk, other.id, w.day(0)) == (10, 5, 5, 0)


@pytest.mark.parametrize("batch_size, batches", [(1, 7), (2, 4), (3, 3), (7, 1), (100, 1)])
def test_sweep_in_batches_expires_everything_once(w, batch_size, batches):
    holds = [w.bk.create_hold(w.rid, w.day(n % 3), n % 3 + 1, EMAIL) for n in range(7)]
    expire(w.bk, *(h.id for h in holds))
    preview = w.bk.sweep(dry_run=True)
    result = w.bk.sweep(batch_size=batch_size)
    quantities = sum(h.quantity for h in holds)
    assert (result.expired_holds, result.returned_units, result.batches) == (7, quantities, batches)
    # A cell swept in several batches is still one cell, as the preview counts it.
    assert result.cells == preview.cells == 3
    assert all(h.status == "EXPIRED" for h in w.bk.list_holds())
    assert [units(w.bk, w.rid, w.day(n)) for n in range(3)] == [(10, 10, 0, 0)] * 3
    assert count(w.bk.db, "SELECT count(*) FROM booking_event WHERE action = 'hold.expire'") == 7
    assert w.bk.sweep(batch_size=batch_size).expired_holds == 0


def test_batch_size_exactly_dividing_the_due_holds(w):
    holds = [w.bk.create_hold(w.rid, w.day(0), 1, EMAIL) for _ in range(6)]
    expire(w.bk, *(h.id for h in holds))
    result = w.bk.sweep(batch_size=3)
    assert (result.expired_holds, result.returned_units, result.batches) == (6, 6, 2)
    assert units(w.bk, w.rid, w.day(0)) == (10, 10, 0, 0)


def test_dry_run_counts_and_changes_nothing(w):
    holds = [w.bk.create_hold(w.rid, w.day(n % 2), 2, EMAIL) for n in range(5)]
    expire(w.bk, *(h.id for h in holds[:4]))
    before = state(w.bk.db)
    preview = w.bk.sweep(dry_run=True)
    assert (preview.expired_holds, preview.returned_units, preview.cells) == (4, 8, 2)
    assert (preview.batches, preview.dry_run) == (0, True)
    assert state(w.bk.db) == before
    result = w.bk.sweep(batch_size=3)
    assert (result.expired_holds, result.returned_units, result.cells) == (4, 8, 2)


def test_nothing_due_is_a_no_op(w):
    w.bk.create_hold(w.rid, w.day(0), 2, EMAIL)
    before = state(w.bk.db)
    result = w.bk.sweep()
    assert (result.expired_holds, result.returned_units, result.cells, result.batches) == (
        0,
        0,
        0,
        0,
    )
    assert state(w.bk.db) == before


def test_a_swept_hold_is_logged_and_final(w):
    hold = w.bk.create_hold(w.rid, w.day(1), 3, "Ana@Example.com")
    expire(w.bk, hold.id)
    w.bk.sweep()
    assert actions(w.bk, entity="hold", entity_id=hold.id) == ["hold.create", "hold.expire"]
    event = w.bk.hold_history(hold.id)[-1]
    assert (event.resource_id, event.date_from, event.customer_email) == (
        w.rid,
        w.day(1),
        "ana@example.com",
    )
    assert event.details["quantity"] == 3 and event.actor == "test"
    for call in (
        lambda: w.bk.release_hold(hold.id),
        lambda: w.bk.confirm_hold(hold.id, "o", "li"),
        lambda: w.bk.extend_hold(hold.id, 5),
    ):
        with refused(w.bk, "invalid_state"):
            call()
    assert units(w.bk, w.rid, w.day(1)) == (10, 10, 0, 0)


def test_sweep_then_replay_of_the_token_returns_the_expired_hold(w):
    hold = w.bk.create_hold(w.rid, w.day(0), 2, EMAIL, token="cart-7")
    expire(w.bk, hold.id)
    w.bk.sweep()
    again = w.bk.create_hold(w.rid, w.day(0), 2, EMAIL, token="cart-7")
    assert (again.id, again.status, again.replay) == (hold.id, "EXPIRED", True)
    assert units(w.bk, w.rid, w.day(0)) == (10, 10, 0, 0)
