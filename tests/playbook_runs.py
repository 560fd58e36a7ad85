"""A playbook of this repository run through ansible-runner (AWX's engine), and its outcome.

A module of its own (not conftest.py) so that a run can go to another process: the function and
the outcome are picklable by name.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import ansible_runner

REPO = Path(__file__).resolve().parent.parent


class PlaybookRun:
    """The outcome of one ansible-runner run: status, per-host stats and the failure messages."""

    def __init__(self, runner: ansible_runner.Runner):
        self.status = runner.status
        self.rc = runner.rc
        self.stats = runner.stats or {}
        self.stdout = runner.stdout.read()
        # Failure messages, including those of the items of a failed loop.
        self.failures = []
        for event in runner.events:
            if event.get("event") not in ("runner_on_failed", "runner_item_on_failed"):
                continue
            result = event["event_data"].get("res", {})
            self.failures.append(result.get("msg", ""))
            self.failures += [item.get("msg", "") for item in result.get("results", [])]
        self.changed_tasks = [
            event["event_data"].get("task", "")
            for event in runner.events
            if event.get("event") == "runner_on_ok"
            and event["event_data"].get("res", {}).get("changed")
        ]

    def total(self, key: str) -> int:
        return sum(self.stats.get(key, {}).values())


def run_playbook_in(
    private: Path, playbook: str, inventory: str | Path = "inventories/local", cmdline: str = ""
) -> PlaybookRun:
    """Run a playbook of this repository with `private` as ansible-runner's private data
    directory (a new one per run); inventory is relative to the repository or absolute."""
    runner = ansible_runner.run(
        private_data_dir=str(private),
        project_dir=str(REPO),
        playbook=str(REPO / playbook),
        inventory=str(REPO / inventory) if not Path(inventory).is_absolute() else str(inventory),
        cmdline=cmdline,
        envvars={"ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"},
        quiet=True,
    )
    outcome = PlaybookRun(runner)
    shutil.rmtree(private / "artifacts", ignore_errors=True)
    return outcome


def run_playbook_repeatedly(
    private: Path, playbook: str, inventory: str, cmdline: str, repeat: int
) -> list[PlaybookRun]:
    """`repeat` runs of one playbook, one after another, each in a private directory of its own
    (what a worker process of a pool runs: pickled by name, so it lives here, not in a conftest)."""
    runs = []
    for attempt in range(repeat):
        runner_dir = private / f"runner-{attempt}"
        runner_dir.mkdir(parents=True)
        runs.append(run_playbook_in(runner_dir, playbook, inventory, cmdline))
    return runs
