"""Structured JSON logs on stdout (python-json-logger), shared by the app and gunicorn."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from pythonjsonlogger.orjson import OrjsonFormatter as _BaseJsonFormatter

ACCESS_LOGGER = "titanic_api.access"
_HANDLER_MARK = "_titanic_json"


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per line: timestamp, level, logger, pid, message and extras (orjson)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "{asctime}{levelname}{name}{process}{message}")
        kwargs.setdefault("style", "{")
        kwargs.setdefault(
            "rename_fields",
            {"asctime": "timestamp", "levelname": "level", "name": "logger", "process": "pid"},
        )
        kwargs.setdefault("timestamp", False)
        super().__init__(*args, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        t = time.gmtime(record.created)
        return time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{int(record.msecs):03d}Z"


class RequestIdFilter(logging.Filter):
    """Adds the current request id (if any) to every record emitted during a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            try:
                from flask import g, has_request_context

                if has_request_context():
                    rid = g.get("request_id")
                    if rid:
                        record.request_id = rid
            except Exception:  # noqa: S110 - logging must never fail a request
                pass
        return True


def make_handler() -> logging.Handler:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    setattr(handler, _HANDLER_MARK, True)
    return handler


def configure_logging(level: str = "INFO") -> None:
    """Install the JSON handler on the root logger once (idempotent)."""
    root = logging.getLogger()
    root.setLevel(level)
    if not any(getattr(h, _HANDLER_MARK, False) for h in root.handlers):
        for h in list(root.handlers):
            if isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) in (
                sys.stdout,
                sys.stderr,
            ):
                root.removeHandler(h)
        root.addHandler(make_handler())
    # Our access log line replaces werkzeug's and gunicorn's plain-text ones.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def gunicorn_logconfig_dict(level: str = "INFO") -> dict[str, Any]:
    """A ``logconfig_dict`` making gunicorn's own logs the same JSON lines on stdout."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "titanic_api.logging.JsonFormatter"}},
        "filters": {"request_id": {"()": "titanic_api.logging.RequestIdFilter"}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json",
                "filters": ["request_id"],
            }
        },
        "root": {"level": level, "handlers": ["stdout"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
        },
    }
