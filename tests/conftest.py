"""Shared by the repository-level suites: playbooks run through ansible-runner (AWX's engine)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playbook_runs import REPO, PlaybookRun, run_playbook_in


@pytest.fixture(scope="session")
def run_playbook(tmp_path_factory):
    """Run a playbook of this repository; returns a PlaybookRun."""

    def run(
        playbook: str, inventory: str | Path = "inventories/local", cmdline: str = ""
    ) -> PlaybookRun:
        return run_playbook_in(tmp_path_factory.mktemp("runner"), playbook, inventory, cmdline)

    return run


@pytest.fixture
def inventory_copy(tmp_path):
    """A writable copy of an inventory, to test what a wrong value in it does."""

    def copy(name: str = "local") -> Path:
        target = tmp_path / "inventories" / name
        shutil.copytree(REPO / "inventories" / name, target)
        return target

    return copy
