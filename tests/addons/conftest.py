"""Fixtures of the add-on suite: playbooks/addons.yml --tags render on every cloud inventory,
through ansible-runner, with the platform record written where the provision stage writes it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from addons_cases import CRDS_DIR, PLAYBOOK, platform_record
from loopback import free_port, wait_until_listening


@pytest.fixture(scope="session")
def crds_dir() -> Path:
    """The CRD input directory; a clear failure, never a skip, when it is not there."""
    if not (CRDS_DIR / "aws-load-balancer-controller" / "crds.yaml").is_file():
        pytest.fail(
            f"the CRD directory {CRDS_DIR} is missing (expected ../shared/crds beside the "
            "repository): fetch the add-ons' CRDs at the versions of "
            "roles/cluster_addons/vars/main.yml and point TITANIC_CRDS_DIR at them"
        )
    return CRDS_DIR


class Renders:
    """Runs of playbooks/addons.yml, each done once, when first needed."""

    def __init__(self, run_playbook, tmp: Path, crds: Path):
        self._run = run_playbook
        self._tmp = tmp
        self._crds = crds
        self._done: dict[str, object] = {}
        self._cmdlines: dict[str, tuple[str, str]] = {}

    def state_dir(self, key: str) -> Path:
        return self._tmp / key

    def render_dir(self, key: str) -> Path:
        return self.state_dir(key) / "addons"

    def run(
        self,
        key: str,
        env: str,
        extra: dict | None = None,
        record: bool = True,
        tags="render",
        playbook: str = PLAYBOOK,
    ):
        """playbooks/addons.yml (or another playbook that reads the platform record, such as
        playbooks/dr/cluster.yml) on inventories/<env> (--tags render unless tags says
        otherwise)."""
        if key not in self._done:
            variables = {
                "titanic_state_dir": str(self.state_dir(key)),
                "cluster_addons_crds_dir": str(self._crds),
                "velero_operations_crds_dir": str(self._crds),
                **(extra or {}),
            }
            if record:
                path = self.state_dir(key) / "records" / "platform.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(platform_record(env)))
            extra_file = self._tmp / f"{key}.json"
            extra_file.write_text(json.dumps(variables))
            options = f"-e @{extra_file}" + (f" --tags {tags}" if tags else "")
            self._cmdlines[key] = (playbook, f"inventories/{env}", options)
            self._done[key] = self._run(*self._cmdlines[key])
        return self._done[key]

    def again(self, key: str, options: str = ""):
        """The same run once more (after run()), with further options such as --check --diff."""
        playbook, inventory, cmdline = self._cmdlines[key]
        return self._run(playbook, inventory, f"{cmdline} {options}".strip())

    def index(self, key: str) -> dict:
        return json.loads((self.render_dir(key) / "addons.json").read_text())


@pytest.fixture(scope="session")
def renders(run_playbook, tmp_path_factory, crds_dir):
    return Renders(run_playbook, tmp_path_factory.mktemp("addons"), crds_dir)


@pytest.fixture
def helm_env(tmp_path) -> dict:
    """helm with its cache, configuration and registry logins in a temporary directory."""
    return {
        **os.environ,
        "HELM_CACHE_HOME": str(tmp_path / "helm-cache"),
        "HELM_CONFIG_HOME": str(tmp_path / "helm-config"),
        "HELM_DATA_HOME": str(tmp_path / "helm-data"),
    }


@pytest.fixture(scope="session")
def oci_registry(tmp_path_factory):
    """A registry of our own on a free loopback port (Debian's docker-registry, as role
    container_registry runs it), accepting `helm push`; yields host:port."""
    root = tmp_path_factory.mktemp("registry")
    port = free_port()
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: error}\n"
        f"storage: {{filesystem: {{rootdirectory: {root / 'storage'}}}}}\n"
        f"http: {{addr: '127.0.0.1:{port}'}}\n"
    )
    server = subprocess.Popen(
        ["/usr/bin/docker-registry", "serve", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_listening(port, server)
        yield f"127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
