"""The operator TUI's conductor: screens as modes, the command palette, and the call ledger.

The app holds the Booking facade and never calls it on the UI thread: screens go through
``calls.run_booking`` and results come back as ``CallFinished`` messages handled here.
``today`` and ``clock`` are injected so tests and snapshots are deterministic; in
production ``today`` is confirmed from the database clock at start-up, and countdowns run
on the local clock corrected by its measured offset from the database clock.

Live: a listener thread (``live.py``) hears other connections' commits; the app merges
them and lets the visible screen re-query what it shows, at most every ``APPLY_EVERY_S``.
It also watches the connection: while it is lost the screens keep their data, mutating
keys are disabled, the status bar says when the next attempt is, and on reconnect every
screen refreshes and changes that were in flight are settled from the audit trail.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from ..booking import Booking
from ..booking.records import Resource, SweepResult
from ..text import visible
from .calls import CallFinished, Problem, run_booking
from .live import ChangeSet, LinkChecked, LinkLost, LinkUp, Listener, LiveChanges
from .modals import a_date, email, prompt
from .outcome import Expect, Unsure, find_outcome
from .screens.heatmap import HeatmapScreen
from .screens.help import HelpScreen
from .screens.holds import HoldsScreen
from .screens.resources import ResourcesScreen

Clock = Callable[[], datetime]

_IN_FLIGHT = (WorkerState.PENDING, WorkerState.RUNNING)

# App-wide keys that must not fire inside a form or a confirmation.
_NOT_IN_MODALS = frozenset({"switch_mode", "help", "quit", "command_palette", "sweep"})

APPLY_EVERY_S = 0.2  # live refreshes of one screen start at most this often
SKEW_TOLERANCE = timedelta(milliseconds=250)  # smaller clock offsets are left alone

CONNECTING, CONNECTED, DISCONNECTED = "connecting", "connected", "disconnected"


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
        Binding("f1", "help", "Help", show=False),
        # Declaring any palette binding stops Textual adding ctrl+p itself: declare both.
        Binding("ctrl+p", "command_palette", "Commands", show=False, priority=True),
        Binding("colon", "command_palette", "Commands", show=False, key_display=":"),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    busy: reactive[int] = reactive(0)
    # CONNECTING until the listener first reports, then CONNECTED or DISCONNECTED.
    link: reactive[str] = reactive(CONNECTING)
    retry_at: reactive[datetime | None] = reactive(None)

    def __init__(
        self,
        booking: Booking,
        *,
        today: date | None = None,
        clock: Clock | None = None,
        read_only: bool | None = None,
        live: bool = True,
        correct_skew: bool | None = None,
    ) -> None:
        self.booking = booking
        self._local_clock: Clock = clock or utc_now
        # An injected clock is the truth (tests, snapshots) unless asked to correct it.
        self.correct_skew = clock is None if correct_skew is None else correct_skew
        self.clock_offset = timedelta(0)  # database clock minus local clock
        self._today_injected = today is not None
        self.today: date = today or self.clock().date()
        # A read-only session hides every mutating key, whatever the caller asked for.
        self.read_only = booking.read_only or bool(read_only)
        self.resource_names: dict[int, str] = {}
        self._mode_screens: dict[str, Screen[Any]] = {}
        self._calls: set[Worker[Any]] = set()
        url = getattr(getattr(booking.db, "resbook_url", None), "raw", None)
        self.listener: Listener | None = None
        if live and url:
            self.listener = Listener(url, self._post_from_listener, self.clock)
        self.link_error = ""
        self.link_history: list[str] = []  # every state the link went through, in order
        self._changes = ChangeSet()
        self._apply_timer: Any = None
        self._last_apply = 0.0
        self._unsure: list[Unsure] = []
        self._settling = False
        self.own_holds: set[int] = set()  # holds this session changed (not "others'")
        super().__init__()
        if self.listener is None:
            self.set_reactive(ResbookApp.link, CONNECTED)
        for mode, screen_type in self.SCREENS_BY_MODE.items():
            self.add_mode(mode, self._screen_factory(mode, screen_type))

    def _screen_factory(self, mode: str, screen_type: type[Screen[Any]]) -> Callable[[], Screen]:
        # Modes are built lazily by Textual; keeping the instance lets the palette and
        # the resources screen talk to the heatmap or holds screen directly.
        def make() -> Screen[Any]:
            screen = self._mode_screens[mode] = screen_type()
            return screen

        return make

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast goes through here: stored text in it is shown with its control
        characters made visible, never raw."""
        super().notify(
            visible(message),
            title=visible(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    def clock(self) -> datetime:
        """Now, for countdowns and the status bar: the local clock plus its measured skew."""
        return self._local_clock() + self.clock_offset

    def on_mount(self) -> None:
        self.set_interval(0.5, self._count_calls)
        if self.read_only:
            self.sub_title = "read-only"
        if self.listener is not None:
            self.listener.start()
        if not self._today_injected:
            run_booking(self, lambda bk: bk.today(), self._today_confirmed, quiet=True)

    def on_unmount(self) -> None:
        if self.listener is not None:
            self.listener.stop()

    def _today_confirmed(self, today: date) -> None:
        if today != self.today:
            self.today = today
            screen = self.mode_screen("heatmap")
            if isinstance(screen, HeatmapScreen):
                screen.set_today(today)

    # ---- the clock -------------------------------------------------------------------------

    def sample_clock(self, bk: Booking) -> timedelta | None:
        """Measure the database clock against the local one (in a worker): None if unused."""
        if not self.correct_skew:
            return None
        before = self._local_clock()
        database = bk.now()
        after = self._local_clock()
        return database - (before + (after - before) / 2)

    def note_clock(self, offset: timedelta | None) -> None:
        """Take a fresh offset measurement (on the UI thread)."""
        if offset is not None and abs(offset - self.clock_offset) > SKEW_TOLERANCE:
            self.clock_offset = offset

    # ---- live updates and the connection -------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.link == CONNECTED

    def _post_from_listener(self, message: Any) -> None:
        self.post_message(message)

    def retry_now(self) -> None:
        if self.listener is not None:
            self.listener.retry_now()

    def on_link_up(self, message: LinkUp) -> None:
        was = self.link
        self.link = CONNECTED
        self.retry_at = None
        self.link_error = ""
        if was == DISCONNECTED:
            self.notify("Reconnected: screens refreshed.", title="Database", severity="information")
        # First report or back after a loss: everything may have changed meanwhile.
        self._refresh_all()
        self._settle_unsure()

    def on_link_lost(self, message: LinkLost) -> None:
        was = self.link
        self.link = DISCONNECTED
        self.retry_at = message.retry_at
        self.link_error = message.error
        if message.first or was != DISCONNECTED:
            self.notify(
                f"{message.error}. Retrying; the screen keeps the last data it had.",
                title="Database disconnected",
                severity="error",
                timeout=8,
                markup=False,
            )

    def on_link_checked(self, message: LinkChecked) -> None:
        self._settle_unsure()

    def on_live_changes(self, message: LiveChanges) -> None:
        self._changes.extend(message.changes)
        if self._apply_timer is None:
            wait = max(self._last_apply + APPLY_EVERY_S - time.monotonic(), 0.01)
            self._apply_timer = self.set_timer(wait, self._apply_changes)

    def watch_link(self, old: str, new: str) -> None:
        self.link_history.append(new)
        if self.is_mounted:
            self.refresh_bindings()

    @property
    def notifications_received(self) -> int:
        """Change notifications the listener has heard (PostgreSQL: one per NOTIFY)."""
        return self.listener.notifications if self.listener is not None else 0

    def _live_screen(self) -> Screen[Any] | None:
        """The screen live changes go to: the top data screen, even under a form."""
        from .screens.base import ResbookScreen

        for screen in reversed(self.screen_stack):
            if isinstance(screen, ResbookScreen):
                return screen
        return None

    def _apply_changes(self) -> None:
        from .screens.base import ResbookScreen

        self._apply_timer = None
        self._last_apply = time.monotonic()
        changes, self._changes = self._changes, ChangeSet()
        if not changes or not self.connected:
            return  # a reconnect refreshes everything anyway
        screen = self._live_screen()
        if isinstance(screen, ResbookScreen):
            screen.live_update(changes)

    def _refresh_all(self) -> None:
        """After (re)connecting: the visible screen reloads now, the others when shown."""
        from .screens.base import ResbookScreen

        self._changes = ChangeSet()
        live = self._live_screen()
        screens = {*self._mode_screens.values(), *self.screen_stack}
        for screen in screens:
            if isinstance(screen, ResbookScreen):
                if screen is live:
                    screen.request_reload()
                else:
                    screen.stale = True

    # ---- changes whose outcome is unknown -------------------------------------------------

    def _track_unsure(self, unsure: Unsure) -> None:
        self._unsure.append(unsure)
        self.notify(
            f"The connection broke while sending: {unsure.expect.label}. Checking whether it "
            "committed…",
            title="Outcome unknown",
            severity="warning",
            timeout=8,
            markup=False,
        )
        if self.listener is not None:
            self.listener.check_now()  # LinkChecked or LinkUp then settles it
        else:
            self._settle_unsure()

    def _settle_unsure(self) -> None:
        if not self._unsure or self._settling or not self.connected:
            return
        self._settling = True
        pending = list(self._unsure)

        def look(bk: Booking) -> list[tuple[Unsure, Any]]:
            return [(unsure, find_outcome(bk, unsure)) for unsure in pending]

        def settled(outcomes: list[tuple[Unsure, Any]]) -> None:
            self._settling = False
            for unsure, event in outcomes:
                self._unsure.remove(unsure)
                label = unsure.expect.label
                if event is not None:
                    self.notify(
                        f"{label}: committed (audit event #{event.id}).",
                        title="Committed",
                        timeout=10,
                        markup=False,
                    )
                else:
                    self.notify(
                        f"{label}: did not commit. Nothing changed; do it again if still needed.",
                        title="Did not commit",
                        severity="warning",
                        timeout=10,
                        markup=False,
                    )
                if unsure.settled is not None:
                    unsure.settled(event is not None)
            screen = self._live_screen()
            if screen is not None and hasattr(screen, "request_reload"):
                screen.request_reload()

        def failed(_problem: Any) -> None:
            self._settling = False  # still unknown: tried again on the next (re)connect
            if self.listener is not None:
                self.listener.check_now()

        run_booking(self, look, settled, failed=failed, quiet=True, group="outcome")

    # ---- the call ledger -------------------------------------------------------------------

    def call_started(self, worker: Worker[Any]) -> None:
        self._calls.add(worker)
        self.busy = len(self._calls)

    def _count_calls(self) -> None:
        # A load replaced by a newer one may be cancelled before it ever runs, and then
        # sends nothing back (and Textual leaves its state RUNNING): count what is still
        # pending or running and not cancelled, not what was sent.
        self._calls = {w for w in self._calls if w.state in _IN_FLIGHT and not w.is_cancelled}
        self.busy = len(self._calls)

    def on_call_finished(self, message: CallFinished) -> None:
        self._calls.discard(message.worker)  # type: ignore[arg-type]
        self._count_calls()
        if message.unsure is not None:
            self._track_unsure(message.unsure)  # even if its screen has gone
        if message.worker is not None and message.worker.is_cancelled:
            return
        if not self.screen_stack:
            return  # the app is exiting: nothing left to show it on
        if message.problem is not None:
            problem = message.problem
            if message.trouble and self.listener is not None and message.unsure is None:
                self.listener.check_now()  # is it the connection? the listener finds out
            if message.not_sent is not None:
                self.notify(
                    f"{message.not_sent.label}: not sent, nothing changed ({problem.message}).",
                    title="Did not commit",
                    severity="error",
                    timeout=10,
                    markup=False,
                )
            elif message.unsure is not None:
                pass  # told above; the outcome follows
            elif message.trouble and self.link == DISCONNECTED:
                pass  # the status bar already says so
            elif not message.quiet:
                self.notify(
                    problem.message,
                    title=problem.title,
                    severity=problem.severity,  # type: ignore[arg-type]
                    timeout=8,
                    markup=False,
                )
            if message.failed is not None:
                if message.unsure is not None:
                    problem = Problem(
                        "Outcome unknown",
                        "The connection broke while sending: checking whether it committed…",
                        "error",
                        "unsure",
                    )
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
        if action == "sweep":
            if self.read_only:
                return False
            return True if self.connected else None
        return True

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
        if self.read_only or not self.connected:
            return
        run_booking(
            self,
            lambda bk: bk.sweep(),
            self._swept,
            group="change",
            expect=Expect("Sweep expired holds", "hold.expire", "hold"),
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
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"
