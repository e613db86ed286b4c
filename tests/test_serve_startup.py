"""``resbook serve`` when a worker process cannot start: it stops, and says so, instead of
uvicorn restarting the worker every half second."""

from __future__ import annotations

import socket
from typing import Any

import peewee
import pytest
from fastapi.testclient import TestClient
from uvicorn.config import STARTUP_FAILURE

import resbook_tui.serve as serve
from resbook_tui.errors import ConfigError, DatabaseError


def test_a_worker_without_its_database_exits_as_a_startup_failure(
    monkeypatch: pytest.MonkeyPatch, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("RESBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'missing.db'}")
    with pytest.raises(SystemExit) as stopped:
        serve.from_environment()
    assert stopped.value.code == STARTUP_FAILURE
    assert "could not start" in caplog.text and "Traceback" not in caplog.text


def test_a_worker_starts_while_its_database_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """The parent checked the database before starting workers: a worker (re)started
    during an outage must not stop the whole server by failing to start; it answers 503
    until the database is back."""
    unreachable = "postgresql://nobody@127.0.0.1:9/resbook"  # port 9: nothing listens
    monkeypatch.setenv("RESBOOK_DATABASE_URL", unreachable)
    app = serve.from_environment()
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 503 and answer.json()["code"] == "database_unavailable"


def test_several_processes_on_a_database_without_the_schema_start_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """Each worker would print a traceback and be restarted: the parent says it once."""
    empty = peewee.SqliteDatabase(str(tmp_path / "empty.db"))
    monkeypatch.setattr(serve, "open_database", lambda url, create: empty)
    monkeypatch.setattr(serve, "Multiprocess", _no_workers)
    with pytest.raises(DatabaseError, match="no resbook schema"):
        serve.run(
            "postgresql://shop@db.example/resbook", host="127.0.0.1", port=0, workers=2, threads=2
        )


def _no_workers(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("no worker may start")


class _Process:
    def __init__(self, exitcode: int) -> None:
        self.exitcode = exitcode


def _supervisor(exitcodes: list[int]) -> Any:
    class Supervisor:
        def __init__(self, config: Any, sockets: list[Any]) -> None:
            for sock in sockets:
                sock.close()
            self.processes = [_Process(code) for code in exitcodes]

        def run(self) -> None:
            pass

    return Supervisor


class _Db:
    def close(self) -> None:
        pass


@pytest.mark.parametrize(("exitcodes", "fails"), [([0, 0], False), ([0, STARTUP_FAILURE], True)])
def test_several_processes_end_in_an_error_when_one_could_not_start(
    monkeypatch: pytest.MonkeyPatch, exitcodes: list[int], fails: bool
) -> None:
    monkeypatch.setattr(serve, "open_database", lambda url, create: _Db())
    monkeypatch.setattr(serve, "require_current_schema", lambda db: None)
    monkeypatch.setattr(serve, "Multiprocess", _supervisor(exitcodes))
    for name in ("RESBOOK_DATABASE_URL", "RESBOOK_SERVE_THREADS"):  # run() sets them
        monkeypatch.delenv(name, raising=False)
    url = "postgresql://shop@db.example/resbook"
    if fails:
        with pytest.raises(DatabaseError, match="could not start"):
            serve.run(url, host="127.0.0.1", port=0, workers=2, threads=2)
    else:
        serve.run(url, host="127.0.0.1", port=0, workers=2, threads=2)


def test_a_port_in_use_is_one_line_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(serve, "open_database", _no_workers)  # nothing gets that far
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}: .*in use"):
            serve.run("sqlite:///x.db", host="127.0.0.1", port=port, workers=None, threads=2)
    assert "serving on" not in caplog.text


def test_a_host_that_does_not_resolve_is_one_line() -> None:
    with pytest.raises(ConfigError, match="cannot listen on no-such-host.invalid:8080"):
        serve.run("sqlite:///x.db", host="no-such-host.invalid", port=8080, workers=1, threads=2)


def test_a_malformed_longest_hold_life_is_one_line_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Only the hold routes read it: unchecked, the server started and answered every hold
    request with a 500."""
    monkeypatch.setenv("RESBOOK_MAX_HOLD_MINUTES", "abc")
    monkeypatch.setattr(serve, "open_database", _no_workers)  # nothing gets that far
    with pytest.raises(ConfigError, match="RESBOOK_MAX_HOLD_MINUTES must be a whole number"):
        serve.run("sqlite:///x.db", host="127.0.0.1", port=0, workers=1, threads=2)
    assert "serving on" not in caplog.text
