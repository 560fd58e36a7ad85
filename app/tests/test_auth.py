"""Write authentication (docs/api.md "Write authentication"): bearer tokens from
TITANIC_WRITE_TOKENS or TITANIC_WRITE_TOKENS_FILE, both ways, through the real app and database."""

from __future__ import annotations

import uuid

import orjson
import pytest
import requests

from titanic_api import create_app
from titanic_api.settings import ConfigError, load_settings

from conftest import make_settings
from support import ServerProcess, clean_env, execute_sql, valid_person

TOKEN = "write-token-0123456789abcdef"
OTHER_TOKEN = "second-token-ABCDEFGHIJKLMNOP"
BASE = {"POSTGRES_USER": "titanic", "POSTGRES_PASSWORD": "pw", "POSTGRES_DB": "titanic"}
CHALLENGE = 'Bearer realm="titanic"'


@pytest.fixture(scope="module")
def guarded(module_db):
    """The app with two write tokens, on the module's database."""
    application = create_app(make_settings(module_db[1], write_tokens=(TOKEN, OTHER_TOKEN)))
    yield application
    application.extensions["titanic_db"].close()


@pytest.fixture
def people(guarded, module_db):
    """A client of the guarded app, and one person already stored."""
    execute_sql(module_db[1], "TRUNCATE people, seed_log")
    client = guarded.test_client()
    someone = client.post("/people", json=valid_person(), headers=bearer(TOKEN)).get_json()
    return client, someone


def bearer(token: str, scheme: str = "Bearer") -> dict[str, str]:
    return {"Authorization": f"{scheme} {token}"}


def stored(module_db) -> list[tuple]:
    return execute_sql(module_db[1], "SELECT uuid::text, name FROM people ORDER BY seq")


def assert_unauthorized(response, *, invalid_token: bool) -> None:
    assert response.status_code == 401, response.data
    assert response.mimetype == "application/problem+json"
    body = orjson.loads(response.data)
    assert body["type"] == "urn:titanic-api:problem:unauthorized"
    assert body["status"] == 401
    expected = f'{CHALLENGE}, error="invalid_token"' if invalid_token else CHALLENGE
    assert response.headers["WWW-Authenticate"] == expected
    assert TOKEN not in response.data.decode() and OTHER_TOKEN not in response.data.decode()


def writes(someone: dict) -> list[tuple[str, str, dict | None]]:
    target = f"/people/{someone['uuid']}"
    return [
        ("POST", "/people", valid_person(name="Mr. Intruder")),
        ("PUT", target, valid_person(name="Mr. Intruder")),
        ("DELETE", target, None),
    ]


# -- tokens configured ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "invalid_token"),
    [
        ({}, False),
        ({"Authorization": ""}, False),
        ({"Authorization": "Bearer"}, False),
        ({"Authorization": "Bearer   "}, False),
        (bearer(TOKEN, scheme="Basic"), False),
        (bearer(TOKEN + "x"), True),
        (bearer(TOKEN[:-1]), True),
        (bearer(TOKEN.upper()), True),
        (bearer(f"{TOKEN},{OTHER_TOKEN}"), True),
        (bearer("é" + TOKEN), True),
    ],
    ids=[
        "none",
        "empty",
        "scheme-only",
        "blank-token",
        "basic",
        "longer",
        "shorter",
        "other-case",
        "two-tokens",
        "non-ascii",
    ],
)
def test_writes_without_a_valid_token_get_401_and_change_nothing(
    people, module_db, headers, invalid_token
):
    client, someone = people
    before = stored(module_db)
    for method, path, body in writes(someone):
        response = client.open(path, method=method, json=body, headers=headers)
        assert_unauthorized(response, invalid_token=invalid_token)
    assert stored(module_db) == before


def test_every_configured_token_is_accepted_and_the_scheme_is_case_insensitive(people, module_db):
    client, someone = people
    created = client.post("/people", json=valid_person(name="Mrs. A"), headers=bearer(OTHER_TOKEN))
    assert created.status_code == 201
    changed = client.put(
        f"/people/{someone['uuid']}",
        json=valid_person(name="Mr. B"),
        headers=bearer(TOKEN, scheme="bearer"),
    )
    assert changed.status_code == 200
    gone = client.delete(f"/people/{created.get_json()['uuid']}", headers=bearer(OTHER_TOKEN))
    assert gone.status_code == 204
    assert stored(module_db) == [(someone["uuid"], "Mr. B")]


def test_reads_stay_public(people):
    client, someone = people
    assert client.get("/people").get_json() == [someone]
    assert client.get(f"/people/{someone['uuid']}").get_json() == someone
    assert client.head("/people").status_code == 200
    for path in ("/", "/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert client.get(path).status_code == 200, path


def test_the_token_is_checked_before_the_body(people):
    client, someone = people
    bad_body = client.put(f"/people/{someone['uuid']}", data=b"{", content_type="text/plain")
    assert_unauthorized(bad_body, invalid_token=False)
    too_big = client.post("/people", data=b"x" * 100_000, content_type="application/json")
    assert_unauthorized(too_big, invalid_token=False)
    with_token = client.post("/people", data=b"{", content_type="text/plain", headers=bearer(TOKEN))
    assert with_token.status_code == 415


def test_unknown_paths_and_methods_are_still_404_and_405(people):
    client, _ = people
    assert client.delete("/people").status_code == 405
    assert client.post(f"/people/{uuid.uuid4()}").status_code == 405
    assert client.put("/people/not-a-uuid", json=valid_person()).status_code == 404
    assert client.post("/nowhere").status_code == 404


# -- no tokens: writes are open, as existing clients expect ------------------------------------
def test_without_tokens_writes_are_open(client, sql):
    created = client.post("/people", json=valid_person())
    assert created.status_code == 201
    person = created.get_json()
    assert client.put(f"/people/{person['uuid']}", json=valid_person(age=3)).status_code == 200
    # a client that sends a token anyway is not refused
    assert client.delete(f"/people/{person['uuid']}", headers=bearer("anything")).status_code == 204
    assert sql("SELECT count(*) FROM people") == [(0,)]


# -- where the tokens come from -------------------------------------------------------------------
def test_tokens_from_the_variable():
    env = {**BASE, "TITANIC_WRITE_TOKENS": f" {TOKEN} ,{OTHER_TOKEN},,{TOKEN}"}
    assert load_settings(env).write_tokens == (TOKEN, OTHER_TOKEN)
    assert load_settings({**BASE, "TITANIC_WRITE_TOKENS": " "}).write_tokens == ()
    assert load_settings(BASE).write_tokens == ()


def test_tokens_from_the_file(tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text(f"\n{TOKEN}\n\n  {OTHER_TOKEN}  \n")
    env = {**BASE, "TITANIC_WRITE_TOKENS_FILE": str(tokens)}
    assert load_settings(env).write_tokens == (TOKEN, OTHER_TOKEN)
    tokens.write_text(f"{TOKEN},{OTHER_TOKEN}")  # a Secret's value written as one line
    assert load_settings(env).write_tokens == (TOKEN, OTHER_TOKEN)
    # an empty TITANIC_WRITE_TOKENS next to the file is "not set"
    assert load_settings({**env, "TITANIC_WRITE_TOKENS": ""}).write_tokens == (TOKEN, OTHER_TOKEN)


@pytest.mark.parametrize(
    ("changes", "setting", "message"),
    [
        (
            {"TITANIC_WRITE_TOKENS": TOKEN, "TITANIC_WRITE_TOKENS_FILE": "{tokens}"},
            "TITANIC_WRITE_TOKENS",
            "TITANIC_WRITE_TOKENS and TITANIC_WRITE_TOKENS_FILE are both set; set one",
        ),
        (
            {"TITANIC_WRITE_TOKENS_FILE": "{missing}"},
            "TITANIC_WRITE_TOKENS_FILE",
            "TITANIC_WRITE_TOKENS_FILE '{missing}' cannot be read: No such file or directory",
        ),
        (
            {"TITANIC_WRITE_TOKENS_FILE": "{empty}"},
            "TITANIC_WRITE_TOKENS_FILE",
            "TITANIC_WRITE_TOKENS_FILE '{empty}' holds no token",
        ),
        (
            {"TITANIC_WRITE_TOKENS": "short-token"},
            "TITANIC_WRITE_TOKENS",
            "TITANIC_WRITE_TOKENS: token 1 is shorter than 16 characters",
        ),
        (
            {"TITANIC_WRITE_TOKENS": f"{TOKEN},has a space in it 0123"},
            "TITANIC_WRITE_TOKENS",
            "TITANIC_WRITE_TOKENS: token 2 has characters a bearer token cannot carry "
            "(allowed: letters, digits and -._~+/, then = padding)",
        ),
    ],
)
def test_bad_token_settings_name_the_variable_and_never_echo_a_token(
    tmp_path, changes, setting, message
):
    paths = {
        "tokens": tmp_path / "tokens",
        "missing": tmp_path / "missing",
        "empty": tmp_path / "e",
    }
    paths["tokens"].write_text(TOKEN)
    paths["empty"].write_text("\n , \n")
    env = {**BASE, **{k: v.format(**paths) for k, v in changes.items()}}
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    assert info.value.setting == setting
    assert str(info.value) == message.format(**paths)
    assert "has a space" not in str(info.value)


# -- the real server, tokens from a mounted file ---------------------------------------------------
def test_served_writes_need_the_token_from_the_file(new_database, tmp_path):
    _, dsn = new_database()
    tokens = tmp_path / "write-tokens"
    tokens.write_text(TOKEN + "\n")
    env = clean_env(DATABASE_URL=dsn, TITANIC_WRITE_TOKENS_FILE=str(tokens))
    server = ServerProcess(env, tmp_path, workers=2).start()
    try:
        refused = requests.post(server.url("/people"), json=valid_person(), timeout=10)
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == CHALLENGE
        assert refused.headers["Content-Type"] == "application/problem+json"
        created = requests.post(
            server.url("/people"), json=valid_person(), headers=bearer(TOKEN), timeout=10
        )
        assert created.status_code == 201
        assert requests.get(server.url("/people"), timeout=10).json() == [created.json()]
    finally:
        assert server.stop() == 0
    assert execute_sql(dsn, "SELECT count(*) FROM people") == [(1,)]
