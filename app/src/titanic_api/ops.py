"""Operational endpoints: /, /healthz, /readyz, /metrics, /openapi.json."""

from __future__ import annotations

import orjson
from flask import Blueprint, Response, current_app

from . import metrics, migrations
from .problems import Problem

bp = Blueprint("ops", __name__)

JSON = "application/json"
_OK = orjson.dumps({"status": "ok"})
_READY = orjson.dumps({"status": "ready"})


@bp.get("/")
def index() -> Response:
    return Response(current_app.extensions["titanic_index"], mimetype=JSON)


@bp.get("/healthz")
def healthz() -> Response:
    # Liveness only: never touches the database.
    return Response(_OK, mimetype=JSON)


@bp.get("/readyz")
def readyz() -> Response:
    latest = migrations.latest_version()

    def work(cur) -> str | None:
        versions = migrations.applied_versions(cur)
        return max(versions) if versions else None

    current = current_app.extensions["titanic_db"].run(work, retry=True)
    if current is None or current < latest:
        raise Problem(
            503,
            f"The database schema is not current (at {current or 'none'}, expected {latest}); "
            "run 'titanic-api db upgrade'.",
        )
    return Response(_READY, mimetype=JSON)


@bp.get("/metrics")
def metrics_endpoint() -> Response:
    body, content_type = metrics.render()
    return Response(body, content_type=content_type)


@bp.get("/openapi.json")
def openapi_document() -> Response:
    return Response(current_app.extensions["titanic_openapi"], mimetype=JSON)
