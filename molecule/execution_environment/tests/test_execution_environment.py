"""The execution environment the scenario built, checked from the inside (Testinfra, local).

Every check runs the image the way AWX and ansible-navigator do: `podman run` of the image with
this repository mounted read-only as the project directory. The provision stage's plans reach an
AWS emulator of this test's own on a free loopback port of the host (the host's network).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "terraform")]
from loopback import free_port, wait_until_listening  # noqa: E402
from tf_helpers import CLOUD_ENVIRONMENTS, EMULATOR_OVERRIDE  # noqa: E402

NAME = os.environ.get("MOLECULE_EE_NAME", "titanic-ee-molecule")
IMAGE = f"localhost/{NAME}:latest"
PROJECT = "/runner/project"
# The provision stage's plan of one environment, run in the image (its header says how).
SCRIPT = "molecule/execution_environment/tests/plan_in_ee.sh"
SIZE_BUDGET_MB = 1800
# The repository is mounted read-only: facts are cached in memory, not under .cache/.
EE_ENV = {"ANSIBLE_CACHE_PLUGIN": "memory", "ANSIBLE_NOCOLOR": "1"}


def in_ee(*argv: str, workdir: str = PROJECT, mounts=(), env=None, timeout: int = 600):
    """Run argv in the image (host network, the repository at PROJECT); the CompletedProcess."""
    command = ["podman", "run", "--rm", "--network", "host", "-v", f"{REPO}:{PROJECT}:ro"]
    command += ["-w", workdir]
    for source, target in mounts:
        command += ["-v", f"{source}:{target}"]
    for key, value in {**EE_ENV, **(env or {})}.items():
        command += ["-e", f"{key}={value}"]
    return subprocess.run(
        [*command, IMAGE, *argv], capture_output=True, text=True, timeout=timeout, check=False
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout


@pytest.fixture(scope="module")
def inspect() -> dict:
    out = subprocess.run(
        ["podman", "image", "inspect", IMAGE], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)[0]


def test_image_is_tagged_with_the_git_revision_and_within_its_size_budget(inspect):
    sha = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short=12", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    labels = inspect["Config"]["Labels"]
    assert labels["org.opencontainers.image.revision"].split("-dirty")[0] == sha
    assert f"localhost/{NAME}:{labels['org.opencontainers.image.revision']}" in inspect["RepoTags"]
    assert labels["ansible-execution-environment"] == "true"
    size_mb = inspect["Size"] / 1e6
    print(f"execution environment: {size_mb:.0f} MB")
    assert size_mb <= SIZE_BUDGET_MB
    assert inspect["Config"]["User"] == "10001"


def test_the_binaries_the_roles_call_are_there_at_the_hosts_versions():
    script = (
        "terraform version -json; helm version --short; kubectl version --client -o json;"
        " checkov --version; kubernetes-validate --version; ansible-runner --version;"
        " skopeo --version; gpg --version;"
        " command -v checkov kubernetes-validate helm kubectl | xargs dirname | sort -u"
    )
    out = ok(in_ee("bash", "-euc", script))
    host_terraform = json.loads(
        subprocess.run(
            ["terraform", "version", "-json"], capture_output=True, text=True, check=True
        ).stdout
    )["terraform_version"]
    assert f'"terraform_version": "{host_terraform}"' in out
    # The roles call them beside ansible_playbook_python (cluster_addons_helm_bin and others).
    assert out.strip().splitlines()[-1] == "/opt/titanic-ee/bin"


def test_collections_are_the_listed_ones_and_titanic_ops():
    # Outside the project, whose ansible.cfg would find titanic.ops in collections/ first.
    out = ok(in_ee("ansible-galaxy", "collection", "list", "--format", "json", workdir="/runner"))
    found = {name for per_path in json.loads(out).values() for name in per_path}
    requirements = yaml.safe_load((REPO / "collections/requirements.yml").read_text())
    listed = {collection["name"] for collection in requirements["collections"]}
    assert listed | {"titanic.ops"} <= found
    assert "cisco.ios" not in found and "fortinet.fortios" not in found, "the bundle was not pruned"


def test_every_playbook_passes_its_syntax_check():
    playbooks = sorted(str(p.relative_to(REPO)) for p in REPO.glob("playbooks/**/*.yml"))
    playbooks.insert(0, "site.yml")
    out = ok(in_ee("ansible-playbook", "--syntax-check", "-i", "inventories/dev", *playbooks))
    assert "ERROR" not in out


def test_every_roles_argument_spec_loads():
    roles = sorted(p.parent.parent.name for p in REPO.glob("roles/*/meta/argument_specs.yml"))
    docs = json.loads(ok(in_ee("ansible-doc", "-t", "role", "-r", "roles", "--json", *roles)))
    for role in roles:
        spec = yaml.safe_load((REPO / "roles" / role / "meta/argument_specs.yml").read_text())
        for entry, declared in spec["argument_specs"].items():
            loaded = docs[role]["entry_points"][entry]
            options = set(loaded.get("options") or {})
            assert options == set(declared.get("options") or {}), (role, entry)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    """moto_server of this test's own on a free loopback port of the host; yields its URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("w") as out:
        server = subprocess.Popen(  # noqa: S603 - the venv's moto_server, fixed arguments
            [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=out,
        )
    wait_until_listening(port, server)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=20)


@pytest.fixture(scope="module")
def plans(emulator, tmp_path_factory) -> dict[str, dict | str]:
    """The plan of each cloud environment (show -json), or the run's output when it failed.

    The three run at once: they spend most of their time waiting for the emulator."""
    out = tmp_path_factory.mktemp("plans")
    out.chmod(0o777)  # the image's user (UID 10001) writes the plans
    (out / "override.tf").write_text(EMULATOR_OVERRIDE % {"url": emulator})
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    env["AWS_REGION"] = "eu-west-1"
    runs = {}
    for name in CLOUD_ENVIRONMENTS:
        command = ["podman", "run", "--rm", "--network", "host", "-v", f"{REPO}:{PROJECT}:ro"]
        command += ["-v", f"{out}:/out", "-w", PROJECT]
        for key, value in {**EE_ENV, **env}.items():
            command += ["-e", f"{key}={value}"]
        runs[name] = subprocess.Popen(  # noqa: S603 - podman, fixed arguments
            [*command, IMAGE, "bash", SCRIPT, name],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    results: dict[str, dict | str] = {}
    for name, run in runs.items():
        output, _ = run.communicate(timeout=900)
        plan = out / f"{name}.json"
        results[name] = json.loads(plan.read_text()) if run.returncode == 0 else output[-4000:]
    return results


@pytest.mark.parametrize("environment", CLOUD_ENVIRONMENTS)
def test_provision_stage_plans_against_the_emulator(plans, environment):
    plan = plans[environment]
    assert isinstance(plan, dict), plan
    created = {
        change["address"]: change["change"]["after"]
        for change in plan["resource_changes"]
        if change["change"]["actions"] == ["create"]
    }
    assert "module.eks.aws_eks_cluster.this" in created
    repository = created["module.ecr_execution_environment.aws_ecr_repository.this"]
    assert repository["name"] == "titanic-ee"


def test_ansible_navigator_runs_a_playbook_in_the_image(tmp_path):
    """ansible-navigator.yml as a user runs it, with only the image named (a syntax check). HOME is
    the test's own: the settings mount $HOME/.titanic-ops, which a user creates once."""
    (tmp_path / ".titanic-ops").mkdir()
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-navigator"),
            "run",
            "site.yml",
            "-i",
            "inventories/dev",
            "--syntax-check",
            "--eei",
            IMAGE,
            "--log-file",
            str(tmp_path / "navigator.log"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(
            os.environ,
            HOME=str(tmp_path),
            PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        ),
        check=False,
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    # navigator names the playbook by its path in the container (the checkout, mounted where it is)
    assert re.search(r"^playbook: \S*/site\.yml$", run.stdout, re.M), run.stdout
