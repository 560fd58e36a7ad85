"""RFC 9457 problem details (``application/problem+json``) and the app's error handlers."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import orjson
import psycopg2.errors
from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from .db import DatabaseUnavailable, StatementAborted
from .models import BodyError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:titanic-api:problem:"

# status -> (type suffix, default detail)
_DEFAULTS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "The request is malformed."),
    401: ("unauthorized", "Writes need a valid token: send Authorization: Bearer <token>."),
    404: ("not-found", "The requested resource does not exist."),
    405: ("method-not-allowed", "The method is not allowed for the requested URL."),
    413: ("payload-too-large", "The request body exceeds the configured limit."),
    415: ("unsupported-media-type", "The request body must be sent as application/json."),
    500: ("internal-error", "The server could not handle the request."),
    503: ("service-unavailable", "The database is unavailable; retry later."),
}

PROBLEM_TYPES = {
    "validation-error": "The request body has invalid fields (see errors).",
    "invalid-json": "The request body is not valid JSON.",
    "http-error": "Another HTTP error.",
    **dict(_DEFAULTS.values()),
}


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem body."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        kind: str | None = None,
        title: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        default_kind, default_detail = _DEFAULTS.get(status, ("http-error", ""))
        super().__init__(detail or default_detail)
        self.status = status
        self.kind = kind or default_kind
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail or default_detail or HTTPStatus(status).description
        self.errors = errors
        self.headers = headers or {}


def database_unavailable() -> Problem:
    return Problem(503, headers={"Retry-After": "1"})


def statement_aborted() -> Problem:
    # Every statement of a request is its own transaction, and the aborted one was rolled back.
    return Problem(
        503,
        "The database cancelled the request (a timeout or a conflict with another request); "
        "nothing was changed. Retry later.",
        headers={"Retry-After": "1"},
    )


def for_database_error(exc: DatabaseUnavailable) -> Problem:
    """The problem a client gets when the database could not serve its request."""
    if isinstance(exc, StatementAborted):
        return statement_aborted()
    log.warning("database unavailable: %s", exc)
    return database_unavailable()


def problem_response(problem: Problem) -> Response:
    body: dict[str, Any] = {
        "type": TYPE_BASE + problem.kind,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.errors is not None:
        body["errors"] = problem.errors
    response = Response(orjson.dumps(body), status=problem.status, mimetype=PROBLEM_JSON)
    for key, value in problem.headers.items():
        response.headers[key] = value
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Response:
        return problem_response(exc)

    @app.errorhandler(BodyError)
    def _body(exc: BodyError) -> Response:
        return problem_response(
            Problem(
                400,
                exc.detail,
                kind="validation-error",
                title="Invalid request body",
                errors=exc.errors,
            )
        )

    @app.errorhandler(DatabaseUnavailable)
    def _db_down(exc: DatabaseUnavailable) -> Response:
        return problem_response(for_database_error(exc))

    # No table: the schema was never created. No column: a newer app on a database not yet
    # upgraded (/readyz says so as well). Either way, 503 until `db upgrade` has run.
    @app.errorhandler(psycopg2.errors.UndefinedTable)
    @app.errorhandler(psycopg2.errors.UndefinedColumn)
    def _schema_behind(exc: Exception) -> Response:
        state = "missing" if isinstance(exc, psycopg2.errors.UndefinedTable) else "out of date"
        log.error("database schema %s: %s", state, str(exc).splitlines()[0])
        detail = "not initialised" if state == "missing" else "not current"
        return problem_response(
            Problem(
                503,
                f"The database schema is {detail}; run 'titanic-api db upgrade'.",
                headers={"Retry-After": "5"},
            )
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        if status >= 500:
            log.error("http error %s", status)
        headers = {}
        if status == 405:
            allow = dict(exc.get_headers()).get("Allow")
            if allow:
                headers["Allow"] = allow
        return problem_response(Problem(status, headers=headers))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # Logged with its traceback for operators; the client only gets a generic problem.
        log.exception("unhandled error")
        return problem_response(Problem(500))
