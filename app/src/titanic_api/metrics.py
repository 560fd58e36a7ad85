"""Prometheus metrics.

With ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn, several workers) every process writes its samples
to that directory and ``/metrics`` aggregates them; without it the default registry is used.
The variable must be set before ``prometheus_client`` is first imported (``titanic-api serve``
and ``gunicorn_conf`` take care of that).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# A configured directory that does not exist yet (a fresh tmpfs or emptyDir) would make the first
# sample write fail, in `db` commands as much as in `serve`: create it.
if os.environ.get(MULTIPROC_ENV):
    os.makedirs(os.environ[MULTIPROC_ENV], exist_ok=True)

# No *_created series: they double the exposition for no operational value here.
disable_created_metrics()

REQUESTS = Counter(
    "titanic_http_requests",
    "HTTP requests handled, by method, route template and status code.",
    ["method", "route", "status"],
)
DURATION = Histogram(
    "titanic_http_request_duration_seconds",
    "HTTP request latency in seconds, by method, route template and status code.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
POOL_CONNECTIONS = Gauge(
    "titanic_db_pool_connections",
    "Database connections held by the pools of all live worker processes, by state.",
    ["state"],
    multiprocess_mode="livesum",
)
POOL_MAX = Gauge(
    "titanic_db_pool_max_connections",
    "Maximum database connections of the pools of all live worker processes.",
    multiprocess_mode="livesum",
)
BUILD_INFO = Gauge(
    "titanic_build_info",
    "Build information; the value is always 1.",
    ["version", "revision"],
    multiprocess_mode="max",
)

_POOL_IN_USE = POOL_CONNECTIONS.labels(state="in_use")
_POOL_IDLE = POOL_CONNECTIONS.labels(state="idle")

_children: dict[tuple[str, str, int], tuple[object, object]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    key = (method, route, status)
    pair = _children.get(key)
    if pair is None:
        labels = {"method": method, "route": route, "status": str(status)}
        pair = (REQUESTS.labels(**labels), DURATION.labels(**labels))
        _children[key] = pair
    pair[0].inc()  # type: ignore[attr-defined]
    pair[1].observe(seconds)  # type: ignore[attr-defined]


def set_pool_gauges(*, in_use: int, idle: int) -> None:
    _POOL_IN_USE.set(in_use)
    _POOL_IDLE.set(idle)


def set_pool_max(maximum: int) -> None:
    POOL_MAX.set(maximum)


def set_build_info(version: str, revision: str) -> None:
    BUILD_INFO.labels(version=version, revision=revision).set(1)


def multiprocess_enabled() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def render() -> tuple[bytes, str]:
    """The text exposition of every metric (aggregated over workers in multiprocess mode)."""
    if multiprocess_enabled():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
