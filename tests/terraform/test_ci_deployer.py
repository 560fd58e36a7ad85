"""The pipeline's deployer role in the plans of dev, staging and prod (module ci_deployer).

Trust: GitHub's OIDC tokens of this repository's jobs in the GitHub environment of the same
name, for the STS audience, and nothing else. Rights: what the build and deploy stages call on an
eks inventory (ECR push and read of the API's repository, DescribeCluster of the environment's
cluster, the API's two secrets) and the read of its own state object for `terraform output`
(playbooks/platform_record.yml), nothing on Terraform apply, IAM, the state's writes or the
database's master secret. The plans run in the background (conftest.py); the policies are built
from known values so that the plans show them whole.
"""

from __future__ import annotations

import json

import pytest
import yaml
from test_least_privilege import allows, as_list, as_list_of_statements
from tf_helpers import CLOUD_ENVIRONMENTS, REPO

ISSUER = "token.actions.githubusercontent.com"
ROLE = "titanic-ci-deployer"
# The account the emulator answers as (tf_helpers.plan_environment allows it).
EMULATOR_ACCOUNT = "123456789012"
MODULE = "module.ci_deployer[0]"
DEPLOY_POLICY = "aws_iam_role_policy.deploy"
READ_STATE_POLICY = "aws_iam_role_policy.read_state[0]"
SIGNATURES_POLICY = "aws_iam_role_policy.image_signatures[0]"
# What playbooks/platform_record.yml, build.yml and deploy.yml call on an eks inventory, no more.
DEPLOY_ACTIONS = {
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
    "eks:DescribeCluster",
    "secretsmanager:GetSecretValue",
    "secretsmanager:DescribeSecret",
    "s3:GetObject",
    "s3:ListBucket",
    "s3:PutObject",
}


def inventory_aws(env: str) -> dict:
    return yaml.safe_load((REPO / f"inventories/{env}/group_vars/all/aws.yml").read_text())


def planned(plan: dict, address: str) -> dict:
    found = [rc for rc in plan["resource_changes"] if rc["address"] == address]
    assert len(found) == 1, f"{address} is not planned"
    assert found[0]["change"]["actions"] == ["create"]
    return found[0]["change"]["after"]


def arns(env: str) -> dict[str, str]:
    """ARNs as the plans build them: from the emulator's caller identity (tf_helpers plans as its
    account), but the role the inventory names and the state bucket, named by the inventory."""
    aws = inventory_aws(env)
    account, region = EMULATOR_ACCOUNT, aws["aws_infra_region"]
    inventory_account = aws["aws_infra_account_id"]
    secrets = f"arn:aws:secretsmanager:{region}:{account}:secret"
    state_bucket = f"titanic-tfstate-{inventory_account}-{region}"
    return {
        "account": inventory_account,
        "role": f"arn:aws:iam::{inventory_account}:role/{ROLE}",
        "provider": f"arn:aws:iam::{account}:oidc-provider/{ISSUER}",
        "repository": f"arn:aws:ecr:{region}:{account}:repository/titanic-api",
        "cluster": f"arn:aws:eks:{region}:{account}:cluster/titanic-{env}",
        "api_secret": f"{secrets}:titanic/{env}/api/database-AbC123",
        "tokens_secret": f"{secrets}:titanic/{env}/api/write-tokens-AbC123",
        "master_secret": f"{secrets}:rds!db-0a1b2c3d-AbC123",
        "state": f"arn:aws:s3:::{state_bucket}/{env}/platform.tfstate",
        "signatures": f"arn:aws:s3:::titanic-{env}-image-signatures-{account}",
    }


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_the_repository_comes_from_the_inventory(plans, env):
    repository = inventory_aws(env)["aws_infra_ci_github_repository"]
    assert repository.count("/") == 1
    assert plans[env]["tfvars"]["ci_github_repository"] == repository


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_githubs_oidc_provider_is_planned_for_sts(plans, env):
    provider = planned(plans[env]["plan"], f"{MODULE}.aws_iam_openid_connect_provider.github[0]")
    assert provider["url"] == f"https://{ISSUER}"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_only_this_repositorys_jobs_in_this_environment_assume_the_role(plans, env):
    role = planned(plans[env]["plan"], f"{MODULE}.aws_iam_role.this")
    assert role["name"] == ROLE
    trust = json.loads(role["assume_role_policy"])
    [statement] = as_list_of_statements(trust)
    repository = plans[env]["tfvars"]["ci_github_repository"]
    assert statement == {
        "Effect": "Allow",
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": arns(env)["provider"]},
        # StringEquals only: no wildcard subject (a pull request, another environment)
        "Condition": {
            "StringEquals": {
                f"{ISSUER}:aud": "sts.amazonaws.com",
                f"{ISSUER}:sub": f"repo:{repository}:environment:{env}",
            }
        },
    }


@pytest.fixture(scope="module")
def deploy_policies(plans) -> dict[str, list[dict]]:
    return {
        env: [
            json.loads(planned(plans[env]["plan"], f"{MODULE}.{policy}")["policy"])
            for policy in (DEPLOY_POLICY, READ_STATE_POLICY, SIGNATURES_POLICY)
        ]
        for env in CLOUD_ENVIRONMENTS
    }


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_the_role_may_do_only_what_the_build_and_deploy_stages_call(deploy_policies, env):
    statements = [s for doc in deploy_policies[env] for s in as_list_of_statements(doc)]
    assert all(s["Effect"] == "Allow" and "Action" in s and "Resource" in s for s in statements)
    granted = {action for s in statements for action in as_list(s["Action"])}
    assert granted == DEPLOY_ACTIONS
    # The registry login has no resource in AWS; nothing else is granted on "*".
    on_anything = [s for s in statements if "*" in as_list(s["Resource"])]
    assert {a for s in on_anything for a in as_list(s["Action"])} == {"ecr:GetAuthorizationToken"}


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_the_role_reaches_its_own_environments_parts(deploy_policies, env):
    docs, arn = deploy_policies[env], arns(env)
    assert allows(docs, "ecr:PutImage", arn["repository"])
    assert allows(docs, "ecr:DescribeImages", arn["repository"])
    assert allows(docs, "eks:DescribeCluster", arn["cluster"])
    assert allows(docs, "secretsmanager:GetSecretValue", arn["api_secret"])
    assert allows(docs, "secretsmanager:GetSecretValue", arn["tokens_secret"])
    assert allows(docs, "s3:GetObject", arn["state"])
    signature = f"{arn['signatures']}/titanic-api@sha256=0f3e/signature-1"
    assert allows(docs, "s3:PutObject", signature)
    assert allows(docs, "s3:GetObject", signature)
    assert allows(docs, "s3:ListBucket", arn["signatures"])


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_the_role_reaches_nothing_else(deploy_policies, env):
    docs, arn = deploy_policies[env], arns(env)
    other = next(e for e in CLOUD_ENVIRONMENTS if e != env)
    assert not allows(docs, "secretsmanager:GetSecretValue", arn["master_secret"])
    assert not allows(docs, "secretsmanager:GetSecretValue", arn["api_secret"].replace(env, other))
    assert not allows(docs, "ecr:PutImage", arn["repository"].replace("titanic-api", "other"))
    assert not allows(docs, "eks:DescribeCluster", arn["cluster"].replace(env, other))
    assert not allows(docs, "s3:GetObject", arn["state"].replace(f"/{env}/", f"/{other}/"))
    for write in ("s3:PutObject", "s3:DeleteObject"):
        assert not allows(docs, write, arn["state"])
        assert not allows(docs, write, f"{arn['state']}.tflock")
    assert not allows(
        docs, "s3:DeleteObject", f"{arn['signatures']}/titanic-api@sha256=0f3e/signature-1"
    )
    assert not allows(docs, "s3:PutObject", arn["signatures"].replace(env, other) + "/x")
    assert not allows(docs, "iam:PassRole", arn["role"])
    assert not allows(docs, "sts:AssumeRole", arn["role"])


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_the_role_decrypts_the_api_secret_only_through_secrets_manager(plans, env):
    # The key is created by the same apply: the document is unknown at plan time, its configuration
    # is not.
    planned(plans[env]["plan"], f"{MODULE}.aws_iam_role_policy.decrypt_secrets[0]")
    module = plans[env]["plan"]["configuration"]["root_module"]["module_calls"]["ci_deployer"]
    [resource] = [
        r
        for r in module["module"]["resources"]
        if r["address"] == "aws_iam_role_policy.decrypt_secrets"
    ]
    assert "var.kms_key_arns" in resource["expressions"]["policy"]["references"]
    assert set(module["expressions"]["kms_key_arns"]["references"]) == {
        "module.rds.kms_key_arn",
        "module.rds",
    }


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_the_role_uses_the_signature_buckets_key_only_through_s3(plans, env):
    planned(plans[env]["plan"], f"{MODULE}.aws_iam_role_policy.image_signatures_key[0]")
    module = plans[env]["plan"]["configuration"]["root_module"]["module_calls"]["ci_deployer"]
    assert set(module["expressions"]["signature_kms_key_arn"]["references"]) == {
        "module.image_signatures.kms_key_arn",
        "module.image_signatures",
    }


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_the_clusters_ci_deployer_entry_is_the_role_and_edits_the_api_namespace_only(plans, env):
    plan, arn = plans[env]["plan"], arns(env)
    entry = planned(plan, 'module.eks.aws_eks_access_entry.this["ci-deployer"]')
    assert entry["principal_arn"] == arn["role"]
    associations = [
        rc["change"]["after"]
        for rc in plan["resource_changes"]
        if rc["type"] == "aws_eks_access_policy_association"
        and rc["change"]["after"]["principal_arn"] == arn["role"]
    ]
    assert [(a["policy_arn"].rsplit("/", 1)[1], a["access_scope"]) for a in associations] == [
        ("AmazonEKSEditPolicy", [{"type": "namespace", "namespaces": ["titanic"]}])
    ]


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_the_state_bucket_is_listed_only_for_the_state_key_and_workspaces(deploy_policies, env):
    """terraform init lists env:/ (workspaces); nothing else of the bucket's keys is listed."""
    [listing] = [
        s
        for s in as_list_of_statements(deploy_policies[env][1])
        if "s3:ListBucket" in as_list(s["Action"])
    ]
    assert listing["Condition"] == {
        "StringEquals": {"s3:prefix": [f"{env}/platform.tfstate", "env:/"]}
    }
