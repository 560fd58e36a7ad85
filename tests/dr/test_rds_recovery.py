"""The RDS side of role db_recovery (tasks/*_rds.yml) against a moto_server of its own.

A source instance like the platform's (encrypted with its own key, Multi-AZ, managed master
password, its own subnet group, security group and parameter group) is made with boto3; then each
entry point runs as the DR playbooks run it: a snapshot now and its copy in a second region under
that region's key, a point-in-time restore into a new instance set up like the source and named by
the database record, the snapshot freshness check passing and failing. What moto does not model
(waits, the data of a point in time, the API's traffic moving to the new endpoint) is listed in
docs/limitations.md with the commands that prove it on an account.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from deploy.deploy_cases import PLATFORM_RECORD
from loopback import free_port, wait_until_listening

PLAYBOOK = "tests/dr/rds.yml"
VERIFY_PLAYBOOK = "playbooks/dr/verify.yml"
REGION = "eu-west-1"
COPY_REGION = "eu-central-1"
SOURCE = "titanic-drtest"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    """A moto_server of this module's own on a free loopback port; yields its URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    moto = str(Path(sys.executable).parent / "moto_server")
    with log.open("w") as out:
        proc = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out)
    try:
        wait_until_listening(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def client(emulator: str, service: str, region: str = REGION):
    return boto3.client(
        service,
        endpoint_url=emulator,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto accepts any credentials
    )


@pytest.fixture(scope="module")
def platform(emulator):
    """The source instance and its network, as the rds Terraform module makes them; the DR key."""
    ec2, rds, kms = (client(emulator, name) for name in ("ec2", "rds", "kms"))
    key = kms.create_key(Description="rds")["KeyMetadata"]["Arn"]
    copy_key = client(emulator, "kms", COPY_REGION).create_key(Description="dr")["KeyMetadata"][
        "Arn"
    ]
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"10.77.{n}.0/24", AvailabilityZone=f"{REGION}{zone}"
        )["Subnet"]["SubnetId"]
        for n, zone in ((1, "a"), (2, "b"))
    ]
    group = ec2.create_security_group(GroupName=f"{SOURCE}-db", Description="db", VpcId=vpc)[
        "GroupId"
    ]
    rds.create_db_subnet_group(
        DBSubnetGroupName=SOURCE, DBSubnetGroupDescription="database subnets", SubnetIds=subnets
    )
    rds.create_db_parameter_group(
        DBParameterGroupName=f"{SOURCE}-pg16",
        DBParameterGroupFamily="postgres16",
        Description="pg16",
    )
    instance = rds.create_db_instance(
        DBInstanceIdentifier=SOURCE,
        Engine="postgres",
        EngineVersion="16.4",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        DBName="titanic",
        MasterUsername="titanic_admin",
        ManageMasterUserPassword=True,
        MasterUserSecretKmsKeyId=key,
        StorageEncrypted=True,
        KmsKeyId=key,
        DBSubnetGroupName=SOURCE,
        DBParameterGroupName=f"{SOURCE}-pg16",
        VpcSecurityGroupIds=[group],
        MultiAZ=True,
        PubliclyAccessible=False,
        BackupRetentionPeriod=7,
    )["DBInstance"]
    return {"key": key, "copy_key": copy_key, "group": group, "instance": instance}


def run_entry_point(run_playbook, emulator, tmp_path, tasks: str, **inputs) -> tuple:
    """Run an entry point of db_recovery (backup, restore, verify) for the eks target; returns
    the run and the outcome fact (None when the run failed before it)."""
    outcome = tmp_path / f"{tasks}-outcome.json"
    values = {
        "titanic_environment": "dev",
        "titanic_state_dir": str(tmp_path / "state"),
        # What the provision stage's record holds; the role's defaults take the instance, region and
        # endpoint from it, and a restore's database record takes over from it.
        "titanic_platform": {
            "region": REGION,
            "endpoint_url": emulator,
            "outputs": {"db_instance_identifier": SOURCE},
        },
        "dr_test_tasks": tasks,
        "dr_test_outcome_file": str(outcome),
        "db_recovery_target": "eks",
        "db_recovery_rds_wait_timeout": 120,
        "db_recovery_ready_timeout": 5,
        **inputs,
    }
    extra = tmp_path / f"{tasks}-vars.json"
    extra.write_text(json.dumps(values))
    run = run_playbook(PLAYBOOK, inventory="inventories/dev", cmdline=f"-e @{extra}")
    return run, (json.loads(outcome.read_text()) if outcome.exists() else None)


def instances(emulator) -> dict:
    return {
        db["DBInstanceIdentifier"]: db
        for db in client(emulator, "rds").describe_db_instances()["DBInstances"]
    }


def test_backup_takes_a_snapshot_now_and_copies_it_to_the_dr_region_under_its_key(
    run_playbook, emulator, platform, tmp_path
):
    run, outcome = run_entry_point(
        run_playbook,
        emulator,
        tmp_path,
        "backup",
        db_recovery_rds_copy_region=COPY_REGION,
        db_recovery_rds_copy_kms_key_id=platform["copy_key"],
    )
    assert run.status == "successful", run.failures or run.stdout[-3000:]
    snapshot_id = outcome["backup_id"]
    assert snapshot_id.startswith(f"{SOURCE}-dr-")
    snapshot = client(emulator, "rds").describe_db_snapshots(DBSnapshotIdentifier=snapshot_id)[
        "DBSnapshots"
    ][0]
    assert (snapshot["SnapshotType"], snapshot["Status"]) == ("manual", "available")
    assert snapshot["DBInstanceIdentifier"] == SOURCE
    assert outcome["details"]["size_gib"] == 20
    assert outcome["details"]["snapshot_time"]
    copy = client(emulator, "rds", COPY_REGION).describe_db_snapshots(
        DBSnapshotIdentifier=snapshot_id
    )["DBSnapshots"][0]
    assert copy["KmsKeyId"] == platform["copy_key"], (
        "the copy must be encrypted with the DR region's key"
    )
    assert outcome["details"]["copy_arn"] == copy["DBSnapshotArn"]
    assert f":{COPY_REGION}:" in copy["DBSnapshotArn"]


def test_backup_refuses_a_copy_region_without_its_key(run_playbook, emulator, platform, tmp_path):
    before = client(emulator, "rds").describe_db_snapshots()["DBSnapshots"]
    run, _ = run_entry_point(
        run_playbook, emulator, tmp_path, "backup", db_recovery_rds_copy_region=COPY_REGION
    )
    assert run.status == "failed"
    assert any("db_recovery_rds_copy_kms_key_id" in failure for failure in run.failures), (
        run.failures
    )
    assert client(emulator, "rds").describe_db_snapshots()["DBSnapshots"] == before


def test_restore_to_a_point_in_time_makes_a_new_instance_like_the_source_and_records_it(
    run_playbook, emulator, platform, tmp_path
):
    source = instances(emulator)[SOURCE]
    target_time = source["LatestRestorableTime"].astimezone(dt.UTC).isoformat()
    run, outcome = run_entry_point(
        run_playbook,
        emulator,
        tmp_path,
        "restore",
        db_recovery_target_time=target_time,
        db_recovery_rds_restored_identifier=f"{SOURCE}-pitr",
    )
    assert run.status == "successful", run.failures or run.stdout[-3000:]
    now = instances(emulator)
    restored, source_after = now[f"{SOURCE}-pitr"], now[SOURCE]
    assert restored["DBSubnetGroup"]["DBSubnetGroupName"] == SOURCE
    assert [g["VpcSecurityGroupId"] for g in restored["VpcSecurityGroups"]] == [platform["group"]]
    assert [g["DBParameterGroupName"] for g in restored["DBParameterGroups"]] == [f"{SOURCE}-pg16"]
    assert restored["MultiAZ"] is True
    assert restored["StorageEncrypted"] is True
    assert restored["KmsKeyId"] == platform["key"]
    assert restored["PubliclyAccessible"] is False
    assert source_after["Endpoint"] == source["Endpoint"], "the source instance must stay as it is"
    record = json.loads((tmp_path / "state" / "records" / "database.json").read_text())
    assert record["schema"] == "titanic-ops/database/v1"
    assert record["instance_identifier"] == f"{SOURCE}-pitr"
    assert record["endpoint"] == restored["Endpoint"]["Address"] != source["Endpoint"]["Address"]
    assert record["source_instance_identifier"] == SOURCE
    assert record["restored_to"] == target_time == outcome["restored_to"]
    # The source's master password is managed by RDS: the new instance has a secret of its own,
    # which the record names (the source's stays with the source and is deleted with it).
    new_secret = restored["MasterUserSecret"]["SecretArn"]
    assert new_secret != source["MasterUserSecret"]["SecretArn"]
    assert record["master_secret_arn"] == new_secret == outcome["details"]["master_secret_arn"]
    secrets = client(emulator, "secretsmanager")
    assert secrets.describe_secret(SecretId=new_secret)["ARN"] == new_secret


def test_restore_to_the_latest_state_needs_no_time(run_playbook, emulator, platform, tmp_path):
    run, outcome = run_entry_point(run_playbook, emulator, tmp_path, "restore")
    assert run.status == "successful", run.failures or run.stdout[-3000:]
    new = outcome["details"]["instance"]
    assert new.startswith(f"{SOURCE}-r") and new in instances(emulator)
    assert outcome["restored_to"].startswith("latest (")


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"db_recovery_target_time": "2999-01-01T00:00:00+00:00"}, "latest restorable time"),
        ({"db_recovery_target_time": "yesterday"}, "ISO 8601"),
        (
            {"db_recovery_mode": "in_place", "db_recovery_confirm_in_place": True},
            "no in-place point-in-time restore",
        ),
    ],
    ids=["after-latest-restorable-time", "not-iso-8601", "in-place"],
)
def test_restore_refuses_what_rds_cannot_do_and_changes_nothing(
    run_playbook, emulator, platform, tmp_path, inputs, message
):
    before = sorted(instances(emulator))
    run, _ = run_entry_point(run_playbook, emulator, tmp_path, "restore", **inputs)
    assert run.status == "failed"
    assert any(message in failure for failure in run.failures), run.failures
    assert sorted(instances(emulator)) == before
    assert not (tmp_path / "state" / "records" / "database.json").exists()


def test_freshness_passes_with_a_recent_snapshot(run_playbook, emulator, platform, tmp_path):
    run, outcome = run_entry_point(run_playbook, emulator, tmp_path, "verify")
    assert run.status == "successful", run.failures or run.stdout[-3000:]
    assert 0 <= float(outcome["details"]["newest_snapshot_age_hours"]) <= 26
    assert outcome["backup_id"]


def test_freshness_fails_when_the_newest_snapshot_is_older_than_the_limit(
    run_playbook, emulator, platform, tmp_path
):
    # Every snapshot here is seconds old, older than a limit of 0 hours.
    run, _ = run_entry_point(
        run_playbook, emulator, tmp_path, "verify", db_recovery_rds_snapshot_max_age_hours=0
    )
    assert run.status == "failed"
    assert any(
        "Snapshot freshness" in failure and "above the limit of 0 h" in failure
        for failure in run.failures
    ), run.failures


def instance_without_snapshots(emulator, identifier: str) -> None:
    """An encrypted, private, backed-up instance without snapshots (moto makes one at creation)."""
    rds = client(emulator, "rds")
    rds.create_db_instance(
        DBInstanceIdentifier=identifier,
        Engine="postgres",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="titanic_admin",
        MasterUserPassword=os.urandom(8).hex(),
        StorageEncrypted=True,
        PubliclyAccessible=False,
        BackupRetentionPeriod=1,
    )
    for snapshot in rds.describe_db_snapshots(DBInstanceIdentifier=identifier)["DBSnapshots"]:
        rds.delete_db_snapshot(DBSnapshotIdentifier=snapshot["DBSnapshotIdentifier"])


def test_freshness_fails_without_any_snapshot(run_playbook, emulator, platform, tmp_path):
    instance_without_snapshots(emulator, "titanic-nosnap")
    run, _ = run_entry_point(
        run_playbook,
        emulator,
        tmp_path,
        "verify",
        db_recovery_rds_instance_identifier="titanic-nosnap",
    )
    assert run.status == "failed"
    assert any("there is no available snapshot" in failure for failure in run.failures), (
        run.failures
    )


def run_verify_playbook(run_playbook, emulator, tmp_path, database_record=None, **inputs):
    """playbooks/dr/verify.yml on inventories/dev, its records in a state directory of its own:
    the platform record naming the emulator and the source instance, and optionally a database
    record (as a restore writes it)."""
    records = tmp_path / "state" / "records"
    records.mkdir(parents=True)
    platform_record = {
        **PLATFORM_RECORD,
        "region": REGION,
        "endpoint_url": emulator,
        "outputs": {**PLATFORM_RECORD["outputs"], "db_instance_identifier": SOURCE},
    }
    (records / "platform.json").write_text(json.dumps(platform_record))
    if database_record:
        (records / "database.json").write_text(json.dumps(database_record))
    values = {"titanic_state_dir": str(tmp_path / "state"), "dr_environment": "dev", **inputs}
    extra = tmp_path / "verify-vars.json"
    extra.write_text(json.dumps(values))
    return run_playbook(VERIFY_PLAYBOOK, inventory="inventories/dev", cmdline=f"-e @{extra}")


def test_verify_playbook_passes_with_a_fresh_snapshot_and_reports_it(
    run_playbook, emulator, platform, tmp_path
):
    newest = max(
        client(emulator, "rds").describe_db_snapshots(DBInstanceIdentifier=SOURCE)["DBSnapshots"],
        key=lambda snapshot: snapshot["SnapshotCreateTime"],
    )
    run = run_verify_playbook(run_playbook, emulator, tmp_path)
    assert run.status == "successful", run.failures or run.stdout[-3000:]
    assert run.total("changed") == 0
    assert "verified   dev (eks) at" in run.stdout
    assert f"backup     {newest['DBSnapshotIdentifier']}" in run.stdout
    assert "newest_snapshot_age_hours:" in run.stdout and "max_age_hours: 26" in run.stdout
    assert "rows not counted" in run.stdout


def test_verify_playbook_fails_when_the_newest_snapshot_is_too_old(
    run_playbook, emulator, platform, tmp_path
):
    run = run_verify_playbook(
        run_playbook, emulator, tmp_path, db_recovery_rds_snapshot_max_age_hours=0
    )
    assert run.status == "failed"
    assert any(
        f"Snapshot freshness of {SOURCE}" in failure and "above the limit of 0 h" in failure
        for failure in run.failures
    ), run.failures


def test_verify_playbook_checks_the_database_records_instance_and_fails_without_a_snapshot(
    run_playbook, emulator, platform, tmp_path
):
    """After a restore the database record names the instance the API uses: verify checks it."""
    instance_without_snapshots(emulator, "titanic-drtest-r1")
    record = {
        "schema": "titanic-ops/database/v1",
        "environment": "dev",
        "written_at": "2026-11-30T14:10:00Z",
        "instance_identifier": "titanic-drtest-r1",
        "endpoint": "titanic-drtest-r1.emulated",
        "port": 5432,
        "db_name": "titanic",
        "source_instance_identifier": SOURCE,
        "restored_to": "2026-11-30T14:05:00+00:00",
    }
    run = run_verify_playbook(run_playbook, emulator, tmp_path, database_record=record)
    assert run.status == "failed"
    assert any(
        "Snapshot freshness of titanic-drtest-r1: there is no available snapshot" in failure
        for failure in run.failures
    ), run.failures


def test_verify_playbook_refuses_another_environment_and_checks_nothing(
    run_playbook, emulator, platform, tmp_path
):
    run = run_verify_playbook(run_playbook, emulator, tmp_path, dr_environment="prod")
    assert run.status == "failed"
    assert run.failures == [
        "playbooks/dr/verify.yml checks the database of inventory 'dev': name it to confirm,"
        " -e dr_environment=dev (given: 'prod'). Nothing was checked."
    ]
    assert "Read the instance the API uses" not in run.stdout
