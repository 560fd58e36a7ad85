"""Verify the deploy stage's local target (`molecule verify`): the API and PostgreSQL pods that
playbooks/deploy.yml made from the rendered manifests, after side_effect rolled out molecule-2, and
the database's backup archive in the scenario's emulated S3."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import boto3
import pytest
import requests
import yaml

API = os.environ.get("MOLECULE_DEPLOY_API", "http://127.0.0.1:18080")
API_POD = os.environ.get("MOLECULE_DEPLOY_API_POD", "titanic-api-molecule-pod-0")
DB_POD = os.environ.get("MOLECULE_DEPLOY_DB_POD", "titanic-postgresql-molecule")
IMAGE = os.environ.get("MOLECULE_DEPLOY_IMAGE", "localhost/titanic-api")
DB_PORT = os.environ.get("MOLECULE_DEPLOY_DB_PORT", "15432")
STATE_DIR = os.environ.get("MOLECULE_DEPLOY_STATE_DIR", "/tmp/molecule-deploy-local")  # noqa: S108
# The local inventory's RTO and RPO objectives; the report of side_effect's drill (dr_drill_report).
LOCAL_DR_OBJECTIVES = (
    Path(__file__).resolve().parents[3] / "inventories" / "local" / "group_vars" / "all" / "dr.yml"
)
DRILL_REPORT = f"{STATE_DIR}/drill.json"
S3 = os.environ.get("MOLECULE_DEPLOY_S3", "http://127.0.0.1:14566")
BACKUP_BUCKET = os.environ.get("MOLECULE_DEPLOY_BACKUP_BUCKET", "titanic-molecule-db-backups")
# postgresql_pod_backup's default prefix and server name: s3://<bucket>/postgresql, server titanic.
ARCHIVE = "postgresql/titanic"
PASSENGERS = 887
PERSON = {
    "survived": True,
    "passengerClass": 2,
    "name": "Molecule Verifier",
    "sex": "female",
    "age": 0.42,
    "siblingsOrSpousesAboard": 0,
    "parentsOrChildrenAboard": 2,
    "fare": 13.5,
}


def inspect(host, kind: str, name: str) -> dict:
    result = host.run(f"podman {kind} inspect {name}")
    assert result.rc == 0, result.stderr
    data = json.loads(result.stdout)
    return data[0] if isinstance(data, list) else data


def wait_for(url: str, status: int, seconds: float = 45) -> int:
    deadline = time.monotonic() + seconds
    got = -1
    while time.monotonic() < deadline:
        try:
            got = requests.get(url, timeout=3).status_code
        except requests.RequestException:
            got = -1
        if got == status:
            break
        time.sleep(0.5)
    return got


@pytest.mark.parametrize("pod", [API_POD, DB_POD])
def test_pod_runs(host, pod):
    assert inspect(host, "pod", pod)["State"] == "Running"


@pytest.mark.parametrize("container", [f"{API_POD}-api", f"{DB_POD}-postgres", f"{DB_POD}-backup"])
def test_container_runs_as_a_high_uid_with_read_only_root(host, container):
    data = inspect(host, "container", container)
    assert data["State"]["Running"] is True
    assert int(data["Config"]["User"].split(":")[0]) >= 10000  # outside every host's account range
    assert data["HostConfig"]["ReadonlyRootfs"] is True
    assert data["HostConfig"]["CapAdd"] in (None, [])
    # the process itself, not only the configuration: real, effective, saved and filesystem UIDs
    status = host.file(f"/proc/{data['State']['Pid']}/status").content_string
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    assert len(uids) == 4 and min(int(uid) for uid in uids) >= 10000, uids


def test_new_tag_rolled_out(host):
    data = inspect(host, "container", f"{API_POD}-api")
    assert data["ImageName"] == f"{IMAGE}:molecule-2"
    metrics = requests.get(f"{API}/metrics", timeout=5).text
    assert 'titanic_build_info{revision="molecule-2"' in metrics
    # one API pod, and the migration pods are gone
    names = host.run("podman pod ps --format '{{.Name}}'").stdout.split()
    assert [n for n in names if n.startswith(API_POD.removesuffix("-pod-0"))] == [API_POD]


def test_podman_ran_the_render_and_keeps_the_credentials_private(host):
    index = json.loads(host.file(f"{STATE_DIR}/deploy/manifests.json").content_string)
    assert index["target"] == "podman"
    assert {o["kind"] for o in index["objects"]} == {"ConfigMap", "Secret", "Job", "Deployment"}
    deployment = next(o for o in index["objects"] if o["kind"] == "Deployment")
    assert f"{deployment['name']}-pod-0" == API_POD
    for name in ("podman-secret.json", "podman-kube.yaml"):
        assert host.file(f"{STATE_DIR}/deploy/{name}").mode == 0o600, name
    assert host.run(f"podman secret inspect {deployment['name']}-db").rc == 0


def test_migration_seeded_the_passengers():
    response = requests.get(f"{API}/people", timeout=10)
    assert response.status_code == 200
    people = response.json()
    assert len(people) == PASSENGERS
    assert set(people[0]) == {"uuid", *PERSON}


def test_contract_basics_through_the_published_port():
    created = requests.post(f"{API}/people", json=PERSON, timeout=5)
    assert created.status_code == 201
    person = created.json()
    assert {k: person[k] for k in PERSON} == PERSON
    assert created.headers["Location"].endswith(person["uuid"])
    url = f"{API}/people/{person['uuid']}"
    assert requests.get(url, timeout=5).json() == person
    replaced = requests.put(url, json={**PERSON, "age": 31}, timeout=5)
    assert replaced.status_code == 200 and replaced.json()["age"] == 31
    assert requests.delete(url, timeout=5).status_code == 204
    assert requests.get(url, timeout=5).status_code == 404

    bad = requests.post(f"{API}/people", json={**PERSON, "passengerClass": 4}, timeout=5)
    assert bad.status_code == 400
    assert bad.headers["Content-Type"].startswith("application/problem+json")
    assert bad.json()["status"] == 400
    assert requests.get(f"{API}/people/not-a-uuid", timeout=5).status_code == 404
    assert (
        requests.get(f"{API}/people", headers={"X-Request-ID": "molecule-1"}, timeout=5).headers[
            "X-Request-ID"
        ]
        == "molecule-1"
    )


def test_readiness_fails_without_the_database_pod_and_recovers(host):
    kept = requests.post(f"{API}/people", json=PERSON, timeout=5).json()
    assert host.run(f"podman pod stop {DB_POD}").rc == 0
    try:
        assert wait_for(f"{API}/readyz", 503) == 503
        assert requests.get(f"{API}/healthz", timeout=5).status_code == 200
        assert requests.get(f"{API}/people", timeout=10).status_code == 503
    finally:
        assert host.run(f"podman pod start {DB_POD}").rc == 0
    assert wait_for(f"{API}/readyz", 200) == 200
    # the same API process recovered, and the data outlived the database pod's restart
    assert requests.get(f"{API}/people/{kept['uuid']}", timeout=5).json() == kept
    requests.delete(f"{API}/people/{kept['uuid']}", timeout=5)


def test_the_database_archives_its_wal_and_a_base_backup(host):
    s3 = boto3.client(
        "s3",
        endpoint_url=S3,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 (the emulator's fixed test key)
    )
    deadline = time.monotonic() + 120
    status, keys = {}, set()
    while time.monotonic() < deadline:
        status_file = host.file(f"{STATE_DIR}/postgresql/backup-status.json")
        status = json.loads(status_file.content_string) if status_file.exists else {}
        listed = s3.list_objects_v2(Bucket=BACKUP_BUCKET, Prefix=f"{ARCHIVE}/")
        keys = {item["Key"] for item in listed.get("Contents", [])}
        if status.get("last_backup_id") and any("/wals/" in key for key in keys):
            break
        time.sleep(2)
    assert status.get("last_error") is None, status
    assert f"{ARCHIVE}/base/{status.get('last_backup_id')}/backup.info" in keys, (status, keys)
    # Over the pod's socket, which is named after the scenario's port.
    archiver = host.run(
        "podman exec %s psql -U postgres -p %s -At -c %s",
        f"{DB_POD}-postgres",
        DB_PORT,
        "SELECT archived_count, last_archived_wal FROM pg_stat_archiver",
    )
    assert archiver.rc == 0, archiver.stderr
    archived, last_wal = archiver.stdout.strip().split("|")
    assert int(archived) > 0
    # Listed after the archiver's answer: the segment it names as archived is in the bucket.
    listed = s3.list_objects_v2(Bucket=BACKUP_BUCKET, Prefix=f"{ARCHIVE}/wals/{last_wal[:16]}/")
    assert f"{ARCHIVE}/wals/{last_wal[:16]}/{last_wal}.gz" in {
        item["Key"] for item in listed.get("Contents", [])
    }


def test_the_drill_met_its_objectives_and_left_the_data_as_found(host):
    """side_effect's fire drill (playbooks/dr/drill.yml): the database destroyed under a steady
    stream of writes and restored from the archive, within the local inventory's objectives."""
    objectives = yaml.safe_load(LOCAL_DR_OBJECTIVES.read_text())
    rto, rpo = (
        objectives["dr_drill_rto_objective_seconds"],
        objectives["dr_drill_rpo_objective_seconds"],
    )
    report = host.file(DRILL_REPORT)
    assert report.exists, f"side_effect's drill wrote no {DRILL_REPORT}"
    measured = json.loads(report.content_string)
    assert measured["acknowledged_before_destruction"] >= 15
    assert measured["failed_writes"] > 0, "the writes never failed: was the database destroyed?"
    assert 0 < measured["rto_seconds"] <= rto
    assert 0 <= measured["rpo_seconds"] <= rpo
    assert measured["lost_older_than_objective"] == 0, measured["lost"]
    assert measured["data_as_found"]
    leftover = host.run(
        "podman exec %s psql -U postgres -p %s -d titanic -At -c %s",
        f"{DB_POD}-postgres",
        DB_PORT,
        "SELECT count(*) FROM people WHERE name LIKE 'dr-drill %'",
    )
    assert leftover.rc == 0, leftover.stderr
    assert leftover.stdout.strip() == "0"
