"""Fixtures of the unit suites: fast, and never on the network."""

from __future__ import annotations

import socket

import pytest


class NetworkGuard:
    """Refuses every socket and name lookup, and remembers each attempt."""

    def __init__(self):
        self.attempts: list[str] = []

    def refuse(self, what: str):
        def refused(*args, **kwargs):
            self.attempts.append(f"{what}{args!r}")
            # pytest's Failed is a BaseException: code swallowing OSError cannot hide the attempt.
            pytest.fail(f"a unit test tried to use the network: {what}{args!r}")

        return refused


@pytest.fixture(autouse=True)
def network_guard(monkeypatch):
    """No unit test gets a socket; one that tries fails, even if the code caught the error."""
    guard = NetworkGuard()
    monkeypatch.setattr(socket.socket, "__init__", guard.refuse("socket.socket"))
    monkeypatch.setattr(socket, "getaddrinfo", guard.refuse("socket.getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", guard.refuse("socket.create_connection"))
    yield guard
    if guard.attempts:
        pytest.fail(f"a unit test tried to use the network: {guard.attempts}")
