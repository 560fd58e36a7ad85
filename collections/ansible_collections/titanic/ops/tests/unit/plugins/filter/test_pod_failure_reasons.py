"""titanic.ops.pod_failure_reasons: why containers are not running, and the same lines as the Jinja it replaces."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.titanic.ops.plugins.filter.pod_failure_reasons import pod_failure_reasons


def pod(name: str, containers=(), init_containers=()) -> dict:
    status = {"containerStatuses": list(containers)}
    if init_containers:
        status["initContainerStatuses"] = list(init_containers)
    return {"metadata": {"name": name}, "status": status}


def container(name: str, state=None, last_state=None) -> dict:
    return {"name": name, "state": state or {"running": {}}, "lastState": last_state or {}}


CRASHING = pod(
    "api-7f9c-1",
    containers=[
        container(
            "api",
            state={"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s restarting failed container"}},
            last_state={"terminated": {"exitCode": 3, "reason": "Error"}},
        )
    ],
    init_containers=[container("wait-db", state={"terminated": {"exitCode": 0, "reason": "Completed"}})],
)
FAILED_JOB = pod("migrate-1a2b", containers=[container("migrate", state={"terminated": {"exitCode": 1, "reason": "Error"}})])
PULLING_INIT = pod(
    "api-7f9c-2",
    containers=[container("api", state={"waiting": {"reason": "PodInitializing"}})],
    init_containers=[
        container("wait-db", state={"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}})
    ],
)
RESTARTED_CLEANLY = pod(
    "api-7f9c-3",
    containers=[
        container(
            "api",
            state={"waiting": {"reason": "ContainerCreating"}},
            last_state={"terminated": {"exitCode": 0, "reason": "Completed"}},
        )
    ],
)
RUNNING = pod(
    "api-7f9c-4", containers=[container("api", last_state={"terminated": {"exitCode": 0, "reason": "Completed"}})]
)
NO_REASON = pod("api-7f9c-5", containers=[container("api", state={"terminated": {"exitCode": 137}})])
SCHEDULING = {"metadata": {"name": "api-7f9c-6"}, "status": {"phase": "Pending"}}
ALL_PODS = [CRASHING, FAILED_JOB, PULLING_INIT, RESTARTED_CLEANLY, RUNNING, NO_REASON, SCHEDULING]


def test_each_container_not_running_gives_one_sorted_line():
    assert pod_failure_reasons(ALL_PODS) == [
        "api-7f9c-1/api: CrashLoopBackOff back-off 10s restarting failed container last exit 3 Error",
        "api-7f9c-2/api: PodInitializing",
        "api-7f9c-2/wait-db: ImagePullBackOff Back-off pulling image",
        "api-7f9c-3/api: ContainerCreating last exit 0 Completed",
        "api-7f9c-5/api: last exit 137",
        "migrate-1a2b/migrate: last exit 1 Error",
    ]


def test_running_and_completed_containers_give_nothing():
    assert pod_failure_reasons([RUNNING, SCHEDULING, pod("empty")]) == []
    assert pod_failure_reasons([]) == []


def test_the_same_pod_twice_gives_its_lines_once():
    assert pod_failure_reasons([FAILED_JOB, FAILED_JOB]) == ["migrate-1a2b/migrate: last exit 1 Error"]


@pytest.mark.parametrize(("pods", "message"), [({"items": []}, "expects a list of pods, got dict"), (["api"], "got str")])
def test_what_is_not_a_list_of_pods_is_refused(pods, message):
    with pytest.raises(AnsibleFilterError, match=message):
        pod_failure_reasons(pods)


# The Jinja loop this filter replaces (the rescue of roles/titanic_deploy/tasks/apply.yml), folded as YAML folds it.
REPLACED_JINJA = " ".join(
    line.strip()
    for line in """
{% set titanic_deploy_out = [] %}
{% for pod in titanic_deploy_failed_pods.resources | default([]) %}
{% for cs in pod.status.initContainerStatuses | default([]) + pod.status.containerStatuses | default([]) %}
{% set waiting = cs.state.waiting | default({}) %}
{% set ended = cs.lastState.terminated | default(cs.state.terminated | default({})) %}
{% if waiting or (ended and ended.exitCode | default(0) != 0) %}
{% set _ = titanic_deploy_out.append(pod.metadata.name ~ '/' ~ cs.name ~ ': '
      ~ (waiting.reason | default('') ~ ' ' ~ waiting.message | default('')) | trim
      ~ (' last exit ' ~ ended.exitCode ~ ' ' ~ ended.reason | default('') if ended else '')) %}
{% endif %}
{% endfor %}
{% endfor %}
{{ titanic_deploy_out | unique | join('; ') }}
""".strip().splitlines()
)


def test_same_lines_as_the_replaced_jinja_loop():
    # The Jinja left doubled or trailing spaces where a part is missing; the filter joins the known parts only.
    templar = Templar(loader=DataLoader(), variables={"titanic_deploy_failed_pods": {"resources": ALL_PODS}})
    replaced = {" ".join(line.split()) for line in templar.template(trust_as_template(REPLACED_JINJA)).split("; ")}
    assert replaced == set(pod_failure_reasons(ALL_PODS))
