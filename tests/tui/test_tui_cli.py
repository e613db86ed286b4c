"""`resbook tui` and `resbook demo`: opening the database, read-only, the demo's data."""

from __future__ import annotations

from collections import Counter

import pytest
from typer.testing import CliRunner

from resbook_tui.booking import Booking
from resbook_tui.cli import app as cli
from resbook_tui.cli import tui as tui_cli
from resbook_tui.db import open_database
from resbook_tui.tui import ResbookApp
from resbook_tui.tui.demo import DemoError, demo_url, prepare_demo

runner = CliRunner()


@pytest.fixture
def opened(monkeypatch) -> list[ResbookApp]:
    """Apps the commands would run, instead of running them."""
    apps: list[ResbookApp] = []
    monkeypatch.setattr(ResbookApp, "run", lambda self, *a, **k: apps.append(self))
    monkeypatch.setattr(tui_cli, "terminal", lambda: True)  # the runner has none
    return apps


@pytest.mark.parametrize("command", ["tui", "demo"])
def test_without_a_terminal_the_tui_is_refused_before_anything(tmp_path, command, monkeypatch):
    """From cron or into a file it drew escape codes into the file for ever."""
    monkeypatch.setattr(ResbookApp, "run", lambda self, *a, **k: pytest.fail("it ran"))
    path = tmp_path / "demo.db"
    result = runner.invoke(cli, ["--db", f"sqlite:///{path}", command])
    assert result.exit_code == 2
    assert result.output == (
        f"resbook: error: resbook {command} opens the TUI, which needs a terminal on stdin "
        "and stdout; for scripts use the other commands (resbook --help)\n"
    )
    assert not path.exists()


def test_tui_on_an_unreachable_database_prints_one_line_and_exits_3(tmp_path, opened):
    result = runner.invoke(cli, ["--db", f"sqlite:///{tmp_path}/no/such/dir/x.db", "tui"])
    assert result.exit_code == 3
    assert result.output.count("\n") == 1 and "resbook: error: cannot open" in result.output
    assert opened == []


def test_tui_on_an_unmigrated_database_exits_3(sqlite_url, opened):
    open_database(sqlite_url).close()
    result = runner.invoke(cli, ["--db", sqlite_url, "tui"])
    assert result.exit_code == 3 and "resbook migrate up" in result.output
    assert opened == []


def test_tui_read_only_opens_a_read_only_session(world_url, opened):
    result = runner.invoke(cli, ["--db", world_url, "tui", "--read-only"])
    assert result.exit_code == 0, result.output
    (app,) = opened
    assert app.read_only and app.booking.read_only


def test_tui_opens_a_writable_session_by_default(world_url, opened):
    assert runner.invoke(cli, ["--db", world_url, "tui"]).exit_code == 0
    assert not opened[0].read_only


def test_demo_builds_then_reuses_its_database(tmp_path, opened):
    url = f"sqlite:///{tmp_path}/demo.db"
    first = runner.invoke(cli, ["--db", url, "demo"])
    assert first.exit_code == 0, first.output
    bk = Booking.connect(url)
    resources = bk.list_resources()
    statuses = Counter(h.status for h in bk.list_holds())
    assert {"ACTIVE", "CONFIRMED", "RELEASED", "EXPIRED"} <= set(statuses)
    assert {r.type for r in resources} == {"VEHICLE", "TOUR", "GUIDE"}
    assert any(not r.is_active for r in resources)
    assert bk.list_blackouts()
    bk.close()
    again = runner.invoke(cli, ["--db", url, "demo"])
    assert again.exit_code == 0 and "Reusing" in again.output
    assert len(Booking.connect(url).list_resources()) == len(resources)
    fresh = runner.invoke(cli, ["--db", url, "demo", "--fresh"])
    assert fresh.exit_code == 0 and "Demo database ready" in fresh.output
    assert len(opened) == 3


def test_demo_with_an_empty_db_is_refused(opened):
    result = runner.invoke(cli, ["--db", "", "demo"])
    assert result.exit_code == 2 and "--db is empty" in result.output
    assert opened == []


def test_demo_never_touches_a_database_that_is_not_a_demo(world_url, opened):
    for args in (["demo"], ["demo", "--fresh"]):
        result = runner.invoke(cli, ["--db", world_url, *args])
        assert result.exit_code == 2, result.output
        assert "not" in result.output and "demo" in result.output
    assert len(Booking.connect(world_url).list_resources()) == 7
    assert opened == []


def test_demo_is_sqlite_only():
    with pytest.raises(DemoError):
        demo_url("postgresql://someone@localhost/prod")
    assert demo_url(None).startswith("sqlite:///")


def test_prepare_demo_reports_whether_it_built(tmp_path):
    url = f"sqlite:///{tmp_path}/d.db"
    assert prepare_demo(url) is True
    assert prepare_demo(url) is False
