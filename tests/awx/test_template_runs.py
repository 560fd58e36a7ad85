"""Job templates of awx/controller.yml launched through ansible-runner (AWX's engine) with the
variables the controller would hand them (the template's extra_vars and survey answers), where no
account or running system is needed: every run here is refused before it changes anything
(changed=0), and says why. Each proves that a survey answer reaches the check that guards it. The
runs on the converged local system are tests/system/test_awx_templates.py; what the other templates
run is proven by the suites named in docs/awx.md ("What the tests prove")."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from awx_controller import LOAD_INPUTS, inventory_of, launch_cmdline, launch_vars, playbook_of
from loopback import free_port

# (template, survey answers, what the refusal says): each a launch a person could make.
REFUSED = [
    (
        "titanic-local dr restore",
        {"dr_environment": "local", "dr_mode": "in_place"},
        "An in-place restore replaces the current database",
    ),
    (
        "titanic-dev dr restore",
        {"dr_environment": "dev", "dr_target_time": "yesterday at noon"},
        "must be ISO 8601 with its zone",
    ),
    (
        "titanic-prod dr restore",
        {"dr_environment": "staging"},
        "replaces the database of inventory 'prod'",
    ),
    (
        "titanic-staging dr cluster",
        {"dr_environment": "prod", "dr_cluster_action": "backup"},
        "a DR operation runs only where it is named",
    ),
    (
        "titanic-prod rotate database credentials",
        {"rotate_db_credentials_environment": "dev"},
        "changes the database password of inventory 'prod'",
    ),
]


@pytest.mark.parametrize(("name", "answers", "refusal"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_launch_with_a_wrong_answer_is_refused_before_anything_changes(
    run_playbook, tmp_path, name, answers, refusal
):
    variables = launch_vars(name, answers, state_dir=tmp_path / "state")
    run = run_playbook(
        playbook_of(name), inventory_of(name), launch_cmdline(tmp_path, name, variables)
    )
    assert run.status == "failed"
    message = " ".join(run.failures)
    assert refusal in message, message
    assert run.total("changed") == 0
    assert not (tmp_path / "state").exists() or not any((tmp_path / "state").rglob("*.json"))


class _NotReady(BaseHTTPRequestHandler):
    """Stands in for an API that answers but is not ready (its database unreachable)."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        body = b'{"status": 503, "title": "Service Unavailable"}'
        self.send_response(503 if self.path == "/readyz" else 200)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_smoke_test_fails_the_workflow_when_the_api_is_not_ready(run_playbook, tmp_path):
    """The promotion's gate: a deploy whose API is not ready stops the workflow before the next
    environment (the ready case runs against the real local API, tests/system)."""
    server = HTTPServer(("127.0.0.1", 0), _NotReady)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        state = tmp_path / "state"
        (state / "deploy").mkdir(parents=True)
        url = f"http://127.0.0.1:{server.server_port}"
        (state / "deploy" / "manifests.json").write_text(f'{{"api_url": "{url}"}}')
        name = "titanic-staging smoke test"
        variables = launch_vars(name, state_dir=state)
        run = run_playbook(
            playbook_of(name), inventory_of(name), launch_cmdline(tmp_path, name, variables)
        )
    finally:
        server.shutdown()
    assert run.status == "failed"
    assert any("503" in failure for failure in run.failures), run.failures


def test_the_load_refuses_without_its_secrets_naming_them_and_sends_nothing(
    run_playbook, tmp_path, monkeypatch
):
    """playbooks/awx/configure.yml stops before its first call to the controller (a closed port
    here) when a secret is missing from the environment, naming the variables, not their values."""
    for variable in [v for v in os.environ if v.startswith(("TITANIC_AWX_", "CONTROLLER_"))]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("CONTROLLER_HOST", f"https://127.0.0.1:{free_port()}")
    monkeypatch.setenv("CONTROLLER_OAUTH_TOKEN", "test-token-never-sent")
    monkeypatch.setenv("TITANIC_AWX_VAULT_PASSWORD", "vault-password-never-printed")
    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps(LOAD_INPUTS))
    run = run_playbook("playbooks/awx/configure.yml", "inventories/local", f"-e @{inputs}")
    assert run.status == "failed"
    (message,) = run.failures
    assert (
        "TITANIC_AWX_PROD_AWS_SECRET_ACCESS_KEY" in message and "TITANIC_AWX_NOTIFY_URL" in message
    )
    assert "TITANIC_AWX_VAULT_PASSWORD" not in message
    assert "vault-password-never-printed" not in run.stdout
    assert run.total("changed") == 0
    assert "Ensure the controller exposes" not in run.stdout, "a task after the refusal ran"
