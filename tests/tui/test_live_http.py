"""A hold placed over HTTP (a real `resbook serve` process, called from outside) shows in
an open TUI through the existing change feed, and so does its release."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from test_live import SIZE, statuses, until
from tui_helpers import asynctest, settle

from resbook_tui.booking import Booking
from resbook_tui.tui import ResbookApp
from serve_helpers import DEADLINE_S, start, stop, world


async def _follow_http(db_url: str) -> None:
    bk, first, tour, store, _ = world(db_url)
    process, url = start(db_url, threads=4)
    operator = Booking.connect(db_url, actor="dispatch")
    app = ResbookApp(operator, today=operator.today())
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("3")  # the hold queue
            await settle(pilot)
            body = {
                "email": "web@example.com",
                "lines": [
                    {"resource_id": tour, "date": first.isoformat(), "quantity": 2},
                    {"resource_id": 2, "date": first.isoformat(), "quantity": 1},
                ],
            }
            headers = {**store, "Idempotency-Key": "cart-http"}
            answer = await asyncio.to_thread(
                httpx.post, f"{url}/v1/holds", json=body, headers=headers, timeout=DEADLINE_S
            )
            assert answer.status_code == 201, answer.text
            ids = [h["id"] for h in answer.json()["holds"]]
            await until(
                pilot,
                lambda: all(statuses(app).get(i) == "ACTIVE" for i in ids),
                "HTTP hold shown in the TUI",
            )
            released = await asyncio.to_thread(
                httpx.delete, f"{url}/v1/holds/{answer.json()['id']}", headers=store
            )
            assert released.status_code == 200
            await until(
                pilot,
                lambda: all(statuses(app).get(i) == "RELEASED" for i in ids),
                "HTTP release shown in the TUI",
            )
    finally:
        stop(process)
        operator.close()
        bk.close()


@pytest.mark.postgres
@asynctest
async def test_a_hold_placed_over_http_shows_in_an_open_tui_on_postgresql(pg_url):
    await _follow_http(pg_url)


@asynctest
async def test_a_hold_placed_over_http_shows_in_an_open_tui_on_sqlite(sqlite_url):
    await _follow_http(sqlite_url)
