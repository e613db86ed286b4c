"""The text-safety rule shared by every interface."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from resbook_tui.text import control_characters, has_control_characters, visible


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
