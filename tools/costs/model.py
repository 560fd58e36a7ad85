"""The monthly cost model of an AWS environment (`make costs`, docs/costs.md).

Inputs: the Terraform variables the inventory gives its environment (role aws_infra's render_tfvars:
what Terraform builds), the inventory's `costs_usage` (what the environment does in a month) and the
price table (prices.yml). Output: one line per billable thing, each naming the Terraform resource
types it prices and how many of them, which tests/terraform/test_costs.py checks against the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Resource types a plan may hold that AWS does not bill (configuration of billed things, IAM,
# networking without an hourly price). A type in neither this set nor a line fails the test.
FREE_RESOURCE_TYPES = frozenset(
    {
        "aws_config_configuration_recorder_status",
        "aws_config_delivery_channel",
        "aws_db_parameter_group",
        "aws_db_subnet_group",
        "aws_default_security_group",
        "aws_ecr_lifecycle_policy",
        "aws_ecr_repository_policy",
        "aws_eks_access_entry",
        "aws_eks_access_policy_association",
        "aws_eks_addon",  # the add-on is free; what it runs is on the nodes
        "aws_iam_openid_connect_provider",
        "aws_iam_policy",
        "aws_iam_role",
        "aws_iam_role_policy",
        "aws_iam_role_policy_attachment",
        "aws_internet_gateway",
        "aws_kms_alias",
        "aws_launch_template",
        "aws_route",
        "aws_route_table",
        "aws_route_table_association",
        "aws_s3_bucket_lifecycle_configuration",
        "aws_s3_bucket_ownership_controls",
        "aws_s3_bucket_policy",
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_versioning",
        "aws_security_group",
        "aws_subnet",
        "aws_vpc",
        "aws_vpc_security_group_egress_rule",
        "aws_vpc_security_group_ingress_rule",
    }
)

# What the roles create outside Terraform, by count (role aws_services).
SECRETS = 3  # the API's database login, its write tokens, and RDS's managed master secret
ALARMS = 2  # api-errors and db-cpu
# The WAF web ACL's rules (terraform/modules/waf): the rate limit and two AWS managed rule groups.
WAF_RULES = 3

USAGE_KEYS = {
    "api_requests_million": "API requests a month, millions (WAF, ALB)",
    "alb_average_lcu": "the ALB's average load balancer capacity units",
    "internet_out_gb": "data to the internet a month, GB",
    "nat_processed_gb": "data through the NAT gateways a month, GB (image pulls, AWS APIs)",
    "inter_az_gb": "data between zones a month, GB (pods, nodes to RDS)",
    "log_ingest_gb": "logs sent to CloudWatch a month, GB (control plane, flow logs, WAF, pods)",
    "rds_backup_gb": "RDS backup storage beyond the free allowance, GB",
    "backup_bucket_gb": "data in the backup buckets, GB (Velero)",
    "audit_log_gb": "CloudTrail log files and AWS Config snapshots kept in the audit bucket, GB",
    "volume_snapshot_gb": "Velero's EBS snapshots, GB",
    "image_storage_gb": "images in ECR, GB (the API's and the execution environment's)",
    "kms_requests_10k": "KMS requests a month, tens of thousands",
    "s3_data_events_100k": "CloudTrail data events on the backup buckets a month, 100k",
    "management_events_million": "CloudTrail management events a month, millions (GuardDuty)",
    "flow_and_dns_logs_gb": "VPC flow and DNS logs GuardDuty analyses a month, GB",
    "eks_audit_events_million": "EKS audit events a month, millions (GuardDuty EKS protection)",
    "config_items": "configuration items AWS Config records a month",
    "config_rule_evaluations": "AWS Config rule evaluations a month",
}


class CostModelError(ValueError):
    """An input the model cannot price, said so that the inventory or price table can be fixed."""


@dataclass(frozen=True)
class Line:
    service: str
    item: str
    quantity: float
    unit: str
    unit_price: float
    # Terraform resource types this line prices and how many of them the plan should hold
    # (None: the count follows usage, not the inventory).
    resources: dict[str, int | None] = field(default_factory=dict)

    @property
    def monthly(self) -> float:
        return round(self.quantity * self.unit_price, 2)


def _price(prices: dict, group: str, key: str, name: str | None = None) -> float:
    try:
        value = prices[group][key]
        return float(value[name] if name is not None else value)
    except KeyError:
        missing = f"{group}.{key}" + (f"[{name}]" if name is not None else "")
        raise CostModelError(
            f"tools/costs/prices.yml has no price for {missing}: add it with its source"
        ) from None


def check_usage(environment: str, usage: object) -> dict[str, float]:
    """The inventory's costs_usage, or a CostModelError naming every problem."""
    where = f"inventories/{environment}/group_vars/all/costs.yml: costs_usage"
    if not isinstance(usage, dict):
        raise CostModelError(f"{where} must be a mapping of {', '.join(USAGE_KEYS)}")
    problems = [f"missing {key} ({USAGE_KEYS[key]})" for key in USAGE_KEYS if key not in usage]
    problems += [f"unknown {key}" for key in usage if key not in USAGE_KEYS]
    problems += [
        f"{key} must be a number of 0 or more, not {value!r}"
        for key, value in usage.items()
        if key in USAGE_KEYS
        and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0)
    ]
    if problems:
        raise CostModelError(f"{where}: " + "; ".join(problems))
    return {key: float(value) for key, value in usage.items()}


def nat_gateway_count(tfvars: dict) -> int:
    """As terraform/modules/network counts them."""
    if not tfvars["enable_nat_gateway"]:
        return 0
    return 1 if tfvars["single_nat_gateway"] else len(tfvars["azs"])


def kms_key_count(tfvars: dict) -> int:
    """One key each: EKS secrets, RDS, the two ECR repositories, the VPC's flow logs, the WAF's
    logs, the backup buckets, the audit bucket and the image signatures' bucket."""
    return 9


def log_group_count(tfvars: dict) -> int:
    """EKS control plane, VPC flow logs, WAF (the API's own group is role aws_services')."""
    return 3


def monthly_costs(environment: str, tfvars: dict, usage: dict, prices: dict) -> list[Line]:
    """The lines of one environment's month."""
    usage = check_usage(environment, usage)
    hours = float(prices["hours_per_month"])
    lines = [
        Line(
            "EKS",
            "control plane",
            hours,
            "hour",
            _price(prices, "eks", "cluster_hour"),
            {"aws_eks_cluster": 1},
        ),
    ]
    spot_share = _price(prices, "ec2", "spot_share_of_on_demand")
    for name, group in sorted(tfvars["node_groups"].items()):
        instance_type = group["instance_types"][0]
        per_hour = _price(prices, "ec2", "instance_hour", instance_type)
        capacity = group.get("capacity_type", "ON_DEMAND")
        if capacity == "SPOT":
            per_hour *= spot_share
        nodes = group["desired_size"]
        lines.append(
            Line(
                "EC2",
                f"node group {name}: {nodes} x {instance_type} {capacity.lower()}",
                nodes * hours,
                "instance-hour",
                per_hour,
                {"aws_eks_node_group": None},
            )
        )
        lines.append(
            Line(
                "EBS",
                f"node group {name}: {nodes} x {group['disk_size']} GB gp3",
                nodes * group["disk_size"],
                "GB-month",
                _price(prices, "ec2", "gp3_gb_month"),
            )
        )

    nats = nat_gateway_count(tfvars)
    if nats:
        lines += [
            Line(
                "VPC",
                f"{nats} NAT gateway(s)",
                nats * hours,
                "hour",
                _price(prices, "vpc", "nat_gateway_hour"),
                {"aws_nat_gateway": nats},
            ),
            Line(
                "VPC",
                "NAT data processed",
                usage["nat_processed_gb"],
                "GB",
                _price(prices, "vpc", "nat_gateway_processed_gb"),
            ),
        ]
    # The NAT gateways' Elastic IPs and the ALB's address in each zone.
    addresses = nats + len(tfvars["azs"])
    lines.append(
        Line(
            "VPC",
            f"{addresses} public IPv4 addresses",
            addresses * hours,
            "address-hour",
            _price(prices, "vpc", "public_ipv4_hour"),
            {"aws_eip": nats},
        )
    )

    lines += [
        Line("ELB", "the API's ALB", hours, "hour", _price(prices, "elb", "alb_hour")),
        Line(
            "ELB",
            "ALB capacity units",
            usage["alb_average_lcu"] * hours,
            "LCU-hour",
            _price(prices, "elb", "lcu_hour"),
        ),
        Line(
            "WAF",
            "web ACL",
            1,
            "month",
            _price(prices, "waf", "web_acl_month"),
            {"aws_wafv2_web_acl": 1},
        ),
        Line(
            "WAF",
            f"{WAF_RULES} rules",
            WAF_RULES,
            "rule-month",
            _price(prices, "waf", "rule_month"),
        ),
        Line(
            "WAF",
            "requests",
            usage["api_requests_million"],
            "million",
            _price(prices, "waf", "requests_million"),
        ),
    ]

    copies = 2 if tfvars["db_multi_az"] else 1
    az = "Multi-AZ" if copies == 2 else "single-AZ"
    db_class = tfvars["db_instance_class"]
    lines += [
        Line(
            "RDS",
            f"{db_class} {az}",
            copies * hours,
            "instance-hour",
            _price(prices, "rds", "instance_hour", db_class),
            {"aws_db_instance": 1},
        ),
        Line(
            "RDS",
            f"{tfvars['db_allocated_storage']} GB gp3 {az}",
            copies * tfvars["db_allocated_storage"],
            "GB-month",
            _price(prices, "rds", "gp3_gb_month"),
        ),
        Line(
            "RDS",
            "backup storage beyond the free allowance",
            usage["rds_backup_gb"],
            "GB-month",
            _price(prices, "rds", "backup_gb_month"),
        ),
    ]

    buckets = len(tfvars["backup_buckets"])
    lines += [
        Line(
            "S3",
            f"{buckets} backup buckets",
            usage["backup_bucket_gb"],
            "GB-month",
            _price(prices, "s3", "standard_gb_month"),
            # and the audit bucket, below, and the image signatures' (kilobytes: no line of its own)
            {"aws_s3_bucket": buckets + 2},
        ),
        Line(
            "S3",
            "the audit bucket",
            usage["audit_log_gb"],
            "GB-month",
            _price(prices, "s3", "standard_gb_month"),
        ),
        Line(
            "EBS",
            "Velero's volume snapshots",
            usage["volume_snapshot_gb"],
            "GB-month",
            _price(prices, "ebs_snapshots", "gb_month"),
        ),
        Line(
            "ECR",
            "2 repositories",
            usage["image_storage_gb"],
            "GB-month",
            _price(prices, "ecr", "storage_gb_month"),
            {"aws_ecr_repository": 2},
        ),
    ]

    keys = kms_key_count(tfvars)
    lines += [
        Line(
            "KMS",
            f"{keys} keys",
            keys,
            "key-month",
            _price(prices, "kms", "key_month"),
            {"aws_kms_key": keys},
        ),
        Line(
            "KMS",
            "requests",
            usage["kms_requests_10k"],
            "10k requests",
            _price(prices, "kms", "requests_10k"),
        ),
        Line(
            "Secrets Manager",
            f"{SECRETS} secrets",
            SECRETS,
            "secret-month",
            _price(prices, "secrets_manager", "secret_month"),
        ),
    ]

    # Logs kept for the retention, at the ingest rate: the steady state, at most a year's worth.
    kept_months = min(tfvars["log_retention_days"], 365) / 30
    groups = log_group_count(tfvars)
    lines += [
        Line(
            "CloudWatch",
            "logs ingested",
            usage["log_ingest_gb"],
            "GB",
            _price(prices, "cloudwatch", "logs_ingest_gb"),
            {
                "aws_cloudwatch_log_group": groups,
                "aws_flow_log": 1,
                "aws_wafv2_web_acl_logging_configuration": 1,
            },
        ),
        Line(
            "CloudWatch",
            f"logs kept {tfvars['log_retention_days']} days",
            usage["log_ingest_gb"] * kept_months,
            "GB-month",
            _price(prices, "cloudwatch", "logs_storage_gb_month"),
        ),
        Line(
            "CloudWatch",
            f"{ALARMS} alarms",
            ALARMS,
            "alarm-month",
            _price(prices, "cloudwatch", "alarm_month"),
        ),
        Line(
            "Data transfer",
            "to the internet",
            usage["internet_out_gb"],
            "GB",
            _price(prices, "data_transfer", "out_gb"),
        ),
        Line(
            "Data transfer",
            "between zones (each way)",
            2 * usage["inter_az_gb"],
            "GB",
            _price(prices, "data_transfer", "inter_az_gb"),
        ),
    ]
    lines += [
        Line(
            "CloudTrail",
            "data events of the backup buckets (management events: first trail, free)",
            usage["s3_data_events_100k"],
            "100k events",
            _price(prices, "cloudtrail", "data_events_100k"),
            {"aws_cloudtrail": 1},
        ),
        Line(
            "GuardDuty",
            "CloudTrail management events analysed",
            usage["management_events_million"],
            "million events",
            _price(prices, "guardduty", "management_events_million"),
            {"aws_guardduty_detector": 1},
        ),
        Line(
            "GuardDuty",
            "VPC flow and DNS logs analysed",
            usage["flow_and_dns_logs_gb"],
            "GB",
            _price(prices, "guardduty", "flow_and_dns_logs_gb"),
        ),
        Line(
            "GuardDuty",
            "EKS audit logs analysed (EKS protection)",
            usage["eks_audit_events_million"],
            "million events",
            _price(prices, "guardduty", "eks_audit_events_million"),
            {"aws_guardduty_detector_feature": 1},
        ),
        Line(
            "Config",
            "configuration items recorded",
            usage["config_items"],
            "item",
            _price(prices, "config", "configuration_item"),
            {"aws_config_configuration_recorder": 1},
        ),
        Line(
            "Config",
            "rule evaluations",
            usage["config_rule_evaluations"],
            "evaluation",
            _price(prices, "config", "rule_evaluation"),
            {"aws_config_config_rule": None},
        ),
    ]
    return lines


def total(lines: list[Line]) -> float:
    return round(sum(line.monthly for line in lines), 2)
