"""Verify the add-on render of inventories/prod (`molecule verify`): what converge wrote is
what helm would get, for the platform record prepare wrote."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

SCENARIO_DIR = Path(os.environ.get("MOLECULE_SCENARIO_DIRECTORY") or Path(__file__).parents[1])
STATE_DIR = Path(
    yaml.safe_load((SCENARIO_DIR / "host_vars" / "localhost.yml").read_text())["titanic_state_dir"]
)
RECORD = json.loads((STATE_DIR / "records" / "platform.json").read_text())
INDEX = json.loads((STATE_DIR / "addons" / "addons.json").read_text())


def values(release: str) -> dict:
    entry = next(r for r in INDEX["releases"] if r["release"] == release)
    return yaml.safe_load(Path(entry["values_file"]).read_text())


def test_every_release_has_its_values_and_upstream_chart():
    assert INDEX["environment"] == "prod"
    assert [r["release"] for r in INDEX["releases"]] == [
        "aws-load-balancer-controller",
        "metrics-server",
        "kube-prometheus-stack",
        "aws-for-fluent-bit",
        "velero",
    ]
    for release in INDEX["releases"]:
        assert Path(release["values_file"]).is_file()
        assert release["chart_repo_url"].startswith("https://")
        assert release["helm_template"][:3] == [
            "template",
            release["release"],
            release["chart_ref"],
        ]


def test_controller_values_name_the_cluster_and_its_irsa_role():
    lbc = values("aws-load-balancer-controller")
    assert lbc["clusterName"] == RECORD["outputs"]["cluster_name"]
    assert lbc["vpcId"] == RECORD["outputs"]["vpc_id"]
    role = RECORD["outputs"]["irsa_role_arns"]["load_balancer_controller"]
    assert lbc["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"] == role
    assert lbc["replicaCount"] >= 2


def test_monitoring_objects_and_log_shipping_are_rendered():
    """Our rules, monitor, routing and dashboards next to kube-prometheus-stack; Fluent Bit to the
    API's log group under its IRSA role."""
    kps = next(r for r in INDEX["releases"] if r["release"] == "kube-prometheus-stack")
    kinds = {d["kind"] for d in yaml.safe_load_all(Path(kps["object_files"][0]).read_text()) if d}
    assert kinds == {"PrometheusRule", "ServiceMonitor", "AlertmanagerConfig", "ConfigMap"}
    shipper = values("aws-for-fluent-bit")
    assert shipper["cloudWatchLogs"]["logGroupName"] == RECORD["outputs"]["api_log_group_name"]
    role = RECORD["outputs"]["irsa_role_arns"]["fluent_bit"]
    assert shipper["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"] == role


def test_nothing_is_left_for_the_cluster():
    """The install was skipped: no kubeconfig was written."""
    assert not (STATE_DIR / "addons" / "kubeconfig").exists()


def test_the_dr_backup_and_restore_are_rendered_for_the_api_namespace():
    """side_effect's playbooks/dr/cluster.yml: a Backup of the API's namespace, and its Restore
    into a new namespace, written where role velero_operations keeps them (valid against CRDs)."""
    rendered = {
        document["kind"]: document
        for path in (STATE_DIR / "dr" / "cluster").glob("*.yaml")
        for document in [yaml.safe_load(path.read_text())]
    }
    backup, restore = rendered["Backup"], rendered["Restore"]
    assert backup["metadata"]["name"] == "titanic-prod-molecule"
    assert backup["spec"]["includedNamespaces"] == ["titanic"]
    assert backup["spec"]["volumeSnapshotLocations"] == [backup["spec"]["storageLocation"]]
    assert restore["spec"]["backupName"] == "titanic-prod-molecule"
    assert restore["spec"]["namespaceMapping"] == {"titanic": "titanic-restored"}
