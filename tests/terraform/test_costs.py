"""The cost model (tools/costs, `make costs`) against the plans of dev, staging and prod: every
resource type a plan creates is either priced by a line of the model or known to be free, and the
lines that count resources count what the plan creates. A resource added to Terraform without a
price fails here."""

from __future__ import annotations

import sys
from collections import Counter

import pytest
import yaml
from tf_helpers import CLOUD_ENVIRONMENTS, REPO

sys.path.insert(0, str(REPO / "tools" / "costs"))
from model import FREE_RESOURCE_TYPES, monthly_costs  # noqa: E402
from report import load_prices  # noqa: E402


def _usage(env: str) -> dict:
    costs = yaml.safe_load((REPO / f"inventories/{env}/group_vars/all/costs.yml").read_text())
    return costs["costs_usage"]


def _created(plan: dict) -> Counter:
    return Counter(
        rc["type"]
        for rc in plan["resource_changes"]
        if rc["mode"] == "managed" and "create" in rc["change"]["actions"]
    )


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_every_resource_type_the_plan_creates_is_priced_or_free(plans, env):
    lines = monthly_costs(env, plans[env]["tfvars"], _usage(env), load_prices())
    priced = {kind for line in lines for kind in line.resources}
    unpriced = sorted(set(_created(plans[env]["plan"])) - priced - FREE_RESOURCE_TYPES)
    assert not unpriced, (
        f"{env} plans resource types the cost model neither prices nor lists as free: {unpriced}"
        " (tools/costs/model.py)"
    )


@pytest.mark.parametrize("env", CLOUD_ENVIRONMENTS)
def test_the_model_counts_what_the_plan_creates(plans, env):
    lines = monthly_costs(env, plans[env]["tfvars"], _usage(env), load_prices())
    counted = [(kind, n) for line in lines for kind, n in line.resources.items() if n is not None]
    assert len({kind for kind, _ in counted}) == len(counted), "a type is counted by two lines"
    created = _created(plans[env]["plan"])
    assert {kind: created[kind] for kind, _ in counted} == dict(counted)
    # The nodes: what the node groups ask for, at the instance type the model prices.
    groups = [
        rc["change"]["after"]
        for rc in plans[env]["plan"]["resource_changes"]
        if rc["type"] == "aws_eks_node_group"
    ]
    nodes = sum(g["scaling_config"][0]["desired_size"] for g in groups)
    node_lines = [line for line in lines if line.service == "EC2"]
    assert sum(line.quantity for line in node_lines) == nodes * load_prices()["hours_per_month"]
