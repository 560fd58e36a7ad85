"""Bad input to the aws_infra role fails before any change, with a message naming the cause."""

from __future__ import annotations

import pytest
import yaml
from loopback import free_port

PLAYBOOK = "tests/terraform/aws_infra_guards.yml"


def edit_aws_vars(inventory, **changes):
    path = inventory / "group_vars" / "all" / "aws.yml"
    data = yaml.safe_load(path.read_text())
    data.update(changes)
    path.write_text(yaml.safe_dump(data))


def assert_refused(run, *needles):
    assert run.status == "failed", run.stdout[-3000:]
    assert run.total("changed") == 0, "a refused run must not change anything"
    text = "\n".join(run.failures) + run.stdout
    for needle in needles:
        assert needle in text, f"{needle!r} not in the failure: {run.failures}"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("aws_infra_db_multi_az", "sometimes", "aws_infra_db_multi_az"),
        ("aws_infra_db_backup_retention_days", "a week", "aws_infra_db_backup_retention_days"),
        ("aws_infra_azs", "eu-west-1a", "aws_infra_azs"),
        ("aws_infra_node_groups", ["default"], "aws_infra_node_groups"),
    ],
)
def test_wrong_type_in_inventory_fails_naming_the_variable(
    run_playbook, inventory_copy, variable, value, expected
):
    inventory = inventory_copy("local")
    edit_aws_vars(inventory, **{variable: value})
    assert_refused(run_playbook(PLAYBOOK, inventory=inventory), expected)


def test_unknown_environment_fails_naming_the_choices(run_playbook, inventory_copy):
    inventory = inventory_copy("local")
    path = inventory / "group_vars" / "all" / "environment.yml"
    data = yaml.safe_load(path.read_text())
    data["titanic_environment"] = "qa"
    path.write_text(yaml.safe_dump(data))
    assert_refused(run_playbook(PLAYBOOK, inventory=inventory), "aws_infra_environment", "qa")


def test_prod_against_the_emulator_is_refused(run_playbook):
    run = run_playbook(
        PLAYBOOK,
        inventory="inventories/prod",
        cmdline="-e aws_infra_endpoint_url=http://127.0.0.1:4566 -e titanic_state_dir=/tmp/tg",
    )
    assert_refused(run, "may run against the emulator", "unset aws_infra_endpoint_url for prod")


def test_prod_with_the_emulator_account_is_refused(run_playbook):
    run = run_playbook(
        PLAYBOOK,
        inventory="inventories/prod",
        cmdline="-e aws_infra_account_id=123456789012 -e titanic_state_dir=/tmp/titanic-guard",
    )
    assert_refused(run, "is the emulator's account")


def test_local_against_a_real_account_is_refused(run_playbook, inventory_copy):
    inventory = inventory_copy("local")
    edit_aws_vars(inventory, aws_infra_account_id="430987654321")
    assert_refused(run_playbook(PLAYBOOK, inventory=inventory), "is the emulator's account")


def test_local_without_the_emulator_is_refused(run_playbook, inventory_copy):
    inventory = inventory_copy("local")
    edit_aws_vars(inventory, aws_infra_endpoint_url="")
    assert_refused(run_playbook(PLAYBOOK, inventory=inventory), "needs aws_infra_endpoint_url")


def test_destroying_prod_needs_confirmation(run_playbook):
    run = run_playbook(
        PLAYBOOK,
        inventory="inventories/prod",
        cmdline="-e aws_infra_state=absent -e titanic_state_dir=/tmp/titanic-guard",
    )
    assert_refused(run, "aws_infra_prod_destroy_confirmed")


def test_provision_playbook_rejects_a_wrong_type_before_the_emulator_starts(
    run_playbook, inventory_copy, tmp_path
):
    inventory = inventory_copy("local")
    edit_aws_vars(inventory, aws_infra_db_multi_az="sometimes", aws_emulator_port=free_port())
    run = run_playbook(
        "playbooks/provision.yml", inventory=inventory, cmdline=f"-e titanic_state_dir={tmp_path}"
    )
    assert_refused(run, "aws_infra_db_multi_az")
    assert not (tmp_path / "aws-emulator").exists(), "the emulator must not have been started"
