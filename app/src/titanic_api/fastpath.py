"""A WSGI fast path for the two hot read endpoints: ``GET /people`` and ``GET /people/<uuid>``.

They are what clients (and the benchmark) hit most, and Flask's request machinery costs more
than the query itself. This thin layer in front of the Flask app answers exactly those two
requests with the same bodies, headers, problems, access log lines and metrics as the Flask
routes (it calls the same query functions and problem builders), and hands every other request
- or anything unexpected - to Flask unchanged.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from . import api, problems, telemetry
from .db import DatabaseUnavailable

_PERSON_PATH = re.compile(
    r"/people/([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})"
)
LIST_ROUTE = "/people"
PERSON_ROUTE = "/people/<uuid>"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class FastPath:
    def __init__(self, app: Flask, wsgi_app: WSGIApp) -> None:
        self.flask_wsgi = wsgi_app
        self.db = app.extensions["titanic_db"]
        self.cache = app.extensions["titanic_list_cache"]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        if environ.get("REQUEST_METHOD") != "GET":
            return self.flask_wsgi(environ, start_response)
        path = environ.get("PATH_INFO", "")
        if path == LIST_ROUTE:
            route, person_id = LIST_ROUTE, None
        else:
            match = _PERSON_PATH.fullmatch(path)
            if match is None:
                return self.flask_wsgi(environ, start_response)
            route, person_id = PERSON_ROUTE, match.group(1).lower()

        started = time.perf_counter()
        rid = telemetry.request_id(environ.get("HTTP_X_REQUEST_ID"))
        try:
            if person_id is None:
                body = api.list_body(self.db, self.cache)
            else:
                body = api.person_body(self.db, person_id)
        except DatabaseUnavailable as exc:
            problem = problems.for_database_error(exc)
        except Exception:
            # Anything unusual: let Flask run the request and its error handlers.
            return self.flask_wsgi(environ, start_response)
        else:
            if body is not None:
                start_response(
                    "200 OK",
                    [
                        ("Content-Type", "application/json"),
                        ("Content-Length", str(len(body))),
                        (telemetry.REQUEST_ID_HEADER, rid),
                    ],
                )
                self._record(environ, route, path, 200, started, rid)
                return [body]
            problem = api.not_found(person_id or "")

        response = problems.problem_response(problem)
        response.headers[telemetry.REQUEST_ID_HEADER] = rid
        self._record(environ, route, path, response.status_code, started, rid)
        return response(environ, start_response)

    @staticmethod
    def _record(
        environ: dict[str, Any], route: str, path: str, status: int, started: float, rid: str
    ) -> None:
        telemetry.record(
            method="GET",
            route=route,
            path=path,
            status=status,
            seconds=time.perf_counter() - started,
            rid=rid,
            remote_addr=environ.get("REMOTE_ADDR"),
        )
