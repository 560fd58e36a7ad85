"""inventories/README.md lists every variable an operator sets, per file and environment, and no
inventory wires one role's variable to another's (wiring lives in role defaults)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ENVIRONMENTS = {"L": "local", "D": "dev", "S": "staging", "P": "prod"}
# Inventory-wide values that an inventory may refer to: the state directory and the local database.
SHARED = {
    "titanic_state_dir",
    "titanic_db_name",
    "titanic_db_port",
    "titanic_db_master_user",
    "titanic_db_master_password",
}


def readme_tables() -> dict[str, dict[str, set[str]]]:
    """{file: {variable: {environment, ...}}} from the README's tables."""
    tables: dict[str, dict[str, set[str]]] = {}
    current = None
    for line in (REPO / "inventories" / "README.md").read_text().splitlines():
        heading = re.match(r"^## `group_vars/all/([a-z]+\.yml)`", line)
        if heading:
            current = tables.setdefault(heading.group(1), {})
            continue
        row = re.match(r"^\| (`[a-z0-9_]+`(?:, `[a-z0-9_]+`)*) \| ([LDSP ]+) \|", line)
        if row and current is not None:
            envs = {ENVIRONMENTS[letter] for letter in row.group(2).split()}
            for name in re.findall(r"`([a-z0-9_]+)`", row.group(1)):
                current[name] = envs
    return tables


def inventory_values() -> dict[str, dict[str, dict[str, object]]]:
    """{file: {variable: {environment: value}}}."""
    found: dict[str, dict[str, dict[str, object]]] = {}
    for path in sorted(REPO.glob("inventories/*/group_vars/all/*.yml")):
        environment = path.parts[-4]
        for name, value in (yaml.safe_load(path.read_text()) or {}).items():
            found.setdefault(path.name, {}).setdefault(name, {})[environment] = value
    return found


def known_variables() -> set[str]:
    names = set(SHARED) | {"titanic_environment", "titanic_deploy_target"}
    for spec in REPO.glob("roles/*/meta/argument_specs.yml"):
        for entry in yaml.safe_load(spec.read_text())["argument_specs"].values():
            names |= set(entry.get("options") or {})
    for values in inventory_values().values():
        names |= set(values)
    return names


def test_readme_lists_every_variable_in_its_file_and_environments():
    tables, values = readme_tables(), inventory_values()
    assert set(tables) == set(values), "one README section per group_vars file"
    for file, variables in values.items():
        listed = tables[file]
        assert set(listed) == set(variables), (
            f"{file}: not in the README {sorted(set(variables) - set(listed))}, "
            f"in the README but set nowhere {sorted(set(listed) - set(variables))}"
        )
        for name, per_environment in variables.items():
            assert listed[name] == set(per_environment), f"{file}: {name} environments"


def templates(value):
    if isinstance(value, str):
        yield from re.findall(r"\{\{(.*?)\}\}", value, re.S)
    elif isinstance(value, dict):
        for item in value.values():
            yield from templates(item)
    elif isinstance(value, list):
        for item in value:
            yield from templates(item)


@pytest.mark.parametrize("file", sorted(inventory_values()))
def test_no_inventory_wires_role_variables(file):
    known = known_variables()
    for name, per_environment in inventory_values()[file].items():
        for environment, value in per_environment.items():
            for template in templates(value):
                referenced = set(re.findall(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b", template)) & known
                assert referenced <= SHARED, (
                    f"inventories/{environment}/group_vars/all/{file}: {name} wires "
                    f"{sorted(referenced - SHARED)}; wiring belongs in the role's defaults"
                )
