"""Per-request bookkeeping shared by the Flask hooks and the fast path: request ids, the access
log line and the request metrics."""

from __future__ import annotations

import logging
import random
import re

from . import metrics
from .logging import ACCESS_LOGGER

REQUEST_ID_HEADER = "X-Request-ID"
UNMATCHED_ROUTE = "<unmatched>"
_REQUEST_ID_RE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?")
_RULE_PARAM_RE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
# RFC 9562 version 4: version nibble 0100 (bits 76-79), variant 10 (bits 62-63).
_UUID4_CLEAR = ~((0xF << 76) | (0x3 << 62))
_UUID4_SET = (0x4 << 76) | (0x2 << 62)

access_log = logging.getLogger(ACCESS_LOGGER)


def valid_request_id(value: str | None) -> bool:
    """Printable ASCII, 1 to 128 characters, no surrounding spaces."""
    return value is not None and _REQUEST_ID_RE.fullmatch(value) is not None


def request_id(header_value: str | None) -> str:
    """The client's X-Request-ID if it is valid, else a new uuid4."""
    if header_value is not None and _REQUEST_ID_RE.fullmatch(header_value) is not None:
        return header_value
    # Random version-4 ids without uuid4's per-call os.urandom system call (a request id need not
    # be unpredictable, only unique in practice), formatted directly: uuid.UUID's checks cost
    # more than the rest of the id.
    h = "%032x" % (random.getrandbits(128) & _UUID4_CLEAR | _UUID4_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def route_label(rule: str) -> str:
    """``/people/<uuid:uuid>`` -> ``/people/<uuid>``."""
    return _RULE_PARAM_RE.sub(r"<\1>", rule)


def record(
    *,
    method: str,
    route: str,
    path: str,
    status: int,
    seconds: float,
    rid: str,
    remote_addr: str | None,
) -> None:
    """Count and time the request, and write its JSON access log line."""
    metrics.observe_request(method, route, status, seconds)
    if access_log.isEnabledFor(logging.INFO):
        access_log.info(
            "%s %s %s",
            method,
            route,
            status,
            extra={
                "request_id": rid,
                "method": method,
                "route": route,
                "path": path,
                "status": status,
                "duration_ms": round(seconds * 1000.0, 3),
                "remote_addr": remote_addr,
            },
        )
