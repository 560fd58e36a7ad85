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

# Password of the database secret in the AWS emulator (must never show up in output).
EMULATOR_DB_PASSWORD = "emulator-only-4b9d2f"  # noqa: S105

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
        "irsa_role_arns": {"api": f"arn:aws:iam::{DEV_ACCOUNT}:role/titanic-dev-api"},
        "api_db_secret_name": "titanic/dev/api/database",
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

# What the records cannot say: a real ACM certificate (titanic_eks refuses the inventory's one).
EKS_EXTRA = {
    "titanic_manifests_certificate_arn": (
        f"arn:aws:acm:eu-west-1:{DEV_ACCOUNT}:certificate/3f0c2a8e-1b7d-4c39-9a51-7d2e0c6b1f44"
    ),
    "titanic_manifests_checkov": False,
}

# Wrong inputs: (key, inventory, extra vars, words the failure message must contain). The checks
# report every problem of a run at once, so one run covers several.
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
        "prod-rules",
        "prod",
        {
            "titanic_manifests_replicas": 0,
            "titanic_manifests_hpa_min_replicas": 1,
            "titanic_manifests_image_tag": "latest",
            "titanic_manifests_kubernetes_version": "1.20",
            "titanic_manifests_hostname": "Not A Host",
        },
        [
            "titanic_manifests_replicas is 0; prod needs at least 2",
            "titanic_manifests_hpa_min_replicas is 1; prod needs at least 2",
            "not 'latest'",
            "'1.20' has no schemas",
            "'Not A Host' is not a DNS name",
        ],
    ),
    (
        "no-image-tag",
        "staging",
        {"titanic_manifests_image_tag": ""},
        [
            "titanic_manifests_image_tag is empty",
            "run the build stage, playbooks/build.yml, or pass -e titanic_manifests_image_tag=",
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
