"""`resbook events archive` and the sweep's retention: the CLI, a real kill -9 mid-run
and the rerun that finishes the job, exit codes, and verify afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive_helpers import add_events, archived, days_ago, event_ids, midnight, older_than
from resbook_tui.booking import Booking

runner = CliRunner()


def run(url: str, *args: str, env: dict[str, str | None] | None = None):
    return runner.invoke(app_(), ["--db", url, *args], env=env or {})


def app_():
    from resbook_tui.cli import app

    return app


def run_json(url: str, *args: str, env: dict[str, str | None] | None = None):
    result = run(url, *args, "--json", env=env)
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture
def trail(db_url, db):
    """40 events 40 to 21 days ago (one every 12 h), then 2 from today."""
    bk = Booking(db, actor="test")
    old = add_events(db, 40, midnight(days_ago(bk, 40)), timedelta(hours=12))
    new = add_events(db, 2, midnight(bk.today()), timedelta(minutes=1))
    return db_url, bk, old, new


def test_archive_dry_run_then_archive(trail, tmp_path):
    url, bk, old, _ = trail
    before = days_ago(bk, 30).isoformat()  # 20 of the old ones
    line = run(url, "events", "archive", "--before", before, "--dry-run")
    assert line.exit_code == 0
    assert f"Would archive 20 event(s) before {before}: ids {old[0]}..{old[19]}" in line.stdout
    code, plan = run_json(url, "events", "archive", "--before", before, "--dry-run")
    assert code == 0 and (plan["events"], plan["first_id"], plan["last_id"]) == (
        20,
        old[0],
        old[19],
    )
    assert plan["first_at"].endswith("Z")
    shown = {e["id"]: e for e in json.loads(run(url, "events", "--json", "--limit", "100").stdout)}
    target = tmp_path / "events.jsonl.gz"
    code, result = run_json(url, "events", "archive", "--before", before, "--to", str(target))
    assert code == 0 and result["archived"] == 20 and result["file"] == str(target)
    assert archived(target) == [shown[i] for i in old[:20]]  # as `events --json` prints them
    again = run(url, "events", "archive", "--before", before, "--to", str(target))
    assert again.exit_code == 0 and "Archived 0 event(s)" in again.stdout
    assert "the file holds 20" in again.stdout
    assert run(url, "verify").exit_code == 0


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--before", "2026-02-30", "--to", "{tmp}/ok.gz"], 2, "must be a date as YYYY-MM-DD"),
        (["--before", "01/02/2026", "--to", "{tmp}/ok.gz"], 2, "must be a date as YYYY-MM-DD"),
        (["--before", "FUTURE", "--to", "{tmp}/ok.gz"], 2, "is in the future"),
        (["--before", "PAST", "--to", "{tmp}/nowhere/x.gz"], 2, "does not exist"),
        (["--before", "PAST", "--to", "{tmp}"], 2, "is a directory"),
        (["--before", "PAST"], 2, "--to FILE is required"),
        (["--before", "PAST", "--to", "{tmp}/plain.txt"], 1, "not a resbook event archive"),
    ],
)
def test_archive_refusals_are_one_line_with_their_exit_code(trail, tmp_path, args, code, says):
    url, bk, _, _ = trail
    (tmp_path / "plain.txt").write_text("notes\n")
    dates = {"FUTURE": str(bk.today() + timedelta(days=1)), "PAST": str(days_ago(bk, 30))}
    args = [dates.get(a, a.replace("{tmp}", str(tmp_path))) for a in args]
    result = run(url, "events", "archive", *args)
    assert result.exit_code == code, result.output
    assert result.stderr.count("\n") == 1 and says in result.stderr
    assert "Traceback" not in result.output
    assert len(event_ids(bk.db)) == 42
    assert (tmp_path / "plain.txt").read_text() == "notes\n"
    assert not (tmp_path / "ok.gz").exists()
    with_json = run(url, "events", "archive", *args, "--json")
    assert with_json.exit_code == code and "message" in json.loads(with_json.stdout)


def _archive_process(url: str, before: str, target: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "resbook_tui", "--db", url, "events", "archive"]
        + ["--before", before, "--to", str(target), "--batch-size", "40"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for_growth(target: Path, beyond: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if target.exists() and target.stat().st_size > beyond:
            return
        time.sleep(0.002)  # polling the file, not standing in for it


def test_kill_9_mid_archive_then_rerun_archives_each_event_once(db_url, db, tmp_path):
    bk = Booking(db, actor="test")
    old = add_events(db, 12_000, midnight(days_ago(bk, 40)), timedelta(minutes=2))
    add_events(db, 5, midnight(bk.today()), timedelta(minutes=1))
    before = days_ago(bk, 2)
    target = tmp_path / "killed.jsonl.gz"
    landed = 0
    size = 0
    for _ in range(3):  # three kills, each later in the file than the last
        proc = _archive_process(db_url, before.isoformat(), target)
        _wait_for_growth(target, size + 2000, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stderr.close()  # type: ignore[union-attr]
        if proc.returncode == -signal.SIGKILL and older_than(db, midnight(before)) > 0:
            landed += 1
        size = target.stat().st_size if target.exists() else 0
    assert landed >= 1, "no kill landed mid-run: the run finished too fast to test"
    # Nothing deleted that is not in the file, whatever the kills interrupted.
    left = set(event_ids(db))
    try:
        in_file = {e["id"] for e in archived(target)}
    except EOFError:  # a kill mid-member: zcat would say the same; the rerun repairs it
        in_file = set()
    assert set(old) - left <= in_file or not in_file
    result = run(db_url, "events", "archive", "--before", before.isoformat(), "--to", str(target))
    assert result.exit_code == 0, result.output
    ids = [e["id"] for e in archived(target)]
    assert ids == old and len(ids) == len(set(ids))  # every one, once, in order
    assert older_than(db, midnight(before)) == 0
    assert run(db_url, "verify").exit_code == 0


# ---- the sweep's retention ---------------------------------------------------------------------


def test_sweep_archives_with_a_retention_and_not_without(trail, tmp_path):
    url, bk, old, new = trail
    code, plain = run_json(url, "sweep")
    assert code == 0 and plain["archive"] is None and len(event_ids(bk.db)) == 42
    env = {"RESBOOK_EVENT_RETENTION_DAYS": "30", "RESBOOK_EVENT_ARCHIVE_DIR": str(tmp_path)}
    dry = run(url, "sweep", "--dry-run", env=env)
    assert dry.exit_code == 0 and "Would archive 20 event(s)" in dry.stdout
    code, swept = run_json(url, "sweep", env=env)
    before = days_ago(bk, 30)
    assert code == 0 and swept["archive"]["archived"] == 20
    target = tmp_path / f"events-{before}.jsonl.gz"
    assert swept["archive"]["file"] == str(target)
    assert [e["id"] for e in archived(target)] == old[:20]
    assert event_ids(bk.db) == old[20:] + new
    quiet = run(url, "sweep", env=env)  # cron: nothing to say
    assert quiet.exit_code == 0 and quiet.stdout == ""
    assert run(url, "verify").exit_code == 0


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"RESBOOK_EVENT_RETENTION_DAYS": "ten"}, "RESBOOK_EVENT_RETENTION_DAYS must be a whole"),
        ({"RESBOOK_EVENT_RETENTION_DAYS": "0"}, "from 1 to 36500"),
        ({"RESBOOK_EVENT_RETENTION_DAYS": "30"}, "RESBOOK_EVENT_ARCHIVE_DIR must name"),
        ({"RESBOOK_EVENT_ARCHIVE_DIR": "{tmp}"}, "RESBOOK_EVENT_RETENTION_DAYS is not"),
        (
            {"RESBOOK_EVENT_RETENTION_DAYS": "30", "RESBOOK_EVENT_ARCHIVE_DIR": "{tmp}/gone"},
            "which is not a directory",
        ),
    ],
)
def test_bad_retention_settings_stop_the_sweep_before_it_changes_anything(
    trail, tmp_path, env, says
):
    url, bk, _, _ = trail
    settings = {k: v.replace("{tmp}", str(tmp_path)) for k, v in env.items()}
    result = run(url, "sweep", env=settings)
    assert result.exit_code == 2 and says in result.stderr
    assert "Traceback" not in result.output and len(event_ids(bk.db)) == 42


def test_a_sweep_archive_that_fails_still_reports_the_sweep(trail, tmp_path):
    url, bk, _, _ = trail
    before = days_ago(bk, 30)
    (tmp_path / f"events-{before}.jsonl.gz").write_text("not an archive")
    env = {"RESBOOK_EVENT_RETENTION_DAYS": "30", "RESBOOK_EVENT_ARCHIVE_DIR": str(tmp_path)}
    result = run(url, "sweep", "--json", env=env)
    assert result.exit_code == 1 and "archiving events:" in result.stderr
    out = json.loads(result.stdout)
    assert out["expired_holds"] == 0 and out["archive"]["error"] == "archive_file"
    assert os.path.getsize(tmp_path / f"events-{before}.jsonl.gz") == len("not an archive")


def test_a_long_archive_says_how_far_it_got_on_stderr(trail, tmp_path, monkeypatch):
    from resbook_tui.cli import archive as archive_cli

    monkeypatch.setattr(archive_cli._Progress, "AFTER", 0.0)  # every batch counts as long
    monkeypatch.setattr(archive_cli._Progress, "EVERY", 0.0)
    url, bk, _, _ = trail
    before = days_ago(bk, 30).isoformat()
    target = str(tmp_path / "p.gz")
    result = run(url, "events", "archive", "--before", before, "--to", target, "--batch-size", "5")
    assert result.exit_code == 0
    progress = [line for line in result.stderr.splitlines() if line.startswith("resbook: arch")]
    assert [line.split(",")[0] for line in progress] == [
        f"resbook: archived {n}/20 event(s)" for n in (5, 10, 15, 20)
    ]
    quiet = run(url, "events", "archive", "--before", before, "--to", target, "--json")
    assert quiet.exit_code == 0 and quiet.stderr == ""  # --json: the one object, no chatter
