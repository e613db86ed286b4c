"""The call ledger: booking calls in flight (the spinner) and what comes back from them.

Every booking call runs in a worker thread and ends as a ``CallFinished`` message handled
here on the UI thread: its result goes to ``done``, a refusal or trouble becomes one
notification (and ``failed``), and a change whose connection broke is handed to the link
to be settled from the audit trail.
"""

from __future__ import annotations

from typing import Any

from textual.reactive import reactive
from textual.worker import Worker, WorkerState

from .calls import CallFinished, Problem
from .link import DISCONNECTED, LinkedApp

_IN_FLIGHT = (WorkerState.PENDING, WorkerState.RUNNING)


class CallLedger(LinkedApp):
    # The status bar watches this and repaints itself; the app need not repaint the screen.
    busy: reactive[int] = reactive(0, repaint=False)
    _calls: set[Worker[Any]]

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
        self._calls.discard(message.worker)
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
