"""kube-prometheus-stack and aws-for-fluent-bit of role cluster_addons, for every cloud inventory:
our PrometheusRule, ServiceMonitor and AlertmanagerConfig against the prometheus-operator CRDs,
the rule groups with promtool, the dashboard ConfigMaps against the Kubernetes schemas, no
secret in the render, checkov, and the logs that reach the API's log group and its metric filter.
One render per inventory, shared with test_addons.py (the `renders` fixture).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from addons_cases import (
    CRDS_DIR,
    ENVIRONMENTS,
    PINS,
    REPO,
    ROLE,
    fluent_bit_role_arn,
    platform_record,
    validator,
)
from test_addons import effective, successful, values

KPS = "kube-prometheus-stack"
FLUENT_BIT = "aws-for-fluent-bit"
PROMTOOL = shutil.which("promtool")


@pytest.fixture(params=ENVIRONMENTS)
def env(request):
    return request.param


@pytest.fixture(scope="module")
def checker():
    return validator()


@pytest.fixture(scope="module")
def schemas(checker):
    return checker.crd_schemas([CRDS_DIR / crd["file"] for crd in PINS["cluster_addons_crd_files"]])


def objects(renders, env: str) -> dict[str, dict]:
    """The objects the role applies after kube-prometheus-stack, by kind/name."""
    index = successful(renders, env, env)
    entry = next(r for r in index["releases"] if r["release"] == KPS)
    [path] = entry["object_files"]
    docs = validator().load_yaml_documents(Path(path))
    return {f"{d['kind']}/{d['metadata']['name']}": d for d in docs}


def promtool() -> str:
    if not PROMTOOL:
        pytest.fail("promtool is not on PATH: Debian's prometheus (playbooks/bootstrap.yml)")
    return PROMTOOL


# --- our objects, validated -----------------------------------------------------------------------


def test_monitoring_objects_validate(renders, env, checker, schemas, crds_dir):
    """The role validated them; again here from the written file: the custom resources against
    their CRDs, the rules with promtool, the ConfigMaps against Kubernetes' schemas."""
    found = objects(renders, env)
    kinds = sorted({key.split("/")[0] for key in found})
    assert kinds == ["AlertmanagerConfig", "ConfigMap", "PrometheusRule", "ServiceMonitor"]
    version = renders.index(env)["kubernetes_version"]
    assert version == platform_record(env)["outputs"]["cluster_version"] + ".0"
    for key, doc in found.items():
        if doc["kind"] == "ConfigMap":
            assert checker.kubernetes_problems(doc, version) == [], key
        else:
            assert checker.custom_resource_problems(doc, schemas) == [], key
    assert checker.rule_problems(found["PrometheusRule/titanic"], promtool()) == []
    cluster = checker.load_yaml_documents(renders.render_dir(env) / "cluster-objects.yaml")
    assert [(d["kind"], d["metadata"]["name"]) for d in cluster] == [
        ("Namespace", "monitoring"),
        ("Namespace", "velero"),
        ("StorageClass", "gp3"),
    ]
    assert all(checker.kubernetes_problems(d, version) == [] for d in cluster)


def test_the_prometheus_rule_carries_the_rules_of_monitoring_rules(renders, env):
    rule = objects(renders, env)["PrometheusRule/titanic"]
    rendered = renders.render_dir(env) / "monitoring" / "rules" / "titanic.rules.yml"
    assert rule["spec"]["groups"] == yaml.safe_load(rendered.read_text())["groups"]
    alerts = [r["alert"] for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    assert "TitanicApiDown" in alerts
    # Prometheus' own templates stay literal for Prometheus, not rendered by Ansible.
    assert "{{ $labels." in json.dumps(rule)


def test_the_service_monitor_selects_the_api_service(renders, env):
    """The Service role titanic_manifests renders for this inventory: namespace, labels, the name of
    the port that serves /metrics; the job label is the contract's titanic-api."""
    monitor = objects(renders, env)["ServiceMonitor/titanic-api"]["spec"]
    namespace = effective("titanic_manifests", env, "titanic_manifests_namespace")
    assert monitor["namespaceSelector"] == {"matchNames": [namespace]}
    name = effective("titanic_manifests", env, "titanic_manifests_name")
    assert monitor["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": "api",
    }
    service = (REPO / "roles/titanic_manifests/templates/service.yaml.j2").read_text()
    port = monitor["endpoints"][0]["port"]
    assert re.search(rf"- name: {port}\n\s+port: ", service), "no Service port of that name"
    assert "'app.kubernetes.io/component': 'api'" in service
    assert {"action": "replace", "targetLabel": "job", "replacement": "titanic-api"} in monitor[
        "endpoints"
    ][0]["relabelings"]
    interval = yaml.safe_load(
        (REPO / "inventories" / env / "group_vars/all/monitoring.yml").read_text()
    )["titanic_monitoring_scrape_interval"]
    assert monitor["endpoints"][0]["interval"] == interval
    assert values(renders.index(env), KPS)["prometheus"]["prometheusSpec"]["scrapeInterval"] == (
        interval
    )


def test_alerts_route_to_the_receiver_through_a_secret(renders, env):
    receiver = yaml.safe_load(
        (REPO / "inventories" / env / "group_vars/all/monitoring.yml").read_text()
    )["titanic_monitoring_receiver"]
    config = objects(renders, env)["AlertmanagerConfig/titanic"]
    assert config["spec"]["route"]["receiver"] == receiver["name"]
    [hook] = config["spec"]["receivers"][0]["webhookConfigs"]
    assert hook["urlSecret"] == {"name": "titanic-alert-webhook", "key": "url"}
    assert hook["sendResolved"] is True and "url" not in hook
    selected = values(renders.index(env), KPS)["alertmanager"]["alertmanagerSpec"]
    selector = selected["alertmanagerConfigSelector"]["matchLabels"]
    assert selector.items() <= config["metadata"]["labels"].items()
    assert selected["alertmanagerConfigMatcherStrategy"] == {"type": "None"}


def test_one_dashboard_configmap_per_dashboard(renders, env, checker):
    found = objects(renders, env)
    maps = [d for k, d in found.items() if k.startswith("ConfigMap/")]
    generated = sorted((renders.render_dir(env) / "monitoring" / "dashboards").glob("*.json"))
    assert len(maps) == len(generated) >= 2
    for config in maps:
        assert config["metadata"]["namespace"] == "monitoring"
        assert config["metadata"]["labels"]["grafana_dashboard"] == "1"
        [(name, text)] = config["data"].items()
        source = renders.render_dir(env) / "monitoring" / "dashboards" / name
        assert json.loads(text) == json.loads(source.read_text())
    sidecar = values(renders.index(env), KPS)["grafana"]["sidecar"]["dashboards"]
    assert (sidecar["label"], sidecar["labelValue"]) == ("grafana_dashboard", "1")


def test_monitoring_values_per_environment(renders, env):
    kps = values(renders.index(env), KPS)
    spec = kps["prometheus"]["prometheusSpec"]
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "gp3"
    assert spec["retention"] == {"dev": "7d", "staging": "15d", "prod": "30d"}[env]
    assert (kps["defaultRules"]["create"], kps["nodeExporter"]["enabled"]) == (True, True)
    assert kps["kubeStateMetrics"]["enabled"] is True
    alertmanagers = kps["alertmanager"]["alertmanagerSpec"]["replicas"]
    assert (spec["replicas"], alertmanagers) >= ((2, 2) if env == "prod" else (1, 1))


# --- no secret in the render ----------------------------------------------------------------------


def test_no_secret_in_any_rendered_file(renders, env):
    grafana = values(renders.index(env), KPS)["grafana"]
    assert "adminPassword" not in grafana
    assert grafana["admin"]["existingSecret"] == "grafana-admin"
    for path in renders.render_dir(env).rglob("*"):
        if not path.is_file() or path.name == "kubeconfig":
            continue
        text = path.read_text()
        assert not re.search(r"(?m)^kind: Secret$", text), path
        assert not re.search(r"(?i)(password|token|webhook_url)\s*:\s*\S", text), path
        assert "hooks." not in text and "secretsmanager:GetSecretValue" not in text, path


# --- the validator catches what it must -----------------------------------------------------------


def test_validator_rejects_broken_monitoring_objects(renders, checker, schemas, tmp_path):
    """A wrong field or value in each kind fails, as does a rule Prometheus would not load."""
    good = objects(renders, "dev")
    rule = json.loads(json.dumps(good["PrometheusRule/titanic"]))
    rule["spec"]["groups"][0]["rules"][0]["exp"] = rule["spec"]["groups"][0]["rules"][0].pop("expr")
    assert any("exp" in p for p in checker.custom_resource_problems(rule, schemas))
    monitor = json.loads(json.dumps(good["ServiceMonitor/titanic-api"]))
    monitor["spec"]["endpoints"][0]["relabelings"][0]["action"] = "rename"
    assert any("rename" in p for p in checker.custom_resource_problems(monitor, schemas))
    route = json.loads(json.dumps(good["AlertmanagerConfig/titanic"]))
    route["spec"]["route"]["matchers"][0]["matchType"] = "=="
    assert any("==" in p for p in checker.custom_resource_problems(route, schemas))
    configmap = json.loads(json.dumps(next(v for k, v in good.items() if "ConfigMap" in k)))
    configmap["dta"] = configmap.pop("data")
    assert checker.kubernetes_problems(configmap, "1.31.0")
    broken = json.loads(json.dumps(good["PrometheusRule/titanic"]))
    broken["spec"]["groups"][0]["rules"][0]["expr"] = "sum(rate(x[5m])"
    assert checker.rule_problems(broken, promtool())
    keys = yaml.safe_load((ROLE / "files/values-keys" / f"{KPS}-88.5.3.yaml").read_text())
    assert checker.values_key_problems(
        {"prometheus": {"prometheusSpec": {"retension": "1d"}}}, keys
    ) == ["prometheus.prometheusSpec.retension: not a value of the chart"]
    keys = yaml.safe_load((ROLE / "files/values-keys" / f"{FLUENT_BIT}-0.2.1.yaml").read_text())
    assert checker.values_key_problems({"cloudWatchLogs": {"autoCreateGroups": False}}, keys)


def test_checkov_on_the_rendered_objects(renders, tmp_path):
    """checkov's Kubernetes checks on what the role applies itself, for every inventory."""
    files = []
    for env in ENVIRONMENTS:
        successful(renders, env, env)
        for name in (f"{KPS}.objects.yaml", "cluster-objects.yaml"):
            copy = tmp_path / f"{env}-{name}"
            copy.write_text((renders.render_dir(env) / name).read_text())
            files.append(copy)
    checkov = Path(sys.executable).parent / "checkov"
    result = subprocess.run(
        [str(checkov), "--framework", "kubernetes", "-o", "json", "--quiet", "--compact",
         *[arg for f in files for arg in ("-f", str(f))]],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    report = json.loads(result.stdout or "[]")
    reports = report if isinstance(report, list) else [report]
    failed = [
        (c["check_id"], c["file_path"], c["resource"])
        for r in reports
        for c in r.get("results", {}).get("failed_checks", [])
    ]
    assert failed == [], failed
    assert result.returncode == 0, result.stderr[-2000:]


# --- logs: Fluent Bit to the API's log group ------------------------------------------------------


def test_fluent_bit_ships_the_api_namespace_to_its_log_group(renders, env):
    shipper = values(renders.index(env), FLUENT_BIT)
    record = platform_record(env)["outputs"]
    assert shipper["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": fluent_bit_role_arn(env)
    }
    assert shipper["input"]["path"] == "/var/log/containers/*_titanic_*.log"
    output = shipper["cloudWatchLogs"]
    assert output["logGroupName"] == record["api_log_group_name"] == f"/titanic/{env}/api"
    assert output["autoCreateGroup"] is False and output["enabled"] is True
    for other in ("cloudWatch", "firehose", "kinesis", "kinesis_streams", "elasticsearch", "s3"):
        assert shipper[other]["enabled"] is False, other
    # The API's JSON merged at the top of the record, the raw line dropped once parsed.
    assert (shipper["filter"]["mergeLog"], shipper["filter"]["mergeLogKey"]) == ("On", "")
    assert shipper["filter"]["keepLog"] == "Off"


def test_the_irsa_roles_trust_the_add_on_service_accounts():
    variables = (REPO / "terraform/environments/_stack/variables.tf").read_text()
    block = re.search(r'variable "fluent_bit_service_account" \{(.*?)\n\}', variables, re.S)
    default = re.search(r'default\s*=\s*"([^"]+)"', block.group(1)).group(1)
    shipper = next(a for a in PINS["cluster_addons_catalogue"] if a["chart"] == FLUENT_BIT)
    assert default == f"{shipper['namespace']}:{PINS['cluster_addons_fluent_bit_service_account']}"
    main = (REPO / "terraform/environments/_stack/main.tf").read_text()
    services = yaml.safe_load((REPO / "roles/aws_services/defaults/main.yml").read_text())
    # The log group Fluent Bit may write is the one aws_services creates: Terraform names it.
    assert "api_log_group_name = " in main
    assert "aws_services_outputs.api_log_group_name" in services["aws_services_log_group_name"]


def metric_filter_matches(pattern: str, event: dict) -> bool:
    """CloudWatch's JSON filter pattern `{ $.a.b = "value" }` (the one form aws_services uses)."""
    match = re.fullmatch(r'\{\s*\$\.([\w.]+)\s*=\s*"([^"]*)"\s*\}', pattern.strip())
    assert match, f"not a simple JSON equality pattern: {pattern}"
    value = event
    for key in match.group(1).split("."):
        if not isinstance(value, dict) or key not in value:
            return False
        value = value[key]
    return value == match.group(2)


def test_the_api_errors_metric_filter_counts_what_fluent_bit_ships(tmp_path):
    """A real log line of the API (its own logging configuration, in a subprocess), as Fluent Bit
    ships it (the CRI line's `log` parsed and merged at the top of the record, beside the
    kubernetes metadata): the api-errors metric filter of aws_services counts ERROR, not INFO."""
    script = (
        "import logging; from titanic_api.logging import configure_logging; configure_logging();"
        "logging.getLogger('titanic_api.app').error('boom');"
        "logging.getLogger('titanic_api.app').info('fine')"
    )
    lines = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    tasks = yaml.safe_load((REPO / "roles/aws_services/tasks/monitoring.yml").read_text())
    task = next(t for t in tasks if "amazon.aws.cloudwatchlogs_log_group_metric_filter" in t)
    pattern = task["amazon.aws.cloudwatchlogs_log_group_metric_filter"]["filter_pattern"]
    shipped = [
        {"time": "2026-01-01T00:00:00Z", "stream": "stdout", "_p": "F", **json.loads(line),
         "kubernetes": {"namespace_name": "titanic", "container_name": "api"}}
        for line in lines
    ]  # fmt: skip
    assert [metric_filter_matches(pattern, event) for event in shipped] == [True, False]
