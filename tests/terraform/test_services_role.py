"""Role aws_services against a throw-away emulator: credentials generated, kept, rotated; the
secret's host and the database alarms follow a restore's database record."""

from __future__ import annotations

import json

import boto3
import pytest

PLAYBOOK = "tests/terraform/aws_services.yml"
SECRET_NAME = "titanic/local/api/database"  # noqa: S105 - a name, not a value
# What playbooks/dr/restore.yml writes after a restore into a new RDS instance (docs/stages.md).
DATABASE_RECORD = {
    "schema": "titanic-ops/database/v1",
    "environment": "local",
    "written_at": "2026-11-30T14:10:00Z",
    "instance_identifier": "titanic-local-r20261130141000",
    "endpoint": "titanic-local-r20261130141000.restored.internal",
    "port": 5432,
    "db_name": "titanic",
    "source_instance_identifier": "titanic-local",
    "restored_to": "2026-11-30T14:05:00+00:00",
}


def services_vars(emulator: str, state_dir, **extra: str) -> str:
    values = {
        "titanic_environment": "local",
        "titanic_state_dir": str(state_dir),
        "aws_services_region": "eu-west-1",
        "aws_services_account_id": "123456789012",
        "aws_services_endpoint_url": emulator,
        "aws_services_db_host": "titanic-local.example.internal",
        "aws_services_db_secret_name": SECRET_NAME,
        "aws_services_db_kms_key_arn": "",
        "aws_services_log_group_name": "/titanic/local/api",
        "aws_services_log_retention_days": "7",
        "aws_services_verify": "false",
        **extra,
    }
    return " ".join(f"-e {k}={v}" for k, v in values.items())


def aws_client(emulator: str, service: str):
    return boto3.client(
        service,
        endpoint_url=emulator,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto accepts any credentials
    )


def secret_value(emulator: str, name: str = SECRET_NAME) -> dict:
    client = aws_client(emulator, "secretsmanager")
    return json.loads(client.get_secret_value(SecretId=name)["SecretString"])


def test_credentials_generated_kept_and_rotated(run_playbook, emulator, tmp_path):
    first = run_playbook(PLAYBOOK, cmdline=services_vars(emulator, tmp_path))
    assert first.status == "successful", first.stdout[-3000:]
    created = secret_value(emulator)
    assert created["username"] == "titanic_api" and len(created["password"]) == 32
    assert created["host"] == "titanic-local.example.internal"
    assert created["password"] not in first.stdout, "the password must never be logged"

    again = run_playbook(PLAYBOOK, cmdline=services_vars(emulator, tmp_path))
    assert again.status == "successful" and again.total("changed") == 0, again.stdout[-3000:]
    assert secret_value(emulator)["password"] == created["password"]

    rotated = run_playbook(
        PLAYBOOK,
        cmdline=services_vars(emulator, tmp_path, aws_services_rotate_db_credentials="true"),
    )
    assert rotated.status == "successful" and rotated.total("changed") == 1, rotated.stdout[-3000:]
    assert secret_value(emulator)["password"] != created["password"]


def test_services_refuse_a_real_account_for_local(run_playbook, emulator, tmp_path):
    run = run_playbook(
        PLAYBOOK, cmdline=services_vars(emulator, tmp_path, aws_services_account_id="430987654321")
    )
    assert run.status == "failed" and run.total("changed") == 0
    assert any("Refusing to run environment local" in msg for msg in run.failures), run.failures


@pytest.mark.parametrize("restored", [True, False], ids=["database-record", "platform-only"])
def test_secret_host_and_alarms_follow_the_database_record_when_there_is_one(
    run_playbook, emulator, tmp_path, restored
):
    """After a restore into a new RDS instance (playbooks/dr/restore.yml writes the database
    record), the API's secret names the new endpoint and the alarms watch the new instance."""
    secret_name, prefix = f"titanic/local/api/database-{restored}", f"titanic-local-r{restored:d}"
    if restored:
        records = tmp_path / "records"
        records.mkdir()
        (records / "database.json").write_text(json.dumps(DATABASE_RECORD))
    values = {
        "titanic_environment": "local",
        "titanic_state_dir": str(tmp_path),
        "titanic_platform": {
            "region": "eu-west-1",
            "account_id": "123456789012",
            "endpoint_url": emulator,
            "outputs": {
                "db_endpoint": "titanic-local.platform.internal",
                "db_instance_identifier": "titanic-local",
            },
        },
        "aws_services_db_secret_name": secret_name,
        "aws_services_name_prefix": prefix,
        "aws_services_log_group_name": f"/titanic/local/api-{restored}",
        "aws_services_log_retention_days": 7,
        "aws_services_verify": False,
    }
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps(values))
    run = run_playbook(PLAYBOOK, cmdline=f"-e @{extra}")
    assert run.status == "successful", run.failures or run.stdout[-3000:]
    host, instance = (
        (DATABASE_RECORD["endpoint"], DATABASE_RECORD["instance_identifier"])
        if restored
        else ("titanic-local.platform.internal", "titanic-local")
    )
    assert secret_value(emulator, secret_name)["host"] == host
    alarms = aws_client(emulator, "cloudwatch").describe_alarms(AlarmNamePrefix=f"{prefix}-db-")
    dimensions = {
        alarm["AlarmName"]: [(d["Name"], d["Value"]) for d in alarm["Dimensions"]]
        for alarm in alarms["MetricAlarms"]
    }
    assert dimensions == {
        f"{prefix}-db-cpu": [("DBInstanceIdentifier", instance)],
        f"{prefix}-db-free-storage": [("DBInstanceIdentifier", instance)],
    }
