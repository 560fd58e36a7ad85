"""Role monitoring_rules: the rules of every inventory pass promtool, every alert has a promtool
unit test where it fires and one where it does not, and a runbook that exists; wrong objectives are
refused before anything is written.

The rules are rendered through ansible-runner (tests/monitoring/render.yml includes the role) with
each inventory's values; promtool is the Debian package's (role host_bootstrap installs it).
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "monitoring_rules"
UNIT_TESTS = sorted((Path(__file__).parent / "promtool").glob("*.test.yml"))
DEV_UNIT_TEST = Path(__file__).parent / "promtool" / "dev" / "latency_bucket.test.yml"
RUNBOOKS = REPO / "docs" / "runbooks"
INVENTORIES = ["local", "dev", "staging", "prod"]
RULES_FILE = "titanic.rules.yml"
RUNBOOK_SECTIONS = ["What it means", "Impact", "First checks", "Mitigation", "Escalation"]


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail(
            "promtool is missing: Debian package prometheus (role host_bootstrap, make setup)"
        )
    return path


class Render:
    """One inventory's render: the rule file and the fact the role published."""

    def __init__(self, directory: Path, run):
        self.directory = directory
        self.run = run
        self.file = directory / "rules" / RULES_FILE
        self.rules = yaml.safe_load(self.file.read_text())
        self.fact = json.loads((directory / "fact.json").read_text())
        self.all_rules = [rule for group in self.rules["groups"] for rule in group["rules"]]
        self.alerts = {rule["alert"]: rule for rule in self.all_rules if "alert" in rule}
        self.records = {rule["record"] for rule in self.all_rules if "record" in rule}


def render(run_playbook, directory: Path, inventory: str, cmdline: str = ""):
    return run_playbook(
        "tests/monitoring/render.yml",
        inventory=f"inventories/{inventory}",
        cmdline=f"-e monitoring_rules_dest={directory / 'rules'} "
        f"-e monitoring_test_fact_file={directory / 'fact.json'} {cmdline}",
    )


@pytest.fixture(scope="session")
def renders(run_playbook, tmp_path_factory) -> dict[str, Render]:
    """Every inventory rendered once, side by side (each run is mostly Ansible's start-up)."""
    directories = {name: tmp_path_factory.mktemp(f"rules-{name}") for name in INVENTORIES}
    with ThreadPoolExecutor(max_workers=len(INVENTORIES)) as pool:
        runs = {
            inventory: pool.submit(render, run_playbook, directory, inventory)
            for inventory, directory in directories.items()
        }
    found = {}
    for inventory, future in runs.items():
        run = future.result()
        assert run.status == "successful", run.failures or run.stdout[-3000:]
        found[inventory] = Render(directories[inventory], run)
    return found


@pytest.fixture(scope="session")
def local(renders) -> Render:
    return renders["local"]


@pytest.fixture(scope="session")
def reruns(run_playbook, local, tmp_path_factory) -> dict[str, object]:
    """Side by side, on the converged local render: a second run, a --check --diff run, and a run
    with wrong objectives into a fresh directory."""
    wrong = json.dumps(
        {"monitoring_rules_slo_availability": 1.5, "monitoring_rules_slo_latency_seconds": 0.3}
    )
    fresh = tmp_path_factory.mktemp("rules-wrong")
    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = {
            "second": pool.submit(render, run_playbook, local.directory, "local"),
            "check": pool.submit(render, run_playbook, local.directory, "local", "--check --diff"),
            "wrong": pool.submit(render, run_playbook, fresh, "local", f"-e '{wrong}'"),
        }
    return {"fresh": fresh, **{name: future.result() for name, future in runs.items()}}


def unit_test_cases() -> list[tuple[str, str, bool]]:
    """(test file, alert name, fires) for every alert_rule_test of the promtool unit tests."""
    cases = []
    for path in UNIT_TESTS:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                cases.append((path.name, case["alertname"], bool(case.get("exp_alerts"))))
    return cases


@pytest.mark.parametrize("inventory", INVENTORIES)
def test_promtool_checks_the_rules_of_every_inventory(renders, inventory):
    checked = subprocess.run(
        [promtool(), "check", "rules", str(renders[inventory].file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


def test_the_promtool_unit_tests_pass_on_the_local_render(local, tmp_path):
    # rule_files in the unit tests are relative to the test file: run them next to the render.
    shutil.copy(local.file, tmp_path / RULES_FILE)
    for path in UNIT_TESTS:
        shutil.copy(path, tmp_path / path.name)
    tested = subprocess.run(
        [promtool(), "test", "rules", *(path.name for path in UNIT_TESTS)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout[-6000:] + tested.stderr[-2000:]
    assert tested.stdout.count("SUCCESS") == len(UNIT_TESTS)


def test_a_whole_second_latency_threshold_selects_its_bucket_as_either_label(renders, tmp_path):
    # dev's objective is 1 s: the bucket is le="1.0" from the client, le="1" after Prometheus 3.
    shutil.copy(renders["dev"].file, tmp_path / RULES_FILE)
    shutil.copy(DEV_UNIT_TEST, tmp_path / DEV_UNIT_TEST.name)
    tested = subprocess.run(
        [promtool(), "test", "rules", DEV_UNIT_TEST.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout[-4000:] + tested.stderr[-2000:]


def test_every_alert_has_a_firing_and_a_quiet_unit_test(local):
    cases = unit_test_cases()
    fires = {name for _, name, firing in cases if firing}
    quiet = {name for _, name, firing in cases if not firing}
    never_firing = sorted(set(local.alerts) - fires)
    assert not never_firing, f"alerts without a promtool case where they fire: {never_firing}"
    never_quiet = sorted(set(local.alerts) - quiet)
    assert not never_quiet, f"alerts without a promtool case where they stay quiet: {never_quiet}"
    unknown = sorted({name for _, name, _ in cases} - set(local.alerts))
    assert not unknown, f"promtool cases of alerts the render does not have: {unknown}"


def test_the_published_fact_is_the_rule_file(renders):
    for inventory, rendered in renders.items():
        assert rendered.fact["file"] == str(rendered.file), inventory
        assert rendered.fact["groups"] == rendered.rules["groups"], inventory
        assert rendered.fact["alerts"] == list(rendered.alerts), inventory


@pytest.mark.parametrize("inventory", INVENTORIES)
def test_every_alert_has_a_severity_and_its_annotations(renders, inventory):
    alerts = renders[inventory].alerts
    assert len(alerts) >= 13
    for name, rule in alerts.items():
        assert re.fullmatch(r"Titanic[A-Z][A-Za-z]+", name), name
        assert rule["labels"]["severity"] in {"page", "ticket"}, name
        assert {"summary", "description", "runbook_url"} <= set(rule["annotations"]), name


@pytest.mark.parametrize("inventory", INVENTORIES)
def test_every_runbook_url_names_an_existing_runbook(renders, inventory):
    base = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())[
        "monitoring_rules_runbook_base_url"
    ]
    for name, rule in renders[inventory].alerts.items():
        url = rule["annotations"]["runbook_url"]
        assert url.startswith(base + "/"), f"{name}: {url} is not under {base}"
        runbook = RUNBOOKS / url.removeprefix(base + "/")
        assert runbook.is_file(), f"{name}: {url} names a runbook that does not exist"


def test_every_runbook_is_indexed_and_complete():
    index = (RUNBOOKS / "README.md").read_text()
    runbooks = sorted(path for path in RUNBOOKS.glob("*.md") if path.name != "README.md")
    assert runbooks
    for path in runbooks:
        assert f"]({path.name})" in index, f"docs/runbooks/README.md does not link {path.name}"
        headings = re.findall(r"^## (.+)$", path.read_text(), re.M)
        missing = [section for section in RUNBOOK_SECTIONS if section not in headings]
        assert not missing, f"{path.name} lacks the sections {missing}"


def test_every_window_an_alert_reads_is_recorded(local):
    for name, rule in local.alerts.items():
        read = set(re.findall(r"\btitanic:[a-z0-9_:]+", rule["expr"]))
        unrecorded = sorted(read - local.records)
        assert not unrecorded, f"{name} reads series that no rule records: {unrecorded}"


@pytest.mark.parametrize("inventory", INVENTORIES)
def test_the_objectives_come_from_the_inventory(renders, inventory):
    values = yaml.safe_load(
        (REPO / "inventories" / inventory / "group_vars" / "all" / "monitoring.yml").read_text()
    )
    alerts = renders[inventory].alerts
    availability = values["monitoring_rules_slo_availability"]
    latency_target = values["monitoring_rules_slo_latency_target"]
    assert f"(14.4 * (1 - {availability}))" in alerts["TitanicAvailabilityBudgetBurnFast"]["expr"]
    assert f"(1 * (1 - {latency_target}))" in alerts["TitanicLatencyBudgetBurnSlow"]["expr"]
    slow = next(
        rule["expr"]
        for rule in renders[inventory].all_rules
        if rule.get("record") == "titanic:http_slow_requests:ratio_rate5m"
    )
    bound = float(values["monitoring_rules_slo_latency_seconds"])
    # A whole number of seconds: the client's le="1.0" and Prometheus 3's le="1" (promtool/dev/).
    matcher = f'le=~"{bound:.0f}(\\\\.0)?"' if bound.is_integer() else f'le="{bound}"'
    assert matcher in slow
    assert renders[inventory].alerts["TitanicApiDown"]["for"] == values["monitoring_rules_down_for"]


def test_the_histogram_buckets_are_the_applications():
    source = (REPO / "app" / "src" / "titanic_api" / "metrics.py").read_text()
    buckets = next(
        keyword.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "buckets"
    )
    role = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    assert list(ast.literal_eval(buckets)) == role["monitoring_rules_histogram_buckets"]


def test_wrong_objectives_are_refused_before_anything_is_written(reruns):
    run = reruns["wrong"]
    assert run.status == "failed"
    message = " ".join(run.failures)
    assert "monitoring_rules_slo_availability must be a ratio strictly between 0 and 1" in message
    assert "got 1.5" in message
    assert "monitoring_rules_slo_latency_seconds must be an upper bound" in message
    assert "0.25, 0.5, 1.0" in message and "got 0.3" in message
    assert not (reruns["fresh"] / "rules").exists()


def test_a_second_run_and_check_mode_change_nothing(reruns):
    for name in ("second", "check"):
        run = reruns[name]
        assert run.status == "successful", (name, run.failures)
        assert run.total("changed") == 0, (name, run.changed_tasks)
