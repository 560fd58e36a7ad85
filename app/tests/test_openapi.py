"""/openapi.json is kept true: served responses validate against the served document."""

from __future__ import annotations

import json
import os
import random
import subprocess
import uuid

import orjson
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
    use_after_free,
)

from support import VENV_BIN, ServerProcess, clean_env, resolve_ref

DOC_URI = "urn:titanic-api:openapi"
PERSON = {
    "survived": False,
    "passengerClass": 3,
    "name": "Mr. Schema Check",
    "sex": "male",
    "age": 30,
    "siblingsOrSpousesAboard": 0,
    "parentsOrChildrenAboard": 0,
    "fare": 8.05,
}


class Contract:
    """Validates a response against the operation the document declares for it."""

    def __init__(self, doc: dict) -> None:
        self.doc = doc
        self.registry = Registry().with_resource(DOC_URI, Resource(doc, specification=DRAFT202012))

    def resolve(self, node: dict) -> dict:
        return resolve_ref(self.doc, node)

    def check(self, path: str, method: str, response) -> None:
        operation = self.doc["paths"][path][method.lower()]
        declared = operation["responses"]
        status = str(response.status_code)
        assert status in declared, f"{method} {path}: {status} not declared ({sorted(declared)})"
        spec = self.resolve(declared[status])
        for name, header in spec.get("headers", {}).items():
            header = self.resolve(header)
            if header.get("required") or name == "X-Request-ID":
                assert name in response.headers, f"{method} {path}: header {name} missing"
        content = spec.get("content")
        if not content:
            assert not response.data
            return
        assert response.mimetype in content, f"{method} {path}: {response.mimetype}"
        if response.mimetype == "text/plain":
            return
        pointer = (
            f"/paths/{path.replace('/', '~1')}/{method.lower()}/responses/{status}"
            if "$ref" not in declared[status]
            else declared[status]["$ref"].removeprefix("#")
        )
        schema = {
            "$ref": f"{DOC_URI}#{pointer}/content/{response.mimetype.replace('/', '~1')}/schema"
        }
        validator = Draft202012Validator(
            schema, registry=self.registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        error = best_match(validator.iter_errors(orjson.loads(response.data)))
        assert error is None, f"{method} {path} {status}: {error.message} at {error.json_path}"


@pytest.fixture
def contract(app) -> Contract:
    return Contract(app.test_client().get("/openapi.json").get_json())


def test_document_is_valid_openapi_3_1(client):
    validator = pytest.importorskip("openapi_spec_validator")
    doc = client.get("/openapi.json").get_json()
    validator.validate(doc)  # raises on an invalid document
    assert doc["openapi"].startswith("3.1")


def test_document_matches_the_routes_of_the_app(app, contract):
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = rule.rule.replace("<uuid:uuid>", "{uuid}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((path, method.lower()))
    documented = {
        (path, method)
        for path, item in contract.doc["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert served == documented


def test_every_problem_type_is_documented(contract):
    problem = contract.doc["components"]["schemas"]["Problem"]
    assert sorted(problem["properties"]["type"]["enum"]) == [
        f"urn:titanic-api:problem:{kind}"
        for kind in (
            "bad-request",
            "http-error",
            "internal-error",
            "invalid-json",
            "method-not-allowed",
            "not-found",
            "payload-too-large",
            "service-unavailable",
            "unauthorized",
            "unsupported-media-type",
            "validation-error",
        )
    ]


def test_responses_conform_to_the_document(seeded_client, contract):
    c = seeded_client
    check = contract.check
    people = c.get("/people")
    check("/people", "GET", people)
    someone = people.get_json()[3]["uuid"]
    check("/people/{uuid}", "GET", c.get(f"/people/{someone}"))
    check("/people/{uuid}", "GET", c.get(f"/people/{uuid.uuid4()}"))
    check("/people/{uuid}", "GET", c.get("/people/nope"))
    created = c.post("/people", json=PERSON)
    check("/people", "POST", created)
    new_id = created.get_json()["uuid"]
    check("/people", "POST", c.post("/people", json={**PERSON, "age": -1}))
    check("/people", "POST", c.post("/people", data=b"{", content_type="application/json"))
    check("/people", "POST", c.post("/people", data=b"x", content_type="text/plain"))
    big = b'{"name": "' + b"x" * 70000 + b'"}'
    check("/people", "POST", c.post("/people", data=big, content_type="application/json"))
    check("/people", "POST", c.post("/people", json={**PERSON, "extra": True}))
    check("/people/{uuid}", "PUT", c.put(f"/people/{new_id}", json={**PERSON, "age": 31}))
    check("/people/{uuid}", "PUT", c.put(f"/people/{new_id}", json={"name": 1}))
    check("/people/{uuid}", "PUT", c.put(f"/people/{uuid.uuid4()}", json=PERSON))
    check("/people/{uuid}", "DELETE", c.delete(f"/people/{new_id}"))
    check("/people/{uuid}", "DELETE", c.delete(f"/people/{new_id}"))
    for path in ("/", "/healthz", "/readyz", "/metrics", "/openapi.json"):
        check(path, "GET", c.get(path))


def test_validator_catches_a_lying_response(contract, seeded_client):
    """The checker itself must be able to fail."""
    response = seeded_client.get("/healthz")
    response.set_data(b'{"no_status": true}')
    with pytest.raises(AssertionError):
        contract.check("/healthz", "GET", response)
    response = seeded_client.get(f"/people/{uuid.uuid4()}")
    response.status_code = 418
    with pytest.raises(AssertionError):
        contract.check("/people/{uuid}", "GET", response)


def test_503_problems_conform(contract):
    from titanic_api import create_app

    from conftest import make_settings
    from support import free_port

    app = create_app(make_settings(f"postgresql://u:p@127.0.0.1:{free_port()}/d"))
    c = app.test_client()
    contract.check("/people", "GET", c.get("/people"))
    contract.check("/people", "POST", c.post("/people", json=PERSON))
    contract.check("/people/{uuid}", "GET", c.get(f"/people/{uuid.uuid4()}"))
    contract.check("/people/{uuid}", "PUT", c.put(f"/people/{uuid.uuid4()}", json=PERSON))
    contract.check("/people/{uuid}", "DELETE", c.delete(f"/people/{uuid.uuid4()}"))
    contract.check("/readyz", "GET", c.get("/readyz"))


def test_401_problems_conform(contract, module_db):
    from titanic_api import create_app

    from conftest import make_settings

    app = create_app(make_settings(module_db[1], write_tokens=(WRITE_TOKEN,)))
    try:
        c = app.test_client()
        wrong = {"Authorization": "Bearer not-the-write-token-at-all"}
        contract.check("/people", "POST", c.post("/people", json=PERSON))
        contract.check("/people", "POST", c.post("/people", json=PERSON, headers=wrong))
        contract.check("/people/{uuid}", "PUT", c.put(f"/people/{uuid.uuid4()}", json=PERSON))
        response = c.delete(f"/people/{uuid.uuid4()}", headers=wrong)
        assert response.status_code == 401
        contract.check("/people/{uuid}", "DELETE", response)
    finally:
        app.extensions["titanic_db"].close()


# -- schemathesis against the running service --------------------------------------------------
# The service runs with a write token and schemathesis sends it: the writes it generates are
# served, and its ignored_auth check (in the randomised run) finds out whether a write without
# the token, or with another one, is refused.
WRITE_TOKEN = "schemathesis-write-token-0123456789"
AUTHORIZATION = {"Authorization": f"Bearer {WRITE_TOKEN}"}


def start_live_server(new_database, tmp) -> ServerProcess:
    """`titanic-api serve` on a freshly seeded database of its own, writes need WRITE_TOKEN."""
    _, dsn = new_database(seeded=True)
    env = clean_env(DATABASE_URL=dsn, TITANIC_LOG_LEVEL="WARNING", TITANIC_WRITE_TOKENS=WRITE_TOKEN)
    return ServerProcess(env, tmp, workers=2).start()


@pytest.fixture(scope="module")
def live_server(new_database, tmp_path_factory):
    server = start_live_server(new_database, tmp_path_factory.mktemp("schemathesis"))
    yield server
    assert server.stop() == 0


@pytest.fixture(scope="module")
def api_schema(live_server):
    loaded = schemathesis.openapi.from_url(live_server.url("/openapi.json"))
    loaded.config.update(headers=AUTHORIZATION)  # as `schemathesis run --header` does
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")

# No 5xx, and every response (status, content type, headers, body) as documented; every body the
# document allows is accepted and every other one rejected (its grammar is exact, the name's rule
# included); plus the stateful checks (undocumented methods are 405, a deleted person stays gone,
# a created one is found).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    positive_data_acceptance,
    negative_data_rejection,
    unsupported_method,
    use_after_free,
    ensure_resource_availability,
]


@schema.parametrize()
@settings(
    max_examples=30,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    deadline=None,
)
def test_schemathesis_property_based(case, live_server):
    session = requests.Session()
    case.call_and_validate(base_url=live_server.base_url, session=session, checks=CHECKS)


def test_schemathesis_stateful_workflows(api_schema, live_server):
    """Sequences following the document's links: create, then read/replace/delete that person."""
    base = api_schema.as_state_machine()
    seen: list[tuple[str, int]] = []

    class Workflow(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case):
            return {"base_url": live_server.base_url}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            seen.append((f"{case.method} {case.operation.path}", response.status_code))
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Workflow.run(
        settings=settings(
            max_examples=20,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    # the links were followed: people created in a workflow were then found by their uuid
    assert ("POST /people", 201) in seen
    assert any(s == 200 and op.endswith("/people/{uuid}") for op, s in seen), seen


# -- randomised: a new seed every run, printed, so that what it finds can be replayed -------------
SEED_ENV = "SCHEMATHESIS_SEED"
RANDOMISED_EXAMPLES = 60  # per operation and phase: 20 to 40 s on two busy cores


def randomised_seed() -> int:
    fixed = os.environ.get(SEED_ENV, "").strip()
    return int(fixed) if fixed else random.SystemRandom().randrange(2**32)


def test_schemathesis_randomised_run(new_database, tmp_path, capsys):
    """`schemathesis run` as users run it: every phase (stateful included), every check, its health
    checks on, and a new seed unless SCHEMATHESIS_SEED names one. The server is freshly seeded, so
    that a replay starts from the same data (generation also draws on the values it answers)."""
    seed = randomised_seed()
    replay = f"{SEED_ENV}={seed} pytest app/tests/test_openapi.py -k randomised"
    with capsys.disabled():
        print(f"\nschemathesis randomised run: seed {seed} (replay: {replay})", flush=True)
    server = start_live_server(new_database, tmp_path)
    report = tmp_path / "report.json"
    try:
        done = subprocess.run(
            [
                str(VENV_BIN / "schemathesis"), "run", server.url("/openapi.json"),
                f"--seed={seed}", f"--max-examples={RANDOMISED_EXAMPLES}",
                f"--header=Authorization: Bearer {WRITE_TOKEN}",
                "--phases=examples,coverage,fuzzing,stateful", "--checks=all",
                "--generation-database=none",  # no replay of earlier runs' finds: the seed decides
                "--no-color", "--report=json", f"--report-json-path={report}",
            ],
            cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    finally:
        assert server.stop() == 0
    found = f"seed {seed}, replay with: {replay}\n{done.stdout[-8000:]}{done.stderr[-2000:]}"
    assert done.returncode == 0, found
    result = json.loads(report.read_text())
    assert result["seed"] == seed, found
    phases = {name: phase["status"] for name, phase in result["phases"].items()}
    assert phases == {
        "examples": "skip",  # the document has no examples
        "coverage": "success",
        "fuzzing": "success",
        "stateful": "success",
    }, found
    assert not any(result["warnings"].values()), found  # e.g. a pattern it could not use
