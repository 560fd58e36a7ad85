"""collections/requirements.yml lists exactly the collections the repository uses.

ansible-galaxy, AWX project sync and ansible-builder read that list; here every collection comes
from the pip `ansible==12.3.0` bundle (no Galaxy), so each range must hold the bundled version.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS_DIR = REPO / "collections"
REQUIREMENTS = COLLECTIONS_DIR / "requirements.yml"
# Where the repository names plugins by FQCN: tasks, plays, templates, scenarios, tests, config.
USE_SITES = ["roles", "playbooks", "molecule", "inventories", "tests", "site.yml", "ansible.cfg"]
USE_SUFFIXES = {".yml", ".yaml", ".j2", ".py", ".cfg", ".ini"}
# namespace.collection.plugin, not preceded by a word character or a dot (not the tail of a name)
FQCN = re.compile(r"(?<![\w.])([a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)\.[a-z_][a-z0-9_]*")
# Part of ansible-core itself, never installed from a requirements file.
CORE = {"ansible.builtin", "ansible.legacy"}

REQUIRED = yaml.safe_load(REQUIREMENTS.read_text())["collections"]


@functools.cache
def bundled_collections() -> dict[str, str]:
    """Name to version of the collections installed outside the repository (the bundle)."""
    listing = subprocess.run(
        ["ansible-galaxy", "collection", "list", "--format", "json"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found: dict[str, str] = {}
    for path, collections in json.loads(listing).items():
        if not Path(path).resolve().is_relative_to(COLLECTIONS_DIR.resolve()):
            for name, meta in collections.items():
                found.setdefault(name, meta["version"])
    return found


def project_collections() -> dict[str, dict]:
    """The repository's own collections (collections/ansible_collections/<ns>/<name>/galaxy.yml)."""
    found = {}
    for galaxy in sorted(COLLECTIONS_DIR.glob("ansible_collections/*/*/galaxy.yml")):
        if not galaxy.parent.is_symlink():  # links are dependencies prepared for ansible-test
            meta = yaml.safe_load(galaxy.read_text())
            found[f"{meta['namespace']}.{meta['name']}"] = meta
    return found


def collections_named_in(text: str, known: set[str]) -> set[str]:
    """The known collections whose plugins ``text`` names by FQCN."""
    return {match.group(1) for match in FQCN.finditer(text)} & known


@functools.cache
def used_collections() -> frozenset[str]:
    """Collections named in the repository, and the dependencies of its own collections."""
    own = project_collections()
    known = set(bundled_collections()) | set(own)
    used: set[str] = set()
    for site in USE_SITES:
        root = REPO / site
        files = (
            [root] if root.is_file() else [p for p in root.rglob("*") if p.suffix in USE_SUFFIXES]
        )
        for path in files:
            if "__pycache__" not in path.parts:
                used |= collections_named_in(path.read_text(errors="replace"), known)
    for meta in own.values():
        used |= set(meta.get("dependencies") or {})
    return frozenset(used - CORE - set(own))


def test_scanner_finds_fqcns_in_tasks_lookups_filters_and_config():
    known = {"amazon.aws", "community.general", "ansible.posix", "kubernetes.core"}
    text = """
    - name: A task
      amazon.aws.s3_bucket:
        name: "{{ lookup('community.general.random_string') }}"
        labels: {app.kubernetes.io/name: api}
    callbacks_enabled = ansible.posix.profile_tasks
    import ansible_collections.kubernetes.core.plugins.module_utils
    """
    assert collections_named_in(text, known) == {"amazon.aws", "community.general", "ansible.posix"}


def test_requirements_list_each_collection_once():
    names = [r["name"] for r in REQUIRED]
    assert len(names) == len(set(names)), (
        f"listed twice: {sorted({n for n in names if names.count(n) > 1})}"
    )


@pytest.mark.parametrize("requirement", REQUIRED, ids=lambda r: r["name"])
def test_bundled_collection_satisfies_its_range(requirement):
    bundled = bundled_collections()
    assert requirement["name"] in bundled, f"{requirement['name']} is not in the ansible bundle"
    spec = SpecifierSet(requirement["version"])
    assert {s.operator for s in spec} >= {">=", "<"}, (
        f"{requirement['name']}: give a lower and an upper bound"
    )
    name, version = requirement["name"], bundled[requirement["name"]]
    assert Version(version) in spec, f"{name} {version} (bundled) is outside {spec}"


def test_every_collection_used_is_listed():
    missing = used_collections() - {r["name"] for r in REQUIRED}
    assert not missing, f"used but not in collections/requirements.yml: {sorted(missing)}"


def test_every_collection_listed_is_used():
    unused = {r["name"] for r in REQUIRED} - used_collections()
    assert not unused, f"in collections/requirements.yml but used nowhere: {sorted(unused)}"
