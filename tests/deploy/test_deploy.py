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
from cryptography import x509
from deploy_cases import (
    BAD_INPUTS,
    DATABASE_RECORD,
    DEV_ACCOUNT,
    EMULATOR_DB_PASSWORD,
    EMULATOR_WRITE_TOKEN,
    ENVIRONMENTS,
    IMAGE_RECORD,
    IMAGE_TAG,
    KUBERNETES_VERSION,
    LOCAL_EXTRA,
    LOCAL_WRITE_TOKENS,
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


def jobs(docs: list[dict]) -> dict[str, dict]:
    """The Jobs by component: db-bootstrap and migration."""
    found = {
        d["metadata"]["labels"]["app.kubernetes.io/component"]: d
        for d in docs
        if d["kind"] == "Job"
    }
    assert set(found) == {"db-bootstrap", "migration"}, sorted(found)
    return found


def pod_templates(docs: list[dict]) -> dict[str, dict]:
    """The pod spec of the Deployment and of each Job, by component."""
    templates = {name: job["spec"]["template"]["spec"] for name, job in jobs(docs).items()}
    templates["api"] = one(docs, "Deployment")["spec"]["template"]["spec"]
    return templates


def api_settings(docs: list[dict]) -> dict:
    """The data of the API's ConfigMap (the one named after the hash of its settings)."""
    return one(docs, "ConfigMap", api_container(docs)["envFrom"][0]["configMapRef"]["name"])["data"]


def inventory(env: str) -> dict:
    return yaml.safe_load((REPO / "inventories" / env / "group_vars/all/deploy.yml").read_text())


def rules_by_port(policy: dict, direction: str) -> list[tuple]:
    """A NetworkPolicy's rules as (peers, ports), for exact comparisons."""
    key = "from" if direction == "ingress" else "to"
    return [(rule[key], rule["ports"]) for rule in policy["spec"][direction]]


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
    order = ["pre", "bootstrap", "migration", "rollout", "post"]
    assert phases == sorted(phases, key=order.index)
    # the database login exists before the migration logs in with it
    job_phases = [e["phase"] for e in listing["objects"] if e["kind"] == "Job"]
    assert job_phases == ["bootstrap", "migration"]
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
    for pod in pod_templates(docs).values():
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        # /tmp is the only writable path: an emptyDir of the pod's own (podman names volumes by it)
        scratch = [v for v in pod["volumes"] if v.get("emptyDir") == {"sizeLimit": "64Mi"}]
        assert len(scratch) == 1
        assert scratch[0]["name"].endswith("-tmp")
        others = [v for v in pod["volumes"] if "emptyDir" not in v]
        assert all(set(v) & {"configMap", "secret"} for v in others), others
        for container in pod.get("initContainers", []) + pod["containers"]:
            sc = container["securityContext"]
            assert sc["runAsNonRoot"] is True
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"] == {"drop": ["ALL"]}
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
            mount = {"name": scratch[0]["name"], "mountPath": "/tmp"}  # noqa: S108
            # /tmp is the only writable mount; the CA bundle and the tokens are read-only
            assert container["volumeMounts"][0] == mount
            assert all(m["readOnly"] is True for m in container["volumeMounts"][1:])
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
    # every probe asks the process, never the database (D12): an outage leaves the pods ready, and
    # clients get the API's own 503 instead of the load balancer's page
    if env == "local":  # podman: exec probes (its httpGet probes need curl in the image)
        paths = {name: " ".join(p["exec"]["command"]) for name, p in probes.items()}
        assert all("/healthz'" in path and "/readyz" not in path for path in paths.values()), paths
    else:
        assert {name: p["httpGet"]["path"] for name, p in probes.items()} == dict.fromkeys(
            probes, "/healthz"
        )
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
    config = api_settings(docs)
    assert config["POSTGRES_HOST"] == outputs["db_endpoint"]
    assert config["TITANIC_REVISION"] == IMAGE_RECORD["revision"]
    assert api_container(docs)["image"] == f"{IMAGE_RECORD['repository']}:{RECORD_TAG}"
    bootstrap_account = one(docs, "ServiceAccount", "titanic-api-db-bootstrap")["metadata"]
    assert bootstrap_account["annotations"] == {
        "eks.amazonaws.com/role-arn": outputs["irsa_role_arns"]["db_bootstrap"]
    }
    api = one(docs, "NetworkPolicy", "titanic-api")["spec"]
    assert api["ingress"][0]["from"] == [
        {"ipBlock": {"cidr": cidr}} for cidr in outputs["public_subnet_cidrs"]
    ]
    assert api["egress"][1]["to"] == [
        {"ipBlock": {"cidr": cidr}} for cidr in outputs["database_subnet_cidrs"]
    ]
    annotations = one(docs, "Ingress")["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/wafv2-acl-arn"] == outputs["waf_web_acl_arn"]


def test_eks_namespace_network_and_ingress(deploys):
    docs = objects(deploys, "dev")
    labels = one(docs, "Namespace")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "v" + KUBERNETES_VERSION

    deny = one(docs, "NetworkPolicy", "default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    api = one(docs, "NetworkPolicy", "titanic-api")
    sources = [peer for rule in api["spec"]["ingress"] for peer in rule["from"]]
    # without a platform record the inventory's VPC CIDR stands in (titanic_eks refuses to apply it)
    assert {"ipBlock": {"cidr": "10.20.0.0/16"}} in sources
    egress_ports = [port["port"] for rule in api["spec"]["egress"] for port in rule["ports"]]
    assert sorted(egress_ports) == [53, 53, 5432]

    annotations = one(docs, "Ingress")["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"].startswith(
        f"arn:aws:acm:eu-west-1:{DEV_ACCOUNT}:"
    )
    assert annotations["alb.ingress.kubernetes.io/healthcheck-path"] == "/healthz"
    assert annotations["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert one(docs, "Ingress")["spec"]["ingressClassName"] == "alb"

    job = jobs(docs)["migration"]
    init, main = (
        job["spec"]["template"]["spec"]["initContainers"][0],
        job["spec"]["template"]["spec"]["containers"][0],
    )
    assert (init["args"], main["args"]) == (["db", "upgrade"], ["db", "seed"])


def test_eks_secret_on_disk_holds_no_credentials(deploys):
    for env in EKS_ENVIRONMENTS:
        secrets = [d for d in objects(deploys, env) if d["kind"] == "Secret"]
        assert {s["metadata"]["name"] for s in secrets} == {
            "titanic-api-db",
            "titanic-api-write-tokens",
        }
        values = {base64.b64decode(v).decode() for s in secrets for v in s["data"].values()}
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
    assert api_settings(dev)["TITANIC_LOG_LEVEL"] == "DEBUG"
    assert api_settings(prod)["TITANIC_LOG_LEVEL"] == "INFO"


def test_podman_render_holds_what_podman_kube_play_takes(deploys):
    run = deploys.result("local")
    assert "cluster-only kinds not rendered: Namespace" in run.stdout
    docs = objects(deploys, "local")
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True and "ports" not in pod["containers"][0]
    # The Secrets carry the inventory's credentials; their files are the owner's only.
    password = LOCAL_EXTRA["titanic_manifests_db_password"]
    secret = one(docs, "Secret", "titanic-api-db")
    assert base64.b64decode(secret["data"]["POSTGRES_PASSWORD"]).decode() == password
    master = one(docs, "Secret", "titanic-api-db-master")["data"]
    master_password = LOCAL_EXTRA["titanic_manifests_db_master_password"]
    assert base64.b64decode(master["TITANIC_DB_MASTER_PASSWORD"]).decode() == master_password
    listing = index(deploys, "local")
    for entry in listing["objects"]:
        if entry["kind"] == "Secret":
            secret_file = render_dir(deploys, "local") / entry["file"]
            assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
    assert password not in run.stdout and master_password not in run.stdout
    # the bootstrap pod reads the superuser's Secret and the API's; no other pod the superuser's
    templates = pod_templates(docs)
    refs = {
        name: [
            ref["secretRef"]["name"]
            for ref in pod["containers"][0]["envFrom"]
            if "secretRef" in ref
        ]
        for name, pod in templates.items()
    }
    assert refs == {
        "db-bootstrap": ["titanic-api-db-master", "titanic-api-db"],
        "migration": ["titanic-api-db"],
        "api": ["titanic-api-db"],
    }
    assert api_settings(docs)["TITANIC_REUSE_PORT"] == "true"
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
    assert "Read the write tokens from AWS Secrets Manager" in run.stdout
    for secret in (EMULATOR_DB_PASSWORD, EMULATOR_WRITE_TOKEN):
        assert secret not in run.stdout
        for path in deploy.rglob("*"):
            if path.is_file():
                assert secret not in path.read_text(), path


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


def test_network_policies_allow_exactly_the_contracts_peers(deploys):
    docs = objects(deploys, "records")
    outputs = PLATFORM_RECORD["outputs"]
    http = [{"protocol": "TCP", "port": "http"}]
    dns = (
        [
            {
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                },
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ],
        [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    )
    database = (
        [{"ipBlock": {"cidr": cidr}} for cidr in outputs["database_subnet_cidrs"]],
        [{"protocol": "TCP", "port": 5432}],
    )
    api = one(docs, "NetworkPolicy", "titanic-api")
    # in: the ALB in the public subnets, and Prometheus in the monitoring namespace; nothing else
    assert rules_by_port(api, "ingress") == [
        ([{"ipBlock": {"cidr": cidr}} for cidr in outputs["public_subnet_cidrs"]], http),
        (
            [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}
                    },
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
                }
            ],
            http,
        ),
    ]
    assert rules_by_port(api, "egress") == [dns, database]
    migration = one(docs, "NetworkPolicy", "titanic-api-migration")
    assert migration["spec"]["ingress"] == []
    assert rules_by_port(migration, "egress") == [dns, database]
    bootstrap = one(docs, "NetworkPolicy", "titanic-api-db-bootstrap")
    assert bootstrap["spec"]["ingress"] == []
    # and HTTPS to Secrets Manager and STS through the NAT gateway: anywhere but the VPC
    aws = (
        [{"ipBlock": {"cidr": "0.0.0.0/0", "except": [outputs["vpc_cidr"]]}}],
        [{"protocol": "TCP", "port": 443}],
    )
    assert rules_by_port(bootstrap, "egress") == [dns, database, aws]
    # each policy selects the pods of its component, and every component has one
    selected = {
        p["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/component")
        for p in docs
        if p["kind"] == "NetworkPolicy"
    }
    assert selected == {None, "api", "migration", "db-bootstrap"}
    for component, pod in pod_templates(docs).items():
        labels = (
            one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
            if component == "api"
            else jobs(docs)[component]["spec"]["template"]["metadata"]["labels"]
        )
        assert labels["app.kubernetes.io/component"] == component, pod


def test_only_the_bootstrap_service_account_has_an_iam_role(deploys):
    docs = objects(deploys, "records")
    outputs = PLATFORM_RECORD["outputs"]
    accounts = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ServiceAccount"}
    roles = {
        name: account["metadata"].get("annotations", {}).get("eks.amazonaws.com/role-arn")
        for name, account in accounts.items()
    }
    assert roles == {
        "titanic-api": None,
        "titanic-api-db-bootstrap": outputs["irsa_role_arns"]["db_bootstrap"],
    }
    assert all(a["automountServiceAccountToken"] is False for a in accounts.values())
    templates = pod_templates(docs)
    assert {name: pod["serviceAccountName"] for name, pod in templates.items()} == {
        "api": "titanic-api",
        "migration": "titanic-api",
        "db-bootstrap": "titanic-api-db-bootstrap",
    }
    # the bootstrap reads both secrets itself, with its role: no Secret of credentials in its pod
    container = templates["db-bootstrap"]["containers"][0]
    assert container["args"] == ["db", "bootstrap"]
    assert {e["name"]: e["value"] for e in container["env"]} == {
        "TITANIC_DB_MASTER_SECRET_ID": outputs["db_master_secret_arn"],
        "TITANIC_DB_LOGIN_SECRET_ID": outputs["api_db_secret_name"],
        "AWS_REGION": PLATFORM_RECORD["region"],
    }
    assert [ref for ref in container["envFrom"] if "secretRef" in ref] == []


def test_a_restores_record_moves_the_api_and_its_bootstrap_to_the_restored_instance(deploys):
    docs = objects(deploys, "restored")
    outputs = PLATFORM_RECORD["outputs"]
    config = api_settings(docs)
    assert (config["POSTGRES_HOST"], config["POSTGRES_PORT"], config["POSTGRES_DB"]) == (
        DATABASE_RECORD["endpoint"],
        str(DATABASE_RECORD["port"]),
        DATABASE_RECORD["db_name"],
    )
    # The restored instance has a master secret of its own, not the source's.
    container = pod_templates(docs)["db-bootstrap"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["TITANIC_DB_MASTER_SECRET_ID"] == DATABASE_RECORD["master_secret_arn"]
    assert env["TITANIC_DB_MASTER_SECRET_ID"] != outputs["db_master_secret_arn"]
    # The API's login secret stays the platform's: the bootstrap writes the new login into it.
    assert env["TITANIC_DB_LOGIN_SECRET_ID"] == outputs["api_db_secret_name"]
    assert {"protocol": "TCP", "port": DATABASE_RECORD["port"]} in [
        port
        for rule in one(docs, "NetworkPolicy", "titanic-api")["spec"]["egress"]
        for port in rule.get("ports", [])
    ]


def test_the_ingress_guards_the_edge(deploys):
    for env in EKS_ENVIRONMENTS:
        docs = objects(deploys, env)
        ingress = one(docs, "Ingress")
        annotations = ingress["metadata"]["annotations"]
        inbound = annotations["alb.ingress.kubernetes.io/inbound-cidrs"].split(",")
        assert inbound == inventory(env)["titanic_manifests_inbound_cidrs"]
        # /metrics is answered by the ALB itself, by the exact-path rule ahead of /
        paths = ingress["spec"]["rules"][0]["http"]["paths"]
        assert [(p["path"], p["pathType"]) for p in paths] == [
            ("/metrics", "Exact"),
            ("/", "Prefix"),
        ]
        metrics = paths[0]["backend"]["service"]
        assert metrics["port"] == {"name": "use-annotation"}
        action = json.loads(annotations[f"alb.ingress.kubernetes.io/actions.{metrics['name']}"])
        assert action["type"] == "fixed-response"
        assert action["fixedResponseConfig"]["statusCode"] == "404"
        assert json.loads(action["fixedResponseConfig"]["messageBody"])["status"] == 404
        assert paths[1]["backend"]["service"]["name"] == "titanic-api"
        # gunicorn outlives the ALB's idle timeout, so the ALB closes idle connections
        idle = annotations["alb.ingress.kubernetes.io/load-balancer-attributes"]
        assert idle == "idle_timeout.timeout_seconds=60"
        assert int(api_settings(docs)["TITANIC_KEEPALIVE_SECONDS"]) > 60
        assert annotations["alb.ingress.kubernetes.io/healthcheck-path"] == "/healthz"
    # prod is public behind the WAF; dev and staging take their clients' CIDRs only
    assert inventory("prod")["titanic_manifests_inbound_cidrs"] == ["0.0.0.0/0"]
    assert "0.0.0.0/0" not in inventory("staging")["titanic_manifests_inbound_cidrs"]


def test_every_pod_verifies_the_database_certificate(deploys, env):
    docs = objects(deploys, env)
    config = api_settings(docs)
    assert config["POSTGRES_SSLMODE"] == "verify-full"
    assert config["POSTGRES_SSLROOTCERT"] == "/etc/titanic/db-ca/ca.crt"
    bundle = one(docs, "ConfigMap", "titanic-api-db-ca")["data"]["ca.crt"]
    certificates = x509.load_pem_x509_certificates(bundle.encode())
    assert certificates
    if env != "local":
        shipped = (REPO / "inventories" / env / "files" / "rds-ca-eu-west-1-bundle.pem").read_text()
        assert bundle.strip() == shipped.strip()
        names = sorted(c.subject.rfc4514_string() for c in certificates)
        assert all("CN=Amazon RDS eu-west-1 Root CA" in name for name in names), names
    for name, pod in pod_templates(docs).items():
        volume = next(v for v in pod["volumes"] if v["name"] == "db-ca")
        assert volume["configMap"]["name"] == "titanic-api-db-ca", name
        mounts = {m["name"]: m for m in pod["containers"][0]["volumeMounts"]}
        assert mounts["db-ca"] == {
            "name": "db-ca",
            "mountPath": "/etc/titanic/db-ca",
            "readOnly": True,
        }, name


def test_rds_ca_bundle_is_self_signed_roots_that_verify():
    for env in EKS_ENVIRONMENTS:
        path = REPO / "inventories" / env / "files" / "rds-ca-eu-west-1-bundle.pem"
        for certificate in x509.load_pem_x509_certificates(path.read_bytes()):
            assert certificate.issuer == certificate.subject
            certificate.verify_directly_issued_by(certificate)  # raises on a corrupted copy


def test_write_tokens_secret_only_when_enabled(deploys, env):
    docs = objects(deploys, env)
    enabled = env != "local"  # on in dev, staging and prod; off locally by default
    secrets = {d["metadata"]["name"] for d in docs if d["kind"] == "Secret"}
    assert ("titanic-api-write-tokens" in secrets) is enabled
    templates = pod_templates(docs)
    api = templates["api"]
    env_vars = {e["name"]: e["value"] for e in api["containers"][0].get("env", [])}
    assert ("TITANIC_WRITE_TOKENS_FILE" in env_vars) is enabled
    assert any(v["name"] == "write-tokens" for v in api["volumes"]) is enabled
    for name in ("migration", "db-bootstrap"):  # the Jobs never see the tokens
        assert all(v["name"] != "write-tokens" for v in templates[name]["volumes"])
    if enabled:
        assert env_vars["TITANIC_WRITE_TOKENS_FILE"] == "/etc/titanic/write-tokens/tokens"
        volume = next(v for v in api["volumes"] if v["name"] == "write-tokens")
        assert volume["secret"]["secretName"] == "titanic-api-write-tokens"


def test_podman_render_with_write_tokens_holds_them_in_a_private_file(deploys):
    run = deploys.result("local-tokens")
    assert run.status == "successful", run.failures
    docs = objects(deploys, "local-tokens")
    secret = one(docs, "Secret", "titanic-api-write-tokens")
    tokens = base64.b64decode(secret["data"]["tokens"]).decode().splitlines()
    assert tokens == list(LOCAL_WRITE_TOKENS)
    for token in LOCAL_WRITE_TOKENS:
        assert token not in run.stdout
    listing = index(deploys, "local-tokens")
    entry = next(e for e in listing["objects"] if e["name"] == "titanic-api-write-tokens")
    mode = (render_dir(deploys, "local-tokens") / entry["file"]).stat().st_mode & 0o777
    assert oct(mode) == "0o600"


def test_eks_refuses_a_render_that_is_not_the_platforms(deploys):
    run = deploys.result("eks-not-the-platform")
    assert run.status == "failed"
    message = " ".join(run.failures)
    assert "the Ingress's WAF web ACL (titanic_manifests_waf_acl_arn)" in message, message
    assert (
        "the API NetworkPolicy's sources, the platform's public subnets "
        "(titanic_manifests_alb_source_cidrs)" in message
    ), message
    assert "titanic_manifests_db_cidrs" not in message  # the database subnets are the record's
    assert "Look up the image tag in ECR" not in run.stdout
