"""Every checkov check skipped in terraform/, with the reason written next to it: printed, or
written into docs/security.md by `make docs` (--update). A skip without a reason fails (exit 1).

Usage: python tools/security/checkov_skips.py [--update docs/security.md]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from tabulate import tabulate

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
import markdown_section  # noqa: E402

SOURCE = "tools/security/checkov_skips.py --update"


def scan() -> list[dict]:
    """checkov's JSON reports of terraform/ (offline: no guideline download)."""
    run = subprocess.run(  # noqa: S603 - the venv's checkov, fixed arguments
        [
            str(Path(sys.executable).parent / "checkov"),
            "-d", str(REPO / "terraform"), "--framework", "terraform", "-o", "json",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env=dict(os.environ, BC_SKIP_MAPPING="TRUE"),
    )  # fmt: skip
    try:
        reports = json.loads(run.stdout)
    except json.JSONDecodeError as error:
        raise RuntimeError(
            f"checkov (exit {run.returncode}) printed no JSON: {run.stderr[-2000:]}"
        ) from error
    return reports if isinstance(reports, list) else [reports]


def skips(reports: list[dict]) -> list[tuple[str, str, str, str]]:
    """(check, resource, file, reason) of every skipped check, one row per place it is written."""
    rows = {
        (
            check["check_id"],
            check["resource"],
            check["file_path"].lstrip("/"),
            (check.get("check_result", {}).get("suppress_comment") or "").strip(),
        )
        for report in reports
        for check in report["results"]["skipped_checks"]
    }
    return sorted(rows, key=lambda row: (row[2], row[0], row[1]))


def table(rows: list[tuple[str, str, str, str]]) -> str:
    """One line per skip as written: a module's skip names every instance it covers."""
    written: dict[tuple[str, str, str], list[str]] = {}
    for check, resource, path, reason in rows:
        written.setdefault((path, check, reason), []).append(f"`{resource}`")
    return tabulate(
        [(f"`terraform/{path}`", f"`{check}`", ", ".join(resources), reason)
         for (path, check, reason), resources in written.items()],
        headers=["where", "check", "resources", "why it does not apply"],
        tablefmt="github",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", type=Path, metavar="MARKDOWN", help="write the table there")
    args = parser.parse_args(argv)
    rows = skips(scan())
    unexplained = [row for row in rows if not row[3]]
    if unexplained:
        for check, resource, path, _ in unexplained:
            print(
                f"checkov_skips: {check} on {resource} (terraform/{path}) has no reason",
                file=sys.stderr,
            )
        return 1
    if args.update:
        changed = markdown_section.replace(args.update, SOURCE, table(rows))
        print(f"{'updated' if changed else 'unchanged'} {args.update} ({len(rows)} skips)")
    else:
        print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
