"""Reading the hold queue a page at a time: counts, pages in the queue's order, holds by id."""

from __future__ import annotations

import pytest

from booking_helpers import expire, make_world
from resbook_tui.booking import BookingError


@pytest.fixture
def queue(db):  # noqa: ANN001, ANN201
    w = make_world(db, capacity=50, days=3)
    holds = [
        w.bk.create_hold(w.rid, w.day(n % 3), 1, f"{name}@example.com", ttl_minutes=10 + n)
        for n, name in enumerate(["ana", "ben", "ana.b", "chen", "dana", "ana"])
    ]
    w.bk.release_hold(holds[1].id)
    w.bk.confirm_hold(holds[3].id, "order-1", "li-1")
    return w, holds


def test_counts_by_status_and_part_of_an_email(queue):
    w, _holds = queue
    assert w.bk.count_holds() == 6
    assert w.bk.count_holds(status="ACTIVE") == 4
    assert w.bk.count_holds(status="released") == 1
    assert w.bk.count_holds(email_contains="ANA") == 4  # ana (twice), ana.b, dana
    assert w.bk.count_holds(status="ACTIVE", email_contains="a.b") == 1


def test_active_pages_come_soonest_expiry_first(queue):
    w, holds = queue
    expire(w.bk, holds[5].id)  # now the soonest
    active = w.bk.hold_page(status="ACTIVE", limit=10)
    assert [h.id for h in active] == [holds[5].id, holds[0].id, holds[2].id, holds[4].id]
    assert [h.id for h in w.bk.hold_page(status="ACTIVE", offset=1, limit=2)] == [
        holds[0].id,
        holds[2].id,
    ]


def test_other_statuses_and_all_come_newest_first(queue):
    w, holds = queue
    every = w.bk.hold_page(limit=10)
    assert [h.id for h in every] == sorted((h.id for h in holds), reverse=True)
    assert w.bk.hold_page(offset=6, limit=10) == []


def test_holds_by_id_leave_out_what_does_not_exist(queue):
    w, holds = queue
    got = w.bk.get_holds([holds[3].id, holds[0].id, 10**9, holds[0].id])
    assert [h.id for h in got] == [holds[0].id, holds[3].id]
    assert got[1].status == "CONFIRMED"
    assert w.bk.get_holds([]) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda bk: bk.hold_page(limit=0),
        lambda bk: bk.hold_page(limit=10_001),
        lambda bk: bk.hold_page(offset=-1),
        lambda bk: bk.hold_page(status="LOST"),
        lambda bk: bk.get_holds(list(range(1, 1_002))),
        lambda bk: bk.get_holds(["1"]),
        lambda bk: bk.count_holds(email_contains="a\x1bb"),
    ],
)
def test_bad_requests_are_one_line_refusals(queue, call):
    w, _holds = queue
    with pytest.raises(BookingError) as info:
        call(w.bk)
    assert info.value.code == "invalid_input" and "\n" not in str(info.value)
