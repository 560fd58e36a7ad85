"""Role aws_emulator: start/stop idempotence, health, and a clear refusal when the port is taken."""

from __future__ import annotations

import socket
import urllib.request

from loopback import free_port

PLAYBOOK = "tests/terraform/aws_emulator.yml"


def emulator_vars(port: int, state_dir, state: str) -> str:
    return (
        f"-e aws_emulator_port={port} -e titanic_state_dir={state_dir} "
        f"-e aws_emulator_state_dir={state_dir}/aws-emulator -e aws_emulator_state={state}"
    )


def test_start_stop_idempotent(run_playbook, tmp_path):
    port = free_port()
    try:
        first = run_playbook(PLAYBOOK, cmdline=emulator_vars(port, tmp_path, "started"))
        assert first.status == "successful", first.stdout[-3000:]
        assert first.total("changed") >= 1
        url = f"http://127.0.0.1:{port}/moto-api/"
        assert urllib.request.urlopen(url, timeout=5).status == 200  # noqa: S310 - loopback
        assert (tmp_path / "aws-emulator" / "moto_server.pid").is_file()
        again = run_playbook(PLAYBOOK, cmdline=emulator_vars(port, tmp_path, "started"))
        assert again.status == "successful" and again.total("changed") == 0, again.stdout[-3000:]
    finally:
        stop = run_playbook(PLAYBOOK, cmdline=emulator_vars(port, tmp_path, "stopped"))
    assert stop.status == "successful" and stop.total("changed") == 1, stop.stdout[-3000:]
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the emulator still listens"
    stopped = run_playbook(PLAYBOOK, cmdline=emulator_vars(port, tmp_path, "stopped"))
    assert stopped.status == "successful" and stopped.total("changed") == 0


def test_port_taken_by_another_process_is_refused(run_playbook, tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        run = run_playbook(PLAYBOOK, cmdline=emulator_vars(port, tmp_path, "started"))
    assert run.status == "failed"
    assert any(f"127.0.0.1:{port} is already taken" in msg for msg in run.failures), run.failures
    assert not (tmp_path / "aws-emulator" / "moto_server.pid").exists()
