"""playbooks/addons.yml (role cluster_addons) without a cluster and without the charts: what it
renders for every cloud inventory, that the values and custom resources validate (chart values
keys, CRD schemas), what it refuses, the helm of the venv, and the chart source of an OCI mirror.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from addons_cases import (
    CRDS_DIR,
    ENVIRONMENTS,
    HELM,
    PINS,
    REPO,
    ROLE,
    inventory_aws,
    lbc_role_arn,
    platform_record,
    validator,
)

LBC = "aws-load-balancer-controller"
METRICS = "metrics-server"
KPS = "kube-prometheus-stack"
FLUENT_BIT = "aws-for-fluent-bit"
VELERO = "velero"
RELEASES = [LBC, METRICS, KPS, FLUENT_BIT, VELERO]


def successful(renders, key: str, env: str) -> dict:
    run = renders.run(key, env)
    assert run.status == "successful", (
        f"render of {key} failed: {run.failures or run.stdout[-3000:]}"
    )
    return renders.index(key)


def values(index: dict, release: str) -> dict:
    entry = next(r for r in index["releases"] if r["release"] == release)
    return yaml.safe_load(Path(entry["values_file"]).read_text())


def crd_files() -> list[Path]:
    return [CRDS_DIR / crd["file"] for crd in PINS["cluster_addons_crd_files"]]


@pytest.fixture(params=ENVIRONMENTS)
def env(request):
    return request.param


# --- the render of every environment --------------------------------------------------------------


def test_render_writes_each_release_values_and_its_index(renders, env, crds_dir):
    index = successful(renders, env, env)
    assert index["environment"] == env
    assert [r["release"] for r in index["releases"]] == RELEASES
    written = {p.name for p in renders.render_dir(env).glob("*.yaml")}
    expected = {f"{r}.values.yaml" for r in RELEASES} | {
        f"{LBC}.custom-resources.yaml",
        f"{VELERO}.custom-resources.yaml",
        f"{KPS}.objects.yaml",
        "cluster-objects.yaml",
    }
    assert written == expected
    for release in index["releases"]:
        assert Path(release["values_file"]).parent == renders.render_dir(env)


def test_values_and_custom_resources_validate(renders, env, crds_dir):
    """The role validated them; validated again here, with its rules, from the written files."""
    checker = validator()
    schemas = checker.crd_schemas(crd_files())
    index = successful(renders, env, env)
    for release in index["releases"]:
        assert (
            checker.release_problems(
                release,
                ROLE / "files" / "values-keys",
                schemas,
                index["kubernetes_version"],
                shutil.which("promtool"),
            )
            == []
        )
    params = yaml.safe_load(Path(index["releases"][0]["custom_resource_files"][0]).read_text())
    assert (params["apiVersion"], params["kind"]) == ("elbv2.k8s.aws/v1beta1", "IngressClassParams")
    assert params["spec"] == values(index, LBC)["ingressClassParams"]["spec"], (
        "the rendered IngressClassParams is not what the chart makes of the values"
    )


def test_controller_values_carry_the_platform_of_the_environment(renders, env, crds_dir):
    record = platform_record(env)
    lbc = values(successful(renders, env, env), LBC)
    assert lbc["clusterName"] == record["outputs"]["cluster_name"] == f"titanic-{env}"
    assert lbc["region"] == inventory_aws(env)["aws_infra_region"]
    assert lbc["vpcId"] == record["outputs"]["vpc_id"]
    assert lbc["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": lbc_role_arn(env)}
    assert lbc["serviceAccount"]["name"] == PINS["cluster_addons_lbc_service_account"]
    assert lbc["ingressClassParams"]["spec"]["scheme"] == "internet-facing"
    namespaces = lbc["ingressClassParams"]["spec"]["namespaceSelector"]["matchExpressions"][0]
    assert namespaces["values"] == ["titanic"]
    assert {"key": "environment", "value": env} in lbc["ingressClassParams"]["spec"]["tags"]
    assert lbc["defaultTags"]["environment"] == env
    assert (lbc["enableWafv2"], lbc["enableWaf"], lbc["enableShield"]) == (True, False, False)


def test_sizes_per_environment(renders, env, crds_dir):
    index = successful(renders, env, env)
    lbc, metrics = values(index, LBC), values(index, METRICS)
    if env == "dev":
        assert (lbc["replicaCount"], metrics["replicas"]) == (1, 1)
        assert metrics["podDisruptionBudget"]["enabled"] is False
    else:
        assert lbc["replicaCount"] >= 2 and metrics["replicas"] >= 2
        assert metrics["podDisruptionBudget"] == {"enabled": True, "maxUnavailable": 1}
    for chart_values in (lbc, metrics):
        assert chart_values["priorityClassName"] == "system-cluster-critical"
        assert chart_values["resources"]["requests"]["cpu"]
    assert "args" not in metrics, "metrics-server must verify the kubelets' certificates"


def test_second_render_and_check_mode_change_nothing(renders, crds_dir):
    successful(renders, "dev", "dev")
    for options in ("", "--check --diff"):
        rerun = renders.again("dev", options)
        assert rerun.status == "successful", rerun.failures
        assert rerun.total("changed") == 0, (options, rerun.changed_tasks)


# --- the validator catches what it must -----------------------------------------------------------


def test_validator_rejects_an_unknown_chart_value_and_a_wrong_custom_resource():
    checker = validator()
    keys = yaml.safe_load((ROLE / "files" / "values-keys" / f"{LBC}-3.5.0.yaml").read_text())
    fine = {"clusterName": "x", "serviceAccount": {"create": True}}
    assert checker.values_key_problems(fine, keys) == []
    assert checker.values_key_problems({"clustername": "x"}, keys) == [
        "clustername: not a value of the chart"
    ]
    assert checker.values_key_problems({"serviceAccount": {"annotation": {}}}, keys) == [
        "serviceAccount.annotation: not a value of the chart"
    ]
    schemas = checker.crd_schemas(crd_files())
    good = {
        "apiVersion": "elbv2.k8s.aws/v1beta1",
        "kind": "IngressClassParams",
        "metadata": {"name": "alb"},
        "spec": {"scheme": "internet-facing", "ipAddressType": "ipv4"},
    }
    assert checker.custom_resource_problems(good, schemas) == []
    misspelt = {**good, "spec": {"schme": "internet-facing"}}
    assert any("schme" in p for p in checker.custom_resource_problems(misspelt, schemas))
    wrong_enum = {**good, "spec": {"scheme": "public"}}
    assert any("public" in p for p in checker.custom_resource_problems(wrong_enum, schemas))
    unknown = {**good, "apiVersion": "elbv2.k8s.aws/v9"}
    assert checker.custom_resource_problems(unknown, schemas) == [
        "IngressClassParams alb: no CRD serves elbv2.k8s.aws/v9 IngressClassParams"
    ]


# --- refusals -------------------------------------------------------------------------------------


def test_render_refuses_an_unknown_chart_value(renders, crds_dir):
    run = renders.run("bad-value", "staging", {"cluster_addons_lbc_extra_values": {"replicas": 3}})
    assert run.status == "failed"
    assert any("replicas: not a value of the chart" in f for f in run.failures), run.failures
    written = renders.render_dir("bad-value") / "addons.json"
    assert not written.exists(), "an invalid render was written"


def test_render_refuses_a_missing_crd_directory(renders, tmp_path, crds_dir):
    run = renders.run("no-crds", "dev", {"cluster_addons_crds_dir": str(tmp_path / "nowhere")})
    assert run.status == "failed"
    message = " ".join(run.failures)
    assert "aws-load-balancer-controller/crds.yaml is missing" in message
    assert "cluster_addons_crds_dir" in message


def test_render_refuses_a_crd_file_of_another_version(renders, tmp_path, crds_dir):
    other = tmp_path / "crds" / "aws-load-balancer-controller"
    other.mkdir(parents=True)
    (other / "crds.yaml").write_text((crds_dir / LBC / "crds.yaml").read_text() + "\n# edited\n")
    run = renders.run("other-crds", "dev", {"cluster_addons_crds_dir": str(tmp_path / "crds")})
    assert run.status == "failed"
    assert any("not the pinned" in f for f in run.failures), run.failures


def test_render_without_a_platform_record_names_the_provision_stage(renders, crds_dir):
    run = renders.run("no-record", "prod", record=False)
    assert run.status == "failed"
    assert any("playbooks/provision.yml" in f for f in run.failures), run.failures


def test_prod_refuses_a_single_controller_and_a_bad_chart_source(renders, crds_dir):
    run = renders.run(
        "prod-rules",
        "prod",
        {
            "cluster_addons_lbc_replicas": 1,
            "cluster_addons_chart_source": "oci://mirror/charts/",
            "titanic_monitoring_receiver": {"name": "x", "webhook_url": "https://hooks.example/x"},
        },
    )
    assert run.status == "failed"
    message = " ".join(run.failures)
    assert "cluster_addons_lbc_replicas is 1; prod needs at least 2" in message
    assert "'oci://mirror/charts/' is not upstream" in message
    assert "a URL is never an inventory value for a cluster" in message


# --- versions pinned once -------------------------------------------------------------------------


def test_chart_versions_are_pinned_once():
    pins = {addon["chart"]: str(addon["version"]) for addon in PINS["cluster_addons_catalogue"]}
    assert pins == {
        LBC: "3.5.0",
        METRICS: "3.12.2",
        KPS: "88.5.3",
        FLUENT_BIT: "0.2.1",
        VELERO: "12.1.0",
    }
    places = [
        *REPO.glob("roles/**/*.yml"),
        *REPO.glob("roles/**/*.j2"),
        *REPO.glob("playbooks/*.yml"),
        *REPO.glob("inventories/**/*.yml"),
        REPO / "site.yml",
    ]
    for chart, version in pins.items():
        pattern = re.compile(rf"(?<![0-9.]){re.escape(version)}(?![0-9])")
        holders = {
            str(path.relative_to(REPO))
            for path in places
            if path.is_file() and pattern.search(path.read_text())
        }
        assert holders == {"roles/cluster_addons/vars/main.yml"}, f"{chart} {version}: {holders}"
        keys = ROLE / "files" / "values-keys" / f"{chart}-{version}.yaml"
        assert keys.is_file(), f"no values keys for the pinned {chart} {version}"


def test_controller_chart_matches_the_crd_directory(crds_dir):
    """The CRD input directory says which chart its controller CRDs come from."""
    readme = (crds_dir / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith(f"| {LBC}/"))
    lbc = next(a for a in PINS["cluster_addons_catalogue"] if a["chart"] == LBC)
    assert f"chart {lbc['version']}" in row
    row = next(line for line in readme.splitlines() if line.startswith("| prometheus-operator/"))
    kps = next(a for a in PINS["cluster_addons_catalogue"] if a["chart"] == KPS)
    assert f"kube-prometheus-stack {kps['version']}" in row
    # Every pinned checksum is the one the CRD directory publishes.
    for crd in PINS["cluster_addons_crd_files"]:
        assert f"{crd['sha256']}  ./{crd['file']}" in readme, crd["file"]


# --- helm -----------------------------------------------------------------------------------------


def test_helm_and_kubectl_of_the_venv_run(helm_env):
    shown = subprocess.run(
        [str(HELM), "version", "--short"], capture_output=True, text=True, check=True, env=helm_env
    ).stdout
    assert shown.startswith("v3.17."), shown
    kubectl = subprocess.run(
        [str(HELM.parent / "kubectl"), "version", "--client"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "v1.31." in kubectl, kubectl


TEST_CHART_TEMPLATE = """\
apiVersion: elbv2.k8s.aws/v1beta1
kind: IngressClassParams
metadata:
  name: {{ .Values.ingressClassParams.name }}
spec:
{{ toYaml .Values.ingressClassParams.spec | indent 2 }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
  namespace: {{ .Release.Namespace }}
data:
  clusterName: {{ .Values.clusterName | quote }}
  roleArn: {{ index .Values.serviceAccount.annotations "eks.amazonaws.com/role-arn" | quote }}
"""


def test_the_role_chart_source_works_with_an_oci_mirror(
    renders, oci_registry, helm_env, tmp_path, crds_dir
):
    """A stand-in chart with the controller's name and pinned version is pushed to a registry of
    our own; the role, pointed at that mirror, names it in its index, and `helm template` with
    exactly the index's arguments pulls it from oci:// and renders it with the role's values."""
    lbc = next(a for a in PINS["cluster_addons_catalogue"] if a["chart"] == LBC)
    chart = tmp_path / LBC
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(
        f"apiVersion: v2\nname: {LBC}\nversion: {lbc['version']}\ndescription: test stand-in\n"
    )
    (chart / "templates" / "objects.yaml").write_text(TEST_CHART_TEMPLATE)
    helm = [str(HELM)]
    subprocess.run(
        [*helm, "package", str(chart), "--destination", str(tmp_path)],
        check=True, capture_output=True, env=helm_env,
    )  # fmt: skip
    packaged = tmp_path / f"{LBC}-{lbc['version']}.tgz"
    pushed = subprocess.run(
        [*helm, "push", str(packaged), f"oci://{oci_registry}/charts", "--plain-http"],
        capture_output=True, text=True, env=helm_env,
    )  # fmt: skip
    assert pushed.returncode == 0, pushed.stderr

    source = f"oci://{oci_registry}/charts"
    mirror = {"cluster_addons_chart_source": source, "cluster_addons_chart_plain_http": True}
    run = renders.run("oci", "dev", mirror)
    assert run.status == "successful", run.failures
    index = renders.index("oci")
    release = next(r for r in index["releases"] if r["release"] == LBC)
    assert (release["chart_ref"], release["chart_repo_url"]) == (f"{source}/{LBC}", "")
    assert "--repo" not in release["helm_template"] and "--plain-http" in release["helm_template"]

    rendered = subprocess.run(
        [*helm, *release["helm_template"]], capture_output=True, text=True, env=helm_env
    )
    assert rendered.returncode == 0, rendered.stderr
    docs = [d for d in yaml.safe_load_all(rendered.stdout) if d]
    params = next(d for d in docs if d["kind"] == "IngressClassParams")
    assert validator().custom_resource_problems(params, validator().crd_schemas(crd_files())) == []
    config = next(d for d in docs if d["kind"] == "ConfigMap")
    assert config["metadata"]["namespace"] == "kube-system"
    assert config["data"] == {"clusterName": "titanic-dev", "roleArn": lbc_role_arn("dev")}


def test_upstream_source_names_each_chart_repository(renders, crds_dir):
    index = successful(renders, "staging", "staging")
    for addon in PINS["cluster_addons_catalogue"]:
        release = next(r for r in index["releases"] if r["release"] == addon["release"])
        assert release["chart_ref"] == addon["chart"]
        assert release["chart_repo_url"] == addon["repository"]
        argv = release["helm_template"]
        assert argv[argv.index("--repo") + 1] == addon["repository"]
        assert argv[argv.index("--version") + 1] == str(addon["version"])


# --- the contracts with Terraform and with the API's manifests ------------------------------------


def effective(role: str, env: str, name: str):
    """A role input for inventories/<env>: the inventory's value, else the role's default."""
    for path in sorted((REPO / "inventories" / env / "group_vars" / "all").glob("*.yml")):
        found = yaml.safe_load(path.read_text()) or {}
        if name in found:
            return found[name]
    return yaml.safe_load((REPO / "roles" / role / "defaults" / "main.yml").read_text())[name]


def test_the_irsa_role_trusts_the_controller_service_account():
    variables = (REPO / "terraform" / "environments" / "_stack" / "variables.tf").read_text()
    block = re.search(
        r'variable "load_balancer_controller_service_account" \{(.*?)\n\}', variables, re.S
    )
    assert block, "Terraform no longer names the controller's ServiceAccount"
    default = re.search(r'default\s*=\s*"([^"]+)"', block.group(1)).group(1)
    lbc = next(a for a in PINS["cluster_addons_catalogue"] if a["chart"] == LBC)
    assert default == f"{lbc['namespace']}:{PINS['cluster_addons_lbc_service_account']}"


def test_the_api_ingress_fits_the_ingress_class(env):
    """The API's Ingress names the class the controller serves, from a namespace allowed to use it,
    with the scheme its IngressClassParams pins (they would override the Ingress's annotation)."""
    assert effective("titanic_manifests", env, "titanic_manifests_ingress_class") == effective(
        "cluster_addons", env, "cluster_addons_ingress_class"
    )
    assert effective("titanic_manifests", env, "titanic_manifests_namespace") in effective(
        "cluster_addons", env, "cluster_addons_alb_namespaces"
    )
    assert effective("titanic_manifests", env, "titanic_manifests_ingress_scheme") == effective(
        "cluster_addons", env, "cluster_addons_alb_scheme"
    )


def test_install_checks_everything_before_its_first_cluster_call(renders, crds_dir):
    """Without --tags render: the render, the kubeconfig, then the first call to the cluster (the
    record's endpoint, where nothing listens) is where it stops."""
    run = renders.run("no-cluster", "dev", tags="")
    assert run.status == "failed"
    assert any("127.0.0.1', port=9" in f or "127.0.0.1:9" in f for f in run.failures), run.failures
    assert (renders.render_dir("no-cluster") / "addons.json").is_file()
    kubeconfig = yaml.safe_load((renders.render_dir("no-cluster") / "kubeconfig").read_text())
    assert kubeconfig["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:9"
    assert kubeconfig["users"][0]["user"]["exec"]["args"][:4] == [
        "eks",
        "get-token",
        "--cluster-name",
        "titanic-dev",
    ]
