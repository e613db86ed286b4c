"""What a session is made to be, whatever the URL or the environment says; secrets never
shown; SQLite files made only by the commands that are meant to make them."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

from booking_helpers import make_world, state
from resbook_tui.booking import Booking
from resbook_tui.cli import app
from resbook_tui.cli import tui as tui_cli
from resbook_tui.db import open_database
from resbook_tui.errors import ConfigError, DatabaseError
from resbook_tui.tui import ResbookApp
from resbook_tui.urls import mask_url, scrub

runner = CliRunner()


def _with_options(url: str, options: str) -> str:
    """``url`` with more libpq ``-c`` settings after the test's own search_path."""
    base, _, existing = url.partition("?options=")
    return f"{base}?options={existing}{quote(' ' + options)}"


def _show(db, name: str) -> str:  # noqa: ANN001
    return db.execute_sql(f"SHOW {name}").fetchone()[0]


# ---- time zone and read-only: resbook decides -----------------------------------------------


@pytest.mark.postgres
def test_a_url_time_zone_cannot_move_today_off_utc(pg_url, pg_db):
    url = _with_options(pg_url, "-c timezone=Pacific/Kiritimati")  # UTC+14
    bk = Booking.connect(url)
    assert _show(bk.db, "TimeZone") == "UTC"
    utc_today = bk.db.execute_sql("SELECT (now() AT TIME ZONE 'UTC')::date").fetchone()[0]
    assert bk.today() == utc_today
    assert _show(bk.db, "search_path").startswith("t_")  # the test's own options still apply


@pytest.mark.postgres
def test_pgtz_and_pgoptions_cannot_move_today_off_utc(pg_url, pg_db, monkeypatch):
    monkeypatch.setenv("PGTZ", "Pacific/Kiritimati")
    monkeypatch.setenv("PGOPTIONS", "-c timezone=Pacific/Pago_Pago")
    w = make_world(open_database(pg_url))
    assert _show(w.bk.db, "TimeZone") == "UTC"
    # A hold for today (UTC) is not "in the past", whatever the local zone says.
    w.bk.set_capacity(w.rid, w.bk.today(), None, 2)
    assert w.bk.create_hold(w.rid, w.bk.today(), 1, "a@x.io").date == w.bk.today()


@pytest.mark.postgres
def test_no_url_option_or_environment_makes_a_read_only_session_writable(
    pg_url, pg_db, monkeypatch
):
    make_world(pg_db)
    before = state(pg_db)
    monkeypatch.setenv("PGOPTIONS", "-c default_transaction_read_only=off")
    url = _with_options(pg_url, "-c default_transaction_read_only=off")
    ro = Booking.connect(url, read_only=True)
    assert ro.read_only and _show(ro.db, "default_transaction_read_only") == "on"
    with pytest.raises(DatabaseError, match="read-only"):
        ro.add_resource("Sneaky", "VEHICLE")
    with pytest.raises(DatabaseError, match="read-only"):
        ro.set_capacity(1, ro.today() + timedelta(days=1), None, 99)
    assert state(pg_db) == before


def test_a_read_only_session_refuses_writes(db_url, db):
    make_world(db)
    before = state(db)
    ro = Booking.connect(db_url, read_only=True)
    with pytest.raises(DatabaseError, match="read-only"):
        ro.add_resource("Sneaky", "VEHICLE")
    assert state(db) == before


@pytest.mark.postgres
def test_timeouts_are_set_from_the_environment_and_not_from_the_url(pg_url, pg_db, monkeypatch):
    db = open_database(_with_options(pg_url, "-c lock_timeout=0 -c statement_timeout=0"))
    assert (_show(db, "lock_timeout"), _show(db, "statement_timeout")) == ("3s", "30s")
    monkeypatch.setenv("RESBOOK_LOCK_TIMEOUT_MS", "1500")
    monkeypatch.setenv("RESBOOK_STATEMENT_TIMEOUT_MS", "0")
    db = open_database(pg_url)
    assert (_show(db, "lock_timeout"), _show(db, "statement_timeout")) == ("1500ms", "0")
    assert _show(db, "default_transaction_isolation") == "read committed"


# ---- secrets ---------------------------------------------------------------------------------

SECRET_URLS = [
    ("postgresql://ana:hunter2@db:5432/rb", "hunter2", "postgresql://ana:***@db:5432/rb"),
    ("postgresql://ana@db/rb?password=hunter2", "hunter2", "postgresql://ana@db/rb?password=***"),
    ("postgresql://ana@db/rb?sslpassword=hunter2&sslmode=require", "hunter2", None),
    ("postgresql://ana@db/rb?options=-c%20app.password%3Dhunter2", "hunter2", None),
    ("postgresql://ana@db/rb?options=--app.secret=hunter2", "hunter2", None),
    ("postgresql://ana:p%40ss%3Ahunter2@db/rb", "p@ss:hunter2", "postgresql://ana:***@db/rb"),
]


@pytest.mark.parametrize("url, secret, masked", SECRET_URLS)
def test_every_password_bearing_part_is_masked(url, secret, masked):
    shown = mask_url(url)
    assert "hunter2" not in shown
    if masked:
        assert shown == masked
    # A driver's message that quotes the URL or the password itself is scrubbed too.
    assert "hunter2" not in scrub(f"could not connect with {url} ({secret})", url)


def test_urls_without_secrets_are_shown_as_they_are():
    for url in ("sqlite:///x.db", "sqlite:////abs/x.db", "postgresql://ana@db/rb?sslmode=require"):
        assert mask_url(url) == url


@pytest.mark.postgres
@pytest.mark.parametrize(
    "extra", ["password=hunter2", "sslpassword=hunter2", "options=-c%20app.password%3Dhunter2"]
)
def test_info_and_booking_never_show_a_query_password(pg_url, pg_db, extra):
    if extra.startswith("options="):  # after the test's own search_path
        url = _with_options(pg_url, "-c app.password=hunter2")
    else:
        url = f"{pg_url}&{extra}"
    text = runner.invoke(app, ["--db", url, "info"])
    as_json = runner.invoke(app, ["--db", url, "info", "--json"])
    assert text.exit_code == 0 and as_json.exit_code == 0, text.output
    assert "hunter2" not in text.output and "hunter2" not in as_json.output
    assert json.loads(as_json.output)["database"].count("***") == 1
    assert "hunter2" not in Booking.connect(url).description


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://ana:hunter2@127.0.0.1:1/rb",
        "postgresql://ana@127.0.0.1:1/rb?password=hunter2",
        "postgresql://ana@127.0.0.1:1/rb?sslpassword=hunter2",
        "postgresql://ana@127.0.0.1:1/rb?password=hunter2&no_such_option=1",
        "postgresql://ana@127.0.0.1:1/rb?password=hunter2&connect_timeout=soon",
        "mysql://ana:hunter2@db/rb?password=hunter2",
    ],
)
def test_error_lines_never_show_a_password(url):
    for args in (["holds", "list"], ["info"], ["info", "--json"], ["migrate", "up"]):
        result = runner.invoke(app, ["--db", url, *args])
        assert result.exit_code in (2, 3), result.output
        assert "hunter2" not in result.output
        assert "Traceback" not in result.output
    with pytest.raises(Exception) as info:
        Booking.connect(url)
    assert "hunter2" not in str(info.value)


# ---- a SQLite file is made only by migrate up and demo -------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["holds", "list"],
        ["holds", "create", "1", "2030-01-01", "-q", "1", "--email", "a@x.io"],
        ["resources", "add", "Cruiser", "--type", "VEHICLE"],
        ["sweep"],
        ["verify"],
        ["seed"],
        ["events"],
        ["migrate", "status"],
        ["migrate", "down"],
        ["info"],
    ],
)
def test_commands_never_create_a_sqlite_file(tmp_path, args):
    path = tmp_path / "typo.db"
    result = runner.invoke(app, ["--db", f"sqlite:///{path}", *args])
    assert result.exit_code == 3, result.output
    assert f"no resbook database at {path}" in result.output
    assert "Traceback" not in result.output
    assert not path.exists()


def test_migrate_up_creates_the_sqlite_file(tmp_path):
    path = tmp_path / "new.db"
    assert runner.invoke(app, ["--db", f"sqlite:///{path}", "migrate", "up"]).exit_code == 0
    assert path.exists()


def test_the_python_api_never_creates_a_sqlite_file(tmp_path):
    path = tmp_path / "typo.db"
    with pytest.raises(DatabaseError, match="no resbook database"):
        Booking.connect(f"sqlite:///{path}")
    with pytest.raises(DatabaseError, match="no resbook database"):
        Booking.connect(f"sqlite:///{path}", read_only=True)
    assert not path.exists()


def test_tui_on_a_missing_sqlite_file_does_not_create_it(tmp_path, monkeypatch):
    monkeypatch.setattr(ResbookApp, "run", lambda self, *a, **k: None)
    monkeypatch.setattr(tui_cli, "terminal", lambda: True)  # the runner has none
    path = tmp_path / "typo.db"
    result = runner.invoke(app, ["--db", f"sqlite:///{path}", "tui"])
    assert "Traceback" not in result.output
    assert not path.exists()


@pytest.mark.parametrize("url", [None, 5, "", "postgresql://a@[::1/x", "sqlite:///a\x1bb.db"])
def test_a_url_that_is_not_one_is_a_config_error(url):
    with pytest.raises(ConfigError):
        Booking.connect(url)
