"""Archiving the audit trail: events older than a date go to a file, then out of the table.

Batch by batch, oldest first: read a batch, append it to the file as one gzip member and
fsync it (``archive_file``), then delete exactly those ids in one transaction. A kill at
any point leaves every event in the database, in the file, or in both; never in neither.
In both only for the last batch (written, not yet deleted): the next run on the same file
finds those events, deletes the ones the database still holds unchanged, and carries on,
so each event ends up in the file once.

The newest event always stays, however old: its id is the trail's high-water mark. SQLite
gives a new row max(id) + 1, so deleting the newest would hand its id out again, and
whoever follows the trail by id (``events --follow``, the TUI's outcome checks) would
miss what came next.

What ``verify`` checks is the schema, not the rows: archiving cannot make it fail.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import peewee
from peewee import fn

from ..config import MAX_EVENT_RETENTION_DAYS
from ..jsonable import event_json
from ..models import BookingEvent
from . import archive_file, rows, validate
from .context import Context, where
from .context import api as _api
from .errors import BookingError, invalid
from .events import READ_FIELDS
from .records import Event

DEFAULT_BATCH = 5000
DELETE_CHUNK = 1000  # ids per DELETE statement (well inside SQLite's parameter limit)

Progress = Callable[[int, int], None]  # (events archived so far, events to archive)


@dataclass(frozen=True)
class ArchivePreview:
    """What an archive before ``before`` would take (``events`` 0: nothing)."""

    before: date
    events: int
    first_id: int | None
    last_id: int | None
    first_at: datetime | None
    last_at: datetime | None


@dataclass(frozen=True)
class ArchiveResult:
    before: date
    file: str
    archived: int  # events written and deleted by this run
    batches: int
    first_id: int | None  # the range this run archived
    last_id: int | None
    resumed: int = 0  # events an interrupted run had written, deleted by this one
    repaired_bytes: int = 0  # an incomplete last batch cut off the file
    file_events: int = 0  # events the file holds now
    bytes_written: int = 0
    dry_run: bool = False
    skipped: str | None = None  # why nothing was done (another run has the file)


def event_line(event: Event) -> str:
    """One event as its archive line."""
    return json.dumps(event_json(event), ensure_ascii=False)


def _cutoff(ctx: Context, before: object) -> tuple[date, datetime]:
    day = validate.day(before, "the date to archive before")
    today = rows.day(ctx.value(ctx.dialect.today()))
    if day > today:
        raise invalid(f"{day} is in the future (today is {today} UTC): nothing is that old yet")
    return day, datetime.combine(day, time(), UTC)


def _newest_id(ctx: Context) -> int:
    with ctx.read():
        return int(BookingEvent.select(fn.COALESCE(fn.MAX(BookingEvent.id), 0)).scalar(ctx.db))


def _older(cutoff: datetime, newest: int) -> peewee.ColumnBase:
    return (BookingEvent.occurred_at < cutoff) & (BookingEvent.id < newest)


def preview(ctx: Context, before: object) -> ArchivePreview:
    day, cutoff = _cutoff(ctx, before)
    return _plan(ctx, day, cutoff, _newest_id(ctx))


def _plan(ctx: Context, day: date, cutoff: datetime, newest: int) -> ArchivePreview:
    # A range scan of idx_event_occurred over the old events alone: nothing to archive
    # (a cron sweep most minutes) costs one index probe.
    e = BookingEvent
    query = e.select(
        fn.COUNT(e.id), fn.MIN(e.id), fn.MAX(e.id), fn.MIN(e.occurred_at), fn.MAX(e.occurred_at)
    ).where(_older(cutoff, newest))
    with ctx.read():
        n, first_id, last_id, first_at, last_at = query.tuples().execute(ctx.db)[0]
    return ArchivePreview(
        day,
        int(n),
        first_id,
        last_id,
        rows.moment(first_at) if first_at is not None else None,
        rows.moment(last_at) if last_at is not None else None,
    )


def archive(
    ctx: Context,
    *,
    before: object,
    path: str | os.PathLike[str],
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> ArchiveResult:
    day, cutoff = _cutoff(ctx, before)
    batch_size = validate.batch_size(batch_size)
    where_to = archive_file.target(path)
    with archive_file.open_archive(where_to) as out:
        resumed = _settle_last_batch(ctx, out.state.last_batch)
        newest = _newest_id(ctx)
        plan = _plan(ctx, day, cutoff, newest)
        done = batches = 0
        first_id: int | None = None
        after = 0
        # Batches walk the primary key up to the last old id, so no batch reads past the
        # old events into the rest of the table.
        while plan.last_id is not None and after < plan.last_id:
            batch = _read_batch(ctx, cutoff, after, plan.last_id, batch_size)
            if not batch:
                break
            out.append([event_line(e) for e in batch])
            _delete(ctx, [e.id for e in batch])
            done, batches, after = done + len(batch), batches + 1, batch[-1].id
            first_id = batch[0].id if first_id is None else first_id
            if progress:
                progress(done, max(plan.events, done))
        return ArchiveResult(
            day,
            str(where_to),
            archived=done,
            batches=batches,
            first_id=first_id,
            last_id=after or None,
            resumed=resumed,
            repaired_bytes=out.state.dropped_bytes,
            file_events=out.state.events + done,
            bytes_written=out.bytes_written,
        )


def _read_batch(ctx: Context, cutoff: datetime, after: int, last: int, size: int) -> list[Event]:
    e = BookingEvent
    query = (
        where(e.select(*READ_FIELDS), e.occurred_at < cutoff, e.id > after, e.id <= last)
        .order_by(e.id)
        .limit(size)
    )
    with ctx.read():
        return [Event(*row) for row in query.tuples().execute(ctx.db)]


def _delete(ctx: Context, ids: Sequence[int]) -> int:
    deleted = 0
    with ctx.write():
        for start in range(0, len(ids), DELETE_CHUNK):
            chunk = list(ids[start : start + DELETE_CHUNK])
            query = BookingEvent.delete().where(BookingEvent.id.in_(chunk))
            deleted += int(query.execute(ctx.db))
    return deleted


def _settle_last_batch(ctx: Context, archived: list[dict[str, Any]]) -> int:
    """Delete the events of the file's last batch that the database still holds exactly
    as archived (a run killed between its fsync and its delete). An id whose row differs
    is not the archived event (another database's file, say) and stays."""
    by_id = {a["id"]: a for a in archived}
    if not by_id:
        return 0
    query = BookingEvent.select(*READ_FIELDS).where(BookingEvent.id.in_(sorted(by_id)))
    with ctx.read():
        still = [Event(*row) for row in query.tuples().execute(ctx.db)]
    same = [e.id for e in still if event_json(e) == by_id[e.id]]
    return _delete(ctx, same) if same else 0


# ---- retention: what the sweep archives when RESBOOK_EVENT_RETENTION_DAYS is set -----------


def retention_file(directory: Path, before: date) -> Path:
    return directory / f"events-{before.isoformat()}.jsonl.gz"


def archive_past_retention(
    ctx: Context, *, days: int, directory: str | os.PathLike[str], dry_run: bool = False
) -> ArchiveResult:
    """Archive events older than ``days`` days (before today - days, UTC) into
    ``directory``/events-BEFORE.jsonl.gz. A run that finds the file taken by another
    (an earlier cron sweep still archiving) leaves it to that one: ``skipped`` says so."""
    days = validate.whole(days, "retention days", 1, MAX_EVENT_RETENTION_DAYS)
    folder = Path(directory).expanduser()
    if not folder.is_dir():
        raise invalid(f"the archive directory {folder} does not exist")
    today = rows.day(ctx.value(ctx.dialect.today()))
    before = today - timedelta(days=days)
    path = retention_file(folder, before)
    if dry_run:
        plan = preview(ctx, before)
        return ArchiveResult(
            before, str(path), plan.events, 0, plan.first_id, plan.last_id, dry_run=True
        )
    try:
        return archive(ctx, before=before, path=path)
    except BookingError as exc:
        if exc.code != "busy" or "another archive run" not in str(exc):
            raise
        return ArchiveResult(before, str(path), 0, 0, None, None, skipped=str(exc))


class ArchiveCalls:
    """The Booking facade's archive calls (a mixin: Booking is the class to use)."""

    ctx: Context

    @_api
    def archive_preview(self, *, before: date | str) -> ArchivePreview:
        """How many events ``archive_events(before=...)`` would take, and their id and
        time range. The newest event is never taken (see booking/archive.py)."""
        return preview(self.ctx, before)

    @_api
    def archive_events(
        self,
        *,
        before: date | str,
        path: str | os.PathLike[str],
        batch_size: int = DEFAULT_BATCH,
        progress: Progress | None = None,
    ) -> ArchiveResult:
        """Move every event older than ``before`` (00:00 UTC) to ``path``, gzip JSON lines,
        then out of the table, batch by batch; safe to kill and run again on the same file.
        ``progress(done, total)`` is called after each batch."""
        return archive(self.ctx, before=before, path=path, batch_size=batch_size, progress=progress)

    @_api
    def archive_past_retention(
        self, *, days: int, directory: str | os.PathLike[str], dry_run: bool = False
    ) -> ArchiveResult:
        """What the sweep does with RESBOOK_EVENT_RETENTION_DAYS: archive events older than
        ``days`` days into ``directory``/events-YYYY-MM-DD.jsonl.gz."""
        return archive_past_retention(self.ctx, days=days, directory=directory, dry_run=dry_run)
