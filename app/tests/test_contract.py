"""docs/api.md (the HTTP contract) and the served /openapi.json describe the same API.

The contract's tables and error rules are read from the Markdown itself, so a change on either
side (a path, a method, a status code, a field, its type or range) fails here until the other
side follows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from support import resolve_ref

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "api.md"
PROBLEM_JSON = "application/problem+json"
JSON_TYPES = {"string", "boolean", "integer", "number", "object", "array"}
PEOPLE_PREFIX = "/people"


# -- reading the contract ----------------------------------------------------------------------
def sections(text: str) -> dict[str, str]:
    """``## Heading`` -> the text under it; ``""`` -> the text before the first heading."""
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    titled = zip(parts[1::2], parts[2::2], strict=True)
    return {"": parts[0], **{title.strip(): body for title, body in titled}}


def table(section: str) -> list[list[str]]:
    """The rows of the first Markdown table in ``section``, without header and rule."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.lstrip().startswith("|")
    ]
    assert len(rows) > 2 and set(rows[1][0]) <= set("-: "), f"no table in:\n{section}"
    return rows[2:]


def code(cell: str) -> str:
    """The text of a cell written as `code`."""
    match = re.fullmatch(r"`([^`]+)`", cell)
    assert match, f"expected a `code` cell, got {cell!r}"
    return match.group(1)


def statuses(text: str) -> list[str]:
    return re.findall(r"\b([1-5]\d\d)\b", text)


@pytest.fixture(scope="module")
def contract() -> dict[str, str]:
    return sections(CONTRACT.read_text(encoding="utf-8"))


# -- reading the served document ---------------------------------------------------------------
class Served:
    def __init__(self, doc: dict) -> None:
        self.doc = doc

    def resolve(self, node: dict) -> dict:
        return resolve_ref(self.doc, node)

    def operations(self) -> dict[tuple[str, str], dict]:
        return {
            (method.upper(), path): operation
            for path, item in self.doc["paths"].items()
            for method, operation in item.items()
            if method != "parameters"
        }

    def responses(self, method: str, path: str) -> dict[str, dict]:
        declared = self.operations()[(method, path)]["responses"]
        return {status: self.resolve(response) for status, response in declared.items()}

    def schema(self, name: str) -> dict:
        return self.doc["components"]["schemas"][name]

    def body_schema(self, method: str, path: str) -> dict | None:
        body = self.operations()[(method, path)].get("requestBody")
        if body is None:
            return None
        return self.resolve(self.resolve(body)["content"]["application/json"]["schema"])


@pytest.fixture(scope="module")
def served(app) -> Served:
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    return Served(response.get_json())


# -- the person resource -----------------------------------------------------------------------
def person_rows(contract) -> dict[str, tuple[str, str]]:
    return {
        code(field): (kind, rule) for field, kind, rule in table(contract["The person resource"])
    }


def test_the_example_person_is_valid(contract, served):
    example = re.search(r"Example: `(\{.+?\})`", contract["The person resource"], re.S)
    assert example, "no example person"
    person = json.loads(example.group(1).replace("\n", " "))
    validator = Draft202012Validator(
        served.schema("Person"), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    assert not list(validator.iter_errors(person))


def test_person_fields_and_types_are_the_same(contract, served):
    rows = person_rows(contract)
    person = served.schema("Person")["properties"]
    assert set(rows) == set(person)
    for field, (kind, _) in rows.items():
        assert kind in JSON_TYPES, f"{field}: {kind!r} is not a JSON type"
        assert person[field]["type"] == kind, field


def test_required_and_read_only_fields(contract, served):
    rows = person_rows(contract)
    person, person_in = served.schema("Person"), served.schema("PersonInput")
    read_only = {f for f, (_, rule) in rows.items() if "read-only" in rule}
    required = {f for f, (_, rule) in rows.items() if rule.startswith("required")}
    assert read_only == {"uuid"}
    assert set(person_in["properties"]) == set(rows) - read_only
    assert set(person_in["required"]) == required
    assert person_in["additionalProperties"] is False  # "a missing or unknown field: 400"
    assert set(person["required"]) == set(rows)
    assert person["properties"]["uuid"]["format"] == "uuid"


def test_ranges_and_choices_are_the_same(contract, served):
    """Every range or set of choices a rule names is the schema's, in and out."""
    checked = set()
    for field, (_, rule) in person_rows(contract).items():
        schemas = [served.schema("Person")["properties"][field]]
        if field in served.schema("PersonInput")["properties"]:
            schemas.append(served.schema("PersonInput")["properties"][field])
        for schema in schemas:
            if choices := re.search(r"(\d+), (\d+) or (\d+)", rule):
                assert schema["enum"] == [int(n) for n in choices.groups()], field
            elif choices := re.search(r"`(\w+)` or `(\w+)`", rule):
                assert schema["enum"] == list(choices.groups()), field
            elif length := re.search(r"(\d+) to (\d+) characters after trimming", rule):
                assert_name_length(schema, *map(int, length.groups()))
            elif span := re.search(r"(\d+) to (\d+)\b", rule):
                assert (schema["minimum"], schema["maximum"]) == tuple(map(int, span.groups()))
            elif least := re.search(r"(\d+) or more", rule):
                assert schema["minimum"] == int(least.group(1)), field
            else:
                continue
            checked.add(field)
    # every field with a rule beyond "required"/"read-only" was compared
    assert checked == {f for f, (_, rule) in person_rows(contract).items() if "," in rule}


def assert_name_length(schema: dict, shortest: int, longest: int) -> None:
    """Stored names are trimmed: at most ``longest``. Sent ones may carry spaces around."""
    assert schema["minLength"] == shortest
    if "pattern" not in schema:  # the stored (response) name
        assert schema["maxLength"] == longest
        return
    accepts = re.compile(schema["pattern"]).search
    assert accepts("x" * shortest) and accepts("x" * longest)
    assert accepts("  " + "x" * longest + " \t")
    assert not accepts("x" * (longest + 1))
    assert not accepts(" " * longest)


# -- the endpoints -----------------------------------------------------------------------------
def endpoint_rows(contract) -> dict[tuple[str, str], tuple[str, str]]:
    rows = table(contract["Endpoints existing clients use"])
    return {(verb, code(path)): (body, success) for verb, path, body, success in rows}


def operational_rows(contract) -> dict[str, str]:
    return {code(path): meaning for path, meaning in table(contract["Operational endpoints"])}


def test_every_operation_is_in_both(contract, served):
    assert "the five `/people` endpoints below" in contract[""]
    assert len(endpoint_rows(contract)) == 5
    documented = set(endpoint_rows(contract)) | {("GET", p) for p in operational_rows(contract)}
    assert set(served.operations()) == documented


def test_endpoints_answer_as_the_contract_says(contract, served):
    person_ref = "#/components/schemas/Person"
    for (verb, path), (body, success) in endpoint_rows(contract).items():
        responses = served.responses(verb, path)
        status = statuses(success)[0]  # "204 (or 200)": the first is the one served
        assert status in responses, f"{verb} {path}: {status} not in {sorted(responses)}"
        content = responses[status].get("content", {}).get("application/json", {})
        if "array of every person" in success:
            assert content["schema"] == {"type": "array", "items": {"$ref": person_ref}}
        elif "person" in success:
            assert content["schema"] == {"$ref": person_ref}, (verb, path)
        else:
            assert not content, f"{verb} {path}: {status} has a body"
        if "`Location` header" in success:
            assert responses[status]["headers"]["Location"]["required"] is True
        sent = served.body_schema(verb, path)
        if body == "—":
            assert sent is None, f"{verb} {path} takes a body"
        else:
            assert "person without `uuid`" in body
            assert sent is served.schema("PersonInput")


def test_operational_endpoints_answer_as_the_contract_says(contract, served):
    for path, meaning in operational_rows(contract).items():
        responses = served.responses("GET", path)
        assert set(statuses(meaning)) <= set(responses), path
        assert "200" in responses, path
        kind = "text/plain" if "Prometheus text" in meaning else "application/json"
        assert set(responses["200"]["content"]) == {kind}, path


# -- the errors --------------------------------------------------------------------------------
def error_rules(contract) -> list[str]:
    return [
        line.removeprefix("- ")
        for line in contract["Errors"].replace("\n  ", " ").splitlines()
        if line.startswith("- ")
    ]


def test_error_statuses_are_declared_where_the_contract_names_them(contract, served):
    people = {op: o for op, o in served.operations().items() if op[1].startswith(PEOPLE_PREFIX)}
    # what each rule is about, by how it begins -> the operations it applies to
    scopes = {
        "Unknown or malformed `{uuid}`": [op for op in people if "{uuid}" in op[1]],
        "Body": [op for op in people if served.body_schema(*op) is not None],
        "Database unreachable": [*people, ("GET", "/readyz")],
    }
    rules = error_rules(contract)
    matched = 0
    for rule in rules:
        scope = next((ops for key, ops in scopes.items() if rule.startswith(key)), None)
        if scope is None:
            continue
        matched += 1
        named = statuses(rule)
        assert named and scope, rule
        for method, path in scope:
            missing = set(named) - set(served.responses(method, path))
            assert not missing, f"{method} {path} does not declare {sorted(missing)} ({rule})"
    assert matched == 4, rules  # the 404, 400/415, 413 and 503 rules


def test_every_error_is_a_problem_with_the_fields_the_contract_names(contract, served):
    rule = next(r for r in error_rules(contract) if r.startswith("Every error body"))
    assert f"`{PROBLEM_JSON}`" in rule
    named = re.findall(r"`(\w+)`", rule.split(":", 1)[1].split(", and")[0])
    problem = served.schema("Problem")
    assert set(problem["required"]) == set(named)
    assert "list of offending fields" in rule
    assert problem["properties"]["errors"]["type"] == "array"
    for (method, path), _ in served.operations().items():
        for status, response in served.responses(method, path).items():
            if int(status) >= 400:
                schema = response["content"][PROBLEM_JSON]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path, status)


def test_writes_declare_bearer_authentication(contract, served):
    rule = contract["Write authentication (where configured)"]
    assert "401" in statuses(rule) and "Bearer" in rule
    schemes = served.doc.get("components", {}).get("securitySchemes", {})
    assert any(s.get("scheme") == "bearer" for s in schemes.values()), schemes
    for (method, path), operation in served.operations().items():
        if method in ("POST", "PUT", "DELETE"):
            assert "401" in served.responses(method, path), (method, path)
            assert operation.get("security"), (method, path)
