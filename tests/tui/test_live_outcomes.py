"""Changes whose connection broke in flight (committed or not, never a guess), the
listener's backoff, a cut network (a TCP proxy), the skew-corrected clock, and the CLI's
one line when its connection is lost.

Connection trouble is simulated by a Booking whose call fails the way a dropped
connection makes it fail: before the change reached the database, or after it committed
(the reply lost). Synchronisation is on app state and threading events, never a sleep.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
from test_live import SIZE, statuses, terminate_resbook_backends, until
from tui_helpers import asynctest, record_notifications, settle

from conftest import FixedBooking, make_booking
from resbook_tui import dialects
from resbook_tui.booking import Booking
from resbook_tui.db import open_database
from resbook_tui.dialects.prepared import statement_name
from resbook_tui.errors import DatabaseError
from resbook_tui.schema.migrations import Migrator
from resbook_tui.seed import SeedPlan, seed
from resbook_tui.tui import ResbookApp, live
from resbook_tui.tui.modals import FormModal
from resbook_tui.tui.screens.day import DayScreen
from resbook_tui.tui.screens.holds import HoldsScreen
from resbook_tui.tui.widgets.keyed_table import KeyedTable
from resbook_tui.tui.widgets.status_bar import StatusBar

LOST = "database error on postgresql: server closed the connection unexpectedly"


class FlakyBooking(FixedBooking):
    """Fails one named method as a dropped connection would: ``before`` the change is
    sent, or ``after`` it committed (the reply never arrived)."""

    fail: dict[str, str]

    def _flaky(self, name: str, call):  # noqa: ANN001, ANN202
        when = self.fail.pop(name, None)
        if when == "before":
            raise DatabaseError(LOST)
        result = call()
        if when == "after":
            raise DatabaseError(LOST)
        return result

    def release_hold(self, hold_id):  # noqa: ANN001, ANN201
        return self._flaky("release_hold", lambda: super(FlakyBooking, self).release_hold(hold_id))

    def create_hold(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return self._flaky(
            "create_hold", lambda: super(FlakyBooking, self).create_hold(*args, **kwargs)
        )

    def events(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return self._flaky("events", lambda: super(FlakyBooking, self).events(*args, **kwargs))


def flaky(world_url: str, **fail: str) -> FlakyBooking:
    bk = FlakyBooking(open_database(world_url), actor="dispatch")
    bk.fail = dict(fail)
    return bk


async def open_queue(pilot) -> HoldsScreen:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    assert isinstance(pilot.app.screen, HoldsScreen)
    return pilot.app.screen


@asynctest
async def test_a_release_whose_reply_was_lost_is_reported_as_committed(make_app, world_url):
    bk = flaky(world_url, release_hold="after")
    app = make_app(booking=bk)
    notes = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await open_queue(pilot)
        hold_id = int(app.screen.query_one("#holds", KeyedTable).cursor_key)
        await pilot.press("x", "y")
        await until(pilot, lambda: any(n.title == "Committed" for n in notes), "verdict")
        unknown = next(n for n in notes if n.title == "Outcome unknown")
        assert f"Release hold #{hold_id}" in unknown.message
        committed = next(n for n in notes if n.title == "Committed")
        assert f"Release hold #{hold_id}: committed (audit event #" in committed.message
        assert not any(n.title == "Did not commit" for n in notes)
        assert bk.get_hold(hold_id).status == "RELEASED"
        await settle(pilot)
        assert hold_id not in statuses(app)
    bk.close()


@asynctest
async def test_a_release_that_never_reached_the_database_is_reported_as_not_committed(
    make_app, world_url
):
    bk = flaky(world_url, release_hold="before")
    app = make_app(booking=bk)
    notes = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await open_queue(pilot)
        hold_id = int(app.screen.query_one("#holds", KeyedTable).cursor_key)
        await pilot.press("x", "y")
        await until(pilot, lambda: any(n.title == "Did not commit" for n in notes), "verdict")
        assert not any(n.title == "Committed" for n in notes)
        assert bk.get_hold(hold_id).status == "ACTIVE"
    bk.close()


@asynctest
async def test_a_change_not_even_sent_says_so_at_once(make_app, world_url):
    # The read before the change (newest event id) fails twice: the change is never sent.
    bk = flaky(world_url)
    app = make_app(booking=bk)
    notes = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await open_queue(pilot)
        hold_id = int(app.screen.query_one("#holds", KeyedTable).cursor_key)
        original = Booking.events

        def down(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            raise DatabaseError(LOST)

        bk.events = down.__get__(bk)  # type: ignore[method-assign]
        await pilot.press("x", "y")
        await until(pilot, lambda: any(n.title == "Did not commit" for n in notes), "verdict")
        bk.events = original.__get__(bk)  # type: ignore[method-assign]
        note = next(n for n in notes if n.title == "Did not commit")
        assert "not sent" in note.message
        assert not any(n.title == "Outcome unknown" for n in notes)
        assert bk.get_hold(hold_id).status == "ACTIVE"
    bk.close()


async def new_hold_form(pilot, quantity: str = "1") -> FormModal:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("enter")  # the day detail of the cursor's cell (Land Cruiser 01 today)
    await settle(pilot)
    assert isinstance(pilot.app.screen, DayScreen)
    await pilot.press("n")
    await pilot.pause()
    form = pilot.app.screen
    assert isinstance(form, FormModal)
    form.query_one("#field-quantity").value = quantity
    form.query_one("#field-email").value = "zoe@example.com"
    await pilot.pause()
    return form


@asynctest
async def test_a_new_hold_committed_in_flight_closes_its_form(make_app, world_url):
    bk = flaky(world_url, create_hold="after")
    app = make_app(booking=bk)
    notes = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await new_hold_form(pilot)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any(n.title == "Committed" for n in notes), "verdict")
        await settle(pilot)
        assert isinstance(app.screen, DayScreen)  # the form closed: it is done
        [hold] = bk.list_holds(email="zoe@example.com")
        assert hold.token.startswith("tui-")  # found by the TUI's own token
        assert "zoe@example.com" in [r[4] for r in _rows(app, "#day-holds")]
    bk.close()


@asynctest
async def test_a_new_hold_lost_in_flight_keeps_its_form_ready_to_send_again(make_app, world_url):
    bk = flaky(world_url, create_hold="before")
    app = make_app(booking=bk)
    notes = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        form = await new_hold_form(pilot)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any(n.title == "Did not commit" for n in notes), "verdict")
        await settle(pilot)
        assert app.screen is form and not form.working
        assert "did not commit" in str(form.query_one("#form-error").content)
        assert form.query_one("#field-email").value == "zoe@example.com"
        assert bk.list_holds(email="zoe@example.com") == []
        await pilot.press("ctrl+s")  # the connection is fine again: send it again
        await settle(pilot)
        assert isinstance(app.screen, DayScreen)
        assert [h.quantity for h in bk.list_holds(email="zoe@example.com")] == [1]
    bk.close()


def _rows(app, selector):  # noqa: ANN001, ANN202
    from tui_helpers import table_rows

    return table_rows(app, selector)


# ---- the listener on its own --------------------------------------------------------------


class FakeFeed:
    def ping(self) -> None:
        pass

    def wait(self, timeout: float) -> list:
        time.sleep(timeout)  # stands in for select() on the connection
        return []

    def close(self) -> None:
        pass


def test_the_listener_backs_off_doubling_then_reconnects(monkeypatch):
    monkeypatch.setattr(live, "FIRST_RETRY_S", 0.01)
    monkeypatch.setattr(live, "MAX_RETRY_S", 0.04)
    monkeypatch.setattr(live, "TICK_S", 0.01)
    t0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
    messages: list = []
    reports = threading.Event()
    up = threading.Event()
    down = [True]

    def post(message):  # noqa: ANN001, ANN202
        messages.append(message)
        if sum(isinstance(m, live.LinkLost) for m in messages) >= 5:
            reports.set()
        if isinstance(message, live.LinkUp):
            up.set()

    def open_feed(_url: str) -> FakeFeed:
        if down[0]:
            raise DatabaseError("cannot open postgresql://db: connection refused")
        return FakeFeed()

    listener = live.Listener("postgresql://db", post, lambda: t0, open_feed)
    listener.start()
    try:
        assert reports.wait(5)
        down[0] = False
        assert up.wait(5)
    finally:
        listener.stop()
    lost = [m for m in messages if isinstance(m, live.LinkLost)]
    waits = [(m.retry_at - t0).total_seconds() for m in lost[:5]]
    assert waits == [0.01, 0.02, 0.04, 0.04, 0.04]
    assert [m.first for m in lost[:2]] == [True, False]
    assert lost[0].error == "cannot open postgresql://db: connection refused"
    ups = [m for m in messages if isinstance(m, live.LinkUp)]
    assert ups[0].restored is True
    assert listener.losses == 1 and listener.subscriptions == 1
    assert not listener.running


# ---- a network cut: a TCP proxy between the TUI and PostgreSQL -----------------------------


class Proxy:
    """Forwards TCP to PostgreSQL until ``cut``: then every connection is closed and new
    ones are refused (closed at once) until ``restore``."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.open = True
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.open = False
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self.open = True

    def close(self) -> None:
        self.cut()
        self.server.close()


def through(url: str, proxy: Proxy) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = netloc[0] + "@" if len(netloc) == 2 else ""
    return urlunsplit(parts._replace(netloc=f"{userinfo}127.0.0.1:{proxy.port}"))


@pytest.mark.postgres
@asynctest
async def test_a_network_cut_retries_with_backoff_until_it_is_restored(pg_db, pg_url):
    seed(pg_db, SeedPlan(vehicles=2, days=5, capacity=5))
    direct = Booking.connect(pg_url, actor="shop")
    today = direct.today()
    first = direct.create_hold(1, today, 1, "first@example.com")
    parts = urlsplit(pg_url)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    bk = Booking.connect(through(pg_url, proxy), actor="dispatch")
    app = ResbookApp(bk, today=today)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await open_queue(pilot)
            proxy.cut()
            await until(pilot, lambda: app.link == "disconnected", "cut noticed")
            first_retry = app.retry_at
            # Attempts fail while the network is cut: the next attempt moves further out.
            await until(
                pilot,
                lambda: app.retry_at is not None and app.retry_at > first_retry,
                "a failed attempt reschedules",
            )
            bar = str(app.screen.query_one(StatusBar).render())
            assert f"retrying at {app.retry_at:%H:%M:%S}" in bar
            assert set(statuses(app)) == {first.id}  # the last data stays
            meanwhile = direct.create_hold(2, today, 1, "meanwhile@example.com")
            proxy.restore()
            app.retry_now()  # as `r` does; otherwise the next attempt is at retry_at
            await until(pilot, lambda: app.link == "connected", "reconnected after the cut")
            await until(
                pilot,
                lambda: set(statuses(app)) == {first.id, meanwhile.id},
                "data matches after the cut",
            )
            assert app.listener.losses == 1
    finally:
        proxy.close()
        bk.close()
        direct.close()


# ---- the clock ---------------------------------------------------------------------------------


@asynctest
async def test_countdowns_use_the_database_clock_not_a_skewed_local_one(sqlite_url):
    db = open_database(sqlite_url)
    Migrator(db).up()
    seed(db, SeedPlan(vehicles=1, days=3, capacity=5))
    db.close()
    bk = make_booking(sqlite_url)
    bk.create_hold(1, bk.today(), 1, "ana@example.com", ttl_minutes=30)
    # This laptop's clock is three minutes slow: uncorrected, 30 minutes would read 33:00.
    app = ResbookApp(
        bk,
        today=bk.today(),
        clock=lambda: datetime.now(UTC) - timedelta(minutes=3),
        correct_skew=True,
    )
    async with app.run_test(size=SIZE) as pilot:
        await open_queue(pilot)
        assert abs(app.clock_offset - timedelta(minutes=3)) < timedelta(seconds=5)
        table = app.screen.query_one("#holds", KeyedTable)
        left = str(table.render_line(1).text).split()[1]
        assert left.startswith(("29:", "30:00")), left
        assert abs(app.clock() - datetime.now(UTC)) < timedelta(seconds=5)
    bk.close()


# ---- the CLI -----------------------------------------------------------------------------------


@pytest.mark.postgres
def test_events_follow_exits_3_with_one_line_when_the_connection_is_lost(pg_db, pg_url):
    seed(pg_db, SeedPlan(vehicles=1, days=2, capacity=5))
    env = {**os.environ, "RESBOOK_DATABASE_URL": pg_url}
    # The feed's poll, as pg_stat_activity shows it: the EXECUTE of its prepared statement.
    dialect = dialects.of(pg_db)
    poll = f"EXECUTE {statement_name(dialect._newest_event.sql(pg_db, dialect)[0])}"
    admin = psycopg2.connect(pg_url.split("?")[0], application_name="resbook-test-admin")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT now()")
        (started,) = cur.fetchone()
    proc = subprocess.Popen(
        [sys.executable, "-m", "resbook_tui", "events", "--follow"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while True:  # until the follower's feed polls (probing the newest event id)
            with admin.cursor() as cur:
                # Only this database and sessions begun since the follower started: other
                # listeners on the shared server must not be taken for it.
                cur.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'resbook' "
                    "AND datname = current_database() AND backend_start >= %s "
                    "AND query = %s",
                    (started, poll),
                )
                if cur.fetchone()[0]:
                    break
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the follower never polled"
            time.sleep(0.05)  # polling another process: nothing to wait on
        terminate_resbook_backends(pg_url)
        _out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
        admin.close()
    assert proc.returncode == 3
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("resbook: error: "), err
    assert "Traceback" not in err
