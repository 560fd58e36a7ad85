"""The vulnerability audit of the image converge built, read from its artifacts.

No vulnerability service is asked here: whatever it answered during converge, the audited list must
be the image's own third-party packages, and a passed audit must be recorded exactly when the gate's
report says so. The gate's logic is unit-tested in tests/unit/test_audit_gate.py, the inventories'
policies in tests/image/test_audit_policy.py.
"""

from __future__ import annotations

import json
import os

NAME = os.environ.get("MOLECULE_TITANIC_IMAGE_NAME", "titanic-api-molecule")
STATE_DIR = os.environ.get("MOLECULE_TITANIC_IMAGE_STATE_DIR", "/tmp/molecule-titanic-image")  # noqa: S108
IMAGE = f"localhost/{NAME}:latest"
# The API's distribution, named by app/pyproject.toml (the image's name differs in this scenario).
API_DISTRIBUTION = "titanic-api"


def test_audit_covers_the_images_packages_and_records_only_a_pass(host):
    image_id = json.loads(host.check_output(f"podman image inspect {IMAGE}"))[0]["Id"]
    artifacts = f"{STATE_DIR}/image/artifacts/{image_id.removeprefix('sha256:')}"
    installed = host.file(f"{artifacts}/requirements.txt").content_string.split()
    audited = host.file(f"{artifacts}/requirements-third-party.txt").content_string.split()
    own = [line for line in installed if line.startswith(f"{API_DISTRIBUTION}==")]
    assert len(own) == 1, installed
    assert "flask" in {line.split("==")[0] for line in audited}
    assert audited == [line for line in installed if line not in own]

    report = json.loads(host.file(f"{artifacts}/audit.last.json").content_string)
    # inventories/local warns when the service cannot answer; a blocking finding or an error stops
    # converge, so these are the only outcomes left.
    assert report["status"] in {"pass", "unreachable", "unaudited"}, report
    assert host.file(f"{artifacts}/audit.json").exists == (report["status"] == "pass")
