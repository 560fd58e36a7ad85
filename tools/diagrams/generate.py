"""`make docs`: the architecture diagrams of docs/images/, drawn with the diagrams package
(graphviz, offline) from the inventories' values, so that they cannot drift from what the roles
build: prod's AWS platform from the Terraform variables role aws_infra gives it, and the local
system from inventories/local. tests/repository/test_docs_generated.py redraws and compares them.

Usage: python tools/diagrams/generate.py [--out DIR]   (default docs/images)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from diagrams import Cluster, Diagram, Edge
from diagrams.aws.compute import EC2, ECR, EKS
from diagrams.aws.database import RDS
from diagrams.aws.management import Cloudwatch
from diagrams.aws.network import ALB, VPC, InternetGateway, NATGateway, PrivateSubnet, PublicSubnet
from diagrams.aws.security import KMS, WAF, SecretsManager
from diagrams.aws.storage import S3
from diagrams.k8s.compute import Pod
from diagrams.onprem.client import Users
from diagrams.onprem.database import Postgresql
from diagrams.onprem.monitoring import Prometheus
from diagrams.onprem.network import Gunicorn
from diagrams.programming.language import Python

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
import inventory_values  # noqa: E402

# graphviz attributes that make the drawing depend on its inputs alone.
GRAPH = {"fontsize": "20", "pad": "0.4", "splines": "spline", "nodesep": "0.5", "ranksep": "0.9"}
LOCAL_NAMES = [
    "titanic_db_port",
    "titanic_image_registry",
    "aws_infra_endpoint_url",
    "titanic_monitoring_scrape_interval",
    "titanic_monitoring_receiver",
    "postgresql_pod_backup",
]


def aws(tfvars: dict, out: Path) -> Path:
    """prod's AWS platform: what terraform/environments/_stack builds from the inventory."""
    env = tfvars["environment"]
    nats = (
        0
        if not tfvars["enable_nat_gateway"]
        else (1 if tfvars["single_nat_gateway"] else len(tfvars["azs"]))
    )
    groups = tfvars["node_groups"]
    title = (
        f"Titanic API on AWS: {env} (inventories/{env}, {tfvars['region']},"
        f" EKS {tfvars['cluster_version']})"
    )
    path = out / f"aws-{env}"
    with Diagram(title, filename=str(path), show=False, outformat="png", graph_attr=GRAPH):
        users = Users("API clients")
        with Cluster(f"account {tfvars['allowed_account_ids'][0]}, {tfvars['region']}"):
            waf = WAF(f"WAF\n{tfvars['waf_rate_limit_per_5min']} req / 5 min / IP")
            with Cluster(f"VPC {tfvars['vpc_cidr']}"):
                VPC("VPC flow logs")
                igw = InternetGateway("internet gateway")
                alb = ALB("ALB (load balancer controller)")
                gateways, nodes, databases = [], [], []
                for index, zone in enumerate(tfvars["azs"]):
                    with Cluster(zone):
                        PublicSubnet("public")
                        if index < nats:
                            gateways.append(NATGateway("NAT gateway"))
                        PrivateSubnet("private")
                        for name, group in sorted(groups.items()):
                            kind = f"{group['instance_types'][0]}\n{group['capacity_type']}"
                            nodes.append(EC2(f"{name}: {kind}"))
                        if index == 0:
                            databases.append(RDS(f"RDS {tfvars['db_instance_class']}\nprimary"))
                        elif index == 1 and tfvars["db_multi_az"]:
                            databases.append(RDS("RDS standby\n(Multi-AZ)"))
                with Cluster(f"EKS {tfvars['cluster_version']}: namespace titanic and add-ons"):
                    api = Pod("titanic-api\n(HPA)")
                    prometheus = Prometheus("Prometheus\nAlertmanager")
                    velero = Pod("Velero")
                    fluent = Pod("Fluent Bit")
            control_plane = EKS("EKS control plane\n(private endpoint)")
            with Cluster("regional services"):
                registry = ECR(f"ECR {tfvars['ecr_repository_name']}, titanic-ee")
                buckets = S3("S3 " + ", ".join(sorted(tfvars["backup_buckets"])))
                keys = KMS("KMS keys")
                secrets = SecretsManager("Secrets Manager")
                logs = Cloudwatch(f"CloudWatch logs ({tfvars['log_retention_days']} d), alarms")
        users >> waf >> alb >> api
        api >> Edge(label="TLS") >> databases[0]
        if len(databases) > 1:
            databases[0] - Edge(style="dashed", label="sync") - databases[1]
        api << Edge(style="dashed") << secrets
        for node in nodes:
            node >> Edge(style="dotted") >> control_plane
        for gateway in gateways:
            gateway >> igw
        registry >> Edge(style="dashed", label="pull") >> api
        velero >> buckets
        fluent >> logs
        prometheus >> Edge(style="dotted") >> api
        keys - Edge(style="dotted") - buckets
    return path.with_suffix(".png")


def local(values: dict, out: Path) -> Path:
    """inventories/local: the same stages on one Debian machine, with podman and an AWS emulator."""
    backup = values["postgresql_pod_backup"] or {}
    receiver = (values["titanic_monitoring_receiver"] or {}).get("webhook_url", "")
    path = out / "local"
    title = "Titanic API, local system (inventories/local): one Debian machine, podman, no cloud"
    with Diagram(title, filename=str(path), show=False, outformat="png", graph_attr=GRAPH):
        client = Users("make test, curl")
        with Cluster("podman pods (kube play; the API's from the manifests rendered as for EKS)"):
            with Cluster("pod titanic-api-pod-0"):
                api = Gunicorn("gunicorn :8080\nFlask")
            with Cluster("pod titanic-postgresql"):
                database = Postgresql(
                    f"PostgreSQL 15 :{values['titanic_db_port']}\nTLS verify-full"
                )
                barman = Python(
                    f"barman-cloud\nWAL every {backup.get('archive_timeout', '?')}, base every"
                    f" {backup.get('base_backup_interval', '?')} s"
                )
            scrape = values["titanic_monitoring_scrape_interval"]
            with Cluster(f"pod titanic-monitoring (scrape every {scrape})"):
                prometheus = Prometheus("Prometheus :9090\nAlertmanager :9093")
                Pod("postgres and node exporters")
        registry = Pod(f"registry {values['titanic_image_registry']}")
        with Cluster(f"AWS emulator (moto_server) {values['aws_infra_endpoint_url']}"):
            bucket = S3("S3 db-backups")
            Cloudwatch("Terraform's platform\n(records of EKS, RDS)")
            secrets = SecretsManager("Secrets Manager")
        receiver_node = Pod(f"alert receiver\n{receiver}")
        client >> api >> Edge(label="TLS") >> database
        database >> barman >> bucket
        registry >> Edge(style="dashed", label="image") >> api
        secrets >> Edge(style="dashed") >> api
        prometheus >> Edge(style="dotted") >> api
        prometheus >> receiver_node
    return path.with_suffix(".png")


def generate(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    prod, _ = inventory_values.read("prod")
    _, local_values = inventory_values.read("local", LOCAL_NAMES)
    return [aws(prod, out), local(local_values, out)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    args = parser.parse_args(argv)
    try:
        for image in generate(args.out):
            print(f"drawn {image.relative_to(REPO) if image.is_relative_to(REPO) else image}")
    except inventory_values.InventoryError as error:
        print(f"diagrams: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
