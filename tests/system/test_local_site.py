"""site.yml on inventories/local: converge, prove idempotence and check mode, serve passengers."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests
from local_pods import api_pod_id

API = "http://127.0.0.1:8080"
PASSENGERS = 887
DB_POD = "titanic-postgresql"
STATE_DIR = Path("/var/lib/titanic-ops/local")

pytestmark = pytest.mark.timeout(1800)


def test_site_serves_the_passengers(converged):
    response = requests.get(f"{API}/people", timeout=10)
    assert response.status_code == 200
    people = response.json()
    assert len(people) == PASSENGERS
    assert {"uuid", "survived", "passengerClass", "name", "sex", "age"} <= people[0].keys()
    assert requests.get(f"{API}/readyz", timeout=5).status_code == 200


def test_second_run_changes_nothing(converged, run_playbook):
    second = run_playbook("site.yml")
    assert second.status == "successful", second.stdout[-4000:]
    assert second.total("changed") == 0, second.changed_tasks


def test_check_diff_on_converged_system_changes_nothing(converged, run_playbook):
    check = run_playbook("site.yml", cmdline="--check --diff")
    assert check.status == "successful", check.stdout[-4000:]
    assert check.total("changed") == 0, check.changed_tasks


@pytest.mark.parametrize(
    "wrong",
    [
        # One run: titanic_manifests's argument check reports every wrong value in one failure.
        {"titanic_manifests_port": "eighty", "titanic_manifests_log_level": "LOUD"},
        {"postgresql_pod_port": "[1, 2]"},
    ],
    ids=["titanic_manifests", "postgresql_pod"],
)
def test_wrong_inventory_value_fails_before_any_change(
    converged, run_playbook, inventory_copy, wrong
):
    inventory = inventory_copy("local")
    lines = "".join(f"{variable}: {value}\n" for variable, value in wrong.items())
    (inventory / "group_vars" / "all" / "zz_wrong.yml").write_text(f"---\n{lines}")
    run = run_playbook("playbooks/deploy.yml", inventory=inventory)
    assert run.status == "failed"
    assert run.total("changed") == 0
    assert any(all(variable in failure for variable in wrong) for failure in run.failures), (
        run.failures
    )
    # and the system it refused to touch still serves
    assert requests.get(f"{API}/readyz", timeout=5).status_code == 200


def test_missing_image_tag_fails_before_anything_that_runs_changes(converged, run_playbook):
    before = api_pod_id()
    run = run_playbook("playbooks/deploy.yml", cmdline="-e titanic_manifests_image_tag=no-such-tag")
    assert run.status == "failed"
    # The render for the requested tag is validated and written; role image_signature then refuses
    # it (the registry does not hold it) before a pod, a secret or the applier's files are touched.
    assert all(
        task.startswith("Ensure the manifests and their index are in") for task in run.changed_tasks
    ), run.changed_tasks
    refused = [
        f
        for f in run.failures
        if ":no-such-tag cannot be read" in f and "Nothing was deployed" in f
    ]
    assert refused, run.failures
    assert api_pod_id() == before
    assert requests.get(f"{API}/readyz", timeout=5).status_code == 200
    back = run_playbook("playbooks/deploy.yml")
    assert back.status == "successful", back.failures
    assert api_pod_id() == before, "rendering the running tag again rolled the pod"


def _wait_for(url: str, status: int, seconds: float = 30) -> int:
    deadline = time.monotonic() + seconds
    got = -1
    while time.monotonic() < deadline:
        try:
            got = requests.get(url, timeout=3).status_code
        except requests.RequestException:
            got = -1
        if got == status:
            return got
        time.sleep(0.5)
    return got


def _local_system_containers() -> list[dict]:
    listing = subprocess.run(
        ["podman", "ps", "--pod", "--format", "json"], check=True, capture_output=True, text=True
    ).stdout
    return [c for c in json.loads(listing or "[]") if c.get("PodName", "").startswith("titanic-")]


def test_every_container_runs_as_a_high_uid_with_read_only_root(converged):
    """Every process of the API, database and monitoring pods: real, effective, saved and filesystem
    UIDs of 10000 or more (outside every host's account range), on a read-only root."""
    running = {}
    for container in _local_system_containers():
        if container.get("IsInfra"):
            continue  # podman's pause process, Kubernetes' pause container on EKS: not ours
        name = container["Names"][0]
        data = json.loads(
            subprocess.run(
                ["podman", "inspect", name], check=True, capture_output=True, text=True
            ).stdout
        )[0]
        status = Path(f"/proc/{data['State']['Pid']}/status").read_text()
        uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
        running[name] = (min(int(uid) for uid in uids), data["HostConfig"]["ReadonlyRootfs"])
    expected = {
        "titanic-api-pod-0-api",
        f"{DB_POD}-postgres",
        f"{DB_POD}-backup",
        "titanic-monitoring-prometheus",
    }
    assert expected <= running.keys(), sorted(running)
    assert {name: got for name, got in running.items() if got[0] < 10000 or not got[1]} == {}


def test_readiness_follows_the_database_pod(converged):
    subprocess.run(["podman", "pod", "stop", DB_POD], check=True, capture_output=True)
    try:
        assert _wait_for(f"{API}/readyz", 503) == 503
        assert requests.get(f"{API}/healthz", timeout=5).status_code == 200
    finally:
        subprocess.run(["podman", "pod", "start", DB_POD], check=True, capture_output=True)
    assert _wait_for(f"{API}/readyz", 200) == 200
    assert requests.get(f"{API}/people", timeout=10).status_code == 200


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_teardown_stops_everything_and_keeps_the_data(converged, run_playbook):
    """Last of all (conftest.py): the local system goes away; a second teardown changes nothing."""
    down = run_playbook("playbooks/teardown.yml")
    assert down.status == "successful", down.failures
    assert down.total("changed") > 0
    pods = subprocess.run(
        ["podman", "pod", "ps", "--format", "{{.Name}}"], check=True, capture_output=True, text=True
    ).stdout.split()
    assert "titanic-api-pod-0" not in pods and DB_POD not in pods
    for port in (8080, 5432, 5000, 4566):
        assert not _listening(port), port
    assert (STATE_DIR / "postgresql" / "data" / "PG_VERSION").is_file()
    assert (STATE_DIR / "secrets" / "db-master-password").is_file()
    again = run_playbook("playbooks/teardown.yml")
    assert again.status == "successful", again.failures
    assert again.total("changed") == 0, again.changed_tasks
