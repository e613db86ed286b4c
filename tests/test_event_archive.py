"""Archiving the audit trail (booking/archive.py): what is taken, the file, resuming."""

from __future__ import annotations

import gzip
import os
from datetime import timedelta

import pytest

from archive_helpers import add_events, archived, days_ago, event_ids, midnight, older_than
from resbook_tui.booking import Booking, BookingError, archive_file
from resbook_tui.booking.archive_file import ArchiveFileError
from resbook_tui.schema.verify import verify


@pytest.fixture
def bk(db) -> Booking:
    return Booking(db, actor="test")


@pytest.fixture
def trail(db, bk):
    """30 old events (20 to 5 days ago, one every 12 h) then 3 from today; the cutoff
    10 days ago splits them 21 / 9 + 3."""
    start = midnight(days_ago(bk, 20))
    old = add_events(db, 30, start, timedelta(hours=12))
    new = add_events(db, 3, midnight(bk.today()), timedelta(minutes=1))
    return old, new


def test_archive_writes_then_deletes_exactly_the_older_events(db, bk, trail, tmp_path):
    old, new = trail
    before = days_ago(bk, 10)
    every = {e.id: e for e in bk.events(limit=None)}
    target = tmp_path / "events.jsonl.gz"
    result = bk.archive_events(before=before, path=target, batch_size=4)
    taken = old[:20]  # 20 days ago + 12 h steps: 20 events before the cutoff
    assert result.archived == len(taken) == result.file_events
    assert (result.first_id, result.last_id, result.batches) == (taken[0], taken[-1], 5)
    assert [e["id"] for e in archived(target)] == taken
    assert event_ids(db) == old[20:] + new
    assert older_than(db, midnight(before)) == 0
    # Each line is what `events --json` prints for the event.
    from resbook_tui.jsonable import to_jsonable

    assert archived(target) == [to_jsonable(every[i]) for i in taken]
    assert (os.stat(target).st_mode & 0o777) == 0o600  # events name customers
    assert verify(db).ok


def test_preview_counts_and_changes_nothing(db, bk, trail):
    old, _ = trail
    plan = bk.archive_preview(before=days_ago(bk, 10))
    assert (plan.events, plan.first_id, plan.last_id) == (20, old[0], old[19])
    assert plan.first_at is not None and plan.first_at == midnight(days_ago(bk, 20))
    assert len(event_ids(db)) == 33


def test_a_rerun_appends_nothing_twice(db, bk, trail, tmp_path):
    target = tmp_path / "a.jsonl.gz"
    bk.archive_events(before=days_ago(bk, 10), path=target)
    again = bk.archive_events(before=days_ago(bk, 10), path=target)
    assert (again.archived, again.file_events, again.resumed) == (0, 20, 0)
    later = bk.archive_events(before=days_ago(bk, 6), path=target)
    assert later.archived == 8 and later.file_events == 28
    ids = [e["id"] for e in archived(target)]
    assert ids == sorted(set(ids)) == trail[0][:28]


def test_nothing_to_archive_leaves_no_empty_file(db, bk, trail, tmp_path):
    """An empty file is not gzip (zcat fails on it), and a daily sweep would make one a
    day; a file that holds an archive already stays as it is."""
    target = tmp_path / "none.jsonl.gz"
    result = bk.archive_events(before=days_ago(bk, 400), path=target)
    assert (result.archived, result.file_events) == (0, 0)
    assert not target.exists()
    kept = tmp_path / "kept.jsonl.gz"
    bk.archive_events(before=days_ago(bk, 10), path=kept)
    size = kept.stat().st_size
    assert bk.archive_events(before=days_ago(bk, 400), path=kept).file_events == 20
    assert kept.stat().st_size == size


def test_a_file_removed_before_it_was_locked_is_opened_again(db, bk, trail, tmp_path, monkeypatch):
    """Another run that created the file and found nothing removes it, locked; a run that
    opened it meanwhile must not write its events into the nameless file (they would be
    deleted from the database, and gone)."""
    target = tmp_path / "shared.jsonl.gz"
    lock = archive_file._lock
    removed = []

    def other_run_removes_it_first(fd, path):  # noqa: ANN001, ANN202
        if not removed:
            removed.append(path)
            path.unlink()
        return lock(fd, path)

    monkeypatch.setattr(archive_file, "_lock", other_run_removes_it_first)
    result = bk.archive_events(before=days_ago(bk, 10), path=target)
    assert removed and result.archived == 20
    assert [e["id"] for e in archived(target)] == trail[0][:20]


def test_the_newest_event_always_stays(db, bk, tmp_path):
    ids = add_events(db, 5, midnight(days_ago(bk, 30)), timedelta(hours=1))
    result = bk.archive_events(before=bk.today(), path=tmp_path / "x.gz")
    assert result.archived == 4 and event_ids(db) == ids[-1:]
    # So ids are never handed out again (SQLite would reuse max(id) + 1).
    add_events(db, 1, midnight(bk.today()), timedelta(0))
    assert event_ids(db)[-1] == ids[-1] + 1


def test_an_incomplete_last_batch_is_cut_off_and_written_again(db, bk, trail, tmp_path):
    """A kill while a batch was being written: the batch's events are still in the
    database, the file ends in part of a gzip member."""
    target = tmp_path / "cut.jsonl.gz"
    bk.archive_events(before=days_ago(bk, 15), path=target, batch_size=5)  # 10 events
    whole = target.stat().st_size
    part = gzip.compress(b'{"id": 999999, "action": "x"}\n' * 50)[:-9]  # no trailer
    with target.open("ab") as out:
        out.write(part)
    result = bk.archive_events(before=days_ago(bk, 10), path=target, batch_size=5)
    assert result.repaired_bytes == len(part) and result.resumed == 0
    assert [e["id"] for e in archived(target)] == trail[0][:20]
    assert target.stat().st_size > whole


def test_a_batch_written_but_not_deleted_is_deleted_not_written_twice(db, bk, trail, tmp_path):
    """A kill between the fsync and the delete: the file's last batch is still in the
    database; the rerun deletes it (it is archived) and goes on."""
    old, _ = trail
    target = tmp_path / "twice.jsonl.gz"
    first = {e.id: e for e in bk.events(limit=None)}
    from resbook_tui.booking.archive import event_line

    with target.open("wb") as out:
        out.write(gzip.compress("".join(event_line(first[i]) + "\n" for i in old[:3]).encode()))
    result = bk.archive_events(before=days_ago(bk, 10), path=target)
    assert (result.resumed, result.archived, result.file_events) == (3, 17, 20)
    assert [e["id"] for e in archived(target)] == old[:20]
    assert older_than(db, midnight(days_ago(bk, 10))) == 0


def test_a_last_batch_from_elsewhere_deletes_nothing(db, bk, trail, tmp_path):
    """Same ids, different events (another database's file): not ours to delete."""
    old, _ = trail
    target = tmp_path / "other.jsonl.gz"
    target.write_bytes(gzip.compress(f'{{"id": {old[25]}, "action": "other"}}\n'.encode()))
    result = bk.archive_events(before=days_ago(bk, 10), path=target)
    assert result.resumed == 0 and old[25] in event_ids(db)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"hello, not gzip\n", "not a resbook event archive"),
        (gzip.compress(b"not json\n"), "not a resbook event archive"),
        (gzip.compress(b'{"id": 1}\n') + b"\x1f\x8bgarbage" + b"x" * 40, "damaged after byte"),
    ],
)
def test_a_file_that_is_not_an_archive_is_refused_untouched(db, bk, trail, tmp_path, content, says):
    target = tmp_path / "foreign.gz"
    target.write_bytes(content)
    with pytest.raises(ArchiveFileError, match=says) as caught:
        bk.archive_events(before=days_ago(bk, 10), path=target)
    assert caught.value.exit_code == 1
    assert target.read_bytes() == content and len(event_ids(db)) == 33


def test_bad_dates_and_paths_are_refused(db, bk, trail, tmp_path):
    cases = [
        ({"before": bk.today() + timedelta(days=1)}, "is in the future"),
        ({"before": "2026-13-01"}, "YYYY-MM-DD"),
        ({"before": "yesterday"}, "YYYY-MM-DD"),
        ({"path": tmp_path / "missing" / "x.gz"}, "does not exist"),
        ({"path": tmp_path}, "is a directory"),
        ({"batch_size": 0}, "batch size"),
    ]
    for change, says in cases:
        args = {"before": days_ago(bk, 10), "path": tmp_path / "ok.gz", "batch_size": 10}
        args.update(change)
        with pytest.raises(BookingError, match=says) as caught:
            bk.archive_events(**args)
        assert caught.value.code == "invalid_input"
    assert len(event_ids(db)) == 33 and not (tmp_path / "ok.gz").exists()


def test_archiving_everything_up_to_today_keeps_verify_clean(db, bk, tmp_path):
    world = bk.add_resource("Cruiser", "VEHICLE")
    bk.set_capacity(world.id, bk.today(), bk.today() + timedelta(days=3), 4)
    hold = bk.create_hold(world.id, bk.today() + timedelta(days=1), 1, "a@x.io")
    bk.confirm_hold(hold.id, "O-1", "L-1")
    add_events(db, 10, midnight(days_ago(bk, 3)), timedelta(hours=1))  # newest: kept
    result = bk.archive_events(before=bk.today(), path=tmp_path / "all.gz")
    assert result.archived == 9
    report = verify(db)
    assert report.ok, report.drift
    assert bk.get_hold(hold.id).status == "CONFIRMED"


def test_one_run_per_file_and_a_sweep_leaves_a_busy_file_to_its_run(db, bk, trail, tmp_path):
    from resbook_tui.booking import archive_file

    before = days_ago(bk, 10)
    target = tmp_path / f"events-{before}.jsonl.gz"
    with archive_file.open_archive(target):  # another run has the file
        with pytest.raises(BookingError) as caught:
            bk.archive_events(before=before, path=target)
        assert caught.value.code == "busy" and caught.value.exit_code == 4
        swept = bk.archive_past_retention(days=10, directory=tmp_path)
        assert swept.skipped and "another archive run" in swept.skipped
        assert swept.archived == 0
    assert len(event_ids(db)) == 33
    assert bk.archive_past_retention(days=10, directory=tmp_path).archived == 20
