"""Verify of the dress rehearsal of prod (converge: `site.yml -i inventories/prod` with
titanic_rehearsal, role rehearsal): its report, what it left in the emulated account, the registry
and the throwaway PostgreSQL, and guards that refuse a rehearsal before anything starts."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
import psycopg2
import pytest
import yaml

REPO = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY") or Path(__file__).resolve().parents[3])
HOST_VARS = Path(__file__).resolve().parents[1] / "host_vars" / "localhost.yml"
SCENARIO = yaml.safe_load(HOST_VARS.read_text())
STATE_DIR = Path(SCENARIO["rehearsal_state_dir"])
PORTS = {
    "emulator": SCENARIO["rehearsal_emulator_port"],
    "registry": SCENARIO["rehearsal_registry_port"],
    "database": SCENARIO["rehearsal_database_port"],
}
ENDPOINT = f"http://127.0.0.1:{PORTS['emulator']}"
PROD_ACCOUNT = "430987654321"
REGION = "eu-west-1"
# Where the refused runs would write, were they not refused.
REFUSED_STATE_DIR = Path("/tmp/titanic-rehearsal-refused")  # noqa: S108
# The converge's budget on these machines (measured in the report; see the README's make test).
BUDGET_SECONDS = 900


def aws(service: str):
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 (the emulator's; it accepts any)
    )


@pytest.fixture(scope="module")
def report() -> dict:
    return json.loads((STATE_DIR / "report.json").read_text())


def refused_run(extra: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess:
    """playbooks/provision.yml as a rehearsal, with its own state directory and emulator port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "AWS_"))}
    env |= {"ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", **environment}
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "playbooks/provision.yml",
            "-i",
            "inventories/prod",
            "-e",
            f"titanic_rehearsal=true rehearsal_state_dir={REFUSED_STATE_DIR}",
            "-e",
            "rehearsal_emulator_port=4611",
            *extra,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_report_names_the_environment_the_emulator_and_the_duration(report):
    assert report["environment"] == "prod"
    assert report["account_id"] == PROD_ACCOUNT
    assert report["emulator"] == ENDPOINT
    print(f"rehearsal of prod: {report['duration_seconds']} s")
    assert 0 < report["duration_seconds"] < BUDGET_SECONDS
    text = (STATE_DIR / "report.txt").read_text()
    assert "Would apply to the cluster" in text


def test_report_lists_what_would_be_applied_to_the_cluster(report):
    objects = report["cluster"]["objects"]
    kinds = {entry.split("/")[0] for entry in objects}
    assert {
        "Namespace",
        "Deployment",
        "Ingress",
        "NetworkPolicy",
        "Job",
        "HorizontalPodAutoscaler",
    } <= kinds
    assert any(entry.startswith("Job/") and "db-bootstrap" in entry for entry in objects), objects
    render_dir = Path(report["cluster"]["apply"].split()[-1])
    assert render_dir.is_relative_to(STATE_DIR) and (render_dir / "kustomization.yaml").is_file()


def test_report_lists_the_addon_releases_at_their_pinned_versions(report):
    releases = {entry["release"]: entry for entry in report["addons"]}
    assert releases["aws-load-balancer-controller"]["version"] == "3.5.0"
    assert "metrics-server" in releases
    for release in releases.values():
        assert Path(release["values_file"]).is_file()
        assert Path(release["values_file"]).is_relative_to(STATE_DIR)


def test_the_emulator_answers_as_prod_with_its_terraform_resources(report):
    assert aws("sts").get_caller_identity()["Account"] == PROD_ACCOUNT
    platform = json.loads((STATE_DIR / "records" / "platform.json").read_text())
    outputs = platform["outputs"]
    cluster = aws("eks").describe_cluster(name=outputs["cluster_name"])["cluster"]
    assert cluster["version"] == "1.31"
    database = aws("rds").describe_db_instances(
        DBInstanceIdentifier=outputs["db_instance_identifier"]
    )
    assert database["DBInstances"][0]["MultiAZ"] is True  # prod's own values, not local's
    vpc = aws("ec2").describe_vpcs(VpcIds=[outputs["vpc_id"]])["Vpcs"][0]
    assert vpc["CidrBlock"] == "10.40.0.0/16"
    assert set(outputs["irsa_role_arns"]) >= {"db_bootstrap", "load_balancer_controller"}
    assert "api" not in outputs["irsa_role_arns"]


def test_the_secrets_exist(report):
    names = {secret["Name"] for secret in aws("secretsmanager").list_secrets()["SecretList"]}
    assert {"titanic/prod/api/database", "titanic/prod/api/write-tokens"} <= names


def test_the_image_is_in_the_emulated_ecr_with_its_registry_digest(report):
    image = json.loads((STATE_DIR / "records" / "image.json").read_text())
    found = aws("ecr").describe_images(
        repositoryName="titanic-api", imageIds=[{"imageTag": image["tag"]}]
    )["imageDetails"]
    assert found[0]["imageDigest"] == report["image"]["digest"]
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORTS['registry']}/v2/titanic-api/manifests/{image['tag']}",
        method="HEAD",
        headers={
            "Accept": "application/vnd.oci.image.manifest.v1+json, "
            "application/vnd.docker.distribution.manifest.v2+json"
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback http)
        assert response.headers["Docker-Content-Digest"] == found[0]["imageDigest"]


def test_the_bootstraps_login_works_with_least_privilege(report):
    secret = json.loads(
        aws("secretsmanager").get_secret_value(SecretId="titanic/prod/api/database")["SecretString"]
    )
    connection = psycopg2.connect(
        host="127.0.0.1",
        port=PORTS["database"],
        dbname="titanic",
        user=secret["username"],
        password=secret["password"],
        sslmode="verify-full",
        sslrootcert=str(STATE_DIR / "postgresql" / "tls" / "ca.crt"),
    )
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"
        )
        assert cursor.fetchone() == (False, False, False)
    connection.close()
    assert report["database"]["bootstrap"]["login"] == secret["username"]


@pytest.mark.parametrize(
    ("extra", "environment", "refusal"),
    [
        ([], {"AWS_PROFILE": "prod-admin"}, "AWS_PROFILE set in the environment"),
        ([], {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE"}, "look like real credentials"),
        (["-e", "aws_infra_endpoint_url=http://10.1.2.3:4566"], {}, "uses its own emulator"),
        (["-e", "rehearsal_host=10.1.2.3"], {}, "rehearsal_host"),
        (["-e", "titanic_environment=local"], {}, "already runs on the emulator"),
    ],
    ids=["profile", "real-keys", "foreign-endpoint", "routable-host", "local"],
)
def test_a_rehearsal_refuses_before_anything_starts(extra, environment, refusal):
    shutil.rmtree(REFUSED_STATE_DIR, ignore_errors=True)
    run = refused_run(extra, environment)
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert refusal in output, output[-3000:]
    assert re.search(r"^localhost\s*:.*\bchanged=0\b", output, re.M), output[-3000:]
    assert not REFUSED_STATE_DIR.exists()
