"""Where the operator can go and what they can run from anywhere: the ``:`` command line,
the ``ctrl+p`` palette, and the navigation both use.

Every navigation goes to the base screen of its mode (a detail screen left open there is
closed), so ``:hold 12``, ``:res Land`` or ``2`` always land where they say.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from textual.app import SystemCommand
from textual.screen import Screen

from ..booking.events import Action
from ..booking.records import SweepResult
from ..config import app_dir
from ..settings import load_settings, remember_command, remember_theme
from .calls import run_booking
from .command_line import CommandLine
from .command_parser import (
    MAX_DAYS_AWAY,
    Command,
    FindEmail,
    GoToDate,
    Quit,
    SetTheme,
    ShowHelp,
    ShowHold,
    ShowHolds,
    ShowResource,
    Sweep,
)
from .ledger import CallLedger
from .modals import ConfirmModal, prompt
from .outcome import Expect
from .parsers import a_date_near, email, required_text
from .screens.heatmap import HeatmapScreen
from .screens.help import HelpScreen
from .screens.holds import HoldsScreen

THEMES = {"dark": "textual-dark", "light": "textual-light"}


class Commands(CallLedger):
    read_only: bool
    today: date
    resource_names: dict[int, str]
    settings_path: Path | None

    # ---- navigation ------------------------------------------------------------------------

    def mode_screen(self, mode: str) -> Screen[Any] | None:
        """The base screen of a mode, once it has been shown."""
        return self._mode_screens.get(mode)

    async def go_to(self, mode: str) -> Screen[Any] | None:
        """Show the base screen of ``mode``, closing any detail screen open on it."""
        await self.switch_mode(mode)
        while len(self.screen_stack) > 1:
            self.pop_screen()
        return self.mode_screen(mode)

    async def action_switch_mode(self, mode: str) -> None:
        await self.go_to(mode)

    async def show_on_heatmap(self, resource_id: int) -> None:
        screen = await self.go_to("heatmap")
        if isinstance(screen, HeatmapScreen):
            screen.focus_resource(resource_id)

    async def show_date(self, day: date) -> None:
        screen = await self.go_to("heatmap")
        if isinstance(screen, HeatmapScreen):
            screen.goto_date(day)

    async def show_customer(self, customer: str) -> None:
        screen = await self.go_to("holds")
        if isinstance(screen, HoldsScreen):
            screen.show_customer(customer)

    async def show_email(self, text: str) -> None:
        """Holds of every status whose email contains ``text``; a full address is that
        customer's view (holds and allocations)."""
        screen = await self.go_to("holds")
        if not isinstance(screen, HoldsScreen):
            return
        try:
            address = email(text)
        except ValueError:
            screen.find(text)
        else:
            screen.show_customer(address)

    async def show_holds(self, status: str | None) -> None:
        screen = await self.go_to("holds")
        if isinstance(screen, HoldsScreen):
            screen.show_status(status)

    async def show_hold(self, hold_id: int) -> None:
        from .screens.hold_detail import HoldDetailScreen

        await self.go_to("holds")
        self.push_screen(HoldDetailScreen(hold_id))

    def navigate(self, move: Any) -> None:
        self.run_worker(move, group="navigate")

    # ---- the command line ------------------------------------------------------------------

    def action_command_line(self) -> None:
        self.push_screen(
            CommandLine(
                today=self.today,
                resources=sorted(self.resource_names.items()),
                history=load_settings(self.settings_path).command_history,
                remember=lambda line: remember_command(line, self.settings_path),
            ),
            self.run_command,
        )

    def run_command(self, command: Command | None) -> None:
        match command:
            case None:
                return
            case ShowHold(hold_id=hold_id):
                self.navigate(self.show_hold(hold_id))
            case ShowHolds(status=status):
                self.navigate(self.show_holds(status))
            case FindEmail(text=text):
                self.navigate(self.show_email(text))
            case GoToDate(day=day):
                self.navigate(self.show_date(day))
            case ShowResource(resource_id=resource_id, note=note):
                if note:
                    self.notify(note, timeout=4)
                self.navigate(self.show_on_heatmap(resource_id))
            case Sweep():
                self.action_sweep()
            case SetTheme(theme=theme):
                self.set_theme(theme)
            case ShowHelp():
                self.action_help()
            case Quit():
                self.exit()

    # ---- the palette -----------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield SystemCommand("Go to resources", "Screen 1: the fleet", self._goto("resources"))
        yield SystemCommand("Go to heatmap", "Screen 2: utilisation by date", self._goto("heatmap"))
        yield SystemCommand("Go to holds", "Screen 3: the hold queue", self._goto("holds"))
        yield SystemCommand(
            "Find holds by email",
            "Every hold and allocation of one customer",
            self.action_find_customer,
        )
        yield SystemCommand("Go to date", "Move the heatmap to a date", self.action_goto_date)
        if not self.read_only:
            yield SystemCommand(
                "Sweep expired holds",
                "Expire ACTIVE holds past their time and return their units",
                self.action_sweep,
            )
        yield SystemCommand(
            "Toggle dark/light theme", "Switch between dark and light", self.action_toggle_theme
        )
        yield SystemCommand("Help", "Every key of every screen", self.action_help)
        yield SystemCommand(
            "Save screenshot", "An SVG of the screen, in resbook's app directory", self.screenshot
        )
        yield SystemCommand("Quit", "Quit resbook", self.action_quit)

    def _goto(self, mode: str) -> Callable[[], None]:
        return lambda: self.navigate(self.go_to(mode))

    def action_find_customer(self) -> None:
        def submitted(values: dict[str, Any] | None) -> None:
            if values:
                self.navigate(self.show_email(values["value"]))

        self.push_screen(
            prompt(
                "Find holds by email",
                "Email or part",
                required_text(320),
                placeholder="e.g. ana@example.com, or ana",
                submit_label="Find",
            ),
            submitted,
        )

    def action_goto_date(self) -> None:
        def submitted(values: dict[str, Any] | None) -> None:
            if values:
                self.navigate(self.show_date(values["value"]))

        self.push_screen(
            prompt(
                "Go to date",
                "Date",
                a_date_near(self.today, MAX_DAYS_AWAY),  # the heatmap reaches no further
                value=self.today.isoformat(),
                submit_label="Go to date",
            ),
            submitted,
        )

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    # ---- actions ---------------------------------------------------------------------------

    def action_sweep(self) -> None:
        if self.read_only:
            self.notify("This session is read-only: it cannot sweep.", severity="warning")
            return
        if not self.connected:
            self.notify("Not connected: the sweep waits for the database.", severity="warning")
            return
        # First count what it would expire, then ask: a sweep changes data too.
        run_booking(self, lambda bk: bk.sweep(dry_run=True), self._ask_to_sweep, quiet=False)

    def _ask_to_sweep(self, due: SweepResult) -> None:
        if not due.expired_holds:
            self.notify("Nothing to sweep: no ACTIVE hold is past its expiry.", title="Sweep")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                run_booking(
                    self,
                    lambda bk: bk.sweep(),
                    self._swept,
                    group="change",
                    expect=Expect("Sweep expired holds", Action.HOLD_EXPIRE, "hold"),
                )

        self.push_screen(
            ConfirmModal(
                "Expire the holds past their expiry and put their units back on sale?",
                subject=[
                    ("Holds", f"{due.expired_holds:,} ACTIVE, past their expiry"),
                    ("Units", f"{due.returned_units:,} back on sale"),
                    ("Dates", f"{due.cells:,} resource-dates"),
                ],
                confirm_label="Sweep",
                title="Sweep expired holds",
            ),
            answered,
        )

    def _swept(self, result: SweepResult) -> None:
        self.notify(
            f"{result.expired_holds} expired hold(s) swept, {result.returned_units} unit(s) "
            "back on sale.",
            title="Sweep",
            markup=False,
        )
        screen = self.screen
        if hasattr(screen, "request_reload"):
            screen.request_reload()

    def action_toggle_theme(self) -> None:
        self.set_theme("textual-light" if self.current_theme.dark else "textual-dark")

    def set_theme(self, theme: str) -> None:
        """Switch theme and remember it for the next run (a failed save is only noted)."""
        self.theme = theme
        if not remember_theme(theme, self.settings_path):
            self.notify("Theme changed, but it could not be saved for next time.", timeout=4)

    def screenshot(self) -> None:
        """Save an SVG of the screen in the app directory (created if missing)."""
        folder = app_dir() / "screenshots"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            name = f"resbook-{datetime.now():%Y%m%d-%H%M%S}.svg"
            path = self.save_screenshot(name, str(folder))
        except OSError as exc:
            self.notify(f"Could not save a screenshot: {exc}", severity="error", markup=False)
            return
        self.notify(f"Saved {path}", title="Screenshot", markup=False)
