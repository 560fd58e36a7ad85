"""requirements.yml stays true to the collections bundled with ansible==12.3.0 (no Galaxy here)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]


def installed_collections() -> dict[str, str]:
    listing = subprocess.run(
        ["ansible-galaxy", "collection", "list", "--format", "json"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found: dict[str, str] = {}
    for collections in json.loads(listing).values():
        for name, meta in collections.items():
            found.setdefault(name, meta["version"])
    return found


REQUIRED = yaml.safe_load((REPO / "requirements.yml").read_text())["collections"]


@pytest.mark.parametrize("requirement", REQUIRED, ids=lambda r: r["name"])
def test_bundled_collection_satisfies_requirements_yml(requirement):
    installed = installed_collections()
    assert requirement["name"] in installed, f"{requirement['name']} is not in the ansible bundle"
    spec = SpecifierSet(requirement["version"])
    assert Version(installed[requirement["name"]]) in spec


def test_every_collection_used_in_roles_and_playbooks_is_listed():
    listed = {r["name"] for r in REQUIRED} | {"ansible.builtin"}
    used: set[str] = set()
    for path in [*REPO.glob("roles/**/*.yml"), *REPO.glob("playbooks/**/*.yml"), REPO / "site.yml"]:
        for match in re.finditer(
            r"^\s*-?\s*([a-z0-9_]+\.[a-z0-9_]+)\.[a-z0-9_]+:", path.read_text(), re.M
        ):
            used.add(match.group(1))
    assert used <= listed, f"used but not in requirements.yml: {sorted(used - listed)}"
