"""The ``:`` command line as a widget: run, refuse in place, cancel, complete, recall, look.

A small host app stands in for the operator TUI (which wires the command line in), so
these tests need no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.color import Color
from textual.pilot import Pilot
from textual.widgets import Footer, Input, Static
from tui_helpers import asynctest

from resbook_tui.settings import load_settings, remember_command
from resbook_tui.tui.command_line import CommandLine, HistoryWalk, common_prefix, suggestion_for
from resbook_tui.tui.command_parser import GoToDate, Quit, ShowHold, ShowHolds, ShowResource

TODAY = date(2030, 1, 7)
FLEET = [
    (11, "Land Cruiser 01"),
    (12, "Land Cruiser 02"),
    (13, "Troop Carrier 01"),
    (14, "Uluru Sunrise"),
    (15, "Kings Canyon Rim"),
]
THEMES = ("textual-dark", "textual-light")


class Host(App[None]):
    """A stand-in for the operator app: rows of text, ``:`` opens the line, ``q`` quits."""

    CSS = "ModalScreen { background: $background 60%; }"  # as the operator app dims modals
    BINDINGS = [Binding("colon", "command_line", "Command"), Binding("q", "quit", "Quit")]

    def __init__(self, *, history: Sequence[str] = (), remember: Any = None, theme: str = ""):
        super().__init__()
        self.history = history
        self.remember = remember
        self.results: list[Any] = []
        if theme:
            self.theme = theme

    def compose(self) -> ComposeResult:
        yield Static("\n".join(f"row {n:>2}  " + "·" * 60 for n in range(30)))
        yield Footer()

    def action_command_line(self) -> None:
        line = CommandLine(
            today=TODAY, resources=FLEET, history=self.history, remember=self.remember
        )
        self.push_screen(line, self.results.append)


def line_of(pilot: Pilot) -> CommandLine:
    screen = pilot.app.screen
    assert isinstance(screen, CommandLine), f"the command line is not open: {screen!r}"
    return screen


def value(pilot: Pilot) -> str:
    return line_of(pilot).input.value


async def type_line(pilot: Pilot, text: str) -> None:
    await pilot.press(*text)
    await pilot.pause()


async def opened(pilot: Pilot) -> CommandLine:
    await pilot.press("colon")
    await pilot.pause()
    return line_of(pilot)


# ---- running and refusing -------------------------------------------------------------------


@asynctest
async def test_enter_runs_the_line_and_the_history_is_saved(tmp_path: Path):
    saved = tmp_path / "settings.json"
    app = Host(remember=lambda line: remember_command(line, saved))
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        await type_line(pilot, "hold 1342")
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [ShowHold(1342)]
        assert not isinstance(app.screen, CommandLine)
    assert load_settings(saved).command_history == ("hold 1342",)


@asynctest
async def test_a_refused_line_stays_open_with_its_reason_in_red_until_corrected():
    remembered: list[str] = []
    app = Host(remember=remembered.append)
    async with app.run_test(size=(80, 24)) as pilot:
        line = await opened(pilot)
        await type_line(pilot, "frob")
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [] and remembered == []
        assert line.message == "unknown command 'frob': tab lists the commands"
        assert line.error == line.message
        assert line.query_one("#command-message").has_class("-error")
        assert value(pilot) == "frob"  # kept for correction

        await pilot.press("ctrl+u")  # Input's "delete to the start"
        await pilot.pause()
        assert not line.query_one("#command-message").has_class("-error") and line.error == ""
        await type_line(pilot, "holds rel")
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [ShowHolds("RELEASED")]
        assert remembered == ["holds rel"]


@asynctest
async def test_escape_cancels_and_remembers_nothing():
    remembered: list[str] = []
    app = Host(remember=remembered.append)
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        await type_line(pilot, "sweep")
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None] and remembered == []
        assert not isinstance(app.screen, CommandLine)


@asynctest
async def test_enter_on_an_empty_line_closes_it():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        await type_line(pilot, "   ")
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [None]


@asynctest
async def test_keys_go_to_the_line_not_to_the_app_below():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        await type_line(pilot, "q")  # the app's own q would quit
        assert value(pilot) == "q" and app.is_running
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [Quit()]  # the caller decides what running quit means


@asynctest
async def test_pasted_control_characters_are_refused_in_place():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        line = await opened(pilot)
        line.input.value = "hold 1\x1b[2J"
        await pilot.press("enter")
        await pilot.pause()
        assert line.error == "control characters are not allowed in a command: \\x1b"
        assert app.results == []


@asynctest
async def test_markup_in_the_line_is_shown_as_typed():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        line = await opened(pilot)
        line.input.value = "[b]frob[/b]"
        await pilot.press("enter")
        await pilot.pause()
        assert line.message.startswith("unknown command '[b]frob[/b]': ")


@asynctest
async def test_a_name_that_fits_several_resources_says_which_it_picked():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        await type_line(pilot, "res land")
        await pilot.press("enter")
        await pilot.pause()
        note = "2 resources match 'land'; showing Land Cruiser 01"
        assert app.results == [ShowResource(11, "Land Cruiser 01", note)]


@asynctest
async def test_day_offsets_count_from_the_given_today():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        await type_line(pilot, "+7")
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [GoToDate(date(2030, 1, 14))]


# ---- completion -----------------------------------------------------------------------------


async def tab(pilot: Pilot) -> str:
    await pilot.press("tab")
    await pilot.pause()
    return value(pilot)


@asynctest
async def test_tab_completes_the_shared_part_then_cycles_through_the_candidates():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        line = await opened(pilot)
        await type_line(pilot, "ho")
        assert await tab(pilot) == "hold"
        assert line.message == "2 fit: hold · holds"
        assert await tab(pilot) == "hold "
        assert await tab(pilot) == "holds "
        assert await tab(pilot) == "hold "
        assert line.message == "2 fit: hold · holds"


@asynctest
async def test_tab_completes_statuses_themes_and_resource_names():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        line = await opened(pilot)
        await type_line(pilot, "holds r")
        assert await tab(pilot) == "holds released"

        line.input.value = "th"
        assert await tab(pilot) == "theme "
        assert await tab(pilot) == "theme dark"
        assert line.message == "2 fit: dark · light"
        assert await tab(pilot) == "theme light"

        line.input.value = "res tc"
        assert await tab(pilot) == "res Troop Carrier 01"

        line.input.value = "res cru"
        assert await tab(pilot) == "res Land Cruiser 01"
        assert line.message == "2 fit: Land Cruiser 01 · Land Cruiser 02"
        assert await tab(pilot) == "res Land Cruiser 02"
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [ShowResource(12, "Land Cruiser 02")]


@asynctest
async def test_tab_with_nothing_to_complete_says_so_and_changes_nothing():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        line = await opened(pilot)
        await type_line(pilot, "frob")
        assert await tab(pilot) == "frob"
        assert line.message == "nothing completes 'frob'"
        assert isinstance(app.screen, CommandLine)  # tab did not move focus or close it


@asynctest
async def test_the_inline_suggestion_is_accepted_with_right():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        await type_line(pilot, "res tr")
        await app.workers.wait_for_complete()  # the suggester runs in a worker
        await pilot.pause()
        await pilot.press("right")
        await pilot.pause()
        assert value(pilot) == "res Troop Carrier 01"


def test_suggestions_and_shared_prefixes():
    names = [name for _id, name in FLEET]
    assert suggestion_for("res la", names) == "res Land Cruiser 01"
    assert suggestion_for("RES LA", names) == "res Land Cruiser 01"
    assert suggestion_for("res kcr", names) is None  # fuzzy: Tab only, it does not extend
    assert suggestion_for("hold", names) == "holds "  # "hold " would add only a space
    assert suggestion_for("hold 12", names) is None
    assert common_prefix(["res Land Cruiser 01", "res land cruiser 02"]) == "res Land Cruiser 0"
    assert common_prefix(["hold ", "holds "]) == "hold"
    assert common_prefix([]) == ""


# ---- history --------------------------------------------------------------------------------


@asynctest
async def test_up_and_down_walk_the_history_and_keep_the_line_being_typed():
    app = Host(history=["hold 3", "holds released"])
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        await type_line(pilot, "draft")
        walked = []
        for key in ("up", "up", "up", "down", "down", "down"):
            await pilot.press(key)
            await pilot.pause()
            walked.append(value(pilot))
        assert walked == ["holds released", "hold 3", "hold 3", "holds released", "draft", "draft"]
        await pilot.press("up", "enter")
        await pilot.pause()
        assert app.results == [ShowHolds("RELEASED")]


def test_history_walk_with_no_history():
    walk = HistoryWalk([])
    assert walk.older("typed") is None
    assert walk.newer() is None


# ---- fit and colours ------------------------------------------------------------------------


@asynctest
async def test_at_80x24_a_long_refusal_wraps_above_the_prompt_and_the_footer_stays():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        line = await opened(pilot)
        await type_line(pilot, "hold 99999999999999999999999")
        await pilot.press("enter")
        await pilot.pause()
        message = line.query_one("#command-message")
        prompt = line.input
        assert 2 <= message.region.height <= 3 and message.region.right <= 80
        assert len(line.error) > message.region.width  # so it had to wrap
        assert prompt.region.y == 22 and prompt.region.right <= 80  # just above the footer
        assert line.query_one(Footer).region.y == 23
        assert message.region.bottom == prompt.region.y  # the reason sits on the prompt


def contrast(one: Color, two: Color) -> float:
    """WCAG 2 contrast ratio."""

    def luminance(color: Color) -> float:
        def channel(value: int) -> float:
            c = value / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)

    high, low = sorted((luminance(one), luminance(two)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_contrast(widget: Any) -> float:
    _base_background, _base_color, background, color = widget.colors
    return contrast(color, background)


@asynctest
async def test_every_part_is_readable_in_both_themes():
    for theme in THEMES:
        app = Host(theme=theme)
        async with app.run_test(size=(80, 24)) as pilot:
            line = await opened(pilot)
            ratios = {
                "hint": text_contrast(line.query_one("#command-message")),
                "prompt": text_contrast(line.query_one("#command-prompt")),
                "typed text": text_contrast(line.input),
            }
            box = line.query_one("#command-input", Input)
            faded = box.get_component_rich_style("input--suggestion")
            assert faded.color is not None
            ratios["suggestion"] = contrast(Color.from_rich_color(faded.color), box.colors[2])
            await type_line(pilot, "frob")
            await pilot.press("enter")
            await pilot.pause()
            ratios["error"] = text_contrast(line.query_one("#command-message"))
            low = {part: round(r, 2) for part, r in ratios.items() if r < 4.5}
            assert not low, f"{theme}: below WCAG AA 4.5:1: {low}"


# ---- looks ----------------------------------------------------------------------------------


def steps(*keys: str):
    async def run(pilot: Pilot) -> None:
        await pilot.press("colon")
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        line_of(pilot).input.cursor_blink = False
        await pilot.pause()

    return run


def test_snapshot_refusal_dark_80x24(snap_compare):
    app = Host(theme="textual-dark")
    assert snap_compare(app, terminal_size=(80, 24), run_before=steps(*"frob", "enter"))


def test_snapshot_completion_light_80x24(snap_compare):
    app = Host(theme="textual-light")
    assert snap_compare(app, terminal_size=(80, 24), run_before=steps(*"res cru", "tab"))


def test_snapshot_hint_and_suggestion_light_200x50(snap_compare):
    app = Host(theme="textual-light")
    assert snap_compare(app, terminal_size=(200, 50), run_before=steps(*"holds r"))
