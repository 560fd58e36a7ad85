"""checkov on terraform/: no failed check (every skip is inline, with its reason)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tf_helpers import REPO


def test_checkov_has_no_failed_check():
    checkov = Path(sys.executable).parent / "checkov"
    result = subprocess.run(
        [
            str(checkov), "-d", str(REPO / "terraform"), "--framework", "terraform", "-o", "json",
            "--skip-download",  # no guidelines from Prisma Cloud: the checks are the same offline
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip
    try:
        reports = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(
            f"checkov (exit {result.returncode}) did not print JSON: {exc}\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    reports = reports if isinstance(reports, list) else [reports]
    summaries = {report["check_type"]: report["summary"] for report in reports}
    assert set(summaries) == {"terraform"}, summaries
    summary = summaries["terraform"]
    assert summary["parsing_errors"] == 0, summary
    assert summary["resource_count"] > 0 and summary["passed"] > 0, summary  # it saw the code
    failed = [
        f"{c['check_id']} {c['resource']} {c['file_path']}"
        for report in reports
        for c in report["results"]["failed_checks"]
    ]
    assert not failed, "\n".join(failed)
    # checkov exits 1 when a check failed and 0 otherwise: anything else is checkov breaking
    assert result.returncode == 0, f"checkov exited {result.returncode}:\n{result.stderr[-3000:]}"
    skipped = [c for report in reports for c in report["results"]["skipped_checks"]]
    assert all(c.get("check_result", {}).get("suppress_comment") for c in skipped), (
        "every skip needs a written reason"
    )
