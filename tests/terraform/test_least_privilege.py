"""Least privilege of the applied platform: who may read the database's master secret.

The local environment (the composition every environment shares) is applied to a throw-away
emulator, and every IAM role it holds is read back from IAM: inline and attached policies, AWS
managed ones included (the emulator loads their documents). Only the database bootstrap's role may
read the RDS master secret (the platform's, and by their tag its restored instances') or decrypt
with the database's key; the API has no role at all.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from urllib.parse import unquote

import boto3
import pytest
from tf_helpers import REPO

NAME = "titanic-local"


@pytest.fixture(scope="module")
def applied(terraform_runs):
    """Outputs of the local environment applied with its inventory's values to the emulator (in
    the background since the first test of tests/terraform: conftest.py)."""
    return terraform_runs.result("local")


def aws(service: str, url: str):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - the emulator accepts any credentials
    )


def document(raw) -> dict:
    return json.loads(unquote(raw)) if isinstance(raw, str) else raw


def role_policies(iam, role: str) -> list[dict]:
    """Every identity policy of a role: inline ones and attached ones (AWS managed included)."""
    docs = [
        document(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    ]
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(
            PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"]
        )
        docs.append(document(version["PolicyVersion"]["Document"]))
    return docs


def as_list(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def matches(value: str, patterns, ignore_case: bool) -> bool:
    if ignore_case:  # action names are case-insensitive, ARNs are not
        return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in as_list(patterns))
    return any(fnmatch.fnmatchcase(value, p) for p in as_list(patterns))


def allows(docs: list[dict], action: str, resource: str) -> bool:
    """Whether an Allow statement covers action on resource, conditions aside (strict reading)."""
    for doc in docs:
        for statement in as_list_of_statements(doc):
            if statement.get("Effect") != "Allow":
                continue
            if "Action" in statement:
                action_ok = matches(action, statement["Action"], ignore_case=True)
            else:  # NotAction: everything but the listed actions
                action_ok = not matches(action, statement["NotAction"], ignore_case=True)
            if "Resource" in statement:
                resource_ok = matches(resource, statement["Resource"], ignore_case=False)
            else:
                resource_ok = not matches(resource, statement["NotResource"], ignore_case=False)
            if action_ok and resource_ok:
                return True
    return False


def as_list_of_statements(doc: dict) -> list[dict]:
    statements = doc.get("Statement", [])
    return [statements] if isinstance(statements, dict) else statements


@pytest.fixture(scope="module")
def roles(applied, emulator) -> dict[str, list[dict]]:
    iam = aws("iam", emulator)
    names = [r["RoleName"] for p in iam.get_paginator("list_roles").paginate() for r in p["Roles"]]
    return {name: role_policies(iam, name) for name in names if name.startswith(NAME)}


def test_the_roles_are_read_back(roles):
    # The probe sees the platform's roles, policies included, or the checks below prove nothing.
    expected = {"db-bootstrap", "node", "aws-load-balancer-controller", "fluent-bit"}
    assert {f"{NAME}-{role}" for role in expected} <= set(roles)
    assert all(roles[f"{NAME}-node"]), "the node role's AWS managed policies were not loaded"


def test_only_the_bootstrap_reads_the_master_secret(applied, roles):
    secret = applied["db_master_secret_arn"]
    get, describe = "secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"
    readers = {role for role, docs in roles.items() if allows(docs, get, secret)}
    assert readers == {f"{NAME}-db-bootstrap"}
    # Its metadata (never its value): AWS Config records every resource's configuration
    # (AWS_ConfigRole, module audit).
    describers = {role for role, docs in roles.items() if allows(docs, describe, secret)}
    assert describers == {f"{NAME}-db-bootstrap", f"{NAME}-config"}


def test_only_the_bootstrap_reads_the_master_secrets_of_this_platforms_restored_instances(
    applied, roles, emulator
):
    """A restore (playbooks/dr/restore.yml) creates <instance>-r<UTC time> with a master secret
    of its own, rds!db-<uuid>, that RDS tags with the instance's ARN: the bootstrap may read it, by
    that tag, and no other restored or RDS-managed secret; no other role may read any."""
    source = aws("rds", emulator).describe_db_instances(DBInstanceIdentifier=NAME)["DBInstances"][0]
    instance_arn = source["DBInstanceArn"]
    assert instance_arn.endswith(f":db:{NAME}")
    account = instance_arn.split(":")[4]
    # The restore puts the new secret under the source secret's key, which the bootstrap may use.
    assert source["MasterUserSecret"]["KmsKeyId"] == applied["db_kms_key_arn"]
    secret_prefix = applied["db_master_secret_arn"].split(":secret:")[0] + ":secret:"
    restored_secret = f"{secret_prefix}rds!db-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-AbC123"
    readers = {
        role
        for role, docs in roles.items()
        if allows(docs, "secretsmanager:GetSecretValue", restored_secret)
    }
    assert readers == {f"{NAME}-db-bootstrap"}
    docs = roles[f"{NAME}-db-bootstrap"]
    assert not allows(docs, "secretsmanager:DescribeSecret", restored_secret)
    assert not allows(docs, "secretsmanager:PutSecretValue", restored_secret)
    granting = [
        statement
        for doc in docs
        for statement in as_list_of_statements(doc)
        if statement.get("Condition")
        and allows([{"Statement": [statement]}], "secretsmanager:GetSecretValue", restored_secret)
    ]
    assert len(granting) == 1, granting
    assert as_list(granting[0]["Resource"]) == [f"{secret_prefix}rds!db-*"]
    condition = granting[0]["Condition"]
    assert set(condition) == {"StringLike"}
    assert set(condition["StringLike"]) == {
        "secretsmanager:ResourceTag/aws:rds:primaryDBInstanceArn"
    }
    patterns = condition["StringLike"]["secretsmanager:ResourceTag/aws:rds:primaryDBInstanceArn"]
    assert as_list(patterns) == [f"{instance_arn}-r*"]
    # IAM's StringLike: `*` any characters, `?` one, as fnmatch (the pattern has no brackets).
    assert matches(f"{instance_arn}-r20261130120000", patterns, ignore_case=False)
    for other in (
        instance_arn,  # the source's own secret is granted by its ARN, not by this statement
        instance_arn.replace(f":db:{NAME}", ":db:titanic-dev-r20261130120000"),
        instance_arn.replace(f":db:{NAME}", f":db:{NAME}x-r20261130120000"),
        instance_arn.replace(f":{account}:", ":210987654321:") + "-r20261130120000",
    ):
        assert not matches(other, patterns, ignore_case=False), other


def test_only_the_bootstrap_decrypts_with_the_database_key(applied, roles):
    key = applied["db_kms_key_arn"]
    assert {role for role, docs in roles.items() if allows(docs, "kms:Decrypt", key)} == {
        f"{NAME}-db-bootstrap"
    }


def test_the_bootstrap_reads_the_api_login_secret_and_nothing_else(applied, roles):
    docs = roles[f"{NAME}-db-bootstrap"]
    # Secrets Manager appends six random characters to a secret's name in its ARN.
    api_secret = applied["db_master_secret_arn"].split(":secret:")[0] + (
        f":secret:{applied['api_db_secret_name']}-AbC123"
    )
    assert allows(docs, "secretsmanager:GetSecretValue", api_secret)
    other = api_secret.replace("/api/database-", "/api/write-tokens-")
    assert not allows(docs, "secretsmanager:GetSecretValue", other)
    assert not allows(docs, "secretsmanager:PutSecretValue", api_secret)
    assert not allows(docs, "kms:Decrypt", applied["backup_kms_key_arn"])


def test_the_api_has_no_role(applied, roles):
    assert f"{NAME}-api" not in roles
    assert "api" not in applied["irsa_role_arns"]
    assert set(applied["irsa_role_arns"]) == {
        "db_bootstrap",
        "load_balancer_controller",
        "velero",
        "ebs_csi",
        "fluent_bit",
    }


def test_the_load_balancer_controller_policy_is_upstreams(roles):
    policy = json.loads(
        Path(REPO / "terraform/modules/irsa/policies/aws-load-balancer-controller.json").read_text()
    )
    docs = roles[f"{NAME}-aws-load-balancer-controller"]
    assert docs == [policy]
    for statement in as_list_of_statements(policy):
        actions = as_list(statement["Action"])
        # Creating a security group cannot be conditioned on a tag of that group: it has none yet.
        if "ec2:CreateSecurityGroup" in actions:
            assert "Condition" not in statement
        # Tags are added at creation only with the cluster tag, and only by the creating call.
        if actions == ["ec2:CreateTags"]:
            on_create = statement["Condition"]["StringEquals"]
            assert on_create == {"ec2:CreateAction": "CreateSecurityGroup"}


def test_only_fluent_bit_writes_the_api_log_group_and_only_that(applied, roles, emulator):
    """Fluent Bit writes streams of the API's log group (the one aws_services creates) and nothing
    else: no other group, no group creation; no other role writes there."""
    account = aws("sts", emulator).get_caller_identity()["Account"]
    group = f"arn:aws:logs:eu-west-1:{account}:log-group:{applied['api_log_group_name']}"
    assert applied["api_log_group_name"] == "/titanic/local/api"
    docs = roles[f"{NAME}-fluent-bit"]
    for action, resource in (
        ("logs:CreateLogStream", group),
        ("logs:DescribeLogStreams", f"{group}:*"),
        ("logs:PutLogEvents", f"{group}:log-stream:titanic-api-abc.api"),
    ):
        assert allows(docs, action, resource), (action, resource)
    other = group.replace("/titanic/local/api", "/titanic/local/api-audit")
    assert not allows(docs, "logs:PutLogEvents", f"{other}:log-stream:x")
    assert not allows(docs, "logs:CreateLogGroup", group)
    assert not allows(docs, "logs:DeleteLogGroup", group)
    assert not allows(docs, "secretsmanager:GetSecretValue", applied["db_master_secret_arn"])
    stream = f"{group}:log-stream:x"
    writers = {r for r, d in roles.items() if allows(d, "logs:PutLogEvents", stream)}
    assert writers == {f"{NAME}-fluent-bit"}


def test_the_database_lives_in_its_own_subnets(applied, emulator):
    ec2, rds = aws("ec2", emulator), aws("rds", emulator)
    group = rds.describe_db_subnet_groups(DBSubnetGroupName=NAME)["DBSubnetGroups"][0]
    ids = sorted(s["SubnetIdentifier"] for s in group["Subnets"])
    subnets = ec2.describe_subnets(SubnetIds=ids)["Subnets"]
    assert sorted(s["CidrBlock"] for s in subnets) == sorted(applied["database_subnet_cidrs"])
    assert {t["Value"] for s in subnets for t in s["Tags"] if t["Key"] == "Tier"} == {"database"}
    tables = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": ids}])[
        "RouteTables"
    ]
    assert tables
    # Nothing but the VPC's local route: no NAT, no Internet gateway.
    assert {r.get("GatewayId") for t in tables for r in t["Routes"]} == {"local"}
    assert not [r for t in tables for r in t["Routes"] if r.get("NatGatewayId")]


def test_the_waf_acl_exists_on_the_emulator(applied, emulator):
    wafv2 = aws("wafv2", emulator)
    acls = wafv2.list_web_acls(Scope="REGIONAL")["WebACLs"]
    assert [a["ARN"] for a in acls if a["Name"] == NAME] == [applied["waf_web_acl_arn"]]
