"""Fixtures of the titanic_deploy suite: role runs on every inventory, in parallel."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from deploy_cases import (
    BAD_INPUTS,
    EKS_FACTS,
    EMULATOR_DB_PASSWORD,
    ENVIRONMENTS,
    IMAGE_TAG,
    PLAYBOOK,
)


class Deploys:
    """Runs of the role through the shared run_playbook fixture, each done once when first needed.

    (Runs in threads broke ansible-runner's event collection, so they run one after another.)
    """

    def __init__(self, run_playbook, tmp: Path):
        self._run = run_playbook
        self._tmp = tmp
        self._plans: dict[str, tuple[str, str, int]] = {}
        self._done: dict[str, list] = {}

    def state_dir(self, key: str) -> Path:
        return self._tmp / key

    def plan(
        self, key: str, env: str, extra: dict | None = None, tags: str = "render", repeat: int = 1
    ) -> None:
        """Plan a run on inventories/<env>; `repeat` runs it again afterwards (idempotence)."""
        variables = {
            "titanic_state_dir": str(self.state_dir(key)),
            "titanic_deploy_image_tag": IMAGE_TAG,
        }
        variables.update(extra or {})
        extra_file = self._tmp / f"{key}.json"
        extra_file.write_text(json.dumps(variables))
        cmdline = f"-e @{extra_file}" + (f" --tags {tags}" if tags else "")
        self._plans[key] = (env, cmdline, repeat)

    def result(self, key: str, index: int = 0):
        if key not in self._done:
            env, cmdline, repeat = self._plans[key]
            self._done[key] = [
                self._run(PLAYBOOK, f"inventories/{env}", cmdline) for _ in range(repeat)
            ]
        return self._done[key][index]


# An image manifest for moto's ECR (put_image needs one; nothing pulls it).
_MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 2,
            "digest": "sha256:" + "0" * 64,
        },
        "layers": [],
    }
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def aws_emulator():
    """moto_server on loopback with an ECR repository that lacks the tag under test."""
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        import boto3

        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        ecr = boto3.client(
            "ecr",
            endpoint_url=url,
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 (the emulator's)
        )
        ecr.create_repository(repositoryName="titanic-api")
        ecr.put_image(repositoryName="titanic-api", imageManifest=_MANIFEST, imageTag=IMAGE_TAG)
        secrets = boto3.client(
            "secretsmanager",
            endpoint_url=url,
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 (the emulator's)
        )
        secrets.create_secret(
            Name="titanic/dev/api/database",
            SecretString=json.dumps({"username": "titanic_api", "password": EMULATOR_DB_PASSWORD}),
        )
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def deploys(run_playbook, tmp_path_factory, aws_emulator):
    """Every run of this suite: renders, a re-render (idempotence), wrong inputs."""
    runs = Deploys(run_playbook, tmp_path_factory.mktemp("deploy"))
    # checkov runs once over all four renders in the test; the role's own checkov gate is proven by
    # the checkov case of BAD_INPUTS.
    for env in ENVIRONMENTS:
        runs.plan(env, env, {"titanic_deploy_checkov": False}, repeat=2 if env == "dev" else 1)
    # A full EKS run against the AWS emulator: the tag is not in ECR, so it stops before any apply.
    runs.plan(
        "ecr-missing-tag",
        "dev",
        dict(
            EKS_FACTS,
            titanic_deploy_aws_endpoint_url=aws_emulator,
            titanic_deploy_image_tag="0000000",
        ),
        tags="",
    )
    # The same with the tag in ECR and the credentials in Secrets Manager: every check passes, the
    # kubeconfig is written, and the run stops at the first cluster call (no API server here).
    runs.plan(
        "eks-no-cluster",
        "dev",
        dict(EKS_FACTS, titanic_deploy_aws_endpoint_url=aws_emulator),
        tags="",
    )
    for key, env, extra, _ in BAD_INPUTS:
        runs.plan(key, env, extra)
    return runs
