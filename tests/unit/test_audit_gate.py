"""roles/titanic_image/files/audit_gate.py without network: scores, levels, allow-list, exit codes.

pip-audit is a fake executable printing canned output (tests/pip_audit_fake.py); the OSV lookup is
an injected function, a patched urlopen, or a file: directory of records.
"""

from __future__ import annotations

import datetime
import importlib.util
import io
import json
import subprocess
import sys
import urllib.error
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

GATE_PATH = Path(__file__).resolve().parents[2] / "roles/titanic_image/files/audit_gate.py"
_spec = importlib.util.spec_from_file_location("audit_gate", GATE_PATH)
gate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gate)

TODAY = datetime.date(2026, 3, 1)


def cvss_record(vector: str) -> dict:
    return {"severity": [{"type": "CVSS_V3", "score": vector}]}


# --- CVSS v3 base scores --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        # Published base scores (NVD): Shellshock, Log4Shell (scope changed), Heartbleed, Dirty COW,
        # Spectre v1 (scope changed).
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
        ("CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:C/C:H/I:N/A:N", 5.6),
        # The usual reflected XSS (scope changed, user interaction) and the v3.1 calculator's values
        # for the privilege weights that differ with the scope (PR:L 0.62/0.68, PR:H 0.27/0.5).
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9),
        ("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:H/I:H/A:H", 9.1),
        ("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6),
        # No impact scores 0 whatever the exploitability; v3.0 vectors score as v3.1 ones.
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
    ],
)
def test_cvss3_base_score_of_known_vectors(vector, score):
    assert gate.cvss3_score(vector) == score


@pytest.mark.parametrize(
    "vector",
    [
        "",
        "AV:N/AC:L/Au:N/C:P/I:P/A:P",  # CVSS v2
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",  # A missing
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # no such value
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:Q/C:H/I:H/A:H",  # no such scope
        "CVSS:3.1/garbage",
    ],
)
def test_cvss3_score_is_none_for_what_is_not_a_v3_vector(vector):
    assert gate.cvss3_score(vector) is None


@pytest.mark.parametrize(
    ("value", "rounded"),
    # The v3.1 specification's Roundup: up to one decimal, but float noise does not round up.
    [(4.02, 4.1), (4.0, 4.0), (4.000000000000001, 4.0), (9.81, 9.9), (0.01, 0.1)],
)
def test_roundup_follows_the_specification(value, rounded):
    assert gate.cvss3_roundup(value) == rounded


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (0.0, "none"),
        (0.1, "low"),
        (3.9, "low"),
        (4.0, "medium"),
        (6.9, "medium"),
        (7.0, "high"),
        (8.9, "high"),
        (9.0, "critical"),
        (10.0, "critical"),
    ],
)
def test_level_boundaries(score, level):
    assert gate.level_of_score(score) == level


# --- severity of an OSV record --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("named", "level"),
    [("LOW", "low"), ("MODERATE", "medium"), ("moderate", "medium"), ("HIGH", "high"),
     ("CRITICAL", "critical")],
)  # fmt: skip
def test_ghsa_named_severity(named, level):
    assert gate.severity_of_record(ghsa_record(named)) == level


def test_named_severity_wins_over_the_cvss_vector():
    record = ghsa_record("LOW") | cvss_record("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    assert gate.severity_of_record(record) == "low"


def test_unknown_named_severity_falls_back_to_the_cvss_vector():
    record = ghsa_record("UNKNOWN") | cvss_record("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N")
    assert gate.severity_of_record(record) == "high"


@pytest.mark.parametrize(
    "record",
    [
        {},
        ghsa_record("UNKNOWN"),
        {"severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N"}]},
        cvss_record("CVSS:3.1/not-a-vector"),
    ],
)
def test_record_without_usable_severity_has_none(record):
    assert gate.severity_of_record(record) is None


def test_ghsa_record_is_asked_first_then_the_others_in_turn():
    asked = []
    records = {"CVE-2099-0001": ghsa_record("CRITICAL")}

    def lookup(vuln_id):
        asked.append(vuln_id)
        return records.get(vuln_id)

    severity = gate.finding_severity(
        ["PYSEC-2099-1", "GHSA-aaaa-bbbb-cccc", "CVE-2099-0001"], lookup
    )
    assert severity == "critical"
    assert asked == ["GHSA-aaaa-bbbb-cccc", "PYSEC-2099-1", "CVE-2099-0001"]


def test_severity_is_none_when_no_id_has_a_record():
    assert gate.finding_severity(["PYSEC-2099-1", "CVE-2099-0001"], lambda _: None) is None


# --- the OSV lookup -------------------------------------------------------------------------------


class FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_lookup_asks_the_osv_api_for_the_id(monkeypatch):
    requested = []

    def urlopen(url, timeout):
        requested.append((url, timeout))
        return FakeResponse(json.dumps(ghsa_record("HIGH")).encode())

    monkeypatch.setattr(gate.urllib.request, "urlopen", urlopen)
    record = gate.osv_lookup(gate.OSV_URL, timeout=4)("GHSA-aaaa-bbbb-cccc")
    assert record == ghsa_record("HIGH")
    assert requested == [("https://api.osv.dev/v1/vulns/GHSA-aaaa-bbbb-cccc", 4)]


@pytest.mark.parametrize(
    "failure",
    [
        urllib.error.URLError("Name or service not known"),
        urllib.error.HTTPError("https://api.osv.dev/v1/vulns/X", 404, "Not Found", {}, None),
        TimeoutError("timed out"),
    ],
)
def test_lookup_gives_none_when_osv_cannot_answer(monkeypatch, failure):
    def urlopen(url, timeout):
        raise failure

    monkeypatch.setattr(gate.urllib.request, "urlopen", urlopen)
    assert gate.osv_lookup(gate.OSV_URL, timeout=1)("PYSEC-2099-1") is None


def test_lookup_gives_none_for_an_answer_that_is_not_a_record(monkeypatch):
    monkeypatch.setattr(gate.urllib.request, "urlopen", lambda url, timeout: FakeResponse(b"[1]"))
    assert gate.osv_lookup(gate.OSV_URL, timeout=1)("PYSEC-2099-1") is None


def test_lookup_reads_a_directory_of_records(tmp_path):
    url = write_osv_records(tmp_path / "osv", {"GHSA-aaaa-bbbb-cccc": ghsa_record("MODERATE")})
    lookup = gate.osv_lookup(url, timeout=1)
    assert gate.severity_of_record(lookup("GHSA-aaaa-bbbb-cccc")) == "medium"
    assert lookup("GHSA-none-none-none") is None


def test_the_guard_fails_a_test_that_reaches_for_the_network(network_guard):
    with pytest.raises(pytest.fail.Exception, match="tried to use the network"):
        gate.osv_lookup(gate.OSV_URL, timeout=1)("GHSA-aaaa-bbbb-cccc")
    assert network_guard.attempts
    network_guard.attempts.clear()  # this attempt was the point of the test


# --- allow-list -----------------------------------------------------------------------------------


def allowlist(tmp_path: Path, text: str) -> str:
    path = tmp_path / "allow.yml"
    path.write_text(text)
    return str(path)


def test_allowlist_drops_expired_entries_and_keeps_the_others(tmp_path):
    path = allowlist(
        tmp_path,
        "- {id: CVE-2099-0001, reason: r, expires: 2026-02-28}\n"
        "- {id: CVE-2099-0002, reason: r, expires: 2026-03-01}\n"
        "- {id: CVE-2099-0003, reason: r}\n",
    )
    assert sorted(gate.load_allowlist(path, TODAY)) == ["CVE-2099-0002", "CVE-2099-0003"]


@pytest.mark.parametrize("text", ["[]\n", "", "# nothing accepted\n"])
def test_empty_allowlist_accepts_nothing(tmp_path, text):
    assert gate.load_allowlist(allowlist(tmp_path, text), TODAY) == {}


def test_no_allowlist_accepts_nothing():
    assert gate.load_allowlist("", TODAY) == {}


# --- which findings block -------------------------------------------------------------------------


def evaluate(severity: str | None, fail: str, unknown: str = "high", allowed=None) -> dict:
    audit = json.loads(audit_report(ADVISORY))
    record = ghsa_record(severity) if severity else None
    findings = gate.evaluate(audit, allowed or {}, fail, unknown, lambda _: record)
    assert len(findings) == 1
    return findings[0]


@pytest.mark.parametrize(
    ("severity", "fail", "blocking"),
    [
        ("MODERATE", "medium", True),
        ("MODERATE", "high", False),
        ("HIGH", "high", True),
        ("HIGH", "critical", False),
        ("LOW", "low", True),
        ("CRITICAL", "none", False),  # none: report only
    ],
)
def test_finding_blocks_at_or_above_the_threshold(severity, fail, blocking):
    assert evaluate(severity, fail)["blocking"] is blocking


@pytest.mark.parametrize(
    ("unknown", "fail", "blocking"),
    [("high", "high", True), ("high", "medium", True), ("low", "medium", False),
     ("critical", "none", False)],
)  # fmt: skip
def test_finding_of_unknown_severity_takes_the_unknown_level(unknown, fail, blocking):
    finding = evaluate(None, fail, unknown)
    assert finding["severity"] == f"unknown (as {unknown})"
    assert finding["blocking"] is blocking


@pytest.mark.parametrize("accepted_id", ["PYSEC-2099-1", "GHSA-aaaa-bbbb-cccc", "CVE-2099-0001"])
def test_allowlist_accepts_the_advisory_under_any_of_its_ids(accepted_id):
    entry = {"id": accepted_id, "reason": "not reachable"}
    finding = evaluate("CRITICAL", "low", allowed={accepted_id: entry})
    assert finding["blocking"] is False
    assert finding["allowed"] == entry


def test_allowlist_entry_of_another_advisory_accepts_nothing():
    finding = evaluate("CRITICAL", "low", allowed={"CVE-2099-9999": {"id": "CVE-2099-9999"}})
    assert finding["blocking"] is True and finding["allowed"] is None


# --- main: exit codes, reports and pip-audit's arguments ------------------------------------------


def run_main(tmp_path: Path, pip_audit: Path, *extra: str, lookup=None) -> tuple[int, dict]:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("flask==3.1.3\n")
    report = tmp_path / "audit.last.json"
    argv = ["--pip-audit", str(pip_audit), "--requirements", str(requirements),
            "--report", str(report), *extra]  # fmt: skip
    code = gate.main(argv, lookup=lookup)
    return code, json.loads(report.read_text())


def high(_vuln_id):
    return ghsa_record("HIGH")


def test_clean_report_passes_and_calls_pip_audit_as_documented(tmp_path):
    pip_audit = write_fake_pip_audit(tmp_path / "bin", audit_report())
    code, report = run_main(tmp_path, pip_audit, "--service", "osv", "--timeout", "7")
    assert code == 0
    assert report["status"] == "pass" and report["dependencies_audited"] == 1
    argv = recorded_argv(pip_audit)
    assert argv[argv.index("--requirement") + 1] == str(tmp_path / "requirements.txt")
    assert argv[argv.index("--vulnerability-service") + 1] == "osv"
    assert argv[argv.index("--format") + 1] == "json"
    assert argv[argv.index("--timeout") + 1] == "7"
    assert "--no-deps" in argv and "--disable-pip" in argv


def test_blocking_finding_exits_1(tmp_path):
    pip_audit = write_fake_pip_audit(tmp_path / "bin", audit_report(ADVISORY), rc=1)
    code, report = run_main(tmp_path, pip_audit, "--fail-severity", "high", lookup=high)
    assert code == 1
    assert report["status"] == "fail"
    assert [(f["id"], f["severity"], f["blocking"]) for f in report["findings"]] == [
        ("PYSEC-2099-1", "high", True)
    ]


def test_finding_below_the_threshold_passes(tmp_path):
    pip_audit = write_fake_pip_audit(tmp_path / "bin", audit_report(ADVISORY), rc=1)
    code, report = run_main(tmp_path, pip_audit, "--fail-severity", "critical", lookup=high)
    assert code == 0 and report["status"] == "pass"


def test_allow_listed_finding_passes(tmp_path):
    pip_audit = write_fake_pip_audit(tmp_path / "bin", audit_report(ADVISORY), rc=1)
    accepted = allowlist(tmp_path, "- {id: CVE-2099-0001, reason: unused, expires: 2999-01-01}\n")
    code, report = run_main(tmp_path, pip_audit, "--allowlist", accepted, lookup=high)
    assert code == 0
    assert report["findings"][0]["allowed"]["id"] == "CVE-2099-0001"


def test_expired_allow_list_entry_blocks_again(tmp_path):
    pip_audit = write_fake_pip_audit(tmp_path / "bin", audit_report(ADVISORY), rc=1)
    expired = allowlist(tmp_path, "- {id: CVE-2099-0001, reason: old, expires: 2000-01-01}\n")
    code, _ = run_main(tmp_path, pip_audit, "--allowlist", expired, lookup=high)
    assert code == 1


def test_other_pip_audit_error_exits_2(tmp_path):
    pip_audit = write_fake_pip_audit(
        tmp_path / "bin", "", "error: invalid requirement: 'flask=='\n", 1
    )
    code, report = run_main(tmp_path, pip_audit, lookup=high)
    assert code == 2
    assert report["status"] == "error" and report["pip_audit_rc"] == 1
    assert "invalid requirement" in report["stderr"]


def test_unreachable_service_exits_3(tmp_path):
    pip_audit = write_fake_pip_audit(tmp_path / "bin", "", UNREACHABLE_STDERR, 1)
    code, report = run_main(tmp_path, pip_audit, lookup=high)
    assert code == 3
    assert report["status"] == "unreachable"


def test_package_the_service_does_not_know_exits_3(tmp_path):
    skipped = {
        "name": "flask",
        "skip_reason": "Dependency not found on PyPI and could not be audited",
    }
    pip_audit = write_fake_pip_audit(
        tmp_path / "bin", json.dumps({"dependencies": [skipped], "fixes": []})
    )
    code, report = run_main(tmp_path, pip_audit, lookup=high)
    assert code == 3
    assert report["status"] == "unaudited" and list(report["unaudited"]) == ["flask"]


def test_blocking_finding_wins_over_an_unaudited_package(tmp_path):
    skipped = {"name": "werkzeug", "skip_reason": "Dependency not found on PyPI"}
    audit = json.loads(audit_report(ADVISORY))
    audit["dependencies"].append(skipped)
    pip_audit = write_fake_pip_audit(tmp_path / "bin", json.dumps(audit), rc=1)
    code, report = run_main(tmp_path, pip_audit, lookup=high)
    assert code == 1 and report["status"] == "fail"


def test_unreachable_osv_makes_findings_unknown(tmp_path, monkeypatch):
    """Without an injected lookup, main asks OSV through urlopen; unanswered, unknown rules."""
    asked = []

    def urlopen(url, timeout):
        asked.append(url)
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(gate.urllib.request, "urlopen", urlopen)
    pip_audit = write_fake_pip_audit(tmp_path / "bin", audit_report(ADVISORY), rc=1)
    code, report = run_main(tmp_path, pip_audit, "--unknown-severity", "low")
    assert code == 0
    assert report["findings"][0]["severity"] == "unknown (as low)"
    assert asked[0] == "https://api.osv.dev/v1/vulns/GHSA-aaaa-bbbb-cccc"
    assert len(asked) == 3  # every ID of the advisory was tried


# --- the command line, as the role runs it --------------------------------------------------------


def run_cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(GATE_PATH), *argv],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


def test_command_line_gates_with_records_from_a_directory(tmp_path):
    pip_audit = write_fake_pip_audit(tmp_path / "bin", audit_report(ADVISORY), rc=1)
    osv = write_osv_records(tmp_path / "osv", {"GHSA-aaaa-bbbb-cccc": ghsa_record("MODERATE")})
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("flask==3.1.3\n")
    common = ["--pip-audit", str(pip_audit), "--requirements", str(requirements),
              "--osv-url", osv, "--report", str(tmp_path / "report.json")]  # fmt: skip

    medium_fails = run_cli(*common, "--fail-severity", "medium")
    assert medium_fails.returncode == 1, medium_fails.stderr
    assert json.loads(medium_fails.stdout)["blocking"][0]["severity"] == "medium"

    high_passes = run_cli(*common, "--fail-severity", "high")
    assert high_passes.returncode == 0, high_passes.stderr


def test_command_line_refuses_an_osv_url_it_would_not_follow(tmp_path):
    pip_audit = write_fake_pip_audit(tmp_path / "bin", audit_report())
    proc = run_cli("--pip-audit", str(pip_audit), "--requirements", "r.txt",
                   "--report", str(tmp_path / "r.json"),
                   "--osv-url", "ftp://osv.example/")  # fmt: skip
    assert proc.returncode == 2
    assert "the scheme must be one of" in proc.stderr
    assert not (tmp_path / "bin" / "pip-audit.argv").exists()
