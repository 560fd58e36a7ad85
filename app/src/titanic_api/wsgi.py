"""WSGI entry point for servers other than ``titanic-api serve``: ``titanic_api.wsgi:app``."""

from __future__ import annotations

from . import create_app

app = create_app()
