"""Role host_bootstrap, verified inside the scenario's fresh Debian container (Testinfra).

Every tool of roles/host_bootstrap/vars/main.yml must be present and executable: the list the
role's own smoke test checks, so a package left out of host_bootstrap_packages (netavark's
iptables, say) fails here even if the role's check were switched off.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

ROLE = Path(__file__).resolve().parents[3] / "roles" / "host_bootstrap"
TOOLS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["host_bootstrap_tools"]
STATE_DIRS = ["/var/lib/titanic-ops/molecule", "/var/lib/titanic-ops/molecule/secrets"]
ANY_EXECUTABLE = 'for p in {}; do if [ -f "$p" ] && [ -x "$p" ]; then echo "$p"; fi; done'


@pytest.fixture(scope="module")
def executables(host) -> set[str]:
    """The tool paths that are executable files in the container, read in one round trip."""
    paths = " ".join(shlex.quote(tool["path"]) for tool in TOOLS)
    return set(host.check_output(ANY_EXECUTABLE.format(paths)).splitlines())


def test_the_tool_list_names_what_the_stages_need():
    names = {tool["name"] for tool in TOOLS}
    assert {"podman", "netavark", "iptables", "debootstrap", "docker-registry"} <= names
    assert "terraform" in names
    assert all("{{" not in tool["path"] for tool in TOOLS), "paths must be literal here"


@pytest.mark.parametrize("tool", TOOLS, ids=[tool["name"] for tool in TOOLS])
def test_tool_is_present(executables, tool):
    provider = f"Debian package {tool['package']}" if tool["package"] else "the machine image"
    assert tool["path"] in executables, f"{tool['name']} ({tool['path']}, {provider}) is missing"


def test_podman_is_configured_for_a_host_without_systemd(host):
    conf = host.file("/etc/containers/containers.conf")
    assert conf.is_file
    assert 'runtime = "runc"' in conf.content_string
    assert 'cgroup_manager = "cgroupfs"' in conf.content_string
    assert 'events_logger = "file"' in conf.content_string


def test_postgresql_packages_created_no_cluster(host):
    # Only the binaries: a host cluster would take the database pod's port.
    assert host.user("postgres").exists
    assert not host.file("/etc/postgresql/15/main").exists
    assert not host.file("/var/lib/postgresql/15/main").exists


@pytest.mark.parametrize("path", STATE_DIRS)
def test_state_directories(host, path):
    state_dir = host.file(path)
    assert state_dir.is_directory
    assert state_dir.user == "root"
    assert state_dir.mode == 0o750
