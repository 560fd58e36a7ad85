"""Role aws_infra's render_tfvars entry point (tools and tests render an inventory's Terraform
variables through it) writes the file and leaves the directory it writes into as it found it."""

from __future__ import annotations

import json
import stat

from tf_helpers import render_tfvars


def test_rendering_into_a_shared_directory_keeps_its_mode(run_playbook, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # as /tmp is
    values = render_tfvars(run_playbook, "dev", shared / "dev.tfvars.json")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert values["environment"] == "dev"
    assert stat.S_IMODE((shared / "dev.tfvars.json").stat().st_mode) == 0o600


def test_a_missing_directory_is_made_private(run_playbook, tmp_path):
    target = tmp_path / "new" / "prod.tfvars.json"
    render_tfvars(run_playbook, "prod", target)
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert json.loads(target.read_text())["environment"] == "prod"
