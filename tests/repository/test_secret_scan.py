"""Secret scanning (make lint's detect-secrets-hook): every finding the baseline keeps was reviewed
and is not a secret, and the scan with that baseline still stops a new one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / ".secrets.baseline"
HOOK = Path(sys.executable).parent / "detect-secrets-hook"


def test_every_finding_in_the_baseline_was_reviewed_as_not_a_secret():
    results = json.loads(BASELINE.read_text())["results"]
    assert results, "an empty baseline: the scan's plugins did not run"
    unreviewed = [
        f"{path}:{finding['line_number']} ({finding['type']})"
        for path, findings in results.items()
        for finding in findings
        if finding.get("is_secret") is not False
    ]
    assert not unreviewed, f"review these (detect-secrets audit .secrets.baseline): {unreviewed}"


def test_a_new_secret_is_stopped_and_named(tmp_path):
    # A key of AWS's documented shape, made up here, in a repository of the test's own (the hook
    # asks git about its baseline); the repository's baseline is untouched.
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)  # noqa: S607 - git from PATH
    baseline = tmp_path / "baseline"
    baseline.write_text(BASELINE.read_text())
    leaked = tmp_path / "leaked.yml"
    leaked.write_text('aws_access_key_id: "AKIA' + "QZ7RW4TNXK2PLM5V" + '"\n')
    run = subprocess.run(  # noqa: S603 - the venv's detect-secrets-hook, fixed arguments
        [str(HOOK), "--baseline", str(baseline), str(leaked)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "AWS Access Key" in run.stdout and "leaked.yml:1" in run.stdout
