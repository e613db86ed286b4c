"""Every character on every screen, dialog and form is readable in both themes: WCAG AA,
4.5:1 between its colour and its background, measured on what the compositor draws."""

from __future__ import annotations

import pytest
from contrast import samples, too_faint
from textual.screen import ModalScreen
from tui_helpers import asynctest, no_blink, settle

PLACES = {
    "heatmap": (),
    "holds": ("3",),
    "resources": ("1",),
    "day detail": ("enter",),
    "hold detail": ("3", "enter"),
    "help": ("question_mark",),
    "release question": ("3", "x"),
    "new hold form": ("enter", "n"),
    "holds filter": ("3", "slash"),
    "command line": ("colon",),
}


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
@pytest.mark.parametrize("place", list(PLACES))
@asynctest
async def test_text_is_readable(make_app, theme: str, place: str):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.theme = theme
        await settle(pilot)
        for key in PLACES[place]:
            await pilot.press(key)
            await settle(pilot)
        no_blink(app)
        await pilot.pause()
        region = None
        if isinstance(app.screen, ModalScreen):  # the dialog, not the screen dimmed behind
            box = app.screen.query(".modal-box, #command-bar").first()
            region = box.region
        assert len(samples(app, region)) >= 3  # the measurement saw the screen's text
        faint = too_faint(app, region)
        assert not faint, [(s.text, round(s.ratio, 2)) for s in faint[:5]]
