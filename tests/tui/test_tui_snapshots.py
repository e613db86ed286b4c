"""How the TUI looks, with 'today' and the clock fixed in January 2030.

Every screen, dialog and form at 80x24 (the size most terminals open at) in the dark
theme, the main ones in the light theme too, and a few at 200x50. Regenerate with
``pytest tests/tui/test_tui_snapshots.py --snapshot-update`` and review the SVGs under
__snapshots__/ like code before accepting them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from tui_helpers import no_blink, settle

from conftest import NOW, TODAY, make_booking
from resbook_tui.tui import ResbookApp

SMALL = (80, 24)
LARGE = (200, 50)
DARK, LIGHT = "textual-dark", "textual-light"


@dataclass(frozen=True)
class Shot:
    keys: tuple[str, ...] = ()
    fields: dict[str, str] = field(default_factory=dict)
    size: tuple[int, int] = SMALL
    theme: str = DARK
    read_only: bool = False


SHOTS = {
    # screens
    "heatmap": Shot(("down", "right")),
    "heatmap_selection": Shot(("shift+down", "shift+right", "shift+right")),
    "heatmap_find": Shot(("slash", *"tour", "enter")),
    "resources": Shot(("1",)),
    "holds_queue": Shot(("3",)),
    "holds_filtered": Shot(("3", "slash", *"ana", "enter")),
    "holds_released": Shot(("3", "s", "s")),
    "holds_customer": Shot(("3", "slash", *"ana@example.com", "enter")),
    "day_detail": Shot(("enter",)),
    "day_detail_blackout": Shot(("down", "right", "right", "enter")),
    "hold_detail": Shot(("3", "enter")),
    "help": Shot(("question_mark",)),
    "command_line": Shot(("colon", *"holds re")),
    "read_only_holds": Shot(("3", "x"), read_only=True),
    # questions
    "release_question": Shot(("3", "x")),
    "cancel_allocation_question": Shot(("enter", "tab", "x")),
    "lift_blackout_question": Shot(("down", "right", "right", "enter", "B")),
    "deactivate_question": Shot(("1", "d")),
    # forms
    "new_hold_form_refuses_a_bad_email": Shot(
        ("down", "down", "enter", "n"), {"quantity": "2", "email": "ana@example"}
    ),
    "confirm_form": Shot(("3", "c")),
    "extend_form": Shot(("3", "plus")),
    "capacity_form": Shot(("shift+down", "shift+right", "e")),
    "blackout_form": Shot(("enter", "b")),
    "resource_form": Shot(("1", "a")),
    # the light theme
    "light_heatmap": Shot(("down", "right"), theme=LIGHT),
    "light_holds": Shot(("3",), theme=LIGHT),
    "light_day_detail": Shot(("enter",), theme=LIGHT),
    "light_release_question": Shot(("3", "x"), theme=LIGHT),
    "light_new_hold_form": Shot(("enter", "n"), theme=LIGHT),
    "light_help": Shot(("question_mark",), theme=LIGHT),
    # wide
    "wide_heatmap": Shot(("down", "right"), size=LARGE),
    "wide_holds": Shot(("3",), size=LARGE, theme=LIGHT),
    "wide_day_detail": Shot(("enter",), size=LARGE),
    "wide_help": Shot(("question_mark",), size=LARGE),
}


def steps(shot: Shot):
    """A run_before that presses keys (settling after each) and fills form fields."""

    async def run(pilot) -> None:
        pilot.app.theme = shot.theme
        await settle(pilot)
        for key in shot.keys:
            await pilot.press(key)
            await settle(pilot)
        for name, value in shot.fields.items():
            pilot.app.screen.query_one(f"#field-{name}").value = value
        await pilot.pause()
        no_blink(pilot.app)
        await pilot.pause()

    return run


@pytest.mark.parametrize("name", list(SHOTS))
def test_looks(snap_compare, make_app, world_url, name: str):
    shot = SHOTS[name]
    if shot.read_only:
        app = ResbookApp(make_booking(world_url, read_only=True), today=TODAY, clock=lambda: NOW)
    else:
        app = make_app()
    assert snap_compare(app, terminal_size=shot.size, run_before=steps(shot))
