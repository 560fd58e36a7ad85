"""Verify the pre-flight of titanic_eks for inventories/dev (`molecule verify`): the kubeconfig
that converge wrote, then
`ansible-playbook playbooks/deploy.yml -i inventories/dev --tags preflight` as an operator runs it
before a change window: it changes nothing on the converged system, and it refuses, before writing
anything, a tag missing from ECR, the inventory's placeholder certificate and a missing platform
record; the render made for the platform (the bootstrap Job's IRSA role and master secret, the WAF
ACL, the record's subnets in the NetworkPolicies) is what it checks first."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import dev_platform
import pytest
import yaml
from deploy_cases import PLATFORM_RECORD, RECORD_TAG

SCENARIO_DIR = Path(os.environ.get("MOLECULE_SCENARIO_DIRECTORY") or Path(__file__).parents[1])
REPO = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY") or Path(__file__).resolve().parents[3])
HOST_VARS = SCENARIO_DIR / "host_vars" / "localhost.yml"
SCENARIO = yaml.safe_load(HOST_VARS.read_text())
STATE_DIR = Path(SCENARIO["titanic_state_dir"])
ENDPOINT = SCENARIO["titanic_eks_aws_endpoint_url"]
KUBECONFIG = STATE_DIR / "deploy" / "kubeconfig"
DEV_VARS = REPO / "inventories" / "dev" / "group_vars" / "all"
DEV_REGION = yaml.safe_load((DEV_VARS / "aws.yml").read_text())["aws_infra_region"]
DEV_CERTIFICATE = yaml.safe_load((DEV_VARS / "deploy.yml").read_text())[
    "titanic_manifests_certificate_arn"
]
# Task names that show how far a run went.
ECR_LOOKUP = "Look up the image tag in ECR"
SECRET_READ = "Read the database credentials from AWS Secrets Manager"  # noqa: S105 (a task name)
TOKENS_READ = "Read the write tokens from AWS Secrets Manager"  # noqa: S105 (a task name)
FIRST_CLUSTER_CALL = "Read the Deployment as it runs now"


@dataclass
class Run:
    rc: int
    stdout: str

    def recap(self, key: str) -> int:
        found = re.search(rf"^localhost\s*:.*\b{key}=(\d+)", self.stdout, re.M)
        assert found, self.stdout[-3000:]
        return int(found.group(1))

    @property
    def failures(self) -> str:
        """The messages of the failed tasks (the callback prints each result as JSON)."""
        decoder, messages = json.JSONDecoder(), []
        for match in re.finditer(r"FAILED! => ", self.stdout):
            result, _ = decoder.raw_decode(self.stdout, match.end())
            messages.append(result.get("msg", ""))
        return " | ".join(messages)


def preflight(state_dir: Path = STATE_DIR, **extra) -> Run:
    """The operator's pre-flight with the scenario's values (host_vars) and extra vars. checkov
    is left to converge (it gates the render there); these runs are about titanic_eks."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env |= {
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
    }
    variables = {"titanic_state_dir": str(state_dir), "titanic_manifests_checkov": False, **extra}
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "playbooks/deploy.yml",
            "-i",
            "inventories/dev",
            "--tags",
            "preflight",
            "-e",
            f"@{HOST_VARS}",
            "-e",
            json.dumps(variables),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return Run(done.returncode, done.stdout + done.stderr)


def snapshot(*directories: Path) -> dict[str, tuple[str, int]]:
    """Every file below the directories: content hash and modification time."""
    return {
        str(path): (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        for directory in directories
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def fresh_state_dir(tmp_path: Path, *records: str) -> Path:
    """A state directory holding only some of the scenario's records."""
    (tmp_path / "records").mkdir()
    for name in records:
        shutil.copy2(STATE_DIR / "records" / f"{name}.json", tmp_path / "records")
    return tmp_path


def test_kubeconfig_names_the_recorded_cluster_and_the_dev_region(host):
    config = yaml.safe_load(host.file(str(KUBECONFIG)).content_string)
    outputs = PLATFORM_RECORD["outputs"]
    name = outputs["cluster_name"]
    assert config["clusters"] == [
        {
            "name": name,
            "cluster": {
                "server": outputs["cluster_endpoint"],
                "certificate-authority-data": outputs["cluster_certificate_authority_data"],
            },
        }
    ]
    user = config["users"][0]
    assert user["name"] == f"{name}-deployer"
    assert user["user"]["exec"]["command"] == "aws"
    assert user["user"]["exec"]["args"] == [
        "eks",
        "get-token",
        "--cluster-name",
        name,
        "--region",
        DEV_REGION,
        "--output",
        "json",
    ]
    assert config["contexts"][0]["context"] == {
        "cluster": name,
        "user": f"{name}-deployer",
        "namespace": "titanic",
    }
    assert config["current-context"] == name


def test_kubeconfig_is_private_and_holds_no_secret(host):
    kubeconfig = host.file(str(KUBECONFIG))
    assert kubeconfig.mode == 0o600
    assert kubeconfig.user == "root"
    # Only the exec plugin authenticates: no token, key or password is stored.
    user = yaml.safe_load(kubeconfig.content_string)["users"][0]["user"]
    assert set(user) == {"exec"}
    secret = dev_platform.client("secretsmanager", ENDPOINT).get_secret_value(
        SecretId=PLATFORM_RECORD["outputs"]["api_db_secret_name"]
    )
    password = json.loads(secret["SecretString"])["password"]
    tokens = dev_platform.client("secretsmanager", ENDPOINT).get_secret_value(
        SecretId=PLATFORM_RECORD["outputs"]["api_write_tokens_secret_name"]
    )
    token = json.loads(tokens["SecretString"])["tokens"][0]
    for path in (STATE_DIR / "deploy").rglob("*"):
        if path.is_file():
            assert password not in path.read_text(), path
            assert token not in path.read_text(), path


def test_preflight_of_the_converged_system_changes_nothing():
    before = snapshot(STATE_DIR / "deploy", STATE_DIR / "records")
    run = preflight()
    assert run.rc == 0, run.stdout[-3000:]
    assert (run.recap("changed"), run.recap("failed")) == (0, 0)
    assert ECR_LOOKUP in run.stdout and SECRET_READ in run.stdout and TOKENS_READ in run.stdout
    assert FIRST_CLUSTER_CALL not in run.stdout
    assert snapshot(STATE_DIR / "deploy", STATE_DIR / "records") == before


@pytest.fixture
def recorded_tag_missing_from_ecr():
    dev_platform.remove_image(ENDPOINT)
    yield
    dev_platform.seed(ENDPOINT)


@pytest.mark.usefixtures("recorded_tag_missing_from_ecr")
def test_tag_missing_from_ecr_is_refused_and_nothing_changes():
    before = snapshot(STATE_DIR / "deploy", STATE_DIR / "records")
    run = preflight()
    assert run.rc != 0
    assert (run.recap("changed"), run.recap("failed")) == (0, 1)
    assert (
        f"The image tag '{RECORD_TAG}' (titanic_manifests_image_tag) is not in ECR repository "
        "titanic-api (no such tag in the repository)" in run.failures
    ), run.failures
    assert "Nothing was applied" in run.failures
    assert SECRET_READ not in run.stdout
    assert snapshot(STATE_DIR / "deploy", STATE_DIR / "records") == before


def test_placeholder_certificate_is_refused(tmp_path):
    assert DEV_CERTIFICATE.endswith("/00000000-0000-0000-0000-000000000000")
    state_dir = fresh_state_dir(tmp_path, "platform", "image")
    run = preflight(state_dir, titanic_manifests_certificate_arn=DEV_CERTIFICATE)
    assert run.rc != 0 and run.recap("failed") == 1
    assert (
        "titanic_eks: cannot deploy to EKS, empty, placeholder or not the platform's: "
        "the Ingress's ACM certificate (titanic_manifests_certificate_arn) (run the provision stage"
        in run.failures
    ), run.failures
    assert ECR_LOOKUP not in run.stdout
    assert not (state_dir / "deploy" / "kubeconfig").exists()


def test_missing_platform_record_is_refused(tmp_path):
    state_dir = fresh_state_dir(tmp_path, "image")
    run = preflight(state_dir)
    assert run.rc != 0 and run.recap("failed") == 1
    assert (
        "titanic_eks: cannot deploy to EKS, empty, placeholder or not the platform's: "
        "titanic_eks_cluster_name, titanic_eks_cluster_endpoint, titanic_eks_cluster_ca_data, "
        "titanic_eks_db_secret_id, titanic_eks_write_tokens_secret_id, "
        "the ConfigMap's POSTGRES_HOST (titanic_manifests_db_host), "
        "the bootstrap ServiceAccount's IRSA role (titanic_manifests_db_bootstrap_role_arn), "
        "the bootstrap Job's master secret (titanic_manifests_db_master_secret_id), "
        "the Ingress's WAF web ACL (titanic_manifests_waf_acl_arn), "
        "the API NetworkPolicy's sources, the platform's public subnets "
        "(titanic_manifests_alb_source_cidrs), "
        "the NetworkPolicies' database destinations, the platform's database subnets "
        "(titanic_manifests_db_cidrs) (run the provision stage" in run.failures
    ), run.failures
    assert "run the provision stage, playbooks/provision.yml, first" in run.failures
    assert ECR_LOOKUP not in run.stdout
    assert not (state_dir / "deploy" / "kubeconfig").exists()
