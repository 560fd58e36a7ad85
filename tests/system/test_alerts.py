"""The local monitoring end to end: Prometheus scrapes the converged system; stopping the API's pod
or the database's makes the matching alert reach the inventory's webhook receiver within a minute,
and it resolves once the pod runs again."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import yaml

REPO = Path(__file__).resolve().parents[2]
INVENTORY = REPO / "inventories" / "local" / "group_vars" / "all"
STATE_DIR = Path(yaml.safe_load((INVENTORY / "environment.yml").read_text())["titanic_state_dir"])
MONITORING = yaml.safe_load((INVENTORY / "monitoring.yml").read_text())
RECEIVER = requests.utils.urlparse(MONITORING["titanic_monitoring_receiver"]["webhook_url"])
PROMETHEUS = "http://127.0.0.1:9090"
# titanic_podman's documented output: the API pod it runs and where the API answers.
PODMAN_HISTORY = STATE_DIR / "deploy" / "podman-history.json"
# Role monitoring_rules' render as Prometheus loads it (monitoring_rules_dest of monitoring_pods).
RULES_FILE = STATE_DIR / "monitoring" / "rules" / "titanic.rules.yml"
REQUIRED_JOBS = {"titanic-api", "postgresql", "node"}
DELIVERY_LIMIT = 60  # seconds from the fault to the notification (the target)
RESOLVE_LIMIT = 120  # seconds from the restart to the resolved notification

pytestmark = pytest.mark.timeout(900)


class Receiver:
    """Alertmanager's webhook notifications, each with the time it arrived."""

    def __init__(self):
        self.notifications: list[tuple[float, dict]] = []
        self.lock = threading.Lock()

    def add(self, payload: dict) -> None:
        with self.lock:
            self.notifications.append((time.time(), payload))

    def wait_for(self, alertname: str, status: str, since: float, timeout: float, starts_at=None):
        """(arrival time, alert): the first alert of that name and status arrived after `since`."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                for arrived, payload in self.notifications:
                    for alert in payload.get("alerts", []):
                        if (
                            arrived >= since
                            and alert["labels"].get("alertname") == alertname
                            and alert["status"] == status
                            and (starts_at is None or alert["startsAt"] == starts_at)
                        ):
                            return arrived, alert
            time.sleep(0.5)
        received = [
            (alert["status"], alert["labels"].get("alertname"))
            for _, payload in self.notifications
            for alert in payload.get("alerts", [])
        ]
        raise AssertionError(
            f"no {status} notification of {alertname} within {timeout:.0f} s; received {received}"
        )


@pytest.fixture(scope="module")
def receiver():
    """A webhook receiver on the address the local inventory gives Alertmanager."""
    received = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path == RECEIVER.path:
                received.add(json.loads(body))
                self.send_response(200)
            else:
                self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((RECEIVER.hostname, RECEIVER.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield received
    server.shutdown()
    server.server_close()


def rule_alerts() -> set[str]:
    groups = yaml.safe_load(RULES_FILE.read_text())["groups"]
    return {rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule}


def api_pod() -> str:
    return json.loads(PODMAN_HISTORY.read_text())["pod"]


def database_pod() -> str:
    """The database's pod, by the labels role postgresql_pod gives it."""
    names = subprocess.run(
        [
            "podman",
            "pod",
            "ps",
            "--filter",
            "label=app.kubernetes.io/component=database",
            "--format",
            "{{.Name}}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert len(names) == 1, f"expected one database pod, found {names}"
    return names[0]


def podman_pod(action: str, pod: str) -> None:
    subprocess.run(["podman", "pod", action, pod], check=True, capture_output=True, text=True)


def targets_up() -> set[str]:
    targets = requests.get(
        f"{PROMETHEUS}/api/v1/targets", params={"state": "active"}, timeout=5
    ).json()
    return {t["labels"]["job"] for t in targets["data"]["activeTargets"] if t["health"] == "up"}


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise AssertionError(f"{what} not within {timeout:.0f} s")


def api_ready() -> bool:
    api_url = json.loads(PODMAN_HISTORY.read_text())["api_url"]
    return requests.get(f"{api_url}/readyz", timeout=5).status_code == 200


def test_prometheus_reports_the_api_database_and_node_up(converged):
    wait_until(
        lambda: REQUIRED_JOBS <= targets_up(),
        30,
        f"Prometheus reporting {sorted(REQUIRED_JOBS)} up",
    )
    pg_up = requests.get(
        f"{PROMETHEUS}/api/v1/query", params={"query": 'pg_up{job="postgresql"}'}, timeout=5
    )
    assert [r["value"][1] for r in pg_up.json()["data"]["result"]] == ["1"], pg_up.text


def record_delivery(alertname: str, delay: float) -> None:
    """The figure docs/SOLUTION.md shows (tools/measurements/collect.py copies it at make docs)."""
    path = STATE_DIR / "measurements" / "alert-delivery.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    figures = json.loads(path.read_text()) if path.exists() else {}
    figures[alertname] = {
        "delivered_after_seconds": round(delay, 1),
        "limit_seconds": DELIVERY_LIMIT,
    }
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


def fault_to_delivery(receiver, capsys, alertname: str, pod: str) -> None:
    """Stop the pod, time the alert's delivery, start the pod again and wait for the resolution."""
    assert alertname in rule_alerts(), f"{alertname} is not in {RULES_FILE}"
    fault = time.time()
    try:
        podman_pod("stop", pod)
        arrived, alert = receiver.wait_for(alertname, "firing", fault, DELIVERY_LIMIT + 30)
        delay = arrived - fault
        with capsys.disabled():
            print(
                f"\nalert {alertname} delivered {delay:.1f} s after the fault (pod {pod} stopped)"
            )
        record_delivery(alertname, delay)
        assert (
            datetime.fromisoformat(alert["startsAt"].replace("Z", "+00:00")).timestamp()
            >= fault - 1
        )
        assert delay <= DELIVERY_LIMIT, (
            f"{alertname} took {delay:.1f} s, more than {DELIVERY_LIMIT} s"
        )
    finally:
        podman_pod("start", pod)
    restart = time.time()
    receiver.wait_for(alertname, "resolved", restart, RESOLVE_LIMIT, starts_at=alert["startsAt"])
    with capsys.disabled():
        print(f"alert {alertname} resolved {time.time() - restart:.1f} s after {pod} started again")


def test_api_pod_stopped_alerts_and_resolves(converged, receiver, capsys):
    try:
        fault_to_delivery(receiver, capsys, "TitanicApiDown", api_pod())
    finally:
        wait_until(api_ready, 120, "the API ready again")


def test_database_pod_stopped_alerts_and_resolves(converged, receiver, capsys):
    try:
        fault_to_delivery(receiver, capsys, "TitanicDatabaseDown", database_pod())
    finally:
        wait_until(api_ready, 120, "the API ready again")
        wait_until(lambda: REQUIRED_JOBS <= targets_up(), 60, "every target up again")


def alertmanager_group_wait() -> str:
    original = requests.get("http://127.0.0.1:9093/api/v2/status", timeout=5).json()["config"][
        "original"
    ]
    return yaml.safe_load(original)["route"]["group_wait"]


def rule_duration(alertname: str) -> float:
    groups = requests.get(f"{PROMETHEUS}/api/v1/rules", timeout=5).json()["data"]["groups"]
    return next(r["duration"] for g in groups for r in g["rules"] if r["name"] == alertname)


def test_changed_configuration_and_rules_take_effect(converged, run_playbook):
    """A changed Alertmanager setting and a changed rule reach the running processes; the
    inventory's values come back."""
    changed = run_playbook(
        "playbooks/monitoring.yml",
        cmdline="-e monitoring_pods_group_wait=7s -e monitoring_rules_down_for=11s",
    )
    try:
        assert changed.status == "successful", changed.failures
        assert alertmanager_group_wait() == "7s"
        assert rule_duration("TitanicApiDown") == 11
    finally:
        back = run_playbook("playbooks/monitoring.yml")
    assert back.status == "successful", back.failures
    assert alertmanager_group_wait() == MONITORING["monitoring_pods_group_wait"]
    assert rule_duration("TitanicApiDown") == seconds(MONITORING["monitoring_rules_down_for"])


def seconds(duration: str) -> int:
    """A Prometheus duration of one unit (10s, 2m, 1h) in seconds."""
    return int(duration[:-1]) * {"s": 1, "m": 60, "h": 3600}[duration[-1]]
