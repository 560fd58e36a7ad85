"""The person resource: strict request validation (pydantic v2) and row -> JSON mapping."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

INT32_MAX = 2**31 - 1
NAME_MAX = 255
AGE_MAX = 150
FIELDS = (
    "survived",
    "passengerClass",
    "name",
    "sex",
    "age",
    "siblingsOrSpousesAboard",
    "parentsOrChildrenAboard",
    "fare",
)


def _integral_number(value: Any) -> Any:
    """JSON Schema's (and JSON's) notion of an integer: ``3.0`` is the integer 3.

    Only a float with no fractional part is converted; booleans, strings, ``1.5``, NaN and
    infinities are left alone for the strict validation to reject.
    """
    if type(value) is float and value.is_integer():
        return int(value)
    return value


Count = Annotated[int, BeforeValidator(_integral_number), Field(ge=0, le=INT32_MAX)]


class PersonIn(BaseModel):
    """A person as sent by a client (POST and PUT): every field required, nothing else allowed.

    Strict mode: ``true``, ``1`` and ``"1"`` are not interchangeable; numbers must be finite.
    As in JSON Schema (and the OpenAPI document), an integer may be written ``3`` or ``3.0``.
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    survived: bool
    passengerClass: Annotated[int, BeforeValidator(_integral_number), Field(ge=1, le=3)]  # noqa: N815
    name: str
    sex: Literal["male", "female"]
    age: Annotated[float, Field(ge=0, le=AGE_MAX)]
    siblingsOrSpousesAboard: Count  # noqa: N815 - the contract's field names
    parentsOrChildrenAboard: Count  # noqa: N815
    fare: Annotated[float, Field(ge=0)]

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be empty or only whitespace")
        if len(value) > NAME_MAX:
            raise ValueError(f"must be at most {NAME_MAX} characters after trimming")
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must be valid Unicode text") from None
        return value


class BodyError(Exception):
    """The request body is not acceptable; ``errors`` lists ``{field, message}`` items."""

    def __init__(self, detail: str, errors: list[dict[str, str]]) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "bool_type": "must be a boolean (true or false)",
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "string_type": "must be a string",
    "finite_number": "must be a finite number",
    "literal_error": "must be one of 'male', 'female'",
}


def _message(err: dict[str, Any]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind in ("greater_than_equal", "less_than_equal"):
        loc = err["loc"][0] if err["loc"] else ""
        bounds = {
            "passengerClass": "must be 1, 2 or 3",
            "age": f"must be between 0 and {AGE_MAX}",
            "fare": "must be 0 or more",
        }
        if loc in bounds:
            return bounds[loc]
        if kind == "greater_than_equal":
            return f"must be {ctx.get('ge')} or more"
        return f"must be {ctx.get('le')} or less"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return str(err["msg"])


def validate_person(data: Any) -> PersonIn:
    if not isinstance(data, dict):
        raise BodyError(
            "The request body must be a JSON object.",
            [{"field": "", "message": "must be a JSON object"}],
        )
    try:
        return PersonIn.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": _message(e)}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        fields = ", ".join(sorted({e["field"] for e in errors}))
        raise BodyError(f"The request body has invalid fields: {fields}.", errors) from None


def row_to_person(row: tuple) -> dict[str, Any]:
    """Map a ``SELECT_COLUMNS`` row to the contract's JSON object."""
    return {
        "uuid": str(row[0]),
        "survived": row[1],
        "passengerClass": row[2],
        "name": row[3],
        "sex": row[4],
        "age": row[5],
        "siblingsOrSpousesAboard": row[6],
        "parentsOrChildrenAboard": row[7],
        "fare": row[8],
    }


SELECT_COLUMNS = (
    "uuid::text, survived, passenger_class, name, sex, age, "
    "siblings_or_spouses_aboard, parents_or_children_aboard, fare"
)


def person_params(p: PersonIn) -> tuple:
    return (
        p.survived,
        p.passengerClass,
        p.name,
        p.sex,
        p.age,
        p.siblingsOrSpousesAboard,
        p.parentsOrChildrenAboard,
        p.fare,
    )


def row_document(row: tuple) -> str:
    """The stored ``people.doc`` of a ``SELECT_COLUMNS`` row: its exact GET body, as text."""
    return orjson.dumps(row_to_person(row)).decode()


def person_document(person_id: str, p: PersonIn) -> str:
    """``row_document`` of the row that storing ``p`` under ``person_id`` gives.

    The values take the Python types that psycopg2 reads back from the columns (a float column
    gives a float even for ``22``), so the document is byte for byte the body built from the row.
    """
    return row_document(
        (
            person_id,
            bool(p.survived),
            int(p.passengerClass),
            p.name,
            p.sex,
            float(p.age),
            int(p.siblingsOrSpousesAboard),
            int(p.parentsOrChildrenAboard),
            float(p.fare),
        )
    )
