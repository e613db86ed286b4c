"""What every screen shares: the status bar, the footer, refresh on focus and with ``r``,
and hiding mutating keys in read-only mode."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker

from ..calls import Problem, run_booking
from ..widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from ...booking import Booking
    from ..app import ResbookApp


class ResbookScreen(Screen[None]):
    """A screen with data from the booking API that reloads when it comes into view."""

    SCREEN_TITLE: ClassVar[str] = ""
    # Actions that change data: hidden (and refused) when the app is read-only.
    MUTATING: ClassVar[frozenset[str]] = frozenset()

    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "reload", "Refresh")]

    def __init__(self) -> None:
        super().__init__()
        self._reload_pending = False

    @property
    def rb(self) -> ResbookApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusBar(self.SCREEN_TITLE)
        yield from self.compose_body()
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in self.MUTATING and self.rb.read_only)

    # ---- loading --------------------------------------------------------------------------

    def on_screen_resume(self) -> None:
        self.request_reload()

    def request_reload(self) -> None:
        """Reload soon, once, however many times this is asked for in one go."""
        if self._reload_pending:
            return
        self._reload_pending = True
        self.call_later(self._do_reload)

    def _do_reload(self) -> None:
        self._reload_pending = False
        if self.is_mounted:
            self.reload()

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Fetch this screen's data (in a worker)."""

    def load(
        self,
        call: Callable[[Booking], Any],
        done: Callable[[Any], Any],
        *,
        group: str = "load",
        failed: Callable[[Problem], Any] | None = None,
    ) -> Worker:
        """A read for this screen: a newer load of the same group replaces an older one."""
        return run_booking(self, call, done, group=group, exclusive=True, failed=failed)

    def change(
        self,
        call: Callable[[Booking], Any],
        done: Callable[[Any], Any] | None = None,
        *,
        failed: Callable[[Problem], Any] | None = None,
    ) -> Worker:
        """A mutation: owned by the app so its outcome is reported even if we move on."""

        def finished(result: Any) -> None:
            if done is not None and self.is_mounted:
                done(result)

        return run_booking(self.app, call, finished, failed=failed, group="change")
