"""Resources by name (resolve, one active name each) and searches where typed text is literal."""

from __future__ import annotations

import threading
from collections import Counter

import peewee
import pytest

from booking_helpers import make_world, refused
from resbook_tui.booking import Booking, BookingError, Resource
from resbook_tui.db import open_database
from resbook_tui.schema.migrations import MigrationError, Migrator


def _deactivated(bk: Booking, name: str) -> Resource:
    return bk.deactivate(bk.add_resource(name, "VEHICLE").id)


# ---- resolve_resource ---------------------------------------------------------------------


def test_resolve_by_id_digits_or_name_in_any_case(db):
    bk = Booking(db)
    cruiser = bk.add_resource("Land Cruiser 03", "VEHICLE")
    bk.add_resource("Land Cruiser 04", "VEHICLE")
    assert bk.resolve_resource(cruiser.id) == cruiser
    assert bk.resolve_resource(str(cruiser.id)) == cruiser
    assert bk.resolve_resource(f" {cruiser.id} ") == cruiser
    assert bk.resolve_resource("Land Cruiser 03") == cruiser
    assert bk.resolve_resource("  land CRUISER 03 ") == cruiser


def test_digits_are_an_id_even_when_a_resource_is_named_so(db):
    bk = Booking(db)
    first = bk.add_resource("Alpha", "VEHICLE")
    named_like_an_id = bk.add_resource(str(first.id + 100), "TOUR")
    assert bk.resolve_resource(str(first.id)) == first
    with pytest.raises(BookingError) as info:
        bk.resolve_resource(named_like_an_id.name)
    assert info.value.code == "not_found"


@pytest.mark.parametrize("ref", ["Nope", "99999", str(2**70)])
def test_unknown_names_and_ids_are_not_found_naming_them(db, ref):
    bk = Booking(db)
    bk.add_resource("Alpha", "VEHICLE")
    with pytest.raises(BookingError) as info:
        bk.resolve_resource(ref)
    assert info.value.code == "not_found" and ref in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("ref", ["", "   ", None, 1.5])
def test_empty_or_odd_refs_are_invalid_input(db, ref):
    with pytest.raises(BookingError) as info:
        Booking(db).resolve_resource(ref)
    assert info.value.code == "invalid_input"


def test_a_name_shared_by_several_resources_lists_their_ids(db):
    bk = Booking(db)
    old = _deactivated(bk, "Hilux 07")
    new = bk.add_resource("hilux 07", "VEHICLE")  # the replacement, active
    with pytest.raises(BookingError) as info:
        bk.resolve_resource("HILUX 07")
    message = str(info.value)
    assert info.value.code == "invalid_input"
    assert f"{old.id} (inactive)" in message and f"{new.id} (active)" in message
    assert bk.resolve_resource(str(new.id)) == new  # the id always works


def test_a_stored_control_character_in_a_name_is_escaped_in_the_message(db):
    bk = Booking(db)
    with pytest.raises(BookingError) as info:
        bk.resolve_resource("Evil\x1b[31m")
    assert "\x1b" not in str(info.value) and "\\x1b" in str(info.value)


# ---- one active resource per name --------------------------------------------------------------


def test_adding_a_second_active_name_is_refused_naming_the_first(db):
    bk = Booking(db)
    first = bk.add_resource("Troop Carrier 01", "VEHICLE")
    for name in ("Troop Carrier 01", "troop carrier 01", "  TROOP Carrier 01  "):
        with refused(bk, "invalid_input") as info:
            bk.add_resource(name, "TOUR")
        assert f"(id {first.id})" in str(info.value) and "Troop Carrier 01" in str(info.value)


def test_renaming_onto_an_active_name_is_refused_but_a_case_change_is_not(db):
    bk = Booking(db)
    first = bk.add_resource("Coaster Bus 01", "VEHICLE")
    other = bk.add_resource("Coaster Bus 02", "VEHICLE")
    with refused(bk, "invalid_input") as info:
        bk.edit_resource(other.id, name="coaster bus 01")
    assert f"(id {first.id})" in str(info.value)
    assert bk.edit_resource(first.id, name="COASTER BUS 01").name == "COASTER BUS 01"


def test_inactive_resources_may_share_a_name_but_only_one_can_be_active(db):
    bk = Booking(db)
    old = _deactivated(bk, "Palm Valley 4WD")
    older = _deactivated(bk, "palm valley 4wd")
    assert bk.activate(old.id).is_active
    with refused(bk, "invalid_input") as info:
        bk.activate(older.id)
    assert f"(id {old.id})" in str(info.value)
    bk.deactivate(old.id)
    assert bk.activate(older.id).is_active


def test_the_database_refuses_a_duplicate_that_skips_booking(db):
    """The unique index is the referee, not a check in Python."""
    bk = Booking(db)
    bk.add_resource("Field of Light", "TOUR")
    with pytest.raises(peewee.IntegrityError), db.atomic():
        db.execute_sql("INSERT INTO resource (name, type) VALUES ('FIELD OF LIGHT ', 'TOUR')")
    db.execute_sql(
        "INSERT INTO resource (name, type, is_active) VALUES ('field of light', 'TOUR', "
        + ("FALSE" if bk.dialect == "postgresql" else "0")
        + ")"
    )


def test_migration_0003_stops_on_existing_duplicates_and_changes_nothing(empty_db):
    migrator = Migrator(empty_db)
    migrator.up(target=2)
    empty_db.execute_sql(
        "INSERT INTO resource (name, type) VALUES ('Twin', 'TOUR'), ('twin', 'GUIDE')"
    )
    with pytest.raises(MigrationError, match="0003_unique_active_resource_name failed"):
        migrator.up()
    assert migrator.current_version() == 2
    empty_db.execute_sql("UPDATE resource SET is_active = FALSE WHERE type = 'GUIDE'")
    migrator.up()
    assert 3 in {a.version for a in migrator.applied()}


def _race(url: str, workers: int, work) -> list:  # noqa: ANN001
    """Every worker (a thread with its own connection) runs ``work(i, bk)`` at once."""
    barrier = threading.Barrier(workers, timeout=60)
    outcomes: list = [None] * workers

    def run(i: int) -> None:
        db = open_database(url)
        try:
            bk = Booking(db, actor=f"desk-{i}")
            barrier.wait()
            try:
                outcomes[i] = work(i, bk)
            except BookingError as exc:
                outcomes[i] = exc.code
        except BaseException as exc:  # reported below
            outcomes[i] = exc
        finally:
            db.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    return outcomes


@pytest.mark.postgres
def test_racing_adds_and_activations_leave_one_active_name(pg_url, pg_db):
    bk = Booking(pg_db)
    outcomes = _race(pg_url, 8, lambda i, b: b.add_resource(f"Hilux {'0' * (i % 2)}9 ", "VEHICLE"))
    # "Hilux 9" and "Hilux 09" are two names: one winner each.
    winners = [o for o in outcomes if isinstance(o, Resource)]
    assert sorted(r.name for r in winners) == ["Hilux 09", "Hilux 9"]
    assert Counter(o for o in outcomes if not isinstance(o, Resource)) == {"invalid_input": 6}
    inactive = [_deactivated(bk, "Sunrise Walk") for _ in range(6)]
    outcomes = _race(pg_url, 6, lambda i, b: b.activate(inactive[i].id))
    assert sum(isinstance(o, Resource) for o in outcomes) == 1
    assert outcomes.count("invalid_input") == 5
    active = [r for r in bk.list_resources(active=True) if r.name == "Sunrise Walk"]
    assert len(active) == 1


# ---- partial email, literal wildcards ----------------------------------------------------------


@pytest.fixture
def customers(db):
    w = make_world(db, capacity=20, days=2)
    emails = ["gita.rao@example.com", "gitarao@example.com", "g_ta@x.io", "100%@x.io", "a\\b@x.io"]
    holds = {e: w.bk.create_hold(w.rid, w.day(0), 1, e) for e in emails}
    w.bk.confirm_hold(holds["g_ta@x.io"].id, "o-1", "li-1")
    w.bk.confirm_hold(holds["gita.rao@example.com"].id, "o-2", "li-1")
    return w


@pytest.mark.parametrize(
    "text, expected",
    [
        ("GITA", {"gita.rao@example.com", "gitarao@example.com"}),
        ("a.r", {"gita.rao@example.com"}),
        ("_", {"g_ta@x.io"}),  # not "any one character"
        ("%", {"100%@x.io"}),  # not "anything"
        ("\\", {"a\\b@x.io"}),  # the escape character itself
        ("g_t", {"g_ta@x.io"}),
        (
            "  ",
            {"gita.rao@example.com", "gitarao@example.com", "g_ta@x.io", "100%@x.io", "a\\b@x.io"},
        ),
    ],
)
def test_email_contains_is_literal_and_case_blind_everywhere(customers, text, expected):
    bk = customers.bk
    assert {h.customer_email for h in bk.list_holds(email_contains=text)} == expected
    assert {e.customer_email for e in bk.events(email_contains=text, action="hold.create")} == (
        expected
    )
    confirmed = {"g_ta@x.io", "gita.rao@example.com"} & expected
    allocated = bk.list_allocations(email_contains=text)
    assert {a.order_id for a in allocated} == {
        {"g_ta@x.io": "o-1", "gita.rao@example.com": "o-2"}[e] for e in confirmed
    }


def test_exact_email_stays_exact(customers):
    bk = customers.bk
    assert [h.customer_email for h in bk.list_holds(email="GITA.rao@example.com")] == [
        "gita.rao@example.com"
    ]
    assert bk.list_holds(email="gita") == []
    assert bk.events(email="gita") == []


@pytest.mark.parametrize(
    "search, expected",
    [
        ("%", ["100% Dune"]),
        ("_", ["Camel_Train"]),
        ("\\", ["Back\\slash"]),
        ("dune", ["100% Dune"]),
    ],
)
def test_resource_search_is_literal(db, search, expected):
    bk = Booking(db)
    for name in ("100% Dune", "Camel_Train", "CamelXTrain", "Back\\slash", "Plain"):
        bk.add_resource(name, "TOUR")
    assert [r.name for r in bk.list_resources(search=search)] == expected
