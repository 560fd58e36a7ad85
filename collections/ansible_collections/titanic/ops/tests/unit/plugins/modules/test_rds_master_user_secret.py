"""titanic.ops.rds_master_user_secret: main() against moto's RDS, KMS and Secrets Manager."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ansible_collections.titanic.ops.plugins.modules import rds_master_user_secret

REGION = "eu-west-1"


@pytest.fixture
def key():
    """Inside moto: an instance whose master password is its own (as after a restore), and a key."""
    with mock_aws():
        boto3.client("rds", region_name=REGION).create_db_instance(
            DBInstanceIdentifier="restored",
            Engine="postgres",
            DBInstanceClass="db.t4g.micro",
            AllocatedStorage=20,
            MasterUsername="admin1",
            MasterUserPassword="not-a-secret-0",  # noqa: S106 - moto's throw-away instance
        )
        yield boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]


def args(key: str) -> dict:
    return {"db_instance_identifier": "restored", "kms_key_id": key, "region": REGION}


def secret_of_instance() -> dict | None:
    rds = boto3.client("rds", region_name=REGION)
    return rds.describe_db_instances(DBInstanceIdentifier="restored")["DBInstances"][0].get(
        "MasterUserSecret"
    )


def test_the_secret_is_made_under_the_key_then_kept(key, run_module):
    first = run_module(rds_master_user_secret, args(key))
    assert first["changed"] is True
    secret = first["master_user_secret"]
    assert secret["kms_key_id"] == key
    assert secret["secret_arn"] == secret_of_instance()["SecretArn"]
    stored = boto3.client("secretsmanager", region_name=REGION).describe_secret(
        SecretId=secret["secret_arn"]
    )
    assert stored["KmsKeyId"] == key
    again = run_module(rds_master_user_secret, args(key))
    assert again["changed"] is False
    assert again["master_user_secret"]["secret_arn"] == secret["secret_arn"]


def test_check_mode_changes_nothing(key, run_module):
    result = run_module(rds_master_user_secret, {**args(key), "_ansible_check_mode": True})
    assert result["changed"] is True
    assert secret_of_instance() is None


def test_a_missing_instance_fails_naming_it(key, run_module):
    result = run_module(rds_master_user_secret, {**args(key), "db_instance_identifier": "gone"})
    assert result["failed"] is True
    assert "gone" in result["msg"]
