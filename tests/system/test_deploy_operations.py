"""The deploy operations on the local system: a rollback to the previous tag, a rollout whose pod
never becomes ready, and the teardown's refusal outside local (its purge: the cleanup of Molecule
scenario deploy_local)."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest
import requests
import signed_images

API = "http://127.0.0.1:8080"
API_POD = "titanic-api-pod-0"
SURGE_POD = "titanic-api-surge-pod-0"
PASSENGERS = 887
DEPLOY_DIR = Path("/var/lib/titanic-ops/local/deploy")
HISTORY = DEPLOY_DIR / "podman-history.json"
KUBE_FILE = DEPLOY_DIR / "podman-kube.yaml"

pytestmark = pytest.mark.timeout(900)


def _podman(*args: str) -> str:
    return subprocess.run(
        ["podman", *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def _running_image() -> str:
    return _podman("container", "inspect", "--format", "{{.ImageName}}", f"{API_POD}-api")


def _serves_the_passengers() -> bool:
    people = requests.get(f"{API}/people", timeout=10)
    ready = requests.get(f"{API}/readyz", timeout=5)
    return (
        people.status_code == 200 and len(people.json()) == PASSENGERS and ready.status_code == 200
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _assert_a_deploy_only_renders(run_playbook) -> None:
    """A plain deploy writes the inventory's render again and leaves the running pod alone."""
    pod = _podman("pod", "inspect", "--format", "{{.ID}}", API_POD)
    run = run_playbook("playbooks/deploy.yml")
    assert run.status == "successful", run.failures
    assert all(
        task.startswith("Ensure the manifests and their index") for task in run.changed_tasks
    ), run.changed_tasks
    assert _podman("pod", "inspect", "--format", "{{.ID}}", API_POD) == pod
    assert _serves_the_passengers()


@pytest.fixture
def two_tags(converged, run_playbook):
    """The build stage's tag (what runs) and a second tag of the same image, pushed and signed with
    the environment's key as the build stage does; afterwards the system runs the build stage's tag
    again and the second tag is gone from podman's storage."""
    first = _running_image()
    second = first.rsplit(":", 1)[0] + ":system-test-rollback"
    _podman("tag", first, second)
    signed_images.push(
        second, "system-test-rollback", signed_images.LOCAL_KEY, signed_images.local_passphrase()
    )
    yield first, second
    if _running_image() != first:
        run_playbook("playbooks/deploy.yml")
    _podman("untag", first, second)


def test_rollback_runs_the_previous_tag_again(two_tags, run_playbook):
    first, second = two_tags
    rolled_out = run_playbook(
        "playbooks/deploy.yml", cmdline=f"-e titanic_manifests_image_tag={second.rsplit(':', 1)[1]}"
    )
    assert rolled_out.status == "successful", rolled_out.failures
    assert _running_image() == second
    history = json.loads(HISTORY.read_text())
    assert (history["current"]["image"], history["previous"]["image"]) == (second, first)

    back = run_playbook("playbooks/rollback.yml")
    assert back.status == "successful", back.failures
    assert _running_image() == first
    assert _serves_the_passengers()
    assert f"rolled back from {second} to {first}" in back.stdout
    history = json.loads(HISTORY.read_text())
    assert (history["current"]["image"], history["previous"]["image"]) == (first, second)

    # The inventory's render (the build stage's tag) is what runs now: a deploy rewrites the render
    # of the second tag, and rolls nothing.
    _assert_a_deploy_only_renders(run_playbook)


def test_rollout_never_ready_fails_and_the_previous_one_serves(converged, run_playbook):
    port = _closed_port()
    image, kube, history = _running_image(), KUBE_FILE.read_bytes(), HISTORY.read_bytes()
    pod = _podman("pod", "inspect", "--format", "{{.ID}}", API_POD)
    # Without the Jobs and with a database port nothing listens on, the new pod starts and answers
    # /healthz, but /readyz stays 503. It runs as the surge pod next to the API pod, which is never
    # touched.
    failed = run_playbook(
        "playbooks/deploy.yml",
        cmdline=f"-e titanic_manifests_migrate=false -e titanic_manifests_db_port={port}"
        """ -e titanic_podman_ready_timeout=10 -e '{"titanic_podman_job_phases": []}'""",
    )
    assert failed.status == "failed"
    message = " ".join(failed.failures)
    assert f"{SURGE_POD} running {image} did not become ready within 10 s" in message, message
    assert f"port {port} failed: Connection refused" in message, "the pod's last log lines"
    assert "the API pod was not touched" in message, message
    assert _podman("pod", "inspect", "--format", "{{.ID}}", API_POD) == pod
    assert SURGE_POD not in _podman("pod", "ps", "--format", "{{.Name}}").split()

    # The rollout it replaced serves again, and the failed attempt is not recorded as good.
    assert _serves_the_passengers()
    env = _podman("container", "inspect", "--format", "{{json .Config.Env}}", f"{API_POD}-api")
    assert "POSTGRES_PORT=5432" in json.loads(env)
    assert (KUBE_FILE.read_bytes(), HISTORY.read_bytes()) == (kube, history)

    # A plain rerun: the inventory's render is what runs, so nothing rolls.
    _assert_a_deploy_only_renders(run_playbook)


def test_teardown_refuses_an_environment_that_is_not_local(run_playbook):
    run = run_playbook("playbooks/teardown.yml", inventory="inventories/dev")
    assert run.status == "failed"
    assert "removes the local system only" in " ".join(run.failures), run.failures
    # the refusal is the first task: nothing before it ran, nothing changed
    assert run.total("ok") == 0 and run.total("changed") == 0, run.stats
