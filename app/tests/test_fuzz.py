"""Property-based: no input yields a 500, and acceptance follows the contract's rules exactly."""

from __future__ import annotations

import json
import math
import uuid

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

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
def test_post_accepts_exactly_the_valid_bodies(client, body):
    raw = json.dumps(body).encode()
    r = client.post("/people", data=raw, content_type="application/json")
    assert r.status_code in (201, 400), r.data
    valid = set(body) == set(FIELDS) and all(is_valid(k, v) for k, v in body.items())
    assert (r.status_code == 201) == valid, (body, r.data)
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
    assert r.status_code in (201, 400, 404, 415), r.data
    if r.status_code != 201:
        assert r.mimetype == "application/problem+json"
        assert orjson.loads(r.data)["status"] == r.status_code


@settings(max_examples=150)
@given(segment=st.text(max_size=60))
def test_arbitrary_person_paths_never_cause_a_server_error(client, segment):
    r = client.get("/people/" + segment)
    assert r.status_code in (200, 404, 405, 308), r.data
    if r.status_code == 404:
        assert r.mimetype == "application/problem+json"
