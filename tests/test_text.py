"""The text-safety rule shared by every interface."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from resbook_tui.text import (
    control_characters,
    has_control_characters,
    has_foreign_bytes,
    json_escaped,
    visible,
)


def test_escape_sequences_are_made_visible():
    shown = visible("\x1b]0;OWNED\x07a@b.com")
    assert shown == "\\x1b]0;OWNED\\x07a@b.com"
    assert not has_control_characters(shown)


def test_carriage_return_nul_c1_and_bidi_are_caught():
    assert control_characters("a\rb\x00c\x9bd\u202ee") == ["\\x0d", "\\x00", "\\x9b", "\\u202e"]


def test_plain_unicode_is_left_alone():
    text = "Zoë's 4WD tour · Ōtautahi 🚙"
    assert visible(text) == text
    assert control_characters(text) == []


@given(st.text())
def test_visible_text_never_holds_a_control_character(text: str):
    assert not has_control_characters(visible(text))


def test_bytes_that_were_not_utf8_are_shown_as_bytes_never_raw():
    """Python hands such bytes over as lone surrogates; printed, they are the bytes again,
    and 0x9b is a C1 CSI to many terminals."""
    from_the_shell = b"arch/\x9b2Jx.gz".decode("utf-8", "surrogateescape")
    assert visible(from_the_shell) == "arch/\\x9b2Jx.gz"
    assert json_escaped(from_the_shell) == "arch/\\udc9b2Jx.gz"
    # Still "not valid text" on the way in, not a control character.
    assert control_characters(from_the_shell) == []
    assert has_foreign_bytes(from_the_shell) and not has_foreign_bytes("Zoë 🚙")
