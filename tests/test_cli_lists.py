"""The support CLI at 80 columns: one line per row, names, partial email, names as RES,
one JSON document per --json, UTC timestamps with Z, and no stored control character raw."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from resbook_tui.booking import Booking
from resbook_tui.cli import app
from resbook_tui.seed import SeedPlan, seed
from resbook_tui.text import has_control_characters

runner = CliRunner()
LONG_EMAIL = "margaretha.vandenberghe-oostenbrugge@example-travel.com"
Z_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z")


def run(url: str, *args: str, columns: int | None = None):
    env = {"COLUMNS": str(columns) if columns else None}  # None: not set, as in a pipe
    return runner.invoke(app, ["--db", url, *args], env=env)


@pytest.fixture
def shop(db_url, db):
    """Two seeded vehicles (4WD Cruiser 1 and 2), holds in three states, an allocation,
    a blackout; returns the URL."""
    seed(db, SeedPlan(vehicles=2, days=10))
    bk = Booking(db, actor="desk")
    day = bk.today() + timedelta(days=1)
    bk.create_hold(1, day, 1, "gita.rao@example.com")
    bk.create_hold(2, day, 2, LONG_EMAIL, token="cart-" + "x" * 60)
    confirmed = bk.create_hold(1, day + timedelta(1), 1, "Ana.Silva@example.com")
    bk.confirm_hold(confirmed.id, "ORD-1", "LI-1")
    bk.release_hold(bk.create_hold(2, day, 1, "g_ta@x.io").id)
    bk.add_blackout(2, day + timedelta(5), day + timedelta(6), "Scheduled service")
    return db_url


def lines_of(result) -> list[str]:
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def day_args(url: str) -> list[str]:
    today = Booking.connect(url).today()
    return ["--from", today.isoformat(), "--to", (today + timedelta(3)).isoformat()]


# ---- one line per row ---------------------------------------------------------------------------


@pytest.mark.parametrize("width", [80, 40])
def test_holds_list_is_one_line_per_hold_with_names(shop, width):
    lines = lines_of(run(shop, "holds", "list", columns=width))
    assert len(lines) == 1 + 4  # the header and four holds
    assert all(cell_len(line) <= width for line in lines), lines
    assert lines[0].split()[:3] == ["ID", "RESOURCE", "DATE"]
    if width == 80:
        assert sum("4WD Cruiser" in line for line in lines) == 4
        assert "cart-" not in "\n".join(lines)  # the token only with --wide
        assert "…" in "\n".join(lines)  # the long email is cut, not wrapped
        assert any(line.split()[-1] == "-" for line in lines)  # confirmed: no expiry


LISTS = [
    ["holds", "list"],
    ["holds", "list", "--wide"],
    ["holds", "show", "2"],
    ["holds", "show", "2", "--wide"],
    ["allocations", "list"],
    ["allocations", "list", "--wide"],
    ["resources", "list"],
    ["resources", "list", "--wide"],
    ["blackouts", "list"],
    ["blackouts", "list", "--wide"],
    ["availability", "{days}"],
    ["availability", "{days}", "--wide"],
    ["events"],
    ["events", "--wide"],
    ["migrate", "status"],
    ["migrate", "status", "--wide"],
]


@pytest.mark.parametrize("args", LISTS, ids=" ".join)
@pytest.mark.parametrize("width", [80, 30])
def test_every_list_fits_the_width_without_wrapping(shop, args, width):
    args = [a for arg in args for a in (day_args(shop) if arg == "{days}" else [arg])]
    lines = lines_of(run(shop, *args, columns=width))
    assert lines and all(cell_len(line) <= width for line in lines), lines


def test_table_rows_are_one_line_each(shop):
    """As many lines as rows, whatever the width: a row never spills onto a second line."""
    bk = Booking.connect(shop)
    expected = {
        ("allocations", "list"): len(bk.list_allocations()),
        ("resources", "list"): len(bk.list_resources()),
        ("blackouts", "list"): len(bk.list_blackouts()),
        ("events",): len(bk.events(limit=50)),
    }
    for args, rows in expected.items():
        for width in (30, 80, 200):
            assert len(lines_of(run(shop, *args, "--wide", columns=width))) == 1 + rows


def test_pipes_get_whole_lines_and_wide_adds_the_long_columns(shop):
    piped = run(shop, "holds", "list").stdout  # no $COLUMNS, not a terminal
    assert LONG_EMAIL in piped and "…" not in piped and "cart-" not in piped
    wide = run(shop, "holds", "list", "--wide").stdout
    assert "cart-" + "x" * 60 in wide and "EXPIRES AT (UTC)" in wide
    assert "cart-" + "x" * 60 in run(shop, "holds", "list", "--wide", columns=250).stdout


def test_resources_show_by_name_everywhere(shop):
    for args in (["allocations", "list"], ["blackouts", "list"], ["events"]):
        out = run(shop, *args, columns=80).stdout
        assert "4WD Cruiser" in out, args
    show = run(shop, "holds", "show", "1", columns=80).stdout
    assert "Resource:   4WD Cruiser 1 (id 1)" in show and "History:" in show


def test_an_empty_list_says_so_on_stderr(shop):
    result = run(shop, "holds", "list", "--email", "nobody-at-all")
    assert result.exit_code == 0 and result.stdout == "" and "No holds." in result.stderr


# ---- partial email and literal wildcards --------------------------------------------------------


def test_email_matches_any_part_in_any_case(shop):
    _, holds = run_json(shop, "holds", "list", "--email", "GITA")
    assert [h["customer_email"] for h in holds] == ["gita.rao@example.com"]
    _, allocations = run_json(shop, "allocations", "list", "--email", "ana.SILVA")
    assert [a["order_id"] for a in allocations] == ["ORD-1"]
    _, events = run_json(shop, "events", "--email", "Vandenberghe")
    assert {e["customer_email"] for e in events} == {LONG_EMAIL}
    text = run(shop, "holds", "list", "--email", "gita", columns=80).stdout
    assert len(text.splitlines()) == 2 and "gita.rao@example.com" in text


def test_typed_wildcards_are_literal(shop):
    _, holds = run_json(shop, "holds", "list", "--email", "_")
    assert [h["customer_email"] for h in holds] == ["g_ta@x.io"]
    _, none = run_json(shop, "holds", "list", "--email", "%")
    assert none == []
    _, resources = run_json(shop, "resources", "list", "--search", "%")
    assert resources == []
    _, resources = run_json(shop, "resources", "list", "--search", "cruiser 2")
    assert [r["name"] for r in resources] == ["4WD Cruiser 2"]


# ---- names wherever a resource is asked for -----------------------------------------------------


def run_json(url: str, *args: str):
    result = run(url, *args, "--json")
    return result.exit_code, json.loads(result.stdout)


def test_names_are_accepted_for_res_and_resource(shop):
    today = Booking.connect(shop).today()
    day = (today + timedelta(2)).isoformat()
    code, hold = run_json(
        shop, "holds", "create", "4wd cruiser 2", day, "-q", "1", "--email", "n@x.io"
    )
    assert code == 0 and hold["resource_id"] == 2
    text = run(shop, "holds", "create", " 4WD CRUISER 1 ", day, "-q", "1", "--email", "m@x.io")
    assert text.exit_code == 0 and "Held: hold" in text.stdout and "4WD Cruiser 1 on" in text.stdout
    code, listed = run_json(shop, "holds", "list", "--resource", "4WD Cruiser 2")
    assert code == 0 and {h["resource_id"] for h in listed} == {2}
    code, cells = run_json(
        shop, "availability", "--resource", "4wd cruiser 1", "--from", day, "--to", day
    )
    assert code == 0 and [c["resource_id"] for c in cells] == [1]
    code, change = run_json(
        shop, "capacity", "set", "4WD Cruiser 1", "--from", day, "--to", day, "--max", "9"
    )
    assert code == 0 and change["resource_id"] == 1
    code, added = run_json(
        shop, "blackouts", "add", "4WD Cruiser 1", "--from", day, "--to", day, "--reason", "x"
    )
    assert code == 0 and added["blackout"]["resource_id"] == 1
    code, blackouts = run_json(shop, "blackouts", "list", "--resource", "4wd cruiser 1")
    assert [b["resource_id"] for b in blackouts] == [1]
    code, events = run_json(shop, "events", "--resource", "4WD Cruiser 2")
    assert events and {e["resource_id"] for e in events} == {2}
    code, edited = run_json(shop, "resources", "edit", "4wd cruiser 2", "--description", "d")
    assert code == 0 and edited["id"] == 2 and edited["description"] == "d"
    assert run(shop, "resources", "deactivate", "4WD Cruiser 2").exit_code == 0
    result = run(shop, "resources", "activate", "4wd cruiser 2")
    assert result.exit_code == 0 and "Resource 2 (4WD Cruiser 2) is active." in result.stdout


def test_an_unknown_name_is_exit_2_naming_it(shop):
    result = run(shop, "holds", "list", "--resource", "Land Cruiser 9")
    assert result.exit_code == 2
    assert result.stderr == "resbook: error: no resource is named 'Land Cruiser 9'\n"
    code, error = run_json(
        shop, "availability", "--resource", "Nope", "--from", "2030-01-01", "--to", "2030-01-01"
    )
    assert code == 2 and error["error"] == "not_found"


def test_a_shared_name_is_exit_2_listing_the_ids(shop):
    bk = Booking.connect(shop)
    bk.deactivate(1)
    newer = bk.add_resource("4wd cruiser 1", "VEHICLE")
    result = run(shop, "resources", "activate", "4WD Cruiser 1")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert f"ids 1 (inactive), {newer.id} (active)" in result.stderr
    assert run(shop, "holds", "list", "--resource", str(newer.id)).exit_code == 0


# ---- one active resource per name ---------------------------------------------------------------


def test_a_second_active_name_is_refused_naming_the_first(shop):
    code, error = run_json(shop, "resources", "add", "4wd CRUISER 1", "--type", "TOUR")
    assert code == 2 and error["error"] == "invalid_input"
    assert "already named '4WD Cruiser 1' (id 1)" in error["message"]
    result = run(shop, "resources", "edit", "2", "--name", "4WD Cruiser 1")
    assert result.exit_code == 2 and "(id 1)" in result.stderr
    assert run(shop, "resources", "deactivate", "1").exit_code == 0
    code, added = run_json(shop, "resources", "add", "4wd CRUISER 1", "--type", "TOUR")
    assert code == 0
    code, error = run_json(shop, "resources", "activate", "1")
    assert code == 2 and f"(id {added['id']})" in error["message"]
    _, active = run_json(shop, "resources", "list", "--active", "--search", "cruiser 1")
    assert [r["id"] for r in active] == [added["id"]]


# ---- JSON ---------------------------------------------------------------------------------------

JSON_COMMANDS = [
    ["holds", "list"],
    ["holds", "show", "1"],
    ["allocations", "list"],
    ["resources", "list"],
    ["blackouts", "list"],
    ["availability", "--from", "2030-01-01", "--to", "2030-01-02"],
    ["events"],
    ["events", "--email", "nobody"],
    ["events", "--limit", "1"],
    ["migrate", "status"],
    ["sweep", "--dry-run"],
    ["verify"],
    ["info"],
    ["holds", "release", "99999"],  # a refusal is one document too
]


@pytest.mark.parametrize("args", JSON_COMMANDS, ids=" ".join)
def test_json_is_always_one_document(shop, args):
    result = run(shop, *args, "--json")
    document = json.loads(result.stdout)  # raises on JSON lines or anything after the document
    assert isinstance(document, dict | list)


def test_a_database_error_with_json_is_one_document():
    result = runner.invoke(
        app, ["--db", "postgresql://nobody@127.0.0.1:1/x", "holds", "list", "--json"]
    )
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"] == "database_error"


def _timestamps(value, key: str = "") -> list[str]:  # noqa: ANN001
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in _timestamps(v, k)]
    if isinstance(value, list):
        return [t for v in value for t in _timestamps(v, key)]
    return [value] if key.endswith("_at") and isinstance(value, str) else []


def test_every_json_timestamp_is_utc_with_z(shop):
    assert run(shop, "holds", "extend", "1", "--minutes", "5").exit_code == 0
    found: list[str] = []
    for args in (
        ["holds", "list"],
        ["holds", "show", "2"],
        ["allocations", "list"],
        ["events"],
        ["resources", "list"],
        ["blackouts", "list"],
    ):
        found += _timestamps(run_json(shop, *args)[1])
    _, events = run_json(shop, "events", "--action", "hold.extend")
    details = [e["details"]["expires_at"] for e in events]  # stored as text in the details
    assert found and details and all(Z_TIME.fullmatch(t) for t in found + details), found + details
    _, holds = run_json(shop, "holds", "list")
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", h["date"]) for h in holds)  # dates stay dates


# ---- stored control characters ------------------------------------------------------------------


def test_stored_control_characters_never_reach_the_terminal(shop, db):
    """Bytes that got in through SQL are shown as escapes in every table and message."""
    nasty = "\x1b[31mred\x07\rX" + ("" if shop.startswith("postgresql") else "\x00")
    p = "%s" if shop.startswith("postgresql") else "?"
    for sql in (
        f"UPDATE resource SET name = {p} || name, description = {p}",
        f"UPDATE resource_hold SET customer_email = {p} || customer_email",
        f"UPDATE resource_allocation SET order_id = {p}",
        f"UPDATE resource_blackout SET reason = {p}",
        f"UPDATE booking_event SET actor = {p}, customer_email = {p}",
    ):
        db.execute_sql(sql, (nasty,) * sql.count(p))
    today = Booking.connect(shop).today()
    day = (today + timedelta(2)).isoformat()
    commands = [
        ["holds", "list"],
        ["holds", "list", "--wide"],
        ["holds", "show", "1", "--wide"],
        ["allocations", "list"],
        ["resources", "list", "--wide"],
        ["blackouts", "list"],
        ["availability", "--from", day, "--to", day],
        ["events", "--wide"],
        ["holds", "create", "1", day, "-q", "1", "--email", "c@x.io"],
        ["holds", "release", "1"],
        ["allocations", "cancel", "1"],
        ["resources", "deactivate", "2"],
        ["capacity", "set", "1", "--from", day, "--to", day, "--max", "5"],
        ["blackouts", "add", "1", "--from", day, "--to", day, "--reason", "r"],
        ["holds", "list", "--resource", "nope\x1b"],
    ]
    for args in commands:
        for width in (None, 80):
            result = run(shop, *args, columns=width)
            if width is None:  # the second run of a change is a refusal: still one safe line
                assert result.exit_code == (2 if args[-1] == "nope\x1b" else 0), result.output
            # split on newlines only: str.splitlines would hide a raw CR by splitting on it
            for line in (result.stdout + result.stderr).split("\n"):
                assert not has_control_characters(line), (args, line)
    assert "\\x1b[31mred\\x07\\x0dX" in run(shop, "holds", "list", "--wide").stdout


def test_events_follow_as_a_table_keeps_one_line_per_event(shop):
    """A followed trail in a real process at 80 columns: rows that arrive later fit too."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "resbook_tui", "--db", shop, "events", "--follow", "--limit", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
    )
    try:
        header, newest = proc.stdout.readline(), proc.stdout.readline()
        assert header.split()[:3] == ["TIME", "(UTC)", "EVENT"] and "blackout.add" in newest
        bk = Booking.connect(shop, actor="other-desk")
        bk.create_hold(1, bk.today() + timedelta(days=3), 1, LONG_EMAIL)
        created = proc.stdout.readline()
        assert "hold.create" in created and "4WD Cruiser" in created
        assert all(cell_len(line.rstrip("\n")) <= 80 for line in (header, newest, created))
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in err
