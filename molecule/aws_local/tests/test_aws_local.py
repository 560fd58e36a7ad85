"""Verify the local AWS platform the aws_* roles converged on the emulator (`molecule verify`).

That Terraform has nothing left to change after the converge is the idempotence step's proof: the
second provision.yml plans with -detailed-exitcode (community.general.terraform), and a resource
the plan would add, change or destroy makes it report a change and fail the step.
"""

from __future__ import annotations

import json
import os

import boto3
import pytest

PORT = os.environ.get("MOLECULE_AWS_PORT", "4577")
STATE_DIR = os.environ.get("MOLECULE_AWS_STATE_DIR", "/tmp/molecule-aws-local")  # noqa: S108 - set by molecule.yml
ENDPOINT = f"http://127.0.0.1:{PORT}"
REGION = "eu-west-1"
NAME = "titanic-local"
ACCOUNT = "123456789012"


def client(service: str):
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto accepts any credentials
    )


def test_emulator_runs_from_its_pidfile(host):
    pidfile = host.file(f"{STATE_DIR}/aws-emulator/moto_server.pid")
    assert pidfile.exists
    assert host.process.get(pid=int(pidfile.content_string.strip())).comm.startswith(
        ("moto_server", "python")
    )
    assert host.socket(f"tcp://127.0.0.1:{PORT}").is_listening


def test_vpc_subnets_and_single_nat():
    ec2 = client("ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [NAME]}])["Vpcs"]
    assert len(vpcs) == 1
    vpc = vpcs[0]
    assert vpc["CidrBlock"] == "10.10.0.0/16"
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])[
        "Subnets"
    ]
    tiers = sorted(next(t["Value"] for t in s["Tags"] if t["Key"] == "Tier") for s in subnets)
    assert tiers == ["database", "database", "private", "private", "public", "public"]
    assert len({s["AvailabilityZone"] for s in subnets}) == 2
    assert not any(s["MapPublicIpOnLaunch"] for s in subnets)
    nats = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])[
        "NatGateways"
    ]
    assert len([n for n in nats if n["State"] == "available"]) == 1
    flow_logs = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc["VpcId"]]}])[
        "FlowLogs"
    ]
    assert len(flow_logs) == 1 and flow_logs[0]["TrafficType"] == "ALL"


def test_eks_cluster_and_node_group():
    eks = client("eks")
    cluster = eks.describe_cluster(name=NAME)["cluster"]
    assert cluster["status"] == "ACTIVE"
    assert cluster["version"] == "1.31"
    assert cluster["encryptionConfig"][0]["resources"] == ["secrets"]
    assert cluster["encryptionConfig"][0]["provider"]["keyArn"].startswith(
        f"arn:aws:kms:{REGION}:{ACCOUNT}:key/"
    )
    enabled = {
        t
        for entry in cluster["logging"]["clusterLogging"]
        if entry["enabled"]
        for t in entry["types"]
    }
    assert {"api", "audit", "authenticator"} <= enabled
    assert cluster["resourcesVpcConfig"]["endpointPublicAccess"] is False
    group = eks.describe_nodegroup(clusterName=NAME, nodegroupName="default")["nodegroup"]
    assert group["scalingConfig"] == {"minSize": 1, "maxSize": 2, "desiredSize": 1}
    assert group["instanceTypes"] == ["t3.medium"]
    iam = client("iam")
    providers = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    issuer = cluster["identity"]["oidc"]["issuer"].removeprefix("https://")
    assert any(p["Arn"].endswith(issuer) for p in providers)


def test_rds_instance_properties():
    rds = client("rds")
    db = rds.describe_db_instances(DBInstanceIdentifier=NAME)["DBInstances"][0]
    assert db["Engine"] == "postgres"
    assert db["EngineVersion"].startswith("16")
    assert db["StorageEncrypted"] is True
    assert db["MultiAZ"] is False
    assert db["BackupRetentionPeriod"] == 1
    assert db["PubliclyAccessible"] is False
    assert db["DBParameterGroups"][0]["DBParameterGroupName"] == f"{NAME}-pg16"
    assert "SecretArn" in db["MasterUserSecret"]
    # The database security group admits the EKS nodes' group and nothing else.
    ec2 = client("ec2")
    sg_id = db["VpcSecurityGroups"][0]["VpcSecurityGroupId"]
    node_sg = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"{NAME}-node"]}]
    )
    node_sg_id = node_sg["SecurityGroups"][0]["GroupId"]
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [sg_id]}])[
        "SecurityGroupRules"
    ]
    ingress = [r for r in rules if not r["IsEgress"]]
    assert len(ingress) == 1
    assert ingress[0]["ReferencedGroupInfo"]["GroupId"] == node_sg_id
    assert ingress[0]["FromPort"] == ingress[0]["ToPort"] == 5432
    assert "CidrIpv4" not in ingress[0]


def test_ecr_repository_settings():
    ecr = client("ecr")
    repo = ecr.describe_repositories(repositoryNames=["titanic-api"])["repositories"][0]
    assert repo["imageScanningConfiguration"]["scanOnPush"] is True
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["encryptionConfiguration"]["encryptionType"] == "KMS"
    policy = json.loads(
        ecr.get_lifecycle_policy(repositoryName="titanic-api")["lifecyclePolicyText"]
    )
    assert {r["selection"]["tagStatus"] for r in policy["rules"]} == {"untagged", "tagged"}


@pytest.mark.parametrize("purpose", ["db-backups", "velero"])
def test_backup_bucket_encrypted_private_versioned(purpose):
    s3 = client("s3")
    bucket = f"{NAME}-{purpose}-{ACCOUNT}"
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]


def test_terraform_state_bucket_bootstrapped():
    s3 = client("s3")
    bucket = f"titanic-tfstate-{ACCOUNT}-{REGION}"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert "local/platform.tfstate" in keys
    state = s3.get_object(Bucket=bucket, Key="local/platform.tfstate")["Body"].read().decode()
    # The RDS master password is managed by RDS: it never appears in the state.
    assert '"password"' not in state or '"password": null' in state or '"password": ""' in state


@pytest.mark.parametrize(
    ("role", "subject"),
    [
        ("db-bootstrap", "system:serviceaccount:titanic:titanic-api-db-bootstrap"),
        ("ebs-csi", "system:serviceaccount:kube-system:ebs-csi-controller-sa"),
        ("velero", "system:serviceaccount:velero:velero"),
        (
            "aws-load-balancer-controller",
            "system:serviceaccount:kube-system:aws-load-balancer-controller",
        ),
    ],
)
def test_irsa_trust_policy_names_the_service_account(role, subject):
    iam = client("iam")
    doc = iam.get_role(RoleName=f"{NAME}-{role}")["Role"]["AssumeRolePolicyDocument"]
    if isinstance(doc, str):
        doc = json.loads(doc)
    statement = doc["Statement"][0]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert ":oidc-provider/oidc.eks." in statement["Principal"]["Federated"]
    conditions = statement["Condition"]["StringEquals"]
    assert [v for k, v in conditions.items() if k.endswith(":sub")] == [subject]
    assert [v for k, v in conditions.items() if k.endswith(":aud")] == ["sts.amazonaws.com"]


def test_api_database_secret_present():
    sm = client("secretsmanager")
    value = json.loads(sm.get_secret_value(SecretId="titanic/local/api/database")["SecretString"])
    assert value["username"] == "titanic_api"
    assert len(value["password"]) == 32
    assert value["host"].startswith(f"{NAME}.")
    assert value["dbname"] == "titanic"


def test_log_group_topic_and_alarms():
    logs = client("logs")
    groups = logs.describe_log_groups(logGroupNamePrefix="/titanic/local/api")["logGroups"]
    assert groups and groups[0]["retentionInDays"] == 7
    topics = [t["TopicArn"] for t in client("sns").list_topics()["Topics"]]
    assert f"arn:aws:sns:{REGION}:{ACCOUNT}:{NAME}-api-alarms" in topics
    alarms = client("cloudwatch").describe_alarms(AlarmNamePrefix=NAME)["MetricAlarms"]
    assert {a["AlarmName"] for a in alarms} == {
        f"{NAME}-api-errors",
        f"{NAME}-db-cpu",
        f"{NAME}-db-free-storage",
    }


def test_platform_record_names_what_was_provisioned(host):
    """The one interface to the later stages (docs/stages.md) matches the emulator's resources."""
    record = json.loads(host.file(f"{STATE_DIR}/records/platform.json").content_string)
    assert (record["schema"], record["environment"]) == ("titanic-ops/platform/v1", "local")
    assert (record["account_id"], record["region"], record["endpoint_url"]) == (
        ACCOUNT,
        REGION,
        ENDPOINT,
    )
    outputs = record["outputs"]
    cluster = client("eks").describe_cluster(name=outputs["cluster_name"])["cluster"]
    assert cluster["version"] == outputs["cluster_version"]
    assert cluster["endpoint"] == outputs["cluster_endpoint"]
    db = client("rds").describe_db_instances(DBInstanceIdentifier=outputs["db_instance_identifier"])
    assert db["DBInstances"][0]["Endpoint"]["Address"] == outputs["db_endpoint"]
    secret = client("secretsmanager").describe_secret(SecretId=outputs["api_db_secret_name"])
    assert secret["Name"] == "titanic/local/api/database"
    assert host.file(f"{STATE_DIR}/records/platform.json").mode == 0o600
