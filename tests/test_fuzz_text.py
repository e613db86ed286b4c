"""Random text (control characters, long strings, any unicode) through every text field of
the Python API and the CLI: each call either refuses cleanly (BookingError, one line, no
raw control character; exit 2 with one line in the CLI) or stores a value that shows
safely (``visible(value) == value``). Never a traceback, never another exception.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from booking_helpers import World, make_world
from resbook_tui.booking import BookingError
from resbook_tui.booking.records import Allocation, Blackout, BlackoutResult, Hold, Resource
from resbook_tui.cli import app
from resbook_tui.text import has_control_characters, visible

SERIAL = itertools.count()  # distinct names: one active resource per name

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text of every kind: any unicode, text dense in C0/C1 controls, bidi and line separators,
# and long runs around the length limits.
texts = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(max_codepoint=0xA0), max_size=30),
    st.text(alphabet=st.sampled_from("a@.\x00\x1b\x07\r\n\t\x9b\u202e\u2028\udcff "), max_size=30),
    st.builds(lambda c, n: c * n, st.characters(), st.integers(150, 1100)),
)


def _stored_text(value: Any) -> list[str]:
    """Every text field of a record the API returned."""
    if isinstance(value, list | tuple):
        return [t for v in value for t in _stored_text(v)]
    if isinstance(value, BlackoutResult):
        return _stored_text(value.blackout)
    fields = {
        Resource: ("name", "description"),
        Hold: ("customer_email", "token"),
        Allocation: ("order_id", "line_item_id"),
        Blackout: ("reason",),
    }
    for kind, names in fields.items():
        if isinstance(value, kind):
            return [getattr(value, n) for n in names if getattr(value, n) is not None]
    return []


def _check(call: Any) -> None:
    try:
        result = call()
    except BookingError as exc:
        message = str(exc)
        assert "\n" not in message and not has_control_characters(message), message
        return
    for text in _stored_text(result):
        assert visible(text) == text, text


@pytest.fixture
def w(db) -> World:
    return make_world(db, capacity=1_000_000, days=3)


@FUZZ
@given(text=texts)
def test_random_text_through_every_api_text_field(w, text):
    bk, rid, day = w.bk, w.rid, w.day(0)
    hold = bk.create_hold(rid, day + timedelta(days=1), 1, "fuzz@example.com")
    for call in (
        lambda: bk.add_resource(text, "VEHICLE"),
        lambda: bk.add_resource(f"Fuzz {next(SERIAL)}", "TOUR", description=text),
        lambda: bk.edit_resource(rid, name=text),
        lambda: bk.edit_resource(rid, description=text),
        lambda: bk.add_blackout(rid, day + timedelta(days=2), None, text),
        lambda: bk.create_hold(rid, day, 1, text),
        lambda: bk.create_hold(rid, day, 1, f"{text}@example.com"),
        lambda: bk.create_hold(rid, day, 1, "fuzz@example.com", token=text),
        lambda: bk.confirm_hold(hold.id, text, "li"),
        lambda: bk.list_holds(email=text),
        lambda: bk.list_resources(search=text),
        lambda: bk.list_allocations(order_id=text, email=text),
        lambda: bk.events(email=text, action=text),
    ):
        _check(call)
    _check(lambda: bk.confirm_hold(hold.id, "order", text))


runner = CliRunner()


@settings(FUZZ, max_examples=25)
@given(text=texts.filter(lambda t: "\x00" not in t))  # argv cannot carry NUL at all
def test_random_text_through_the_cli(db_url, w, text):
    day, later = w.day(0).isoformat(), w.day(2).isoformat()
    hold = w.bk.create_hold(w.rid, w.day(1), 1, "fuzz@example.com")
    # `--opt=value` and `--` keep text that starts with a dash a value, not an option.
    for args in (
        ["resources", "add", "--type=VEHICLE", "--json", "--", text],
        ["resources", "add", f"Fuzz {next(SERIAL)}", "--type=GUIDE", f"--description={text}"],
        ["resources", "edit", str(w.rid), f"--name={text}"],
        ["holds", "create", str(w.rid), day, "-q", "1", f"--email={text}", "--json"],
        ["holds", "create", str(w.rid), day, "-q", "1", "--email=f@x.io", f"--token={text}"],
        ["holds", "confirm", str(hold.id), f"--order={text}", "--line-item=li"],
        ["blackouts", "add", str(w.rid), f"--from={later}", f"--to={later}", f"--reason={text}"],
        ["holds", "list", f"--email={text}"],
        ["resources", "list", f"--search={text}"],
    ):
        result = runner.invoke(app, ["--db", db_url, *args])
        assert "Traceback" not in result.output
        assert result.exit_code in (0, 1, 2), (args, result.output)  # 1: token reused
        if result.exit_code:
            assert result.stderr.count("\n") == 1, result.stderr
            assert not has_control_characters(result.stderr.rstrip("\n"))
