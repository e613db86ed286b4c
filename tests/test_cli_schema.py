"""The schema commands through Typer's CliRunner, and once through a real process."""

import json
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from resbook_tui.cli import app

runner = CliRunner()


def run(url: str, *args: str):
    return runner.invoke(app, ["--db", url, *args])


def test_migrate_seed_verify_is_clean(db_url):
    assert run(db_url, "migrate", "up").exit_code == 0
    assert run(db_url, "seed").exit_code == 0
    result = run(db_url, "verify")
    assert result.exit_code == 0, result.output
    assert "Tables 10/10, Indexes 27/27, Triggers 4/4" in result.output
    assert "Total rows 274" in result.output  # 3 resources, 270 capacity rows, 1 event


def test_verify_json_and_drift_exit_code(db_url, db):
    db.execute_sql("DROP INDEX idx_hold_expires")
    result = run(db_url, "verify", "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False
    assert report["drift"][0]["name"] == "idx_hold_expires"


def test_verify_unmigrated_exits_3(db_url, empty_db):
    result = run(db_url, "verify")
    assert result.exit_code == 3
    assert "run `resbook migrate up` first" in result.output
    assert "Traceback" not in result.output


def test_a_malformed_url_is_a_setting_error_exit_2():
    result = run("mysql://x:secret@y/z", "migrate", "up")
    assert result.exit_code == 2
    assert "unknown database URL scheme" in result.output
    assert "secret" not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("postgresql://nobody:secret@127.0.0.1:1/rb", "cannot open postgresql://nobody:***@"),
        ("sqlite:////proc/no/such/place.db", "cannot open sqlite:////proc/no/such/place.db"),
    ],
)
def test_database_problems_exit_3_with_one_line(url, fragment):
    result = run(url, "migrate", "up")
    assert result.exit_code == 3
    assert fragment in result.output
    assert "secret" not in result.output
    assert "Traceback" not in result.output


def test_wrong_postgres_password_exits_3(pg_url):
    bad = pg_url.replace("postgresql://root@", "postgresql://no_such_role:pw@")
    result = run(bad, "verify")
    assert result.exit_code == 3
    assert "no_such_role" in result.output and ":pw@" not in result.output


def test_migrate_status_down_and_json(db_url):
    run(db_url, "migrate", "up")
    status = json.loads(run(db_url, "migrate", "status", "--json").output)
    count = len(status["migrations"])
    assert count >= 4 and [m["status"] for m in status["migrations"]] == ["applied"] * count
    # JSON times are UTC with Z on both dialects (SQLite keeps text, PostgreSQL a timestamptz)
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", m["applied_at"])
        for m in status["migrations"]
    )
    assert run(db_url, "migrate", "down").exit_code == 0
    assert "pending" in run(db_url, "migrate", "status").output
    result = run(db_url, "migrate", "down", "--to", "0")
    assert result.exit_code == 0 and f"Reverted {count - 1} migration(s)" in result.output


def test_migrate_up_and_down_with_json_print_one_document(db_url):
    up = run(db_url, "migrate", "up", "--json")
    assert up.exit_code == 0
    done = json.loads(up.stdout)  # the progress lines went to stderr
    versions = [m["version"] for m in done["applied"]]
    assert versions == sorted(versions) and done["schema_version"] == versions[-1]
    assert json.loads(run(db_url, "migrate", "up", "--json").stdout) == {
        "applied": [],
        "schema_version": versions[-1],
    }
    run(db_url, "resources", "add", "Cruiser", "--type", "VEHICLE")
    plan = json.loads(run(db_url, "migrate", "down", "--to", "0", "--dry-run", "--json").stdout)
    assert [m["version"] for m in plan["would_revert"]] == versions[::-1]
    assert {"table": "resource", "column": None, "rows": 1} in plan["would_destroy"]
    refused = run(db_url, "migrate", "down", "--to", "0", "--json")
    assert refused.exit_code == 2
    assert json.loads(refused.stdout)["error"] == "would_lose_data"
    assert "Would destroy resource: 1 row(s)" in refused.stderr
    down = json.loads(run(db_url, "migrate", "down", "--json").stdout)
    assert down == {
        "reverted": [done["applied"][-1]],
        "schema_version": versions[-2],
    }


def test_seed_bad_input_exits_2_and_changes_nothing(db_url):
    run(db_url, "migrate", "up")
    assert run(db_url, "seed", "--days", "0").exit_code == 2
    assert run(db_url, "seed", "--start", "tomorrow").exit_code == 2
    assert run(db_url, "seed", "--vehicles", "many").exit_code == 2
    result = run(db_url, "verify", "--json")
    assert json.loads(result.output)["total_rows"] == 0


def test_seed_on_unmigrated_database_exits_3(db_url):
    result = run(db_url, "seed")
    assert result.exit_code == 3


def test_info_masks_the_password(pg_url):
    url = pg_url.replace("postgresql://root@", "postgresql://root:topsecret@")
    result = run(url, "info", "--json")
    info = json.loads(result.output)
    assert "topsecret" not in result.output
    assert info["dialect"] == "postgresql" and info["schema_version"] == 0


def test_real_process_round_trip(sqlite_url):
    def resbook(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "resbook_tui", "--db", sqlite_url, *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert resbook("verify").returncode == 3
    assert resbook("migrate", "up").returncode == 0
    seeded = resbook("seed", "--json")
    assert json.loads(seeded.stdout)["capacity_rows_created"] == 270
    verified = resbook("verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stderr == ""
