"""The operator TUI's conductor: screens as modes, app-wide keys, the clock and "today".

The app holds the Booking facade and never calls it on the UI thread: screens go through
``calls.run_booking`` and results come back as messages (``ledger.py``). What comes from
other connections and the state of the connection are the link's (``link.py``); the
command line, the palette and navigation are ``commands.py``'s. ``today`` and ``clock``
are injected so tests and snapshots are deterministic; in production ``today`` is
confirmed from the database clock at start-up, and countdowns run on the local clock
corrected by its measured offset from the database clock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.widgets import Input
from textual.worker import Worker

from ..booking import Booking
from ..booking.records import Resource
from ..settings import THEMES, load_settings
from ..text import visible
from .calls import run_booking
from .commands import Commands
from .link import CONNECTED, CONNECTING, DISCONNECTED
from .live import ChangeSet, Listener
from .outcome import Unsure
from .screens.heatmap import HeatmapScreen
from .screens.help import HelpScreen
from .screens.holds import HoldsScreen
from .screens.resources import ResourcesScreen

Clock = Callable[[], datetime]

# App-wide keys that must not fire inside a form, a confirmation or the command line.
_NOT_IN_MODALS = frozenset(
    {"switch_mode", "help", "quit", "command_palette", "command_line", "sweep"}
)


# Where Textual's stock themes draw text below WCAG AA (4.5:1) on their own backgrounds,
# resbook uses darker (light theme) or lighter (dark theme) shades of the same hues. The
# cursor and button backgrounds are darkened so light text on them reaches AA too.
READABLE = {
    True: {  # dark
        "text-secondary": "#8FB8D8",
        "block-cursor-background": "#0A5CA8",
        "resbook-button-primary": "#0A5CA8",
        "resbook-button-danger": "#A3304C",
        "resbook-placeholder": "#9A9A9A",
    },
    False: {  # light
        "text-accent": "#7A4300",
        "text-warning": "#7A4300",
        "text-success": "#1A5E2E",
        "resbook-button-primary": "#004578",
        "resbook-button-danger": "#A3304C",
        "resbook-placeholder": "#505050",
    },
}


CANCEL_WAIT_S = 0.5  # on quit, how long to wait for the server to take a cancel request


def utc_now() -> datetime:
    return datetime.now(UTC)


class ResbookApp(Commands):
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
        # Priority: f1 and ctrl+q work in forms and questions too, where ? and q do not.
        Binding("f1", "help_now", "Help", show=False, priority=True),
        # Declaring any palette binding stops Textual adding ctrl+p itself: declare it.
        Binding("ctrl+p", "command_palette", "Palette", show=False, priority=True),
        # Priority, so the command line is open before the keys typed after ':' arrive.
        Binding("colon", "command_line", "Command", show=False, key_display=":", priority=True),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+q", "quit_now", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        booking: Booking,
        *,
        today: date | None = None,
        clock: Clock | None = None,
        read_only: bool | None = None,
        live: bool = True,
        correct_skew: bool | None = None,
        settings_path: Path | None = None,
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
        self.settings_path = settings_path
        self.resource_names: dict[int, str] = {}
        self._mode_screens: dict[str, Screen[Any]] = {}
        self._calls: set[Worker[Any]] = set()
        url = getattr(getattr(booking.db, "resbook_url", None), "raw", None)
        self.listener: Listener | None = None
        if live and url:
            self.listener = Listener(url, self._post_from_listener, self.clock)
        self.link_history: list[str] = []  # every state the link went through, in order
        self._changes = ChangeSet()
        self._apply_timer: Any = None
        self._last_apply = 0.0
        self._unsure: list[Unsure] = []
        self._settling = False
        self.own_holds: set[int] = set()  # holds this session changed (not "others'")
        super().__init__()
        self.set_reactive(ResbookApp.link, CONNECTED if self.listener is None else CONNECTING)
        theme = load_settings(settings_path).theme
        self.theme = theme if theme in THEMES else "textual-dark"
        for mode, screen_type in self.SCREENS_BY_MODE.items():
            self.add_mode(mode, self._screen_factory(mode, screen_type))

    def _screen_factory(
        self, mode: str, screen_type: type[Screen[Any]]
    ) -> Callable[[], Screen[Any]]:
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
        shown, heading = visible(message), visible(title)
        super().notify(shown, title=heading, severity=severity, timeout=timeout, markup=markup)

    def action_help_now(self) -> None:
        """f1: help from anywhere, a form included (there ? is typed, not a key)."""
        if not isinstance(self.screen, HelpScreen):
            self.action_help()

    async def action_quit_now(self) -> None:
        """ctrl+q: quit from anywhere, a form or a question included."""
        await self.action_quit()

    async def action_quit(self) -> None:
        """Quit now, even while a statement waits on a lock: it is cancelled on the server
        (its transaction rolls back), so no worker thread holds the exit up."""
        self.cancel_statements()
        self.exit()

    def cancel_statements(self) -> None:
        """Ask the server to stop what the workers run, waiting at most CANCEL_WAIT_S: a
        cancel request is network I/O of its own, and on a dead network it would hang."""
        if self.link == DISCONNECTED:
            return  # nothing reaches the server now; what was in flight fails on its own
        asker = threading.Thread(target=self.booking.cancel_running, daemon=True)
        asker.start()
        asker.join(CANCEL_WAIT_S)

    def get_css_variables(self) -> dict[str, str]:
        variables = super().get_css_variables()
        return {**variables, **READABLE[self.current_theme.dark]}

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
        self.cancel_statements()
        if self.listener is not None:
            self.listener.stop()

    def _today_confirmed(self, today: date) -> None:
        if today != self.today:
            self.today = today
            screen = self.mode_screen("heatmap")
            if isinstance(screen, HeatmapScreen):
                screen.set_today(today)

    def remember_resources(self, resources: Sequence[Resource]) -> None:
        """Resource names for screens that show holds and allocations by resource id."""
        self.resource_names.update({r.id: r.name for r in resources})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # App-wide keys stay out of forms, confirmations and the command line.
        if action in _NOT_IN_MODALS and isinstance(self.screen, ModalScreen):
            return False
        if action == "help_now" and isinstance(self.screen, HelpScreen):
            return False
        # In a text box ':' is a character (it is a priority binding).
        return not (action == "command_line" and isinstance(self.focused, Input))
