"""Prepare this machine for ansible-test on the collection titanic.ops, without Galaxy or docker.

ansible-test looks for a collection's dependencies next to it (ansible_collections/<ns>/<name>),
and bootstraps pip into each sanity-test virtual environment with a get-pip script it downloads
from ci-files.testing.ansible.com, which these machines cannot reach. This script
- links each dependency of galaxy.yml to the copy bundled with pip `ansible` (links git-ignored);
- puts a stand-in for that get-pip script into ansible-test's cache: Python's ensurepip, then pip
  from PyPI at the version ansible-test pins, so its pinned sanity requirements install as usual.
Idempotent; run by `make test-collection` before ansible-test.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

import ansible_collections
import yaml
from ansible_test._internal.python_requirements import get_venv_packages

COLLECTIONS = Path(__file__).resolve().parent / "ansible_collections"
COLLECTION = COLLECTIONS / "titanic" / "ops"

GET_PIP_STAND_IN = '''\
"""Stand-in for get-pip.py, written by collections/prepare_ansible_test.py of titanic-ops.

ansible-test runs it in an empty virtual environment with pip install options and pip==<version>.
"""
import subprocess
import sys

python = [sys.executable, "-m"]
options = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.run([*python, "ensurepip", "--default-pip"], check=True, stdout=subprocess.DEVNULL)
installed = subprocess.run([*python, "pip", "install", *options], check=False)
if installed.returncode == 0 and "--no-setuptools" in sys.argv:
    subprocess.run([*python, "pip", "uninstall", "--quiet", "--yes", "setuptools"], check=True)
sys.exit(installed.returncode)
'''


def bundled(namespace: str, name: str) -> Path:
    """The copy of a collection installed with pip `ansible` (not the one in this repository)."""
    for root in map(Path, ansible_collections.__path__):
        if (
            root.resolve() != COLLECTIONS.resolve()
            and (root / namespace / name / "MANIFEST.json").is_file()
        ):
            return root / namespace / name
    sys.exit(
        f"{namespace}.{name} (a dependency in galaxy.yml) is not bundled with ansible: make setup"
    )


def link_dependencies() -> None:
    galaxy = yaml.safe_load((COLLECTION / "galaxy.yml").read_text())
    for fqcn in galaxy.get("dependencies") or {}:
        namespace, name = fqcn.split(".")
        link, target = COLLECTIONS / namespace / name, bundled(namespace, name)
        relative = os.path.relpath(target, link.parent)
        if link.is_symlink() and os.readlink(link) == relative:
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink():
            link.unlink()
        link.symlink_to(relative, target_is_directory=True)
        print(f"linked {link.relative_to(COLLECTIONS.parent.parent)} -> {relative}")


def provide_get_pip() -> None:
    version = get_venv_packages(
        SimpleNamespace(version=f"{sys.version_info[0]}.{sys.version_info[1]}")
    )["pip"]
    cached = Path.home() / ".ansible" / "test" / "cache" / f"get_pip_{version.replace('.', '_')}.py"
    if cached.is_file() and "titanic-ops" not in cached.read_text():
        return  # the real get-pip script, downloaded where that host is reachable
    if not cached.is_file() or cached.read_text() != GET_PIP_STAND_IN:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(GET_PIP_STAND_IN)
        print(f"wrote the pip {version} bootstrap stand-in for ansible-test: {cached}")


if __name__ == "__main__":
    link_dependencies()
    provide_get_pip()
