"""Velero: the release of role cluster_addons (values against the chart's published values schema,
the storage and snapshot locations and Schedules against their CRDs, per inventory) and the cluster
side of disaster recovery, playbooks/dr/cluster.yml (role velero_operations): its Backup and
Restore rendered for every cloud inventory and validated against the CRDs, and what it refuses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from addons_cases import CRDS_DIR, ENVIRONMENTS, PINS, REPO, ROLE, platform_record, validator

VELERO = "velero"
DR_PLAYBOOK = "playbooks/dr/cluster.yml"
SCHEMA = CRDS_DIR / "velero" / "chart-values.schema.json"
OPERATIONS = REPO / "roles" / "velero_operations"


@pytest.fixture(params=ENVIRONMENTS)
def env(request):
    return request.param


def velero_crd_files() -> list[Path]:
    pins = PINS["cluster_addons_crd_files"]
    return [CRDS_DIR / c["file"] for c in pins if c["release"] == VELERO]


def velero_release(renders, env: str) -> dict:
    run = renders.run(env, env)
    assert run.status == "successful", run.failures or run.stdout[-3000:]
    return next(r for r in renders.index(env)["releases"] if r["release"] == VELERO)


def velero_values(renders, env: str) -> dict:
    return yaml.safe_load(Path(velero_release(renders, env)["values_file"]).read_text())


def velero_objects(renders, env: str) -> dict[str, dict]:
    """The objects the chart makes from the values, as the role rendered them, by kind/name."""
    (path,) = velero_release(renders, env)["custom_resource_files"]
    docs = validator().load_yaml_documents(Path(path))
    return {f"{d['kind']}/{d['metadata']['name']}": d for d in docs}


def inventory_schedules(env: str) -> list[dict]:
    path = REPO / "inventories" / env / "group_vars" / "all" / "addons.yml"
    return yaml.safe_load(path.read_text())["cluster_addons_velero_schedules"]


# --- the release: values against the chart's schema, objects against the CRDs ---------------------


def test_values_validate_against_the_published_values_schema(renders, env, crds_dir):
    release = velero_release(renders, env)
    assert Path(release["values_schema_file"]) == SCHEMA
    values = velero_values(renders, env)
    checker = validator()
    assert checker.values_schema_problems(values, json.loads(SCHEMA.read_text())) == []
    keys = yaml.safe_load((ROLE / "files" / "values-keys" / "velero-12.1.0.yaml").read_text())
    assert checker.values_key_problems(values, keys) == []
    assert release["skip_crds"] is False, "velero's other CRDs come with its first install"


def test_every_velero_object_validates_against_its_crd(renders, env, crds_dir):
    checker = validator()
    schemas = checker.crd_schemas(velero_crd_files())
    found = velero_objects(renders, env)
    names = {f"Schedule/velero-{s['name']}" for s in inventory_schedules(env)}
    assert set(found) == {"BackupStorageLocation/default", "VolumeSnapshotLocation/default"} | names
    for key, doc in found.items():
        assert doc["metadata"]["namespace"] == VELERO, key
        assert checker.custom_resource_problems(doc, schemas) == [], key


def test_the_objects_are_what_the_chart_makes_of_the_values(renders, env, crds_dir):
    """The Schedules, storage and snapshot locations validated against the CRDs are those of the
    chart's values: the same bucket, region and schedules, from the inventory and the record."""
    record = platform_record(env)
    values, found = velero_values(renders, env), velero_objects(renders, env)
    (location,) = values["configuration"]["backupStorageLocation"]
    assert location["bucket"] == record["outputs"]["backup_bucket_names"]["velero"]
    assert location["config"] == {"region": record["region"]}
    storage = found["BackupStorageLocation/default"]["spec"]
    assert storage["objectStorage"] == {"bucket": location["bucket"]}
    assert (storage["provider"], storage["default"], storage["config"]) == (
        "aws",
        True,
        location["config"],
    )
    (snapshots,) = values["configuration"]["volumeSnapshotLocation"]
    assert found["VolumeSnapshotLocation/default"]["spec"] == {
        "provider": snapshots["provider"],
        "config": snapshots["config"],
    }
    assert set(values["schedules"]) == {s["name"] for s in inventory_schedules(env)}
    for entry in inventory_schedules(env):
        spec = found[f"Schedule/velero-{entry['name']}"]["spec"]
        assert spec == values["schedules"][entry["name"]]
        assert spec["schedule"] == entry["schedule"]
        assert spec["template"]["includedNamespaces"] == entry["namespaces"]
        assert spec["template"]["ttl"] == entry["ttl"]


def test_velero_runs_under_its_irsa_role_with_the_pinned_aws_plugin(renders, env, crds_dir):
    values = velero_values(renders, env)
    role = platform_record(env)["outputs"]["irsa_role_arns"]["velero"]
    account = values["serviceAccount"]["server"]
    assert account["annotations"] == {"eks.amazonaws.com/role-arn": role}
    assert values["credentials"] == {"useSecret": False}, "IRSA, never a credentials Secret"
    (plugin,) = values["initContainers"]
    assert plugin["image"] == PINS["cluster_addons_velero_aws_plugin_image"]
    assert re.fullmatch(r"velero/velero-plugin-for-aws:v1\.14\.\d+", plugin["image"])
    assert values["image"]["tag"] == "v1.18.1"
    # Terraform's IRSA role trusts exactly this ServiceAccount (terraform/environments/_stack).
    variables = (REPO / "terraform" / "environments" / "_stack" / "variables.tf").read_text()
    block = re.search(r'variable "velero_service_account" \{(.*?)\n\}', variables, re.S)
    trusted = re.search(r'default\s*=\s*"([^"]+)"', block.group(1)).group(1)
    assert trusted == f"{velero_release(renders, env)['namespace']}:{account['name']}"


def test_schedules_per_environment():
    """prod keeps backups longest and takes them most often; every environment backs up the API."""

    def hours(ttl: str) -> int:
        return int(re.match(r"(\d+)h", ttl).group(1))

    longest = {env: max(hours(s["ttl"]) for s in inventory_schedules(env)) for env in ENVIRONMENTS}
    assert longest["dev"] <= longest["staging"] <= longest["prod"]
    assert len(inventory_schedules("prod")) > len(inventory_schedules("dev"))
    for env in ENVIRONMENTS:
        assert any("titanic" in s["namespaces"] for s in inventory_schedules(env)), env


# --- the validator fails on what it must ----------------------------------------------------------


def test_the_values_schema_check_fails_on_a_wrong_value():
    checker = validator()
    schema = json.loads(SCHEMA.read_text())
    fine = {
        "backupsEnabled": True,
        "configuration": {"backupStorageLocation": [{"provider": "aws", "bucket": "b"}]},
    }
    assert checker.values_schema_problems(fine, schema) == []
    assert checker.values_schema_problems({**fine, "backupsEnabled": "yes"}, schema) == [
        "values schema: backupsEnabled: 'yes' is not of type 'boolean'"
    ]
    # A mapping where chart 12 wants a list of locations (the layout of charts before 3.0).
    old_layout = {"configuration": {"backupStorageLocation": {"provider": "aws", "bucket": "b"}}}
    assert any(
        "backupStorageLocation" in p and "'array'" in p
        for p in checker.values_schema_problems(old_layout, schema)
    )
    # A list replaces the chart's default whole: its items must be complete.
    no_provider = {"configuration": {"backupStorageLocation": [{"bucket": "b"}]}}
    assert checker.values_schema_problems(no_provider, schema) == [
        "values schema: configuration.backupStorageLocation.0: 'provider' is a required property"
    ]


def test_the_crd_check_fails_on_a_wrong_velero_object():
    checker = validator()
    schemas = checker.crd_schemas(velero_crd_files())
    location = {
        "apiVersion": "velero.io/v1",
        "kind": "BackupStorageLocation",
        "metadata": {"name": "default", "namespace": VELERO},
        "spec": {"provider": "aws", "objectStorage": {"bucket": "b"}, "accessMode": "ReadWrite"},
    }
    assert checker.custom_resource_problems(location, schemas) == []
    wrong_mode = {**location, "spec": {**location["spec"], "accessMode": "RW"}}
    assert any("'RW'" in p for p in checker.custom_resource_problems(wrong_mode, schemas))
    no_bucket = {**location, "spec": {"provider": "aws", "objectStorage": {}}}
    assert any("'bucket'" in p for p in checker.custom_resource_problems(no_bucket, schemas))
    restore = {
        "apiVersion": "velero.io/v1",
        "kind": "Restore",
        "metadata": {"name": "r", "namespace": VELERO},
        "spec": {"backupName": "b", "namespaceMappings": {"titanic": "t2"}},
    }
    assert any("namespaceMappings" in p for p in checker.custom_resource_problems(restore, schemas))


def test_render_refuses_a_value_the_chart_schema_refuses(renders, crds_dir):
    """A key the chart has, with a value of the wrong type: only the values schema catches it."""
    wrong = {"cluster_addons_velero_extra_values": {"snapshotsEnabled": "no"}}
    run = renders.run("velero-bad-value", "staging", wrong)
    assert run.status == "failed"
    assert any(
        "velero: values schema: snapshotsEnabled: 'no' is not of type 'boolean'" in f
        for f in run.failures
    ), run.failures
    assert not (renders.render_dir("velero-bad-value") / "addons.json").exists()


def test_render_refuses_bad_schedules_and_a_record_without_the_bucket(renders, crds_dir):
    schedules = [
        {"name": "daily", "schedule": "0 3 * *", "namespaces": ["titanic"], "ttl": "7d"},
        {"name": "daily", "schedule": "@daily", "namespaces": [], "ttl": "24h"},
    ]
    run = renders.run(
        "velero-bad-schedules",
        "dev",
        {"cluster_addons_velero_schedules": schedules, "cluster_addons_velero_bucket": ""},
    )
    assert run.status == "failed"
    message = " ".join(run.failures)
    assert "schedule '0 3 * *' is not a cron expression" in message
    assert "ttl '7d' is not a duration" in message
    assert "name 'daily' is used twice" in message
    assert "namespaces must be a non-empty list" in message
    assert "cluster_addons_velero_bucket '' is not a bucket name" in message


# --- playbooks/dr/cluster.yml: the Backup and Restore of every cloud inventory --------------------


def dr_run(renders, key: str, env: str, **extra):
    return renders.run(key, env, {"dr_environment": env, **extra}, playbook=DR_PLAYBOOK)


def dr_object(renders, key: str) -> dict:
    (path,) = (renders.state_dir(key) / "dr" / "cluster").glob("*.yaml")
    return yaml.safe_load(path.read_text())


def test_the_dr_backup_of_each_inventory_validates(renders, env, crds_dir):
    run = dr_run(renders, f"dr-backup-{env}", env, dr_cluster_action="backup")
    assert run.status == "successful", run.failures or run.stdout[-3000:]
    backup = dr_object(renders, f"dr-backup-{env}")
    assert re.fullmatch(rf"titanic-{env}-\d{{8}}-\d{{6}}", backup["metadata"]["name"])
    assert backup["metadata"]["namespace"] == VELERO
    assert backup["spec"]["includedNamespaces"] == ["titanic"]
    assert backup["spec"]["storageLocation"] == "default"
    checker = validator()
    assert checker.custom_resource_problems(backup, checker.crd_schemas(velero_crd_files())) == []
    assert "valid against its CRD; nothing was sent to a cluster" in run.stdout


def test_the_dr_restore_of_each_inventory_maps_into_a_new_namespace(renders, env, crds_dir):
    key = f"dr-restore-{env}"
    run = dr_run(
        renders,
        key,
        env,
        dr_cluster_action="restore",
        dr_backup_name=f"titanic-{env}-20260101-030000",
        dr_restore_namespace="titanic-restored",
    )
    assert run.status == "successful", run.failures or run.stdout[-3000:]
    restore = dr_object(renders, key)
    assert restore["kind"] == "Restore"
    assert restore["spec"]["backupName"] == f"titanic-{env}-20260101-030000"
    assert restore["spec"]["namespaceMapping"] == {"titanic": "titanic-restored"}
    assert restore["spec"]["existingResourcePolicy"] == "none"
    checker = validator()
    assert checker.custom_resource_problems(restore, checker.crd_schemas(velero_crd_files())) == []


def test_dr_refuses_another_environment_and_a_restore_without_a_backup(renders, crds_dir):
    wrong = renders.run(
        "dr-wrong-env",
        "prod",
        {"dr_environment": "staging", "dr_cluster_action": "list"},
        playbook=DR_PLAYBOOK,
    )
    assert wrong.status == "failed"
    assert any("This inventory is 'prod'" in f for f in wrong.failures), wrong.failures
    nameless = dr_run(renders, "dr-nameless", "dev", dr_cluster_action="restore")
    assert nameless.status == "failed"
    assert any("-e dr_backup_name=<name>" in f for f in nameless.failures), nameless.failures
    assert not (renders.state_dir("dr-nameless") / "dr").exists()


def test_the_operations_validate_against_the_release_crds():
    """velero_operations checks its CRDs against the same pins as the velero release."""
    operations = yaml.safe_load((OPERATIONS / "vars" / "main.yml").read_text())
    pinned = {(c["file"], c["sha256"]) for c in PINS["cluster_addons_crd_files"]}
    assert {(c["file"], c["sha256"]) for c in operations["velero_operations_crd_files"]} <= pinned


def test_the_dr_backup_checks_everything_before_its_first_cluster_call(renders, crds_dir):
    """Without --tags render: the guard, the record, the kubeconfig of role cluster_addons, the
    validated Backup, then the first call to the cluster (the record's endpoint, where nothing
    listens) is where it stops."""
    key = "dr-no-cluster"
    run = renders.run(
        key,
        "dev",
        {"dr_environment": "dev", "dr_cluster_action": "backup"},
        tags="",
        playbook=DR_PLAYBOOK,
    )
    assert run.status == "failed"
    assert any("127.0.0.1', port=9" in f or "127.0.0.1:9" in f for f in run.failures), run.failures
    kubeconfig = yaml.safe_load((renders.state_dir(key) / "addons" / "kubeconfig").read_text())
    assert kubeconfig["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:9"
    assert dr_object(renders, key)["kind"] == "Backup"
