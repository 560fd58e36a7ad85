"""Helpers of the Terraform suites (imported by conftest.py and the tests)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = shutil.which("terraform") or "/usr/local/bin/terraform"


def terraform(
    args: list[str], cwd: Path, env: dict, timeout: int = 300
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TERRAFORM, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def render_tfvars(run_playbook, env: str, dest: Path) -> dict:
    """The Terraform variables role aws_infra gives the environment from its inventory."""
    run = run_playbook(
        "tests/terraform/render_tfvars.yml",
        inventory=f"inventories/{env}",
        cmdline=f"-e aws_infra_render_to={dest}",
    )
    assert run.status == "successful", run.stdout[-3000:]
    return json.loads(dest.read_text())
