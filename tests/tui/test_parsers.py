"""The forms' field parsers agree with the engine: what is marked ✓ as typed is not
refused on submit (a pasted tab or bell is invisible in the field)."""

from __future__ import annotations

import pytest

from resbook_tui.booking import Booking, BookingError
from resbook_tui.tui.parsers import email, optional_text, required_text


@pytest.mark.parametrize("parse", [required_text(), optional_text(), email])
@pytest.mark.parametrize("text", ["Service\tbay 3", "bell\x07@example.com", "esc\x1b[31m"])
def test_control_characters_are_refused_beside_the_field(parse, text):
    with pytest.raises(ValueError, match="control characters"):
        parse(text)


def test_what_the_field_takes_the_engine_takes_too(db):
    bk = Booking(db)
    reason = required_text()("  Service bay 3  ")
    assert reason == "Service bay 3"
    assert email(" Zoe@Example.com ") == "zoe@example.com"
    with pytest.raises(BookingError):
        bk.add_resource("Van\t2", "VEHICLE")  # and what the engine refuses, the field does
    with pytest.raises(ValueError):
        required_text()("Van\t2")
