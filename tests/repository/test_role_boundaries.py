"""No role, playbook or inventory reads what another role registered or set as a fact, except the
documented outputs that docs/stages.md and each role's README name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
# Documented outputs: each role's README describes them; the records are docs/stages.md's.
OUTPUTS = {
    "aws_infra": {"aws_infra_outputs"},
    "titanic_image": {"titanic_image_outcome"},
    "monitoring_dashboards": {"titanic_monitoring_dashboards"},
    "monitoring_rules": {"titanic_monitoring_rules"},
    "monitoring_pods": {"titanic_monitoring_outcome"},
    "titanic_manifests": {"titanic_manifests_outcome"},
    "titanic_podman": {"titanic_podman_outcome"},
    "rehearsal": {"rehearsal_environment"},
    "stage_records": {"titanic_platform", "titanic_published_image"},
    "velero_operations": {"velero_operations_outcome"},
    "db_recovery": {"titanic_dr_outcome"},
    "dr_drill": {"titanic_dr_drill"},
}
ROLES = sorted(p.parent.name for p in REPO.glob("roles/*/tasks"))


def tasks_of(node):
    """Every task mapping in a task file, blocks included."""
    if isinstance(node, list):
        for item in node:
            yield from tasks_of(item)
    elif isinstance(node, dict):
        yield node
        for key in ("block", "rescue", "always"):
            yield from tasks_of(node.get(key))


def inputs_of(role: str) -> set[str]:
    """The role's inputs (every entry point's options): callers pass them, even where the role also
    sets one as a fact (db_recovery fills db_recovery_expected itself when no caller gave one)."""
    specs = REPO / "roles" / role / "meta" / "argument_specs.yml"
    if not specs.exists():
        return set()
    entry_points = yaml.safe_load(specs.read_text())["argument_specs"].values()
    return {name for entry in entry_points for name in entry.get("options") or {}}


def private_names(role: str) -> set[str]:
    names: set[str] = set()
    for path in (REPO / "roles" / role / "tasks").glob("*.yml"):
        for task in tasks_of(yaml.safe_load(path.read_text())):
            if isinstance(task.get("register"), str):
                names.add(task["register"])
            facts = task.get("ansible.builtin.set_fact")
            if isinstance(facts, dict):
                names |= {name for name in facts if re.fullmatch(r"[a-z0-9_]+", name)}
    return names - OUTPUTS.get(role, set()) - inputs_of(role)


def readers(role: str) -> list[Path]:
    """The files of the other roles, the playbooks and the inventories."""
    other_roles = [
        p for p in REPO.glob("roles/**/*") if p.relative_to(REPO / "roles").parts[0] != role
    ]
    places = [
        *REPO.glob("playbooks/**/*.yml"),
        REPO / "site.yml",
        *REPO.glob("inventories/**/*.yml"),
    ]
    return [p for p in [*other_roles, *places] if p.suffix in {".yml", ".j2", ".py"}]


@pytest.mark.parametrize("role", ROLES)
def test_nobody_reads_the_private_facts_of(role):
    private = private_names(role)
    pattern = re.compile(r"\b(" + "|".join(sorted(private)) + r")\b") if private else None
    offenders = []
    for path in readers(role) if pattern else []:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            found = pattern.search(line)
            if found:
                offenders.append(f"{path.relative_to(REPO)}:{number}: {found.group(1)}")
    assert not offenders, f"private facts or registers of role {role} read elsewhere: {offenders}"


def test_documented_outputs_are_set_by_their_role():
    for role, names in OUTPUTS.items():
        text = "\n".join(p.read_text() for p in (REPO / "roles" / role).rglob("*.yml"))
        readme = (REPO / "roles" / role / "README.md").read_text()
        for name in names:
            assert name in text, f"{role} never sets {name}"
            assert name in readme, f"{role}'s README does not document its output {name}"
