"""Disaster recovery of the local database (playbooks/dr, role db_recovery): a point-in-time
restore (a row written after the target is gone, one written before it is there), a latest restore
of the running database that keeps every row, verify's freshness check, and the guards: a wrong
dr_environment, an in-place restore without its confirmation. The fire drill runs in Molecule
deploy_local (its side_effect)."""

from __future__ import annotations

import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

API = "http://127.0.0.1:8080"
DB_CONTAINER = "titanic-postgresql-postgres"
BACKUP_CONTAINER = "titanic-postgresql-backup"
POSTGRESQL_DIR = Path("/var/lib/titanic-ops/local/postgresql")
DATA_DIR = POSTGRESQL_DIR / "data"
LOCAL = "-e dr_environment=local"

pytestmark = pytest.mark.timeout(900)


def _psql(sql: str, database: str = "titanic") -> str:
    """One statement over the server container's socket, as the superuser (peer)."""
    return subprocess.run(
        ["podman", "exec", DB_CONTAINER, "psql", "-U", "postgres", "-d", database, "-AtXqc", sql],
        check=True,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    ).stdout.strip()


def _measure() -> tuple[int, str]:
    rows, checksum = _psql(
        "SELECT count(*) || ' ' || md5(coalesce(string_agg(p::text, E'\\n' ORDER BY p.uuid), ''))"
        " FROM people p"
    ).split()
    return int(rows), checksum


def _archive_now() -> None:
    """Close the current WAL segment and wait until the archive has it (what archive_timeout does
    within seconds), so that a restore finds every write made so far."""
    segment = _psql("SELECT pg_walfile_name(pg_switch_wal())", "postgres")
    deadline = time.monotonic() + 60
    archived = "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver"
    while _psql(archived, "postgres") < segment:
        assert time.monotonic() < deadline, f"{segment} not archived within 60 s"
        time.sleep(0.5)


def _base_backup_now() -> None:
    subprocess.run(
        ["podman", "exec", BACKUP_CONTAINER, "titanic-backup", "now"],
        check=True,
        capture_output=True,
        text=True,
    )


def _post(name: str) -> str:
    person = {
        "survived": True,
        "passengerClass": 2,
        "name": name,
        "sex": "male",
        "age": 40,
        "siblingsOrSpousesAboard": 0,
        "parentsOrChildrenAboard": 0,
        "fare": 13.0,
    }
    answer = requests.post(f"{API}/people", json=person, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["uuid"]


@pytest.fixture
def replaced_data_dirs():
    """Data directories a restore keeps beside the restored one are removed afterwards."""
    before = set(POSTGRESQL_DIR.glob("data.replaced-*"))
    yield
    for path in set(POSTGRESQL_DIR.glob("data.replaced-*")) - before:
        shutil.rmtree(path)


def test_restore_to_a_point_in_time(converged, run_playbook, replaced_data_dirs):
    before = _measure()
    kept = _post("dr-pitr written before the target")
    time.sleep(1.5)
    target = datetime.now(UTC).isoformat(timespec="seconds")
    time.sleep(1.5)
    lost = _post("dr-pitr written after the target")
    assert any(p["uuid"] == lost for p in requests.get(f"{API}/people", timeout=10).json())
    _archive_now()
    # A base backup after the target: the restore starts from an older one, and the new timeline
    # branches off before this one, which test_latest_restore_... must then pass over.
    _base_backup_now()

    run = run_playbook("playbooks/dr/restore.yml", cmdline=f"{LOCAL} -e dr_target_time={target}")
    assert run.status == "successful", run.failures or run.stdout[-4000:]

    assert requests.get(f"{API}/readyz", timeout=5).status_code == 200
    assert requests.get(f"{API}/people/{kept}", timeout=10).status_code == 200
    assert requests.get(f"{API}/people/{lost}", timeout=10).status_code == 404
    # The list too: the restore renews the database epoch the API's list cache is keyed on.
    listed = {p["uuid"] for p in requests.get(f"{API}/people", timeout=10).json()}
    assert kept in listed and lost not in listed
    # The replaced data directory is kept: it still has the row written after the target.
    assert list(POSTGRESQL_DIR.glob("data.replaced-*"))
    assert _psql("SELECT pg_is_in_recovery()", "postgres") == "f"
    assert requests.delete(f"{API}/people/{kept}", timeout=10).status_code in (200, 204)
    assert _measure() == before


def test_latest_restore_of_the_running_database_keeps_every_row(
    converged, run_playbook, replaced_data_dirs
):
    """After the point-in-time restore, the archive's newest base backup is on the timeline that
    restore left: the latest restore starts from one the newest timeline descends from."""
    written = _post("dr-latest written just before the restore")
    before = _measure()
    run = run_playbook("playbooks/dr/restore.yml", cmdline=LOCAL)
    assert run.status == "successful", run.failures or run.stdout[-4000:]
    assert _measure() == before
    # The clean stop's read-only setting stays with the replaced copy only: the restored one writes.
    assert requests.delete(f"{API}/people/{written}", timeout=10).status_code in (200, 204)


def test_verify_reports_a_fresh_archive_and_fails_a_stale_one(converged, run_playbook):
    fresh = run_playbook("playbooks/dr/verify.yml", cmdline=LOCAL)
    assert fresh.status == "successful", fresh.failures or fresh.stdout[-4000:]
    assert fresh.total("changed") == 0
    assert "newest_backup_age_seconds" in fresh.stdout
    # A limit the newest base backup cannot meet: the check fails and says where to look.
    stale = run_playbook(
        "playbooks/dr/verify.yml",
        cmdline=f"{LOCAL} -e db_recovery_podman_backup_max_age_seconds=-1",
    )
    assert stale.status == "failed"
    refusal = "Backup freshness of the local database"
    assert any(refusal in failure for failure in stale.failures), stale.failures
    assert stale.total("changed") == 0


@pytest.mark.parametrize("playbook", ["backup", "restore", "drill", "verify"])
def test_the_guard_refuses_another_environment(run_playbook, playbook):
    run = run_playbook(f"playbooks/dr/{playbook}.yml", cmdline="-e dr_environment=prod")
    assert run.status == "failed"
    assert any("-e dr_environment=local" in failure for failure in run.failures), run.failures
    assert run.total("changed") == 0


def test_in_place_without_confirmation_is_refused_and_changes_nothing(converged, run_playbook):
    container = subprocess.run(
        ["podman", "container", "inspect", "--format", "{{.Id}}", DB_CONTAINER],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    before = _measure()
    run = run_playbook("playbooks/dr/restore.yml", cmdline=f"{LOCAL} -e dr_mode=in_place")
    assert run.status == "failed"
    assert any("dr_confirm_in_place=true" in failure for failure in run.failures), run.failures
    assert run.total("changed") == 0
    assert (DATA_DIR / "PG_VERSION").exists()
    assert (
        subprocess.run(
            ["podman", "container", "inspect", "--format", "{{.Id}}", DB_CONTAINER],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        == container
    )
    assert _measure() == before


def test_a_target_before_every_base_backup_is_refused_and_the_server_keeps_its_writes(
    converged, run_playbook
):
    """The base backup is chosen before anything changes: a refusal leaves the running server
    taking writes, not in the read-only state a restore's clean stop puts it in."""
    before = _measure()
    run = run_playbook(
        "playbooks/dr/restore.yml", cmdline=f"{LOCAL} -e dr_target_time=2000-01-01T00:00:00+00:00"
    )
    assert run.status == "failed"
    assert any(
        "No completed base backup" in f and "Nothing was changed." in f for f in run.failures
    )
    assert run.total("changed") == 0
    assert _measure() == before
    assert _psql("SHOW default_transaction_read_only", "postgres") == "off"
    uuid = _post("Refused Restore Sentinel")
    assert requests.delete(f"{API}/people/{uuid}", timeout=10).status_code == 204
