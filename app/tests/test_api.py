"""The HTTP contract (docs/api.md) through the Flask test client on a real database."""

from __future__ import annotations

import csv
import json
import re
import uuid
from pathlib import Path

import orjson
import pytest

from titanic_api import __version__, create_app

from conftest import make_settings
from support import valid_person

CSV_PATH = Path(__file__).resolve().parents[1] / "src" / "titanic_api" / "data" / "titanic.csv"
UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
PERSON_KEYS = {
    "uuid",
    "survived",
    "passengerClass",
    "name",
    "sex",
    "age",
    "siblingsOrSpousesAboard",
    "parentsOrChildrenAboard",
    "fare",
}
PROBLEM_KEYS = {"type", "title", "status", "detail"}
HEALTHZ_COUNT = re.compile(
    r'^titanic_http_requests_total\{method="GET",route="/healthz",status="200"\} (\S+)$', re.M
)


def post_raw(client, body: bytes, content_type: str = "application/json", path: str = "/people"):
    return client.post(path, data=body, headers={"Content-Type": content_type})


def assert_problem(response, status: int, kind: str | None = None) -> dict:
    assert response.status_code == status, response.data
    assert response.mimetype == "application/problem+json"
    body = orjson.loads(response.data)
    assert PROBLEM_KEYS <= set(body) <= PROBLEM_KEYS | {"errors"}
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["type"].startswith("urn:titanic-api:problem:")
    if kind is not None:
        assert body["type"] == f"urn:titanic-api:problem:{kind}"
    text = response.data.decode()
    assert "Traceback" not in text
    assert "SELECT" not in text and "INSERT" not in text
    return body


def error_fields(response) -> set[str]:
    body = assert_problem(response, 400, "validation-error")
    assert body["errors"], body
    for item in body["errors"]:
        assert set(item) == {"field", "message"}
        assert isinstance(item["message"], str) and item["message"]
    return {item["field"] for item in body["errors"]}


# -- operational endpoints ---------------------------------------------------------------------
def test_index_describes_the_service(client):
    r = client.get("/")
    assert r.status_code == 200
    assert r.mimetype == "application/json"
    body = r.get_json()
    assert body["name"] == "titanic-api"
    assert body["version"] == __version__
    assert body["links"]["people"] == "/people"
    assert body["links"]["openapi"] == "/openapi.json"


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ready"}


def test_openapi_document_is_served(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    doc = r.get_json()
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["version"] == __version__
    assert set(doc["paths"]) == {
        "/people",
        "/people/{uuid}",
        "/",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
    }
    assert set(doc["paths"]["/people"]) == {"get", "post"}
    assert set(doc["paths"]["/people/{uuid}"]) == {"parameters", "get", "put", "delete"}


def test_metrics_use_route_templates(seeded_client):
    person = seeded_client.get("/people").get_json()[5]
    assert seeded_client.get(f"/people/{person['uuid']}").status_code == 200
    assert seeded_client.get("/people/not-a-uuid").status_code == 404
    text = seeded_client.get("/metrics").data.decode()
    assert seeded_client.get("/metrics").mimetype == "text/plain"
    assert re.search(
        r'titanic_http_requests_total\{method="GET",route="/people/<uuid>",status="200"\} [1-9]',
        text,
    )
    assert 'titanic_http_request_duration_seconds_bucket{le="0.001",method="GET",' in text
    assert person["uuid"] not in text
    assert "not-a-uuid" not in text
    assert 'titanic_db_pool_connections{state="idle"}' in text
    assert 'titanic_db_pool_connections{state="in_use"}' in text
    assert f'titanic_build_info{{revision="unknown",version="{__version__}"}} 1.0' in text


def test_metrics_count_every_request(client):
    def count() -> float:
        text = client.get("/metrics").data.decode()
        m = re.search(HEALTHZ_COUNT, text)
        return float(m.group(1)) if m else 0.0

    before = count()
    for _ in range(7):
        client.get("/healthz")
    assert count() == before + 7


# -- reading ----------------------------------------------------------------------------------
def test_list_returns_every_seeded_passenger_in_csv_order(seeded_client):
    r = seeded_client.get("/people")
    assert r.status_code == 200
    assert r.mimetype == "application/json"
    people = r.get_json()
    assert len(people) == 887
    with CSV_PATH.open() as f:
        rows = list(csv.DictReader(f))
    assert [p["name"] for p in people] == [row["Name"] for row in rows]
    first = people[0]
    assert set(first) == PERSON_KEYS
    assert first["survived"] is False
    assert first["passengerClass"] == 3
    assert first["name"] == "Mr. Owen Harris Braund"
    assert first["sex"] == "male"
    assert first["age"] == 22
    assert first["siblingsOrSpousesAboard"] == 1
    assert first["parentsOrChildrenAboard"] == 0
    assert first["fare"] == 7.25
    assert len({p["uuid"] for p in people}) == 887
    # fractional ages survive the round trip
    assert [p["age"] for p in people] == [float(row["Age"]) for row in rows]


def test_get_one_person(seeded_client):
    people = seeded_client.get("/people").get_json()
    for person in (people[0], people[1], people[-1]):
        r = seeded_client.get(f"/people/{person['uuid']}")
        assert r.status_code == 200
        assert r.get_json() == person
    upper = seeded_client.get(f"/people/{people[1]['uuid'].upper()}")
    assert upper.status_code == 200
    assert upper.get_json() == people[1]


@pytest.mark.parametrize(
    "bad",
    [
        "abc",
        "1234",
        "49dc24bd906d4497bcfcecc8c309ecfc",
        "49dc24bd-906d-4497-bcfc-ecc8c309ecf",
        "49dc24bd-906d-4497-bcfc-ecc8c309ecfcc",
        "49dc24bd-906d-4497-bcfc-ecc8c309ecfg",
        "{49dc24bd-906d-4497-bcfc-ecc8c309ecfc}",
        "%20",
        "0",
    ],
)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_malformed_uuid_is_404(client, method, bad):
    kwargs = {"json": valid_person()} if method == "PUT" else {}
    r = client.open(f"/people/{bad}", method=method, **kwargs)
    assert_problem(r, 404, "not-found")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_uuid_is_404(client, method):
    kwargs = {"json": valid_person()} if method == "PUT" else {}
    r = client.open(f"/people/{uuid.uuid4()}", method=method, **kwargs)
    assert_problem(r, 404, "not-found")


def test_unknown_path_is_404_problem(client):
    assert_problem(client.get("/nope"), 404, "not-found")
    assert_problem(client.get("/people/"), 404, "not-found")


# -- writing ----------------------------------------------------------------------------------
def test_create_returns_201_location_and_persists(client, sql):
    r = client.post("/people", json=valid_person(name="  Mr. Padded Name \t"))
    assert r.status_code == 201
    assert r.mimetype == "application/json"
    body = r.get_json()
    assert set(body) == PERSON_KEYS
    assert UUID4_RE.match(body["uuid"])
    assert body == {**valid_person(name="Mr. Padded Name"), "uuid": body["uuid"]}
    assert r.headers["Location"] == f"/people/{body['uuid']}"
    # committed and readable at the Location
    assert client.get(r.headers["Location"]).get_json() == body
    rows = sql(
        "SELECT name, age, fare, passenger_class FROM people WHERE uuid = %s", (body["uuid"],)
    )
    assert rows == [("Mr. Padded Name", 0.42, 13.5, 2)]
    assert body in client.get("/people").get_json()


def test_create_twice_makes_two_people(client):
    a = client.post("/people", json=valid_person()).get_json()
    b = client.post("/people", json=valid_person()).get_json()
    assert a["uuid"] != b["uuid"]
    assert len(client.get("/people").get_json()) == 2


def test_replace_updates_every_field(client, sql):
    created = client.post("/people", json=valid_person()).get_json()
    replacement = {
        "survived": False,
        "passengerClass": 3,
        "name": "Mr. Replaced",
        "sex": "male",
        "age": 150,
        "siblingsOrSpousesAboard": 0,
        "parentsOrChildrenAboard": 0,
        "fare": 0,
    }
    r = client.put(f"/people/{created['uuid']}", json=replacement)
    assert r.status_code == 200
    assert r.mimetype == "application/json"
    assert r.get_json() == {**replacement, "uuid": created["uuid"]}
    assert client.get(f"/people/{created['uuid']}").get_json() == r.get_json()
    assert sql("SELECT survived, name, age FROM people") == [(False, "Mr. Replaced", 150.0)]


def test_replace_is_full_replacement_not_patch(client):
    created = client.post("/people", json=valid_person()).get_json()
    r = client.put(f"/people/{created['uuid']}", json={"name": "Only a name"})
    assert error_fields(r) == set(valid_person()) - {"name"}
    assert client.get(f"/people/{created['uuid']}").get_json() == created


def test_delete_then_gone(client, sql):
    created = client.post("/people", json=valid_person()).get_json()
    r = client.delete(f"/people/{created['uuid']}")
    assert r.status_code == 204
    assert r.data == b""
    assert_problem(client.get(f"/people/{created['uuid']}"), 404)
    assert_problem(client.delete(f"/people/{created['uuid']}"), 404)
    assert sql("SELECT count(*) FROM people") == [(0,)]
    assert client.get("/people").get_json() == []


def test_list_cache_follows_writes_from_other_workers_and_replicas(client, module_db, sql):
    other = create_app(make_settings(module_db[1]))  # a second worker/replica
    try:
        other_client = other.test_client()
        assert client.get("/people").get_json() == []
        assert other_client.get("/people").get_json() == []
        created = other_client.post("/people", json=valid_person()).get_json()
        assert client.get("/people").get_json() == [created]
        sql("UPDATE people SET name = 'Changed Elsewhere'")
        assert [p["name"] for p in client.get("/people").get_json()] == ["Changed Elsewhere"]
        assert other_client.delete(f"/people/{created['uuid']}").status_code == 204
        assert client.get("/people").get_json() == []
    finally:
        other.extensions["titanic_db"].close()


# -- validation -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("survived", 1),
        ("survived", 0),
        ("survived", "true"),
        ("survived", "1"),
        ("survived", None),
        ("passengerClass", 0),
        ("passengerClass", 4),
        ("passengerClass", -1),
        ("passengerClass", 2.5),
        ("passengerClass", "1"),
        ("passengerClass", True),
        ("passengerClass", None),
        ("name", ""),
        ("name", "   "),
        ("name", "\t\n"),
        ("name", "x" * 256),
        ("name", 123),
        ("name", None),
        ("name", ["a"]),
        ("name", "nul\u0000byte"),
        ("sex", "Male"),
        ("sex", "other"),
        ("sex", ""),
        ("sex", 1),
        ("sex", None),
        ("age", -0.01),
        ("age", -1),
        ("age", 150.01),
        ("age", 151),
        ("age", "22"),
        ("age", True),
        ("age", None),
        ("siblingsOrSpousesAboard", -1),
        ("siblingsOrSpousesAboard", 1.5),
        ("siblingsOrSpousesAboard", "1"),
        ("siblingsOrSpousesAboard", True),
        ("siblingsOrSpousesAboard", 2**31),
        ("siblingsOrSpousesAboard", 10**30),
        ("siblingsOrSpousesAboard", 1e30),
        ("siblingsOrSpousesAboard", -2.0),
        ("parentsOrChildrenAboard", -1),
        ("parentsOrChildrenAboard", 0.5),
        ("parentsOrChildrenAboard", "0"),
        ("parentsOrChildrenAboard", False),
        ("parentsOrChildrenAboard", None),
        ("fare", -0.01),
        ("fare", "7.25"),
        ("fare", True),
        ("fare", None),
        ("fare", {}),
    ],
)
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_invalid_value_is_400_naming_the_field(client, sql, method, field, value):
    target = "/people"
    if method == "PUT":
        target = f"/people/{client.post('/people', json=valid_person()).get_json()['uuid']}"
    before = sql("SELECT name, age, fare FROM people ORDER BY seq")
    body = json.dumps(valid_person(**{field: value}))  # stdlib: also ints beyond 64 bits
    r = client.open(target, method=method, data=body, content_type="application/json")
    assert error_fields(r) == {field}
    assert sql("SELECT name, age, fare FROM people ORDER BY seq") == before


@pytest.mark.parametrize(
    "field",
    [
        "survived",
        "passengerClass",
        "name",
        "sex",
        "age",
        "siblingsOrSpousesAboard",
        "parentsOrChildrenAboard",
        "fare",
    ],
)
def test_missing_field_is_400(client, field):
    person = valid_person()
    del person[field]
    r = client.post("/people", json=person)
    assert error_fields(r) == {field}
    body = r.get_json()
    assert body["errors"][0]["message"] == "is required"


@pytest.mark.parametrize("extra", ["uuid", "foo", "Name", "passenger_class"])
def test_unknown_field_is_400(client, extra):
    r = client.post("/people", json=valid_person(**{extra: "x"}))
    assert error_fields(r) == {extra}


def test_every_error_is_reported_at_once(client):
    r = client.post("/people", json={"survived": "no", "age": -5, "bogus": 1})
    assert error_fields(r) == {
        "survived",
        "passengerClass",
        "name",
        "sex",
        "age",
        "siblingsOrSpousesAboard",
        "parentsOrChildrenAboard",
        "fare",
        "bogus",
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"age": 0},
        {"age": 150},
        {"age": 0.42},
        {"age": 22},
        {"passengerClass": 1},
        {"passengerClass": 3},
        {"name": "x"},
        {"name": "y" * 255},
        {"name": "   " + "z" * 255 + "   "},
        {"name": "Åsa Ödegård 🚢"},
        {"fare": 0},
        {"fare": 512.3292},
        {"fare": 1e300},
        {"siblingsOrSpousesAboard": 2**31 - 1},
        {"sex": "male", "survived": False},
    ],
)
def test_boundary_values_are_accepted(client, changes):
    r = client.post("/people", json=valid_person(**changes))
    assert r.status_code == 201, r.data
    body = r.get_json()
    expected = valid_person(**changes)
    expected["name"] = expected["name"].strip()
    assert body == {**expected, "uuid": body["uuid"]}
    assert client.get(f"/people/{body['uuid']}").get_json() == body


def test_integers_may_be_written_with_a_zero_fraction_as_in_json_schema(client):
    raw = b'{"survived": false, "passengerClass": 3.0, "name": "N", "sex": "male", "age": 1,'
    raw += b' "siblingsOrSpousesAboard": 2.0, "parentsOrChildrenAboard": 0e0, "fare": 1}'
    r = post_raw(client, raw)
    assert r.status_code == 201, r.data
    assert b'"passengerClass":3,' in r.data  # stored and returned as integers
    assert b'"siblingsOrSpousesAboard":2,' in r.data
    assert b'"parentsOrChildrenAboard":0,' in r.data


@pytest.mark.parametrize(
    "literal", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e400", b"nan", b"inf"]
)
@pytest.mark.parametrize("field", ["age", "fare"])
def test_nan_and_infinity_are_rejected(client, field, literal):
    body = orjson.dumps(valid_person(**{field: 12345})).replace(b"12345", literal)
    r = post_raw(client, body)
    assert r.status_code == 400
    assert_problem(r, 400)
    assert client.get("/people").get_json() == []


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"{'a': 1}", b'{"survived": true,}', b"not json", b"\xff\xfe", b'"\\ud800"'],
)
def test_malformed_json_is_400(client, body):
    assert_problem(post_raw(client, body), 400, "invalid-json")


@pytest.mark.parametrize("body", [b"[]", b"[{}]", b'"person"', b"42", b"null", b"true"])
def test_json_that_is_not_an_object_is_400(client, body):
    assert error_fields(post_raw(client, body)) == {""}


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/jsonx",
        "",
    ],
)
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_wrong_content_type_is_415(client, method, content_type):
    target = "/people" if method == "POST" else f"/people/{uuid.uuid4()}"
    headers = {"Content-Type": content_type} if content_type else {}
    r = client.open(target, method=method, data=orjson.dumps(valid_person()), headers=headers)
    assert_problem(r, 415, "unsupported-media-type")
    assert client.get("/people").get_json() == []


def test_json_content_type_with_charset_is_accepted(client):
    r = post_raw(client, orjson.dumps(valid_person()), "application/json; charset=utf-8")
    assert r.status_code == 201


def test_body_over_the_limit_is_413_and_at_the_limit_is_accepted(client):
    limit = 65536
    raw = orjson.dumps(valid_person())
    at_limit = raw[:-1] + b" " * (limit - len(raw)) + b"}"
    assert len(at_limit) == limit
    assert post_raw(client, at_limit).status_code == 201
    over = at_limit[:-1] + b" }"
    assert len(over) == limit + 1
    assert_problem(post_raw(client, over), 413, "payload-too-large")
    person = client.get("/people").get_json()[0]
    assert_problem(
        client.put(f"/people/{person['uuid']}", data=over, content_type="application/json"),
        413,
    )
    assert len(client.get("/people").get_json()) == 1


def test_body_limit_is_configurable(module_db):
    small = create_app(make_settings(module_db[1], max_body_bytes=1024))
    try:
        c = small.test_client()
        padded = orjson.dumps(valid_person(name="n" * 900))
        assert len(padded) > 1024
        assert_problem(post_raw(c, padded), 413)
    finally:
        small.extensions["titanic_db"].close()


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PATCH", "/people", {"GET", "POST"}),
        ("PUT", "/people", {"GET", "POST"}),
        ("DELETE", "/people", {"GET", "POST"}),
        ("POST", "/people/49dc24bd-906d-4497-bcfc-ecc8c309ecfc", {"GET", "PUT", "DELETE"}),
        ("PATCH", "/people/49dc24bd-906d-4497-bcfc-ecc8c309ecfc", {"GET", "PUT", "DELETE"}),
        ("POST", "/healthz", {"GET"}),
        ("DELETE", "/", {"GET"}),
    ],
)
def test_wrong_method_is_405_problem_with_allow(client, method, path, allowed):
    r = client.open(path, method=method, json=valid_person())
    assert_problem(r, 405, "method-not-allowed")
    assert {m.strip() for m in r.headers["Allow"].split(",")} == allowed | {"HEAD", "OPTIONS"}


# -- request ids -------------------------------------------------------------------------------
def test_request_id_is_echoed(client):
    r = client.get("/healthz", headers={"X-Request-ID": "abc-123_XYZ.req"})
    assert r.headers["X-Request-ID"] == "abc-123_XYZ.req"
    r = client.get("/people/nope", headers={"X-Request-ID": "on-errors-too"})
    assert r.status_code == 404
    assert r.headers["X-Request-ID"] == "on-errors-too"
    r = client.get("/healthz", headers={"X-Request-ID": "x" * 128})
    assert r.headers["X-Request-ID"] == "x" * 128


def test_request_id_is_generated_when_absent(client):
    ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3
    assert all(UUID4_RE.match(i) for i in ids)


@pytest.mark.parametrize("bad", ["x" * 129, "tab\there", "ünïcode", "line\x7f"])
def test_invalid_request_id_is_replaced(client, bad):
    r = client.get("/healthz", headers={"X-Request-ID": bad})
    assert r.status_code == 200
    assert UUID4_RE.match(r.headers["X-Request-ID"])


# -- failures ---------------------------------------------------------------------------------
def test_database_unreachable_is_503_and_liveness_stays_up():
    from support import free_port

    dead = f"postgresql://nobody:pw@127.0.0.1:{free_port()}/nothing"
    app = create_app(make_settings(dead, db_connect_timeout=1))
    c = app.test_client()
    for method, path, kwargs in [
        ("GET", "/people", {}),
        ("POST", "/people", {"json": valid_person()}),
        ("GET", f"/people/{uuid.uuid4()}", {}),
        ("PUT", f"/people/{uuid.uuid4()}", {"json": valid_person()}),
        ("DELETE", f"/people/{uuid.uuid4()}", {}),
        ("GET", "/readyz", {}),
    ]:
        r = c.open(path, method=method, **kwargs)
        assert_problem(r, 503, "service-unavailable")
        assert "nobody" not in r.data.decode()
    assert c.get("/healthz").status_code == 200
    assert c.get("/").status_code == 200
    assert c.get("/metrics").status_code == 200
    assert c.post("/people", data=b"{", content_type="application/json").status_code == 400


def test_unmigrated_database_is_not_ready(new_database):
    _, dsn = new_database(migrated=False)
    app = create_app(make_settings(dsn))
    try:
        c = app.test_client()
        body = assert_problem(c.get("/readyz"), 503)
        assert "db upgrade" in body["detail"]
        for method, path in [("GET", "/people"), ("GET", f"/people/{uuid.uuid4()}")]:
            body = assert_problem(c.open(path, method=method), 503, "service-unavailable")
            assert "db upgrade" in body["detail"]
        assert_problem(c.post("/people", json=valid_person()), 503)
        assert c.get("/healthz").status_code == 200
    finally:
        app.extensions["titanic_db"].close()


def test_unexpected_errors_are_generic_500_problems(module_db):
    app = create_app(make_settings(module_db[1]))

    @app.get("/boom")
    def boom():
        raise RuntimeError("SELECT secret FROM internals")

    try:
        r = app.test_client().get("/boom")
        body = assert_problem(r, 500, "internal-error")
        assert "secret" not in r.data.decode()
        assert body["detail"] == "The server could not handle the request."
    finally:
        app.extensions["titanic_db"].close()


# -- the fast path for the hot reads answers exactly like the Flask routes ---------------------
def _both_paths(app):
    from werkzeug.test import Client

    fast = Client(app.wsgi_app)
    flask_only = Client(app.wsgi_app.flask_wsgi)
    return fast, flask_only


def _same(a, b) -> None:
    assert a.status_code == b.status_code
    assert a.data == b.data
    assert sorted(a.headers.items()) == sorted(b.headers.items())


def test_fast_path_matches_flask_routes(seeded_client, app, caplog):
    fast, flask_only = _both_paths(app)
    someone = seeded_client.get("/people").get_json()[42]["uuid"]
    headers = {"X-Request-ID": "same-id"}
    for path in (
        "/people",
        f"/people/{someone}",
        f"/people/{someone.upper()}",
        f"/people/{uuid.uuid4()}",
        "/people?x=1",
    ):
        with caplog.at_level("INFO", logger="titanic_api.access"):
            caplog.clear()
            a = fast.get(path, headers=headers)
            b = flask_only.get(path, headers=headers)
        _same(a, b)
        lines = [r for r in caplog.records if r.name == "titanic_api.access"]
        assert len(lines) == 2
        fields = ("method", "route", "path", "status", "request_id")
        assert [getattr(lines[0], f) for f in fields] == [getattr(lines[1], f) for f in fields]
    assert fast.get(f"/people/{someone}").status_code == 200


def test_fast_path_matches_flask_routes_when_the_database_is_down():
    from support import free_port

    app = create_app(make_settings(f"postgresql://u:p@127.0.0.1:{free_port()}/d"))
    fast, flask_only = _both_paths(app)
    for path in ("/people", f"/people/{uuid.uuid4()}"):
        a = fast.get(path, headers={"X-Request-ID": "r1"})
        b = flask_only.get(path, headers={"X-Request-ID": "r1"})
        assert a.status_code == 503
        _same(a, b)


def test_the_hot_reads_are_answered_by_the_fast_path(seeded_client, app, monkeypatch):
    """With the Flask views of the two hot reads broken, only the fast path can answer them."""
    people = seeded_client.get("/people").get_json()

    def broken_view(**_kwargs):
        raise RuntimeError("the Flask view answered a hot read")

    for endpoint in ("people.list_people", "people.get_person"):
        monkeypatch.setitem(app.view_functions, endpoint, broken_view)
    # the views really are broken: HEAD, which the fast path hands to Flask, fails
    assert seeded_client.head("/people").status_code == 500
    assert seeded_client.head(f"/people/{people[3]['uuid']}").status_code == 500
    # the hot reads do not reach them
    assert seeded_client.get("/people").get_json() == people
    assert seeded_client.get(f"/people/{people[3]['uuid']}").get_json() == people[3]
    assert_problem(seeded_client.get(f"/people/{uuid.uuid4()}"), 404, "not-found")
