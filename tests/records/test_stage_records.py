"""Role stage_records: records are checked when written and when loaded; stale or foreign ones
are refused."""

from __future__ import annotations

import json
import re

import pytest

PLATFORM = {
    "account_id": "430987654321",
    "region": "eu-west-1",
    "endpoint_url": "",
    "outputs": {
        "vpc_id": "vpc-1",
        "vpc_cidr": "10.40.0.0/16",
        "private_subnet_ids": ["subnet-1", "subnet-2"],
        "cluster_name": "titanic-prod",
        "cluster_endpoint": "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
        "cluster_version": "1.31",
        "cluster_certificate_authority_data": "LS0t",
        "cluster_oidc_issuer_url": "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC",
        "oidc_provider_arn": (
            "arn:aws:iam::430987654321:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"
        ),
        "db_instance_identifier": "titanic-prod",
        "db_endpoint": "titanic-prod.abc.eu-west-1.rds.amazonaws.com",
        "db_port": 5432,
        "db_name": "titanic",
        "db_kms_key_arn": "arn:aws:kms:eu-west-1:430987654321:key/1",
        "ecr_repository_url": "430987654321.dkr.ecr.eu-west-1.amazonaws.com/titanic-api",
        "ecr_repository_name": "titanic-api",
        "backup_bucket_names": {"velero": "titanic-prod-velero"},
        "irsa_role_arns": {
            "db_bootstrap": "arn:aws:iam::430987654321:role/titanic-prod-db-bootstrap",
            "load_balancer_controller": (
                "arn:aws:iam::430987654321:role/titanic-prod-aws-load-balancer-controller"
            ),
            "fluent_bit": "arn:aws:iam::430987654321:role/titanic-prod-fluent-bit",
        },
        "api_db_secret_name": "titanic/prod/api/database",
        "public_subnet_cidrs": ["10.40.0.0/20"],
        "database_subnet_cidrs": ["10.40.96.0/24"],
        "waf_web_acl_arn": "",
        "db_master_secret_arn": (
            "arn:aws:secretsmanager:eu-west-1:430987654321:secret:rds!db-1-abcdef"
        ),
        "api_write_tokens_secret_name": "titanic/prod/api/write-tokens",
    },
}
IDENTITY = (
    "-e titanic_environment=prod -e aws_infra_account_id=430987654321 -e aws_infra_region=eu-west-1"
)


@pytest.fixture
def records(tmp_path, run_playbook):
    """Write and load records in a throwaway records directory."""

    class Records:
        dir = tmp_path / "records"

        def write(self, record: dict, name: str = "platform", extra: str = IDENTITY):
            source = tmp_path / f"{name}-input.json"
            source.write_text(json.dumps(record))
            return run_playbook(
                "tests/records/write.yml",
                cmdline=f"{extra} -e stage_records_dir={self.dir} -e stage_records_name={name} "
                f"-e record_file={source}",
            )

        def load(self, names="platform", required="platform", extra: str = IDENTITY):
            selection = {
                "stage_records_load": names.split(","),
                "stage_records_required": [r for r in required.split(",") if r],
            }
            run = run_playbook(
                "tests/records/load.yml",
                cmdline=f"{extra} -e stage_records_dir={self.dir} -e '{json.dumps(selection)}'",
            )
            found = re.search(r"LOADED (\{.*\})", run.stdout)
            run.loaded = json.loads(found.group(1).replace('\\"', '"')) if found else None
            return run

    return Records()


def test_written_record_loads_and_a_rewrite_changes_nothing(records):
    first = records.write(PLATFORM)
    assert first.status == "successful", first.stdout[-3000:]
    saved = json.loads((records.dir / "platform.json").read_text())
    assert saved["schema"] == "titanic-ops/platform/v1" and saved["environment"] == "prod"
    assert saved["outputs"]["cluster_name"] == "titanic-prod"

    again = records.write(PLATFORM)
    assert again.status == "successful" and again.total("changed") == 0, again.changed_tasks
    assert (
        json.loads((records.dir / "platform.json").read_text())["written_at"] == saved["written_at"]
    )

    loaded = records.load()
    assert loaded.status == "successful", loaded.stdout[-3000:]
    assert loaded.loaded["platform"]["outputs"]["db_endpoint"] == PLATFORM["outputs"]["db_endpoint"]


def test_a_record_that_breaks_its_schema_is_never_written(records):
    broken = {**PLATFORM, "outputs": {**PLATFORM["outputs"], "db_port": "five"}}
    run = records.write(broken)
    assert run.status == "failed"
    assert not (records.dir / "platform.json").exists()


def test_missing_required_record_names_the_stage_to_run(records):
    run = records.load()
    assert run.status == "failed"
    assert any("playbooks/provision.yml" in f for f in run.failures), run.failures


def test_missing_optional_record_loads_empty(records):
    run = records.load(names="platform,image", required="")
    assert run.status == "successful", run.stdout[-3000:]
    assert run.loaded == {"platform": {}, "image": {}}


@pytest.mark.parametrize(
    ("extra", "complaint"),
    [
        (IDENTITY.replace("prod", "staging", 1), "written for environment prod, not staging"),
        (IDENTITY.replace("430987654321", "320987654321"), "names account 430987654321"),
        (IDENTITY.replace("eu-west-1", "eu-central-1"), "names region eu-west-1"),
    ],
    ids=["environment", "account", "region"],
)
def test_foreign_record_is_refused(records, extra, complaint):
    assert records.write(PLATFORM).status == "successful"
    run = records.load(extra=extra)
    assert run.status == "failed"
    assert any(complaint in f and "provision.yml" in f for f in run.failures), run.failures


def test_damaged_record_is_refused(records):
    assert records.write(PLATFORM).status == "successful"
    path = records.dir / "platform.json"
    path.write_text(path.read_text().replace('"db_port": 5432', '"db_port": "x"'))
    run = records.load()
    assert run.status == "failed"
    assert any("db_port" in f and "provision.yml" in f for f in run.failures), run.failures
    path.write_text("{not json")
    assert records.load().status == "failed"
