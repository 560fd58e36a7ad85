"""Helpers of the Terraform suites (imported by conftest.py and the tests)."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = shutil.which("terraform") or "/usr/local/bin/terraform"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PlaybookRun:
    """The outcome of one ansible-runner run: status, per-host stats and the failure messages."""

    def __init__(self, runner):
        self.status = runner.status
        self.rc = runner.rc
        self.stats = runner.stats or {}
        self.stdout = runner.stdout.read()
        self.failures = [
            event["event_data"].get("res", {}).get("msg", "")
            for event in runner.events
            if event.get("event") == "runner_on_failed"
        ]

    def total(self, key: str) -> int:
        return sum(self.stats.get(key, {}).values())


def terraform(
    args: list[str], cwd: Path, env: dict, timeout: int = 300
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TERRAFORM, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
