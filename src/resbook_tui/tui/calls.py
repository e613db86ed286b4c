"""Booking calls off the UI thread: every database call in a thread worker.

A call runs ``call(booking)`` in a thread worker and posts its outcome back to the app as
a message (``post_message`` is thread-safe and never blocks, so a worker cannot hang on
an app that is shutting down). The app then runs ``done(result)`` on the UI thread, or
turns the exception into a notification: a refusal from the engine (``BookingError``)
is a warning, database trouble an error, and neither ever shows a traceback.

Worker threads keep their connection between calls, so after a server restart or a
terminated backend the next call on a thread meets a dead connection. A read is then
tried once more on a fresh connection; a change never is. A change first notes the newest
audit event id (that read is retried, and doubles as a liveness check just before the
change is sent); if the change itself then fails with database trouble its outcome is
unknown, and the app settles it from the audit trail once the database answers
(``outcome.py``).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import peewee
from textual.dom import DOMNode
from textual.message import Message
from textual.worker import Worker, get_current_worker

from ..booking.errors import BookingError
from ..errors import EXIT_DATABASE, ResbookError
from .outcome import Expect, Unsure, newest_event_id

if TYPE_CHECKING:
    from ..booking import Booking

try:  # psycopg2 is a dependency, but the TUI must not need it to show a SQLite database
    from psycopg2 import Error as PsycopgError
except ImportError:  # pragma: no cover
    PsycopgError = sqlite3.Error  # type: ignore[assignment,misc]


@dataclass(frozen=True)
class Problem:
    """What went wrong with a call, ready to show a person."""

    title: str
    message: str
    severity: str  # "warning" for a refusal, "error" for trouble
    code: str


def problem_from(exc: BaseException) -> Problem:
    if isinstance(exc, BookingError):
        return Problem(f"Refused: {exc.code.replace('_', ' ')}", str(exc), "warning", exc.code)
    if isinstance(exc, ResbookError):
        return Problem("Database", str(exc), "error", exc.code)
    if isinstance(exc, peewee.PeeweeException | sqlite3.Error | PsycopgError):
        return Problem("Database", f"database error: {_first_line(exc)}", "error", "database")
    return Problem("Unexpected error", f"{type(exc).__name__}: {_first_line(exc)}", "error", "bug")


def is_database_trouble(exc: BaseException) -> bool:
    """Trouble with the database or the connection to it (not a refusal, not a bug)."""
    if isinstance(exc, BookingError):
        return False
    if isinstance(exc, ResbookError):
        return exc.exit_code == EXIT_DATABASE
    return isinstance(exc, peewee.PeeweeException | sqlite3.Error | PsycopgError)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].strip()


class CallFinished(Message):
    """A booking call ended (posted from the worker thread to the app)."""

    def __init__(
        self,
        worker: Worker[Any] | None,
        done: Callable[[Any], Any] | None,
        result: Any = None,
        problem: Problem | None = None,
        failed: Callable[[Problem], Any] | None = None,
        quiet: bool = False,
        *,
        trouble: bool = False,
        unsure: Unsure | None = None,
        not_sent: Expect | None = None,
    ) -> None:
        super().__init__()
        self.worker = worker
        self.done = done
        self.result = result
        self.problem = problem
        self.failed = failed
        self.quiet = quiet
        self.trouble = trouble  # the problem is database trouble
        self.unsure = unsure  # a change that was sent and may or may not have committed
        self.not_sent = not_sent  # a change that was never sent (the database was gone)


def run_booking(
    node: DOMNode,
    call: Callable[[Booking], Any],
    done: Callable[[Any], Any] | None = None,
    *,
    failed: Callable[[Problem], Any] | None = None,
    group: str = "booking",
    exclusive: bool = False,
    description: str = "",
    quiet: bool = False,
    expect: Expect | None = None,
    settled: Callable[[bool], Any] | None = None,
) -> Worker[Any]:
    """Run ``call(booking)`` in a thread worker owned by ``node``; ``done(result)`` on the UI.

    Loads belong to their screen (their result is dropped if the screen has gone);
    mutations should be owned by the app so a refusal is still reported. ``quiet``
    suppresses the notification (``failed`` still runs). A call with ``expect`` is a
    change: it is never retried, and if it fails with database trouble after it was sent
    the app finds out whether it committed (and tells ``settled``).
    """
    app = node.app
    booking: Booking = app.booking  # type: ignore[attr-defined]

    def finish(message: CallFinished) -> None:
        app.post_message(message)

    def work() -> None:
        worker = get_current_worker()
        after_id: int | None = None
        try:
            if expect is not None:
                after_id = _retried(booking, newest_event_id)
                result = call(booking)
            else:
                result = _retried(booking, call)
        except Exception as exc:  # every failure becomes a message, never a traceback
            if not isinstance(exc, BookingError):
                _reset_connection(booking)
            trouble = is_database_trouble(exc)
            message = CallFinished(
                worker, None, None, problem_from(exc), failed, quiet, trouble=trouble
            )
            if expect is not None and trouble:
                if after_id is None:
                    message.not_sent = expect
                else:
                    message.unsure = Unsure(expect, after_id, settled)
            finish(message)
        else:
            finish(CallFinished(worker, done, result))

    worker = node.run_worker(
        work,
        thread=True,
        group=group,
        exclusive=exclusive,
        exit_on_error=False,
        description=description or getattr(call, "__name__", "booking call"),
    )
    app.call_started(worker)  # type: ignore[attr-defined]
    return worker


def _retried(booking: Booking, read: Callable[[Booking], Any]) -> Any:
    """A read, tried once more on a fresh connection if the first one meets a dead one."""
    try:
        return read(booking)
    except Exception as exc:
        if not is_database_trouble(exc):
            raise
        _reset_connection(booking)
        return read(booking)


def _reset_connection(booking: Booking) -> None:
    """Drop this thread's connection after trouble, so the next call reconnects.

    Worker threads come from a pool and keep their connection between calls (peewee's
    connection state is per thread); a connection that broke must not be reused.
    """
    with contextlib.suppress(Exception):
        if not booking.db.in_transaction():
            booking.db.close()
