#!/usr/bin/env python3
"""Run pip-audit on a pinned requirements file and gate on severity, with an allow-list.

Exit codes: 0 pass; 1 findings at or above the threshold; 3 the vulnerability service was
unreachable or could not audit some package (the caller decides whether that fails closed or
warns); 2 any other error (pip-audit failed).

Severity: pip-audit reports none, so each finding's severity is looked up in OSV (GHSA
``database_specific.severity``, else the CVSS v3 base score of its vector); a finding whose
severity cannot be determined (OSV unreachable, no data) gets ``--unknown-severity``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable

import yaml

OSV_URL = "https://api.osv.dev/v1/vulns"
# Schemes --osv-url may use: the API or a mirror over HTTP(S), or a directory of records.
OSV_URL_SCHEMES = ("https", "http", "file")
# What pip-audit's stderr says when the service, not pip-audit, is the problem.
OFFLINE_MARKERS = (
    "ConnectionError",
    "ConnectTimeout",
    "ReadTimeout",
    "Max retries",
    "timed out",
    "Temporary failure",
    "Name or service not known",
    "SSLError",
    "ProxyError",
    "ServiceError",
    "Connection refused",
)
LEVELS = {"none": 0, "low": 1, "medium": 2, "moderate": 2, "high": 3, "critical": 4}
# GHSA says "moderate" where CVSS and this gate say "medium".
NAMED_SEVERITY_ALIASES = {"moderate": "medium"}

# CVSS v3.1 specification, section 7.4 (v3.0 has the same weights).
CVSS_WEIGHTS = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
CVSS_PR_WEIGHTS = {
    "U": {"N": 0.85, "L": 0.62, "H": 0.27},
    "C": {"N": 0.85, "L": 0.68, "H": 0.5},
}

# Looks an advisory up by ID: its OSV record, or None when there is none to be had.
Lookup = Callable[[str], dict | None]


def cvss3_roundup(value: float) -> float:
    """The v3.1 specification's Roundup (Appendix A): one decimal up, float noise ignored."""
    whole = round(value * 100_000)
    if whole % 10_000 == 0:
        return whole / 100_000
    return (whole // 10_000 + 1) / 10


def cvss3_score(vector: str) -> float | None:
    """Base score of a CVSS v3.0/v3.1 vector; None when it is not one."""
    if not vector.startswith("CVSS:3."):
        return None
    try:
        metrics = dict(part.split(":", 1) for part in vector.split("/")[1:])
        scope = metrics["S"]
        weights = {name: CVSS_WEIGHTS[name][metrics[name]] for name in CVSS_WEIGHTS}
        privileges = CVSS_PR_WEIGHTS[scope][metrics["PR"]]
    except (KeyError, ValueError):
        return None
    iss = 1 - (1 - weights["C"]) * (1 - weights["I"]) * (1 - weights["A"])
    if scope == "C":
        impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
    else:
        impact = 6.42 * iss
    exploitability = 8.22 * weights["AV"] * weights["AC"] * privileges * weights["UI"]
    if impact <= 0:
        return 0.0
    total = impact + exploitability
    return cvss3_roundup(min(1.08 * total if scope == "C" else total, 10))


def level_of_score(score: float) -> str:
    """The CVSS v3 qualitative rating of a base score."""
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low" if score > 0 else "none"


def severity_of_record(record: dict) -> str | None:
    """Severity level of an OSV record: GHSA's named severity, else its CVSS v3 score, else None."""
    named = (record.get("database_specific") or {}).get("severity")
    if isinstance(named, str) and named.lower() in LEVELS:
        return NAMED_SEVERITY_ALIASES.get(named.lower(), named.lower())
    for entry in record.get("severity") or []:
        if str(entry.get("type", "")).startswith("CVSS_V3"):
            score = cvss3_score(str(entry.get("score", "")))
            if score is not None:
                return level_of_score(score)
    return None


def osv_lookup(base_url: str, timeout: float) -> Lookup:
    """A lookup of OSV records under base_url (the OSV API, a mirror, or a file: directory)."""

    def lookup(vuln_id: str) -> dict | None:
        url = f"{base_url.rstrip('/')}/{urllib.parse.quote(vuln_id)}"
        try:
            # The scheme is one of OSV_URL_SCHEMES, checked when the URL was parsed.
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
                record = json.load(response)
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) else None

    return lookup


def finding_severity(ids: Iterable[str], lookup: Lookup) -> str | None:
    """Severity of an advisory known by several IDs: GHSA records first, as they name one."""
    for vuln_id in sorted(ids, key=lambda v: not v.startswith("GHSA")):
        record = lookup(vuln_id)
        severity = severity_of_record(record) if record else None
        if severity:
            return severity
    return None


def load_allowlist(path: str, today: datetime.date) -> dict[str, dict]:
    """Allow-list entries by ID, without those that expired before today."""
    if not path:
        return {}
    with open(path, encoding="utf-8") as handle:
        entries = yaml.safe_load(handle) or []
    allowed = {}
    for entry in entries:
        expires = entry.get("expires")
        if expires and datetime.date.fromisoformat(str(expires)) < today:
            continue
        allowed[str(entry["id"])] = entry
    return allowed


def run_pip_audit(pip_audit: str, requirements: str, service: str, timeout: float):
    """pip-audit's JSON report of a pinned requirements file, as a completed process."""
    argv = [
        pip_audit, "--requirement", requirements, "--no-deps", "--disable-pip",
        "--vulnerability-service", service, "--format", "json", "--progress-spinner", "off",
        "--timeout", str(int(timeout)),
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603


def failure_report(returncode: int, stderr: str) -> dict:
    """Report of a pip-audit run that gave no JSON: service unreachable, or another error."""
    offline = any(marker in stderr for marker in OFFLINE_MARKERS)
    return {
        "status": "unreachable" if offline else "error",
        "pip_audit_rc": returncode,
        "stderr": stderr[-2000:],
    }


def evaluate(
    audit: dict,
    allowed: dict[str, dict],
    fail_severity: str,
    unknown_severity: str,
    lookup: Lookup,
) -> list[dict]:
    """One finding per advisory of pip-audit's report, each marked blocking or not."""
    threshold = LEVELS[fail_severity]
    findings = []
    for dependency in audit.get("dependencies", []):
        for vuln in dependency.get("vulns", []):
            ids = [vuln["id"], *vuln.get("aliases", [])]
            severity = finding_severity(ids, lookup)
            accepted = next((allowed[i] for i in ids if i in allowed), None)
            findings.append(
                {
                    "package": dependency["name"],
                    "version": dependency.get("version"),
                    "id": vuln["id"],
                    "aliases": vuln.get("aliases", []),
                    "fix_versions": vuln.get("fix_versions", []),
                    "severity": severity or f"unknown (as {unknown_severity})",
                    "allowed": accepted,
                    "blocking": accepted is None
                    and threshold > 0
                    and LEVELS[severity or unknown_severity] >= threshold,
                }
            )
    return findings


def write_report(path: str, report: dict) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2, default=str)


def osv_url(value: str) -> str:
    """An --osv-url value: a URL whose scheme urlopen may follow here."""
    if urllib.parse.urlsplit(value).scheme not in OSV_URL_SCHEMES:
        raise argparse.ArgumentTypeError(f"{value!r}: the scheme must be one of {OSV_URL_SCHEMES}")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pip-audit", required=True)
    parser.add_argument("--requirements", required=True)
    parser.add_argument("--service", default="pypi", choices=["pypi", "osv"])
    parser.add_argument("--fail-severity", default="high", choices=sorted(LEVELS))
    parser.add_argument("--unknown-severity", default="high", choices=sorted(LEVELS))
    parser.add_argument("--allowlist", default="")
    parser.add_argument("--report", required=True)
    parser.add_argument("--timeout", type=float, default=15)
    parser.add_argument(
        "--osv-url",
        type=osv_url,
        default=OSV_URL,
        help="where OSV records are looked up by ID: the OSV API, a mirror, or a file: directory",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, lookup: Lookup | None = None) -> int:
    """The gate; `lookup` replaces the OSV lookup (tests)."""
    args = parse_args(argv)
    proc = run_pip_audit(args.pip_audit, args.requirements, args.service, args.timeout)
    try:
        audit = json.loads(proc.stdout)
    except ValueError:
        report = failure_report(proc.returncode, proc.stderr)
        write_report(args.report, report)
        print(json.dumps(report))
        return 3 if report["status"] == "unreachable" else 2

    findings = evaluate(
        audit,
        load_allowlist(args.allowlist, datetime.date.today()),
        args.fail_severity,
        args.unknown_severity,
        lookup or osv_lookup(args.osv_url, args.timeout),
    )
    blocking = [f for f in findings if f["blocking"]]
    unaudited = {
        d["name"]: d["skip_reason"] for d in audit.get("dependencies", []) if "skip_reason" in d
    }
    report = {
        "status": "fail" if blocking else ("unaudited" if unaudited else "pass"),
        "service": args.service,
        "fail_severity": args.fail_severity,
        "dependencies_audited": len(audit.get("dependencies", [])),
        "unaudited": unaudited,
        "findings": findings,
    }
    write_report(args.report, report)
    summary = {k: v for k, v in report.items() if k not in ("findings", "unaudited")}
    summary |= {"blocking": blocking, "unaudited": sorted(unaudited)}
    print(json.dumps(summary, default=str))
    if blocking:
        return 1
    # A package the service has no record of (a private mirror's version, an outage) is not
    # audited: the caller treats that like an unreachable service.
    return 3 if unaudited else 0


if __name__ == "__main__":
    sys.exit(main())
