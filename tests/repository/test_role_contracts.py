"""Every role keeps its contract: defaults, argument specs and README agree one to one; one
license, one minimum ansible-core version; variables carry the role's prefix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ROLES = sorted(p.parent.parent.name for p in REPO.glob("roles/*/meta/main.yml"))
LICENSE = "Apache-2.0"
MIN_ANSIBLE = "2.19"


def load(path: Path) -> dict:
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def spec_options(role: str) -> dict[str, dict]:
    specs = load(REPO / "roles" / role / "meta" / "argument_specs.yml").get("argument_specs", {})
    options: dict[str, dict] = {}
    for entry in specs.values():
        options.update(entry.get("options") or {})
    return options


@pytest.mark.parametrize("role", ROLES)
def test_defaults_and_argument_specs_agree(role):
    defaults = load(REPO / "roles" / role / "defaults" / "main.yml")
    options = spec_options(role)
    undocumented = sorted(set(defaults) - set(options))
    assert not undocumented, f"defaults without an argument spec: {undocumented}"
    without_default = sorted(
        name for name, spec in options.items() if name not in defaults and not spec.get("required")
    )
    assert not without_default, (
        f"optional inputs without a default in defaults/main.yml: {without_default}"
    )
    for name, spec in options.items():
        assert spec.get("description"), f"{name} has no description in meta/argument_specs.yml"


@pytest.mark.parametrize("role", ROLES)
def test_every_default_has_a_comment(role):
    lines = (REPO / "roles" / role / "defaults" / "main.yml").read_text().splitlines()
    bare = [
        line.split(":")[0]
        for previous, line in zip(["---", *lines], lines, strict=False)
        if re.match(r"^[a-z0-9_]+:", line) and not previous.lstrip().startswith("#")
    ]
    assert not bare, f"defaults without a comment on the line above: {bare}"


@pytest.mark.parametrize("role", ROLES)
def test_readme_lists_every_input(role):
    readme = (REPO / "roles" / role / "README.md").read_text()
    listed = set(re.findall(r"^\| `([a-z0-9_]+)` \|", readme, re.M))
    expected = set(spec_options(role))
    assert listed == expected, (
        f"README table: missing {sorted(expected - listed)}, unknown {sorted(listed - expected)}"
    )


@pytest.mark.parametrize("role", ROLES)
def test_variables_carry_the_role_prefix(role):
    names = set(load(REPO / "roles" / role / "defaults" / "main.yml"))
    names |= set(load(REPO / "roles" / role / "vars" / "main.yml"))
    foreign = sorted(n for n in names if not n.startswith(f"{role}_"))
    assert not foreign, f"variables without the prefix {role}_: {foreign}"


@pytest.mark.parametrize("role", ROLES)
def test_one_license_and_one_minimum_version(role):
    info = load(REPO / "roles" / role / "meta" / "main.yml")["galaxy_info"]
    assert info["license"] == LICENSE
    assert str(info["min_ansible_version"]) == MIN_ANSIBLE
    assert (REPO / "LICENSE").read_text().lstrip().startswith("Apache License")
