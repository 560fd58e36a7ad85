"""Fixtures of the Terraform suites: a throw-away AWS emulator, a Terraform CLI configuration, and
the Terraform runs of every environment, started in the background by the first test here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from loopback import free_port
from tf_helpers import CLOUD_ENVIRONMENTS, TerraformRuns

PROVIDER_MIRROR = os.environ.get("TITANIC_TF_PROVIDER_MIRROR", "/opt/tf-plugins")
# Fixtures that wait for the background Terraform runs (test_environments, test_least_privilege)
AWAITING_TERRAFORM = {"plans", "applied"}
HERE = Path(__file__).resolve().parent


def _awaits_terraform(item) -> bool:
    return bool(AWAITING_TERRAFORM & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Order the session so that the background Terraform runs overlap every other suite: this
    directory's other tests first (the first one starts the runs), then the other suites, then the
    tests that wait for the runs, then tests/system (whose own hook keeps its teardown last)."""
    system = HERE.parent / "system"

    def rank(item) -> int:
        path = Path(str(item.path)).resolve()
        if path.is_relative_to(HERE):
            return 2 if _awaits_terraform(item) else 0
        return 3 if path.is_relative_to(system) else 1

    items.sort(key=rank)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """A moto_server of its own on a free loopback port; yields its URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    moto = str(Path(sys.executable).parent / "moto_server")
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    with log.open("w") as out:
        proc = subprocess.Popen(
            [moto, "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out, env=env
        )
    url = f"http://127.0.0.1:{port}"
    for _ in range(60):
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1)  # noqa: S310 - http on loopback
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"moto_server did not start: {log.read_text()[-2000:]}")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="session")
def tf_cli_env(tmp_path_factory):
    """Environment of terraform runs: CLI configuration (provider mirror), test credentials."""
    rc = tmp_path_factory.mktemp("tfcli") / "terraformrc"
    if Path(PROVIDER_MIRROR).is_dir():
        rc.write_text(
            "provider_installation {\n  filesystem_mirror {\n"
            f'    path = "{PROVIDER_MIRROR}"\n'
            "  }\n}\n",
        )
    else:
        rc.write_text("")
    return dict(
        os.environ,
        TF_CLI_CONFIG_FILE=str(rc),
        TF_IN_AUTOMATION="1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - moto accepts any credentials
        AWS_REGION="eu-west-1",
        CHECKPOINT_DISABLE="1",
    )


@pytest.fixture(scope="session")
def terraform_runs(run_playbook, tmp_path_factory, emulator, tf_cli_env):
    """The plans of dev, staging and prod and the apply of local (tf_helpers.TerraformRuns)."""
    runs = TerraformRuns(run_playbook, tmp_path_factory, emulator, tf_cli_env)
    yield runs
    runs.close()


@pytest.fixture(scope="session", autouse=True)
def terraform_runs_started(request):
    """Start the Terraform runs with the first test here, if a selected test needs them."""
    if any(_awaits_terraform(item) for item in request.session.items):
        request.getfixturevalue("terraform_runs").start()


@pytest.fixture(scope="session")
def plans(terraform_runs):
    """Plan JSON (terraform show -json) and Terraform variables of each cloud environment, planned
    against the emulator with its inventory's values."""
    return {
        env: {"plan": terraform_runs.result(env), "tfvars": terraform_runs.tfvars[env]}
        for env in CLOUD_ENVIRONMENTS
    }
