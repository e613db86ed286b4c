"""Hostile and careless input through the Python API and the CLI: one rule for text, every
integer checked against its column, strict dates, and only resbook's own errors.

Every refusal is one line, BookingError('invalid_input') (exit 2 in the CLI), names the
field, and changes nothing.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta

import pytest
from typer.testing import CliRunner

from booking_helpers import World, make_world, refused
from resbook_tui.booking import validate
from resbook_tui.booking.validate import MAX_LENGTH
from resbook_tui.cli import app
from resbook_tui.errors import ResbookError
from resbook_tui.text import has_control_characters

EMAIL = "ana@example.com"
INT64 = 2**63
runner = CliRunner()


@pytest.fixture
def w(db) -> World:
    return make_world(db, capacity=5, days=5)


@pytest.fixture
def booked(w: World) -> tuple[World, int, int, int]:
    """A world with a hold, an allocation and a blackout to act on."""
    hold = w.bk.create_hold(w.rid, w.day(0), 1, EMAIL)
    alloc = w.bk.confirm_hold(w.bk.create_hold(w.rid, w.day(0), 1, EMAIL).id, "o-1", "li-1")
    blackout = w.bk.add_blackout(w.rid, w.day(4), None, "service").blackout
    return w, hold.id, alloc.id, blackout.id


# ---- text: control characters, one line, lengths ------------------------------------------

HOSTILE = [
    ("a\udcffb", "UTF-8"),  # an undecodable byte from argv, as Python decodes it
    ("\x1b]0;OWNED\x07", "\\x1b"),  # retitles the terminal
    ("a\rb", "\\x0d"),  # overwrites the row
    ("a\nb", "\\x0a"),  # a second line where one is meant
    ("a\x00b", "\\x00"),  # NUL: never stored
    ("a\x9bb", "\\x9b"),  # C1 CSI
    ("a\u202eb", "\\u202e"),  # right-to-left override
]

# field -> a call that puts text `t` into that field (`h`: an ACTIVE hold's id)
TEXT_FIELDS = {
    "email": lambda w, h, t: w.bk.create_hold(w.rid, w.day(1), 1, f"a{t}@example.com"),
    "idempotency token": lambda w, h, t: w.bk.create_hold(w.rid, w.day(1), 1, EMAIL, token=t),
    "name": lambda w, h, t: w.bk.add_resource(f"Cruiser {t}", "VEHICLE"),
    "description": lambda w, h, t: w.bk.add_resource("Cruiser", "VEHICLE", description=t),
    "reason": lambda w, h, t: w.bk.add_blackout(w.rid, w.day(2), None, t),
    "order id": lambda w, h, t: w.bk.confirm_hold(h, t, "li"),
    "line item id": lambda w, h, t: w.bk.confirm_hold(h, "o", t),
}


def _hold(w: World) -> int:
    return w.bk.create_hold(w.rid, w.day(3), 1, EMAIL).id


@pytest.mark.parametrize("field", list(TEXT_FIELDS))
@pytest.mark.parametrize("text, shown", HOSTILE, ids=[s for _, s in HOSTILE])
def test_control_characters_are_refused_in_every_text_field(w, field, text, shown):
    hold_id = _hold(w)
    with refused(w.bk, "invalid_input") as info:
        TEXT_FIELDS[field](w, hold_id, text)
    message = str(info.value)
    assert message.startswith(field) and shown in message
    assert "control characters" in message or "not valid text" in message
    assert not has_control_characters(message)


def test_edit_refuses_control_characters_and_an_edit_of_nothing(w):
    with refused(w.bk, "invalid_input") as info:
        w.bk.edit_resource(w.rid, name="a\x1bb")
    assert "name" in str(info.value)
    with refused(w.bk, "invalid_input") as info:
        w.bk.edit_resource(w.rid, description="line\nbreak")
    with refused(w.bk, "invalid_input") as info:
        w.bk.edit_resource(w.rid)
    assert "nothing to change" in str(info.value)
    # An empty description clears it: that is a change.
    w.bk.edit_resource(w.rid, description="Seats 7")
    assert w.bk.edit_resource(w.rid, description="").description is None


@pytest.mark.parametrize(
    "call",
    [
        lambda w, ch: w.bk.create_hold(w.rid, w.day(1), 1, f"ana{ch}@example.com"),
        lambda w, ch: w.bk.create_bundle(
            [{"resource_id": w.rid, "date": w.day(1), "quantity": 1}], f"{ch}ana@example.com"
        ),
        lambda w, ch: w.bk.add_resource(f"Van{ch}", "VEHICLE"),
        lambda w, ch: w.bk.edit_resource(w.rid, name=f"Van{ch}"),
    ],
    ids=["hold email", "bundle email", "new name", "edited name"],
)
@pytest.mark.parametrize("ch", ["\u200b", "\ufeff", "\u00ad", "\u200e", "\u2060"])
def test_invisible_characters_are_refused_where_text_is_told_apart_by_eye(w, call, ch):
    """A zero-width space makes a customer or a resource that looks like another, which
    support cannot type to find."""
    with refused(w.bk, "invalid_input") as info:
        call(w, ch)
    assert f"invisible characters (\\u{ord(ch):04x})" in str(info.value)


def test_joiners_stay_in_names_and_descriptions_take_any_format_character(w):
    """Emoji sequences need the zero-width joiner; a description is read, not looked up."""
    family = w.bk.add_resource("Family \U0001f468\u200d\U0001f469\u200d\U0001f467 tour", "TOUR")
    assert "\u200d" in family.name
    note = w.bk.add_resource("Van 9", "VEHICLE", description="soft\u00adhyphen").description
    assert note == "soft\u00adhyphen"


@pytest.mark.parametrize(
    "field, call",
    [
        ("email", lambda w, t: w.bk.create_hold(w.rid, w.day(1), 1, t[:-12] + "@example.com")),
        ("idempotency token", lambda w, t: w.bk.create_hold(w.rid, w.day(1), 1, EMAIL, token=t)),
        ("name", lambda w, t: w.bk.add_resource(t, "VEHICLE")),
        ("description", lambda w, t: w.bk.add_resource(f"Van {len(t)}", "TOUR", description=t)),
        ("reason", lambda w, t: w.bk.add_blackout(w.rid, w.day(2), None, t)),
    ],
)
def test_each_field_takes_its_documented_length_and_no_more(w, field, call):
    limit = MAX_LENGTH[field]
    with refused(w.bk, "invalid_input") as info:
        call(w, "x" * (limit + 1))
    assert str(info.value).startswith(field) and str(limit) in str(info.value)
    call(w, "x" * limit)  # exactly the limit is taken


def test_order_and_line_item_ids_have_their_length_limit(w):
    hold_id = _hold(w)
    for field in ("order id", "line item id"):
        too_long = "x" * (MAX_LENGTH[field] + 1)
        with refused(w.bk, "invalid_input") as info:
            if field == "order id":
                w.bk.confirm_hold(hold_id, too_long, "li")
            else:
                w.bk.confirm_hold(hold_id, "o", too_long)
        assert str(info.value).startswith(field)
    assert w.bk.confirm_hold(hold_id, "o" * 200, "l" * 200).order_id == "o" * 200


def test_filters_follow_the_text_rule_too(w):
    for call in (
        lambda: w.bk.list_holds(email="a\x00@x.io"),
        lambda: w.bk.list_resources(search="\x1b[2J"),
        lambda: w.bk.list_allocations(order_id="o\n1"),
        lambda: w.bk.events(email="a\x07@x.io"),
        lambda: w.bk.events(action="x" * 51),
    ):
        with refused(w.bk, "invalid_input"):
            call()


def test_metadata_and_actor_follow_the_text_rule(w):
    from resbook_tui.booking import Booking

    with refused(w.bk, "invalid_input"):
        w.bk.add_resource("Cruiser", "VEHICLE", metadata={"note": "a\x1bb"})
    with refused(w.bk, "invalid_input"):
        w.bk.add_resource("Cruiser", "VEHICLE", metadata={"bad": object()})
    with refused(w.bk, "invalid_input") as info:
        Booking(w.bk.db, actor="desk\r1")
    assert str(info.value).startswith("actor")


def test_nul_is_never_stored(w):
    with refused(w.bk, "invalid_input"):
        w.bk.add_resource("a\x00b", "VEHICLE")
    assert [r.name for r in w.bk.list_resources()] == ["Cruiser"]


# ---- numbers: every integer against its column --------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda w, h, a, b: w.bk.get_resource(INT64),
        lambda w, h, a, b: w.bk.edit_resource(-INT64 - 1, name="x"),
        lambda w, h, a, b: w.bk.activate(INT64),
        lambda w, h, a, b: w.bk.set_capacity(INT64, w.day(0), None, 1),
        lambda w, h, a, b: w.bk.availability(w.day(0), w.day(1), resource_id=INT64),
        lambda w, h, a, b: w.bk.availability(w.day(0), w.day(1), resource_ids=[1, INT64]),
        lambda w, h, a, b: w.bk.add_blackout(INT64, w.day(0), None, "x"),
        lambda w, h, a, b: w.bk.remove_blackout(INT64),
        lambda w, h, a, b: w.bk.list_blackouts(resource_id=INT64),
        lambda w, h, a, b: w.bk.create_hold(INT64, w.day(0), 1, EMAIL),
        lambda w, h, a, b: w.bk.create_hold(w.rid, w.day(0), 2**31, EMAIL),
        lambda w, h, a, b: w.bk.create_hold(w.rid, w.day(0), 1, EMAIL, ttl_minutes=2**63),
        lambda w, h, a, b: w.bk.confirm_hold(INT64, "o", "li"),
        lambda w, h, a, b: w.bk.release_hold(INT64),
        lambda w, h, a, b: w.bk.extend_hold(h, 2**31),
        lambda w, h, a, b: w.bk.get_hold(INT64),
        lambda w, h, a, b: w.bk.hold_history(INT64),
        lambda w, h, a, b: w.bk.list_holds(resource_id=INT64),
        lambda w, h, a, b: w.bk.list_holds(limit=0),
        lambda w, h, a, b: w.bk.cancel_allocation(INT64),
        lambda w, h, a, b: w.bk.get_allocation(INT64),
        lambda w, h, a, b: w.bk.list_allocations(limit=-1),
        lambda w, h, a, b: w.bk.events(limit=INT64),
        lambda w, h, a, b: w.bk.events(after_id=-1),
        lambda w, h, a, b: w.bk.events(entity_id=INT64),
        lambda w, h, a, b: w.bk.sweep(batch_size=0),
        lambda w, h, a, b: w.bk.set_capacity(w.rid, w.day(0), None, 2**31),
    ],
)
def test_out_of_range_integers_are_invalid_input(booked, call):
    w, hold_id, alloc_id, blackout_id = booked
    with refused(w.bk, "invalid_input") as info:
        call(w, hold_id, alloc_id, blackout_id)
    assert "whole number" in str(info.value)


@pytest.mark.parametrize("bad", ["3", 2.0, True, None, [1]])
def test_integers_of_the_wrong_type_are_invalid_input(w, bad):
    with refused(w.bk, "invalid_input"):
        w.bk.create_hold(w.rid, w.day(0), bad, EMAIL)
    with refused(w.bk, "invalid_input"):
        w.bk.get_hold(bad if bad is not None else "x")


def test_ids_in_range_that_do_not_exist_are_not_found(w):
    for hold_id in (0, -1, 2**63 - 1):
        with refused(w.bk, "not_found"):
            w.bk.release_hold(hold_id)


# ---- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", ["20261210", "2026-1-5", "2026-12-10T00:00", " ", "2026-02-30", 20261210]
)
def test_dates_are_strictly_yyyy_mm_dd(w, bad):
    with refused(w.bk, "invalid_input") as info:
        w.bk.create_hold(w.rid, bad, 1, EMAIL)
    assert "YYYY-MM-DD" in str(info.value)


def test_a_date_and_time_is_not_a_date(w):
    with refused(w.bk, "invalid_input"):
        w.bk.availability(datetime(2030, 1, 1, 12, 0), date(2030, 1, 2))
    with refused(w.bk, "invalid_input"):
        w.bk.list_holds(date_from="tomorrow")
    assert w.bk.create_hold(w.rid, w.day(0).isoformat(), 1, EMAIL).date == w.day(0)


def test_the_last_representable_day_is_refused_cleanly(w):
    """No OverflowError from date arithmetic at the edge of the calendar."""
    with refused(w.bk, "no_capacity"):
        w.bk.create_holds(w.rid, date.max - timedelta(days=2), date.max, 1, EMAIL, token="edge")
    assert validate.day("9999-12-31") == date.max


# ---- only resbook's errors come out --------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda bk: bk.create_hold("one", "2030-01-01", 1, EMAIL),
        lambda bk: bk.create_hold(1, object(), 1, EMAIL),
        lambda bk: bk.create_hold(1, "2030-01-01", 1, 12345),
        lambda bk: bk.create_hold(1, "2030-01-01", 1, EMAIL, token=5),
        lambda bk: bk.add_resource(None, "VEHICLE"),
        lambda bk: bk.add_resource("x", 7),
        lambda bk: bk.list_resources(active="yes"),
        lambda bk: bk.list_holds(status=1),
        lambda bk: bk.availability(None, None),
        lambda bk: bk.sweep(batch_size="many"),
    ],
)
def test_the_api_raises_only_resbook_errors_for_bad_input(w, call):
    with pytest.raises(ResbookError) as info:
        call(w.bk)
    assert info.value.code == "invalid_input"
    assert "\n" not in str(info.value)


# ---- through the CLI: exit 2, one line, no traceback --------------------------------------


def _cli(url: str, *args: str):
    return runner.invoke(app, ["--db", url, *args])


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["holds", "create", "1", "{day}", "-q", "2147483648", "--email", EMAIL], "quantity"),
        (["holds", "show", str(INT64)], "hold id"),
        (["events", "--limit", str(INT64)], "limit"),
        (["events", "--limit", "0"], "limit"),
        (["holds", "list", "--limit", "0"], "limit"),
        (["holds", "create", "1", "20261210", "-q", "1", "--email", EMAIL], "YYYY-MM-DD"),
        (["capacity", "set", "1", "--from", "{day}", "--to", "{day}", "--max", str(INT64)], "max"),
        (["resources", "edit", "1"], "nothing to change"),
        (["resources", "add", "Bad\rName", "--type", "VEHICLE"], "control characters"),
        (["holds", "create", "1", "{day}", "-q", "1", "--email", "\x1b]0;x\x07a@b.co"], "email"),
        (["seed", "--start", "20261210"], "YYYY-MM-DD"),
        (["seed", "--vehicles", str(INT64)], "vehicles"),
    ],
)
def test_cli_bad_input_is_exit_2_with_one_line(w, db_url, args, fragment):
    day = w.day(0).isoformat()
    result = _cli(db_url, *[a.format(day=day) for a in args])
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("resbook: error: ")
    assert not has_control_characters(result.stderr.rstrip("\n"))
    assert "Traceback" not in result.output


def test_undecodable_bytes_on_the_command_line_are_exit_2(db_url, w):
    """Python hands argv bytes that are not UTF-8 over as lone surrogates."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "resbook_tui",
            "--db",
            db_url,
            "resources",
            "add",
            b"\xff\xfeCruiser",
            "--type",
            "VEHICLE",
        ],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count(b"\n") == 1 and b"not valid text" in result.stderr
    assert [r.name for r in w.bk.list_resources()] == ["Cruiser"]


def test_a_negative_limit_is_a_usage_error_exit_2(w, db_url):
    """The option parser refuses it before resbook sees it (its usage message, exit 2)."""
    result = _cli(db_url, "events", "--limit", "-1")
    assert result.exit_code == 2 and "--limit" in result.stderr
    assert "Traceback" not in result.output


def test_limit_0_only_means_something_with_follow(w, db_url):
    result = _cli(db_url, "events", "--limit", "0")
    assert result.exit_code == 2 and "limit" in result.stderr


@pytest.mark.postgres
def test_cli_quantity_beyond_int32_on_postgresql_is_exit_2(pg_url, pg_db):
    w = make_world(pg_db)
    result = _cli(
        pg_url,
        "holds",
        "create",
        str(w.rid),
        w.day(0).isoformat(),
        "-q",
        "2147483648",
        "--email",
        EMAIL,
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "variable, value",
    [
        ("RESBOOK_HOLD_TTL_MINUTES", "abc"),
        ("RESBOOK_HOLD_TTL_MINUTES", "0"),
        ("RESBOOK_LOCK_TIMEOUT_MS", "-5"),
        ("RESBOOK_STATEMENT_TIMEOUT_MS", "3s"),
        ("RESBOOK_ACTOR", "desk\x1b1"),
        ("RESBOOK_ACTOR", "desk\udcff"),  # the byte 0xff, not UTF-8, as Python hands it over
    ],
)
def test_a_bad_environment_setting_is_exit_2_naming_it(w, db_url, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    result = _cli(db_url, "holds", "list")
    assert result.exit_code == 2, result.output
    assert variable in result.stderr and result.stderr.count("\n") == 1
    assert not has_control_characters(result.stderr.rstrip("\n"))


@pytest.mark.parametrize(
    "ref, says",
    [
        ("\udcff\udcfe", "not valid text"),  # bytes that are not UTF-8, from the shell
        ("a\x1b[31mb", "control characters"),
        ("x" * 1000, "at most 200 characters"),
    ],
)
def test_a_resource_reference_that_no_name_could_be_is_exit_2(w, db_url, ref, says):
    result = _cli(db_url, "holds", "list", "--resource", ref)
    assert result.exit_code == 2, result.output
    assert says in result.stderr and result.stderr.count("\n") == 1
    assert not has_control_characters(result.stderr.rstrip("\n"))


@pytest.mark.parametrize("lister", ["list_blackouts", "list_allocations"])
def test_a_list_window_whose_end_comes_before_its_start_is_refused(w, lister):
    """Not an empty answer: the caller swapped the dates (the HTTP API's 'to' is named)."""
    with refused(w.bk, "invalid_input") as info:
        getattr(w.bk, lister)(date_from=w.day(3), date_to=w.day(1))
    assert "before start date" in str(info.value) and info.value.field == "to"


@pytest.mark.parametrize(
    "args",
    [
        ["--db", "", "holds", "list"],
        ["--db", "  ", "info"],
        ["holds", "list", "--email", ""],
        ["allocations", "list", "--email", " "],
        ["events", "--email", ""],
    ],
)
def test_an_empty_option_is_refused_not_taken_as_absent(w, db_url, monkeypatch, args):
    """An unset shell variable in --db "$URL" would open another database, and in
    --email "$WHO" list every customer's holds."""
    monkeypatch.setenv("RESBOOK_DATABASE_URL", db_url)  # what an empty --db would open
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "is empty" in result.output and "Traceback" not in result.output
