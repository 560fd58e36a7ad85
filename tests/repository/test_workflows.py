""".github/workflows: the pipeline runs what `make test` proves, and nothing it does not.

Every command a workflow runs is a Makefile target or a playbook of this repository (through
ansible-playbook, or ansible-navigator in the execution environment), so the pipeline cannot drift
from the checks; the pull request checks cover every target `make test` runs. Every action is pinned
by commit; every job says its permissions, and only jobs in a GitHub environment may ask for an OIDC
token, which the environment's deployer role trusts (terraform/modules/ci_deployer).
"""

from __future__ import annotations

import itertools
import re
import shlex
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / ".github/workflows").glob("*.yml"))
CLOUD_ENVIRONMENTS = ["dev", "staging", "prod"]
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
TAG_COMMENT = re.compile(r"#\s*v\d+(\.\d+)*\b")
# Where `make setup` installs ansible-playbook and ansible-navigator (not on the runner's PATH).
VENV_BIN = ".venv/bin/"
MATRIX = re.compile(r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}")


def load(path: Path) -> dict:
    # PyYAML reads the key `on` as True (YAML 1.1): give it its name back.
    document = yaml.safe_load(path.read_text())
    if True in document:
        document["on"] = document.pop(True)
    return document


def makefile_targets() -> set[str]:
    text = (REPO / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z0-9-]*):", text, re.M))


def make_test_targets() -> set[str]:
    line = re.search(r"^test:([^#\n]*)", (REPO / "Makefile").read_text(), re.M).group(1)
    return set(line.split()) - {"setup"}


def jobs() -> list[tuple[str, str, dict]]:
    return [
        (path.name, name, job) for path in WORKFLOWS for name, job in load(path)["jobs"].items()
    ]


def expand(command: str, job: dict) -> list[str]:
    """The command once per value of the matrix variables it uses."""
    names = sorted(set(MATRIX.findall(command)))
    if not names:
        return [command]
    matrix = job.get("strategy", {}).get("matrix", {})
    commands = []
    for values in itertools.product(*(matrix[name] for name in names)):
        expanded = command
        for name, value in zip(names, values, strict=True):
            expanded = re.sub(rf"\$\{{\{{\s*matrix\.{name}\s*\}}\}}", str(value), expanded)
        commands.append(expanded)
    return commands


def run_commands(job: dict) -> list[str]:
    return [
        command
        for step in job.get("steps", [])
        if "run" in step
        for command in expand(step["run"].strip(), job)
    ]


def problem(command: str) -> str | None:
    """Why a command is not a make target or a playbook of this repository (None: it is)."""
    if "\n" in command or any(op in command for op in ("&&", "||", ";", "|", "$(", "`")):
        return "one command per step, without shell operators"
    argv = shlex.split(command)
    argv[0] = argv[0].removeprefix(VENV_BIN)
    if argv[0] == "make":
        targets = [a for a in argv[1:] if "=" not in a and not a.startswith("-")]
        unknown = [t for t in targets if t not in makefile_targets()]
        if not targets or unknown:
            return f"no such make target: {unknown or 'none given'}"
        return None
    playbook = {"ansible-playbook": argv[1:2], "ansible-navigator": argv[2:3]}.get(argv[0], [])
    if argv[0] == "ansible-navigator" and argv[1:2] != ["run"]:
        return "ansible-navigator runs playbooks only (ansible-navigator run <playbook>)"
    if not playbook:
        return "neither make nor a playbook"
    if not (REPO / playbook[0]).is_file():
        return f"no such playbook: {playbook[0]}"
    return None


def test_there_are_workflows():
    assert {p.name for p in WORKFLOWS} >= {"checks.yml", "deploy.yml"}


@pytest.mark.parametrize(
    "command",
    [
        "make no-such-target",
        "make test-app && curl example.invalid",
        "ansible-playbook playbooks/no-such.yml -i inventories/dev",
        "ansible-navigator exec -- id",
        "bash -c 'make lint'",
        ".venv/bin/python -m pytest",
    ],
)
def test_the_command_check_rejects(command):
    assert problem(command) is not None


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_command_is_a_make_target_or_a_playbook(path):
    for name, job in load(path)["jobs"].items():
        for command in run_commands(job):
            assert problem(command) is None, f"{path.name} {name}: {command!r}: {problem(command)}"


def test_the_pull_request_checks_run_every_target_of_make_test():
    checks = load(REPO / ".github/workflows/checks.yml")
    assert "pull_request" in checks["on"]
    ran = {
        argv[1]
        for job in checks["jobs"].values()
        for command in run_commands(job)
        if (argv := shlex.split(command))[0] == "make"
    }
    assert make_test_targets() <= ran, (
        f"make test runs these, the checks do not: {make_test_targets() - ran}"
    )


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_trigger_runs_untrusted_code_with_secrets(path):
    assert not {"pull_request_target", "workflow_run"} & set(load(path)["on"])


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_with_its_tag(path):
    lines = path.read_text().splitlines()
    uses = [line for line in lines if re.match(r"^\s*(- )?uses:", line)]
    assert uses
    for line in uses:
        ref = line.split("uses:", 1)[1].split("#", 1)[0].strip()
        if ref.startswith("./"):  # a workflow of this repository
            assert (REPO / ref).is_file(), line
            continue
        assert PINNED.match(ref), f"not pinned by a full commit sha: {line.strip()}"
        assert TAG_COMMENT.search(line), f"no tag comment (# vX.Y.Z): {line.strip()}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_none_by_default_and_said_per_job(path):
    workflow = load(path)
    assert workflow["permissions"] == {}
    for name, job in workflow["jobs"].items():
        assert "permissions" in job, f"{path.name} {name} has no permissions"


@pytest.mark.parametrize(("workflow", "name", "job"), jobs(), ids=lambda v: str(v)[:40])
def test_only_jobs_that_assume_the_deployer_role_get_an_oidc_token(workflow, name, job):
    assumes = [s for s in job.get("steps", []) if "configure-aws-credentials" in s.get("uses", "")]
    writes = {scope for scope, access in job.get("permissions", {}).items() if access == "write"}
    if not assumes:
        assert not writes, f"{workflow} {name} writes {writes} without a need"
        return
    assert writes == {"id-token"}
    # The deployer role trusts repo:<owner/name>:environment:<env> only: the job runs in <env>,
    # and takes the role and region of that GitHub environment, never stored keys.
    assert job["environment"] in CLOUD_ENVIRONMENTS
    for step in assumes:
        assert step["with"]["role-to-assume"] == "${{ vars.TITANIC_CI_DEPLOYER_ROLE_ARN }}"
        assert not {"aws-access-key-id", "aws-secret-access-key"} & set(step["with"])


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_checkouts_keep_no_credentials(path):
    for job in load(path)["jobs"].values():
        for step in job.get("steps", []):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False


def test_main_deploys_dev_then_staging_then_prod_each_with_its_inventory():
    deploy = load(REPO / ".github/workflows/deploy.yml")
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    environments = {
        job["environment"]: name for name, job in deploy["jobs"].items() if "environment" in job
    }
    assert list(environments) == CLOUD_ENVIRONMENTS
    assert deploy["jobs"][environments["dev"]]["needs"] == "build"
    assert deploy["jobs"]["build"]["needs"] == "checks"
    for before, env in itertools.pairwise(CLOUD_ENVIRONMENTS):
        assert deploy["jobs"][environments[env]]["needs"] == environments[before]
    for env, name in environments.items():
        commands = run_commands(deploy["jobs"][name])
        playbooks = [c for c in commands if not c.startswith("make ")]
        # the platform record read from Terraform's state (a fresh runner has none), the image
        # published for this environment, then the deploy and its smoke test, in the execution
        # environment `make ee` built first; this environment's inventory and state directory
        assert [c.split()[:3] for c in playbooks] == [
            [f"{VENV_BIN}ansible-navigator", "run", "playbooks/platform_record.yml"],
            [f"{VENV_BIN}ansible-playbook", "playbooks/build.yml", "-i"],
            [f"{VENV_BIN}ansible-navigator", "run", "playbooks/deploy.yml"],
            [f"{VENV_BIN}ansible-navigator", "run", "playbooks/smoke.yml"],
        ], (env, commands)
        assert commands.index("make ee") < commands.index(playbooks[0])
        for command in playbooks:
            assert f"-i inventories/{env} " in command
            assert command.endswith(f"-e titanic_state_dir=${{TITANIC_STATE_ROOT}}/{env}")


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_the_deployer_role_of_each_environment_is_the_clusters_ci_deployer(env):
    aws = yaml.safe_load((REPO / f"inventories/{env}/group_vars/all/aws.yml").read_text())
    assert aws["aws_infra_ci_github_repository"].count("/") == 1
    entry = aws["aws_infra_cluster_access_entries"]["ci-deployer"]
    assert (
        entry["principal_arn"]
        == f"arn:aws:iam::{aws['aws_infra_account_id']}:role/titanic-ci-deployer"
    )


def _artifact_steps(job: dict, action: str) -> list[dict]:
    return [s for s in job["steps"] if s.get("uses", "").startswith(f"actions/{action}-artifact@")]


def test_the_image_is_built_once_and_each_environment_publishes_that_image():
    """The build job saves the checked image as an artifact without cloud access; each environment's
    job loads that archive before its build.yml (titanic_image refuses another source's archive)."""
    jobs = load(REPO / ".github/workflows/deploy.yml")["jobs"]
    build = jobs["build"]
    assert "environment" not in build and "id-token" not in build["permissions"]
    # no cloud access: make setup and the build, nothing else
    assert [c.split()[:2] for c in run_commands(build)] == [
        ["make", "setup"],
        [f"{VENV_BIN}ansible-playbook", "playbooks/build.yml"],
    ]
    (saving,) = [c for c in run_commands(build) if "playbooks/build.yml" in c]
    assert "-e titanic_image_registry_type=none" in saving
    saved = re.search(r"-e titanic_image_save_archive=\$\{GITHUB_WORKSPACE\}/(\S+)", saving)
    archive = saved.group(1)
    (upload,) = _artifact_steps(build, "upload")
    assert upload["with"]["path"] == archive
    for job in (j for j in jobs.values() if "environment" in j):
        (download,) = _artifact_steps(job, "download")
        assert download["with"]["name"] == upload["with"]["name"]
        (publishing,) = [c for c in run_commands(job) if "playbooks/build.yml" in c]
        assert f"-e titanic_image_load_archive=${{GITHUB_WORKSPACE}}/{archive}" in publishing
