"""How each screen looks, at 120 x 36, with 'today' and the clock fixed in January 2030.

Regenerate with ``pytest tests/tui/test_tui_snapshots.py --snapshot-update`` and review the
SVGs under __snapshots__/ like code before accepting them.
"""

from __future__ import annotations

from tui_helpers import no_blink, settle

from conftest import NOW, TODAY, make_booking
from resbook_tui.tui import ResbookApp

SIZE = (120, 36)


def steps(*keys: str, fields: dict[str, str] | None = None):
    """A run_before that presses keys (settling after each) and fills form fields."""

    async def run(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        for name, value in (fields or {}).items():
            pilot.app.screen.query_one(f"#field-{name}").value = value
        await pilot.pause()
        no_blink(pilot.app)
        await pilot.pause()

    return run


def test_heatmap(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=steps("down", "right"))


def test_resources(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=steps("1"))


def test_holds_queue(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=steps("3"))


def test_holds_customer_view(snap_compare, make_app):
    keys = ("3", "slash", *"ana@example.com", "enter")
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=steps(*keys))


def test_day_detail(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=steps("enter"))


def test_hold_detail(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=steps("3", "enter"))


def test_new_hold_form_refuses_a_bad_email(snap_compare, make_app):
    run_before = steps(
        "down", "down", "enter", "n", fields={"quantity": "2", "email": "ana@example"}
    )
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_help(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=steps("question_mark"))


def test_read_only_holds(snap_compare, world_url):
    app = ResbookApp(make_booking(world_url, read_only=True), today=TODAY, clock=lambda: NOW)
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("3"))
