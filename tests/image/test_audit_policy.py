"""The audit policy of each inventory, through the role's audit entry point (tasks_from: audit).

Staging and prod must refuse an image whose audit could not run; dev and local publish it with a
warning; a blocking finding fails everywhere. pip-audit is a fake (tests/pip_audit_fake.py) and the
OSV records a file: directory: no network, no image build, no AWS.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pip_audit_fake import (
    ADVISORY,
    UNREACHABLE_STDERR,
    audit_report,
    ghsa_record,
    recorded_argv,
    write_fake_pip_audit,
    write_osv_records,
)

PLAYBOOK = "tests/image/audit.yml"
FAILS_CLOSED = ["staging", "prod"]
WARNS = ["dev", "local"]
FAIL_CLOSED_MESSAGE = (
    "is unreachable or could not audit every package, and titanic_image_audit_offline is 'fail'"
)
WARNING = (
    "WARNING: the vulnerability service 'pypi' is unreachable or could not audit every package"
)
BLOCKING_MESSAGE = "have vulnerabilities at or above"


class AuditRun:
    """One run of the audit entry point on inventories/<env>, with its own state under tmp."""

    def __init__(self, run_playbook, tmp: Path, env: str, pip_audit: tuple[str, str, int],
                 osv_records: dict):  # fmt: skip
        state = tmp / "state"
        self.artifacts = state / "image" / "artifacts" / "0123abcd"
        self.artifacts.mkdir(parents=True)
        self.requirements = self.artifacts / "requirements-third-party.txt"
        self.requirements.write_text("flask==3.1.3\n")
        self.pip_audit = write_fake_pip_audit(tmp / "bin", *pip_audit)
        variables = {
            "titanic_state_dir": str(state),
            "titanic_image_state_dir": str(state / "image"),
            "titanic_image_artifacts_dir": str(state / "image" / "artifacts"),
            "titanic_image_tools_bin": str(self.pip_audit.parent),
            "titanic_image_audit_requirements": str(self.requirements),
            "titanic_image_audit_osv_url": write_osv_records(tmp / "osv", osv_records),
        }
        extra = tmp / "extra.json"
        extra.write_text(json.dumps(variables))
        self.result = run_playbook(PLAYBOOK, f"inventories/{env}", f"-e @{extra}")

    @property
    def last_report(self) -> dict:
        return json.loads((self.artifacts / "audit.last.json").read_text())

    @property
    def recorded_pass(self) -> bool:
        return (self.artifacts / "audit.json").exists()


@pytest.fixture
def audit(run_playbook, tmp_path):
    def run(env: str, stdout: str = "", stderr: str = "", rc: int = 0, osv: dict | None = None):
        return AuditRun(run_playbook, tmp_path, env, (stdout, stderr, rc), osv or {})

    return run


@pytest.mark.parametrize("env", FAILS_CLOSED)
def test_unreachable_service_fails_closed(audit, env):
    run = audit(env, stderr=UNREACHABLE_STDERR, rc=1)
    assert run.result.status == "failed", run.result.stdout
    assert any(FAIL_CLOSED_MESSAGE in msg for msg in run.result.failures), run.result.failures
    assert run.last_report["status"] == "unreachable"
    assert not run.recorded_pass


@pytest.mark.parametrize("env", WARNS)
def test_unreachable_service_warns_and_publishes(audit, env):
    run = audit(env, stderr=UNREACHABLE_STDERR, rc=1)
    assert run.result.status == "successful", run.result.failures or run.result.stdout
    assert WARNING in run.result.stdout
    assert run.last_report["status"] == "unreachable"
    assert not run.recorded_pass  # retried on the next run


@pytest.mark.parametrize("env", FAILS_CLOSED + WARNS)
def test_high_finding_fails_every_environment(audit, env):
    run = audit(env, stdout=audit_report(ADVISORY), rc=1,
                osv={"GHSA-aaaa-bbbb-cccc": ghsa_record("HIGH")})  # fmt: skip
    assert run.result.status == "failed", run.result.stdout
    assert any(BLOCKING_MESSAGE in msg for msg in run.result.failures), run.result.failures
    assert [(f["severity"], f["blocking"]) for f in run.last_report["findings"]] == [("high", True)]
    assert not run.recorded_pass


@pytest.mark.parametrize(("env", "fails"), [("staging", True), ("dev", False)])
def test_medium_finding_fails_only_where_the_threshold_is_medium(audit, env, fails):
    run = audit(env, stdout=audit_report(ADVISORY), rc=1,
                osv={"GHSA-aaaa-bbbb-cccc": ghsa_record("MODERATE")})  # fmt: skip
    assert run.result.status == ("failed" if fails else "successful"), run.result.stdout
    assert run.recorded_pass is not fails


def test_clean_audit_is_recorded_with_the_inventorys_service(audit):
    run = audit("prod", stdout=audit_report(), rc=0)
    assert run.result.status == "successful", run.result.failures or run.result.stdout
    assert run.recorded_pass
    argv = recorded_argv(run.pip_audit)
    assert argv[argv.index("--requirement") + 1] == str(run.requirements)
    assert argv[argv.index("--vulnerability-service") + 1] == "pypi"
