"""gunicorn configuration module: ``gunicorn -c python:titanic_api.gunicorn_conf``.

Everything comes from the environment (see :mod:`titanic_api.settings`); with no application
argument it serves ``titanic_api.wsgi:app``. ``titanic-api serve`` uses the same settings.
"""

from __future__ import annotations

import sys

from titanic_api.server import build_config
from titanic_api.settings import ConfigError, load_settings

try:
    _settings = load_settings()
except ConfigError as _exc:
    print(f"titanic-api: configuration error: {_exc}", file=sys.stderr)
    raise SystemExit(2) from None

wsgi_app = "titanic_api.wsgi:app"
globals().update(build_config(_settings))
