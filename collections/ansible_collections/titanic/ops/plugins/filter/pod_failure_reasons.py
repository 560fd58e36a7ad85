# Copyright: titanic-ops contributors
# Apache License 2.0 (see the LICENSE of the titanic-ops repository)
"""Filter titanic.ops.pod_failure_reasons: why the containers of Kubernetes pods are not running."""

from __future__ import annotations

DOCUMENTATION = r"""
name: pod_failure_reasons
short_description: Why the containers of Kubernetes pods are not running, one line each
version_added: 1.0.0
author: titanic-ops maintainers (@titanic-ops)
description:
  - >-
    Takes pods as RV(kubernetes.core.k8s_info#module:resources) returns them and gives one line per container
    (init containers included) that is waiting or whose last run ended with a non-zero exit code:
    C(<pod>/<container>: <waiting reason> <waiting message> last exit <code> <reason>), the parts that are
    known only.
  - The last run is C(lastState.terminated), else C(state.terminated); a waiting container shows it even when it
    exited with 0.
  - The lines are sorted and unique, so a message made of them is stable from one run to the next.
options:
  _input:
    description: Pod objects (C(metadata.name), C(status.initContainerStatuses), C(status.containerStatuses)).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Read the pods of the failed rollout
  kubernetes.core.k8s_info:
    kind: Pod
    namespace: titanic
    label_selectors: [app.kubernetes.io/name=titanic-api]
  register: failed_pods

- name: Fail with the reasons
  ansible.builtin.fail:
    msg: "pods: {{ failed_pods.resources | titanic.ops.pod_failure_reasons | join('; ') }}"
    # pods: titanic-api-5d9c/api: CrashLoopBackOff back-off 10s restarting failed container last exit 3 Error
"""

RETURN = r"""
_value:
  description: One line per container not running, sorted, without duplicates; empty when all run.
  type: list
  elements: str
"""

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError


def _mapping(value) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def _container_reason(pod_name: str, status: Mapping) -> str | None:
    state, last_state = _mapping(status.get("state")), _mapping(status.get("lastState"))
    waiting = _mapping(state.get("waiting"))
    ended = _mapping(last_state.get("terminated")) or _mapping(state.get("terminated"))
    if not waiting and not (ended and (ended.get("exitCode") or 0) != 0):
        return None
    parts = [str(waiting.get("reason") or ""), str(waiting.get("message") or "")]
    if ended:
        parts.append(f"last exit {ended.get('exitCode', '')} {ended.get('reason') or ''}")
    detail = " ".join(part.strip() for part in parts if part.strip())
    return f"{pod_name}/{status.get('name', '?')}: {detail}"


def pod_failure_reasons(pods) -> list[str]:
    """Pods of k8s_info -> ``["pod/container: reason message last exit N reason", ...]``."""
    if isinstance(pods, (str, bytes)) or not isinstance(pods, Sequence):
        raise AnsibleFilterError(f"pod_failure_reasons: expects a list of pods, got {type(pods).__name__}")
    reasons = set()
    for pod in pods:
        if not isinstance(pod, Mapping):
            raise AnsibleFilterError(f"pod_failure_reasons: a pod must be a mapping, got {type(pod).__name__}")
        name = _mapping(pod.get("metadata")).get("name", "?")
        status = _mapping(pod.get("status"))
        for container in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
            reason = _container_reason(name, _mapping(container))
            if reason:
                reasons.add(reason)
    return sorted(reasons)


class FilterModule:
    """titanic.ops.pod_failure_reasons"""

    def filters(self):
        return {"pod_failure_reasons": pod_failure_reasons}
