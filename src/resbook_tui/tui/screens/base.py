"""What every screen shares: the status bar, the footer, refresh on focus and with ``r``,
live refreshes when other connections commit, and mutating keys hidden in read-only mode
and disabled while the database is unreachable."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual import events
from textual._context import NoActiveAppError
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input
from textual.worker import Worker

from ..calls import Problem, run_booking
from ..widgets.key_bar import KeyBar
from ..widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from ...booking import Booking
    from ..app import ResbookApp
    from ..live import ChangeSet
    from ..modals import FormModal
    from ..outcome import Expect

Call = Callable[["Booking"], Any]
Query = tuple[Call, Callable[[Any], Any]]  # a read and what to do with its result
FormValues = dict[str, Any]  # a submitted form's values by field name
R = TypeVar("R")

NOT_CONNECTED = Problem("Database", "not connected", "error", "disconnected")


class ResbookScreen(Screen[None]):
    """A screen with data from the booking API that reloads when it comes into view."""

    SCREEN_TITLE: ClassVar[str] = ""
    # Actions that change data: hidden when the app is read-only, greyed while disconnected.
    MUTATING: ClassVar[frozenset[str]] = frozenset()

    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "reload", "Refresh")]

    def __init__(self) -> None:
        super().__init__()
        # Textual re-parses every stylesheet of the app (0.1-0.3 s) the first time a mode's
        # screen is shown, because a new screen counts as older than the CSS. A screen made
        # now is styled with the current CSS when it mounts: count it as current.
        with contextlib.suppress(NoActiveAppError):
            self._css_update_count = self.app._css_update_count
        self._reload_pending = False
        self.stale = False  # data may be out of date: reloaded when shown
        self._seq = 0  # each data load's number, in the order they were sent
        self._shown_seq = 0  # the newest load whose result is on screen
        self._live_busy = False
        self._live_again = False

    @property
    def alive(self) -> bool:
        """Mounted and not being taken down (an answer that arrives later is dropped)."""
        return self.is_mounted and self.is_running and self.is_attached

    @property
    def rb(self) -> ResbookApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusBar(self.SCREEN_TITLE)
        yield from self.compose_body()
        yield KeyBar()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "/" is a priority binding, so it opens the filter before the keys typed after it
        # arrive (Textual routes each key by the focus at the time it comes in); inside a
        # text box it is just a character.
        if action == "filter" and isinstance(self.focused, Input):
            return False
        if action in self.MUTATING:
            if self.rb.read_only:
                return False
            if not self.rb.connected:
                return None  # shown, greyed out, until the database is back
        return True

    def focus_now(self, widget: Widget) -> None:
        """Focus ``widget`` before the next key is handled.

        ``Widget.focus()`` takes effect later, so keys typed fast after ``/`` (or pasted)
        would still go to the table; a filter must get every key typed after it opens."""
        self.set_focus(widget)

    def unavailable_reason(self, action: str) -> str | None:
        """Why ``action`` cannot run here now, in one line (None: no reason to tell)."""
        if action in self.MUTATING:
            if self.rb.read_only:
                return "This session is read-only: nothing can be changed here."
            if not self.rb.connected:
                return "Not connected: changes wait until the database is back."
        return None

    def on_key(self, event: events.Key) -> None:
        """A key whose action does not apply here says why, instead of doing nothing.

        Key events reach the screen before its bindings are tried, so this only speaks
        when none of the screen's bindings for the key would run."""
        bindings = self._bindings.key_to_bindings.get(event.key, [])
        actions = [binding.action.split("(")[0] for binding in bindings]
        if not actions or any(self.check_action(action, ()) for action in actions):
            return
        for action in actions:
            reason = self.unavailable_reason(action)
            if reason:
                event.stop()
                event.prevent_default()
                self.notify(reason, severity="warning", timeout=4, markup=False)
                return

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
        if not self.rb.connected and self.rb.listener is not None:
            self.rb.retry_now()
            self.notify("Not connected: trying to reconnect now.", timeout=3)
            return
        self.reload()

    def reload(self) -> None:
        """Fetch this screen's data (in a worker)."""
        query = self.query_data()
        if query is not None:
            call, done = query
            seq = self._next_seq()
            self.load(
                call,
                lambda result: self._show_if_newest(seq, done, result),
                failed=self.load_failed,
            )

    def load_failed(self, problem: Problem) -> None:
        """This screen's data could not be read (the problem is also notified)."""

    def query_data(self) -> Query | None:
        """The read that fetches what this screen shows, and what to do with its answer."""
        return None

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _show_if_newest(self, seq: int, done: Callable[[Any], Any], result: Any) -> None:
        # A load sent before the one on screen answers late: its data is older, drop it.
        # So is an answer to a screen being taken down (the app is exiting).
        if seq < self._shown_seq or not self.alive:
            return
        self._shown_seq = seq
        self.stale = False
        done(result)

    def load(
        self,
        call: Callable[[Booking], Any],
        done: Callable[[Any], Any],
        *,
        group: str = "load",
        failed: Callable[[Problem], Any] | None = None,
        exclusive: bool = True,
    ) -> Worker[Any] | None:
        """A read for this screen: a newer load of the same group replaces an older one.

        While the database is unreachable nothing is sent: the screen keeps what it shows,
        is marked stale, and reloads on reconnect."""
        if not self.rb.connected:
            self.stale = True
            if failed is not None:
                failed(NOT_CONNECTED)
            return None

        def answered(result: Any) -> None:
            if self.alive:
                done(result)

        def refused(problem: Problem) -> None:
            if failed is not None and self.alive:
                failed(problem)

        return run_booking(self, call, answered, group=group, exclusive=exclusive, failed=refused)

    # ---- live ------------------------------------------------------------------------------

    def live_update(self, changes: ChangeSet) -> None:
        """Another connection committed ``changes``: re-query what this screen shows if they
        may concern it. The cursor, filter and scroll position stay where they are."""
        if self.concerns(changes):
            self.refresh_live()

    def concerns(self, changes: ChangeSet) -> bool:
        return True

    def live_query(self) -> Query | None:
        return self.query_data()

    def refresh_live(self) -> None:
        """One live load at a time; changes meanwhile make exactly one more afterwards."""
        if self._live_busy:
            self._live_again = True
            return
        query = self.live_query()
        if query is None:
            return
        call, done = query
        seq = self._next_seq()
        self._live_busy = True
        self._live_again = False

        def finished(result: Any) -> None:
            self._live_busy = False
            self._show_if_newest(seq, done, result)
            self._again()

        def failed(_problem: Problem) -> None:
            self._live_busy = False
            self._live_again = False  # a reconnect refreshes everything

        self.load(call, finished, group="live", exclusive=False, failed=failed)

    def _again(self) -> None:
        if self._live_again and self.is_mounted:
            self._live_again = False
            self.refresh_live()

    # ---- changes ---------------------------------------------------------------------------

    def change(
        self,
        call: Callable[[Booking], Any],
        done: Callable[[Any], Any] | None = None,
        *,
        expect: Expect,
        failed: Callable[[Problem], Any] | None = None,
        settled: Callable[[bool], Any] | None = None,
    ) -> Worker[Any] | None:
        """A mutation: owned by the app so its outcome is reported even if we move on.

        ``expect`` names the audit event it writes, so that if the connection breaks while
        it is in flight the app can tell whether it committed (``settled`` hears which)."""
        if not self.rb.connected:
            self.notify(
                f"{expect.label}: not sent, the database is not connected.",
                title="Not connected",
                severity="error",
            )
            if failed is not None:
                failed(NOT_CONNECTED)
            return None

        def finished(result: Any) -> None:
            if done is not None and self.alive:
                done(result)

        return run_booking(
            self.app,
            call,
            finished,
            failed=failed,
            group="change",
            expect=expect,
            settled=settled,
        )

    def submit_form(
        self,
        form: FormModal,
        *,
        call: Callable[[Booking, FormValues], R],
        done: Callable[[R], object],
        expect: Callable[[FormValues], Expect],
    ) -> None:
        """Show ``form``; on submit run ``call(booking, values)`` with the form still open.

        ``expect(values)`` names the audit event that call writes. Success closes the form
        and runs ``done`` with the call's result. A refusal from the engine stays in the
        form beside the values, so the operator corrects them instead of typing them again.
        If the connection breaks while the change is in flight the form waits for the
        verdict: committed closes it, not committed leaves it ready to submit again."""

        def submitted(values: dict[str, Any]) -> None:
            if not self.rb.connected:
                form.show_error("Not connected: wait for the database, then submit again.")
                return
            form.set_working(True)
            wanted = expect(values)

            def succeeded(result: Any) -> None:
                form.dismiss(values)
                done(result)

            def failed(problem: Problem) -> None:
                if problem.code == "unsure":  # wait for the verdict, then settled()
                    form.show_error(problem.message)
                    return
                form.set_working(False)
                if problem.code == "disconnected":
                    form.show_error("Not connected: wait for the database, then submit again.")
                elif problem.severity == "warning":
                    form.show_error(f"{problem.title}. {problem.message}")
                else:
                    form.show_error(problem.message)

            def settled(committed: bool) -> None:
                if form not in self.app.screen_stack:
                    return  # closed meanwhile: the notification says it all
                if committed:
                    form.dismiss(values)
                    self.request_reload()
                else:
                    form.set_working(False)
                    form.show_error("That did not commit: nothing changed. Submit again.")

            self.change(
                lambda bk: call(bk, values),
                succeeded,
                expect=wanted,
                failed=failed,
                settled=settled,
            )

        form.on_submit = submitted
        self.app.push_screen(form)
