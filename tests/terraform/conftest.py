"""Fixtures of the Terraform suites: a throw-away AWS emulator and a Terraform CLI configuration."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from loopback import free_port

PROVIDER_MIRROR = os.environ.get("TITANIC_TF_PROVIDER_MIRROR", "/opt/tf-plugins")


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
