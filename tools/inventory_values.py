"""What an inventory gives its environment, read through Ansible (tools/inventory_values.yml), so
that a tool computing from it sees what the roles see: the Terraform variables role aws_infra
renders, and the values of named variables after Ansible's precedence and templating."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLAYBOOK = REPO / "tools" / "inventory_values.yml"


class InventoryError(RuntimeError):
    """The inventory could not be read; the message carries ansible-playbook's output."""


def read(environment: str, names: list[str] | tuple[str, ...] = ()) -> tuple[dict, dict]:
    """(Terraform variables, {name: value or None}) of inventories/<environment>."""
    with tempfile.TemporaryDirectory(prefix=f"inventory-{environment}-") as work:
        extra = {"inventory_values_dir": work, "inventory_values_names": list(names)}
        run = subprocess.run(  # noqa: S603 - the venv's ansible-playbook, fixed arguments
            [
                str(Path(sys.executable).parent / "ansible-playbook"),
                "-i",
                f"inventories/{environment}",
                str(PLAYBOOK),
                "-e",
                json.dumps(extra),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        if run.returncode != 0:
            raise InventoryError(
                f"reading inventories/{environment} failed:\n{(run.stdout + run.stderr)[-3000:]}"
            )
        tfvars = json.loads(Path(work, "tfvars.json").read_text())
        values = json.loads(Path(work, "values.json").read_text())
    return tfvars, values
