"""The local database's continuous backup (role postgresql_pod): the converged system has a base
backup in the emulated S3 bucket and says so in its status file; a write reaches the WAL archive
within archive_timeout and a few seconds; Prometheus has the series the backup alerts read."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import boto3
import pytest
import requests
import yaml

REPO = Path(__file__).resolve().parents[2]
INVENTORY = REPO / "inventories" / "local" / "group_vars" / "all"
STATE_DIR = Path(yaml.safe_load((INVENTORY / "environment.yml").read_text())["titanic_state_dir"])
BACKUP = yaml.safe_load((INVENTORY / "database.yml").read_text())["postgresql_pod_backup"]
PLATFORM_RECORD = STATE_DIR / "records" / "platform.json"
# Role postgresql_pod's documented status file and containers.
STATUS_FILE = STATE_DIR / "postgresql" / "backup-status.json"
DB_POD = "titanic-postgresql"
PROMETHEUS = "http://127.0.0.1:9090"
# Seconds over archive_timeout: barman-cloud-wal-archive's start and upload (a Python process per
# segment: seconds each on a loaded 2-core machine, and a segment may wait for the one before).
SLACK = 20

pytestmark = pytest.mark.timeout(900)


def seconds(duration: str) -> float:
    """A PostgreSQL duration as the inventory writes archive_timeout (5s, 1min, 500ms)."""
    units = {"ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400}
    for unit in sorted(units, key=len, reverse=True):
        if duration.endswith(unit):
            return float(duration.removesuffix(unit)) * units[unit]
    return float(duration)


def container_env(container: str) -> dict[str, str]:
    """The environment podman gave a container (the archive's settings, as the pod runs them)."""
    inspected = subprocess.run(
        ["podman", "container", "inspect", container],
        check=True,
        capture_output=True,
        text=True,
    )
    variables = json.loads(inspected.stdout)[0]["Config"]["Env"]
    return dict(variable.split("=", 1) for variable in variables)


def psql(sql: str) -> str:
    """One statement as the superuser over the pod's own socket (peer), its unaligned output."""
    done = subprocess.run(
        ["podman", "exec", f"{DB_POD}-postgres", "psql", "-U", "postgres", "-d", "postgres"]
        + ["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


class Archive:
    """The pod's barman-cloud archive in the emulated S3: s3://<bucket>/<prefix>, server <name>."""

    def __init__(self):
        record = json.loads(PLATFORM_RECORD.read_text())
        env = container_env(f"{DB_POD}-backup")
        destination = env["TITANIC_BACKUP_DESTINATION"].removeprefix("s3://")
        self.bucket, _, self.prefix = destination.partition("/")
        self.server = env["TITANIC_BACKUP_SERVER_NAME"]
        self.s3 = boto3.client(
            "s3",
            endpoint_url=record["endpoint_url"],
            region_name=record["region"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 (the emulator's fixed test key)
        )
        assert self.bucket == record["outputs"]["backup_bucket_names"]["db-backups"]

    def keys(self, below: str) -> set[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/{self.server}/{below}/"
        )
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def wal(self, segment: str) -> str:
        """The key barman-cloud-wal-archive gives a segment (gzip, under its timeline and log)."""
        return f"{self.prefix}/{self.server}/wals/{segment[:16]}/{segment}.gz"


@pytest.fixture(scope="module")
def archive(converged) -> Archive:
    return Archive()


@pytest.fixture(scope="module")
def status(converged) -> dict:
    """The backup container's status once its first round is done (it starts with the pod)."""
    deadline = time.time() + 120
    while time.time() < deadline:
        if STATUS_FILE.is_file():
            found = json.loads(STATUS_FILE.read_text())
            if found["last_backup_id"] and not found["last_error"]:
                return found
        time.sleep(2)
    pytest.fail(f"no base backup in {STATUS_FILE} after 120 s: {STATUS_FILE.read_text()}")


def test_the_archive_holds_the_base_backup_the_status_names(archive, status):
    base = archive.keys("base")
    assert f"{archive.prefix}/{archive.server}/base/{status['last_backup_id']}/backup.info" in base
    assert any(key.endswith("/data.tar.gz") for key in base), sorted(base)
    assert set(status) == {"last_backup_id", "last_backup_end", "last_success_unix", "last_error"}
    assert abs(status["last_success_unix"] - time.time()) < 2 * int(BACKUP["base_backup_interval"])
    prom = (STATUS_FILE.resolve().parent / "titanic_backup.prom").read_text()
    assert f"titanic_backup_last_success_timestamp_seconds {status['last_success_unix']}" in prom


def wait_for_a_quiet_archive(limit: float, timeout: float = 720) -> None:
    """The latency is measured when nothing else uploads into the same emulator: the backup
    container's round since the server (re)started is done (its first round may take a base
    backup), no base backup runs, none is due within the measurement, and no earlier segment
    waits for the archiver."""
    started = float(psql("SELECT extract(epoch FROM pg_postmaster_start_time())"))
    interval = int(BACKUP["base_backup_interval"])
    quiet = (
        "SELECT (SELECT count(*) FROM pg_stat_activity"
        " WHERE application_name = 'barman_cloud_backup')"
        " + (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready')"
    )
    deadline = time.time() + timeout
    while True:
        round_done = STATUS_FILE.is_file() and STATUS_FILE.stat().st_mtime >= started
        if round_done and psql(quiet) == "0":
            next_due = json.loads(STATUS_FILE.read_text())["last_success_unix"] + interval
            if next_due - time.time() > limit + 30:
                return
        assert time.time() < deadline, (
            f"the archive was not quiet within {timeout:.0f} s: {STATUS_FILE.read_text()}"
        )
        time.sleep(1)


def restart_the_database_pod(timeout: float = 120) -> None:
    """Restart the pod and wait until its server answers: the promise holds from a start on."""
    subprocess.run(["podman", "pod", "restart", DB_POD], check=True, capture_output=True, text=True)
    deadline = time.time() + timeout
    while True:
        try:
            psql("SELECT 1")
            return
        except subprocess.CalledProcessError:
            assert time.time() < deadline, f"{DB_POD} did not answer {timeout:.0f} s after restart"
            time.sleep(1)


def test_a_write_reaches_the_archive_within_archive_timeout(archive, status):
    """Measured right after a restart without a base backup: PostgreSQL's checkpointer, which
    switches segments on archive_timeout, sleeps for checkpoint_timeout after a clean start unless
    something wakes it (the pod's entrypoint does)."""
    limit = seconds(BACKUP["archive_timeout"]) + SLACK
    restart_the_database_pod()
    wait_for_a_quiet_archive(limit)
    psql("CREATE TABLE IF NOT EXISTS titanic_backup_probe (written_at timestamptz NOT NULL)")
    try:
        # The segment of the insert's own WAL, read in the same statement: a switch between two
        # statements would name the next segment, archived only after another archive_timeout.
        segment = psql(
            "WITH probe AS (INSERT INTO titanic_backup_probe VALUES (now()) RETURNING 1)"
            " SELECT pg_walfile_name(pg_current_wal_insert_lsn()) FROM probe"
        )
        written = time.time()
        key = archive.wal(segment)
        while key not in archive.keys(f"wals/{segment[:16]}"):
            if time.time() - written > limit:
                archiver = psql(
                    "SELECT archived_count, last_archived_wal, failed_count FROM pg_stat_archiver"
                )
                pytest.fail(f"{key} not archived {limit:.0f} s after the write: {archiver}")
            time.sleep(0.5)
        print(
            f"the write's WAL segment {segment} was archived {time.time() - written:.1f} s after it"
        )
    finally:
        psql("DROP TABLE IF EXISTS titanic_backup_probe")


def test_prometheus_has_the_series_the_backup_alerts_read(status):
    # The alerts' series: node exporter's textfile (the backup container's status), the exporter's.
    queries = {
        name: f'{name}{{job="{job}"}}'
        for name, job in [
            ("titanic_backup_last_success_timestamp_seconds", "node"),
            ("pg_stat_archiver_failed_count", "postgresql"),
            ("pg_archive_ready_oldest_age_seconds", "postgresql"),
        ]
    }
    found: dict[str, list] = {}
    deadline = time.time() + 60
    while time.time() < deadline:
        for name, query in queries.items():
            answer = requests.get(f"{PROMETHEUS}/api/v1/query", params={"query": query}, timeout=5)
            found[name] = answer.json()["data"]["result"]
        if all(found.values()):
            break
        time.sleep(5)
    missing = sorted(name for name, result in found.items() if not result)
    assert not missing, f"Prometheus has no {missing}"
    newest = float(found["titanic_backup_last_success_timestamp_seconds"][0]["value"][1])
    assert newest >= status["last_success_unix"]
    rules = requests.get(f"{PROMETHEUS}/api/v1/rules", timeout=5).json()["data"]["groups"]
    backup = next(group for group in rules if group["name"] == "titanic-backup")
    states = {rule["name"]: rule["state"] for rule in backup["rules"]}
    assert states == dict.fromkeys(
        ["TitanicWalArchivingFailing", "TitanicWalArchiveStalled", "TitanicBaseBackupTooOld"],
        "inactive",
    ), states
