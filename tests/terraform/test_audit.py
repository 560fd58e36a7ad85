"""Audit and detection (module audit): in the plans of dev, staging and prod with their inventory,
and applied to the emulator with the local inventory, read back through the AWS API.

What the emulator does not do (deliver log files, raise findings, evaluate rules) is in
docs/limitations.md; here, that each is set up as the plan says."""

from __future__ import annotations

import json

import pytest
from test_least_privilege import aws
from tf_helpers import CLOUD_ENVIRONMENTS

BUCKET_PROTECTIONS = [
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_policy",
]


def _after(plan: dict, address: str) -> dict:
    (found,) = [rc for rc in plan["resource_changes"] if rc["address"] == address]
    return found["change"]["after"]


def _planned_addresses(plan: dict) -> set[str]:
    return {rc["address"] for rc in plan["resource_changes"]}


@pytest.fixture(scope="module")
def applied(terraform_runs):
    """Outputs of the local environment applied to the emulator (conftest.py awaits it last)."""
    return terraform_runs.result("local")


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_the_trail_covers_every_region_validates_and_encrypts(plans, env):
    trail = _after(plans[env]["plan"], "module.audit.aws_cloudtrail.this")
    assert trail["name"] == f"titanic-{env}-audit"
    assert trail["is_multi_region_trail"] and trail["include_global_service_events"]
    assert trail["enable_log_file_validation"]
    assert trail["s3_key_prefix"] == "cloudtrail"
    # kms_key_id is the audit bucket's key: unknown until applied, so present in after_unknown
    (change,) = [
        rc for rc in plans[env]["plan"]["resource_changes"]
        if rc["address"] == "module.audit.aws_cloudtrail.this"
    ]  # fmt: skip
    assert change["change"]["after_unknown"].get("kms_key_id") is True


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_the_trail_records_object_calls_on_every_backup_bucket(plans, env):
    plan = plans[env]["plan"]
    trail = _after(plan, "module.audit.aws_cloudtrail.this")
    selectors = {s["name"]: s["field_selector"] for s in trail["advanced_event_selector"]}
    management = selectors["Management events"]
    assert [(f["field"], f["equals"]) for f in management] == [("eventCategory", ["Management"])]
    data = {f["field"]: f for f in selectors["Object-level calls on the backup buckets"]}
    assert data["eventCategory"]["equals"] == ["Data"]
    assert data["resources.type"]["equals"] == ["AWS::S3::Object"]
    backup_buckets = set(plans[env]["tfvars"]["backup_buckets"])
    # The bucket ARNs are known after apply; the selector follows them (one prefix per bucket).
    config = plan["configuration"]["root_module"]["module_calls"]["audit"]
    assert "module.backup_storage.bucket_arns" in json.dumps(
        config["expressions"]["data_event_bucket_arns"]
    )
    assert backup_buckets == {"db-backups", "velero"}


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_the_audit_bucket_has_the_backup_buckets_protections(plans, env):
    planned = _planned_addresses(plans[env]["plan"])
    for kind in BUCKET_PROTECTIONS:
        assert f'module.audit.module.log_bucket.{kind}.this["audit-logs"]' in planned, kind
    lifecycle = _after(
        plans[env]["plan"],
        'module.audit.module.log_bucket.aws_s3_bucket_lifecycle_configuration.this["audit-logs"]',
    )
    retention = max(plans[env]["tfvars"]["log_retention_days"], 30)
    assert lifecycle["rule"][0]["expiration"][0]["days"] == retention
    key = _after(plans[env]["plan"], "module.audit.module.log_bucket.module.kms.aws_kms_key.this")
    assert key["enable_key_rotation"]
    policy = json.loads(key["policy"]) if key.get("policy") else None
    if policy:  # known at plan time only when the account ID is
        services = [s for s in policy["Statement"] if s.get("Sid") == "AccountServices"]
        assert services[0]["Principal"]["Service"] == "cloudtrail.amazonaws.com"


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_guardduty_watches_the_cluster_and_config_records_everything(plans, env):
    plan = plans[env]["plan"]
    assert _after(plan, "module.audit.aws_guardduty_detector.this[0]")["enable"]
    feature = _after(plan, "module.audit.aws_guardduty_detector_feature.eks_audit_logs[0]")
    assert (feature["name"], feature["status"]) == ("EKS_AUDIT_LOGS", "ENABLED")
    recorder = _after(plan, "module.audit.aws_config_configuration_recorder.this[0]")
    group = recorder["recording_group"][0]
    assert group["all_supported"] and group["include_global_resource_types"]
    status = _after(plan, "module.audit.aws_config_configuration_recorder_status.this[0]")
    assert status["is_enabled"]
    rules = {
        rc["change"]["after"]["source"][0]["source_identifier"]
        for rc in plan["resource_changes"]
        if rc["type"] == "aws_config_config_rule"
    }
    assert {"CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED", "EKS_ENDPOINT_NO_PUBLIC_ACCESS"} <= rules
    assert {"S3_BUCKET_SSL_REQUESTS_ONLY", "RDS_STORAGE_ENCRYPTED"} <= rules


def test_the_applied_trail_logs_with_validation_and_the_backup_buckets_data_events(
    applied, emulator
):
    cloudtrail = aws("cloudtrail", emulator)
    (trail,) = cloudtrail.describe_trails(trailNameList=[applied["audit_trail_arn"]])["trailList"]
    assert trail["IsMultiRegionTrail"] and trail["LogFileValidationEnabled"]
    assert trail["S3BucketName"] == applied["audit_log_bucket_name"]
    assert trail["KmsKeyId"]
    assert cloudtrail.get_trail_status(Name=trail["TrailARN"])["IsLogging"]
    selectors = cloudtrail.get_event_selectors(TrailName=trail["TrailARN"])
    fields = [
        f
        for s in selectors["AdvancedEventSelectors"]
        for f in s["FieldSelectors"]
        if f["Field"] == "resources.ARN"
    ]
    prefixes = {prefix for f in fields for prefix in f["StartsWith"]}
    buckets = applied["backup_bucket_names"].values()
    assert prefixes == {f"arn:aws:s3:::{bucket}/" for bucket in buckets}


def test_the_applied_audit_bucket_is_encrypted_versioned_and_private(applied, emulator):
    s3 = aws("s3", emulator)
    bucket = applied["audit_log_bucket_name"]
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    (writer,) = [s for s in policy["Statement"] if s["Sid"] == "CloudTrailWrite"]
    source = writer["Condition"]["StringEquals"]["aws:SourceArn"]
    assert (source if isinstance(source, list) else [source]) == [applied["audit_trail_arn"]]


def test_the_applied_detector_and_recorder_run(applied, emulator):
    guardduty = aws("guardduty", emulator)
    detector = guardduty.get_detector(DetectorId=applied["guardduty_detector_id"])
    assert detector["Status"] == "ENABLED"
    assert {"Name": "EKS_AUDIT_LOGS", "Status": "ENABLED"} in [
        {"Name": f["Name"], "Status": f["Status"]} for f in detector["Features"]
    ]
    config = aws("config", emulator)
    (status,) = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    assert status["recording"]
    (channel,) = config.describe_delivery_channels()["DeliveryChannels"]
    assert channel["s3BucketName"] == applied["audit_log_bucket_name"]
    rules = {r["ConfigRuleName"] for r in config.describe_config_rules()["ConfigRules"]}
    assert rules == set(applied["config_rule_names"]) and len(rules) == 8


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_the_image_signatures_bucket_has_the_backup_buckets_protections(plans, env):
    """The deploy stage trusts what this bucket holds: the same protections, no expiry of current
    versions (a signature lives as long as its image may run)."""
    plan = plans[env]["plan"]
    planned = _planned_addresses(plan)
    module = "module.image_signatures"
    for kind in BUCKET_PROTECTIONS:
        assert f'{module}.{kind}.this["image-signatures"]' in planned, kind
    lifecycle = _after(
        plan, f'{module}.aws_s3_bucket_lifecycle_configuration.this["image-signatures"]'
    )
    assert not lifecycle["rule"][0]["expiration"]
    bucket = _after(plan, f'{module}.aws_s3_bucket.this["image-signatures"]')
    assert bucket["bucket"] == f"titanic-{env}-image-signatures-123456789012"
    assert _after(plan, f"{module}.module.kms.aws_kms_key.this")["enable_key_rotation"]
