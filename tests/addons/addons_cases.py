"""Cases of the add-on suite (role cluster_addons, playbooks/addons.yml), for fixtures and tests.
The Molecule scenario cluster_addons runs it as a program for its platform record:

    python tests/addons/addons_cases.py record prod
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = "playbooks/addons.yml"
# helm and kubectl of the venv (tools/install_helm.py).
HELM = Path(sys.executable).parent / "helm"
ENVIRONMENTS = ("dev", "staging", "prod")
ROLE = REPO / "roles" / "cluster_addons"
PINS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
# The CRDs are an input directory, not part of the repository: ../shared/crds beside it on these
# machines, elsewhere the same files fetched at the pinned versions (TITANIC_CRDS_DIR).
CRDS_DIR = Path(os.environ.get("TITANIC_CRDS_DIR") or REPO.parent / "shared" / "crds").resolve()


def validator():
    """The role's own validator (roles/cluster_addons/files/validate_addons.py), as a module."""
    spec = importlib.util.spec_from_file_location(
        "validate_addons", ROLE / "files" / "validate_addons.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def inventory_aws(env: str) -> dict:
    path = REPO / "inventories" / env / "group_vars" / "all" / "aws.yml"
    return yaml.safe_load(path.read_text())


def lbc_role_arn(env: str) -> str:
    return f"arn:aws:iam::{inventory_aws(env)['aws_infra_account_id']}:role/titanic-{env}-lbc"


def fluent_bit_role_arn(env: str) -> str:
    account = inventory_aws(env)["aws_infra_account_id"]
    return f"arn:aws:iam::{account}:role/titanic-{env}-fluent-bit"


def platform_record(env: str) -> dict:
    """The platform record the provision stage writes for inventories/<env> (docs/stages.md), with
    the outputs of Contract 5 (the IRSA roles of the bootstrap Job and the add-ons)."""
    aws = inventory_aws(env)
    account, region = aws["aws_infra_account_id"], aws["aws_infra_region"]
    arn = f"arn:aws:iam::{account}:role/titanic-{env}"
    return {
        "schema": "titanic-ops/platform/v1",
        "environment": env,
        "account_id": account,
        "region": region,
        "endpoint_url": "",
        "written_at": "2025-01-01T00:00:00Z",
        "outputs": {
            "vpc_id": f"vpc-0{len(env)}23456789abcdef",
            "vpc_cidr": aws["aws_infra_vpc_cidr"],
            "private_subnet_ids": ["subnet-0123456789abcdef0"],
            "public_subnet_cidrs": ["10.0.0.0/24"],
            "database_subnet_cidrs": ["10.0.10.0/24"],
            "cluster_name": f"titanic-{env}",
            "cluster_endpoint": "https://127.0.0.1:9",
            "cluster_version": aws["aws_infra_cluster_version"],
            "cluster_certificate_authority_data": "Zm9v",
            "cluster_oidc_issuer_url": f"https://oidc.eks.{region}.amazonaws.com/id/0123",
            "oidc_provider_arn": (
                f"arn:aws:iam::{account}:oidc-provider/oidc.eks.{region}.amazonaws.com/id/0123"
            ),
            "db_instance_identifier": f"titanic-{env}",
            "db_endpoint": f"titanic-{env}.c0ffee.{region}.rds.amazonaws.com",
            "db_port": 5432,
            "db_name": "titanic",
            "db_kms_key_arn": f"arn:aws:kms:{region}:{account}:key/0123",
            "db_master_secret_arn": f"arn:aws:secretsmanager:{region}:{account}:secret:rds-0123",
            "ecr_repository_url": f"{account}.dkr.ecr.{region}.amazonaws.com/titanic-api",
            "ecr_repository_name": "titanic-api",
            "backup_bucket_names": {
                "db-backups": f"titanic-{env}-db-backups",
                "velero": f"titanic-{env}-velero",
            },
            "waf_web_acl_arn": "",
            "irsa_role_arns": {
                # "api" only while the record's schema still requires it (before Contract 5).
                "api": f"{arn}-api",
                "db_bootstrap": f"{arn}-db-bootstrap",
                "load_balancer_controller": lbc_role_arn(env),
                "velero": f"{arn}-velero",
                "ebs_csi": f"{arn}-ebs-csi",
                "fluent_bit": fluent_bit_role_arn(env),
            },
            "api_log_group_name": f"/titanic/{env}/api",
            "api_db_secret_name": f"titanic/{env}/api/database",
            "api_write_tokens_secret_name": f"titanic/{env}/api/write-tokens",
        },
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "record" or argv[1] not in ENVIRONMENTS:
        print(f"usage: addons_cases.py record {{{','.join(ENVIRONMENTS)}}}", file=sys.stderr)
        return 2
    print(json.dumps(platform_record(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
