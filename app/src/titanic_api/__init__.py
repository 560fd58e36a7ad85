"""Titanic API: the passengers of the Titanic over HTTP, kept in PostgreSQL."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("titanic-api")
except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = ["__version__", "create_app"]


def create_app(settings=None):
    """Build the Flask application (see :func:`titanic_api.app.create_app`)."""
    from .app import create_app as _create_app

    return _create_app(settings)
