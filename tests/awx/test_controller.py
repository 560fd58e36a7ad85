"""The AWX configuration (awx/controller.yml, loaded by playbooks/awx/configure.yml) against what it
describes, without a controller: every object valid for its awx.awx module's argument spec, every
template's playbook and inventory real, every survey variable an input of the playbook or of a role
it reaches with a compatible type and choices, every playbook an operator runs covered, no secret
in the data."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from awx_controller import (
    BUILTIN_CREDENTIAL_FIELDS,
    DATA_FILE,
    FROM_ENV,
    REPO,
    SURVEY_TYPES,
    PlaybookInputs,
    configure_tasks,
    controller,
    inventory_environment,
    inventory_values,
    job_templates,
    loop_variable,
    module_of,
    objects_sent,
    validate,
    validate_documented,
)
from dateutil.rrule import rrulestr
from jinja2.sandbox import SandboxedEnvironment

# Playbooks without a job template, each with the reason; every other playbook under playbooks/
# (and site.yml) must have one. First those that only site.yml runs, then those that AWX cannot.
RUN_BY_SITE = {
    "playbooks/summary.yml": "the end of site.yml: it reports what the stages of the same run "
    "published",
    "playbooks/rehearsal.yml": "the end of a rehearsal, imported by site.yml; the rehearsal "
    "templates run site.yml -e titanic_rehearsal=true",
}
OUTSIDE_AWX = {
    "playbooks/awx/configure.yml": "configures the controller itself, with the administrator's "
    "token, which no job holds",
    "playbooks/ee.yml": "builds the execution environment every job runs in, with podman on a "
    "build host (make ee, the pipeline): it exists before any job can run",
    "playbooks/platform_record.yml": "the pipeline's fresh runners (docs/ci-cd.md); AWX's jobs "
    "find the record the provision template wrote",
}
NO_TEMPLATE = RUN_BY_SITE | OUTSIDE_AWX
# Confirmation variables: typed by a person at launch (no default), given by schedules and
# workflow nodes as exactly the template's environment.
CONFIRMATIONS = {"dr_environment", "rotate_db_credentials_environment"}

LOOPED = {loop_variable(task): module_of(task) for task in configure_tasks() if loop_variable(task)}
OBJECTS = [(variable, obj) for variable in LOOPED for obj in objects_sent(variable)]
TEMPLATES = {template["name"]: template for template in job_templates()}
WORKFLOWS = {
    workflow["name"]: workflow for workflow in controller()["awx_configure_workflow_job_templates"]
}
SURVEYED = [
    (template["name"], question)
    for template in job_templates()
    for question in template.get("survey_spec", {}).get("spec", [])
]


def names(variable: str) -> set[str]:
    return {obj["name"] for obj in controller()[variable]}


# --- the modules' argument specs --------------------------------------------------------------


def test_the_playbook_loads_every_list_of_the_data_file_with_its_module():
    lists = {key for key, value in controller().items() if isinstance(value, list)}
    assert set(LOOPED) == lists, "a list of awx/controller.yml that no task loads, or the reverse"
    assert {module_of(task) for task in configure_tasks()} >= {"settings"}


@pytest.mark.parametrize(
    ("variable", "obj"), OBJECTS, ids=[f"{LOOPED[v]}:{o['name']}" for v, o in OBJECTS]
)
def test_each_object_is_valid_for_its_module(variable, obj):
    assert validate(LOOPED[variable], obj) == []


def test_the_settings_are_valid_for_the_settings_module():
    assert validate("settings", {"settings": controller()["awx_configure_settings"]}) == []


def test_the_validation_refuses_what_the_module_would_refuse():
    """The validator is the modules' own: a misspelt key, a wrong type and a value outside the
    choices are refused, so the tests above can fail."""
    template = job_templates()[0]
    assert validate("job_template", template | {"playbok": "site.yml"})
    assert validate("job_template", template | {"forks": "many"})
    assert validate("job_template", template | {"job_type": "dry-run"})
    assert validate(
        "credential", {"name": "x", "credential_type": "Vault", "organization": "o", "user": "u"}
    )


@pytest.mark.parametrize("workflow", list(WORKFLOWS))
def test_workflow_nodes_are_valid_for_their_documented_suboptions(workflow):
    for node in WORKFLOWS[workflow]["workflow_nodes"]:
        assert validate_documented("workflow_job_template", "workflow_nodes", node) == [], node[
            "identifier"
        ]


def test_tasks_carrying_secrets_log_nothing():
    for task in configure_tasks():
        if LOOPED.get(loop_variable(task)) in {"credential", "notification_template"}:
            assert task.get("no_log") is True, task["name"]


# --- no secret in git -------------------------------------------------------------------------


def credential_fields() -> dict[str, dict[str, bool]]:
    fields = dict(BUILTIN_CREDENTIAL_FIELDS)
    for kind in controller()["awx_configure_credential_types"]:
        fields[kind["name"]] = {f["id"]: bool(f.get("secret")) for f in kind["inputs"]["fields"]}
    return fields


@pytest.mark.parametrize(
    "credential", controller()["awx_configure_credentials"], ids=lambda c: c["name"]
)
def test_credentials_take_their_secrets_from_the_environment_only(credential):
    fields = credential_fields()[credential["credential_type"]]
    given, from_env = set(credential.get("inputs", {})), set(credential.get("inputs_from_env", {}))
    assert given | from_env <= set(fields), f"not inputs of {credential['credential_type']}"
    assert not given & from_env
    assert {name for name, secret in fields.items() if secret} <= from_env, (
        "a secret input not from the environment"
    )
    for variable in credential.get("inputs_from_env", {}).values():
        assert re.fullmatch(r"TITANIC_AWX_[A-Z0-9_]+", variable), variable


def test_notification_urls_come_from_the_environment():
    for notification in controller()["awx_configure_notification_templates"]:
        assert "url" not in notification["notification_configuration"]
        assert "url" in notification["notification_configuration_from_env"]


def test_each_cloud_credential_assumes_a_role_of_its_own_account():
    for credential in controller()["awx_configure_credentials"]:
        environment = re.fullmatch(r"titanic-(\w+) AWS", credential["name"])
        if environment:
            account = str(inventory_values(environment.group(1))["aws_infra_account_id"])
            assert credential["inputs"]["role_arn"].startswith(f"arn:aws:iam::{account}:role/")


def test_the_data_names_only_known_from_env_keys():
    for variable in ("awx_configure_credentials", "awx_configure_notification_templates"):
        for obj in controller()[variable]:
            assert {key for key in obj if key.endswith("_from_env")} <= set(FROM_ENV)


# --- templates, playbooks, inventories --------------------------------------------------------


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_each_template_runs_a_playbook_of_the_repository_on_an_inventory_of_it(name):
    template = TEMPLATES[name]
    assert (REPO / template["playbook"]).is_file()
    assert template["project"] in names("awx_configure_projects")
    assert template["inventory"] in names("awx_configure_inventories")
    environment = inventory_environment(template["inventory"])
    assert (REPO / "inventories" / environment / "hosts.yml").is_file()
    assert name.startswith(f"titanic-{environment} "), "the name says the environment it acts on"
    assert inventory_values(environment)["titanic_environment"] == environment
    # Jobs of a workflow hand records over through the state directory exposed to every job.
    state_root = controller()["awx_configure_settings"]["AWX_ISOLATION_SHOW_PATHS"][0]
    assert template["extra_vars"]["titanic_state_dir"] == f"{state_root}/{environment}"
    assert template["execution_environment"] in names("awx_configure_execution_environments")


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_each_template_uses_known_credentials_and_notifications(name):
    template = TEMPLATES[name]
    environment = inventory_environment(template["inventory"])
    assert set(template.get("credentials", [])) <= names("awx_configure_credentials")
    aws = {c for c in template.get("credentials", []) if c.endswith(" AWS")}
    assert aws <= {f"titanic-{environment} AWS"}, "an AWS credential of another environment"
    notifications = names("awx_configure_notification_templates")
    for key in ("notification_templates_error", "notification_templates_success"):
        assert set(template.get(key, [])) <= notifications
    assert "titanic failures" in template["notification_templates_error"]


def test_every_playbook_an_operator_runs_has_a_template():
    playbooks = {"site.yml"} | {
        str(path.relative_to(REPO)) for path in (REPO / "playbooks").rglob("*.yml")
    }
    covered = {template["playbook"] for template in TEMPLATES.values()}
    missing = playbooks - covered - set(NO_TEMPLATE)
    assert not missing, f"playbooks without a job template: {sorted(missing)}"
    assert set(NO_TEMPLATE) <= playbooks, "an exception for a playbook that no longer exists"
    assert not covered & set(NO_TEMPLATE)


def test_the_playbooks_without_a_template_are_run_by_site_yml():
    site = [
        play["ansible.builtin.import_playbook"]
        for play in yaml.safe_load((REPO / "site.yml").read_text())
    ]
    for playbook in RUN_BY_SITE:
        assert playbook in site, playbook
    assert not set(OUTSIDE_AWX) & set(site)


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_each_cloud_environment_has_the_operations_of_the_issue(environment):
    playbooks = {
        t["playbook"] for t in TEMPLATES.values() if t["inventory"] == f"titanic-{environment}"
    }
    assert playbooks >= {
        "site.yml", "playbooks/build.yml", "playbooks/provision.yml", "playbooks/deploy.yml",
        "playbooks/rollback.yml", "playbooks/dr/backup.yml", "playbooks/dr/restore.yml",
        "playbooks/dr/verify.yml", "playbooks/dr/cluster.yml",
    }  # fmt: skip
    # What refuses a cloud environment is not offered for one.
    assert not playbooks & {
        "playbooks/teardown.yml",
        "playbooks/bootstrap.yml",
        "playbooks/dr/drill.yml",
    }


def test_the_local_environment_has_teardown_and_the_drill():
    local = {t["playbook"] for t in TEMPLATES.values() if t["inventory"] == "titanic-local"}
    assert {"playbooks/teardown.yml", "playbooks/dr/drill.yml", "playbooks/dr/restore.yml"} <= local


# --- surveys ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n, t in TEMPLATES.items() if "survey_spec" in t])
def test_each_survey_is_well_formed(name):
    template = TEMPLATES[name]
    assert template["survey_enabled"] is True
    spec = template["survey_spec"]
    assert set(spec) == {"name", "description", "spec"}
    variables = [question["variable"] for question in spec["spec"]]
    assert len(variables) == len(set(variables))
    for question in spec["spec"]:
        assert {"question_name", "variable", "type", "required"} <= set(question)
        assert question["type"] in SURVEY_TYPES
        if question["type"] in {"multiplechoice", "multiselect"}:
            assert isinstance(question["choices"], list) and question["choices"]
            assert question.get("default", question["choices"][0]) in question["choices"]


@pytest.mark.parametrize(
    ("name", "question"), SURVEYED, ids=[f"{n}:{q['variable']}" for n, q in SURVEYED]
)
def test_each_survey_variable_is_an_input_with_a_compatible_type(name, question):
    inputs = PlaybookInputs(TEMPLATES[name]["playbook"])
    variable = question["variable"]
    option = inputs.role_option(variable)
    if option is None:
        # A playbook's own input: its play variable's default says its type.
        assert inputs.reads(variable), (
            f"{variable} is read by neither the playbook nor a role it reaches"
        )
        default = inputs.play_vars.get(variable, "")
        kind = "bool" if isinstance(default, bool) else "str"
        where, choices = "the playbook", None
    else:
        where, spec = option
        kind, choices = spec.get("type", "str"), spec.get("choices")
    assert kind in SURVEY_TYPES[question["type"]], (
        f"{question['type']} question for {where} of type {kind}"
    )
    if question["type"] == "multiplechoice":
        allowed = (
            {"true", "false"} if kind == "bool" else {str(c) for c in choices} if choices else None
        )
        if allowed is not None:
            assert set(question["choices"]) <= allowed, f"choices outside those of {where}"
        elif kind == "str":
            pytest.fail(f"{variable}: a multiple choice for {where}, which names no choices")


def test_confirmations_are_typed_by_a_person():
    for name, question in SURVEYED:
        if question["variable"] in CONFIRMATIONS:
            assert (
                question["type"] == "text" and question["required"] and not question.get("default")
            ), name


def launches():
    """(job template, extra data) of every schedule and workflow node."""
    for schedule in controller()["awx_configure_schedules"]:
        if schedule["unified_job_template"] in TEMPLATES:
            yield schedule["unified_job_template"], schedule.get("extra_data", {})
    for workflow in WORKFLOWS.values():
        for node in workflow["workflow_nodes"]:
            if node["unified_job_template"]["type"] == "job_template":
                yield node["unified_job_template"]["name"], node.get("extra_data", {})


def test_schedules_and_workflow_nodes_answer_every_required_question_of_their_template():
    for name, extra in launches():
        template = TEMPLATES[name]
        questions = template.get("survey_spec", {}).get("spec", [])
        # The controller accepts extra data only for variables the survey asks.
        assert set(extra) <= {q["variable"] for q in questions}, name
        for question in questions:
            if question["required"] and "default" not in question:
                assert question["variable"] in extra, (
                    f"{name}: nobody answers {question['variable']}"
                )
            if question["variable"] in extra and question["type"] == "multiplechoice":
                assert extra[question["variable"]] in question["choices"], name
        for variable in CONFIRMATIONS & set(extra):
            assert extra[variable] == inventory_environment(template["inventory"]), name


# --- workflows and schedules ------------------------------------------------------------------


def successors(workflow: dict) -> dict[str, list[str]]:
    return {
        node["identifier"]: [
            n["identifier"] for n in node.get("related", {}).get("success_nodes", [])
        ]
        for node in workflow["workflow_nodes"]
    }


def test_the_promotion_deploys_each_environment_in_stage_order_and_prod_after_an_approval():
    workflow = WORKFLOWS["titanic promote"]
    nodes = {node["identifier"]: node for node in workflow["workflow_nodes"]}
    following = successors(workflow)
    assert {target for targets in following.values() for target in targets} <= set(nodes)
    # One chain from the first node (no node precedes it) to the last.
    first = (set(nodes) - {t for targets in following.values() for t in targets}).pop()
    chain = [first]
    while following[chain[-1]]:
        assert len(following[chain[-1]]) == 1
        chain.append(following[chain[-1]][0])
    assert len(chain) == len(nodes)
    ran = [nodes[identifier]["unified_job_template"] for identifier in chain]
    stages = ["provision", "build", "addons", "deploy", "smoke test"]
    expected = [
        f"titanic-{environment} {stage}"
        for environment in ("dev", "staging", "prod")
        for stage in stages
    ]
    assert [u["name"] for u in ran if u["type"] == "job_template"] == expected
    approval = next(i for i, u in enumerate(ran) if u["type"] == "workflow_approval")
    assert ran[approval + 1]["name"] == "titanic-prod provision"
    assert all("titanic-prod" not in u["name"] for u in ran[:approval])
    for u in ran:
        if u["type"] == "job_template":
            assert u["name"] in TEMPLATES


def test_schedules_run_the_drift_checks_backup_checks_and_staging_dr_every_day():
    schedules = controller()["awx_configure_schedules"]
    runs = {schedule["unified_job_template"]: schedule for schedule in schedules}
    assert set(runs) <= set(TEMPLATES) | set(WORKFLOWS)
    for schedule in schedules:
        rule = rrulestr(schedule["rrule"].replace(" RRULE:", "\nRRULE:"))
        assert rule._freq == 3 and rule._interval == 1, f"{schedule['name']}: not daily"  # 3: DAILY
    for environment in ("dev", "staging", "prod"):
        drift = TEMPLATES[f"titanic-{environment} drift check"]
        assert f"titanic-{environment} drift check" in runs
        assert (
            drift["playbook"] == "site.yml" and drift["job_type"] == "check" and drift["diff_mode"]
        )
        assert "titanic drift report" in drift["notification_templates_success"]
        assert f"titanic-{environment} dr verify" in runs
        assert (
            TEMPLATES[f"titanic-{environment} dr verify"]["playbook"] == "playbooks/dr/verify.yml"
        )
    nightly = WORKFLOWS["titanic-staging dr nightly"]
    assert "titanic-staging dr nightly" in runs
    ran = [node["unified_job_template"]["name"] for node in nightly["workflow_nodes"]]
    assert ran == [
        "titanic-staging dr backup",
        "titanic-staging dr cluster",
        "titanic-staging dr verify",
    ]


def test_the_drift_report_counts_the_hosts_that_would_change():
    report = next(
        n
        for n in controller()["awx_configure_notification_templates"]
        if n["name"] == "titanic drift report"
    )
    assert "job.host_status_counts.changed" in report["messages"]["success"]["body"]


def test_the_execution_environment_is_the_commit_s_image():
    (environment,) = controller()["awx_configure_execution_environments"]
    assert re.fullmatch(r"registry\.example\.com/titanic-ee:[0-9a-f]{40}", environment["image"])
    assert environment["credential"] in names("awx_configure_credentials")
    (project,) = controller()["awx_configure_projects"]
    assert project["default_environment"] == environment["name"]
    for source in controller()["awx_configure_inventory_sources"]:
        assert (
            source["source_project"] == project["name"]
            and Path(REPO / source["source_path"]).is_file()
        )


def webhook_bodies():
    for notification in controller()["awx_configure_notification_templates"]:
        for event, message in notification["messages"].items():
            if event == "workflow_approval":
                for state, approval in message.items():
                    yield f"{notification['name']}:{event}.{state}", approval["body"]
            else:
                yield f"{notification['name']}:{event}", message["body"]


@pytest.mark.parametrize(("where", "body"), list(webhook_bodies()), ids=lambda v: str(v)[:40])
def test_webhook_bodies_render_to_json_of_three_lines_or_more(where, body):
    """As the controller renders them (sandboxed Jinja, the job's attributes): a body that is not
    JSON is refused by the receiver, one under three lines replaced by some controllers."""
    job = {
        "id": 7,
        "name": "titanic-dev drift check",
        "host_status_counts": {"ok": 1, "changed": 1},
    }
    rendered = (
        SandboxedEnvironment()
        .from_string(body)
        .render(
            job=job,
            job_friendly_name="Job",
            url="https://awx.example.com/#/jobs/playbook/7",
            approval_node_name="titanic approve prod",
            workflow_url="https://awx.example.com/#/jobs/workflow/8",
        )
    )
    assert isinstance(json.loads(rendered), dict), where
    assert len(rendered.strip().splitlines()) >= 3, where
    if "drift" in where and "success" in where:
        assert "1 host(s) would change (DRIFT)" in rendered


def test_the_default_image_tag_is_the_one_make_ee_gives():
    """AWX pulls titanic-ee:<awx_configure_ee_tag>; its default must be the tag role
    execution_environment gives the image of the same checkout (its git command, run here). The
    plugin loader is ready: this module's constants were templated by controller()."""
    loader = DataLoader()
    data = loader.load_from_file(str(DATA_FILE), trusted_as_template=True)
    templar = Templar(loader=loader, variables={"playbook_dir": str(REPO / "playbooks/awx")})
    default_tag = templar.template(data["awx_configure_ee_tag"])
    tasks = yaml.safe_load((REPO / "roles/execution_environment/tasks/source.yml").read_text())
    [read] = [t for t in tasks if t["name"] == "Read the git revision of the repository"]
    argv = read["ansible.builtin.command"]["argv"]
    argv = [str(REPO) if arg.startswith("{{") else arg for arg in argv]
    role_tag = subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()
    assert default_tag == role_tag
