"""The real service: `titanic-api serve` (gunicorn, several workers) as a subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from support import CLI, PostgresCluster, ServerProcess, clean_env, wait_until

PERSON = {
    "survived": True,
    "passengerClass": 1,
    "name": "Mrs. Acknowledged Write",
    "sex": "female",
    "age": 41.5,
    "siblingsOrSpousesAboard": 0,
    "parentsOrChildrenAboard": 1,
    "fare": 80,
}


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def metric_value(text: str, name: str, **labels: str) -> float:
    inner = ",".join(f'{k}="{re.escape(v)}"' for k, v in sorted(labels.items()))
    pattern = rf"^{re.escape(name)}\{{{inner}\}} (\S+)$" if labels else rf"^{name} (\S+)$"
    match = re.search(pattern, text, re.M)
    assert match, f"{name}{labels} not in metrics:\n{text}"
    return float(match.group(1))


@pytest.fixture(scope="module")
def seeded_dsn(new_database) -> str:
    return new_database(seeded=True)[1]


def test_metrics_aggregate_requests_spread_over_workers(seeded_dsn, tmp_path):
    server = ServerProcess(clean_env(DATABASE_URL=seeded_dsn), tmp_path, workers=3).start()
    try:
        people = requests.get(server.url("/people"), timeout=10).json()
        targets = [p["uuid"] for p in people[:40]] * 3  # 120 requests

        def fetch(person_id: str) -> int:
            # a new connection per request, so the kernel hands them to any worker
            r = requests.get(
                server.url(f"/people/{person_id}"), headers={"Connection": "close"}, timeout=10
            )
            return r.status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = list(pool.map(fetch, targets))
        assert statuses == [200] * len(targets)

        text = requests.get(server.url("/metrics"), timeout=10).text
        labels = {"method": "GET", "route": "/people/<uuid>", "status": "200"}
        assert metric_value(text, "titanic_http_requests_total", **labels) == len(targets)
        assert metric_value(text, "titanic_http_request_duration_seconds_count", **labels) == len(
            targets
        )
        assert metric_value(
            text, "titanic_http_request_duration_seconds_bucket", le="+Inf", **labels
        ) == len(targets)
        list_labels = {**labels, "route": "/people"}
        assert metric_value(text, "titanic_http_requests_total", **list_labels) == 1
        assert targets[0] not in text  # route template, never the raw path
        assert metric_value(text, "titanic_build_info", revision="unknown", version="1.0.0") == 1
        # the requests really were served by several worker processes
        served_by = {
            line["pid"]
            for line in json_lines(server.logs())
            if line.get("logger") == "titanic_api.access" and line.get("route") == "/people/<uuid>"
        }
        assert len(served_by) >= 2, served_by
        # every request is over: no connection in use, and each worker that served keeps its own
        assert metric_value(text, "titanic_db_pool_connections", state="in_use") == 0
        assert metric_value(text, "titanic_db_pool_connections", state="idle") >= len(served_by)
    finally:
        assert server.stop() == 0


def test_logs_are_json_with_request_ids_and_sigterm_is_graceful(seeded_dsn, tmp_path):
    server = ServerProcess(
        clean_env(DATABASE_URL=seeded_dsn, TITANIC_REVISION="abc123"), tmp_path, workers=2
    ).start()
    stopped = False
    try:
        r = requests.get(server.url("/people"), headers={"X-Request-ID": "trace-me-42"}, timeout=10)
        assert r.status_code == 200
        assert r.headers["X-Request-ID"] == "trace-me-42"
        r = requests.get(server.url("/people/nope"), timeout=10)
        assert r.status_code == 404
        generated = r.headers["X-Request-ID"]
        uuid.UUID(generated)
        metrics = requests.get(server.url("/metrics"), timeout=10).text
        assert 'titanic_build_info{revision="abc123",version="1.0.0"} 1.0' in metrics
        # SIGTERM is graceful: a request already in progress still gets its answer
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"GET /people HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n")
            time.sleep(0.3)  # the request is half-sent when the signal arrives
            assert server.proc is not None
            server.proc.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            sock.sendall(b"\r\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert answer.rstrip().endswith(b"]")
        assert server.stop() == 0
        stopped = True
    finally:
        if not stopped:
            server.stop()

    lines = json_lines(server.logs())  # every line is JSON, gunicorn's own included
    access = [x for x in lines if x.get("logger") == "titanic_api.access"]
    traced = [x for x in access if x.get("request_id") == "trace-me-42"]
    assert len(traced) == 1
    assert traced[0]["method"] == "GET"
    assert traced[0]["route"] == "/people"
    assert traced[0]["status"] == 200
    assert isinstance(traced[0]["duration_ms"], float)
    missing = [x for x in access if x.get("request_id") == generated]
    assert missing and missing[0]["status"] == 404 and missing[0]["route"] == "<unmatched>"
    assert any(x.get("logger") == "gunicorn.error" for x in lines)
    assert any("Shutting down" in x.get("message", "") for x in lines)
    # the multiprocess metrics directory `serve` created is removed again
    dirs = [
        m.group(1)
        for x in lines
        if (m := re.match(r"prometheus multiprocess directory: (.+)$", x.get("message", "")))
    ]
    assert len(dirs) == 1
    assert not os.path.exists(dirs[0])


# -- database outage ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def outage_cluster():
    """A PostgreSQL of its own, since this test stops and restarts it."""
    cluster = PostgresCluster()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


def test_outage_gives_503_and_recovers_without_restart(outage_cluster, tmp_path):
    dsn = outage_cluster.create_database("titanic")
    env = clean_env(
        DATABASE_URL=dsn, TITANIC_DB_CONNECT_TIMEOUT="1", TITANIC_THREADS="2", TITANIC_WORKERS="2"
    )
    for action in ("upgrade", "seed"):
        done = subprocess.run([CLI, "db", action], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    server = ServerProcess(env, tmp_path, workers=2).start()
    try:
        assert requests.get(server.url("/readyz"), timeout=5).status_code == 200
        for _ in range(10):  # warm the pools of both workers
            assert requests.get(server.url("/people"), timeout=5).status_code == 200
        created = requests.post(server.url("/people"), json=PERSON, timeout=5)
        assert created.status_code == 201
        person = created.json()

        outage_cluster.stop("fast")
        for _ in range(6):  # whichever worker answers
            for path in ("/readyz", "/people", f"/people/{person['uuid']}"):
                started = time.monotonic()
                r = requests.get(server.url(path), timeout=10)
                assert r.status_code == 503, (path, r.text)
                assert r.headers["Content-Type"] == "application/problem+json"
                body = r.json()
                assert body["status"] == 503
                assert set(body) == {"type", "title", "status", "detail"}
                assert "Traceback" not in r.text and "psycopg2" not in r.text
                assert time.monotonic() - started < 5
            assert requests.get(server.url("/healthz"), timeout=5).status_code == 200
        lost = requests.post(server.url("/people"), json={**PERSON, "name": "Never"}, timeout=10)
        assert lost.status_code == 503

        outage_cluster.start()
        started = time.monotonic()
        ready = wait_until(
            lambda: requests.get(server.url("/readyz"), timeout=5).status_code == 200,
            timeout=15,
            interval=0.2,
        )
        assert ready, "the service did not recover after the database came back"
        assert time.monotonic() - started < 10
        # every worker recovered, with no failed request left over from dead pooled connections
        for _ in range(20):
            r = requests.get(server.url("/people"), headers={"Connection": "close"}, timeout=5)
            assert r.status_code == 200
        people = r.json()
        assert len(people) == 888
        assert person in people  # the write acknowledged before the outage survived
        assert all(p["name"] != "Never" for p in people)
        assert requests.get(server.url(f"/people/{person['uuid']}"), timeout=5).json() == person
        assert server.proc is not None and server.proc.poll() is None  # never restarted
    finally:
        assert server.stop() == 0


def test_database_restart_fails_no_request(outage_cluster, tmp_path):
    """Pools full of connections the restart killed: not one request (not even a write) fails."""
    dsn = outage_cluster.create_database("restart")
    env = clean_env(DATABASE_URL=dsn, TITANIC_THREADS="2", TITANIC_DB_POOL_MIN="2")
    done = subprocess.run([CLI, "db", "upgrade"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    server = ServerProcess(env, tmp_path, workers=2).start()
    try:

        def burst() -> list[int]:
            def one(i: int) -> int:
                if i % 3 == 0:
                    return requests.post(server.url("/people"), json=PERSON, timeout=10).status_code
                return requests.get(server.url("/people"), timeout=10).status_code

            with ThreadPoolExecutor(max_workers=4) as pool:
                return list(pool.map(one, range(24)))

        assert set(burst()) == {200, 201}  # every worker's pool now holds idle connections
        idle_before = metric_value(
            requests.get(server.url("/metrics"), timeout=5).text,
            "titanic_db_pool_connections",
            state="idle",
        )
        assert idle_before >= 2
        outage_cluster.stop("fast")
        outage_cluster.start()
        assert set(burst()) == {200, 201}
        people = requests.get(server.url("/people"), timeout=5).json()
        assert len(people) == 16  # 8 acknowledged writes per burst, none lost
    finally:
        assert server.stop() == 0


# -- load balancer and rollout settings ----------------------------------------------------------
def test_idle_keep_alive_connections_are_closed_after_the_configured_time(seeded_dsn, tmp_path):
    """TITANIC_KEEPALIVE_SECONDS reaches gunicorn (on EKS it must outlive the ALB's 60 s idle
    timeout; 2 s here, to measure it)."""
    env = clean_env(DATABASE_URL=seeded_dsn, TITANIC_THREADS="2", TITANIC_KEEPALIVE_SECONDS="2")
    server = ServerProcess(env, tmp_path, workers=1).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
            for _ in range(2):  # the connection is kept for the next request
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                answer = b""
                while not answer.endswith(b'{"status":"ok"}'):
                    chunk = sock.recv(65536)
                    assert chunk, answer
                    answer += chunk
                assert answer.startswith(b"HTTP/1.1 200")
                assert b"connection: close" not in answer.lower()
            idle_since = time.monotonic()
            assert sock.recv(65536) == b""  # closed by the server
            idle = time.monotonic() - idle_since
        assert 1.5 < idle < 8, idle
    finally:
        assert server.stop() == 0


def test_a_second_server_can_share_the_port_with_reuse_port(seeded_dsn, tmp_path):
    """TITANIC_REUSE_PORT: during a local rollout the new pod binds the loopback port the old
    one still serves; once the old one stops, the new one answers alone."""
    env = clean_env(DATABASE_URL=seeded_dsn, TITANIC_REUSE_PORT="true")
    old = ServerProcess(env, tmp_path, workers=1).start()
    new = ServerProcess(
        env,
        tmp_path,
        workers=1,
        command=[CLI, "serve", "--host", "127.0.0.1", "--port", str(old.port)],
    )
    new.port, new.base_url = old.port, old.base_url
    new.log_path = tmp_path / "server-new.log"

    def served(server: ServerProcess) -> int:
        return sum(
            1
            for line in json_lines(server.logs())
            if line.get("logger") == "titanic_api.access" and line.get("route") == "/people"
        )

    def both_serve() -> bool:
        r = requests.get(old.url("/people"), headers={"Connection": "close"}, timeout=10)
        assert r.status_code == 200
        return served(old) > 0 and served(new) > 0

    try:
        new.start()
        # the kernel spreads new connections over both listening sockets
        assert wait_until(both_serve, timeout=20, interval=0), "the second server never served"
        assert old.stop() == 0
        before = served(new)
        for _ in range(10):
            r = requests.get(new.url("/people"), headers={"Connection": "close"}, timeout=10)
            assert r.status_code == 200
        assert served(new) == before + 10
    finally:
        old.stop()
        assert new.stop() == 0
