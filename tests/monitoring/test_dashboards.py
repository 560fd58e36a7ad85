"""Role monitoring_dashboards: the dashboards it generates with grafana-foundation-sdk have the
panels the issue asks for, query only series the API and the exporters expose (each expression
parsed as PromQL), select them by the contract's job labels, load back through the SDK, and are
rewritten only when their content changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import promql_parser
import pytest
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard
from prometheus_client.parser import text_string_to_metric_families

PLAYBOOK = "tests/monitoring/render_dashboards.yml"
UIDS = ["titanic-api", "titanic-database"]
JOBS = {"api": "titanic-api", "database": "postgresql", "node": "node"}
# Grafana replaces $__rate_interval before the query reaches Prometheus; any valid duration parses.
GRAFANA_MACROS = {"$__rate_interval": "1m"}

# postgres_exporter 0.11.1 (Debian bookworm's prometheus-postgres-exporter, in the local image) with
# its default collectors: pg_up, the builtin pg_stat_database map (gauge numbackends; counters
# xact_commit, xact_rollback, blks_hit, blks_read, exported without a _total suffix), pg_settings
# and the pg_database collector (pg_database_size_bytes, new in 0.11.0).
POSTGRES_EXPORTER = {
    "pg_up",
    "pg_stat_database_numbackends",
    "pg_stat_database_xact_commit",
    "pg_stat_database_xact_rollback",
    "pg_stat_database_blks_hit",
    "pg_stat_database_blks_read",
    "pg_settings_max_connections",
    "pg_database_size_bytes",
}
# node exporter's default cpu and meminfo collectors.
NODE_EXPORTER = {
    "node_cpu_seconds_total",
    "node_memory_MemTotal_bytes",
    "node_memory_MemAvailable_bytes",
}
# cAdvisor through the kubelet, scraped by kube-prometheus-stack: cluster only.
CADVISOR = {"container_cpu_usage_seconds_total", "container_memory_working_set_bytes"}
# Written by Prometheus itself for every scrape.
PROMETHEUS = {"up"}

# Panels the issue asks for, by dashboard.
REQUIRED_PANELS = {
    "titanic-api": {
        "Request rate by route and status",
        "5xx ratio",
        "Latency p50 / p95 / p99",
        "Database pool: in use vs max",
        "CPU",
        "Memory",
        "API targets up",
        "Targets up by job",
    },
    "titanic-database": {
        "PostgreSQL up",
        "Connections vs max_connections",
        "Transactions per second",
        "Database size",
        "Cache hit ratio",
    },
}


def api_exposed_metrics(tmp_path: Path) -> set[str]:
    """Sample names of the API's /metrics as gunicorn serves it (multiprocess mode), every metric
    touched once, read from titanic_api.metrics itself rather than from a list."""
    script = (
        "from titanic_api import metrics\n"
        "metrics.observe_request('GET', '/people', 200, 0.01)\n"
        "metrics.set_pool_gauges(in_use=1, idle=1)\n"
        "metrics.set_pool_max(4)\n"
        "metrics.set_build_info('0', 'test')\n"
        "print(metrics.render()[0].decode())\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "multiproc")}
    body = subprocess.run(
        [sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True
    ).stdout
    return {s.name for f in text_string_to_metric_families(body) for s in f.samples}


def expressions(dashboard: dict) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def selectors(expr: str) -> list[promql_parser.VectorSelector]:
    """Every vector selector of a PromQL expression (those inside range selectors too)."""
    for macro, value in GRAFANA_MACROS.items():
        expr = expr.replace(macro, value)
    found: list[promql_parser.VectorSelector] = []
    promql_parser.walk(
        promql_parser.parse(expr),
        lambda node: found.append(node) if isinstance(node, promql_parser.VectorSelector) else None,
    )
    return found


def equality_matchers(selector: promql_parser.VectorSelector) -> dict[str, str]:
    return {
        m.name: m.value for m in selector.matchers.matchers if m.op == promql_parser.MatchOp.Equal
    }


@pytest.fixture(scope="module")
def rendered(run_playbook, tmp_path_factory):
    """The role run once into a fresh directory: the run, the published fact and the dashboards."""
    scratch = tmp_path_factory.mktemp("dashboards")
    dest, fact_file = scratch / "dashboards", scratch / "fact.json"
    run = run_playbook(
        PLAYBOOK,
        cmdline=f"-e monitoring_dashboards_dest={dest} -e dashboards_fact_file={fact_file}",
    )
    assert run.status == "successful", run.failures or run.stdout[-3000:]
    dashboards = {uid: json.loads((dest / f"{uid}.json").read_text()) for uid in UIDS}
    return {"run": run, "dest": dest, "fact": json.loads(fact_file.read_text()), **dashboards}


def test_the_role_writes_both_dashboards_and_publishes_them(rendered):
    dest = rendered["dest"]
    assert sorted(p.name for p in dest.iterdir()) == [f"{uid}.json" for uid in UIDS]
    files = [str(dest / f"{uid}.json") for uid in UIDS]
    assert rendered["fact"] == {
        "dir": str(dest),
        "files": files,
        "dashboards": [
            {"uid": "titanic-api", "title": "Titanic API", "file": files[0]},
            {"uid": "titanic-database", "title": "Titanic database", "file": files[1]},
        ],
    }
    assert rendered["run"].changed_tasks == [
        "Create the dashboards directory",
        "Generate the dashboards with grafana-foundation-sdk",
        "Write the published fact for the test",
    ]


@pytest.mark.parametrize("uid", UIDS)
def test_dashboard_has_the_panels_a_datasource_variable_and_a_stable_uid(rendered, uid):
    dashboard = rendered[uid]
    assert dashboard["uid"] == uid
    titles = {p["title"] for p in dashboard["panels"] if p["type"] != "row"}
    assert REQUIRED_PANELS[uid] <= titles, f"missing panels: {REQUIRED_PANELS[uid] - titles}"
    (variable,) = dashboard["templating"]["list"]
    assert (variable["name"], variable["type"], variable["query"]) == (
        "datasource",
        "datasource",
        "prometheus",
    )
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"], f"{panel['title']} has no query"
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == "${datasource}"
    assert dashboard["refresh"] == "30s"
    assert dashboard["time"] == {"from": "now-1h", "to": "now"}
    ids = [p["id"] for p in dashboard["panels"]]
    assert ids == list(range(1, len(ids) + 1))


def test_latency_panel_shows_p50_p95_p99_from_the_histogram(rendered):
    (panel,) = [
        p for p in rendered["titanic-api"]["panels"] if p["title"].startswith("Latency p50")
    ]
    quantiles = []
    for target in panel["targets"]:
        expr = target["expr"].replace("$__rate_interval", "1m")
        call = promql_parser.parse(expr)
        assert call.func.name == "histogram_quantile"
        quantiles.append(call.args[0].val)
        (selector,) = selectors(target["expr"])
        assert selector.name == "titanic_http_request_duration_seconds_bucket"
    assert quantiles == [0.5, 0.95, 0.99]


def test_every_query_uses_only_series_that_are_exposed(rendered, tmp_path):
    api = api_exposed_metrics(tmp_path)
    assert "titanic_http_requests_total" in api  # the exposition was read, not empty
    exposed = api | POSTGRES_EXPORTER | NODE_EXPORTER | CADVISOR | PROMETHEUS
    used: set[str] = set()
    for uid in UIDS:
        for expr in expressions(rendered[uid]):
            names = {s.name for s in selectors(expr)}
            assert None not in names, f"a selector without a metric name in {expr}"
            unknown = names - exposed
            assert not unknown, f"{uid}: {sorted(unknown)} exposed by nothing we scrape: {expr}"
            used |= names
    # Each source is really queried (a list that nothing uses would prove nothing).
    for source in (api, POSTGRES_EXPORTER, NODE_EXPORTER, CADVISOR, PROMETHEUS):
        assert used & source


def test_every_selector_names_the_job_of_its_source(rendered, tmp_path):
    api = api_exposed_metrics(tmp_path)
    for uid in UIDS:
        for expr in expressions(rendered[uid]):
            for selector in selectors(expr):
                labels = equality_matchers(selector)
                if selector.name in api:
                    assert labels.get("job") == JOBS["api"], expr
                elif selector.name in POSTGRES_EXPORTER:
                    assert labels.get("job") == JOBS["database"], expr
                elif selector.name in NODE_EXPORTER:
                    assert labels.get("job") == JOBS["node"], expr
                elif selector.name in CADVISOR:
                    assert labels == {"namespace": "titanic", "container": "api"}, expr
                else:
                    assert labels.get("job") in JOBS.values(), expr


@pytest.mark.parametrize("uid", UIDS)
def test_dashboard_loads_back_through_the_sdk_unchanged(rendered, uid):
    register_default_plugins()  # decodes the panels and queries into their own types
    text = (rendered["dest"] / f"{uid}.json").read_text()
    model = Dashboard.from_json(json.loads(text))
    assert {type(p).__name__ for p in model.panels} >= {"Panel", "RowPanel"}
    assert JSONEncoder(sort_keys=True, indent=2).encode(model) + "\n" == text


def test_second_run_and_check_mode_change_nothing(rendered, run_playbook):
    dest = rendered["dest"]
    before = {uid: (dest / f"{uid}.json").read_bytes() for uid in UIDS}
    mtimes = {uid: (dest / f"{uid}.json").stat().st_mtime_ns for uid in UIDS}
    again = run_playbook(PLAYBOOK, cmdline=f"-e monitoring_dashboards_dest={dest}")
    assert again.status == "successful", again.failures
    assert again.total("changed") == 0, again.changed_tasks
    checked = run_playbook(PLAYBOOK, cmdline=f"-e monitoring_dashboards_dest={dest} --check --diff")
    assert checked.status == "successful", checked.failures
    assert checked.total("changed") == 0, checked.changed_tasks
    assert {uid: (dest / f"{uid}.json").read_bytes() for uid in UIDS} == before
    assert {uid: (dest / f"{uid}.json").stat().st_mtime_ns for uid in UIDS} == mtimes


def test_check_mode_reports_a_change_and_writes_nothing(run_playbook, tmp_path):
    dest = tmp_path / "new"
    run = run_playbook(PLAYBOOK, cmdline=f"-e monitoring_dashboards_dest={dest} --check")
    assert run.status == "successful", run.failures
    assert "Generate the dashboards with grafana-foundation-sdk" in run.changed_tasks
    assert not dest.exists()


def test_a_changed_input_rewrites_and_a_tampered_file_is_restored(rendered, run_playbook, tmp_path):
    dest = tmp_path / "dashboards"
    first = run_playbook(
        PLAYBOOK,
        cmdline=f"-e monitoring_dashboards_dest={dest} -e monitoring_dashboards_database_job=pg",
    )
    assert first.status == "successful", first.failures
    database = json.loads((dest / "titanic-database.json").read_text())
    for expr in expressions(database):
        assert {equality_matchers(s).get("job") for s in selectors(expr)} == {"pg"}, expr
    # The API dashboard does not depend on the database job except its targets panel.
    (dest / "titanic-api.json").write_text("{}")
    second = run_playbook(PLAYBOOK, cmdline=f"-e monitoring_dashboards_dest={dest}")
    assert second.status == "successful", second.failures
    assert "Generate the dashboards with grafana-foundation-sdk" in second.changed_tasks
    for uid in UIDS:
        assert (dest / f"{uid}.json").read_bytes() == (
            rendered["dest"] / f"{uid}.json"
        ).read_bytes()


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ("", "monitoring_dashboards_dest"),
        (
            "-e monitoring_dashboards_dest={dest} -e monitoring_dashboards_refresh=soon",
            "refresh=soon",
        ),
        (
            "-e monitoring_dashboards_dest={dest} -e monitoring_dashboards_api_job=titanic/api",
            "api_job=titanic/api",
        ),
    ],
    ids=["dest-missing", "refresh-not-a-duration", "job-not-a-label-value"],
)
def test_wrong_input_fails_before_anything_is_written(run_playbook, tmp_path, extra, named):
    dest = tmp_path / "dashboards"
    run = run_playbook(PLAYBOOK, cmdline=extra.format(dest=dest))
    assert run.status == "failed"
    assert any(named in message for message in run.failures), run.failures
    assert not dest.exists()
