"""The shop's HTTP API in process (TestClient), on both dialects: store routes, auth,
idempotency, bundles, errors as problem+json."""

from __future__ import annotations

import logging
import threading
import uuid

import pytest

from booking_helpers import expire, units
from resbook_tui.booking.idempotency import Stored
from resbook_tui.db import raw_url
from serve_helpers import (
    PROBLEM,
    lock_cell,
    make_shop,
    problem,
    someone_waits_on_a_lock,
    wait_until,
)


@pytest.fixture
def shop(db):
    yield from make_shop(db)


def test_healthz_needs_no_key(shop):
    answer = shop.client.get("/healthz")
    assert answer.status_code == 200 and answer.json()["status"] == "ok"
    assert answer.headers["x-request-id"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}, {"Authorization": ""}],
)
def test_a_missing_or_unknown_key_is_401(shop, headers):
    doc = problem(shop.client.get("/v1/resources", headers=headers), 401, "unauthorized")
    assert "nope" not in doc["detail"]


def test_a_revoked_key_is_401_and_a_store_key_on_admin_is_403(shop):
    assert shop.client.get("/v1/resources", headers=shop.store).status_code == 200
    problem(shop.client.get("/v1/admin/events", headers=shop.store), 403, "forbidden")
    assert shop.client.get("/v1/resources", headers=shop.admin).status_code == 200
    [key] = [k for k in shop.bk.list_api_keys() if k.name == "shop"]
    shop.bk.revoke_api_key(key.id)
    problem(shop.client.get("/v1/resources", headers=shop.store), 401, "unauthorized")


def test_a_key_revoked_after_use_is_401_on_its_next_idempotent_request(shop):
    """The server remembers a key it has seen, and its idempotent routes do not read the
    key before the claim: the claim itself must refuse a revoked key, nothing changed."""
    first = shop.hold("k1", shop.line(shop.van, 0, 1))
    assert first.status_code == 201, first.text
    [key] = [k for k in shop.bk.list_api_keys() if k.name == "shop"]
    shop.bk.revoke_api_key(key.id)
    problem(shop.hold("k2", shop.line(shop.van, 0, 1)), 401, "unauthorized")
    problem(shop.hold("k1", shop.line(shop.van, 0, 1)), 401, "unauthorized")  # no replay
    path = f"/v1/holds/{first.json()['id']}"
    for answer in (
        shop.client.post(
            f"{path}/confirm",
            json={"order_id": "o-1"},
            headers={**shop.store, "Idempotency-Key": "c1"},
        ),
        shop.client.post(
            f"{path}/extend", json={"minutes": 5}, headers={**shop.store, "Idempotency-Key": "e1"}
        ),
        shop.client.get(path, headers=shop.store),
    ):
        problem(answer, 401, "unauthorized")
    assert units(shop.bk, shop.van, shop.first) == (5, 4, 1, 0)  # only the first hold
    assert shop.bk.get_bundle(first.json()["id"]).status == "ACTIVE"


def test_run_idempotent_refuses_a_revoked_key_and_commits_nothing(shop):
    """On PostgreSQL the effect's first statement goes out with the claim, so the effect
    may start; none of it may stay."""
    [key] = [k for k in shop.bk.list_api_keys() if k.name == "shop"]
    shop.bk.revoke_api_key(key.id)
    before = len(shop.bk.list_resources())
    outcome = shop.bk.run_idempotent(
        api_key_id=key.id,
        route="POST /x",
        key="k",
        request_hash="h",
        effect=lambda: shop.bk.add_resource("Boat", "VEHICLE"),
        answer=lambda _: Stored(201, "{}"),
        refusal=lambda _: None,
    )
    assert outcome.state == "revoked"
    assert len(shop.bk.list_resources()) == before


def test_resources_and_availability(shop):
    listed = shop.client.get("/v1/resources", headers=shop.store).json()["resources"]
    assert sorted(r["name"] for r in listed) == ["Guide", "Van"]
    only = shop.client.get("/v1/resources?type=GUIDE", headers=shop.store).json()["resources"]
    assert [r["name"] for r in only] == ["Guide"]
    shop.bk.add_blackout(shop.van, shop.day(2), None, "service")
    assert shop.hold("k", shop.line(shop.guide, 0, 2)).status_code == 201
    assert shop.hold("k2", shop.line(shop.van, 1, 4)).status_code == 201
    answer = shop.client.get(
        "/v1/availability",
        params={"from": shop.day(0), "to": shop.day(11), "resource_id": [shop.van, shop.guide]},
        headers=shop.store,
    )
    assert answer.status_code == 200, answer.text
    by_id = {r["resource_id"]: r for r in answer.json()["resources"]}
    guide, van = by_id[shop.guide]["days"], by_id[shop.van]["days"]
    assert len(van) == 12
    assert guide[0] == {
        "date": shop.day(0),
        "max": 2,
        "available": 0,
        "held": 2,
        "allocated": 0,
        "blackout": None,
        "status": "SOLD_OUT",
    }
    assert van[0]["status"] == "AVAILABLE" and van[1]["status"] == "LIMITED"
    assert van[2]["status"] == "CLOSED" and van[2]["blackout"] == "service"
    assert van[11]["status"] == "CLOSED" and van[11]["max"] == 0  # no capacity set


def test_availability_of_an_unknown_or_inactive_resource_is_404(shop):
    url = f"/v1/availability?from={shop.day(0)}&resource_id={shop.van}&resource_id="
    problem(shop.client.get(f"{url}99999", headers=shop.store), 404, "not_found")
    shop.bk.deactivate(shop.guide)
    problem(shop.client.get(f"{url}{shop.guide}", headers=shop.store), 404, "not_found")
    other_type = shop.client.get(f"{url}{shop.van}&type=GUIDE", headers=shop.store)
    assert other_type.status_code == 200 and other_type.json()["resources"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-01-01", "to": "2027-01-02"},  # 367 days
        {"from": "tomorrow"},
        {"from": "2026-02-30"},
        {"from": "2026-01-02", "to": "2026-01-01"},
        {"from": "2026-01-01", "resource_id": "x"},
        {"from": "2026-01-01", "resource_id": str(2**64)},
        {"from": "2026-01-01", "type": "BOAT"},
        {},
    ],
)
def test_bad_availability_queries_are_400(shop, params):
    problem(
        shop.client.get("/v1/availability", params=params, headers=shop.store), 400, "invalid_input"
    )


def test_create_get_and_the_link_header(shop):
    answer = shop.hold("cart-1", shop.line(shop.van, 0, 2, to=1), shop.line(shop.guide, 0, 1))
    assert answer.status_code == 201, answer.text
    doc = answer.json()
    assert answer.headers["location"] == f"/v1/holds/{doc['id']}"
    assert doc["status"] == "ACTIVE" and doc["email"] == "ana@example.com"
    assert doc["expires_at"].endswith("Z")
    assert [(h["resource_id"], h["date"], h["quantity"]) for h in doc["holds"]] == [
        (shop.van, shop.day(0), 2),
        (shop.van, shop.day(1), 2),
        (shop.guide, shop.day(0), 1),
    ]
    again = shop.client.get(answer.headers["location"], headers=shop.store)
    assert again.status_code == 200 and again.json() == doc


@pytest.mark.parametrize("raw", ["😀-1".encode(), "é".encode(), b"cart\x7f"])
def test_an_idempotency_key_is_printable_ascii(shop, raw):
    """Header bytes arrive as latin-1 text: UTF-8 was refused for the C1 "control
    characters" in its bytes (😀), or stored as other characters (é)."""
    body = {"email": "ana@example.com", "lines": [shop.line(shop.van, 0, 1)]}
    headers = [*[(k.encode(), v.encode()) for k, v in shop.store.items()]]
    answer = shop.client.post("/v1/holds", json=body, headers=[*headers, (b"Idempotency-Key", raw)])
    [error] = problem(answer, 400, "invalid_input")["errors"]
    assert error["name"] == "Idempotency-Key" and "printable ASCII" in error["reason"]
    assert units(shop.bk, shop.van, shop.first) == (5, 5, 0, 0)


def test_replay_conflict_and_a_missing_key(shop):
    first = shop.hold("cart-7", shop.line(shop.van, 0, 2))
    replay = shop.hold("cart-7", shop.line(shop.van, 0, 2))
    assert replay.status_code == 201 and replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.headers["location"] == first.headers["location"]
    assert "idempotent-replayed" not in first.headers
    assert units(shop.bk, shop.van, shop.first) == (5, 3, 2, 0)  # taken once
    problem(shop.hold("cart-7", shop.line(shop.van, 0, 3)), 422, "idempotency_key_reused")
    body = {"email": "ana@example.com", "lines": [shop.line(shop.van, 0, 1)]}
    missing = shop.client.post("/v1/holds", json=body, headers=shop.store)
    problem(missing, 400, "idempotency_key_missing")
    # Keys are per API key: the admin key's "cart-7" is a request of its own.
    other = shop.client.post(
        "/v1/holds", json=body, headers={**shop.admin, "Idempotency-Key": "cart-7"}
    )
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


@pytest.fixture
def pg_shop(pg_db):
    yield from make_shop(pg_db)


@pytest.mark.postgres
def test_a_request_in_flight_is_409_with_retry_after(pg_shop):
    """The first request waits on a cell another session has locked; the same key again
    meanwhile is 409 with Retry-After; once the first is done, it replays. (PostgreSQL:
    SQLite runs one writer at a time, so there a second request waits, then replays.)"""
    shop = pg_shop
    holder = lock_cell(raw_url(shop.bk.db), shop.van, shop.day(0))
    first: list = []
    asker = threading.Thread(
        target=lambda: first.append(shop.hold("cart-9", shop.line(shop.van, 0, 1)))
    )
    asker.start()
    try:
        wait_until(
            lambda: someone_waits_on_a_lock(raw_url(shop.bk.db)),
            "the first request waiting on the lock",
        )
        answer = shop.hold("cart-9", shop.line(shop.van, 0, 1))
        problem(answer, 409, "idempotency_request_in_progress")
        assert answer.headers["retry-after"] == "1"
    finally:
        holder.rollback()
        holder.close()
    asker.join(30)
    assert first[0].status_code == 201, first[0].text
    again = shop.hold("cart-9", shop.line(shop.van, 0, 1))
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first[0].json()


def test_bundles_are_all_or_nothing_with_shortfalls(shop):
    answer = shop.hold("b1", shop.line(shop.van, 0, 1), shop.line(shop.guide, 0, 3, to=1))
    doc = problem(answer, 409, "insufficient_capacity")
    assert doc["shortfalls"] == [
        {"resource_id": shop.guide, "date": shop.day(0), "requested": 3, "available": 2},
        {"resource_id": shop.guide, "date": shop.day(1), "requested": 3, "available": 2},
    ]
    assert units(shop.bk, shop.van, shop.first) == (5, 5, 0, 0)


def test_a_conflict_is_not_stored_and_the_same_key_gets_past_it_later(shop):
    """409s are not stored (as pretix): capacity may free up for the very same request."""
    lines = (shop.line(shop.van, 0, 1), shop.line(shop.guide, 0, 3))
    problem(shop.hold("r1", *lines), 409, "insufficient_capacity")
    again = shop.hold("r1", *lines)
    problem(again, 409, "insufficient_capacity")
    assert "idempotent-replayed" not in again.headers  # it ran again
    shop.bk.set_capacity(shop.guide, shop.day(0), None, 3)
    made = shop.hold("r1", *lines)
    assert made.status_code == 201 and "idempotent-replayed" not in made.headers
    replay = shop.hold("r1", *lines)
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == made.json()


def test_bad_input_is_not_stored_and_the_corrected_request_takes_the_key(shop):
    """As Stripe: nothing is saved when validation fails, so a shop using the cart id as
    the key can correct the cart and send it again."""
    problem(
        shop.hold("cart-9", shop.line(shop.van, 0, 1), email="not-an-email"), 400, "invalid_input"
    )
    fixed = shop.hold("cart-9", shop.line(shop.van, 0, 1))
    assert fixed.status_code == 201 and "idempotent-replayed" not in fixed.headers


def test_an_unknown_resource_is_stored_and_replayed(shop):
    problem(shop.hold("x9", shop.line(99999, 0, 1)), 404, "not_found")
    replay = shop.hold("x9", shop.line(99999, 0, 1))
    problem(replay, 404, "not_found")
    assert replay.headers["idempotent-replayed"] == "true"


def test_lines_on_one_cell_are_summed(shop):
    doc = problem(
        shop.hold("s1", shop.line(shop.guide, 0, 1), shop.line(shop.guide, 0, 2)),
        409,
        "insufficient_capacity",
    )
    assert doc["shortfalls"][0]["requested"] == 3
    ok = shop.hold("s2", shop.line(shop.guide, 0, 1), shop.line(shop.guide, 0, 1))
    assert [h["quantity"] for h in ok.json()["holds"]] == [2]


def test_blackout_and_unknown_resource(shop):
    shop.bk.add_blackout(shop.guide, shop.day(3), None, "leave")
    problem(shop.hold("x1", shop.line(shop.guide, 3, 1)), 409, "blacked_out")
    problem(shop.hold("x2", shop.line(99999, 0, 1)), 404, "not_found")
    problem(
        shop.hold("x3", {"resource_id": shop.van, "date": "2000-01-01", "quantity": 1}),
        400,
        "invalid_input",
    )


@pytest.mark.parametrize("spelling", ["0{id}", "%30{id}", "00{id}"])  # "+{id}": a 400 now
def test_an_idempotency_key_names_the_hold_however_its_id_is_spelled(shop, spelling):
    """The key's scope is the route with its id as parsed: another spelling of the same id
    replays, rather than running the extend again past the first answer."""
    made = shop.hold("s1", shop.line(shop.van, 0, 1), ttl_minutes=15).json()
    key = {**shop.store, "Idempotency-Key": "e-once"}
    first = shop.client.post(f"/v1/holds/{made['id']}/extend", json={"minutes": 30}, headers=key)
    assert first.status_code == 200, first.text
    path = "/v1/holds/" + spelling.format(id=made["id"]) + "/extend"
    again = shop.client.post(path, json={"minutes": 30}, headers=key)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["expires_at"] == first.json()["expires_at"]


def test_extend_confirm_and_release(shop):
    made = shop.hold("c1", shop.line(shop.van, 0, 2), shop.line(shop.guide, 0, 1)).json()
    url = f"/v1/holds/{made['id']}"
    longer = shop.client.post(f"{url}/extend", json={"minutes": 30}, headers=shop.store)
    assert longer.status_code == 200 and longer.json()["expires_at"] > made["expires_at"]
    past = shop.client.post(f"{url}/extend", json={"minutes": 61}, headers=shop.store)
    problem(past, 409, "hold_life_exceeded")
    confirm = {"order_id": "order_1"}
    key = {**shop.store, "Idempotency-Key": "order_1"}
    done = shop.client.post(f"{url}/confirm", json=confirm, headers=key)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "CONFIRMED" and len(done.json()["allocations"]) == 2
    again = shop.client.post(f"{url}/confirm", json=confirm, headers=key)
    assert again.json() == done.json() and again.headers["idempotent-replayed"] == "true"
    other = shop.client.post(
        f"{url}/confirm", json=confirm, headers={**shop.store, "Idempotency-Key": "o2"}
    )
    problem(other, 409, "hold_not_active")
    problem(shop.client.delete(url, headers=shop.store), 409, "hold_not_active")
    assert units(shop.bk, shop.van, shop.first) == (5, 3, 0, 2)


def test_release_twice_is_a_success_and_expired_is_not_active(shop):
    made = shop.hold("r1", shop.line(shop.van, 0, 2)).json()
    url = f"/v1/holds/{made['id']}"
    first = shop.client.delete(url, headers=shop.store)
    second = shop.client.delete(url, headers=shop.store)
    assert first.status_code == second.status_code == 200
    assert second.json()["status"] == "RELEASED"
    assert units(shop.bk, shop.van, shop.first) == (5, 5, 0, 0)
    gone = shop.hold("r2", shop.line(shop.van, 0, 1)).json()
    expire(shop.bk, gone["holds"][0]["id"])
    url = f"/v1/holds/{gone['id']}"
    assert shop.client.get(url, headers=shop.store).json()["status"] == "EXPIRED"
    confirm = {**shop.store, "Idempotency-Key": "late"}
    problem(
        shop.client.post(f"{url}/confirm", json={"order_id": "o"}, headers=confirm),
        409,
        "hold_not_active",
    )
    problem(
        shop.client.post(f"{url}/extend", json={"minutes": 5}, headers=shop.store),
        409,
        "hold_not_active",
    )
    assert shop.client.delete(url, headers=shop.store).status_code == 200


@pytest.mark.parametrize("path", ["/v1/holds/424242", "/v1/holds/9223372036854775807"])
def test_unknown_ids_are_404(shop, path):
    problem(shop.client.get(path, headers=shop.store), 404, "not_found")
    problem(shop.client.delete(path, headers=shop.store), 404, "not_found")
    problem(
        shop.client.post(f"{path}/extend", json={"minutes": 5}, headers=shop.store),
        404,
        "not_found",
    )
    key = {**shop.store, "Idempotency-Key": "k"}
    problem(
        shop.client.post(f"{path}/confirm", json={"order_id": "o"}, headers=key), 404, "not_found"
    )


BAD_BODIES = [
    {"email": "a\x1b[31m@x.io", "lines": [{"resource_id": 1, "date": "2030-01-01", "quantity": 1}]},
    {"email": "a@x.io", "lines": []},
    {"email": "a@x.io", "lines": [{"resource_id": 2**64, "date": "2030-01-01", "quantity": 1}]},
    {"email": "a@x.io", "lines": [{"resource_id": 1, "date": "2030-01-01", "quantity": 2**40}]},
    {"email": "a@x.io", "lines": [{"resource_id": 1, "date": "2030-01-01", "quantity": 0}]},
    {"email": "a@x.io", "lines": [{"resource_id": "1", "date": "2030-01-01", "quantity": 1}]},
    {"email": "a@x.io", "lines": [{"resource_id": 1, "date": "2030-13-01", "quantity": 1}]},
    {"email": "a@x.io", "lines": [{"resource_id": 1, "date": 20300101, "quantity": 1}]},
    {"email": "a@x.io", "lines": [{"resource_id": 1, "date": "2030-01-01T00:00", "quantity": 1}]},
    {
        "email": "a@x.io",
        "lines": [{"resource_id": 1, "date": "2030-01-02", "to": "2030-01-01", "quantity": 1}],
    },
    {
        "email": "a@x.io",
        "lines": [{"resource_id": 1, "date": "2030-01-01", "to": "2032-01-01", "quantity": 1}],
    },
    {
        "email": "a@x.io",
        "ttl_minutes": 121,
        "lines": [{"resource_id": 1, "date": "2030-01-01", "quantity": 1}],
    },
    {"email": "not-an-email", "lines": [{"resource_id": 1, "date": "2030-01-01", "quantity": 1}]},
    {"email": "a@x.io", "lines": [{"resource_id": 1, "date": "2030-01-01", "quantity": 1}], "x": 1},
    {"email": ["a@x.io"], "lines": "all"},
    [],
    "text",
    None,
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_hold_bodies_are_400_and_change_nothing(shop, body):
    before = shop.bk.events(limit=None)
    answer = shop.client.post(
        "/v1/holds", json=body, headers={**shop.store, "Idempotency-Key": "bad"}
    )
    doc = problem(answer, 400, "invalid_input")
    assert "\x1b" not in answer.text
    if "errors" in doc:
        assert all(set(e) == {"name", "reason"} for e in doc["errors"])
    assert shop.bk.events(limit=None) == before


def test_validation_errors_name_the_field(shop):
    body = {"email": "a@x.io", "lines": [{"resource_id": 1, "date": "2030-01-01", "quantity": 0}]}
    answer = shop.client.post(
        "/v1/holds", json=body, headers={**shop.store, "Idempotency-Key": "v"}
    )
    assert problem(answer, 400, "invalid_input")["errors"][0]["name"] == "lines[0].quantity"


def test_not_json_unknown_routes_and_methods(shop):
    raw = shop.client.post(
        "/v1/holds",
        content=b"\xff\xfe{",
        headers={**shop.store, "Idempotency-Key": "j", "Content-Type": "application/json"},
    )
    problem(raw, 400, "invalid_input")
    problem(shop.client.get("/v1/nothing", headers=shop.store), 404, "not_found")
    problem(shop.client.put("/v1/holds", headers=shop.store), 405, "method_not_allowed")
    big = shop.client.post(
        "/v1/holds",
        content=b"{" + b" " * (1 << 21) + b"}",
        headers={**shop.store, "Idempotency-Key": "big", "Content-Type": "application/json"},
    )
    problem(big, 400, "invalid_input")
    assert big.headers["content-type"] == PROBLEM


def test_openapi_links_the_hold_to_its_next_steps(shop):
    schema = shop.client.get("/openapi.json").json()
    links = schema["paths"]["/v1/holds"]["post"]["responses"]["201"]["links"]
    assert {link["operationId"] for link in links.values()} == {
        "get_hold",
        "extend_hold",
        "confirm_hold",
        "release_hold",
    }
    assert "422" not in schema["paths"]["/v1/holds/{hold_id}"]["get"]["responses"]
    created = schema["paths"]["/v1/holds"]["post"]["responses"]["201"]["headers"]
    assert set(created) == {"Location", "Idempotent-Replayed"}
    for step in ("extend", "confirm"):
        answered = schema["paths"][f"/v1/holds/{{hold_id}}/{step}"]["post"]["responses"]["200"]
        assert set(answered["headers"]) == {"Idempotent-Replayed"}
    # A stored 404 is replayed with the header too (test_an_unknown_resource_is_stored...).
    for path in ("/v1/holds", "/v1/holds/{hold_id}/extend", "/v1/holds/{hold_id}/confirm"):
        unknown = schema["paths"][path]["post"]["responses"]["404"]
        assert set(unknown["headers"]) == {"Idempotent-Replayed"}
    assert shop.client.get("/docs").status_code == 200


def test_http_holds_are_audited_under_the_key(shop):
    made = shop.hold("a1", shop.line(shop.van, 0, 1)).json()
    [event] = shop.bk.events(action="hold.create")
    assert event.actor.startswith("api:") and event.actor.endswith(":shop")
    assert event.details["bundle_id"] == made["id"]


def test_auth_comes_before_the_body(shop):
    problem(shop.client.post("/v1/holds", json={"x": 1}), 401, "unauthorized")
    problem(shop.client.post("/v1/admin/sweep", content=b"{bad"), 401, "unauthorized")


def test_a_bad_key_hears_of_its_key_not_of_its_request(shop):
    """An unknown or revoked key is 401, and a store key on an admin route 403, whatever
    is wrong with the request besides: nobody learns the input rules without a key."""
    unknown = {"Authorization": "Bearer rbk_nope"}
    problem(shop.client.put("/v1/admin/capacity", json={}, headers=unknown), 401, "unauthorized")
    problem(shop.client.put("/v1/admin/capacity", json={}, headers=shop.store), 403, "forbidden")
    no_key = shop.client.post("/v1/admin/sweep", json={}, headers=shop.store)
    problem(no_key, 403, "forbidden")  # and no Idempotency-Key either
    bad_date = shop.client.get("/v1/availability?from=someday", headers=unknown)
    problem(bad_date, 401, "unauthorized")
    assert shop.hold("k1", shop.line(shop.van, 0, 1)).status_code == 201  # now remembered
    [key] = [k for k in shop.bk.list_api_keys() if k.name == "shop"]
    shop.bk.revoke_api_key(key.id)
    missing = shop.client.post("/v1/holds", json={"email": "a@example.com"}, headers=shop.store)
    problem(missing, 401, "unauthorized")
    bad_email = shop.hold("k2", shop.line(shop.van, 0, 1), email="not-an-email")
    problem(bad_email, 401, "unauthorized")  # refused in the engine, after the memory
    problem(
        shop.client.put("/v1/admin/capacity", json={}, headers=shop.admin), 400, "invalid_input"
    )


def test_an_empty_type_filter_means_any(shop):
    answer = shop.client.get(
        f"/v1/availability?resource_id={shop.van}&type=&from={shop.day(0)}", headers=shop.store
    )
    assert answer.status_code == 200 and len(answer.json()["resources"]) == 1
    assert len(shop.client.get("/v1/resources?type=", headers=shop.store).json()["resources"]) == 2


def test_validation_reasons_speak_plainly(shop):
    headers = {**shop.store, "Idempotency-Key": "p1"}
    unread = shop.client.post("/v1/holds", content=b'{"email": "a@example.com"}', headers=headers)
    doc = problem(unread, 400, "invalid_input")
    assert doc["errors"] == [
        {"name": "body", "reason": "send a JSON object with Content-Type: application/json"}
    ]
    bad_day = shop.client.get("/v1/availability?from=someday", headers=shop.store)
    [error] = problem(bad_day, 400, "invalid_input")["errors"]
    assert error == {"name": "from", "reason": "must be a date as YYYY-MM-DD"}
    no_such_day = shop.hold("p2", {"resource_id": shop.van, "date": "2026-02-30", "quantity": 1})
    [error] = problem(no_such_day, 400, "invalid_input")["errors"]
    assert error == {"name": "lines[0].date", "reason": "2026-02-30 is not a date (YYYY-MM-DD)"}


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"ttl_minutes": 121}, "ttl_minutes"),
        (
            {
                "lines": [
                    {"resource_id": 1, "date": "2099-01-01", "quantity": 1},
                    {"resource_id": 1, "date": "2000-01-01", "quantity": 1},
                ]
            },
            "lines[1].date",
        ),
        (
            {
                "lines": [
                    {"resource_id": 1, "date": "2099-01-02", "to": "2099-01-01", "quantity": 1}
                ]
            },
            "lines[0].to",
        ),
        (
            {"lines": [{"resource_id": 1, "date": "2099-01-01", "quantity": 2**31 - 1}] * 2},
            "lines[1].quantity",
        ),
    ],
)
def test_every_invalid_input_names_its_field(shop, change, name):
    """The rules the engine checks (not only the schema's) name the field at fault too."""
    body = {"email": "ana@example.com", "lines": [shop.line(shop.van, 0, 1)], **change}
    headers = {**shop.store, "Idempotency-Key": f"f-{name}"}
    doc = problem(shop.client.post("/v1/holds", json=body, headers=headers), 400, "invalid_input")
    assert [e["name"] for e in doc["errors"]] == [name]
    assert doc["errors"][0]["reason"] == doc["detail"]


def test_a_replay_logs_no_database_warning(shop, caplog):
    """The claim that finds a record fails the effect's next statement; that failure is
    how a replay is found, not a database outage to log."""
    for _ in range(2):
        assert shop.hold("w1", shop.line(shop.van, 0, 1)).status_code == 201
    assert shop.hold("w1", shop.line(shop.van, 0, 2)).status_code == 422
    assert "unavailable" not in caplog.text.replace("_", " "), caplog.text


def test_a_request_id_that_may_hold_a_secret_is_neither_echoed_nor_logged(shop, caplog):
    caplog.set_level(logging.INFO, logger="resbook.serve")
    secret = shop.store["Authorization"].removeprefix("Bearer ")
    body = secret.removeprefix("rbk_")
    # Caught by a run of over 32 key characters (the key, 40 of its characters), by rbk_
    # in any case, by 16 characters of the request's credential (a run of 20).
    pieces = (secret, f"req-{body}", body[:40], secret[:10].upper(), f"x.{body[3:23]}")
    for given in pieces:
        echoed = shop.client.get("/v1/resources", headers={**shop.store, "X-Request-Id": given})
        assert echoed.status_code == 200 and echoed.headers["x-request-id"] != given, given
    # A bad credential the caller also sent as its request id is not echoed either.
    wrong = {"Authorization": "Bearer garbage-secret-123", "X-Request-Id": "garbage-secret-123"}
    refused = shop.client.get("/v1/resources", headers=wrong)
    assert refused.status_code == 401 and refused.headers["x-request-id"] != "garbage-secret-123"
    assert caplog.text.count("GET /v1/resources 200") == len(pieces)  # the lines are there...
    assert body[:20] not in caplog.text and "garbage-secret" not in caplog.text  # ...not it
    for kept in ("req-42", str(uuid.uuid4()), uuid.uuid4().hex, "trace.2026-12-02.000017"):
        echoed = shop.client.get("/v1/resources", headers={**shop.store, "X-Request-Id": kept})
        assert echoed.headers["x-request-id"] == kept


def test_protocol_odds_and_ends(shop):
    slash = shop.client.get("/v1/resources/", headers={**shop.store, "Host": "evil.example"})
    problem(slash, 404, "not_found")  # not a redirect to the Host a caller sent
    wrong = shop.client.put("/v1/resources", headers=shop.store)
    assert problem(wrong, 405, "method_not_allowed") and wrong.headers["allow"] == "GET"
    secret = shop.store["Authorization"].removeprefix("Bearer ")
    echoed = shop.client.get("/v1/resources", headers={**shop.store, "X-Request-Id": secret})
    assert echoed.headers["x-request-id"] != secret  # an API key is no request id
    kept = shop.client.get("/v1/resources", headers={**shop.store, "X-Request-Id": "req-42"})
    assert kept.headers["x-request-id"] == "req-42"
    keyless = shop.client.post("/admin-nothing", json={})  # no route: 404 stays
    problem(keyless, 404, "not_found")
    no_header = shop.client.put("/v1/admin/capacity", json={})
    assert "send Authorization" in problem(no_header, 401, "unauthorized")["detail"]


def test_a_query_parameter_given_twice_is_invalid_unless_it_is_a_list(shop):
    twice = f"/v1/availability?from={shop.day(0)}&from={shop.day(5)}"
    [error] = problem(shop.client.get(twice, headers=shop.store), 400, "invalid_input")["errors"]
    assert error == {"name": "from", "reason": "given more than once"}
    unknown = {"Authorization": "Bearer rbk_nope"}
    problem(shop.client.get(twice, headers=unknown), 401, "unauthorized")  # the key first
    limits = "/v1/admin/events?limit=2&limit=1000"
    problem(shop.client.get(limits, headers=shop.admin), 400, "invalid_input")
    filters = f"/v1/admin/blackouts?resource_id={shop.van}&resource_id={shop.van}"
    problem(shop.client.get(filters, headers=shop.admin), 400, "invalid_input")  # one here
    ids = f"/v1/availability?from={shop.day(0)}&resource_id={shop.van}&resource_id={shop.van}"
    assert shop.client.get(ids, headers=shop.store).status_code == 200  # a list: repeatable


@pytest.mark.parametrize("name", ["Idempotency-Key", "Authorization"])
def test_a_header_read_as_one_value_given_twice_is_invalid_and_changes_nothing(shop, name):
    """Starlette would take the first silently; a hold placed under a key the caller did
    not mean to send, or by a key it did not mean to use, is worse than a 400."""
    given = [*shop.store.items(), ("Idempotency-Key", "k1")]
    given.append((name, shop.store["Authorization"] if name == "Authorization" else "k2"))
    body = {"email": "ana@example.com", "lines": [shop.line(shop.van, 0, 1)]}
    answer = shop.client.post("/v1/holds", json=body, headers=given)
    [error] = problem(answer, 400, "invalid_input")["errors"]
    assert error == {"name": name, "reason": "given more than once"}
    assert units(shop.bk, shop.van, shop.first) == (5, 5, 0, 0)


def test_every_log_line_names_its_route_and_never_a_raw_path(shop, caplog):
    """The docs' own routes name their route too (they said "(no route)"), as a wrong
    method does; a path no route has is not written out, nor is that of a body refused
    before routing."""
    caplog.set_level(logging.INFO, logger="resbook.serve")
    assert shop.client.get("/openapi.json").status_code == 200
    assert shop.client.get("/docs").status_code == 200
    big = {**shop.store, "Idempotency-Key": "big", "Content-Length": str(2**21)}
    assert shop.client.post("/v1/holds", content=b"{}", headers=big).status_code == 400
    assert shop.client.put("/v1/resources", headers=shop.store).status_code == 405
    assert shop.client.get("/v1/no-such-thing-typed-by-anyone").status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "resbook.serve"]
    starts = [line.rsplit(" ", 2)[0] for line in lines]  # without the ms and the id
    assert starts == [
        "GET /openapi.json 200",
        "GET /docs 200",
        "POST (no route) 400",
        "PUT /v1/resources 405",
        "GET (no route) 404",
    ], lines
    assert "no-such-thing" not in caplog.text


@pytest.mark.parametrize("spelled", ["1_6", "+16", "%2016", "16.0", "%EF%BC%91%EF%BC%96"])
def test_an_id_in_a_path_or_query_is_digits_only(shop, spelled):
    """int() takes each of these as 16 (the last is full-width digits): another spelling
    of one id, which no client means. Leading zeros stay digits (017 is 17)."""
    for path in (f"/v1/holds/{spelled}", f"/v1/admin/events?after_id={spelled}"):
        doc = problem(shop.client.get(path, headers=shop.admin), 400, "invalid_input")
        assert "digits" in doc["detail"], doc
    problem(shop.client.get("/v1/holds/0999999", headers=shop.admin), 404, "not_found")
