"""Cases of the titanic_deploy suite, shared by its conftest.py and tests."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = "tests/deploy/render.yml"
ENVIRONMENTS = ("local", "dev", "staging", "prod")
IMAGE_TAG = "3f2c1a9"
KUBERNETES_VERSION = "1.31"


# Password of the database secret in the AWS emulator (must never show up in output).
EMULATOR_DB_PASSWORD = "emulator-only-4b9d2f"  # noqa: S105

# What an EKS run needs past its first checks: the facts aws_infra sets (cluster, database, IRSA).
EKS_FACTS = {
    "titanic_deploy_image_repository": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/titanic-api",
    "titanic_deploy_cluster_name": "titanic-dev",
    "titanic_deploy_cluster_endpoint": "https://127.0.0.1:9",
    "titanic_deploy_cluster_ca_data": "Zm9v",
    "titanic_deploy_db_host": "titanic-dev.example.eu-west-1.rds.amazonaws.com",
    "titanic_deploy_iam_role_arn": "arn:aws:iam::123456789012:role/titanic-dev-api",
    "titanic_deploy_certificate_arn": (
        "arn:aws:acm:eu-west-1:123456789012:certificate/3f0c2a8e-1b7d-4c39-9a51-7d2e0c6b1f44"
    ),
    "titanic_deploy_checkov": False,
}

# Wrong inputs: (key, inventory, extra vars, words the failure message must contain). The checks
# report every problem of a run at once, so one run covers several.
BAD_INPUTS = [
    (
        "wrong-types",
        "dev",
        {
            "titanic_deploy_replicas": "three",
            "titanic_deploy_resources": "big",
            "titanic_deploy_target": "kubernetes",
        },
        ["titanic_deploy_replicas", "titanic_deploy_resources", "titanic_deploy_target"],
    ),
    (
        "prod-rules",
        "prod",
        {
            "titanic_deploy_replicas": 0,
            "titanic_deploy_hpa_min_replicas": 1,
            "titanic_deploy_image_tag": "latest",
            "titanic_deploy_kubernetes_version": "1.20",
            "titanic_deploy_hostname": "Not A Host",
        },
        [
            "titanic_deploy_replicas is 0; prod needs at least 2",
            "titanic_deploy_hpa_min_replicas is 1; prod needs at least 2",
            "not 'latest'",
            "'1.20' has no schemas",
            "'Not A Host' is not a DNS name",
        ],
    ),
    (
        "schema",
        "dev",
        {"titanic_deploy_quota": {"pods": ["20"]}},
        ["kubernetes-validate", "resourcequota"],
    ),
    (
        "checkov-no-limits",
        "dev",
        {"titanic_deploy_resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}},
        ["checkov failed", "CKV_K8S_11", "CKV_K8S_13"],
    ),
]
