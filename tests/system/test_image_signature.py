"""The deploy stage runs only images signed by the inventory's key (role image_signature): the
build stage's signed image passes, an unsigned one and one signed by another key are refused before
any pod, secret or file of the applier changes."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import requests
import signed_images
from local_pods import api_pod_id

API = "http://127.0.0.1:8080"

pytestmark = pytest.mark.timeout(900)


def _render_back(run_playbook) -> None:
    """A refused deploy leaves the render of the tag it refused: render the recorded one again."""
    run = run_playbook("playbooks/deploy.yml", cmdline="--tags render")
    assert run.status == "successful", run.failures


def test_the_published_image_is_signed_and_passes_the_gate(converged, run_playbook):
    record_image = subprocess.run(
        ["podman", "container", "inspect", "--format", "{{.ImageName}}", "titanic-api-pod-0-api"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    tag = record_image.rsplit(":", 1)[1]
    signatures = signed_images.signature_dir(signed_images.digest(tag))
    assert (signatures / "signature-1").is_file(), sorted(signed_images.STORE.rglob("*"))
    run = run_playbook("playbooks/deploy.yml", cmdline="--tags preflight")
    assert run.status == "successful", run.failures
    assert f"{signed_images.REPOSITORY}:{tag} (sha256:" in run.stdout
    assert "is signed by" in run.stdout
    assert run.total("changed") == 0, run.changed_tasks


@pytest.mark.parametrize("case", ["unsigned", "signed-by-another-key"])
def test_an_image_without_the_keys_signature_is_refused(converged, run_playbook, tmp_path, case):
    # Another image than the running one (its own digest, so its own signatures): the base image.
    source = "localhost/titanic-base:bookworm"
    tag = f"system-test-{case}"
    key = signed_images.other_key(tmp_path) if case == "signed-by-another-key" else None
    image_digest = signed_images.push(source, tag, key=key)
    before = api_pod_id()
    try:
        run = run_playbook("playbooks/deploy.yml", cmdline=f"-e titanic_manifests_image_tag={tag}")
        assert run.status == "failed"
        refused = [
            f for f in run.failures if f.startswith(f"Refused: {signed_images.REPOSITORY}:{tag}")
        ]
        assert refused, run.failures
        reason = {
            "unsigned": "A signature was required, but no signature exists",
            "signed-by-another-key": "Invalid GPG signature",
        }[case]
        assert reason in refused[0], refused[0]
        assert "Nothing was deployed" in refused[0]
        # Only the render of the refused tag was written; nothing of the running system changed.
        assert all(
            task.startswith("Ensure the manifests and their index are in")
            for task in run.changed_tasks
        ), run.changed_tasks
        assert api_pod_id() == before
        assert requests.get(f"{API}/readyz", timeout=5).status_code == 200
    finally:
        shutil.rmtree(signed_images.signature_dir(image_digest), ignore_errors=True)
        _render_back(run_playbook)
