"""Cases of the deploy suite (roles titanic_manifests, titanic_eks), for conftest.py and tests."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = "playbooks/deploy.yml"
ENVIRONMENTS = ("local", "dev", "staging", "prod")
IMAGE_TAG = "3f2c1a9"
KUBERNETES_VERSION = "1.31"
# The account of inventories/dev (the AWS emulator runs as this account for the EKS cases).
DEV_ACCOUNT = "210987654321"

# The database password and the write token in the AWS emulator (must never show up in output).
EMULATOR_DB_PASSWORD = "emulator-only-4b9d2f"  # noqa: S105
EMULATOR_WRITE_TOKEN = "emulator-only-token-7c1e0a93"  # noqa: S105

# The records the provision and build stages write (docs/stages.md), for inventories/dev: the
# deploy stage takes the cluster, database, network, IRSA and image values from them.
RECORD_TAG = "9c1e7b2"
PLATFORM_RECORD = {
    "schema": "titanic-ops/platform/v1",
    "environment": "dev",
    "account_id": DEV_ACCOUNT,
    "region": "eu-west-1",
    "endpoint_url": "",
    "written_at": "2025-01-01T00:00:00Z",
    "outputs": {
        "vpc_id": "vpc-0123456789abcdef0",
        "vpc_cidr": "10.99.0.0/16",  # not the inventory's 10.20.0.0/16: the record wins
        "private_subnet_ids": ["subnet-0123456789abcdef0"],
        "cluster_name": "titanic-dev",
        "cluster_endpoint": "https://127.0.0.1:9",
        "cluster_version": "1.31",
        "cluster_certificate_authority_data": "Zm9v",
        "cluster_oidc_issuer_url": "https://oidc.eks.eu-west-1.amazonaws.com/id/0123",
        "oidc_provider_arn": (
            f"arn:aws:iam::{DEV_ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/0123"
        ),
        "db_instance_identifier": "titanic-dev",
        "db_endpoint": "titanic-dev.c0ffee.eu-west-1.rds.amazonaws.com",
        "db_port": 5432,
        "db_name": "titanic",
        "db_kms_key_arn": f"arn:aws:kms:eu-west-1:{DEV_ACCOUNT}:key/0123",
        "ecr_repository_url": f"{DEV_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/titanic-api",
        "ecr_repository_name": "titanic-api",
        "backup_bucket_names": {"db-backups": "titanic-dev-db-backups"},
        # The outputs of docs/stages.md for the edge, the network and the database bootstrap: the
        # public and database subnets, the WAF ACL, the IRSA roles (none for the API), the secrets.
        "irsa_role_arns": {
            "db_bootstrap": f"arn:aws:iam::{DEV_ACCOUNT}:role/titanic-dev-db-bootstrap",
            "load_balancer_controller": f"arn:aws:iam::{DEV_ACCOUNT}:role/titanic-dev-lbc",
            "velero": f"arn:aws:iam::{DEV_ACCOUNT}:role/titanic-dev-velero",
            "ebs_csi": f"arn:aws:iam::{DEV_ACCOUNT}:role/titanic-dev-ebs-csi",
            "fluent_bit": f"arn:aws:iam::{DEV_ACCOUNT}:role/titanic-dev-fluent-bit",
        },
        "api_db_secret_name": "titanic/dev/api/database",
        "public_subnet_cidrs": ["10.99.0.0/24", "10.99.1.0/24"],
        "database_subnet_cidrs": ["10.99.20.0/24", "10.99.21.0/24"],
        "waf_web_acl_arn": (
            f"arn:aws:wafv2:eu-west-1:{DEV_ACCOUNT}:regional/webacl/titanic-dev/0123abcd"
        ),
        "api_write_tokens_secret_name": "titanic/dev/api/write-tokens",
        "db_master_secret_arn": (
            f"arn:aws:secretsmanager:eu-west-1:{DEV_ACCOUNT}:secret:rds!db-0123-AbCdEf"
        ),
    },
}
IMAGE_RECORD = {
    "schema": "titanic-ops/image/v1",
    "environment": "dev",
    "written_at": "2025-01-01T00:05:00Z",
    "repository": f"{DEV_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/titanic-api",
    "tag": RECORD_TAG,
    "tags": [RECORD_TAG],
    "image_id": "sha256:" + "ab" * 32,
    "revision": RECORD_TAG + "d4e5f60718293a4b5c6d7e8f9",
    "source_hash": "cd" * 32,
    "audit": {"status": "pass", "report": ""},
}
RECORDS = {"platform": PLATFORM_RECORD, "image": IMAGE_RECORD}
# What playbooks/dr/restore.yml writes after an RDS restore into a new instance whose master
# password RDS manages: the deploy stage moves the API and its database bootstrap to it.
DATABASE_RECORD = {
    "schema": "titanic-ops/database/v1",
    "environment": "dev",
    "written_at": "2025-01-02T03:04:05Z",
    "instance_identifier": "titanic-dev-r20250102030000",
    "endpoint": "titanic-dev-r20250102030000.c0ffee.eu-west-1.rds.amazonaws.com",
    "port": 5433,
    "db_name": "titanic_restored",
    "source_instance_identifier": "titanic-dev",
    "restored_to": "2025-01-02T02:00:00Z",
    "master_secret_arn": (
        f"arn:aws:secretsmanager:eu-west-1:{DEV_ACCOUNT}:secret:rds!db-4567-GhIjKl"
    ),
}

# What the records cannot say: a real ACM certificate (titanic_eks refuses the inventory's one).
EKS_EXTRA = {
    "titanic_manifests_certificate_arn": (
        f"arn:aws:acm:eu-west-1:{DEV_ACCOUNT}:certificate/3f0c2a8e-1b7d-4c39-9a51-7d2e0c6b1f44"
    ),
    "titanic_manifests_checkov": False,
    # moto's ECR serves no registry protocol, so no signature can be read from it: the signature
    # gate is proven against real registries (tests/system/test_image_signature.py, the rehearsal).
    "titanic_deploy_verify_signature": False,
}

# What inventories/local takes from the local system (the CA of role postgresql_pod, the generated
# passwords), for a render without it: the dev inventory's CA bundle stands in (any PEM renders).
LOCAL_EXTRA = {
    "titanic_manifests_db_ca_bundle": (
        REPO / "inventories/dev/files/rds-ca-eu-west-1-bundle.pem"
    ).read_text(),
    "titanic_manifests_db_master_password": "stand-in-master-5e0c",
    "titanic_manifests_db_password": "stand-in-login-3a9f",
}

# Write tokens of a podman render with tokens on (must never show up in output).
LOCAL_WRITE_TOKENS = ("local-token-one-91b2", "local-token-two-0d7e")  # noqa: S105

# Wrong inputs: (key, inventory, extra vars, words the failure message must contain). The checks
# report every problem of a run at once (role titanic_manifests: the argument spec, then one assert
# of every consistency rule), so one run covers several; a case whose check would stop the run
# before another's (argument spec, deploy target, schema, checkov) keeps a run of its own.
BAD_INPUTS = [
    (
        "wrong-types",
        "dev",
        {
            "titanic_manifests_replicas": "three",
            "titanic_manifests_resources": "big",
            "titanic_manifests_target": "kubernetes",
        },
        ["titanic_manifests_replicas", "titanic_manifests_resources", "titanic_manifests_target"],
    ),
    (
        "wrong-target",
        "dev",
        {"titanic_deploy_target": "k8s"},
        ["titanic_deploy_target must be eks or podman"],
    ),
    (
        "prod-unverified",
        "prod",
        {"titanic_deploy_verify_signature": False},
        ["titanic_deploy_verify_signature is off; prod runs only images signed by its key"],
    ),
    (
        "prod-rules",
        "prod",
        {
            "titanic_manifests_replicas": 0,
            "titanic_manifests_hpa_min_replicas": 1,
            "titanic_manifests_image_tag": "latest",
            "titanic_manifests_kubernetes_version": "1.20",
            "titanic_manifests_hostname": "Not A Host",
            "titanic_manifests_inbound_cidrs": ["everyone"],
        },
        [
            "titanic_manifests_replicas is 0; prod needs at least 2",
            "titanic_manifests_hpa_min_replicas is 1; prod needs at least 2",
            "not 'latest'",
            "'1.20' has no schemas",
            "'Not A Host' is not a DNS name",
            "titanic_manifests_inbound_cidrs must be IPv4 CIDRs: everyone",
        ],
    ),
    (
        "staging-rules",
        "staging",
        {
            "titanic_manifests_image_tag": "",
            "titanic_manifests_keepalive_seconds": 60,
            "titanic_manifests_inbound_cidrs": [],
            "titanic_manifests_db_ca_bundle": "not a certificate",
        },
        [
            "titanic_manifests_image_tag is empty",
            "run the build stage, playbooks/build.yml, or pass -e titanic_manifests_image_tag=",
            "titanic_manifests_keepalive_seconds (60) must exceed "
            "titanic_manifests_alb_idle_timeout_seconds (60)",
            "titanic_manifests_inbound_cidrs is empty",
            "titanic_manifests_db_ca_bundle holds no PEM certificate",
        ],
    ),
    (
        "schema",
        "dev",
        {"titanic_manifests_quota": {"pods": ["20"]}},
        ["kubernetes-validate", "resourcequota", "nothing was written"],
    ),
    (
        "checkov-no-limits",
        "dev",
        {"titanic_manifests_resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}},
        ["checkov failed", "CKV_K8S_11", "CKV_K8S_13", "nothing was written"],
    ),
]
