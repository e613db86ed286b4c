"""The shop's calls in the booking layer: bundles (all or nothing, summed lines, moving
together), API keys (hashed, never listed) and idempotency records; the CLI for keys."""

from __future__ import annotations

import json
from datetime import timedelta

import psycopg2
import pytest
from typer.testing import CliRunner

from booking_helpers import actions, count, expire, make_world, refused, units
from resbook_tui.booking import Booking, BookingError
from resbook_tui.booking.idempotency import Stored
from resbook_tui.cli import app
from resbook_tui.db import raw_url
from resbook_tui.models import ResourceHold

EMAIL = "ana@example.com"
runner = CliRunner()


def line(rid: int, day, quantity: int, to=None) -> dict:  # noqa: ANN001
    found = {"resource_id": rid, "date": str(day), "quantity": quantity}
    return found if to is None else {**found, "to": str(to)}


@pytest.fixture
def two(db):
    """A vehicle (5 a day) and a guide (2 a day) over five days from tomorrow."""
    w = make_world(db, capacity=5)
    guide = w.bk.add_resource("Guide", "GUIDE")
    w.bk.set_capacity(guide.id, w.day(0), w.day(4), 2)
    return w, guide.id


def test_a_bundle_holds_every_line_of_every_date(two):
    w, guide = two
    b = w.bk.create_bundle([line(w.rid, w.day(0), 2, to=w.day(1)), line(guide, w.day(0), 1)], EMAIL)
    assert b.status == "ACTIVE" and b.email == EMAIL
    assert [(h.resource_id, h.date, h.quantity) for h in b.holds] == [
        (w.rid, w.day(0), 2),
        (w.rid, w.day(1), 2),
        (guide, w.day(0), 1),
    ]
    assert units(w.bk, w.rid, w.day(1)) == (5, 3, 2, 0)
    assert units(w.bk, guide, w.day(0)) == (2, 1, 1, 0)
    assert actions(w.bk, action="hold.create") == ["hold.create"] * 3
    assert w.bk.get_bundle(b.id) == b


def test_a_bundle_of_more_cells_than_kept_rendered_holds_them_all(two):
    """Hold inserts of up to 8 rows are rendered once; a longer one is rendered for itself."""
    w, guide = two
    b = w.bk.create_bundle(
        [line(w.rid, w.day(0), 1, to=w.day(4)), line(guide, w.day(0), 1, to=w.day(4))], EMAIL
    )
    assert sorted((h.resource_id, h.date, h.quantity) for h in b.holds) == sorted(
        [(w.rid, w.day(n), 1) for n in range(5)] + [(guide, w.day(n), 1) for n in range(5)]
    )
    assert units(w.bk, guide, w.day(4)) == (2, 1, 1, 0)
    assert w.bk.get_bundle(b.id) == b


def test_lines_on_one_cell_are_summed_before_the_check(two):
    w, _ = two
    with refused(w.bk, "insufficient_capacity") as info:
        w.bk.create_bundle([line(w.rid, w.day(0), 3), line(w.rid, w.day(0), 3)], EMAIL)
    (short,) = info.value.shortfalls
    assert (short.resource_id, short.date, short.requested, short.available) == (
        w.rid,
        w.day(0),
        6,
        5,
    )
    b = w.bk.create_bundle([line(w.rid, w.day(0), 2), line(w.rid, w.day(0), 3)], EMAIL)
    assert [h.quantity for h in b.holds] == [5]


def test_a_bundle_is_all_or_nothing_and_names_every_shortfall(two):
    w, guide = two
    with refused(w.bk, "insufficient_capacity") as info:
        w.bk.create_bundle([line(w.rid, w.day(0), 1), line(guide, w.day(0), 3, to=w.day(1))], EMAIL)
    assert [(s.resource_id, s.date) for s in info.value.shortfalls] == [
        (guide, w.day(0)),
        (guide, w.day(1)),
    ]


def test_refusals_say_why(two):
    w, guide = two
    w.bk.add_blackout(guide, w.day(2), None, "guide on leave")
    with refused(w.bk, "blacked_out"):
        w.bk.create_bundle([line(w.rid, w.day(2), 1), line(guide, w.day(2), 1)], EMAIL)
    with refused(w.bk, "not_found"):
        w.bk.create_bundle([line(w.rid, w.day(0), 1), line(99999, w.day(0), 1)], EMAIL)
    with refused(w.bk, "invalid_input"):
        w.bk.create_bundle([line(w.rid, w.day(0), 1)], "not an email")
    with refused(w.bk, "invalid_input"):
        w.bk.create_bundle([], EMAIL)
    with refused(w.bk, "invalid_input"):
        w.bk.create_bundle([line(w.rid, w.day(0), 1)], EMAIL, ttl_minutes=121)
    w.bk.deactivate(guide)
    with refused(w.bk, "inactive_resource"):
        w.bk.create_bundle([line(guide, w.day(0), 1)], EMAIL)


def test_a_longest_life_under_the_default_ttl_caps_the_default(two, monkeypatch):
    w, _ = two
    monkeypatch.setattr(w.bk, "max_hold_life", 5)
    b = w.bk.create_bundle([line(w.rid, w.day(0), 1)], EMAIL)  # default TTL 30: capped
    assert round((b.expires_at - b.created_at).total_seconds() / 60) == 5
    with refused(w.bk, "invalid_input"):
        w.bk.create_bundle([line(w.rid, w.day(0), 1)], EMAIL, ttl_minutes=6)  # asked: refused


def test_extend_is_capped_by_the_longest_hold_life(two):
    w, guide = two
    b = w.bk.create_bundle([line(w.rid, w.day(0), 1), line(guide, w.day(0), 1)], EMAIL)
    longer = w.bk.extend_bundle(b.id, 60)
    assert (longer.expires_at - b.expires_at).total_seconds() == 3600
    with refused(w.bk, "hold_life_exceeded"):
        w.bk.extend_bundle(b.id, 31)  # 30 + 60 + 31 > 120
    expire(w.bk, *(h.id for h in b.holds))
    with refused(w.bk, "hold_not_active"):
        w.bk.extend_bundle(b.id, 1)
    lapsed = w.bk.get_bundle(b.id)
    # Before any sweep: the request and each of its lines say EXPIRED (the rows still say
    # ACTIVE), so a shop reading the lines does not take the units for held.
    assert lapsed.status == "EXPIRED"
    assert [h.status for h in lapsed.holds] == ["EXPIRED", "EXPIRED"]


def test_confirm_makes_an_allocation_per_hold_once(two):
    w, guide = two
    b = w.bk.create_bundle([line(w.rid, w.day(0), 2), line(guide, w.day(0), 1)], EMAIL)
    done = w.bk.confirm_bundle(b.id, "order-1", "li-9")
    assert done.status == "CONFIRMED"
    assert [(a.hold_id, a.order_id, a.line_item_id) for a in done.allocations] == [
        (h.id, "order-1", "li-9") for h in b.holds
    ]
    assert units(w.bk, w.rid, w.day(0)) == (5, 3, 0, 2)
    with refused(w.bk, "hold_not_active"):
        w.bk.confirm_bundle(b.id, "order-2")
    with refused(w.bk, "hold_not_active"):
        w.bk.release_bundle(b.id)  # a confirmed booking is cancelled, not released
    assert w.bk.get_bundle(b.id).allocations == done.allocations


def test_a_cancelled_booking_reads_cancelled_and_then_releases_as_a_success(two):
    w, guide = two
    b = w.bk.create_bundle([line(w.rid, w.day(0), 2), line(guide, w.day(0), 1)], EMAIL)
    done = w.bk.confirm_bundle(b.id, "order-1")
    first, second = done.allocations
    w.bk.cancel_allocation(first.id)
    partly = w.bk.get_bundle(b.id)
    assert {h.id: h.status for h in partly.holds} == {
        first.hold_id: "CANCELLED",
        second.hold_id: "CONFIRMED",
    }
    assert partly.status == "MIXED" and partly.allocations == (second,)
    with refused(w.bk, "hold_not_active"):
        w.bk.release_bundle(b.id)  # one booking is still there
    w.bk.cancel_allocation(second.id)
    gone = w.bk.get_bundle(b.id)
    assert gone.status == "CANCELLED" and gone.allocations == ()
    # Nothing held or booked: a shop's retried compensation succeeds, changing nothing.
    assert w.bk.release_bundle(b.id) == gone
    assert units(w.bk, w.rid, w.day(0)) == (5, 5, 0, 0)
    assert units(w.bk, guide, w.day(0)) == (2, 2, 0, 0)


def test_every_answer_about_a_bundle_says_when_it_was_made(two):
    """The bundle's own created_at, never its first hold's (on SQLite a few ms later;
    moved a second here so that a mix-up cannot hide in the same millisecond)."""
    w, guide = two
    b = w.bk.create_bundle([line(w.rid, w.day(0), 2), line(guide, w.day(0), 1)], EMAIL)
    later = b.created_at + timedelta(seconds=1)
    ResourceHold.update(created_at=later).where(ResourceHold.bundle_id == b.id).execute(w.bk.db)
    extended = w.bk.extend_bundle(b.id, 5)
    confirmed = w.bk.confirm_bundle(b.id, "order-1")
    got = w.bk.get_bundle(b.id)
    assert extended.created_at == confirmed.created_at == got.created_at == b.created_at


def test_one_expired_hold_refuses_the_whole_confirm(two):
    w, guide = two
    b = w.bk.create_bundle([line(w.rid, w.day(0), 2), line(guide, w.day(0), 1)], EMAIL)
    expire(w.bk, b.holds[1].id)
    with refused(w.bk, "hold_not_active"):
        w.bk.confirm_bundle(b.id, "order-1")


def test_release_gives_back_and_again_is_a_success(two):
    w, guide = two
    b = w.bk.create_bundle([line(w.rid, w.day(0), 2), line(guide, w.day(0), 2)], EMAIL)
    assert w.bk.release_bundle(b.id).status == "RELEASED"
    assert units(w.bk, guide, w.day(0)) == (2, 2, 0, 0)
    before = len(w.bk.events(limit=None))
    assert w.bk.release_bundle(b.id).status == "RELEASED"
    assert len(w.bk.events(limit=None)) == before
    with refused(w.bk, "not_found"):
        w.bk.release_bundle(b.id + 1000)
    with refused(w.bk, "not_found"):
        w.bk.get_bundle(2**63 - 1)
    with refused(w.bk, "invalid_input"):
        w.bk.get_bundle(2**63)


def test_api_keys_are_hashed_listed_without_secrets_and_revoked(db):
    bk = Booking(db, actor="test")
    made = bk.create_api_key("web shop", "store")
    assert made.key.startswith("rbk_") and len(made.key) > 40
    assert bk.authenticate(made.key) == made.info
    assert bk.authenticate(made.key + "x") is None
    stored = db.execute_sql("SELECT prefix, secret_hash FROM api_key").fetchall()
    assert made.key not in repr(stored) and made.key[:12] == stored[0][0]
    assert made.key not in repr(bk.list_api_keys())
    bk.revoke_api_key(made.info.id)
    assert bk.authenticate(made.key) is None
    assert bk.revoke_api_key(made.info.id).revoked_at is not None  # again: no change
    assert actions(bk, entity="api_key") == ["api_key.create", "api_key.revoke"]
    with pytest.raises(BookingError, match="role must be one of"):
        bk.create_api_key("x", "root")
    with pytest.raises(BookingError):
        bk.create_api_key("bad\x1bname", "admin")


def _effects(bk: Booking) -> int:
    """How many effects committed: each adds a resource (on PostgreSQL the effect may
    start before its claim is known to have failed; only its commit counts)."""
    return len([r for r in bk.list_resources() if r.name.startswith("effect-")])


def _runner(bk: Booking, calls: list[int]):  # noqa: ANN202
    key_id = bk.create_api_key("shop", "store").info.id

    def run(request_hash: str, key: str = "cart-1", route: str = "POST /v1/holds", fail=None):  # noqa: ANN001
        def effect() -> int:
            if fail is not None:
                raise fail
            calls.append(1)
            bk.add_resource(f"effect-{len(calls)}", "VEHICLE")
            return _effects(bk)  # this one included (its transaction sees it)

        return bk.run_idempotent(
            api_key_id=key_id,
            route=route,
            key=key,
            request_hash=request_hash,
            effect=effect,
            answer=lambda n: Stored(201, f'{{"n": {n}}}', f"/x/{n}"),
            refusal=lambda exc: None if exc.code == "busy" else Stored(409, exc.code),
        )

    return run, key_id


def test_idempotent_runs_once_replays_and_refuses_reuse(db):
    bk = Booking(db, actor="test")
    calls: list[int] = []
    run, _ = _runner(bk, calls)
    first = run("h1")
    assert first.state == "done" and first.stored == Stored(201, '{"n": 1}', "/x/1")
    again = run("h1")
    assert again.state == "replay" and again.stored == first.stored and _effects(bk) == 1
    assert run("h2").state == "reused"
    assert run("h1", route="POST /v1/other").state == "done" and _effects(bk) == 2
    with pytest.raises(BookingError):
        run("h1", key="bad\nkey")


def test_a_refusal_is_stored_and_a_server_failure_is_not(db):
    bk = Booking(db, actor="test")
    calls: list[int] = []
    run, _ = _runner(bk, calls)
    refused = run("h", key="k1", fail=BookingError("hold_not_active", "no"))
    assert refused.state == "done" and refused.stored == Stored(409, "hold_not_active")
    assert run("h", key="k1").stored == refused.stored  # replayed, the effect not run
    with pytest.raises(BookingError, match="busy"):
        run("h", key="k2", fail=BookingError("busy", "busy: try again"))
    assert count(db, "SELECT count(*) FROM idempotency_record WHERE idempotency_key = 'k2'") == 0
    assert run("h", key="k2").state == "done" and _effects(bk) == 1  # the retry ran


@pytest.mark.postgres
def test_a_key_whose_first_request_runs_is_in_flight(pg_db):
    from resbook_tui.booking.idempotency import lock_key

    bk = Booking(pg_db, actor="test")
    run, key_id = _runner(bk, [])
    other = psycopg2.connect(raw_url(pg_db))
    try:
        with other.cursor() as cur:  # a transaction holding the key's lock: the first request
            cur.execute(
                "SELECT pg_advisory_xact_lock(%s)", (lock_key(key_id, "POST /v1/holds", "k"),)
            )
        assert run("h", key="k").state == "in_flight"
        other.rollback()
        assert run("h", key="k").state == "done"
    finally:
        other.close()


def test_the_sweep_removes_idempotency_records_after_a_day(db):
    bk = Booking(db, actor="test")
    run, _ = _runner(bk, [])
    for name in ("old", "new"):
        run("h", key=name)
    day_ago = (
        "now() - interval '25 hours'"
        if bk.dialect == "postgresql"
        else "strftime('%Y-%m-%d %H:%M:%f', 'now', '-25 hours')"
    )
    db.execute_sql(
        f"UPDATE idempotency_record SET created_at = {day_ago} WHERE idempotency_key = 'old'"
    )
    assert run("other", key="old").state == "done"  # a day on, the key is free again
    db.execute_sql(
        f"UPDATE idempotency_record SET created_at = {day_ago} WHERE idempotency_key = 'old'"
    )
    assert bk.sweep().idempotency_keys_removed == 1
    assert count(db, "SELECT count(*) FROM idempotency_record") == 1


def test_cli_api_keys_create_list_revoke(db_url, db):
    made = runner.invoke(
        app, ["--db", db_url, "api-keys", "create", "shop", "--role", "admin", "--json"]
    )
    assert made.exit_code == 0, made.output
    doc = json.loads(made.stdout)
    assert set(doc) == {"id", "name", "role", "key"} and doc["role"] == "admin"
    listed = runner.invoke(app, ["--db", db_url, "api-keys", "list"])
    assert listed.exit_code == 0 and "shop" in listed.stdout and doc["key"] not in listed.stdout
    listed = runner.invoke(app, ["--db", db_url, "api-keys", "list", "--json"])
    assert doc["key"] not in listed.stdout and json.loads(listed.stdout)[0]["revoked_at"] is None
    text = runner.invoke(app, ["--db", db_url, "api-keys", "create", "s2", "--role", "store"])
    assert text.exit_code == 0 and "only time" in text.stdout
    revoked = runner.invoke(app, ["--db", db_url, "api-keys", "revoke", str(doc["id"])])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    bad = runner.invoke(app, ["--db", db_url, "api-keys", "create", "x", "--role", "root"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    missing = runner.invoke(app, ["--db", db_url, "api-keys", "revoke", "424242"])
    assert missing.exit_code == 2


def test_cli_serve_refuses_several_sqlite_processes(sqlite_url):
    result = runner.invoke(app, ["--db", sqlite_url, "serve", "--workers", "2"])
    assert result.exit_code == 2 and "one process" in result.stderr
    assert runner.invoke(app, ["--db", sqlite_url, "serve", "--port", "0"]).exit_code == 2


def test_serve_defaults_to_one_process_a_core_on_postgresql_only(monkeypatch, sqlite_url):
    from resbook_tui.serve import default_workers

    pg = "postgresql://shop@db.example/resbook"
    for cores, expected in ((0, 1), (1, 1), (2, 2), (16, 4)):
        # The cores this process may run on, not the host's.
        monkeypatch.setattr("os.sched_getaffinity", lambda pid, c=cores: set(range(c)))
        monkeypatch.setattr("os.cpu_count", lambda: 64)
        assert default_workers(pg) == expected
        assert default_workers(sqlite_url) == 1  # SQLite is served by one process
