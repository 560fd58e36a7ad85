"""The /people endpoints of the contract."""

from __future__ import annotations

import uuid as uuid_mod
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, request
from werkzeug.routing import BaseConverter

from .auth import WriteTokens
from .db import Database, Prepared
from .models import (
    SELECT_COLUMNS,
    PersonIn,
    person_document,
    person_params,
    row_to_person,
    validate_person,
)
from .problems import Problem

bp = Blueprint("people", __name__)

JSON = "application/json"

_SELECT_ALL = f"SELECT {SELECT_COLUMNS} FROM people ORDER BY seq"  # noqa: S608 - constant
# The hot reads, prepared per connection. A person's stored document (migration 0002) is the
# exact body; it is NULL only after a write that did not set it, and then the columns serve.
_SELECT_DOC = Prepared("titanic_person_doc", "SELECT doc FROM people WHERE uuid = $1", ("uuid",))
_SELECT_ONE = Prepared(
    "titanic_person",
    f"SELECT {SELECT_COLUMNS} FROM people WHERE uuid = $1",  # noqa: S608 - constant
    ("uuid",),
)
_REVISION = Prepared(
    "titanic_revision", "SELECT epoch::text, revision FROM people_revision WHERE id = 1"
)
# Every write stores the person's document along with the columns it is made of.
_INSERT = (
    "INSERT INTO people (uuid, survived, passenger_class, name, sex, age, "
    "siblings_or_spouses_aboard, parents_or_children_aboard, fare, doc) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_UPDATE = (
    "UPDATE people SET survived = %s, passenger_class = %s, name = %s, sex = %s, age = %s, "
    "siblings_or_spouses_aboard = %s, parents_or_children_aboard = %s, fare = %s, doc = %s, "
    "updated_at = now() WHERE uuid = %s"
)
_DELETE = "DELETE FROM people WHERE uuid = %s"


class UUIDConverter(BaseConverter):
    """Matches only canonical hyphenated UUIDs (anything else is a 404) and keeps them as text."""

    regex = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"

    def to_python(self, value: str) -> str:
        return value.lower()

    def to_url(self, value: Any) -> str:
        return str(value)


class ListCache:
    """The serialized GET /people body of this process, keyed on the database's revision."""

    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state: tuple[Any, bytes] | None = None


def not_found(person_id: str) -> Problem:
    return Problem(404, f"No person has the uuid {person_id}.")


def _db() -> Database:
    return current_app.extensions["titanic_db"]


def _json(body: bytes, status: int = 200) -> Response:
    return Response(body, status=status, mimetype=JSON)


def _read_person() -> PersonIn:
    if request.mimetype != JSON:
        raise Problem(415, "The request body must be sent with Content-Type: application/json.")
    raw = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH: 413
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Problem(
            400, f"The request body is not valid JSON: {exc}", kind="invalid-json"
        ) from None
    return validate_person(data)


def list_body(db: Database, cache: ListCache) -> bytes:
    """The serialized list of every person (cached per process, keyed on the DB revision)."""

    def work(cur) -> bytes:
        _REVISION.execute(cur)
        key = cur.fetchone()
        state = cache.state
        if state is not None and key is not None and state[0] == key:
            return state[1]
        # Rows are read after the revision (a later snapshot), so the body cached under a key is
        # never older than that key: at worst newer, and then replaced on the next request.
        cur.execute(_SELECT_ALL)
        body = orjson.dumps([row_to_person(r) for r in cur.fetchall()])
        if key is not None:
            cache.state = (key, body)
        return body

    return db.run(work, retry=True)


def person_body(db: Database, person_id: str) -> bytes | None:
    """The serialized person, or None if no person has this (canonical, lower-case) uuid."""

    found = db.fetchone(_SELECT_DOC, (person_id,))
    if found is None:
        return None
    if found[0] is not None:
        return found[0].encode()
    row = db.fetchone(_SELECT_ONE, (person_id,))
    return None if row is None else orjson.dumps(row_to_person(row))


@bp.before_request
def _authorize_writes() -> None:
    # Runs for matched /people routes only: an unknown path or method stays a 404 or 405.
    tokens: WriteTokens = current_app.extensions["titanic_write_tokens"]
    tokens.check(request.method, request.headers.get("Authorization"))


@bp.get("/people")
def list_people() -> Response:
    return _json(list_body(_db(), current_app.extensions["titanic_list_cache"]))


@bp.post("/people")
def create_person() -> Response:
    person = _read_person()
    new_id = str(uuid_mod.uuid4())

    def work(cur) -> None:
        cur.execute(_INSERT, (new_id, *person_params(person), person_document(new_id, person)))

    _db().run(work)  # committed before we answer
    body = {"uuid": new_id, **person.model_dump()}
    response = _json(orjson.dumps(body), 201)
    response.headers["Location"] = f"{request.script_root}/people/{new_id}"
    return response


@bp.get("/people/<uuid:uuid>")
def get_person(uuid: str) -> Response:
    body = person_body(_db(), uuid)
    if body is None:
        raise not_found(uuid)
    return _json(body)


@bp.put("/people/<uuid:uuid>")
def replace_person(uuid: str) -> Response:
    person = _read_person()

    def work(cur) -> int:
        cur.execute(_UPDATE, (*person_params(person), person_document(uuid, person), uuid))
        return cur.rowcount

    if _db().run(work) == 0:
        raise not_found(uuid)
    return _json(orjson.dumps({"uuid": uuid, **person.model_dump()}))


@bp.delete("/people/<uuid:uuid>")
def delete_person(uuid: str) -> Response:
    def work(cur) -> int:
        cur.execute(_DELETE, (uuid,))
        return cur.rowcount

    if _db().run(work) == 0:
        raise not_found(uuid)
    return Response(status=204)
