"""The dashboards against the live local Prometheus: every query is accepted, the API's
request-rate panel shows the traffic the test sends, and every query but the cluster-only ones
returns data (so the metric names the dashboards use are the ones the local exporters serve).

Runs only where a Prometheus answers on 127.0.0.1:9090 once the local system has converged."""

from __future__ import annotations

import json
import time

import pytest
import requests

PROMETHEUS = "http://127.0.0.1:9090"
API = "http://127.0.0.1:8080"
PLAYBOOK = "tests/monitoring/render_dashboards.yml"
UIDS = ["titanic-api", "titanic-database"]
# What Grafana puts in place of its macros and variables before a query reaches Prometheus.
SUBSTITUTIONS = {"$__rate_interval": "1m"}
# (dashboard, panel, query) reading cAdvisor's container series: only a cluster's kubelet has them.
CLUSTER_ONLY = {("titanic-api", "CPU", "A"), ("titanic-api", "Memory", "A")}


def prometheus_ready() -> bool:
    try:
        return requests.get(f"{PROMETHEUS}/-/ready", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def instant_query(expr: str) -> dict:
    for macro, value in SUBSTITUTIONS.items():
        expr = expr.replace(macro, value)
    response = requests.get(f"{PROMETHEUS}/api/v1/query", params={"query": expr}, timeout=10)
    return response.json()


@pytest.fixture(scope="module")
def prometheus(converged):
    if not prometheus_ready():
        pytest.skip(f"no Prometheus answers on {PROMETHEUS}")
    return PROMETHEUS


@pytest.fixture(scope="module")
def dashboards(run_playbook, tmp_path_factory):
    dest = tmp_path_factory.mktemp("live-dashboards") / "dashboards"
    run = run_playbook(PLAYBOOK, cmdline=f"-e monitoring_dashboards_dest={dest}")
    assert run.status == "successful", run.failures or run.stdout[-3000:]
    return {uid: json.loads((dest / f"{uid}.json").read_text()) for uid in UIDS}


def panel_queries(dashboards: dict) -> list[tuple[str, str, dict]]:
    return [
        (uid, panel["title"], target)
        for uid, dashboard in dashboards.items()
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


def test_every_panel_query_is_accepted(prometheus, dashboards):
    queries = panel_queries(dashboards)
    assert queries
    for uid, title, target in queries:
        assert target["datasource"]["uid"] == "${datasource}"  # the one variable Grafana fills in
        answer = instant_query(target["expr"])
        assert answer.get("status") == "success", f"{uid} / {title}: {target['expr']}: {answer}"


def test_request_rate_panel_shows_the_traffic(prometheus, dashboards):
    (panel,) = [
        p
        for p in dashboards["titanic-api"]["panels"]
        if p["title"] == "Request rate by route and status"
    ]
    (target,) = panel["targets"]
    deadline = time.monotonic() + 90
    while True:
        for _ in range(5):  # bounded traffic, loopback only
            assert requests.get(f"{API}/people", timeout=10).status_code == 200
        result = instant_query(target["expr"])["data"]["result"]
        if result or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert result, f"no data for {target['expr']} after 90 s of traffic"
    assert any(series["metric"].get("status") == "200" for series in result), result
    assert all(float(series["value"][1]) >= 0 for series in result)


def test_every_query_but_the_cluster_only_ones_returns_data(prometheus, dashboards):
    expected = [
        (uid, title, target)
        for uid, title, target in panel_queries(dashboards)
        if (uid, title, target["refId"]) not in CLUSTER_ONLY
    ]
    assert len(expected) == len(panel_queries(dashboards)) - len(CLUSTER_ONLY)
    deadline = time.monotonic() + 60  # rates need two scrapes inside their window
    while True:
        requests.get(f"{API}/people", timeout=10)  # keeps the API's rates alive
        empty = [
            f"{uid} / {title} / {target['refId']}: {target['expr']}"
            for uid, title, target in expected
            if not instant_query(target["expr"])["data"]["result"]
        ]
        if not empty or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert not empty, "queries without data: " + "; ".join(empty)
