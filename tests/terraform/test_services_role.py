"""Role aws_services against a throw-away emulator: credentials generated, kept, rotated."""

from __future__ import annotations

import json

import boto3

PLAYBOOK = "tests/terraform/aws_services.yml"
SECRET_NAME = "titanic/local/api/database"  # noqa: S105 - a name, not a value


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


def secret_value(emulator: str) -> dict:
    client = boto3.client(
        "secretsmanager",
        endpoint_url=emulator,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto accepts any credentials
    )
    return json.loads(client.get_secret_value(SecretId=SECRET_NAME)["SecretString"])


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
