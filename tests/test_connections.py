"""A thread that has ended leaves its connection to the next thread that needs one, on
PostgreSQL, instead of keeping it open unused (connections.py); SQLite lets it go."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from resbook_tui.db import open_database


def _in_a_thread(work: Callable[[], Any]) -> Any:
    """``work``'s answer, run in a thread of its own that has ended when this returns."""
    answer: list[Any] = []
    thread = threading.Thread(target=lambda: answer.append(work()))
    thread.start()
    thread.join()
    return answer[0]


def _close_all(db) -> None:  # noqa: ANN001
    """This thread's connection, and those ended threads left."""
    db.close()
    while (spare := db.resbook_connections.take_spare()) is not None:
        spare.close()


def _backend(db) -> int:  # noqa: ANN001
    return int(db.execute_sql("SELECT pg_backend_pid()").fetchone()[0])


@pytest.mark.postgres
def test_a_new_thread_takes_over_the_connection_of_an_ended_one(pg_url):
    db = open_database(pg_url, connect=False)
    try:
        first = _in_a_thread(lambda: _backend(db))
        second = _in_a_thread(lambda: _backend(db))
        assert second == first
        assert len(db.resbook_connections.threads()) == 1  # not one a thread
    finally:
        _close_all(db)


@pytest.mark.postgres
def test_a_taken_over_connection_gets_the_session_settings_again(pg_url):
    db = open_database(pg_url, connect=False)
    sql = "SELECT pg_backend_pid(), setting FROM pg_settings WHERE name = 'lock_timeout'"

    def unset() -> int:
        db.execute_sql("SET lock_timeout = 0")
        return _backend(db)

    try:
        first = _in_a_thread(unset)
        pid, lock_timeout = _in_a_thread(lambda: db.execute_sql(sql).fetchone())
        assert pid == first
        assert int(lock_timeout) == db.resbook_settings.lock_timeout_ms > 0  # in ms
    finally:
        _close_all(db)


@pytest.mark.postgres
def test_a_connection_the_server_dropped_is_not_taken_over(pg_url):
    db = open_database(pg_url, connect=False)
    admin = open_database(pg_url)  # of its own: this thread would take the spare over
    try:
        dropped = _in_a_thread(lambda: _backend(db))
        assert admin.execute_sql("SELECT pg_terminate_backend(%s)", (dropped,)).fetchone()[0]
        gone = "SELECT count(*) FROM pg_stat_activity WHERE pid = %s"
        deadline = time.monotonic() + 10
        while admin.execute_sql(gone, (dropped,)).fetchone()[0]:  # until it has exited
            assert time.monotonic() < deadline, "the terminated backend did not exit"
            time.sleep(0.01)  # polling the condition, not standing in for it
        fresh = _in_a_thread(lambda: _backend(db))
        assert fresh != dropped  # and the thread's call did not fail
    finally:
        _close_all(db)
        admin.close()


@pytest.mark.postgres
def test_a_connection_left_inside_a_transaction_is_closed_not_taken_over(pg_url):
    db = open_database(pg_url, connect=False)

    def left_open() -> tuple[int, Any]:
        # A raw BEGIN and no end: what no resbook code does, but a thread could die so.
        pid = _backend(db)
        db.connection().cursor().execute("BEGIN; SELECT 1")
        return pid, db.connection()

    try:
        abandoned, conn = _in_a_thread(left_open)
        assert _in_a_thread(lambda: _backend(db)) != abandoned
        assert conn.closed  # not left open either
    finally:
        _close_all(db)


@pytest.mark.postgres
def test_threads_running_at_once_each_have_their_own_connection(pg_url):
    db = open_database(pg_url, connect=False)
    both_in = threading.Barrier(2)
    pids: list[int] = []

    def busy() -> None:
        pids.append(_backend(db))
        both_in.wait(timeout=30)  # neither thread ends before the other has connected

    try:
        threads = [threading.Thread(target=busy) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(pids)) == 2
        # Two ended threads, two spare connections: a third thread takes one of them.
        assert _in_a_thread(lambda: _backend(db)) in pids
    finally:
        _close_all(db)


@pytest.mark.postgres
def test_a_taken_over_connection_holds_no_lock_of_its_ended_thread(pg_url):
    db = open_database(pg_url, connect=False)
    admin = open_database(pg_url)
    held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = %s"

    def lock_and_end() -> int:
        db.execute_sql("SELECT pg_advisory_lock(4242)")  # a session lock, never unlocked
        return _backend(db)

    try:
        ended = _in_a_thread(lock_and_end)
        assert admin.execute_sql(held, (ended,)).fetchone()[0] == 1
        assert _in_a_thread(lambda: _backend(db)) == ended
        assert admin.execute_sql(held, (ended,)).fetchone()[0] == 0
    finally:
        _close_all(db)
        admin.close()


@pytest.mark.postgres
def test_connections_find_out_a_peer_that_vanished(pg_url):
    """TCP keepalives and a 10 s limit on unacknowledged writes, unless the URL says."""
    db = open_database(pg_url)
    own = open_database(f"{pg_url}{'&' if '?' in pg_url else '?'}tcp_user_timeout=2500")
    try:
        params = db.connection().get_dsn_parameters()
        assert params["tcp_user_timeout"] == "10000"
        assert (params["keepalives_idle"], params["keepalives_count"]) == ("60", "3")
        assert own.connection().get_dsn_parameters()["tcp_user_timeout"] == "2500"
    finally:
        db.close()
        own.close()


def test_sqlite_lets_the_connection_of_an_ended_thread_go(sqlite_url):
    db = open_database(sqlite_url, connect=False)
    ended = _in_a_thread(lambda: (db.execute_sql("SELECT 1"), threading.get_ident())[1])
    assert ended in db.resbook_connections.threads()
    db.connect()  # this thread's own connection: the ended thread's is forgotten
    try:
        assert db.resbook_connections.threads() == {threading.get_ident()}
    finally:
        _close_all(db)
