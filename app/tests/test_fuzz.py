"""Property-based: no input yields a 500, and acceptance follows the contract's rules exactly."""

from __future__ import annotations

import json
import math
import re
import sys
import uuid

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from titanic_api.openapi import NAME_WHITESPACE

from support import valid_person

FIELDS = {
    "survived": st.booleans(),
    "passengerClass": st.sampled_from([1, 2, 3]),
    "name": st.text(min_size=1, max_size=20).filter(lambda s: s.strip()),
    "sex": st.sampled_from(["male", "female"]),
    "age": st.floats(min_value=0, max_value=150),
    "siblingsOrSpousesAboard": st.integers(min_value=0, max_value=2**31 - 1),
    "parentsOrChildrenAboard": st.integers(min_value=0, max_value=10) | st.just(4.0),
    "fare": st.floats(min_value=0, max_value=1e12),
}
INTEGER_FIELDS = {"passengerClass", "siblingsOrSpousesAboard", "parentsOrChildrenAboard"}
ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=300),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)


def is_valid(field: str, value) -> bool:
    """The contract's rules, written independently of the implementation."""
    if type(value) is float and value.is_integer() and field in INTEGER_FIELDS:
        value = int(value)  # JSON Schema: 3.0 is an integer
    if field == "survived":
        return type(value) is bool
    if field == "passengerClass":
        return type(value) is int and value in (1, 2, 3)
    if field == "name":
        return isinstance(value, str) and 1 <= len(value.strip()) <= 255 and "\x00" not in value
    if field == "sex":
        return value in ("male", "female") and isinstance(value, str)
    if field == "age":
        return type(value) in (int, float) and math.isfinite(value) and 0 <= value <= 150
    if field in ("siblingsOrSpousesAboard", "parentsOrChildrenAboard"):
        return type(value) is int and 0 <= value <= 2**31 - 1
    if field == "fare":
        return type(value) in (int, float) and math.isfinite(value) and value >= 0
    return False


@pytest.fixture(scope="module")
def person_input_schema(app) -> Draft202012Validator:
    """The served document's grammar of a POST/PUT body."""
    doc = app.test_client().get("/openapi.json").get_json()
    return Draft202012Validator(doc["components"]["schemas"]["PersonInput"])


@st.composite
def bodies(draw):
    person = {k: draw(strategy) for k, strategy in FIELDS.items()}
    for field in draw(st.sets(st.sampled_from(sorted(FIELDS)), max_size=3)):
        action = draw(st.sampled_from(["drop", "replace"]))
        if action == "drop":
            del person[field]
        else:
            person[field] = draw(ANY_JSON)
    if draw(st.booleans()) and draw(st.booleans()):
        person[draw(st.text(min_size=1, max_size=8))] = draw(ANY_JSON)
    return person


@settings(max_examples=250)
@given(body=bodies())
def test_post_accepts_exactly_the_valid_bodies(client, person_input_schema, body):
    raw = json.dumps(body).encode()
    r = client.post("/people", data=raw, content_type="application/json")
    assert r.status_code in (201, 400), r.data
    valid = set(body) == set(FIELDS) and all(is_valid(k, v) for k, v in body.items())
    assert (r.status_code == 201) == valid, (body, r.data)
    assert person_input_schema.is_valid(body) == valid, ("the document disagrees", body)
    if valid:
        created = r.get_json()
        stored = client.get(f"/people/{created['uuid']}").get_json()
        assert stored == created
        assert stored["name"] == body["name"].strip()
        assert stored["age"] == body["age"] and stored["fare"] == body["fare"]
    else:
        problem = r.get_json()
        assert r.mimetype == "application/problem+json"
        assert problem["status"] == 400
        assert {e["field"] for e in problem["errors"]} <= set(body) | set(FIELDS)


@settings(max_examples=150)
@given(
    raw=st.binary(max_size=200) | ANY_JSON.map(lambda v: json.dumps(v).encode()),
    method=st.sampled_from(["POST", "PUT"]),
    content_type=st.sampled_from(["application/json", "text/plain", "application/json; x=y"]),
)
def test_arbitrary_bytes_never_cause_a_server_error(client, raw, method, content_type):
    path = "/people" if method == "POST" else f"/people/{uuid.uuid4()}"
    r = client.open(path, method=method, data=raw, content_type=content_type)
    # the body is read first: a wrong type is 415, a bad body 400, and only then is the person
    # created (POST) or not found (PUT to a uuid nobody has)
    accepted = 201 if method == "POST" else 404
    assert r.status_code in ((415,) if content_type == "text/plain" else (400, accepted)), r.data
    if r.status_code != 201:
        assert r.mimetype == "application/problem+json"
        assert orjson.loads(r.data)["status"] == r.status_code


@settings(max_examples=150)
@given(segment=st.text(max_size=60))
def test_arbitrary_person_paths_never_cause_a_server_error(client, segment):
    r = client.get("/people/" + segment)
    # nobody is stored: not found, or a redirect to the path with its slashes merged
    assert r.status_code in (404, 308), r.data
    if r.status_code == 404:
        assert r.mimetype == "application/problem+json"


# -- names: the document's grammar is the app's (a schema-valid name was rejected) --------------
WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
NAME_CHARS = st.characters(codec="utf-8") | st.sampled_from(WHITESPACE + "\x00")
PADDING = st.text(st.sampled_from(WHITESPACE), max_size=3)
NAMES = st.text(NAME_CHARS, max_size=6) | st.builds(
    lambda before, length, after: before + "n" * length + after,
    PADDING,
    st.integers(min_value=250, max_value=260),
    PADDING,
)


def test_the_documents_whitespace_is_pythons():
    """The pattern spells out whitespace (ECMA's \\s differs): exactly what str.strip removes."""
    spelled_out = re.compile(f"[{NAME_WHITESPACE}]")
    assert [c for c in map(chr, range(sys.maxunicode + 1)) if spelled_out.fullmatch(c)] == list(
        WHITESPACE
    )


@settings(max_examples=200)
@given(name=NAMES)
# found by schemathesis: a NUL, and only whitespace by Python's rules but not by ECMA's \s
@example(name="q\x00O5\u00eb1")
@example(name="\x0b\x1e\x0c\n\t\t")
@example(name="\ufeff")  # not whitespace for Python (it is for ECMA): a valid name
def test_the_document_accepts_exactly_the_names_the_app_accepts(client, person_input_schema, name):
    body = valid_person(name=name)
    r = client.post("/people", data=json.dumps(body), content_type="application/json")
    assert r.status_code in (201, 400), r.data
    assert person_input_schema.is_valid(body) == (r.status_code == 201), (name, r.data)
    assert is_valid("name", name) == (r.status_code == 201), name
