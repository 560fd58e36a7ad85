"""The local system's API pod as podman sees it: a rollout replaces the pod, so its ID tells
whether one ran."""

from __future__ import annotations

import subprocess

API_POD = "titanic-api-pod-0"


def api_pod_id() -> str:
    return subprocess.run(
        ["podman", "pod", "inspect", "--format", "{{.ID}}", API_POD],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
