"""Running the app under gunicorn: configuration, server hooks, the embedded application.

Used both by ``titanic-api serve`` (gunicorn's application API) and by
``gunicorn -c python:titanic_api.gunicorn_conf`` (see :mod:`titanic_api.gunicorn_conf`).
This module must not import ``prometheus_client`` (nor anything importing it): the multiprocess
directory has to be in the environment before the workers import it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as _GunicornLogger

from .logging import gunicorn_logconfig_dict
from .settings import Settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_OWNED_DIR_ENV = "TITANIC_OWNED_MULTIPROC_DIR"


def prepare_multiproc_dir() -> str:
    """Make sure PROMETHEUS_MULTIPROC_DIR names an existing, empty directory.

    When unset, a temporary directory is created (and removed again by ``on_exit``).
    Stale ``*.db`` files from an earlier run are wiped.
    """
    path = os.environ.get(MULTIPROC_ENV, "").strip()
    if not path:
        path = tempfile.mkdtemp(prefix="titanic-metrics-")
        os.environ[MULTIPROC_ENV] = path
        os.environ[_OWNED_DIR_ENV] = path
    else:
        os.makedirs(path, exist_ok=True)
        for stale in glob.glob(os.path.join(path, "*.db")):
            with contextlib.suppress(FileNotFoundError):
                os.remove(stale)
    return path


def cleanup_multiproc_dir() -> None:
    owned = os.environ.pop(_OWNED_DIR_ENV, "")
    if owned and os.environ.get(MULTIPROC_ENV) == owned:
        shutil.rmtree(owned, ignore_errors=True)


class GunicornLogger(_GunicornLogger):
    """gunicorn's logger without its plain-text access log.

    The app writes one structured JSON access line per request (with request id and route
    template), so gunicorn's own would only duplicate it, in another format, at a cost.
    """

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return None


# -- gunicorn server hooks ---------------------------------------------------------------------
def on_starting(server: Any) -> None:
    path = prepare_multiproc_dir()
    server.log.info("prometheus multiprocess directory: %s", path)


def on_exit(server: Any) -> None:
    cleanup_multiproc_dir()


def post_worker_init(worker: Any) -> None:
    app = getattr(worker, "wsgi", None)
    db = getattr(app, "extensions", {}).get("titanic_db") if app is not None else None
    if db is not None:
        db.warm()


def worker_exit(server: Any, worker: Any) -> None:
    app = getattr(worker, "wsgi", None)
    db = getattr(app, "extensions", {}).get("titanic_db") if app is not None else None
    if db is not None:
        db.close()


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def _bind(host: str, port: int) -> str:
    if ":" in host and not host.startswith("["):
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def build_config(settings: Settings) -> dict[str, Any]:
    """gunicorn settings (lower-case names as in a gunicorn config file)."""
    return {
        "bind": [_bind(settings.host, settings.port)],
        "workers": settings.workers,
        "threads": settings.threads,
        "worker_class": "gthread" if settings.threads > 1 else "sync",
        "timeout": 30,
        "graceful_timeout": 20,
        # Longer than the load balancer's idle timeout (ALB: 60 s), so that the balancer, not
        # gunicorn, closes an idle connection: else a request it sends as gunicorn closes fails.
        "keepalive": settings.keepalive_seconds,
        # Lets a second server bind the same port during a local rollout (SO_REUSEPORT).
        "reuse_port": settings.reuse_port,
        "proc_name": "titanic-api",
        "preload_app": False,
        "accesslog": None,  # the app writes one JSON access line per request itself
        "errorlog": "-",
        "loglevel": settings.log_level.lower(),
        "logconfig_dict": gunicorn_logconfig_dict(settings.log_level),
        "logger_class": "titanic_api.server.GunicornLogger",
        "control_socket_disable": True,
        "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,  # noqa: S108
        "on_starting": on_starting,
        "on_exit": on_exit,
        "post_worker_init": post_worker_init,
        "worker_exit": worker_exit,
        "child_exit": child_exit,
    }


class TitanicApplication(BaseApplication):
    """gunicorn, embedded: ``titanic-api serve``."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from . import create_app

        return create_app()


def serve(settings: Settings) -> None:
    TitanicApplication(build_config(settings)).run()
