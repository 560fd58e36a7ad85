"""roles/titanic_image/files/audit_gate.py: severity gate, allow-list and offline handling.

pip-audit is replaced by a stub printing a canned report, so these run without the network; OSV is
unreachable from here, so every finding takes --unknown-severity.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

GATE = Path(__file__).resolve().parents[3] / "roles/titanic_image/files/audit_gate.py"
VULN = {"id": "PYSEC-2099-1", "aliases": ["CVE-2099-0001"], "fix_versions": ["9.9.9"]}


def stub(tmp_path: Path, stdout: str, stderr: str = "", rc: int = 1) -> Path:
    path = tmp_path / "pip-audit"
    path.write_text(
        f"#!{sys.executable}\nimport sys\n"
        f"sys.stdout.write({stdout!r})\nsys.stderr.write({stderr!r})\nsys.exit({rc})\n"
    )
    path.chmod(0o755)
    return path


def gate(tmp_path: Path, pip_audit: Path, *extra: str) -> tuple[int, dict]:
    report = tmp_path / "report.json"
    (tmp_path / "req.txt").write_text("flask==3.1.3\n")
    proc = subprocess.run(
        [sys.executable, str(GATE), "--pip-audit", str(pip_audit),
         "--requirements", str(tmp_path / "req.txt"), "--report", str(report),
         "--timeout", "1", *extra],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    return proc.returncode, json.loads(report.read_text())


def findings(*deps: dict) -> str:
    return json.dumps({"dependencies": list(deps), "fixes": []})


@pytest.mark.parametrize(
    ("threshold", "unknown", "rc"),
    [("high", "high", 1), ("critical", "high", 0), ("low", "low", 1), ("none", "critical", 0)],
)
def test_threshold(tmp_path, threshold, unknown, rc):
    pip_audit = stub(tmp_path, findings({"name": "flask", "version": "3.1.3", "vulns": [VULN]}))
    code, report = gate(
        tmp_path, pip_audit, "--fail-severity", threshold, "--unknown-severity", unknown
    )
    assert code == rc
    assert report["findings"][0]["id"] == "PYSEC-2099-1"


def test_allow_list_accepts_by_alias(tmp_path):
    pip_audit = stub(tmp_path, findings({"name": "flask", "version": "3.1.3", "vulns": [VULN]}))
    allow = tmp_path / "allow.yml"
    allow.write_text("- id: CVE-2099-0001\n  reason: not reachable\n  expires: 2999-01-01\n")
    code, report = gate(tmp_path, pip_audit, "--allowlist", str(allow))
    assert code == 0 and report["status"] == "pass"


def test_expired_allow_list_entry_no_longer_accepts(tmp_path):
    pip_audit = stub(tmp_path, findings({"name": "flask", "version": "3.1.3", "vulns": [VULN]}))
    allow = tmp_path / "allow.yml"
    allow.write_text("- id: PYSEC-2099-1\n  reason: old\n  expires: 2000-01-01\n")
    code, _ = gate(tmp_path, pip_audit, "--allowlist", str(allow))
    assert code == 1


def test_clean_report_passes(tmp_path):
    pip_audit = stub(tmp_path, findings({"name": "flask", "version": "3.1.3", "vulns": []}), rc=0)
    assert gate(tmp_path, pip_audit)[0] == 0


def test_unreachable_service_is_reported_apart(tmp_path):
    pip_audit = stub(tmp_path, "", "requests.exceptions.ConnectionError: Max retries exceeded")
    code, report = gate(tmp_path, pip_audit)
    assert code == 3 and report["status"] == "unreachable"


def test_package_the_service_does_not_know_is_unaudited(tmp_path):
    skipped = {"name": "flask", "skip_reason": "Dependency not found on PyPI"}
    code, report = gate(tmp_path, stub(tmp_path, findings(skipped), rc=0))
    assert code == 3 and report["status"] == "unaudited"


def test_other_pip_audit_errors_fail(tmp_path):
    code, report = gate(tmp_path, stub(tmp_path, "", "invalid requirement"))
    assert code == 2 and report["status"] == "error"
