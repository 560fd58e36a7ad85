"""The whole local system (inventories/local), converged once for every module of this directory."""

from __future__ import annotations

import pytest

LAST = "test_teardown_stops_everything_and_keeps_the_data"


@pytest.fixture(scope="session")
def converged(run_playbook):
    first = run_playbook("site.yml")
    assert first.status == "successful", first.stdout[-4000:]
    return first


def pytest_collection_modifyitems(items):
    """The teardown of the local system runs after every other test, whatever the module order."""
    items.sort(key=lambda item: item.originalname == LAST)
