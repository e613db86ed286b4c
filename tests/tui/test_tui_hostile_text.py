"""Stored text that got in before the engine refused control characters (or through SQL)
never reaches the terminal raw: names, emails, reasons, order ids are drawn with their
control characters made visible, on every screen that shows them."""

from __future__ import annotations

from contrast import drawn_text
from tui_helpers import asynctest, settle

from conftest import _sql

HOSTILE = "\x1b]0;OWNED\x07"
CONTROL = [chr(n) for n in (*range(0x00, 0x0A), *range(0x0B, 0x20), 0x7F, 0x9B)]


@asynctest
async def test_escape_sequences_in_stored_text_are_shown_escaped(make_app, booking, world_ids):
    lc01 = world_ids["Land Cruiser 01"]
    _sql(booking.db, "UPDATE resource SET name = ? WHERE id = ?", (f"{HOSTILE}Cruiser\r", lc01))
    _sql(
        booking.db,
        "UPDATE resource_hold SET customer_email = ? WHERE resource_id = ?",
        (f"{HOSTILE}ana@example.com", lc01),
    )
    _sql(booking.db, "UPDATE resource_blackout SET reason = ?", (f"{HOSTILE}flood\x1b[2J",))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        for keys in ((), ("3",), ("3", "enter"), ("escape", "1"), ("2", "down", "right", "right")):
            await settle(pilot)
            for key in keys:
                await pilot.press(key)
                await settle(pilot)
            shown = drawn_text(app)
            leaked = sorted({repr(ch) for ch in shown if ch in CONTROL})
            assert not leaked, (keys, leaked)
        await pilot.press("up", "left", "left", "enter")  # Land Cruiser 01's day detail
        await settle(pilot)
        shown = drawn_text(app)
        assert "\\x1b]0;OWNED\\x07" in shown  # there, but harmless
        assert not {ch for ch in shown if ch in CONTROL}
