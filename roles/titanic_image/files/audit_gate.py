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
import math
import subprocess
import sys
import urllib.request

import yaml

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
CVSS_WEIGHTS = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}


def cvss3_score(vector: str) -> float | None:
    try:
        metrics = dict(part.split(":", 1) for part in vector.split("/")[1:])
        changed = metrics["S"] == "C"
        pr = {"N": 0.85, "L": 0.68 if changed else 0.62, "H": 0.5 if changed else 0.27}[
            metrics["PR"]
        ]
        w = CVSS_WEIGHTS
        iss = 1 - (1 - w["C"][metrics["C"]]) * (1 - w["I"][metrics["I"]]) * (
            1 - w["A"][metrics["A"]]
        )
        impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
        exploit = (
            8.22 * w["AV"][metrics["AV"]] * w["AC"][metrics["AC"]] * pr * w["UI"][metrics["UI"]]
        )
        if impact <= 0:
            return 0.0
        raw = min(1.08 * (impact + exploit), 10) if changed else min(impact + exploit, 10)
        return math.ceil(raw * 10) / 10
    except (KeyError, ValueError, IndexError):
        return None


def level_of_score(score: float) -> str:
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low" if score > 0 else "none"


def osv_severity(vuln_id: str, timeout: float) -> str | None:
    try:
        with urllib.request.urlopen(
            f"https://api.osv.dev/v1/vulns/{vuln_id}", timeout=timeout
        ) as resp:
            data = json.load(resp)
    except (OSError, ValueError):
        return None
    named = (data.get("database_specific") or {}).get("severity")
    if isinstance(named, str) and named.lower() in LEVELS:
        return "medium" if named.lower() == "moderate" else named.lower()
    for entry in data.get("severity") or []:
        if str(entry.get("type", "")).startswith("CVSS_V3"):
            score = cvss3_score(entry.get("score", ""))
            if score is not None:
                return level_of_score(score)
    return None


def load_allowlist(path: str) -> dict[str, dict]:
    if not path:
        return {}
    with open(path, encoding="utf-8") as handle:
        entries = yaml.safe_load(handle) or []
    today = datetime.date.today()
    allowed = {}
    for entry in entries:
        expires = entry.get("expires")
        if expires and datetime.date.fromisoformat(str(expires)) < today:
            continue
        allowed[str(entry["id"])] = entry
    return allowed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pip-audit", required=True)
    parser.add_argument("--requirements", required=True)
    parser.add_argument("--service", default="pypi", choices=["pypi", "osv"])
    parser.add_argument("--fail-severity", default="high", choices=sorted(LEVELS))
    parser.add_argument("--unknown-severity", default="high", choices=sorted(LEVELS))
    parser.add_argument("--allowlist", default="")
    parser.add_argument("--report", required=True)
    parser.add_argument("--timeout", type=float, default=15)
    args = parser.parse_args()

    cmd = [
        args.pip_audit, "--requirement", args.requirements, "--no-deps", "--disable-pip",
        "--vulnerability-service", args.service, "--format", "json", "--progress-spinner", "off",
        "--timeout", str(int(args.timeout)),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    try:
        audit = json.loads(proc.stdout)
    except ValueError:
        offline = any(marker in proc.stderr for marker in OFFLINE_MARKERS)
        report = {
            "status": "unreachable" if offline else "error",
            "pip_audit_rc": proc.returncode,
            "stderr": proc.stderr[-2000:],
        }
        with open(args.report, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2)
        print(json.dumps(report))
        return 3 if offline else 2

    allowed = load_allowlist(args.allowlist)
    threshold = LEVELS[args.fail_severity]
    findings = []
    for dep in audit.get("dependencies", []):
        for vuln in dep.get("vulns", []):
            ids = [vuln["id"], *vuln.get("aliases", [])]
            severity = None
            for vid in sorted(ids, key=lambda v: not v.startswith("GHSA")):
                severity = osv_severity(vid, args.timeout)
                if severity:
                    break
            findings.append(
                {
                    "package": dep["name"],
                    "version": dep.get("version"),
                    "id": vuln["id"],
                    "aliases": vuln.get("aliases", []),
                    "fix_versions": vuln.get("fix_versions", []),
                    "severity": severity or f"unknown (as {args.unknown_severity})",
                    "allowed": next((allowed[i] for i in ids if i in allowed), None),
                    "blocking": not any(i in allowed for i in ids)
                    and threshold > 0
                    and LEVELS[severity or args.unknown_severity] >= threshold,
                }
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
    with open(args.report, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2, default=str)
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
