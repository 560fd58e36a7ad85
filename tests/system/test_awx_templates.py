"""Job templates of awx/controller.yml launched on the converged local system through ansible-runner
(AWX's engine), with the variables the controller hands them: the promotion workflow's smoke test
and the daily backup check (playbooks/dr/verify.yml, answered as its schedule answers), both
read-only. The other local templates run the playbooks this directory already runs with the same
variables (their extra_vars are the inventory's own state directory; tests/awx checks that)."""

from __future__ import annotations

from awx_controller import (
    controller,
    inventory_of,
    launch_cmdline,
    launch_vars,
    playbook_of,
)


def _launch(run_playbook, tmp_path, name: str, answers: dict | None = None):
    variables = launch_vars(name, answers)
    return run_playbook(
        playbook_of(name), inventory_of(name), launch_cmdline(tmp_path, name, variables)
    )


def test_local_templates_use_the_local_system_s_own_state():
    """What lets the runs below (and this directory's) stand for the templates' runs."""
    local = [t for t in controller()["awx_configure_job_templates"] if "local" in t["inventory"]]
    assert {t["extra_vars"]["titanic_state_dir"] for t in local} == {"/var/lib/titanic-ops/local"}


def test_the_smoke_test_template_passes_on_the_deployed_api(converged, run_playbook, tmp_path):
    run = _launch(run_playbook, tmp_path, "titanic-local smoke test")
    assert run.status == "successful", run.failures or run.stdout[-3000:]
    assert "http://127.0.0.1:8080: ready," in run.stdout and " passengers." in run.stdout
    assert run.total("changed") == 0


def test_the_daily_backup_check_passes_and_changes_nothing(converged, run_playbook, tmp_path):
    # Answered as the cloud environments' daily schedules answer it, with the environment's name.
    run = _launch(run_playbook, tmp_path, "titanic-local dr verify", {"dr_environment": "local"})
    assert run.status == "successful", run.failures or run.stdout[-3000:]
    assert "verified   local (" in run.stdout
    assert run.total("changed") == 0
