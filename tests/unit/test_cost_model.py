"""The cost model (tools/costs/model.py) on inputs of its own: how it prices what the inventories
choose, and how it refuses what it cannot price. Its agreement with the Terraform plans is
tests/terraform/test_costs.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools" / "costs"))
from model import USAGE_KEYS, CostModelError, monthly_costs, total  # noqa: E402
from report import load_prices, main  # noqa: E402

TFVARS = {
    "azs": ["eu-west-1a", "eu-west-1b"],
    "enable_nat_gateway": True,
    "single_nat_gateway": True,
    "node_groups": {
        "general": {
            "instance_types": ["m6i.large"],
            "capacity_type": "ON_DEMAND",
            "desired_size": 2,
            "disk_size": 50,
        }
    },
    "db_instance_class": "db.t4g.medium",
    "db_allocated_storage": 50,
    "db_multi_az": False,
    "backup_buckets": {"db-backups": {}, "velero": {}},
    "log_retention_days": 30,
}
USAGE = dict.fromkeys(USAGE_KEYS, 1)


@pytest.fixture(scope="module")
def prices():
    return load_prices()


def _line(lines, service, word):
    (found,) = [line for line in lines if line.service == service and word in line.item]
    return found


def test_the_price_table_is_dated_and_every_group_names_its_source(prices):
    assert prices["checked"] and prices["currency"] == "USD"
    groups = {k: v for k, v in prices.items() if isinstance(v, dict)}
    assert groups and all(str(g.get("source", "")).startswith("https://") for g in groups.values())


def test_every_inventory_s_usage_is_complete(prices):
    for env in ["dev", "staging", "prod"]:
        usage = yaml.safe_load((REPO / f"inventories/{env}/group_vars/all/costs.yml").read_text())
        assert set(usage["costs_usage"]) == set(USAGE_KEYS), env


def test_multi_az_doubles_the_database_and_its_storage(prices):
    single = monthly_costs("dev", TFVARS, USAGE, prices)
    multi = monthly_costs("dev", dict(TFVARS, db_multi_az=True), USAGE, prices)
    for word in ["db.t4g.medium", "GB gp3"]:
        assert _line(multi, "RDS", word).monthly == pytest.approx(
            2 * _line(single, "RDS", word).monthly, abs=0.01
        )
    assert total(multi) > total(single)


def test_spot_nodes_cost_the_table_s_share_of_on_demand(prices):
    on_demand = _line(monthly_costs("dev", TFVARS, USAGE, prices), "EC2", "general")
    groups = {"general": dict(TFVARS["node_groups"]["general"], capacity_type="SPOT")}
    spot = _line(monthly_costs("dev", dict(TFVARS, node_groups=groups), USAGE, prices), "EC2", "")
    share = prices["ec2"]["spot_share_of_on_demand"]
    assert spot.monthly == pytest.approx(on_demand.monthly * share, abs=0.01)


def test_a_nat_gateway_per_zone_and_none_when_off(prices):
    per_zone = monthly_costs("dev", dict(TFVARS, single_nat_gateway=False), USAGE, prices)
    assert _line(per_zone, "VPC", "NAT gateway").resources == {"aws_nat_gateway": 2}
    off = monthly_costs("dev", dict(TFVARS, enable_nat_gateway=False), USAGE, prices)
    assert not [line for line in off if "NAT" in line.item]
    assert _line(off, "VPC", "public IPv4").resources == {"aws_eip": 0}


def test_an_instance_type_without_a_price_is_named(prices):
    groups = {"general": dict(TFVARS["node_groups"]["general"], instance_types=["x9.huge"])}
    with pytest.raises(CostModelError, match=r"prices.yml has no price for ec2.instance_hour\[x9"):
        monthly_costs("dev", dict(TFVARS, node_groups=groups), USAGE, prices)


@pytest.mark.parametrize(
    ("usage", "said"),
    [
        ({k: v for k, v in USAGE.items() if k != "internet_out_gb"}, "missing internet_out_gb"),
        (dict(USAGE, egress_gb=3), "unknown egress_gb"),
        (dict(USAGE, log_ingest_gb=-1), "log_ingest_gb must be a number of 0 or more"),
        (dict(USAGE, log_ingest_gb="lots"), "log_ingest_gb must be a number of 0 or more"),
        (dict(USAGE, log_ingest_gb=True), "log_ingest_gb must be a number of 0 or more"),
        (None, "costs_usage must be a mapping"),
    ],
)
def test_bad_usage_is_refused_naming_the_inventory_and_the_key(prices, usage, said):
    with pytest.raises(CostModelError, match="inventories/staging/group_vars/all/costs.yml") as e:
        monthly_costs("staging", TFVARS, usage, prices)
    assert said in str(e.value)


def test_the_report_refuses_an_environment_it_does_not_know(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["qa"])
    assert exit_.value.code == 2
    assert "no such environment: qa" in capsys.readouterr().err
