"""awx/controller.yml as playbooks/awx/configure.yml sends it, and what the awx.awx modules and the
repository's playbooks and roles accept, for the AWX suites (no controller needed).

Beside playbook_runs.py, not a conftest: tests/awx and tests/system import it by name.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
from pathlib import Path

import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar

REPO = Path(__file__).resolve().parent.parent
DATA_FILE = REPO / "awx" / "controller.yml"
CONFIGURE = REPO / "playbooks" / "awx" / "configure.yml"

# What an administrator passes with -e (the data's own default of the tag runs git).
LOAD_INPUTS = {
    "awx_configure_project_url": "https://git.example.com/titanic-ops.git",
    "awx_configure_ee_registry": "registry.example.com",
    "awx_configure_ee_tag": "0123456789abcdef0123456789abcdef01234567",
}

# The keys of an object that configure.yml reads from the environment instead of passing them:
# key -> the module parameter the values are merged into.
FROM_ENV = {
    "inputs_from_env": "inputs",
    "notification_configuration_from_env": "notification_configuration",
}

# Inputs of the controller's built-in credential types that awx/controller.yml uses (AWX's
# awx/main/models/credential/__init__.py), and which of them are secret.
BUILTIN_CREDENTIAL_FIELDS = {
    "Vault": {"vault_password": True, "vault_id": False},
    "Container Registry": {"host": False, "username": False, "password": True, "verify_ssl": False},
}

# The question types of an AWX survey and the role argument types each one can feed.
SURVEY_TYPES = {
    "text": {"str", "path", "raw"},
    "textarea": {"str", "raw"},
    "password": {"str", "raw"},
    "integer": {"int", "raw"},
    "float": {"float", "raw"},
    "multiplechoice": {"str", "bool", "raw"},
    "multiselect": {"list", "raw"},
}


@functools.cache
def controller() -> dict:
    """The data file's variables, templated as the playbook templates them with LOAD_INPUTS."""
    init_plugin_loader()
    loader = DataLoader()
    data = loader.load_from_file(str(DATA_FILE), trusted_as_template=True)
    templar = Templar(loader=loader, variables={**data, **LOAD_INPUTS})
    return {key: templar.template(value) for key, value in data.items() if key not in LOAD_INPUTS}


def job_templates() -> list[dict]:
    """Each job template as the playbook sends it: the shared base combined with the entry."""
    data = controller()
    return [
        data["awx_configure_job_template_base"] | entry
        for entry in data["awx_configure_job_templates"]
    ]


def objects_sent(variable: str) -> list[dict]:
    """The objects of one list of the data file, as module parameters (secrets from the
    environment left out: their keys are checked against the credential types instead)."""
    if variable == "awx_configure_job_templates":
        return job_templates()
    sent = []
    for entry in controller()[variable]:
        params = {key: value for key, value in entry.items() if key not in FROM_ENV}
        for key, target in FROM_ENV.items():
            if key in entry:
                params[target] = {**params.get(target, {}), **dict.fromkeys(entry[key], "from-env")}
        if variable == "awx_configure_credentials":
            params["update_secrets"] = False
        sent.append(params)
    return sent


def configure_tasks() -> list[dict]:
    """The tasks of playbooks/awx/configure.yml."""
    play = yaml.safe_load(CONFIGURE.read_text())[0]
    return play["tasks"]


def module_of(task: dict) -> str | None:
    """The awx.awx module a task calls (its short name), or None."""
    return next((key.split(".")[-1] for key in task if key.startswith("awx.awx.")), None)


def loop_variable(task: dict) -> str | None:
    """The variable a task loops over, from loop: "{{ name }}"."""
    match = re.fullmatch(r"\{\{\s*(\w+)\s*\}\}", str(task.get("loop", "")))
    return match.group(1) if match else None


class _Captured(Exception):
    pass


@functools.cache
def module_argument_spec(name: str) -> tuple[dict, dict]:
    """The argument spec an awx.awx module hands to AnsibleModule (with the connection options
    of ControllerModule), and its other validation settings (mutually_exclusive, required_if...):
    the module's main() runs until it constructs ControllerAPIModule, which raises here."""
    from ansible_collections.awx.awx.plugins.module_utils import controller_api

    module = importlib.import_module(f"ansible_collections.awx.awx.plugins.modules.{name}")

    def capture(self, argument_spec=None, **kwargs):
        raise _Captured(
            {**(argument_spec or {}), **controller_api.ControllerModule.AUTH_ARGSPEC}, kwargs
        )

    original = controller_api.ControllerAPIModule.__init__
    controller_api.ControllerAPIModule.__init__ = capture
    try:
        module.main()
    except _Captured as captured:
        return captured.args
    finally:
        controller_api.ControllerAPIModule.__init__ = original
    raise AssertionError(f"awx.awx.{name} never built its AnsibleModule")


def validate(module: str, params: dict) -> list[str]:
    """What AnsibleModule would refuse in params for an awx.awx module: unknown keys, wrong types,
    values outside choices, missing or conflicting options."""
    spec, settings = module_argument_spec(module)
    result = ArgumentSpecValidator(spec, **settings).validate(params)
    return [str(message) for message in result.error_messages]


@functools.cache
def module_documentation(name: str) -> dict:
    """The options of an awx.awx module's DOCUMENTATION (where its suboptions are described)."""
    module = importlib.import_module(f"ansible_collections.awx.awx.plugins.modules.{name}")
    return yaml.safe_load(module.DOCUMENTATION)["options"]


def spec_from_documentation(options: dict) -> dict:
    """An argument spec from documented options (with their suboptions), for the parts of a
    module's input that its own argument spec leaves untyped (workflow_nodes)."""
    spec = {}
    for name, option in options.items():
        entry = {
            key: option[key] for key in ("type", "elements", "choices", "aliases") if key in option
        }
        if option.get("required"):
            entry["required"] = True
        if "suboptions" in option:
            entry["options"] = spec_from_documentation(option["suboptions"])
        spec[name] = entry
    return spec


def validate_documented(module: str, option: str, value: dict) -> list[str]:
    """What the documented suboptions of option refuse in one element."""
    suboptions = module_documentation(module)[option]["suboptions"]
    result = ArgumentSpecValidator(spec_from_documentation(suboptions)).validate(value)
    return [str(message) for message in result.error_messages]


# --- the playbooks and roles a template runs ---------------------------------------------------


def inventory_environment(inventory_name: str) -> str:
    """The repository inventory an AWX inventory is sourced from (titanic-<env> -> <env>)."""
    sources = [
        source
        for source in controller()["awx_configure_inventory_sources"]
        if source["inventory"] == inventory_name
    ]
    assert len(sources) == 1, f"{inventory_name}: {len(sources)} inventory sources"
    return Path(sources[0]["source_path"]).parent.name


@functools.cache
def inventory_values(environment: str) -> dict:
    """group_vars/all of a repository inventory (unrendered)."""
    values = {}
    for path in sorted((REPO / "inventories" / environment / "group_vars" / "all").glob("*.yml")):
        values |= yaml.safe_load(path.read_text()) or {}
    return values


def _tasks_in(tasks: list | None):
    for task in tasks or []:
        yield task
        for section in ("block", "rescue", "always"):
            yield from _tasks_in(task.get(section))


class RoleUse:
    """A role a play reaches (roles:, include_role, import_role): its entry point and the
    variables the play hands it."""

    def __init__(self, name: str, entry: str, variables: dict):
        self.name = name
        self.entry = entry
        self.variables = variables

    @property
    def options(self) -> dict:
        specs = yaml.safe_load(
            (REPO / "roles" / self.name / "meta" / "argument_specs.yml").read_text()
        )
        specs = specs["argument_specs"]
        return specs.get(self.entry, specs["main"]).get("options", {})


class PlaybookInputs:
    """What a playbook (and the playbooks it imports) accepts: its plays' variables, the names
    its text reads, and the roles it reaches."""

    def __init__(self, playbook: str):
        self.play_vars: dict = {}
        self.texts: list[str] = []
        self.roles: list[RoleUse] = []
        self._read(REPO / playbook)

    def _read(self, path: Path) -> None:
        self.texts.append(path.read_text())
        for play in yaml.safe_load(path.read_text()):
            if "ansible.builtin.import_playbook" in play:
                self._read(path.parent / play["ansible.builtin.import_playbook"])
                continue
            self.play_vars |= play.get("vars") or {}
            for role in play.get("roles") or []:
                role = {"role": role} if isinstance(role, str) else role
                self.roles.append(RoleUse(role["role"], "main", role.get("vars") or {}))
            for section in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                for task in _tasks_in(play.get(section)):
                    for action in ("ansible.builtin.include_role", "ansible.builtin.import_role"):
                        if action in task:
                            self.roles.append(
                                RoleUse(
                                    task[action]["name"],
                                    task[action].get("tasks_from", "main"),
                                    task.get("vars") or {},
                                )
                            )

    def reads(self, variable: str) -> bool:
        word = re.compile(rf"(?<![\w.]){re.escape(variable)}(?!\w)")
        return variable in self.play_vars or any(word.search(text) for text in self.texts)

    def role_option(self, variable: str) -> tuple[str, dict] | None:
        """The role option a variable is, or is handed to ("{{ variable ... }}"), if any."""
        word = re.compile(rf"\{{\{{\s*{re.escape(variable)}(?!\w)")
        for use in self.roles:
            if variable in use.options:
                return f"{use.name}.{variable}", use.options[variable]
            for option, expression in use.variables.items():
                if (
                    isinstance(expression, str)
                    and word.search(expression)
                    and option in use.options
                ):
                    return f"{use.name}.{option}", use.options[option]
        return None


def launch_vars(name: str, answers: dict | None = None, state_dir: Path | None = None) -> dict:
    """The extra variables a launch of a job template hands its playbook, as the controller composes
    them: the template's extra_vars, then the survey's answers (its defaults where none is given).
    state_dir replaces the template's state directory (a test's own, never the real one)."""
    answers = answers or {}
    template = next(t for t in job_templates() if t["name"] == name)
    variables = dict(template.get("extra_vars", {}))
    for question in template.get("survey_spec", {}).get("spec", []):
        if question["variable"] in answers:
            variables[question["variable"]] = answers[question["variable"]]
        elif "default" in question:
            variables[question["variable"]] = question["default"]
    unasked = set(answers) - set(variables)
    assert not unasked, f"{name} asks no {sorted(unasked)}: the controller would drop them"
    if state_dir is not None:
        variables["titanic_state_dir"] = str(state_dir)
    return variables


def launch_cmdline(directory: Path, name: str, variables: dict, options: str = "") -> str:
    """ansible-runner's cmdline for a launch: the variables in an extra-vars file, as AWX passes
    them."""
    extra_file = directory / f"{re.sub(r'[^a-z0-9]+', '-', name)}.json"
    extra_file.write_text(json.dumps(variables))
    return f"-e @{extra_file}" + (f" {options}" if options else "")


def inventory_of(name: str) -> str:
    """The repository inventory a job template runs on (inventories/<env>)."""
    template = next(t for t in job_templates() if t["name"] == name)
    return f"inventories/{inventory_environment(template['inventory'])}"


def playbook_of(name: str) -> str:
    return next(t for t in job_templates() if t["name"] == name)["playbook"]
