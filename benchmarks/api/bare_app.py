"""The "bare bound": a WSGI app returning fixed bytes, under the API's own gunicorn setup.

    python bare_app.py --host 127.0.0.1 --port P --bodies DIR

It is started exactly like ``titanic-api serve``: the settings come from the same environment
(``load_settings``) and the gunicorn configuration from the same ``build_config`` (worker class,
workers, threads, keep-alive, timeouts, logger, hooks); only the application differs. DIR holds
the bodies captured from the real API: ``list.json`` (GET /people), ``one.json`` (GET
/people/{uuid}), ``created.json`` (the 201 answer to POST /people) and ``replaced.json`` (the 200
answer to PUT /people/{uuid}). So the bare app sends the same status, content type and body bytes
as the API, and does nothing else: no routing framework,
no database, no serialization, no metrics, no request id. Its throughput is the most this server
configuration can deliver on this machine; the API's ratio to it is the share the app keeps.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from titanic_api.server import build_config
from titanic_api.settings import load_settings

StartResponse = Callable[..., Any]


def make_app(bodies: Path) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    def load(name: str) -> tuple[bytes, list[tuple[str, str]]]:
        body = (bodies / name).read_bytes()
        return body, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]

    listing, listing_headers = load("list.json")
    one, one_headers = load("one.json")
    created, created_headers = load("created.json")
    replaced, replaced_headers = load("replaced.json")

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        if method in ("POST", "PUT"):
            # read the body, as the API must
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if length:
                environ["wsgi.input"].read(length)
            if method == "POST":
                start_response("201 CREATED", created_headers)
                return [created]
            start_response("200 OK", replaced_headers)
            return [replaced]
        if environ["PATH_INFO"] == "/people":
            start_response("200 OK", listing_headers)
            return [listing]
        start_response("200 OK", one_headers)
        return [one]

    return app


class BareApplication(BaseApplication):
    def __init__(self, options: dict[str, Any], app: Any) -> None:
        self.options = options
        self.application = app
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bodies", type=Path, required=True)
    args = parser.parse_args()
    settings = load_settings().with_overrides(host=args.host, port=args.port)
    config = build_config(settings)
    config["proc_name"] = "titanic-bare"
    BareApplication(config, make_app(args.bodies)).run()


if __name__ == "__main__":
    main()
