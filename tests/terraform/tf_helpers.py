"""Helpers of the Terraform suites (imported by conftest.py and the tests)."""

from __future__ import annotations

import json
import shutil
import subprocess
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TF = REPO / "terraform"
TERRAFORM = shutil.which("terraform") or "/usr/local/bin/terraform"
CLOUD_ENVIRONMENTS = ["dev", "staging", "prod"]

# dev, staging and prod planned against the emulator: a local backend, the provider at the emulator.
EMULATOR_OVERRIDE = """
terraform {
  backend "local" {}
}

provider "aws" {
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {
    cloudtrail     = "%(url)s"
    configservice  = "%(url)s"
    ec2            = "%(url)s"
    eks            = "%(url)s"
    guardduty      = "%(url)s"
    iam            = "%(url)s"
    kms            = "%(url)s"
    logs           = "%(url)s"
    rds            = "%(url)s"
    ecr            = "%(url)s"
    s3             = "%(url)s"
    secretsmanager = "%(url)s"
    sts            = "%(url)s"
    wafv2          = "%(url)s"
  }
}
"""
# local applied to the emulator: its own emulator_override.tf points the provider, this the backend.
BACKEND_OVERRIDE = 'terraform {\n  backend "local" {}\n}\n'


def terraform(
    args: list[str], cwd: Path, env: dict, timeout: int = 300
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TERRAFORM, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def render_tfvars(run_playbook, env: str, dest: Path) -> dict:
    """The Terraform variables role aws_infra gives the environment from its inventory."""
    run = run_playbook(
        "tests/terraform/render_tfvars.yml",
        inventory=f"inventories/{env}",
        cmdline=f"-e aws_infra_render_to={dest}",
    )
    assert run.status == "successful", run.stdout[-3000:]
    return json.loads(dest.read_text())


def copy_root_module(env: str, work: Path) -> Path:
    """A scratch copy of terraform/environments/<env> beside a link to the modules."""
    (work / "modules").symlink_to(TF / "modules")
    root = work / "environments" / env
    shutil.copytree(TF / "environments" / env, root, ignore=shutil.ignore_patterns(".terraform"))
    return root


def plan_environment(env: str, work: Path, emulator: str, tfvars: dict, cli_env: dict) -> dict:
    """Copy the environment's root module, point it at the emulator, init, plan, show -json."""
    root = copy_root_module(env, work)
    (root / "zz_test_emulator_override.tf").write_text(EMULATOR_OVERRIDE % {"url": emulator})
    # The only change to the inventory's values: the emulator's account.
    tfvars = dict(tfvars, allowed_account_ids=["123456789012"])
    (work / "test.tfvars.json").write_text(json.dumps(tfvars))
    run_env = dict(cli_env, TF_DATA_DIR=str(work / ".terraform"))
    init = terraform(["init", "-input=false", "-no-color"], root, run_env)
    assert init.returncode == 0, init.stderr
    plan_args = ["plan", "-input=false", "-no-color", "-out", str(work / "plan")]
    plan = terraform([*plan_args, f"-var-file={work / 'test.tfvars.json'}"], root, run_env)
    assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr
    show = terraform(["show", "-json", str(work / "plan")], root, run_env)
    assert show.returncode == 0, show.stderr
    return json.loads(show.stdout)


def apply_local(work: Path, emulator: str, tfvars: dict, cli_env: dict) -> dict:
    """Apply the local environment with its inventory's values to the emulator; its outputs."""
    root = copy_root_module("local", work)
    (root / "zz_test_backend_override.tf").write_text(BACKEND_OVERRIDE)
    (work / "test.tfvars.json").write_text(json.dumps(dict(tfvars, aws_endpoint=emulator)))
    run_env = dict(cli_env, TF_DATA_DIR=str(work / ".terraform"))
    init = terraform(["init", "-input=false", "-no-color"], root, run_env)
    assert init.returncode == 0, init.stderr
    apply_args = ["apply", "-auto-approve", "-input=false", "-no-color"]
    apply = terraform(
        [*apply_args, f"-var-file={work / 'test.tfvars.json'}"], root, run_env, timeout=900
    )
    assert apply.returncode == 0, apply.stdout[-3000:] + apply.stderr
    output = terraform(["output", "-json"], root, run_env)
    assert output.returncode == 0, output.stderr
    return {name: o["value"] for name, o in json.loads(output.stdout).items()}


class TerraformRuns:
    """The plans of dev, staging and prod and the apply of local, all four at once in threads.

    They spend most of their time in the AWS provider's waiters (an S3 lifecycle rule or an RDS
    instance takes a minute on the emulator, at almost no CPU), so they run while other tests do.
    The inventories' values are rendered first, in this thread (ansible-runner); the threads only
    run terraform. A failure is raised where a test asks for the result.
    """

    def __init__(self, run_playbook, tmp_path_factory, emulator: str, cli_env: dict):
        self._run_playbook = run_playbook
        self._tmp = tmp_path_factory
        self._emulator = emulator
        self._cli_env = cli_env
        self._pool: ThreadPoolExecutor | None = None
        self._futures: dict[str, Future] = {}
        self.tfvars: dict[str, dict] = {}

    def start(self) -> None:
        if self._pool:
            return
        works = {env: self._tmp.mktemp(f"tf-{env}") for env in ["local", *CLOUD_ENVIRONMENTS]}
        for env, work in works.items():
            self.tfvars[env] = render_tfvars(self._run_playbook, env, work / "inventory.json")
        self._pool = ThreadPoolExecutor(max_workers=len(works), thread_name_prefix="terraform")
        self._futures["local"] = self._pool.submit(
            apply_local, works["local"], self._emulator, self.tfvars["local"], self._cli_env
        )
        for env in CLOUD_ENVIRONMENTS:
            self._futures[env] = self._pool.submit(
                plan_environment, env, works[env], self._emulator, self.tfvars[env], self._cli_env
            )

    def result(self, env: str) -> dict:
        """The plan JSON of a cloud environment, or the outputs of local once applied."""
        self.start()
        return self._futures[env].result()

    def close(self) -> None:
        """Wait for every run, before the emulator they use stops."""
        if self._pool:
            self._pool.shutdown(wait=True, cancel_futures=True)
