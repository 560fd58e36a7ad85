"""The base image of dev, staging and prod is referenced by digest, and the build refuses one that
is not, before it looks for it, pulls it or builds anything (titanic_image, tasks_from: base)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = "tests/image/base.yml"
CLOUD = ["dev", "staging", "prod"]
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _image_vars(env: str) -> dict:
    return yaml.safe_load((REPO / f"inventories/{env}/group_vars/all/image.yml").read_text())


@pytest.mark.parametrize("env", CLOUD)
def test_cloud_inventories_name_their_base_by_digest_and_require_it(env):
    values = _image_vars(env)
    assert values["titanic_image_base_require_digest"] is True
    assert DIGEST.search(values["titanic_image_base"]), values["titanic_image_base"]


def test_a_base_by_tag_is_refused_before_anything_is_looked_up(run_playbook):
    tag = "docker.io/library/python:3.11-slim-bookworm"
    run = run_playbook(PLAYBOOK, "inventories/prod", f"-e titanic_image_base={tag}")
    assert run.status == "failed"
    (failure,) = run.failures
    assert "titanic_image_base must name its digest" in failure and tag in failure
    assert "TASK [titanic_image : Look for the base image]" not in run.stdout, "a later task ran"


def test_the_inventory_s_digest_passes_the_check(run_playbook):
    # Not pulled (no registry here): the next step then stops because the base is missing.
    run = run_playbook(PLAYBOOK, "inventories/prod", "-e '{\"titanic_image_base_pull\": false}'")
    assert run.status == "failed"
    (failure,) = run.failures
    assert "must name its digest" not in failure
    assert "is not in podman's storage" in failure, failure
