"""The operator TUI's conductor: screens as modes, the command palette, and the call ledger.

The app holds the Booking facade and never calls it on the UI thread: screens go through
``calls.run_booking`` and results come back as ``CallFinished`` messages handled here.
``today`` and ``clock`` are injected so tests and snapshots are deterministic; in
production ``today`` is confirmed from the database clock at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from ..booking import Booking
from ..booking.records import Resource, SweepResult
from .calls import CallFinished, run_booking
from .modals import a_date, email, prompt
from .screens.heatmap import HeatmapScreen
from .screens.help import HelpScreen
from .screens.holds import HoldsScreen
from .screens.resources import ResourcesScreen

Clock = Callable[[], datetime]

_IN_FLIGHT = (WorkerState.PENDING, WorkerState.RUNNING)

# App-wide keys that must not fire inside a form or a confirmation.
_NOT_IN_MODALS = frozenset({"switch_mode", "help", "quit", "command_palette", "sweep"})


def utc_now() -> datetime:
    return datetime.now(UTC)


class ResbookApp(App[None]):
    TITLE = "resbook"
    CSS_PATH = "app.tcss"
    DEFAULT_MODE: ClassVar[str] = "heatmap"
    SCREENS_BY_MODE: ClassVar[dict[str, type[Screen[Any]]]] = {
        "resources": ResourcesScreen,
        "heatmap": HeatmapScreen,
        "holds": HoldsScreen,
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "switch_mode('resources')", "Resources"),
        Binding("2", "switch_mode('heatmap')", "Heatmap"),
        Binding("3", "switch_mode('holds')", "Holds"),
        Binding("question_mark", "help", "Help", key_display="?"),
        # Declaring any palette binding stops Textual adding ctrl+p itself: declare both.
        Binding("ctrl+p", "command_palette", "Commands", show=False, priority=True),
        Binding("colon", "command_palette", "Commands", show=False, key_display=":"),
        Binding("q", "quit", "Quit"),
    ]

    busy: reactive[int] = reactive(0)

    def __init__(
        self,
        booking: Booking,
        *,
        today: date | None = None,
        clock: Clock | None = None,
        read_only: bool | None = None,
    ) -> None:
        self.booking = booking
        self.clock: Clock = clock or utc_now
        self._today_injected = today is not None
        self.today: date = today or self.clock().date()
        # A read-only session hides every mutating key, whatever the caller asked for.
        self.read_only = booking.read_only or bool(read_only)
        self.resource_names: dict[int, str] = {}
        self._mode_screens: dict[str, Screen[Any]] = {}
        self._calls: set[Worker[Any]] = set()
        super().__init__()
        for mode, screen_type in self.SCREENS_BY_MODE.items():
            self.add_mode(mode, self._screen_factory(mode, screen_type))

    def _screen_factory(self, mode: str, screen_type: type[Screen[Any]]) -> Callable[[], Screen]:
        # Modes are built lazily by Textual; keeping the instance lets the palette and
        # the resources screen talk to the heatmap or holds screen directly.
        def make() -> Screen[Any]:
            screen = self._mode_screens[mode] = screen_type()
            return screen

        return make

    def on_mount(self) -> None:
        self.set_interval(0.5, self._count_calls)
        if self.read_only:
            self.sub_title = "read-only"
        if not self._today_injected:
            run_booking(self, lambda bk: bk.today(), self._today_confirmed, quiet=True)

    def _today_confirmed(self, today: date) -> None:
        if today != self.today:
            self.today = today
            screen = self.mode_screen("heatmap")
            if isinstance(screen, HeatmapScreen):
                screen.set_today(today)

    # ---- the call ledger -------------------------------------------------------------------

    def call_started(self, worker: Worker[Any]) -> None:
        self._calls.add(worker)
        self.busy = len(self._calls)

    def _count_calls(self) -> None:
        # A load replaced by a newer one may be cancelled before it ever runs, and then
        # sends nothing back: count what is still pending or running, not what was sent.
        self._calls = {w for w in self._calls if w.state in _IN_FLIGHT}
        self.busy = len(self._calls)

    def on_call_finished(self, message: CallFinished) -> None:
        self._calls.discard(message.worker)  # type: ignore[arg-type]
        self._count_calls()
        if message.worker is not None and message.worker.is_cancelled:
            return
        if message.problem is not None:
            problem = message.problem
            if not message.quiet:
                self.notify(
                    problem.message,
                    title=problem.title,
                    severity=problem.severity,  # type: ignore[arg-type]
                    timeout=8,
                    markup=False,
                )
            if message.failed is not None:
                message.failed(problem)
        elif message.done is not None:
            message.done(message.result)

    def remember_resources(self, resources: Sequence[Resource]) -> None:
        """Resource names for screens that show holds and allocations by resource id."""
        self.resource_names.update({r.id: r.name for r in resources})

    # ---- navigation ------------------------------------------------------------------------

    def mode_screen(self, mode: str) -> Screen[Any] | None:
        """The base screen of a mode, once it has been shown."""
        return self._mode_screens.get(mode)

    async def show_on_heatmap(self, resource_id: int) -> None:
        await self.switch_mode("heatmap")
        screen = self.mode_screen("heatmap")
        if isinstance(screen, HeatmapScreen):
            while len(self.screen_stack) > 1:  # back to the grid from a day detail
                self.pop_screen()
            screen.focus_resource(resource_id)

    async def show_date(self, day: date) -> None:
        await self.switch_mode("heatmap")
        screen = self.mode_screen("heatmap")
        if isinstance(screen, HeatmapScreen):
            while len(self.screen_stack) > 1:
                self.pop_screen()
            screen.goto_date(day)

    async def show_customer(self, customer: str) -> None:
        await self.switch_mode("holds")
        screen = self.mode_screen("holds")
        if isinstance(screen, HoldsScreen):
            while len(self.screen_stack) > 1:
                self.pop_screen()
            screen.show_customer(customer)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _NOT_IN_MODALS and isinstance(self.screen, ModalScreen):
            return False
        return not (action == "sweep" and self.read_only)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    # ---- command palette -------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield SystemCommand("Go to resources", "Screen 1: the fleet", self._goto("resources"))
        yield SystemCommand("Go to heatmap", "Screen 2: utilisation by date", self._goto("heatmap"))
        yield SystemCommand("Go to holds", "Screen 3: the ACTIVE hold queue", self._goto("holds"))
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
        yield from super().get_system_commands(screen)

    def _goto(self, mode: str) -> Callable[[], None]:
        return lambda: self.run_worker(self.switch_mode(mode), group="navigate")

    def action_find_customer(self) -> None:
        def submitted(values: dict[str, Any] | None) -> None:
            if values:
                self.run_worker(self.show_customer(values["value"]), group="navigate")

        self.push_screen(
            prompt("Find holds by email", "Email", email, placeholder="ana@example.com"),
            submitted,
        )

    def action_goto_date(self) -> None:
        def submitted(values: dict[str, Any] | None) -> None:
            if values:
                self.run_worker(self.show_date(values["value"]), group="navigate")

        self.push_screen(
            prompt("Go to date", "Date", a_date(), value=self.today.isoformat()), submitted
        )

    def action_sweep(self) -> None:
        if self.read_only:
            return
        run_booking(self, lambda bk: bk.sweep(), self._swept, group="change")

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
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"
