"""The OpenAPI 3.1 document of the service, built in code and kept true by the test suite."""

from __future__ import annotations

from typing import Any

from .models import AGE_MAX, INT32_MAX, NAME_MAX
from .problems import PROBLEM_JSON, PROBLEM_TYPES, TYPE_BASE

_REF = "#/components/"
WRITE_AUTH_SCHEME = "writeToken"
# The name rule of the contract as a JSON Schema pattern, so that the document is an exact input
# grammar: 1 to NAME_MAX characters from the first to the last one that is not whitespace (what
# the app keeps after str.strip), and no NUL anywhere (PostgreSQL text cannot hold it).
# Whitespace is spelled out as Python's str.isspace set: ECMA's \s (which generators and validators
# of other languages use) differs from Python's, so \s would mean two things.
NAME_WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NAME_PATTERN = (
    rf"^[{NAME_WHITESPACE}]*[^{NAME_WHITESPACE}\x00]"
    rf"(?:[^\x00]{{0,{NAME_MAX - 2}}}[^{NAME_WHITESPACE}\x00])?[{NAME_WHITESPACE}]*$"
)


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": _REF + "schemas/Problem"}}},
    }


def _json(description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
        **extra,
    }


def _links_to_person() -> dict[str, Any]:
    """OpenAPI links: the person in this response is reachable by its uuid."""
    param = {"uuid": "$response.body#/uuid"}
    return {
        "GetPerson": {"operationId": "getPerson", "parameters": param},
        "ReplacePerson": {"operationId": "replacePerson", "parameters": param},
        "DeletePerson": {"operationId": "deletePerson", "parameters": param},
    }


def build(version: str) -> dict[str, Any]:
    person_fields: dict[str, Any] = {
        "survived": {"type": "boolean"},
        "passengerClass": {"type": "integer", "enum": [1, 2, 3]},
        "name": {
            "type": "string",
            "minLength": 1,
            "pattern": NAME_PATTERN,
            "description": (
                f"1 to {NAME_MAX} characters after trimming surrounding whitespace, "
                "no NUL character."
            ),
        },
        "sex": {"type": "string", "enum": ["male", "female"]},
        "age": {"type": "number", "minimum": 0, "maximum": AGE_MAX},
        "siblingsOrSpousesAboard": {"type": "integer", "minimum": 0, "maximum": INT32_MAX},
        "parentsOrChildrenAboard": {"type": "integer", "minimum": 0, "maximum": INT32_MAX},
        "fare": {"type": "number", "minimum": 0},
    }
    required = list(person_fields)
    person_in = {
        "type": "object",
        "description": "A person as sent by clients: every field required, no other field.",
        "properties": person_fields,
        "required": required,
        "additionalProperties": False,
    }
    person = {
        "type": "object",
        "properties": {"uuid": {"type": "string", "format": "uuid"}, **person_fields},
        "required": ["uuid", *required],
        "additionalProperties": False,
    }
    person["properties"]["name"] = {"type": "string", "minLength": 1, "maxLength": NAME_MAX}

    uuid_param = {
        "name": "uuid",
        "in": "path",
        "required": True,
        "description": "The person's UUID; a malformed one is answered with 404.",
        "schema": {"type": "string", "format": "uuid"},
    }
    request_id_header = {
        "description": "The request id: the client's valid X-Request-ID, or a generated one.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 128},
    }
    std_headers = {"X-Request-ID": {"$ref": _REF + "headers/RequestId"}}
    body_errors = {
        "400": {"$ref": _REF + "responses/BadRequest"},
        "413": {"$ref": _REF + "responses/PayloadTooLarge"},
        "415": {"$ref": _REF + "responses/UnsupportedMediaType"},
    }
    common = {
        "405": {"$ref": _REF + "responses/MethodNotAllowed"},
        "500": {"$ref": _REF + "responses/InternalError"},
    }
    data_errors = {**common, "503": {"$ref": _REF + "responses/Unavailable"}}
    # Writes declare the bearer scheme; a service configured without tokens does not ask for it.
    write_security = [{WRITE_AUTH_SCHEME: []}]
    unauthorized = {"401": {"$ref": _REF + "responses/Unauthorized"}}
    person_body = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": _REF + "schemas/PersonInput"}}},
    }
    person_ref = {"$ref": _REF + "schemas/Person"}

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Titanic API",
            "version": version,
            "description": "The passengers of the Titanic, kept in PostgreSQL and served as JSON.",
        },
        "paths": {
            "/people": {
                "get": {
                    "operationId": "listPeople",
                    "summary": "Every person",
                    "responses": {
                        "200": _json(
                            "Every person.",
                            {"type": "array", "items": person_ref},
                            headers=std_headers,
                        ),
                        **data_errors,
                    },
                },
                "post": {
                    "operationId": "createPerson",
                    "summary": "Add a person",
                    "security": write_security,
                    "requestBody": person_body,
                    "responses": {
                        "201": _json(
                            "The created person.",
                            person_ref,
                            links=_links_to_person(),
                            headers={
                                **std_headers,
                                "Location": {
                                    "description": "The URL of the created person.",
                                    "required": True,
                                    "schema": {"type": "string"},
                                },
                            },
                        ),
                        **unauthorized,
                        **body_errors,
                        **data_errors,
                    },
                },
            },
            "/people/{uuid}": {
                "parameters": [uuid_param],
                "get": {
                    "operationId": "getPerson",
                    "summary": "One person",
                    "responses": {
                        "200": _json("The person.", person_ref, headers=std_headers),
                        "404": {"$ref": _REF + "responses/NotFound"},
                        **data_errors,
                    },
                },
                "put": {
                    "operationId": "replacePerson",
                    "summary": "Replace a person",
                    "security": write_security,
                    "requestBody": person_body,
                    "responses": {
                        "200": _json(
                            "The updated person.",
                            person_ref,
                            headers=std_headers,
                            links=_links_to_person(),
                        ),
                        "404": {"$ref": _REF + "responses/NotFound"},
                        **unauthorized,
                        **body_errors,
                        **data_errors,
                    },
                },
                "delete": {
                    "operationId": "deletePerson",
                    "summary": "Delete a person",
                    "security": write_security,
                    "responses": {
                        "204": {"description": "Deleted.", "headers": std_headers},
                        "404": {"$ref": _REF + "responses/NotFound"},
                        **unauthorized,
                        **data_errors,
                    },
                },
            },
            "/": {
                "get": {
                    "operationId": "describeService",
                    "summary": "A short description of the service",
                    "responses": {
                        "200": _json("The service.", {"$ref": _REF + "schemas/Service"}),
                        **common,
                    },
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "liveness",
                    "summary": "Liveness: the process can serve (the database is not consulted)",
                    "responses": {
                        "200": _json("Alive.", {"$ref": _REF + "schemas/Status"}),
                        **common,
                    },
                }
            },
            "/readyz": {
                "get": {
                    "operationId": "readiness",
                    "summary": "Readiness: the database answers and its schema is current",
                    "responses": {
                        "200": _json("Ready.", {"$ref": _REF + "schemas/Status"}),
                        **data_errors,
                    },
                }
            },
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "summary": "Prometheus metrics (text exposition format 0.0.4)",
                    "description": (
                        "titanic_http_requests_total and "
                        "titanic_http_request_duration_seconds by method, route template and "
                        "status; titanic_db_pool_connections by state; titanic_build_info."
                    ),
                    "responses": {
                        "200": {
                            "description": "The metrics.",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                        **common,
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": _json("The OpenAPI 3.1 document.", {"type": "object"}),
                        **common,
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Person": person,
                "PersonInput": person_in,
                "Problem": {
                    "type": "object",
                    "description": "RFC 9457 problem details.",
                    "properties": {
                        "type": {
                            "type": "string",
                            "enum": [TYPE_BASE + k for k in sorted(PROBLEM_TYPES)],
                        },
                        "title": {"type": "string"},
                        "status": {"type": "integer", "minimum": 400, "maximum": 599},
                        "detail": {"type": "string"},
                        "errors": {
                            "type": "array",
                            "description": "For validation errors: the offending fields.",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "field": {"type": "string"},
                                    "message": {"type": "string"},
                                },
                                "required": ["field", "message"],
                                "additionalProperties": False,
                            },
                        },
                    },
                    "required": ["type", "title", "status", "detail"],
                    "additionalProperties": False,
                },
                "Status": {
                    "type": "object",
                    "properties": {"status": {"type": "string"}},
                    "required": ["status"],
                },
                "Service": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "version": {"type": "string"},
                        "description": {"type": "string"},
                        "links": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                        },
                    },
                    "required": ["name", "version", "links"],
                },
            },
            "headers": {"RequestId": request_id_header},
            "securitySchemes": {
                WRITE_AUTH_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": (
                        "Writes (POST, PUT, DELETE) need one of the tokens the service is "
                        "configured with (TITANIC_WRITE_TOKENS or TITANIC_WRITE_TOKENS_FILE); "
                        "a service configured without tokens accepts writes without one. "
                        "Reads are public."
                    ),
                }
            },
            "responses": {
                "BadRequest": _problem(
                    "The body is not JSON, not an object, has a missing or unknown field, or a "
                    "value of the wrong type or out of range."
                ),
                "NotFound": _problem("No person has this uuid, or the uuid is malformed."),
                "MethodNotAllowed": _problem("The method is not allowed on this path."),
                "PayloadTooLarge": _problem("The body exceeds the configured limit."),
                "UnsupportedMediaType": _problem("The body is not sent as application/json."),
                "InternalError": _problem("An unexpected error (no details are disclosed)."),
                "Unauthorized": {
                    **_problem("A write without a valid bearer token; nothing was changed."),
                    "headers": {
                        "WWW-Authenticate": {
                            "description": 'The challenge: Bearer realm="titanic" (with '
                            'error="invalid_token" when a token was sent but is not valid).',
                            "required": True,
                            "schema": {"type": "string", "pattern": "^Bearer "},
                        }
                    },
                },
                "Unavailable": _problem(
                    "The database is unreachable, or cancelled the request (a timeout or a "
                    "conflict with another request; nothing was changed); retry later."
                ),
            },
        },
    }
