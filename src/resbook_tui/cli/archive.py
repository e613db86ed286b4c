"""``resbook events archive``: move old audit events to a gzip JSON Lines file.

The rules (what is old, the file, the batches, resuming) are booking/archive.py's; this
module parses the options and shows progress and the outcome.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from ..booking import ArchivePreview, ArchiveResult
from ..booking.archive import DEFAULT_BATCH
from ..booking.errors import invalid
from ..text import visible
from .support import booking, handles_errors, print_json, progress_bar, say, stderr

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


def register(events_app: typer.Typer) -> None:
    events_app.command("archive")(archive)


@handles_errors
def archive(
    ctx: typer.Context,
    before: Annotated[
        str,
        typer.Option(
            "--before",
            metavar="DATE",
            help="Archive events that happened before this day (YYYY-MM-DD, 00:00 UTC).",
        ),
    ],
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="FILE",
            help="The gzip JSON Lines file (created, or appended to); its directory must exist.",
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(help="Events per batch (written, fsynced, then deleted).", min=1)
    ] = DEFAULT_BATCH,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say how many events, and their ids and dates.")
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Write every event older than DATE to FILE (gzip JSON lines, as `events --json`
    prints them), then delete them, batch by batch.

    Safe to interrupt: each batch is on disk (fsync) before it is deleted, and running
    the same command again finishes the job with each event in FILE once. The newest
    event always stays. Exit 0 done, 1 FILE cannot be written or is not an archive,
    2 bad DATE or FILE, 3 database problem, 4 another run is writing FILE.
    """
    bk = booking(ctx)
    if dry_run:
        plan = bk.archive_preview(before=before)
        if json:
            print_json(plan)
        else:
            say(_preview_line(plan))
        return
    if to is None:
        raise invalid("--to FILE is required: where the archived events go (or --dry-run)")
    shown = _Progress(enabled=not json)
    try:
        result = bk.archive_events(
            before=before, path=to, batch_size=batch_size, progress=shown.update
        )
    finally:
        shown.close()
    if json:
        print_json(result)
    else:
        say(result_line(result))


def _preview_line(plan: ArchivePreview) -> str:
    if not plan.events:
        return f"No events before {plan.before} to archive."
    assert plan.first_at is not None and plan.last_at is not None
    return (
        f"Would archive {plan.events} event(s) before {plan.before}: "
        f"ids {plan.first_id}..{plan.last_id}, "
        f"{plan.first_at:%Y-%m-%d %H:%M:%S} to {plan.last_at:%Y-%m-%d %H:%M:%S} UTC."
    )


def result_line(result: ArchiveResult) -> str:
    """One line saying what an archive run did (the sweep prints it too)."""
    file = visible(result.file)
    if result.dry_run:
        return f"Would archive {result.archived} event(s) before {result.before} to {file}."
    if result.skipped:
        return f"Did not archive events: {result.skipped}."
    if not result.file_events and not result.resumed and not result.repaired_bytes:
        return f"No event before {result.before} to archive; {file} was not written."
    parts = [
        f"Archived {result.archived} event(s) before {result.before} to {file}"
        + (f" (ids {result.first_id}..{result.last_id})" if result.archived else "")
    ]
    if result.resumed:
        parts.append(f"finished an interrupted batch of {result.resumed}")
    if result.repaired_bytes:
        parts.append(f"cut off {result.repaired_bytes} bytes of an incomplete batch")
    parts.append(f"the file holds {result.file_events}")
    return "; ".join(parts) + "."


class _Progress:
    """Progress on stderr once a run has taken a while: a bar on a terminal, else a line
    every few seconds (cron mail, a log)."""

    AFTER = 1.0  # seconds before anything shows
    EVERY = 10.0  # seconds between plain lines

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.monotonic()
        self.last_line = self.started
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def update(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.started < self.AFTER:
            return
        if stderr.is_terminal:
            self._draw(done, total)
        elif now - self.last_line >= self.EVERY:
            self.last_line = now
            rate = done / (now - self.started)
            sys.stderr.write(
                f"resbook: archived {done}/{total} event(s), {rate:,.0f}/s "
                f"({datetime.now(UTC):%H:%M:%S} UTC)\n"
            )
            sys.stderr.flush()

    def _draw(self, done: int, total: int) -> None:
        if self.bar is None:
            bar = progress_bar()
            bar.start()
            self.bar, self.task = bar, bar.add_task("Archiving events", total=total)
        assert self.task is not None
        self.bar.update(self.task, completed=done, total=total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
