"""titanic.ops.rds_snapshot_copy: main() against moto's RDS and KMS in two regions."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ansible_collections.titanic.ops.plugins.modules import rds_snapshot_copy

SOURCE_REGION = "eu-west-1"
COPY_REGION = "eu-central-1"


@pytest.fixture
def snapshot():
    """An encrypted snapshot in the source region and a key in the copy region: (ARN, key ARN)."""
    with mock_aws():
        key = boto3.client("kms", region_name=SOURCE_REGION).create_key()["KeyMetadata"]["Arn"]
        rds = boto3.client("rds", region_name=SOURCE_REGION)
        rds.create_db_instance(
            DBInstanceIdentifier="db",
            Engine="postgres",
            DBInstanceClass="db.t4g.micro",
            AllocatedStorage=20,
            MasterUsername="admin1",
            MasterUserPassword="not-a-secret-0",  # noqa: S106 - moto's throw-away instance
            StorageEncrypted=True,
            KmsKeyId=key,
        )
        arn = rds.create_db_snapshot(DBInstanceIdentifier="db", DBSnapshotIdentifier="snap")["DBSnapshot"][
            "DBSnapshotArn"
        ]
        copy_key = boto3.client("kms", region_name=COPY_REGION).create_key()["KeyMetadata"]["Arn"]
        yield arn, copy_key


def copy_args(snapshot) -> dict:
    arn, copy_key = snapshot
    return {
        "source_snapshot_arn": arn,
        "source_region": SOURCE_REGION,
        "snapshot_identifier": "snap-dr",
        "kms_key_id": copy_key,
        "tags": {"Purpose": "dr-copy"},
        "region": COPY_REGION,
    }


def copies() -> list[dict]:
    return boto3.client("rds", region_name=COPY_REGION).describe_db_snapshots()["DBSnapshots"]


def test_copy_lands_in_the_destination_region_under_its_key_then_is_kept(snapshot, run_module):
    first = run_module(rds_snapshot_copy, copy_args(snapshot))
    assert first["changed"] is True
    assert first["snapshot"]["kms_key_id"] == snapshot[1]
    assert f":{COPY_REGION}:" in first["snapshot"]["db_snapshot_arn"]
    assert [copy["DBSnapshotIdentifier"] for copy in copies()] == ["snap-dr"]
    again = run_module(rds_snapshot_copy, copy_args(snapshot))
    assert again["changed"] is False
    assert again["snapshot"]["db_snapshot_arn"] == first["snapshot"]["db_snapshot_arn"]


def test_check_mode_copies_nothing(snapshot, run_module):
    result = run_module(rds_snapshot_copy, {**copy_args(snapshot), "_ansible_check_mode": True})
    assert result["changed"] is True
    assert copies() == []


def test_a_missing_source_fails_naming_it(snapshot, run_module):
    args = {**copy_args(snapshot), "source_snapshot_arn": snapshot[0].replace(":snap", ":gone")}
    result = run_module(rds_snapshot_copy, args)
    assert result["failed"] is True
    assert "gone" in result["msg"]
