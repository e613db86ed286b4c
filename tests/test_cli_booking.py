"""Booking commands through the CLI: output, JSON, exit codes, and no change on refusal."""

import json
import os
import signal
import subprocess
import sys
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from resbook_tui.booking import Booking
from resbook_tui.cli import app
from resbook_tui.seed import SeedPlan, seed

runner = CliRunner()


@pytest.fixture
def seeded(db_url, db):
    seed(db, SeedPlan(vehicles=2, days=10))
    return db_url


def run(url: str, *args: str):
    return runner.invoke(app, ["--db", url, *args])


def run_json(url: str, *args: str):
    result = run(url, *args, "--json")
    return result.exit_code, json.loads(result.stdout)


def today(url: str) -> date:
    return Booking.connect(url).today()


def test_hold_lifecycle_through_the_cli(seeded):
    day = today(seeded).isoformat()
    code, hold = run_json(
        seeded, "holds", "create", "1", day, "-q", "2", "--email", "A@X.io", "--token", "cart-1"
    )
    assert code == 0 and hold["status"] == "ACTIVE" and hold["customer_email"] == "a@x.io"
    code, again = run_json(
        seeded, "holds", "create", "1", day, "-q", "2", "--email", "a@x.io", "--token", "cart-1"
    )
    assert code == 0 and again["replay"] is True and again["id"] == hold["id"]
    code, extended = run_json(seeded, "holds", "extend", str(hold["id"]), "--minutes", "15")
    assert code == 0 and extended["expires_at"] > hold["expires_at"]
    code, alloc = run_json(
        seeded, "holds", "confirm", str(hold["id"]), "--order", "o-1", "--line-item", "li-1"
    )
    assert code == 0 and alloc["hold_id"] == hold["id"]
    code, cells = run_json(seeded, "availability", "--resource", "1", "--from", day, "--to", day)
    assert (cells[0]["available"], cells[0]["held"], cells[0]["allocated"]) == (4, 0, 2)
    code, allocations = run_json(seeded, "allocations", "list", "--order", "o-1")
    assert [a["id"] for a in allocations] == [alloc["id"]]
    assert run(seeded, "allocations", "cancel", str(alloc["id"])).exit_code == 0
    code, shown = run_json(seeded, "holds", "show", str(hold["id"]))
    assert [e["action"] for e in shown["events"]] == [
        "hold.create",
        "hold.extend",
        "hold.confirm",
        "allocation.cancel",
    ]
    # Its booking cancelled, the hold reads so, in the JSON and on the screen.
    assert shown["hold"]["status"] == "CANCELLED"
    listed = run(seeded, "holds", "list", "--status", "CONFIRMED")
    assert listed.exit_code == 0 and "CANCELLED" in listed.stdout
    assert "Status:" in (shown_text := run(seeded, "holds", "show", str(hold["id"])).stdout)
    assert "CANCELLED" in shown_text


@pytest.mark.parametrize(
    "args, code, error",
    [
        (["holds", "create", "1", "{day}", "-q", "99", "--email", "a@x.io"], 1, "no_capacity"),
        (["holds", "create", "1", "{day}", "-q", "1", "--email", "nope"], 2, "invalid_input"),
        (
            ["holds", "create", "1", "2001-01-01", "-q", "1", "--email", "a@x.io"],
            2,
            "invalid_input",
        ),
        (["holds", "create", "1", "someday", "-q", "1", "--email", "a@x.io"], 2, "invalid_input"),
        (["holds", "create", "77", "{day}", "-q", "1", "--email", "a@x.io"], 2, "not_found"),
        (["holds", "release", "12345"], 2, "not_found"),
        (
            ["capacity", "set", "1", "--from", "{day}", "--to", "{day}", "--max", "-1"],
            2,
            "invalid_input",
        ),
        (["resources", "add", "Bus", "--type", "BOAT"], 2, "invalid_input"),
    ],
)
def test_refusals_exit_with_the_documented_code_and_change_nothing(seeded, args, code, error):
    before = Booking.connect(seeded).events(limit=None)
    day = today(seeded).isoformat()
    result = run(seeded, *[a.replace("{day}", day) for a in args], "--json")
    assert result.exit_code == code, result.output
    assert json.loads(result.stdout)["error"] == error
    assert result.stderr.startswith("resbook: error: ") and result.stderr.count("\n") == 1
    assert Booking.connect(seeded).events(limit=None) == before


def test_bad_option_types_are_usage_errors(seeded):
    assert (
        run(
            seeded, "holds", "create", "one", "2030-01-01", "-q", "1", "--email", "a@x.io"
        ).exit_code
        == 2
    )


def test_double_release_is_invalid_state(seeded):
    day = today(seeded).isoformat()
    _, hold = run_json(seeded, "holds", "create", "1", day, "-q", "1", "--email", "a@x.io")
    assert run(seeded, "holds", "release", str(hold["id"])).exit_code == 0
    result = run(seeded, "holds", "release", str(hold["id"]))
    assert result.exit_code == 1
    assert "is RELEASED" in result.stderr


def test_range_hold_and_email_lookup(seeded):
    first = today(seeded)
    last = first + timedelta(days=2)
    code, holds = run_json(
        seeded,
        "holds",
        "create",
        "2",
        first.isoformat(),
        "--to",
        last.isoformat(),
        "-q",
        "1",
        "--email",
        "Range@X.io",
    )
    assert code == 0 and [h["date"] for h in holds] == [
        (first + timedelta(n)).isoformat() for n in range(3)
    ]
    _, listed = run_json(seeded, "holds", "list", "--email", "RANGE@x.IO")
    assert len(listed) == 3


def test_resources_capacity_and_blackouts(seeded):
    day = today(seeded)
    code, res = run_json(seeded, "resources", "add", "Guide Ana", "--type", "guide")
    assert code == 0 and res["type"] == "GUIDE"
    code, change = run_json(
        seeded,
        "capacity",
        "set",
        str(res["id"]),
        "--from",
        day.isoformat(),
        "--to",
        (day + timedelta(3)).isoformat(),
        "--max",
        "1",
    )
    assert code == 0 and change["created"] == 4
    _, hold = run_json(
        seeded, "holds", "create", str(res["id"]), day.isoformat(), "-q", "1", "--email", "a@x.io"
    )
    code, blackout = run_json(
        seeded,
        "blackouts",
        "add",
        str(res["id"]),
        "--from",
        day.isoformat(),
        "--to",
        day.isoformat(),
        "--reason",
        "sick",
    )
    assert code == 0 and [h["id"] for h in blackout["active_holds"]] == [hold["id"]]
    _, items = run_json(seeded, "blackouts", "list", "--resource", str(res["id"]))
    assert len(items) == 1
    assert run(seeded, "resources", "deactivate", str(res["id"])).exit_code == 0
    _, inactive = run_json(seeded, "resources", "list", "--inactive")
    assert [r["id"] for r in inactive] == [res["id"]]
    assert run(seeded, "blackouts", "remove", str(blackout["blackout"]["id"])).exit_code == 0


def test_sweep_is_silent_when_idle_and_reports_when_not(seeded, db):
    assert run(seeded, "sweep").stdout == ""
    assert "Expired 0 hold(s)" in run(seeded, "sweep", "--verbose").stdout
    day = today(seeded).isoformat()
    _, hold = run_json(seeded, "holds", "create", "1", day, "-q", "3", "--email", "a@x.io")
    past = (
        "now() - interval '1 minute'"
        if seeded.startswith("postgresql")
        else "strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 minutes')"
    )
    db.execute_sql(f"UPDATE resource_hold SET expires_at = {past}")
    code, preview = run_json(seeded, "sweep", "--dry-run")
    assert (code, preview["expired_holds"], preview["dry_run"]) == (0, 1, True)
    result = run(seeded, "sweep")
    assert result.exit_code == 0 and "Expired 1 hold(s), returning 3 unit(s)" in result.stdout
    code, after = run_json(seeded, "holds", "show", str(hold["id"]))
    assert after["hold"]["status"] == "EXPIRED"


def test_sweep_unreachable_database_exits_3():
    result = run("postgresql://nobody@127.0.0.1:1/x", "sweep")
    assert result.exit_code == 3 and "cannot open" in result.stderr


def test_events_filters(seeded):
    day = today(seeded).isoformat()
    run(seeded, "holds", "create", "1", day, "-q", "1", "--email", "a@x.io")
    run(seeded, "holds", "create", "2", day, "-q", "1", "--email", "b@x.io")
    result = run(seeded, "events", "--email", "B@X.IO", "--json")
    listed = json.loads(result.stdout)  # one document: an array
    assert [(e["action"], e["resource_id"]) for e in listed] == [("hold.create", 2)]


def test_events_follow_in_a_real_process(seeded):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "resbook_tui",
            "--db",
            seeded,
            "events",
            "--follow",
            "--json",
            "--limit",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = json.loads(proc.stdout.readline())  # the newest existing event: the seed
        assert first["action"] == "seed"
        bk = Booking.connect(seeded, actor="other-desk")
        hold = bk.create_hold(1, bk.today(), 1, "live@x.io")
        bk.release_hold(hold.id)
        created = json.loads(proc.stdout.readline())
        released = json.loads(proc.stdout.readline())
        assert (created["action"], created["entity_id"], created["actor"]) == (
            "hold.create",
            hold.id,
            "other-desk",
        )
        assert released["action"] == "hold.release"
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert os.name != "nt"
