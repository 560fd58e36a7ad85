"""site.yml on inventories/local: converge, prove idempotence and check mode, serve passengers."""

from __future__ import annotations

import pytest
import requests

API = "http://127.0.0.1:8080"
PASSENGERS = 887

pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def converged(run_playbook):
    first = run_playbook("site.yml")
    assert first.status == "successful", first.stdout[-4000:]
    return first


def test_site_serves_the_passengers(converged):
    response = requests.get(f"{API}/people", timeout=10)
    assert response.status_code == 200
    people = response.json()
    assert len(people) >= PASSENGERS
    assert {"uuid", "survived", "passengerClass", "name", "sex", "age"} <= people[0].keys()
    assert requests.get(f"{API}/readyz", timeout=5).status_code == 200


def test_second_run_changes_nothing(converged, run_playbook):
    second = run_playbook("site.yml")
    assert second.status == "successful", second.stdout[-4000:]
    assert second.total("changed") == 0, second.stdout[-4000:]


def test_check_diff_on_converged_system_changes_nothing(converged, run_playbook):
    check = run_playbook("site.yml", cmdline="--check --diff")
    assert check.status == "successful", check.stdout[-4000:]
    assert check.total("changed") == 0, check.stdout[-4000:]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("titanic_service_port", "eighty", "titanic_service_port"),
        ("titanic_service_log_level", "LOUD", "titanic_service_log_level"),
        ("postgresql_server_port", "[1, 2]", "postgresql_server_port"),
    ],
)
def test_wrong_inventory_value_fails_before_any_change(
    converged, run_playbook, inventory_copy, variable, value, message
):
    inventory = inventory_copy("local")
    (inventory / "group_vars" / "all" / "zz_wrong.yml").write_text(f"---\n{variable}: {value}\n")
    run = run_playbook("playbooks/deploy.yml", inventory=inventory)
    assert run.status == "failed"
    assert run.total("changed") == 0
    assert any(message in failure for failure in run.failures), run.failures
    # and the system it refused to touch still serves
    assert requests.get(f"{API}/readyz", timeout=5).status_code == 200
