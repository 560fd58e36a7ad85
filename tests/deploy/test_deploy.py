"""playbooks/deploy.yml: what role titanic_manifests renders for every inventory, that it validates
what it writes, what it refuses, and how role titanic_eks checks everything before a cluster call.

Every run goes through ansible-runner (conftest.py), like the other suites, without any cluster.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from deploy_cases import (
    BAD_INPUTS,
    DEV_ACCOUNT,
    EMULATOR_DB_PASSWORD,
    ENVIRONMENTS,
    IMAGE_RECORD,
    IMAGE_TAG,
    KUBERNETES_VERSION,
    PLATFORM_RECORD,
    RECORD_TAG,
    REPO,
)

EKS_ENVIRONMENTS = ("dev", "staging", "prod")
EKS_KINDS = {
    "Namespace",
    "ResourceQuota",
    "LimitRange",
    "ServiceAccount",
    "NetworkPolicy",
    "ConfigMap",
    "Secret",
    "Job",
    "Deployment",
    "Service",
    "Ingress",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
}
# podman runs the Job's pod template as a one-shot pod before the Deployment.
PODMAN_KINDS = {"ConfigMap", "Secret", "Job", "Deployment"}
RECOMMENDED_LABELS = {
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
}


def render_dir(deploys, key: str) -> Path:
    """The render directory of a run (running it first, if no test has yet)."""
    run = deploys.result(key)
    assert run.status == "successful", f"render of {key} failed: {run.failures}"
    return deploys.state_dir(key) / "deploy" / "manifests"


def index(deploys, key: str) -> dict:
    render_dir(deploys, key)
    return json.loads((deploys.state_dir(key) / "deploy" / "manifests.json").read_text())


def objects(deploys, key: str) -> list[dict]:
    docs = []
    for path in sorted(render_dir(deploys, key).glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return docs


def one(docs: list[dict], kind: str, name: str | None = None) -> dict:
    found = [
        d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def api_container(docs: list[dict]) -> dict:
    return one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]


@pytest.fixture(params=ENVIRONMENTS)
def env(request, deploys):
    run = deploys.result(request.param)
    assert run.status == "successful", (
        f"render of {request.param} failed: {run.failures or run.stdout[-3000:]}"
    )
    return request.param


def test_render_writes_the_kinds_of_the_target(deploys, env):
    kinds = {d["kind"] for d in objects(deploys, env)}
    assert kinds == (PODMAN_KINDS if env == "local" else EKS_KINDS)
    if env != "local":
        kustomization = yaml.safe_load(
            (render_dir(deploys, env) / "kustomization.yaml").read_text()
        )
        listed = set(kustomization["resources"])
        assert listed == {p.name for p in render_dir(deploys, env).glob("*.yaml")} - {
            "kustomization.yaml"
        }


def test_index_names_every_written_object_in_apply_order(deploys, env):
    listing = index(deploys, env)
    assert listing["target"] == ("podman" if env == "local" else "eks")
    assert listing["render_dir"] == str(render_dir(deploys, env))
    files = [entry["file"] for entry in listing["objects"]]
    assert files == sorted(files), "the file names do not sort in apply order"
    written = {p.name for p in render_dir(deploys, env).glob("*.yaml")} - {"kustomization.yaml"}
    assert set(files) == written
    for entry in listing["objects"]:
        doc = yaml.safe_load((render_dir(deploys, env) / entry["file"]).read_text())
        assert (doc["kind"], doc["metadata"]["name"]) == (entry["kind"], entry["name"])
    phases = [entry["phase"] for entry in listing["objects"]]
    order = ["pre", "migration", "rollout", "post"]
    assert phases == sorted(phases, key=order.index)
    assert listing["image"].endswith(":" + IMAGE_TAG)


def test_every_manifest_validates_strictly_against_the_inventory_kubernetes_version(deploys, env):
    for doc in objects(deploys, env):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION + ".0", strict=True)


def test_recommended_labels_on_every_object(deploys, env):
    for doc in objects(deploys, env):
        labels = doc["metadata"]["labels"]
        assert RECOMMENDED_LABELS <= set(labels), (
            f"{doc['kind']} {doc['metadata']['name']}: {sorted(labels)}"
        )
        assert labels["app.kubernetes.io/environment"] == env
        assert labels["app.kubernetes.io/version"] == IMAGE_TAG


def test_pods_are_restricted(deploys, env):
    docs = objects(deploys, env)
    templates = [one(docs, "Deployment")["spec"]["template"], one(docs, "Job")["spec"]["template"]]
    for template in templates:
        pod = template["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        # /tmp is the only writable path: an emptyDir of the pod's own (podman names volumes by it)
        scratch = [v for v in pod["volumes"] if v.get("emptyDir") == {"sizeLimit": "64Mi"}]
        assert len(scratch) == 1
        assert scratch[0]["name"].endswith("-tmp")
        for container in pod.get("initContainers", []) + pod["containers"]:
            sc = container["securityContext"]
            assert sc["runAsNonRoot"] is True
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"] == {"drop": ["ALL"]}
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
            mount = {"name": scratch[0]["name"], "mountPath": "/tmp"}  # noqa: S108
            assert container["volumeMounts"] == [mount]
            assert {"requests", "limits"} <= set(container["resources"])
            assert container["image"].endswith(":" + IMAGE_TAG)


def test_deployment_rolls_out_safely(deploys, env):
    deployment = one(objects(deploys, env), "Deployment")
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    template = deployment["spec"]["template"]
    assert template["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    assert template["metadata"]["annotations"]["prometheus.io/path"] == "/metrics"
    container = template["spec"]["containers"][0]
    assert container["args"] == ["serve"]
    assert container["lifecycle"]["preStop"]["sleep"]["seconds"] > 0
    probes = {name: container[name] for name in ("startupProbe", "readinessProbe", "livenessProbe")}
    if env == "local":  # podman: exec probes (its httpGet probes need curl in the image)
        paths = {name: " ".join(p["exec"]["command"]) for name, p in probes.items()}
        assert "/readyz" in paths["readinessProbe"] and "/healthz" in paths["livenessProbe"]
    else:
        assert probes["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert probes["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert probes["startupProbe"]["httpGet"]["path"] == "/healthz"
        zones = [
            c for c in template["spec"]["topologySpreadConstraints"] if "zone" in c["topologyKey"]
        ]
        assert zones and zones[0]["topologyKey"] == "topology.kubernetes.io/zone"


def test_render_is_idempotent(deploys):
    second = deploys.result("dev", 1)
    assert second.status == "successful", second.failures
    assert second.total("changed") == 0, second.changed_tasks


def test_check_mode_validates_and_writes_nothing(deploys):
    run = deploys.result("check")
    assert run.status == "successful", run.failures
    deploy = deploys.state_dir("check") / "deploy"
    assert not (deploy / "manifests").exists() and not (deploy / "manifests.json").exists()
    # what would be written was validated in the scratch directory, and its index names it
    scratch = json.loads((deploy / "scratch" / "manifests.json").read_text())
    assert scratch["render_dir"] == str(deploy / "scratch" / "manifests")
    assert {e["kind"] for e in scratch["objects"]} == EKS_KINDS
    assert "Validate against the Kubernetes OpenAPI schemas" in run.stdout
    assert run.total("changed") >= 1, "check mode did not report the manifests it would write"


def test_records_of_the_earlier_stages_feed_the_render(deploys):
    docs = objects(deploys, "records")
    outputs = PLATFORM_RECORD["outputs"]
    config = one(docs, "ConfigMap")["data"]
    assert config["POSTGRES_HOST"] == outputs["db_endpoint"]
    assert config["TITANIC_REVISION"] == IMAGE_RECORD["revision"]
    assert api_container(docs)["image"] == f"{IMAGE_RECORD['repository']}:{RECORD_TAG}"
    annotations = one(docs, "ServiceAccount")["metadata"]["annotations"]
    assert annotations["eks.amazonaws.com/role-arn"] == outputs["irsa_role_arns"]["api"]
    api = one(docs, "NetworkPolicy", "titanic-api")["spec"]
    assert {"ipBlock": {"cidr": outputs["vpc_cidr"]}} in api["ingress"][0]["from"]
    assert [{"ipBlock": {"cidr": outputs["vpc_cidr"]}}] == api["egress"][1]["to"]


def test_eks_namespace_network_and_ingress(deploys):
    docs = objects(deploys, "dev")
    labels = one(docs, "Namespace")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "v" + KUBERNETES_VERSION

    deny = one(docs, "NetworkPolicy", "default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    api = one(docs, "NetworkPolicy", "titanic-api")
    sources = [peer for rule in api["spec"]["ingress"] for peer in rule["from"]]
    # without a platform record: the inventory's VPC CIDR
    assert {"ipBlock": {"cidr": "10.20.0.0/16"}} in sources
    assert any(
        p.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
        == "monitoring"
        for p in sources
    )
    egress_ports = [port["port"] for rule in api["spec"]["egress"] for port in rule["ports"]]
    assert 53 in egress_ports and 5432 in egress_ports

    annotations = one(docs, "Ingress")["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"].startswith(
        f"arn:aws:acm:eu-west-1:{DEV_ACCOUNT}:"
    )
    assert annotations["alb.ingress.kubernetes.io/healthcheck-path"] == "/readyz"
    assert annotations["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert one(docs, "Ingress")["spec"]["ingressClassName"] == "alb"

    account = one(docs, "ServiceAccount")
    # the IRSA trust policy names titanic:titanic-api
    assert account["metadata"]["name"] == "titanic-api"

    job = one(docs, "Job")
    init, main = (
        job["spec"]["template"]["spec"]["initContainers"][0],
        job["spec"]["template"]["spec"]["containers"][0],
    )
    assert (init["args"], main["args"]) == (["db", "upgrade"], ["db", "seed"])


def test_eks_secret_on_disk_holds_no_credentials(deploys):
    for env in EKS_ENVIRONMENTS:
        secret = one(objects(deploys, env), "Secret")
        values = {base64.b64decode(v).decode() for v in secret["data"].values()}
        assert values == {"set-at-apply-time-from-secrets-manager"}


def test_prod_differs_from_dev_only_through_the_inventory(deploys):
    dev, prod = objects(deploys, "dev"), objects(deploys, "prod")
    dev_hpa, prod_hpa = (
        one(dev, "HorizontalPodAutoscaler")["spec"],
        one(prod, "HorizontalPodAutoscaler")["spec"],
    )
    assert prod_hpa["minReplicas"] >= 2 and prod_hpa["minReplicas"] > dev_hpa["minReplicas"]
    assert prod_hpa["maxReplicas"] > dev_hpa["maxReplicas"]
    assert one(prod, "Deployment")["spec"]["replicas"] > one(dev, "Deployment")["spec"]["replicas"]
    prod_res, dev_res = api_container(prod)["resources"], api_container(dev)["resources"]
    assert prod_res != dev_res
    prod_spread = one(prod, "Deployment")["spec"]["template"]["spec"]["topologySpreadConstraints"][
        0
    ]
    assert prod_spread["whenUnsatisfiable"] == "DoNotSchedule"
    hosts = {
        e: one(objects(deploys, e), "Ingress")["spec"]["rules"][0]["host"] for e in EKS_ENVIRONMENTS
    }
    assert len(set(hosts.values())) == 3
    assert one(dev, "ConfigMap")["data"]["TITANIC_LOG_LEVEL"] == "DEBUG"
    assert one(prod, "ConfigMap")["data"]["TITANIC_LOG_LEVEL"] == "INFO"


def test_podman_render_holds_what_podman_kube_play_takes(deploys):
    run = deploys.result("local")
    assert "cluster-only kinds not rendered: Namespace" in run.stdout
    docs = objects(deploys, "local")
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True and "ports" not in pod["containers"][0]
    # The Secret carries the password generated for this state dir; the file is the owner's only.
    password = (deploys.state_dir("local") / "secrets" / "db-password").read_text().strip()
    secret = one(docs, "Secret")
    assert base64.b64decode(secret["data"]["POSTGRES_PASSWORD"]).decode() == password
    listing = index(deploys, "local")
    secret_file = render_dir(deploys, "local") / next(
        e["file"] for e in listing["objects"] if e["kind"] == "Secret"
    )
    assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
    assert password not in run.stdout
    assert listing["api_url"] == "http://127.0.0.1:8080"
    assert listing["filtered_kinds"][0] == "Namespace"


def test_checkov_passes_on_every_render_with_reasoned_skips_only(deploys):
    dirs = [str(render_dir(deploys, env)) for env in ENVIRONMENTS]
    args = [
        str(REPO / ".venv/bin/checkov"),
        "--framework",
        "kubernetes",
        "--output",
        "json",
    ]
    args += ["--skip-download"] + [a for d in dirs for a in ("--directory", d)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    reports = _json_documents(result.stdout)  # one report per directory
    assert len(reports) == len(dirs), result.stderr[-2000:]
    failed = [
        (c["check_id"], c["resource"]) for r in reports for c in r["results"]["failed_checks"]
    ]
    assert result.returncode == 0 and not failed, failed
    skipped = [c for r in reports for c in r["results"].get("skipped_checks", [])]
    assert skipped, "expected the documented inline skips"
    for check in skipped:
        assert len(check["check_result"].get("suppress_comment", "")) > 20, check["check_id"]


def _json_documents(text: str) -> list[dict]:
    decoder, docs, index_ = json.JSONDecoder(), [], 0
    while index_ < len(text.rstrip()):
        while text[index_].isspace():
            index_ += 1
        doc, index_ = decoder.raw_decode(text, index_)
        docs.extend(doc if isinstance(doc, list) else [doc])
    return docs


def test_missing_image_tag_in_ecr_stops_before_any_apply(deploys):
    run = deploys.result("ecr-missing-tag")
    assert run.status == "failed"
    message = " ".join(run.failures)
    assert (
        "The image tag '0000000' (titanic_manifests_image_tag) is not in ECR repository" in message
    )
    assert "Nothing was applied" in message
    assert "kubernetes.core" not in run.stdout and "Ensure the namespace" not in run.stdout


def test_eks_path_reaches_the_cluster_after_every_check(deploys):
    run = deploys.result("eks-no-cluster")
    assert run.status == "failed"
    message = " ".join(run.failures)
    assert "the connection stage failed" in message and "Connection refused" in message, message
    assert "no rollback" in message
    assert "Look up the image tag in ECR" in run.stdout
    assert "Read the database credentials from AWS Secrets Manager" in run.stdout
    deploy = deploys.state_dir("eks-no-cluster") / "deploy"
    kubeconfig = deploy / "kubeconfig"
    assert oct(kubeconfig.stat().st_mode & 0o777) == "0o600"
    config = yaml.safe_load(kubeconfig.read_text())
    # the cluster of the platform record
    assert (
        config["clusters"][0]["cluster"]["server"] == PLATFORM_RECORD["outputs"]["cluster_endpoint"]
    )
    assert config["users"][0]["user"]["exec"]["args"][:4] == [
        "eks",
        "get-token",
        "--cluster-name",
        "titanic-dev",
    ]
    assert EMULATOR_DB_PASSWORD not in run.stdout
    for path in deploy.rglob("*"):
        if path.is_file():
            assert EMULATOR_DB_PASSWORD not in path.read_text(), path


@pytest.mark.parametrize(
    ("key", "words"),
    [(key, words) for key, _, _, words in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_input_fails_before_anything_is_written(deploys, key, words):
    run = deploys.result(key)
    assert run.status == "failed", f"{key} did not fail"
    message = " ".join(run.failures).lower()
    for word in words:
        assert word.lower() in message, f"{key}: {word!r} not in {message[:2000]}"
    assert not (deploys.state_dir(key) / "deploy" / "manifests").exists()
    assert not (deploys.state_dir(key) / "deploy" / "manifests.json").exists()


def test_rollback_playbook_refuses_what_it_cannot_roll_back(run_playbook, tmp_path):
    local = run_playbook(
        "playbooks/rollback.yml", "inventories/local", f"-e titanic_state_dir={tmp_path}"
    )
    assert local.status == "failed"
    assert local.total("changed") == 0
    assert "no previous good rollout to roll back to" in " ".join(local.failures)
    dev = run_playbook(
        "playbooks/rollback.yml", "inventories/dev", f"-e titanic_state_dir={tmp_path}"
    )
    assert dev.status == "failed"
    message = " ".join(dev.failures)
    assert f"No kubeconfig at {tmp_path}/deploy/kubeconfig" in message
    assert f"No render index at {tmp_path}/deploy/manifests.json" in message
