"""`make costs`: the monthly cost of each AWS environment, as tools/costs/model.py computes it from
the inventory (role aws_infra's Terraform variables and costs_usage) and tools/costs/prices.yml.

Usage: python tools/costs/report.py [dev] [staging] [prod]   (all three by default)
       python tools/costs/report.py --update docs/costs.md   (`make docs`: its summary, per service)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml
from tabulate import tabulate

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(HERE), str(REPO / "tools")]
import inventory_values  # noqa: E402
import markdown_section  # noqa: E402
from model import CostModelError, Line, monthly_costs, total  # noqa: E402

ENVIRONMENTS = ["dev", "staging", "prod"]
# How the summary's section in a Markdown file is marked (tools/markdown_section.py)
SOURCE = "tools/costs/report.py --update"


def load_prices(path: Path = HERE / "prices.yml") -> dict:
    return yaml.safe_load(path.read_text())


def table(environment: str, lines: list[Line], prices: dict) -> str:
    rows = [
        (
            line.service,
            line.item,
            f"{line.quantity:,.2f} {line.unit}",
            f"{line.unit_price:g}",
            f"{line.monthly:,.2f}",
        )
        for line in lines
    ]
    rows.append(("", "total a month", "", "", f"{total(lines):,.2f}"))
    head = (
        f"{environment}: {prices['currency']} a month, {prices['region']} list prices checked "
        f"{prices['checked']} (tools/costs/prices.yml)"
    )
    body = tabulate(
        rows,
        headers=["service", "what", "quantity", "unit price", "month"],
        colalign=("left", "left", "right", "right", "right"),
        disable_numparse=True,
    )
    return f"{head}\n{body}\n"


def summary(costs: dict[str, list[Line]], prices: dict) -> str:
    """A Markdown table: each service's month per environment, and the totals."""
    services = list(dict.fromkeys(line.service for lines in costs.values() for line in lines))
    rows = [
        [service]
        + [
            f"{sum(line.monthly for line in lines if line.service == service):,.2f}"
            for lines in costs.values()
        ]
        for service in services
    ]
    rows.append(["**total a month**"] + [f"**{total(lines):,.2f}**" for lines in costs.values()])
    body = tabulate(
        rows,
        headers=["service", *costs],
        tablefmt="github",
        colalign=("left", *["right"] * len(costs)),
        disable_numparse=True,
    )
    note = (
        f"{prices['currency']} a month, {prices['region']} on-demand list prices checked"
        f" {prices['checked']}; `make costs` prints every line."
    )
    return f"{note}\n\n{body}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "environments",
        nargs="*",
        default=ENVIRONMENTS,
        metavar="ENVIRONMENT",
        help=f"one of {', '.join(ENVIRONMENTS)} (default: all)",
    )
    parser.add_argument("--update", type=Path, metavar="MARKDOWN", help="write the summary there")
    args = parser.parse_args(argv)
    # argparse's choices refuse a nargs='*' default (Python 3.11): checked here
    unknown = sorted(set(args.environments) - set(ENVIRONMENTS))
    if unknown:
        parser.error(
            f"no such environment: {', '.join(unknown)} (one of {', '.join(ENVIRONMENTS)})"
        )
    prices = load_prices()
    try:
        costs = {}
        for environment in args.environments:
            tfvars, values = inventory_values.read(environment, ["costs_usage"])
            costs[environment] = monthly_costs(environment, tfvars, values["costs_usage"], prices)
            if not args.update:
                print(table(environment, costs[environment], prices))
        if args.update:
            changed = markdown_section.replace(args.update, SOURCE, summary(costs, prices))
            print(f"{'updated' if changed else 'unchanged'} {args.update}")
    except (
        CostModelError,
        inventory_values.InventoryError,
        markdown_section.MissingMarkers,
    ) as error:
        print(f"costs: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
