"""Real threads on PostgreSQL, each with its own connection, racing for the same rows.

Threads start each race together on a ``threading.Barrier``; nothing waits on a clock.
The database decides every race, so the assertions are about outcomes only: how many
won, what the rows say afterwards, and that nothing but a BookingError came back.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from booking_helpers import World, count, expire, make_world, units
from resbook_tui.booking import Allocation, Booking, BookingError, Hold
from resbook_tui.db import open_database

pytestmark = pytest.mark.postgres

EMAIL = "ana@example.com"
BARRIER_TIMEOUT_S = 60  # a safety net against a hang, never a synchronisation device


def attempt(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The call's result, or the code of the BookingError it raised."""
    try:
        return call(*args, **kwargs)
    except BookingError as exc:
        return exc.code


def run_rounds(
    url: str,
    workers: int,
    rounds: int,
    setup: Callable[[int], Any],
    work: Callable[[int, Booking, Any], Any],
    check: Callable[[int, Any, list[Any]], None],
) -> None:
    """Each worker thread opens its own database and Booking once; then, per round, the
    main thread runs ``setup(round)``, all workers run ``work(i, bk, setup_value)`` at
    the same moment, and the main thread runs ``check(round, setup_value, outcomes)``."""
    barrier = threading.Barrier(workers + 1, timeout=BARRIER_TIMEOUT_S)
    outcomes: list[Any] = [None] * workers
    shared: dict[str, Any] = {}

    def worker(i: int) -> None:
        try:
            db = open_database(url)
        except BaseException as exc:
            outcomes[i] = exc
            barrier.abort()
            return
        try:
            bk = Booking(db, actor=f"worker-{i}")
            for _ in range(rounds):
                barrier.wait()  # start together
                try:
                    outcomes[i] = work(i, bk, shared["value"])
                except BaseException as exc:  # recorded and reported by the main thread
                    outcomes[i] = exc
                barrier.wait()  # round over
        except threading.BrokenBarrierError:
            pass
        finally:
            db.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(workers)]
    for t in threads:
        t.start()
    try:
        for r in range(rounds):
            shared["value"] = setup(r)
            barrier.wait()
            barrier.wait()
            errors = [o for o in outcomes if isinstance(o, BaseException)]
            assert not errors, f"round {r}: a worker failed: {errors[0]!r}"
            check(r, shared["value"], list(outcomes))
    except BaseException:
        barrier.abort()
        raise
    finally:
        for t in threads:
            t.join(BARRIER_TIMEOUT_S)
    assert not any(t.is_alive() for t in threads)


def run_together(url: str, workers: int, work: Callable[[int, Booking], Any]) -> list[Any]:
    """One round: every worker runs ``work(i, bk)`` at once; their outcomes in order."""
    got: list[Any] = []
    run_rounds(
        url,
        workers,
        1,
        setup=lambda r: None,
        work=lambda i, bk, _: work(i, bk),
        check=lambda r, _, outcomes: got.extend(outcomes),
    )
    return got


def statuses(bk: Booking) -> Counter:
    return Counter(h.status for h in bk.list_holds())


@pytest.fixture
def w(pg_db) -> World:
    return make_world(pg_db, capacity=5, days=5)


# ---- many requests for the same units ---------------------------------------------------------


def test_32_workers_race_for_5_units(pg_url, w):
    outcomes = run_together(
        pg_url,
        32,
        lambda i, bk: attempt(lambda: bk.create_hold(w.rid, w.day(0), 1, f"c{i}@example.com")),
    )
    won = [o for o in outcomes if isinstance(o, Hold)]
    assert len(won) == 5 and len({h.id for h in won}) == 5
    assert Counter(o for o in outcomes if not isinstance(o, Hold)) == {"no_capacity": 27}
    assert units(w.bk, w.rid, w.day(0)) == (5, 0, 5, 0)
    assert count(w.bk.db, "SELECT count(*) FROM resource_hold") == 5
    assert count(w.bk.db, "SELECT count(*) FROM booking_event WHERE action = 'hold.create'") == 5


def test_mixed_quantities_never_overbook(pg_url, pg_db):
    w = make_world(pg_db, capacity=10, days=1)
    outcomes = run_together(
        pg_url,
        24,
        lambda i, bk: attempt(lambda: bk.create_hold(w.rid, w.day(0), 1 + i % 3, EMAIL)),
    )
    won = [o for o in outcomes if isinstance(o, Hold)]
    taken = sum(h.quantity for h in won)
    assert taken <= 10
    assert units(w.bk, w.rid, w.day(0)) == (10, 10 - taken, taken, 0)
    # Units only ever went down, so a refusal for q units means fewer than q were left
    # then, and fewer still at the end.
    refused = [1 + i % 3 for i, o in enumerate(outcomes) if not isinstance(o, Hold)]
    assert refused, "48 units were asked for 10"
    assert {o for o in outcomes if not isinstance(o, Hold)} == {"no_capacity"}
    assert all(10 - taken < q for q in refused)


def test_16_identical_requests_make_one_hold(pg_url, w):
    outcomes = run_together(
        pg_url,
        16,
        lambda i, bk: bk.create_hold(w.rid, w.day(0), 2, EMAIL, token="cart-77"),
    )
    assert len({h.id for h in outcomes}) == 1
    assert Counter(h.replay for h in outcomes) == {True: 15, False: 1}
    assert units(w.bk, w.rid, w.day(0)) == (5, 3, 2, 0)
    assert count(w.bk.db, "SELECT count(*) FROM resource_hold") == 1
    assert count(w.bk.db, "SELECT count(*) FROM booking_event WHERE action = 'hold.create'") == 1


def test_one_token_different_requests_one_wins(pg_url, w):
    """Half ask for 1 unit, half for 2, one token: one hold; the same request replays it,
    the other is a token_conflict."""
    outcomes = run_together(
        pg_url,
        12,
        lambda i, bk: attempt(
            lambda: bk.create_hold(w.rid, w.day(0), 1 + i % 2, EMAIL, token="cart-88")
        ),
    )
    holds = [o for o in outcomes if isinstance(o, Hold)]
    assert len({h.id for h in holds}) == 1
    winner = holds[0].quantity
    for i, o in enumerate(outcomes):
        if 1 + i % 2 == winner:
            assert isinstance(o, Hold)
        else:
            assert o == "token_conflict"
    assert sum(not h.replay for h in holds) == 1
    assert units(w.bk, w.rid, w.day(0)) == (5, 5 - winner, winner, 0)


def test_overlapping_ranges_neither_deadlock_nor_overbook(pg_url, pg_db):
    w = make_world(pg_db, capacity=4, days=6)

    def work(i: int, bk: Booking) -> Any:
        first = w.day(i % 4)
        return attempt(lambda: bk.create_holds(w.rid, first, first + timedelta(days=2), 1, EMAIL))

    outcomes = run_together(pg_url, 16, work)
    assert set(o for o in outcomes if not isinstance(o, list)) <= {"no_capacity"}
    won = [o for o in outcomes if isinstance(o, list)]
    assert won, "some range must fit"
    for n in range(w.days):
        taken = sum(1 for holds in won for h in holds if h.date == w.day(n))
        assert units(w.bk, w.rid, w.day(n)) == (4, 4 - taken, taken, 0)
    assert count(w.bk.db, "SELECT count(*) FROM resource_hold") == 3 * len(won)


# ---- one hold, several hands on it ------------------------------------------------------------

ROUNDS = 25


def test_sweep_against_release_on_an_expired_hold(pg_url, w):
    def setup(r: int) -> int:
        hold = w.bk.create_hold(w.rid, w.day(r % w.days), 2, EMAIL)
        expire(w.bk, hold.id)
        return hold.id

    def work(i: int, bk: Booking, hold_id: int) -> Any:
        if i == 0:
            return bk.sweep(batch_size=10)
        return attempt(lambda: bk.release_hold(hold_id))

    wins = Counter()

    def check(r: int, hold_id: int, outcomes: list[Any]) -> None:
        swept, released = outcomes
        status = w.bk.get_hold(hold_id).status
        if status == "EXPIRED":
            assert swept.expired_holds == 1 and swept.returned_units == 2
            assert released == "invalid_state"
        else:
            assert status == "RELEASED"
            assert isinstance(released, Hold) and swept.expired_holds == 0
        wins[status] += 1
        history = [e.action for e in w.bk.hold_history(hold_id)]
        assert history in (["hold.create", "hold.expire"], ["hold.create", "hold.release"])
        assert units(w.bk, w.rid, w.day(r % w.days)) == (5, 5, 0, 0)

    run_rounds(pg_url, 2, ROUNDS, setup, work, check)
    assert sum(wins.values()) == ROUNDS


def test_confirm_against_release_on_an_active_hold(pg_url, w):
    def setup(r: int) -> int:
        return w.bk.create_hold(w.rid, w.day(r % w.days), 1, EMAIL).id

    def work(i: int, bk: Booking, hold_id: int) -> Any:
        if i == 0:
            return attempt(lambda: bk.confirm_hold(hold_id, f"o-{hold_id}", "li"))
        return attempt(lambda: bk.release_hold(hold_id))

    def check(r: int, hold_id: int, outcomes: list[Any]) -> None:
        confirmed, released = outcomes
        status = w.bk.get_hold(hold_id).status
        allocations = [a for a in w.bk.list_allocations() if a.hold_id == hold_id]
        if status == "CONFIRMED":
            assert isinstance(confirmed, Allocation) and released == "invalid_state"
            assert allocations == [confirmed]
            w.bk.cancel_allocation(confirmed.id)  # put the unit back for the next round
        else:
            assert status == "RELEASED"
            assert isinstance(released, Hold) and confirmed == "invalid_state"
            assert allocations == []
        assert units(w.bk, w.rid, w.day(r % w.days)) == (5, 5, 0, 0)

    run_rounds(pg_url, 2, ROUNDS, setup, work, check)


def test_every_hand_on_one_expired_hold(pg_url, w):
    """Sweep, two releases, a confirm and an extend at once: exactly one of the sweep and
    the releases wins; confirm and extend never do."""

    def setup(r: int) -> int:
        hold = w.bk.create_hold(w.rid, w.day(r % w.days), 3, EMAIL)
        expire(w.bk, hold.id)
        return hold.id

    def work(i: int, bk: Booking, hold_id: int) -> Any:
        return attempt(
            [
                lambda: bk.sweep(),
                lambda: bk.release_hold(hold_id),
                lambda: bk.release_hold(hold_id),
                lambda: bk.confirm_hold(hold_id, "o", "li"),
                lambda: bk.extend_hold(hold_id, 30),
            ][i]
        )

    def check(r: int, hold_id: int, outcomes: list[Any]) -> None:
        swept, rel1, rel2, confirmed, extended = outcomes
        winners = (swept.expired_holds == 1) + isinstance(rel1, Hold) + isinstance(rel2, Hold)
        assert winners == 1
        assert confirmed in ("expired", "invalid_state")
        assert extended in ("expired", "invalid_state")
        assert w.bk.get_hold(hold_id).status in ("EXPIRED", "RELEASED")
        assert len(w.bk.hold_history(hold_id)) == 2
        assert units(w.bk, w.rid, w.day(r % w.days)) == (5, 5, 0, 0)

    run_rounds(pg_url, 5, ROUNDS, setup, work, check)


def test_concurrent_sweeps_expire_each_hold_once(pg_url, w):
    """Sweeps racing each other never expire a hold twice. A sweep skips holds whose cell
    another sweep has locked at that moment (it never waits), so one more sweep afterwards
    takes what all of them left."""

    def setup(r: int) -> list[int]:
        holds = [w.bk.create_hold(w.rid, w.day(n % w.days), 1, EMAIL) for n in range(12)]
        expire(w.bk, *(h.id for h in holds))
        return [h.id for h in holds]

    def check(r: int, hold_ids: list[int], outcomes: list[Any]) -> None:
        left = w.bk.sweep()
        assert left.skipped == 0
        assert sum(s.expired_holds for s in outcomes) + left.expired_holds == 12
        assert sum(s.returned_units for s in outcomes) + left.returned_units == 12
        assert statuses(w.bk)["ACTIVE"] == 0
        assert all(units(w.bk, w.rid, w.day(n))[1] == 5 for n in range(w.days))

    run_rounds(pg_url, 4, 8, setup, lambda i, bk, _: bk.sweep(batch_size=3), check)
    expired = count(w.bk.db, "SELECT count(*) FROM booking_event WHERE action = 'hold.expire'")
    assert expired == 8 * 12


# ---- rules against rules ------------------------------------------------------------------


def test_blackout_against_hold_never_hides_a_hold(pg_url, pg_db):
    w = make_world(pg_db, capacity=5, days=ROUNDS)

    def work(i: int, bk: Booking, day: date) -> Any:
        if i == 0:
            return bk.add_blackout(w.rid, day, None, "storm")
        return attempt(lambda: bk.create_hold(w.rid, day, 1, EMAIL))

    def check(r: int, day: date, outcomes: list[Any]) -> None:
        blackout, hold = outcomes
        if isinstance(hold, Hold):
            # The hold came first: the blackout must have reported it.
            assert [h.id for h in blackout.active_holds] == [hold.id]
        else:
            assert hold == "blackout" and blackout.active_holds == ()
            assert units(w.bk, w.rid, day) == (5, 5, 0, 0)

    run_rounds(pg_url, 2, ROUNDS, lambda r: w.day(r), work, check)


def test_two_capacity_settings_for_a_new_date_both_land(pg_url, w):
    """Two set_capacity calls for a date with no capacity row yet: the one that commits
    second must not be silently dropped (it reports what it changed, and it sticks)."""

    def work(i: int, bk: Booking, day: date) -> Any:
        return bk.set_capacity(w.rid, day, None, (3, 7)[i])

    def check(r: int, day: date, outcomes: list[Any]) -> None:
        assert sorted((c.created, c.updated) for c in outcomes) == [(0, 1), (1, 0)]
        second = next(c for c in outcomes if c.updated == 1)
        assert units(w.bk, w.rid, day) == (second.max_capacity,) * 2 + (0, 0)

    run_rounds(pg_url, 2, 20, lambda r: w.day(w.days + r), work, check)


def _wait_until(db, sql: str, what: str) -> None:  # noqa: ANN001
    """Poll the server until ``sql`` returns a row: a condition, not a clock. The deadline
    only turns a hang into a failure."""
    deadline = time.monotonic() + BARRIER_TIMEOUT_S
    while db.execute_sql(sql).fetchone() is None:
        assert time.monotonic() < deadline, f"never saw: {what}"


def test_replay_racing_a_release_of_the_same_hold_neither_waits_nor_deadlocks(pg_url, w):
    """A retried request (same token) arrives while the original hold is being released.

    The release is parked right after its hold UPDATE (a trigger waits on an advisory lock
    the test holds), holding the hold row and about to lock the cell. The replay meets the
    committed request row on hold_request's unique index and answers from it without
    touching the hold row or the cell, so it neither waits for the release nor deadlocks
    with it (as it could when the token lived on the hold row itself).
    """
    hold = w.bk.create_hold(w.rid, w.day(0), 2, EMAIL, token="cart-retry")
    db = w.bk.db
    db.execute_sql(
        "CREATE FUNCTION park_release() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_advisory_xact_lock(4242); RETURN NEW; END; $$"
    )
    db.execute_sql(
        "CREATE TRIGGER park_release AFTER UPDATE ON resource_hold "
        "FOR EACH ROW EXECUTE FUNCTION park_release()"
    )
    db.execute_sql("SELECT pg_advisory_lock(4242)")
    outcomes: dict[str, Any] = {}

    def run(name: str, call: Callable[[Booking], Any]) -> None:
        own = open_database(pg_url)
        try:
            outcomes[name] = attempt(call, Booking(own, actor=name))
        except BaseException as exc:
            outcomes[name] = exc
        finally:
            own.close()

    release = threading.Thread(target=run, args=("release", lambda b: b.release_hold(hold.id)))
    replay = threading.Thread(
        target=run,
        args=("replay", lambda b: b.create_hold(w.rid, w.day(0), 2, EMAIL, token="cart-retry")),
    )
    try:
        release.start()
        _wait_until(
            db,
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted",
            "the release parked after its hold update",
        )
        replay.start()
        replay.join(BARRIER_TIMEOUT_S)
        assert not replay.is_alive(), "the replay waited for the release"
        assert release.is_alive(), "the release was parked until now"
    finally:
        db.execute_sql("SELECT pg_advisory_unlock(4242)")
        release.join(BARRIER_TIMEOUT_S)
        replay.join(BARRIER_TIMEOUT_S)
    assert isinstance(outcomes["release"], Hold), outcomes["release"]
    assert isinstance(outcomes["replay"], Hold), outcomes["replay"]
    assert outcomes["replay"].id == hold.id and outcomes["replay"].replay
    assert outcomes["replay"].status == "ACTIVE"  # as committed when it asked
    assert w.bk.get_hold(hold.id).status == "RELEASED"
    assert units(w.bk, w.rid, w.day(0)) == (5, 5, 0, 0)


# ---- everything at once -------------------------------------------------------------------

WORKERS, OPS_PER_WORKER = 8, 200
ACCEPTABLE = {"no_capacity", "invalid_state", "expired", "not_found", "token_conflict"}


def test_random_mixed_operations_keep_the_books_balanced(pg_url, pg_db):
    resources, days, capacity = 2, 3, 6
    bk = Booking(pg_db, actor="setup")
    start = bk.today() + timedelta(days=1)
    rids = []
    for n in range(resources):
        r = bk.add_resource(f"Cruiser {n}", "VEHICLE")
        bk.set_capacity(r.id, start, start + timedelta(days=days - 1), capacity)
        rids.append(r.id)
    hold_ids: list[int] = []  # shared between threads: list.append is atomic
    allocation_ids: list[int] = []

    def work(i: int, wbk: Booking) -> Counter:
        rng = random.Random(1000 + i)
        tally: Counter = Counter()
        expire_sql = (
            "UPDATE resource_hold SET expires_at = now() - interval '1 minute' WHERE id = %s"
        )
        for _ in range(OPS_PER_WORKER):
            rid = rng.choice(rids)
            day = start + timedelta(days=rng.randrange(days))
            op = rng.choices(
                [
                    "hold",
                    "range",
                    "confirm",
                    "release",
                    "extend",
                    "expire",
                    "cancel",
                    "sweep",
                    "capacity",
                ],
                weights=[30, 6, 12, 10, 6, 8, 6, 4, 6],
            )[0]
            some_hold = rng.choice(hold_ids) if hold_ids else 0
            if op == "hold":
                token = f"tok-{rng.randrange(20)}" if rng.random() < 0.3 else None
                out = attempt(wbk.create_hold, rid, day, rng.randint(1, 3), EMAIL, token=token)
                if isinstance(out, Hold) and not out.replay:
                    hold_ids.append(out.id)
            elif op == "range":
                out = attempt(wbk.create_holds, rid, start, start + timedelta(days - 1), 1, EMAIL)
                if isinstance(out, list):
                    hold_ids.extend(h.id for h in out)
            elif op == "confirm":
                out = attempt(wbk.confirm_hold, some_hold, f"o{i}", "li")
                if isinstance(out, Allocation):
                    allocation_ids.append(out.id)
            elif op == "release":
                out = attempt(wbk.release_hold, some_hold)
            elif op == "extend":
                out = attempt(wbk.extend_hold, some_hold, 5)
            elif op == "expire":
                wbk.db.execute_sql(expire_sql, (some_hold,))
                out = "time passed"
            elif op == "cancel":
                alloc = rng.choice(allocation_ids) if allocation_ids else 0
                out = attempt(wbk.cancel_allocation, alloc)
            elif op == "sweep":
                out = wbk.sweep(batch_size=rng.choice([1, 2, 50]))
            else:
                out = attempt(wbk.set_capacity, rid, day, None, rng.randint(0, 8))
            if isinstance(out, str) and out != "time passed":
                assert out in ACCEPTABLE, f"{op} gave {out}"
                tally[f"{op}:{out}"] += 1
            else:
                tally[f"{op}:ok"] += 1
        return tally

    tallies = run_together(pg_url, WORKERS, work)
    total = sum(tallies, Counter())
    assert sum(total.values()) == WORKERS * OPS_PER_WORKER
    assert total["hold:ok"] > 0 and total["confirm:ok"] > 0 and total["release:ok"] > 0

    cells = bk.availability(start, start + timedelta(days=days - 1))
    assert len(cells) == resources * days
    for c in cells:
        assert c.available >= 0
        assert c.max_capacity == c.available + c.held + c.allocated, c

    # The audit trail tells the same story as the rows.
    def n(sql: str) -> int:
        return count(pg_db, sql)

    assert n("SELECT count(*) FROM booking_event WHERE action = 'hold.create'") == n(
        "SELECT count(*) FROM resource_hold"
    )
    for action, status in (
        ("hold.confirm", "CONFIRMED"),
        ("hold.release", "RELEASED"),
        ("hold.expire", "EXPIRED"),
    ):
        assert n(f"SELECT count(*) FROM booking_event WHERE action = '{action}'") == n(
            f"SELECT count(*) FROM resource_hold WHERE status = '{status}'"
        ), action
    assert n("SELECT count(*) FROM resource_hold WHERE status = 'CONFIRMED'") == n(
        "SELECT count(*) FROM resource_allocation"
    ) + n("SELECT count(*) FROM booking_event WHERE action = 'allocation.cancel'")
