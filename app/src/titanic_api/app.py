"""The Flask application factory."""

from __future__ import annotations

import time
from typing import Any

import orjson
from flask import Flask, Response, g, request
from flask.json.provider import JSONProvider

from . import __version__, api, auth, fastpath, metrics, ops, problems, telemetry
from . import logging as app_logging
from . import openapi as openapi_doc
from .db import Database
from .settings import Settings, load_settings


class OrjsonProvider(JSONProvider):
    """Flask's JSON (jsonify, request.get_json) through orjson."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)


def create_app(settings: Settings | None = None) -> Flask:
    if settings is None:
        settings = load_settings()
    app_logging.configure_logging(settings.log_level)

    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["TITANIC_SETTINGS"] = settings
    app.url_map.converters["uuid"] = api.UUIDConverter

    db = Database(
        settings.database_dsn,
        minconn=settings.db_pool_min,
        maxconn=settings.db_pool_max,
        connect_timeout=settings.db_connect_timeout,
        statement_timeout_ms=settings.db_statement_timeout_ms,
        previous_dsn=settings.database_previous_dsn,
    )
    app.extensions["titanic_db"] = db
    app.extensions["titanic_write_tokens"] = auth.WriteTokens(settings.write_tokens)
    app.extensions["titanic_list_cache"] = api.ListCache()
    app.extensions["titanic_openapi"] = orjson.dumps(openapi_doc.build(__version__))
    app.extensions["titanic_index"] = orjson.dumps(
        {
            "name": "titanic-api",
            "version": __version__,
            "description": "The passengers of the Titanic, kept in PostgreSQL and served as JSON.",
            "links": {
                "people": "/people",
                "openapi": "/openapi.json",
                "health": "/healthz",
                "ready": "/readyz",
                "metrics": "/metrics",
            },
        }
    )

    app.register_blueprint(api.bp)
    app.register_blueprint(ops.bp)
    problems.register_error_handlers(app)
    metrics.set_build_info(__version__, settings.revision)
    _install_request_hooks(app)
    # The two hot read endpoints skip Flask's machinery (same responses, logs and metrics).
    app.wsgi_app = fastpath.FastPath(app, app.wsgi_app)  # type: ignore[method-assign]
    return app


def _install_request_hooks(app: Flask) -> None:
    labels: dict[str, str] = {}
    perf = time.perf_counter

    @app.before_request
    def _begin() -> None:
        g.start = perf()
        g.request_id = telemetry.request_id(request.headers.get(telemetry.REQUEST_ID_HEADER))

    @app.after_request
    def _finish(response: Response) -> Response:
        start = g.get("start")
        elapsed = perf() - start if start is not None else 0.0
        rid = g.get("request_id") or telemetry.request_id(None)
        response.headers[telemetry.REQUEST_ID_HEADER] = rid
        rule = request.url_rule
        if rule is None:
            route = telemetry.UNMATCHED_ROUTE
        else:
            route = labels.get(rule.rule)
            if route is None:
                route = labels[rule.rule] = telemetry.route_label(rule.rule)
        telemetry.record(
            method=request.method,
            route=route,
            path=request.path,
            status=response.status_code,
            seconds=elapsed,
            rid=rid,
            remote_addr=request.remote_addr,
        )
        return response
