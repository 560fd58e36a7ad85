#!/usr/bin/env python3
"""Generate the Titanic Grafana dashboards with grafana-foundation-sdk and write them as JSON.

Writes ``<dest>/<uid>.json`` for each dashboard, only when the content differs from the file there
(``--check``: writes nothing, reports what would change), and prints one JSON object on stdout:
``{"changed": bool, "written": [files], "dir": dest, "dashboards": [{"uid", "title", "file"}]}``.
The output is deterministic (sorted keys, fixed indent, fixed panel ids and positions), so the same
inputs give byte-identical files.

Every query selects its series by the contract's job labels; the cluster-only container series
(cAdvisor, scraped by kube-prometheus-stack) by namespace and container, since the API serves its
metrics in prometheus_client's multiprocess mode, which has no process_* collector.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common, dashboard

DATASOURCE = dashboard.DataSourceRef(type_val="prometheus", uid="${datasource}")
RATE = "[$__rate_interval]"


def query(expr: str, legend: str, ref_id: str) -> prometheus.Dataquery:
    return (
        prometheus.Dataquery()
        .expr(expr)
        .legend_format(legend)
        .ref_id(ref_id)
        .range()
        .datasource(DATASOURCE)
    )


def with_queries(panel, queries: list[tuple[str, str]]):
    for index, (expr, legend) in enumerate(queries):
        panel = panel.with_target(query(expr, legend, chr(ord("A") + index)))
    return panel


def graph(title: str, description: str, unit: str, queries: list[tuple[str, str]], width: int = 12):
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .min(0)
        .span(width)
        .height(8)
        .line_width(1)
        .fill_opacity(10)
        .legend(
            common_builders.VizLegendOptions()
            .show_legend(True)
            .display_mode(common.LegendDisplayMode.LIST)
            .placement(common.LegendPlacement.BOTTOM)
        )
    )
    return with_queries(panel, queries)


def single_stat(
    title: str,
    description: str,
    unit: str,
    queries: list[tuple[str, str]],
    steps: list[tuple[float | None, str]],
    width: int = 6,
    mappings: list | None = None,
):
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .span(width)
        .height(4)
        .graph_mode(common.BigValueGraphMode.AREA)
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .thresholds(
            dashboard_builders.ThresholdsConfig()
            .mode(dashboard.ThresholdsMode.ABSOLUTE)
            .steps([dashboard.Threshold(value=value, color=color) for value, color in steps])
        )
    )
    if mappings:
        panel = panel.mappings(mappings)
    return with_queries(panel, queries)


def up_down_mapping() -> list:
    return [
        dashboard.ValueMap(
            options={
                "0": dashboard.ValueMappingResult(text="down", color="red", index=0),
                "1": dashboard.ValueMappingResult(text="up", color="green", index=1),
            }
        )
    ]


def frame(uid: str, title: str, description: str, refresh: str):
    return (
        dashboard_builders.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["titanic", "generated"])
        .refresh(refresh)
        .time("now-1h", "now")
        .timezone("browser")
        .tooltip(dashboard.DashboardCursorSync.CROSSHAIR)
        .with_variable(
            dashboard_builders.DatasourceVariable("datasource")
            .label("Data source")
            .type("prometheus")
        )
    )


def api_dashboard(args: argparse.Namespace):
    job = f'job="{args.api_job}"'
    requests = f"titanic_http_requests_total{{{job}}}"
    errors = f'titanic_http_requests_total{{{job}, status=~"5.."}}'
    buckets = f"titanic_http_request_duration_seconds_bucket{{{job}}}"
    container = f'namespace="{args.namespace}", container="{args.api_container}"'
    node = f'job="{args.node_job}"'
    quantiles = [
        (f"histogram_quantile({q}, sum by (le) (rate({buckets}{RATE})))", f"p{round(q * 100)}")
        for q in (0.5, 0.95, 0.99)
    ]
    # `or vector(0)`: no 5xx at all is a ratio of 0, not "no data" (no traffic stays no data).
    error_ratio = f"(sum(rate({errors}{RATE})) or vector(0)) / sum(rate({requests}{RATE}))"
    in_use = f'sum(titanic_db_pool_connections{{{job}, state="in_use"}})'
    pool_max = f"sum(titanic_db_pool_max_connections{{{job}}})"
    targets = " or ".join(
        f'up{{job="{name}"}}' for name in (args.api_job, args.database_job, args.node_job)
    )
    return (
        frame(
            "titanic-api",
            "Titanic API",
            "The API's traffic, errors, latency and saturation, and whether its targets are up.",
            args.refresh,
        )
        .with_row(dashboard_builders.Row("Summary"))
        .with_panel(
            single_stat(
                "API targets up",
                "API instances (pods) Prometheus scrapes successfully.",
                "short",
                [(f"sum(up{{{job}}})", "up")],
                [(None, "red"), (1, "green")],
            )
        )
        .with_panel(
            single_stat(
                "Request rate",
                "Requests per second over every route.",
                "reqps",
                [(f"sum(rate({requests}{RATE}))", "requests")],
                [(None, "green")],
            )
        )
        .with_panel(
            single_stat(
                "5xx ratio",
                "Share of the API's responses that are server errors (5xx).",
                "percentunit",
                [(error_ratio, "5xx ratio")],
                [(None, "green"), (0.01, "orange"), (0.05, "red")],
            )
        )
        .with_panel(
            single_stat(
                "Database pool saturation",
                "Connections in use as a share of the pools' maximum.",
                "percentunit",
                [(f"{in_use} / {pool_max}", "saturation")],
                [(None, "green"), (0.8, "orange"), (0.9, "red")],
            )
        )
        .with_row(dashboard_builders.Row("Traffic and errors"))
        .with_panel(
            graph(
                "Request rate by route and status",
                "Requests per second handled by the API, by route template and status code.",
                "reqps",
                [
                    (
                        f"sum by (route, status) (rate({requests}{RATE}))",
                        "{{route}} {{status}}",
                    )
                ],
            )
        )
        .with_panel(
            graph(
                "5xx ratio",
                "Share of the API's responses that are server errors (5xx).",
                "percentunit",
                [(error_ratio, "5xx ratio")],
            )
        )
        .with_row(dashboard_builders.Row("Latency"))
        .with_panel(
            graph(
                "Latency p50 / p95 / p99",
                "Request duration quantiles over every route, from the latency histogram.",
                "s",
                quantiles,
            )
        )
        .with_panel(
            graph(
                "Latency p99 by route",
                "99th percentile request duration per route template.",
                "s",
                [
                    (
                        f"histogram_quantile(0.99, sum by (le, route) (rate({buckets}{RATE})))",
                        "{{route}}",
                    )
                ],
            )
        )
        .with_row(dashboard_builders.Row("Saturation"))
        .with_panel(
            graph(
                "Database pool: in use vs max",
                "Connections the API's pools hold for a request, against their maximum.",
                "short",
                [(in_use, "in use"), (pool_max, "max")],
                width=8,
            )
        )
        .with_panel(
            graph(
                "CPU",
                "CPU cores used by the API's containers (cAdvisor, in the cluster) and by the "
                "whole host (node exporter; locally the only source: the API serves no process "
                "metrics in multiprocess mode).",
                "short",
                [
                    (
                        f"sum(rate(container_cpu_usage_seconds_total{{{container}}}{RATE}))",
                        "API containers",
                    ),
                    (
                        f'sum(rate(node_cpu_seconds_total{{{node}, mode!="idle"}}{RATE}))',
                        "host, all processes",
                    ),
                ],
                width=8,
            )
        )
        .with_panel(
            graph(
                "Memory",
                "Working set of the API's containers (cAdvisor, in the cluster) and memory in use "
                "on the host (node exporter).",
                "bytes",
                [
                    (
                        f"sum(container_memory_working_set_bytes{{{container}}})",
                        "API containers",
                    ),
                    (
                        f"sum(node_memory_MemTotal_bytes{{{node}}})"
                        f" - sum(node_memory_MemAvailable_bytes{{{node}}})",
                        "host, in use",
                    ),
                ],
                width=8,
            )
        )
        .with_row(dashboard_builders.Row("Targets"))
        .with_panel(
            graph(
                "Targets up by job",
                "Targets of the API, the PostgreSQL exporter and the node exporter that answer.",
                "short",
                [(f"sum by (job) ({targets})", "{{job}}")],
                width=24,
            )
        )
    )


def database_dashboard(args: argparse.Namespace):
    job = f'job="{args.database_job}"'
    connections = f"sum(pg_stat_database_numbackends{{{job}}})"
    max_connections = f"max(pg_settings_max_connections{{{job}}})"
    hits = f"sum(rate(pg_stat_database_blks_hit{{{job}}}{RATE}))"
    reads = f"sum(rate(pg_stat_database_blks_read{{{job}}}{RATE}))"
    return (
        frame(
            "titanic-database",
            "Titanic database",
            "PostgreSQL as postgres_exporter sees it: up, connections, transactions, size, cache.",
            args.refresh,
        )
        .with_row(dashboard_builders.Row("Health"))
        .with_panel(
            single_stat(
                "PostgreSQL up",
                "Whether postgres_exporter reaches the database (pg_up).",
                "short",
                [(f"min(pg_up{{{job}}})", "pg_up")],
                [(None, "red"), (1, "green")],
                mappings=up_down_mapping(),
            )
        )
        .with_panel(
            single_stat(
                "Connection saturation",
                "Backends connected as a share of max_connections.",
                "percentunit",
                [(f"{connections} / {max_connections}", "saturation")],
                [(None, "green"), (0.8, "orange"), (0.9, "red")],
            )
        )
        .with_panel(
            single_stat(
                "Cache hit ratio",
                "Share of block reads served from shared buffers.",
                "percentunit",
                [(f"{hits} / ({hits} + {reads})", "hit ratio")],
                [(None, "red"), (0.9, "orange"), (0.99, "green")],
            )
        )
        .with_panel(
            single_stat(
                "Exporter target up",
                "Whether Prometheus scrapes postgres_exporter.",
                "short",
                [(f"sum(up{{{job}}})", "up")],
                [(None, "red"), (1, "green")],
            )
        )
        .with_row(dashboard_builders.Row("Load"))
        .with_panel(
            graph(
                "Connections vs max_connections",
                "Backends connected to every database, against the server's limit.",
                "short",
                [(connections, "connections"), (max_connections, "max_connections")],
            )
        )
        .with_panel(
            graph(
                "Transactions per second",
                "Commits and rollbacks per second over every database.",
                "ops",
                [
                    (f"sum(rate(pg_stat_database_xact_commit{{{job}}}{RATE}))", "commits"),
                    (f"sum(rate(pg_stat_database_xact_rollback{{{job}}}{RATE}))", "rollbacks"),
                ],
            )
        )
        .with_panel(
            graph(
                "Database size",
                "On-disk size of each database.",
                "bytes",
                [(f"sum by (datname) (pg_database_size_bytes{{{job}}})", "{{datname}}")],
            )
        )
        .with_panel(
            graph(
                "Cache hit ratio over time",
                "Share of block reads served from shared buffers.",
                "percentunit",
                [(f"{hits} / ({hits} + {reads})", "hit ratio")],
            )
        )
    )


def render(model: dashboard.Dashboard) -> str:
    # Stable panel ids in layout order: Grafana would otherwise assign them on import.
    for number, panel in enumerate(model.panels or [], start=1):
        panel.id_val = number
    return JSONEncoder(sort_keys=True, indent=2).encode(model) + "\n"


def write_if_changed(path: Path, content: str, check: bool) -> bool:
    if path.exists() and path.read_text() == content:
        return False
    if not check:
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
            tmp.write(content)
        os.chmod(tmp.name, 0o644)
        os.replace(tmp.name, path)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", required=True, type=Path, help="directory of the JSON files")
    parser.add_argument("--api-job", default="titanic-api")
    parser.add_argument("--database-job", default="postgresql")
    parser.add_argument("--node-job", default="node")
    parser.add_argument("--namespace", default="titanic", help="the API's namespace (cluster)")
    parser.add_argument("--api-container", default="api", help="the API's container name")
    parser.add_argument("--refresh", default="30s")
    parser.add_argument("--check", action="store_true", help="report changes, write nothing")
    args = parser.parse_args(argv)

    if not args.dest.is_dir() and not args.check:
        parser.error(f"--dest {args.dest} is not a directory")
    dashboards, written = [], []
    for builder in (api_dashboard(args), database_dashboard(args)):
        model = builder.build()
        path = args.dest / f"{model.uid}.json"
        if write_if_changed(path, render(model), args.check):
            written.append(str(path))
        dashboards.append({"uid": model.uid, "title": model.title, "file": str(path)})
    report = {"changed": bool(written), "written": written, "dir": str(args.dest)}
    json.dump({**report, "dashboards": dashboards}, sys.stdout, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
