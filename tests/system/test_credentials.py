"""The local system's credentials: the API's login from the emulator's Secrets Manager, its
rotation under a steady stream of reads and writes (none fails: the pods roll through a surge pod on
the same port, then the database changes over), write tokens on and off, and TLS to the database
with verify-full."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import boto3
import psycopg2
import pytest
import requests
from local_pods import api_pod_id

API = "http://127.0.0.1:8080"
API_CONTAINER = "titanic-api-pod-0-api"
DB_POD = "titanic-postgresql"
STATE_DIR = Path("/var/lib/titanic-ops/local")
CA_FILE = STATE_DIR / "postgresql" / "tls" / "ca.crt"
PLATFORM_RECORD = STATE_DIR / "records" / "platform.json"
TOKEN = "system-test-write-token"  # noqa: S105 (a token of this test's own)

pytestmark = pytest.mark.timeout(1200)


def _person(name: str) -> dict:
    return {
        "survived": True,
        "passengerClass": 3,
        "name": name,
        "sex": "female",
        "age": 30,
        "siblingsOrSpousesAboard": 0,
        "parentsOrChildrenAboard": 0,
        "fare": 7.25,
    }


def _api_secret() -> dict:
    """The API's secret in the emulator's Secrets Manager, as the platform record names it."""
    record = json.loads(PLATFORM_RECORD.read_text())
    client = boto3.client(
        "secretsmanager",
        endpoint_url=record["endpoint_url"],
        region_name=record["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 (the emulator's fixed test key)
    )
    secret_id = record["outputs"]["api_db_secret_name"]
    return json.loads(client.get_secret_value(SecretId=secret_id)["SecretString"])


def _connect(user: str, password: str, sslmode: str = "verify-full"):
    return psycopg2.connect(
        host="127.0.0.1",
        port=5432,
        dbname="titanic",
        user=user,
        password=password,
        sslmode=sslmode,
        sslrootcert=str(CA_FILE),
        connect_timeout=5,
    )


def _container_env(container: str) -> dict:
    env = subprocess.run(
        ["podman", "container", "inspect", "--format", "{{json .Config.Env}}", container],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(item.split("=", 1) for item in json.loads(env))


class RequestStream:
    """Reads and writes, one fresh connection each, from two threads until stopped; every answer
    that is not the expected one is a failure (a status, a refused or reset connection)."""

    def __init__(self, writes: bool = True) -> None:
        self.stop = threading.Event()
        self.counts = {"read": 0, "write": 0}
        self.failures: list[str] = []
        self._threads = [threading.Thread(target=self._reads, daemon=True)]
        if writes:
            self._threads.append(threading.Thread(target=self._writes, daemon=True))

    def __enter__(self) -> RequestStream:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _check(self, kind: str, call, *expected: int):
        try:
            response = call()
        except requests.RequestException as error:
            self.failures.append(f"{kind}: {type(error).__name__}: {error}")
            return None
        self.counts[kind] += 1
        if response.status_code not in expected:
            self.failures.append(f"{kind}: {response.status_code} {response.text[:200]}")
            return None
        return response

    def _reads(self) -> None:
        while not self.stop.is_set():
            self._check("read", lambda: requests.get(f"{API}/people", timeout=10), 200)
            time.sleep(0.02)

    def _writes(self) -> None:
        number = 0
        while not self.stop.is_set():
            number += 1
            self._write_one(f"Stream {number}")
            time.sleep(0.05)

    def _write_one(self, name: str) -> None:
        created = self._check(
            "write",
            lambda: requests.post(f"{API}/people", json=_person(name), timeout=10),
            201,
        )
        if created is None:
            return
        url = f"{API}/people/{created.json()['uuid']}"
        self._check("write", lambda: requests.put(url, json=_person(f"{name} b"), timeout=10), 200)
        self._check("write", lambda: requests.delete(url, timeout=10), 200, 204)


def test_rotation_under_load_fails_no_request(converged, run_playbook):
    before = _api_secret()
    with RequestStream() as stream:
        time.sleep(2)
        rotated = run_playbook(
            "playbooks/rotate-db-credentials.yml",
            cmdline="-e rotate_db_credentials_environment=local",
        )
        time.sleep(2)
    assert rotated.status == "successful", rotated.failures or rotated.stdout[-4000:]
    assert stream.failures == [], stream.failures[:20]
    assert stream.counts["read"] > 50 and stream.counts["write"] > 30, stream.counts
    # The pods rolled through a surge pod, and the bootstrap changed the database's login.
    assert "Ensure the surge pod runs the rollout" in rotated.changed_tasks, rotated.changed_tasks
    after = _api_secret()
    assert after["password"] != before["password"]
    assert after["previous_password"] == before["password"]
    assert after["username"] == before["username"]
    env = _container_env(API_CONTAINER)
    assert env["POSTGRES_PASSWORD"] == after["password"]
    assert env["POSTGRES_PASSWORD_PREVIOUS"] == before["password"]
    _connect(after["username"], after["password"]).close()
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        _connect(after["username"], before["password"])
    # Nothing is left to do: a deploy rolls nothing and the bootstrap changes nothing.
    again = run_playbook("playbooks/deploy.yml")
    assert again.status == "successful", again.failures
    assert all(
        task.startswith("Ensure the manifests and their index") for task in again.changed_tasks
    ), again.changed_tasks


def test_rotation_refuses_an_environment_not_named(converged, run_playbook):
    before = _api_secret()
    refused = run_playbook(
        "playbooks/rotate-db-credentials.yml", cmdline="-e rotate_db_credentials_environment=prod"
    )
    assert refused.status == "failed"
    assert "name it to confirm" in " ".join(refused.failures), refused.failures
    assert refused.total("changed") == 0
    assert _api_secret() == before


def test_writes_need_a_token_when_tokens_are_configured(converged, run_playbook):
    tokens = (
        "-e titanic_manifests_write_tokens_enabled=true"
        f""" -e '{{"titanic_manifests_write_tokens": ["{TOKEN}"]}}'"""
    )
    before = api_pod_id()
    try:
        # Reads only: writes are refused from the moment the surge pod with the tokens answers.
        with RequestStream(writes=False) as stream:
            on = run_playbook("playbooks/deploy.yml", cmdline=tokens)
        assert on.status == "successful", on.failures
        tokened = api_pod_id()
        assert tokened != before, "a changed configuration did not roll the pod"
        assert stream.failures == [], stream.failures[:20]
        assert stream.counts["read"] > 50, stream.counts

        refused = requests.post(f"{API}/people", json=_person("No Token"), timeout=10)
        assert refused.status_code == 401
        assert refused.headers["Content-Type"].startswith("application/problem+json")
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        wrong = {"Authorization": "Bearer not-the-token"}
        assert (
            requests.post(
                f"{API}/people", json=_person("Wrong"), headers=wrong, timeout=10
            ).status_code
            == 401
        )
        allowed = {"Authorization": f"Bearer {TOKEN}"}
        created = requests.post(
            f"{API}/people", json=_person("With Token"), headers=allowed, timeout=10
        )
        assert created.status_code == 201, created.text
        uuid = created.json()["uuid"]
        assert requests.get(f"{API}/people/{uuid}", timeout=10).status_code == 200
        assert requests.delete(f"{API}/people/{uuid}", timeout=10).status_code == 401
        deleted = requests.delete(f"{API}/people/{uuid}", headers=allowed, timeout=10)
        assert deleted.status_code in (200, 204)
    finally:
        off = run_playbook("playbooks/deploy.yml")
    assert off.status == "successful", off.failures
    # The configuration is the inventory's again: the pod rolled back; that an unchanged one rolls
    # nothing is test_local_site's (a second site.yml, and a deploy after a refused tag).
    assert api_pod_id() != tokened, "the pod did not roll back to the inventory's configuration"
    created = requests.post(f"{API}/people", json=_person("Open Again"), timeout=10)
    assert created.status_code == 201, "writes are open again without tokens"
    requests.delete(f"{API}/people/{created.json()['uuid']}", timeout=10)


def test_database_tls_is_verify_full(converged):
    env = _container_env(API_CONTAINER)
    assert env["POSTGRES_SSLMODE"] == "verify-full"
    assert Path(env["POSTGRES_SSLROOTCERT"]).name == "ca.crt"
    credentials = _api_secret()
    connection = _connect(credentials["username"], credentials["password"])
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            assert cursor.fetchone() == (True,)
    finally:
        connection.close()
    with pytest.raises(psycopg2.OperationalError, match="no encryption|pg_hba.conf"):
        _connect(credentials["username"], credentials["password"], sslmode="disable")


def test_database_login_drift_is_repaired_by_the_bootstrap(converged, run_playbook):
    """The API's login with another password (say, set by hand): the next deploy's bootstrap
    resets it."""
    credentials = _api_secret()
    subprocess.run(
        ["podman", "exec", "-i", f"{DB_POD}-postgres", "psql", "-U", "postgres", "-q"],
        input=f"ALTER ROLE {credentials['username']} PASSWORD 'not-the-secret';\n",
        check=True,
        capture_output=True,
        text=True,
    )
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        _connect(credentials["username"], credentials["password"])
    repaired = run_playbook("playbooks/deploy.yml")
    assert repaired.status == "successful", repaired.failures
    assert any("whether it changed anything" in task for task in repaired.changed_tasks), (
        repaired.changed_tasks
    )
    _connect(credentials["username"], credentials["password"]).close()
    assert requests.get(f"{API}/readyz", timeout=5).status_code == 200
