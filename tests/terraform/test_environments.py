"""terraform/: format, and the plans of dev, staging and prod with their inventory.

The plans run against a throw-away emulator (moto_server) with a local backend: the environment's
root module is copied and a test-only override points its provider at the emulator; everything else,
including every size and toggle, comes from the inventory through the aws_infra role. There is no
separate `terraform validate`: terraform validates a configuration before it plans or applies it,
and every environment is planned here or applied (local, test_least_privilege.py).
The plans and the apply run in the background (conftest.py, tf_helpers.TerraformRuns).
"""

from __future__ import annotations

import ipaddress
import json
from collections import Counter

import pytest
from tf_helpers import CLOUD_ENVIRONMENTS, TF, terraform

SHARED_FILES = ["main.tf", "variables.tf", "outputs.tf", "versions.tf"]


def test_terraform_fmt(tf_cli_env):
    result = terraform(["fmt", "-check", "-recursive", "-diff"], TF, tf_cli_env)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_environments_share_one_composition(env):
    for name in SHARED_FILES:
        assert (TF / "environments" / env / name).read_text() == (
            TF / "environments/local" / name
        ).read_text(), (
            f"terraform/environments/{env}/{name} differs from local's: one composition for all"
        )
    assert not list((TF / "environments" / env).glob("*override.tf")), (
        "overrides belong to local only"
    )


def planned(plan: dict, resource_type: str) -> list[dict]:
    return [
        rc["change"]["after"]
        for rc in plan["resource_changes"]
        if rc["type"] == resource_type and "create" in rc["change"]["actions"]
    ]


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_plan_creates_the_whole_platform(plans, env):
    plan = plans[env]["plan"]
    counts = Counter(
        rc["type"] for rc in plan["resource_changes"] if "create" in rc["change"]["actions"]
    )
    assert not [
        rc
        for rc in plan["resource_changes"]
        if set(rc["change"]["actions"]) - {"create", "no-op", "read"}
    ]
    for resource_type, n in {
        "aws_vpc": 1,
        "aws_eks_cluster": 1,
        "aws_iam_openid_connect_provider": 2,  # the cluster's (IRSA), GitHub Actions' (ci_deployer)
        "aws_db_instance": 1,
        "aws_ecr_repository": 2,  # the API's, the execution environment's (titanic-ee)
        # db-backups, velero, the audit trail's (module audit), the image signatures'
        "aws_s3_bucket": 4,
        "aws_cloudtrail": 1,
        "aws_guardduty_detector": 1,
        "aws_config_configuration_recorder": 1,
        "aws_flow_log": 1,
        "aws_launch_template": 1,
        "aws_eks_access_entry": 2,
        "aws_eks_access_policy_association": 2,
        "aws_eks_addon": 4,
        "aws_wafv2_web_acl": 1,
        "aws_wafv2_web_acl_logging_configuration": 1,
    }.items():
        assert counts[resource_type] == n, (resource_type, counts[resource_type])
    # IRSA: a role per workload that calls AWS; the API calls none and has none.
    prefix = f"titanic-{env}-"
    irsa_calls = {
        name
        for name, call in plan["configuration"]["root_module"]["module_calls"].items()
        if call["source"] == "../../modules/irsa"
    }
    irsa = {
        rc["change"]["after"]["name"].removeprefix(prefix)
        for rc in plan["resource_changes"]
        if rc["type"] == "aws_iam_role"
        and rc["module_address"] in {f"module.{c}" for c in irsa_calls}
    }
    assert irsa == {
        "db-bootstrap",
        "velero",
        "aws-load-balancer-controller",
        "ebs-csi",
        "fluent-bit",
    }


@pytest.mark.parametrize(
    ("env", "nat_gateways", "azs", "multi_az", "retention", "deletion_protection"),
    [
        ("dev", 1, 2, False, 3, False),
        ("staging", 1, 3, False, 7, True),
        ("prod", 3, 3, True, 30, True),
    ],
)
def test_plan_follows_the_inventory(
    plans, env, nat_gateways, azs, multi_az, retention, deletion_protection
):
    plan, tfvars = plans[env]["plan"], plans[env]["tfvars"]
    assert len(planned(plan, "aws_nat_gateway")) == nat_gateways
    assert len(planned(plan, "aws_eip")) == nat_gateways
    assert len(planned(plan, "aws_subnet")) == 3 * azs  # public, private and database per zone
    assert len(planned(plan, "aws_route_table")) == 2 + azs  # public, database, private per zone
    db = planned(plan, "aws_db_instance")[0]
    assert db["multi_az"] is multi_az
    assert db["backup_retention_period"] == retention
    assert db["deletion_protection"] is deletion_protection
    assert db["instance_class"] == tfvars["db_instance_class"]
    assert db["engine"] == "postgres" and db["engine_version"].startswith("16")
    assert db["storage_encrypted"] is True and db["publicly_accessible"] is False
    assert db["manage_master_user_password"] is True
    assert db.get("password") is None
    group = planned(plan, "aws_eks_node_group")[0]
    assert (
        group["scaling_config"][0]["desired_size"]
        == tfvars["node_groups"]["general"]["desired_size"]
    )
    assert group["instance_types"] == tfvars["node_groups"]["general"]["instance_types"]
    cluster = planned(plan, "aws_eks_cluster")[0]
    assert cluster["encryption_config"][0]["resources"] == ["secrets"]
    assert cluster["access_config"][0]["authentication_mode"] == "API"
    assert cluster["vpc_config"][0]["endpoint_public_access"] is False
    template = planned(plan, "aws_launch_template")[0]
    assert template["metadata_options"][0]["http_tokens"] == "required"
    for repo in planned(plan, "aws_ecr_repository"):
        assert repo["image_tag_mutability"] == "IMMUTABLE", repo["name"]
        assert repo["image_scanning_configuration"][0]["scan_on_push"] is True, repo["name"]
    for sse in planned(plan, "aws_s3_bucket_server_side_encryption_configuration"):
        assert (
            sse["rule"][0]["apply_server_side_encryption_by_default"][0]["sse_algorithm"]
            == "aws:kms"
        )
    for block in planned(plan, "aws_s3_bucket_public_access_block"):
        assert all(
            block[k]
            for k in (
                "block_public_acls",
                "block_public_policy",
                "ignore_public_acls",
                "restrict_public_buckets",
            )
        )


def module_call(plan: dict, name: str) -> dict:
    return plan["configuration"]["root_module"]["module_calls"][name]


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_plan_installs_the_managed_addons(plans, env):
    addons = {a["addon_name"]: a for a in planned(plans[env]["plan"], "aws_eks_addon")}
    assert set(addons) == {"vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver"}
    # NetworkPolicies are enforced only with the VPC CNI's network policy agent.
    assert json.loads(addons["vpc-cni"]["configuration_values"]) == {"enableNetworkPolicy": "true"}
    # The EBS CSI driver runs under its own IRSA role (an ARN known after apply), not the node role.
    ebs = next(
        rc
        for rc in plans[env]["plan"]["resource_changes"]
        if rc["type"] == "aws_eks_addon"
        and rc["change"]["after"]["addon_name"] == "aws-ebs-csi-driver"
    )
    assert ebs["change"]["after_unknown"].get("service_account_role_arn") is True
    role_ref = module_call(plans[env]["plan"], "eks")["expressions"]["ebs_csi_role_arn"]
    assert "module.irsa_ebs_csi.role_arn" in role_ref["references"]


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_plan_protects_the_edge_with_waf(plans, env):
    plan, tfvars = plans[env]["plan"], plans[env]["tfvars"]
    acl = planned(plan, "aws_wafv2_web_acl")[0]
    assert acl["scope"] == "REGIONAL" and acl["name"] == f"titanic-{env}"
    assert acl["default_action"][0]["allow"] and not acl["default_action"][0]["block"]
    assert acl["visibility_config"][0]["cloudwatch_metrics_enabled"] is True
    rules = {rule["name"]: rule for rule in acl["rule"]}
    rate = rules["rate-limit-per-client-ip"]
    assert rate["priority"] == min(rule["priority"] for rule in rules.values())
    assert rate["action"][0]["block"]
    statement = rate["statement"][0]["rate_based_statement"][0]
    assert statement["aggregate_key_type"] == "IP"
    assert statement["limit"] == tfvars["waf_rate_limit_per_5min"]
    managed = {
        rule["statement"][0]["managed_rule_group_statement"][0]["name"]
        for rule in rules.values()
        if rule["statement"][0]["managed_rule_group_statement"]
    }
    assert managed == {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"}
    for rule in rules.values():
        assert rule["visibility_config"][0]["cloudwatch_metrics_enabled"] is True
        if rule["statement"][0]["managed_rule_group_statement"]:
            assert rule["override_action"][0]["none"], f"{rule['name']} must block, not count"
    logging = planned(plan, "aws_wafv2_web_acl_logging_configuration")[0]
    redacted = [f["single_header"][0]["name"] for f in logging["redacted_fields"]]
    assert redacted == ["authorization"], "bearer tokens must not reach the WAF logs"


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_plan_puts_the_database_in_subnets_of_its_own(plans, env):
    plan, tfvars = plans[env]["plan"], plans[env]["tfvars"]
    subnets = planned(plan, "aws_subnet")
    by_tier = {
        tier: [ipaddress.ip_network(s["cidr_block"]) for s in subnets if s["tags"]["Tier"] == tier]
        for tier in ("public", "private", "database")
    }
    assert len(by_tier["database"]) == len(tfvars["azs"])
    vpc = ipaddress.ip_network(tfvars["vpc_cidr"])
    for database in by_tier["database"]:
        assert database.subnet_of(vpc)
        assert not any(database.overlaps(o) for o in by_tier["public"] + by_tier["private"])
    expressions = module_call(plan, "rds")["expressions"]
    assert "module.network.database_subnet_ids" in expressions["subnet_ids"]["references"]
    # The database route table has no route at all beyond the VPC's own.
    routes = [rc["address"] for rc in plan["resource_changes"] if rc["type"] == "aws_route"]
    assert routes and not [a for a in routes if "database" in a]
    outputs = plan["planned_values"]["outputs"]
    for tier in ("database", "public"):
        cidrs = outputs[f"{tier}_subnet_cidrs"]["value"]
        assert sorted(cidrs) == sorted(map(str, by_tier[tier]))
    assert outputs["api_write_tokens_secret_name"]["value"] == f"titanic/{env}/api/write-tokens"
