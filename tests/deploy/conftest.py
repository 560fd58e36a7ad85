"""Fixtures of the deploy suite: playbooks/deploy.yml on every inventory, through ansible-runner."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import dev_platform
import pytest
from deploy_cases import (
    BAD_INPUTS,
    DATABASE_RECORD,
    DEV_ACCOUNT,
    EKS_EXTRA,
    ENVIRONMENTS,
    IMAGE_TAG,
    LOCAL_EXTRA,
    LOCAL_WRITE_TOKENS,
    PLAYBOOK,
    RECORDS,
)
from loopback import free_port, wait_until_listening
from playbook_runs import PlaybookRun, run_playbook_repeatedly


class Deploys:
    """Runs of playbooks/deploy.yml, each done once: the one a test needs and the next planned one
    run at the same time, in two worker processes (each run renders into a state directory of its
    own; threads broke ansible-runner's event collection, processes do not share it)."""

    WORKERS = 2

    def __init__(self, tmp: Path):
        self._tmp = tmp
        self._plans: dict[str, tuple[str, str, int]] = {}
        self._started: dict[str, Future] = {}
        # spawn, not fork: other suites' background threads (tests/terraform's runs) may hold locks
        # a forked child would inherit; the worker function is imported by name (playbook_runs).
        self._pool = ProcessPoolExecutor(
            max_workers=self.WORKERS, mp_context=multiprocessing.get_context("spawn")
        )

    def state_dir(self, key: str) -> Path:
        return self._tmp / key

    def plan(
        self,
        key: str,
        env: str,
        extra: dict | None = None,
        tags: str = "render",
        repeat: int = 1,
        records: dict | None = None,
        options: str = "",
    ) -> None:
        """Plan a run on inventories/<env>; `repeat` runs it again afterwards (idempotence).

        Without records, the image tag is passed as an operator would pass it (-e ...image_tag);
        with them, they are written where the earlier stages write them, and no tag is passed.
        """
        variables = {"titanic_state_dir": str(self.state_dir(key))}
        if not records:
            variables["titanic_manifests_image_tag"] = IMAGE_TAG
        variables.update(extra or {})
        for name, record in (records or {}).items():
            path = self.state_dir(key) / "records" / f"{name}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record))
        extra_file = self._tmp / f"{key}.json"
        extra_file.write_text(json.dumps(variables))
        cmdline = (
            f"-e @{extra_file}"
            + (f" --tags {tags}" if tags else "")
            + (f" {options}" if options else "")
        )
        self._plans[key] = (env, cmdline, repeat)

    def _start(self, key: str) -> None:
        if key not in self._started:
            env, cmdline, repeat = self._plans[key]
            self._started[key] = self._pool.submit(
                run_playbook_repeatedly,
                self._tmp / f"{key}-runners",
                PLAYBOOK,
                f"inventories/{env}",
                cmdline,
                repeat,
            )

    def result(self, key: str, index: int = 0) -> PlaybookRun:
        self._start(key)
        # Keep both workers busy with the plans no test has asked for yet, in planned order (the
        # order the tests ask in); a selection of a few tests runs at most one run too many.
        running = sum(not future.done() for future in self._started.values())
        for waiting in [k for k in self._plans if k not in self._started]:
            if running >= self.WORKERS:
                break
            self._start(waiting)
            running += 1
        return self._started[key].result()[index]

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


@pytest.fixture(scope="session")
def aws_emulator():
    """moto_server on loopback as the dev account: the recorded tag in ECR, the credentials in
    Secrets Manager."""
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "MOTO_ACCOUNT_ID": DEV_ACCOUNT},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_listening(port, server)
        dev_platform.seed(url)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def deploys(tmp_path_factory, aws_emulator):
    """Every run of this suite: renders, a re-render, records, check mode, EKS, wrong inputs."""
    runs = Deploys(tmp_path_factory.mktemp("deploy"))
    # checkov runs once over all four renders in the test; the role's own checkov gate is proven by
    # the checkov case of BAD_INPUTS.
    for env in ENVIRONMENTS:
        extra = {"titanic_manifests_checkov": False} | (LOCAL_EXTRA if env == "local" else {})
        runs.plan(env, env, extra, repeat=2 if env == "dev" else 1)
    # The records of the earlier stages, and nothing else: the render takes its values from them.
    runs.plan("records", "dev", {"titanic_manifests_checkov": False}, records=RECORDS)
    # After an RDS restore: the database record names the new instance and its own master secret.
    runs.plan(
        "restored",
        "dev",
        {"titanic_manifests_checkov": False},
        records=RECORDS | {"database": DATABASE_RECORD},
    )
    # --check: validated in the scratch directory, nothing written to the render directory.
    runs.plan("check", "dev", {"titanic_manifests_checkov": False}, options="--check --diff")
    eks = dict(EKS_EXTRA, titanic_eks_aws_endpoint_url=aws_emulator)
    # A full EKS run against the AWS emulator: the tag is not in ECR, so it stops before any apply.
    runs.plan(
        "ecr-missing-tag",
        "dev",
        dict(eks, titanic_manifests_image_tag="0000000"),
        tags="",
        records=RECORDS,
    )
    # The recorded tag is in ECR and the credentials in Secrets Manager: every check passes, the
    # kubeconfig is written, and the run stops at the first cluster call (no API server here).
    runs.plan("eks-no-cluster", "dev", eks, tags="", records=RECORDS)
    # podman with write tokens on: the tokens of the inventory in a Secret mounted as a file.
    runs.plan(
        "local-tokens",
        "local",
        LOCAL_EXTRA
        | {
            "titanic_manifests_checkov": False,
            "titanic_manifests_write_tokens_enabled": True,
            "titanic_manifests_write_tokens": list(LOCAL_WRITE_TOKENS),
        },
    )
    # A render whose edge and network are not the platform's (no WAF, the whole VPC as the ALB's
    # source): titanic_eks refuses it before anything else.
    runs.plan(
        "eks-not-the-platform",
        "dev",
        dict(
            eks,
            titanic_manifests_waf_acl_arn="",
            titanic_manifests_alb_source_cidrs=["10.99.0.0/16"],
        ),
        tags="",
        records=RECORDS,
    )
    for key, env, extra, _ in BAD_INPUTS:
        runs.plan(key, env, extra)
    yield runs
    runs.close()
