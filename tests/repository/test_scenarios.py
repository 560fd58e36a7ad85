"""Every role is exercised by a Molecule scenario that names it; `make test` runs every scenario."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(p.parent.name for p in REPO.glob("molecule/*/molecule.yml"))
ROLES = sorted(p.parent.name for p in REPO.glob("roles/*/meta"))


def runs(scenario: str) -> str:
    """The text of the scenario's playbooks and of the playbooks they import."""
    texts = []
    for path in (REPO / "molecule" / scenario).glob("*.yml"):
        text = path.read_text()
        texts.append(text)
        for imported in re.findall(r"import_playbook:\s*(\S+)", text):
            target = (path.parent / imported).resolve()
            if target.is_relative_to(REPO / "playbooks"):
                texts.append(target.read_text())
    return "\n".join(texts)


@pytest.mark.parametrize("role", ROLES)
def test_role_is_exercised_by_a_scenario_that_names_it(role):
    word = re.compile(rf"\b{role}\b")
    naming = [
        scenario
        for scenario in SCENARIOS
        if word.search((REPO / "molecule" / scenario / "molecule.yml").read_text())
        and word.search(runs(scenario))
    ]
    assert naming, f"no scenario names role {role} in its molecule.yml and runs it"


def test_make_test_runs_every_scenario():
    makefile = (REPO / "Makefile").read_text()
    targets = re.search(r"^test:([^#\n]*)", makefile, re.M).group(1).split()
    recipes = {
        name: body
        for name, body in re.findall(r"^([a-z-]+):[^\n]*\n((?:\t[^\n]*\n)+)", makefile, re.M)
    }
    run = {s for t in targets for s in re.findall(r"molecule test -s (\S+)", recipes.get(t, ""))}
    assert run == set(SCENARIOS), f"not run by make test: {sorted(set(SCENARIOS) - run)}"
