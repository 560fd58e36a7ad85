"""Bearer tokens for writes (TITANIC_WRITE_TOKENS or TITANIC_WRITE_TOKENS_FILE).

Configured with tokens, the service answers POST, PUT, PATCH and DELETE on the /people routes
only when the request carries ``Authorization: Bearer <token>`` with one of them; reads stay
public. Without tokens writes are open, as existing clients expect.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from .problems import Problem

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REALM = "titanic"
_CHALLENGE = f'Bearer realm="{REALM}"'


class WriteTokens:
    """The accepted tokens of this process, compared in constant time."""

    __slots__ = ("_tokens",)

    def __init__(self, tokens: Iterable[str]) -> None:
        self._tokens = tuple(token.encode() for token in tokens)

    @property
    def required(self) -> bool:
        return bool(self._tokens)

    def accepts(self, presented: str) -> bool:
        candidate = presented.encode("utf-8", "surrogatepass")
        # Every token is compared, so the time taken says nothing about which one is close.
        matched = False
        for token in self._tokens:
            matched |= hmac.compare_digest(candidate, token)
        return matched

    def check(self, method: str, authorization: str | None) -> None:
        """Raise a 401 problem unless ``method`` is a read or ``authorization`` is accepted."""
        if method not in WRITE_METHODS or not self._tokens:
            return
        scheme, _, presented = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise Problem(
                401,
                "Writes need a token: send Authorization: Bearer <token>.",
                headers={"WWW-Authenticate": _CHALLENGE},
            )
        if not self.accepts(presented.strip()):
            raise Problem(
                401,
                "The bearer token is not valid for writes.",
                headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'},
            )
