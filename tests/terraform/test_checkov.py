"""checkov on terraform/: no failed check (every skip is inline, with its reason)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tf_helpers import REPO

sys.path[:0] = [str(REPO / "tools"), str(REPO / "tools" / "security")]
import checkov_skips  # noqa: E402
import markdown_section  # noqa: E402


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
    skips = checkov_skips.skips(reports)
    unexplained = [f"{check} {resource} {path}" for check, resource, path, why in skips if not why]
    assert skips and not unexplained, f"every skip needs a written reason: {unexplained}"
    # docs/security.md lists every skip with its reason, as checkov reads them now
    listed = markdown_section.read(REPO / "docs/security.md", checkov_skips.SOURCE)
    assert listed == checkov_skips.table(skips), "docs/security.md's skips are stale: make docs"
