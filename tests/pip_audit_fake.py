"""A stand-in for pip-audit and for OSV records, shared by tests/unit and tests/image.

The fake is an executable that records its arguments and prints what pip-audit would: a JSON report,
or the traceback tail pip-audit 2.10 prints when its service cannot be reached.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# The last line of pip-audit's stderr when api.osv.dev cannot be resolved (from a real run).
UNREACHABLE_STDERR = (
    "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.osv.dev', port=443): "
    "Max retries exceeded with url: /v1/query (Caused by NameResolutionError("
    "\"HTTPSConnection(host='api.osv.dev', port=443): Failed to resolve 'api.osv.dev' "
    '([Errno -2] Name or service not known)"))\n'
)
# An advisory of a made-up version of flask, known under three IDs as PyPI reports them.
ADVISORY = {
    "id": "PYSEC-2099-1",
    "aliases": ["GHSA-aaaa-bbbb-cccc", "CVE-2099-0001"],
    "fix_versions": ["9.9.9"],
    "description": "made up for the tests",
}


def audit_report(*vulns: dict, package: str = "flask", version: str = "3.1.3") -> str:
    """pip-audit's JSON report of one package with these advisories."""
    dependency = {"name": package, "version": version, "vulns": list(vulns)}
    return json.dumps({"dependencies": [dependency], "fixes": []})


def write_fake_pip_audit(directory: Path, stdout: str = "", stderr: str = "", rc: int = 0) -> Path:
    """An executable `pip-audit` in directory; its argv goes to `pip-audit.argv` beside it."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "pip-audit"
    path.write_text(
        f"#!{sys.executable}\n"
        "import json, pathlib, sys\n"
        f"pathlib.Path({str(path) + '.argv'!r}).write_text(json.dumps(sys.argv[1:]))\n"
        f"sys.stdout.write({stdout!r})\n"
        f"sys.stderr.write({stderr!r})\n"
        f"sys.exit({rc})\n"
    )
    path.chmod(0o755)
    return path


def recorded_argv(pip_audit: Path) -> list[str]:
    """The arguments the fake was last called with."""
    return json.loads(Path(str(pip_audit) + ".argv").read_text())


def write_osv_records(directory: Path, records: dict[str, dict]) -> str:
    """OSV records by ID in directory, as a file: URL the gate's --osv-url accepts."""
    directory.mkdir(parents=True, exist_ok=True)
    for vuln_id, record in records.items():
        (directory / vuln_id).write_text(json.dumps({"id": vuln_id, **record}))
    return directory.resolve().as_uri()


def ghsa_record(severity: str) -> dict:
    """OSV record of a GitHub advisory with a named severity (LOW, MODERATE, HIGH, CRITICAL)."""
    return {"database_specific": {"severity": severity}}
