"""playbooks/platform_record.yml on the converged local system, as the pipeline's fresh runner runs
it: the platform record it writes from Terraform's state (read only) is the one provision.yml wrote,
a second run changes nothing, and a state without outputs is refused, naming its object."""

from __future__ import annotations

import json
from pathlib import Path

PROVISIONED = Path("/var/lib/titanic-ops/local/records/platform.json")


def _record(path: Path) -> dict:
    record = json.loads(path.read_text())
    record.pop("written_at")
    return record


def test_a_fresh_control_node_records_the_platform_that_provision_recorded(
    converged, run_playbook, tmp_path
):
    state = tmp_path / "state"
    cmdline = f"-e titanic_state_dir={state}"
    first = run_playbook("playbooks/platform_record.yml", "inventories/local", cmdline)
    assert first.status == "successful", first.failures or first.stdout[-3000:]
    assert _record(state / "records" / "platform.json") == _record(PROVISIONED)
    second = run_playbook("playbooks/platform_record.yml", "inventories/local", cmdline)
    assert second.status == "successful", second.failures or second.stdout[-3000:]
    assert second.total("changed") == 0


def test_a_state_without_outputs_is_refused_and_nothing_is_recorded(
    converged, run_playbook, tmp_path
):
    state = tmp_path / "state"
    key = "never-provisioned/platform.tfstate"
    cmdline = f"-e titanic_state_dir={state} -e aws_infra_state_key={key}"
    run = run_playbook("playbooks/platform_record.yml", "inventories/local", cmdline)
    assert run.status == "failed"
    assert any(f"{key} holds no outputs" in failure for failure in run.failures), run.failures
    assert not (state / "records" / "platform.json").exists()
