"""Admin routes over HTTP in process, on both dialects: resources, capacity, blackouts,
allocations, events (paged), sweep; each POST needs an Idempotency-Key."""

from __future__ import annotations

import pytest

from booking_helpers import expire, units
from serve_helpers import make_shop, problem


@pytest.fixture
def shop(db):
    yield from make_shop(db)


def post(shop, path: str, body, key: str | None = "k1"):  # noqa: ANN001
    headers = {**shop.admin, **({"Idempotency-Key": key} if key else {})}
    return shop.client.post(path, json=body, headers=headers)


def test_create_list_and_patch_resources(shop):
    made = post(shop, "/v1/admin/resources", {"name": "Boat", "type": "TOUR"})
    assert made.status_code == 201, made.text
    boat = made.json()
    again = post(shop, "/v1/admin/resources", {"name": "Boat", "type": "TOUR"})
    assert again.json() == boat and again.headers["idempotent-replayed"] == "true"
    problem(
        post(shop, "/v1/admin/resources", {"name": "Boat", "type": "TOUR"}, key=None),
        400,
        "idempotency_key_missing",
    )
    problem(
        post(shop, "/v1/admin/resources", {"name": "Boat", "type": "TOUR"}, key="k2"),
        400,
        "invalid_input",
    )  # name taken
    problem(
        post(shop, "/v1/admin/resources", {"name": "X\x07", "type": "TOUR"}, key="k3"),
        400,
        "invalid_input",
    )
    url = f"/v1/admin/resources/{boat['id']}"
    patched = shop.client.patch(
        url, json={"is_active": False, "description": "old"}, headers=shop.admin
    )
    assert patched.status_code == 200 and patched.json()["is_active"] is False
    listed = shop.client.get("/v1/admin/resources?active=false", headers=shop.admin).json()
    assert [r["id"] for r in listed["resources"]] == [boat["id"]]
    store_view = shop.client.get("/v1/resources", headers=shop.store).json()["resources"]
    assert boat["id"] not in {r["id"] for r in store_view}
    problem(
        shop.client.patch("/v1/admin/resources/999999", json={}, headers=shop.admin),
        404,
        "not_found",
    )


def test_capacity_blackouts_and_allocations(shop):
    put = shop.client.put(
        "/v1/admin/capacity",
        json={"resource_ids": [shop.van], "from": shop.day(0), "to": shop.day(1), "max": 8},
        headers=shop.admin,
    )
    assert put.status_code == 200 and put.json()["changes"][0]["updated"] == 2
    assert units(shop.bk, shop.van, shop.first) == (8, 8, 0, 0)
    bad = {"resource_ids": [shop.van], "from": shop.day(0), "max": -1}
    problem(
        shop.client.put("/v1/admin/capacity", json=bad, headers=shop.admin), 400, "invalid_input"
    )
    made = shop.hold("h", shop.line(shop.van, 0, 2)).json()
    confirm = {**shop.store, "Idempotency-Key": "o"}
    shop.client.post(f"/v1/holds/{made['id']}/confirm", json={"order_id": "ord-1"}, headers=confirm)
    blackout = post(
        shop,
        "/v1/admin/blackouts",
        {"resource_id": shop.van, "from": shop.day(0), "reason": "flood"},
    )
    assert blackout.status_code == 201, blackout.text
    assert len(blackout.json()["allocation_ids"]) == 1
    listed = shop.client.get(
        f"/v1/admin/blackouts?resource_id={shop.van}", headers=shop.admin
    ).json()
    [b] = listed["blackouts"]
    assert b["reason"] == "flood"
    assert (
        shop.client.delete(f"/v1/admin/blackouts/{b['id']}", headers=shop.admin).status_code == 200
    )
    problem(
        shop.client.delete(f"/v1/admin/blackouts/{b['id']}", headers=shop.admin), 404, "not_found"
    )
    allocations = shop.client.get("/v1/admin/allocations?order_id=ord-1", headers=shop.admin).json()
    [a] = allocations["allocations"]
    assert a["quantity"] == 2 and a["order_id"] == "ord-1"
    cancelled = shop.client.delete(f"/v1/admin/allocations/{a['id']}", headers=shop.admin)
    assert cancelled.status_code == 200
    assert units(shop.bk, shop.van, shop.first) == (8, 8, 0, 0)
    problem(
        shop.client.delete(f"/v1/admin/allocations/{a['id']}", headers=shop.admin), 404, "not_found"
    )


def test_events_page_through_the_trail(shop):
    for n in range(3):
        shop.hold(f"e{n}", shop.line(shop.van, n, 1))
    first = shop.client.get("/v1/admin/events?limit=2", headers=shop.admin).json()
    assert len(first["events"]) == 2
    rest = shop.client.get(
        f"/v1/admin/events?after_id={first['next_after_id']}&limit=1000", headers=shop.admin
    ).json()
    ids = [e["id"] for e in first["events"] + rest["events"]]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert [e["action"] for e in rest["events"]][-3:] == ["hold.create"] * 3
    done = shop.client.get(
        f"/v1/admin/events?after_id={rest['next_after_id']}", headers=shop.admin
    ).json()
    assert done == {"events": [], "next_after_id": rest["next_after_id"]}
    problem(shop.client.get("/v1/admin/events?limit=0", headers=shop.admin), 400, "invalid_input")
    problem(
        shop.client.get("/v1/admin/events?after_id=-1", headers=shop.admin), 400, "invalid_input"
    )


def test_a_refused_patch_changes_nothing(shop):
    """The edit and the activation are one transaction: a refused activation (the name
    is another active resource's) leaves the description as it was."""
    url = f"/v1/admin/resources/{shop.van}"
    patch = {"is_active": False}
    assert shop.client.patch(url, json=patch, headers=shop.admin).status_code == 200
    post(shop, "/v1/admin/resources", {"name": "Van", "type": "VEHICLE"}, key="twin")
    both = {"description": "changed by a refused patch", "is_active": True}
    problem(shop.client.patch(url, json=both, headers=shop.admin), 400, "invalid_input")
    van = shop.bk.get_resource(shop.van)
    assert van.description != both["description"] and van.is_active is False
    problem(shop.client.patch(url, json={}, headers=shop.admin), 400, "invalid_input")


@pytest.mark.parametrize("value", ["off", "yes", 1, 0])
def test_a_flag_is_a_json_boolean(shop, value):
    url = f"/v1/admin/resources/{shop.van}"
    problem(
        shop.client.patch(url, json={"is_active": value}, headers=shop.admin), 400, "invalid_input"
    )
    problem(
        post(shop, "/v1/admin/sweep", {"dry_run": value}, key=f"d{value}"), 400, "invalid_input"
    )
    assert shop.bk.get_resource(shop.van).is_active is True


def test_sweep_over_http(shop):
    made = shop.hold("s", shop.line(shop.van, 0, 2)).json()
    expire(shop.bk, made["holds"][0]["id"])
    dry = post(shop, "/v1/admin/sweep", {"dry_run": True}, key="dry")
    assert dry.json()["expired_holds"] == 1 and dry.json()["dry_run"] is True
    swept = post(shop, "/v1/admin/sweep", None, key="s1")
    assert swept.status_code == 200 and swept.json()["expired_holds"] == 1
    assert post(shop, "/v1/admin/sweep", None, key="s1").json() == swept.json()  # replayed
    same = post(shop, "/v1/admin/sweep", {}, key="s1")  # {} is no body: the same request
    assert same.json() == swept.json() and same.headers["idempotent-replayed"] == "true"
    assert units(shop.bk, shop.van, shop.first) == (5, 5, 0, 0)
    problem(post(shop, "/v1/admin/sweep", None, key=None), 400, "idempotency_key_missing")


def test_admin_routes_need_an_admin_key(shop):
    for method, path in [
        ("get", "/v1/admin/resources"),
        ("get", "/v1/admin/blackouts"),
        ("get", "/v1/admin/allocations"),
        ("get", "/v1/admin/events"),
    ]:
        problem(getattr(shop.client, method)(path, headers=shop.store), 403, "forbidden")
        problem(getattr(shop.client, method)(path), 401, "unauthorized")


def test_admin_refusals_name_their_field(shop):
    blank = post(shop, "/v1/admin/resources", {"name": "   ", "type": "TOUR"}, key="n1")
    assert [e["name"] for e in problem(blank, 400, "invalid_input")["errors"]] == ["name"]
    taken = post(shop, "/v1/admin/resources", {"name": "van", "type": "TOUR"}, key="n2")
    assert [e["name"] for e in problem(taken, 400, "invalid_input")["errors"]] == ["name"]
    bad_key = post(shop, "/v1/admin/resources", {"name": "Boat", "type": "TOUR"}, key="k\x1b")
    names = [e["name"] for e in problem(bad_key, 400, "invalid_input")["errors"]]
    assert names == ["Idempotency-Key"]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/v1/admin/resources?search=v%01", "search"),
        ("/v1/admin/allocations?order_id=%1b", "order_id"),
    ],
)
def test_a_control_character_in_a_query_names_its_parameter(shop, path, name):
    answer = shop.client.get(path, headers=shop.admin)
    assert [e["name"] for e in problem(answer, 400, "invalid_input")["errors"]] == [name]


@pytest.mark.parametrize(
    ("path", "most"),
    [("/v1/admin/resources?search=", 200), ("/v1/admin/allocations?order_id=", 200)],
)
def test_a_query_text_too_long_says_characters(shop, path, most):
    """pydantic counts a query's text checked by its own validator first as a sequence
    ("at most 200 items"); the caller is told characters."""
    answer = shop.client.get(path + "a" * 5000, headers=shop.admin)
    [error] = problem(answer, 400, "invalid_input")["errors"]
    assert error["reason"] == f"String should have at most {most} characters"


@pytest.mark.parametrize("path", ["/v1/admin/blackouts", "/v1/admin/allocations"])
def test_a_list_window_ending_before_it_starts_is_400(shop, path):
    answer = shop.client.get(f"{path}?from={shop.day(5)}&to={shop.day(1)}", headers=shop.admin)
    assert [e["name"] for e in problem(answer, 400, "invalid_input")["errors"]] == ["to"]


def test_a_chunked_body_past_the_limit_is_refused(shop):
    """No Content-Length to refuse it by: the body is counted as it comes."""

    def chunks():
        for _ in range(64):  # 64 x 64 KiB = 4 MiB, past the 1 MiB limit
            yield b"[" + b"1," * 32767 + b"1]"

    headers = {**shop.admin, "Idempotency-Key": "big", "Content-Type": "application/json"}
    answer = shop.client.post("/v1/admin/resources", content=chunks(), headers=headers)
    assert "at most" in problem(answer, 400, "invalid_input")["detail"]


def test_stored_control_characters_go_out_escaped(shop):
    """Text that reached the database by other means than the API (which refuses it)."""
    odd = "Van\u202e\x85\u2028\x7f"
    marker = shop.bk.db.param  # ? on SQLite, %s on PostgreSQL
    sql = f"UPDATE resource SET description = {marker} WHERE id = {marker}"
    shop.bk.db.execute_sql(sql, (odd, shop.van))
    answer = shop.client.get("/v1/admin/resources", headers=shop.admin)
    assert not any(c in answer.text for c in "\u202e\x85\u2028\x7f")
    [van] = [r for r in answer.json()["resources"] if r["id"] == shop.van]
    assert van["description"] == odd  # the same string to a JSON parser
