# Copyright: titanic-ops contributors
# Apache License 2.0 (see the LICENSE of the titanic-ops repository)
"""Filter titanic.ops.workload_variant: a Deployment renamed, with pod volumes of its own, for podman."""

from __future__ import annotations

DOCUMENTATION = r"""
name: workload_variant
short_description: A Deployment under another name, with pod volumes of its own, for C(podman kube play)
version_added: 1.0.0
author: titanic-ops maintainers (@titanic-ops)
description:
  - Returns the objects of a kube file with every Deployment renamed to C(<name>-<suffix>) and every volume of
    its pod template (and each container's mount of it) renamed the same way; other objects are returned as
    they are.
  - C(podman kube play) names a pod after its Deployment and the named volume of an C(emptyDir) after the
    volume, so the variant runs next to the original without sharing its C(/tmp). C(configMap) and C(secret)
    volumes keep their source, only the volume's name in the pod changes.
  - The input is not modified.
positional: suffix
options:
  _input:
    description: Kubernetes objects (mappings), for example C(text | from_yaml_all | list).
    type: list
    elements: dict
    required: true
  suffix:
    description: Appended to the names, after a dash; lower-case letters, digits and dashes.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Write a surge copy of the API's kube file
  ansible.builtin.copy:
    dest: /var/lib/titanic-ops/local/deploy/podman-kube-surge.yaml
    content: >-
      {{ lookup('ansible.builtin.file', '/var/lib/titanic-ops/local/deploy/podman-kube.yaml') | from_yaml_all
         | titanic.ops.workload_variant('surge') | map('to_nice_yaml') | join('---\n') }}
    mode: "0600"
  # Deployment titanic-api -> titanic-api-surge (pod titanic-api-surge-pod-0),
  # volume titanic-api-tmp -> titanic-api-tmp-surge
"""

RETURN = r"""
_value:
  description: The objects, in their order, the Deployments renamed.
  type: list
  elements: dict
"""

import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

_SUFFIX = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def _plain(value):
    """A plain copy: templating may hand in containers that do not keep changes made to them."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _renamed(deployment: dict, suffix: str) -> dict:
    variant = _plain(deployment)
    try:
        variant["metadata"]["name"] = f"{deployment['metadata']['name']}-{suffix}"
        pod = variant["spec"]["template"]["spec"]
    except (KeyError, TypeError) as error:
        raise AnsibleFilterError(
            f"workload_variant: a Deployment without metadata.name or spec.template.spec ({error})"
        ) from error
    names = {volume["name"]: f"{volume['name']}-{suffix}" for volume in pod.get("volumes") or []}
    for volume in pod.get("volumes") or []:
        volume["name"] = names[volume["name"]]
    for container in (pod.get("initContainers") or []) + (pod.get("containers") or []):
        for mount in container.get("volumeMounts") or []:
            mount["name"] = names.get(mount["name"], mount["name"])
    return variant


def workload_variant(objects, suffix) -> list[dict]:
    """``[deployment, configmap] | workload_variant('surge')`` -> the Deployment renamed."""
    if not isinstance(objects, list) or not all(isinstance(item, Mapping) for item in objects):
        raise AnsibleFilterError("workload_variant: the input must be a list of Kubernetes objects")
    if not isinstance(suffix, str) or not _SUFFIX.match(suffix):
        raise AnsibleFilterError(
            f"workload_variant: the suffix must be lower-case letters, digits and dashes, not {suffix!r}"
        )
    return [
        _renamed(item, suffix) if item.get("kind") == "Deployment" else _plain(item)
        for item in objects
    ]


class FilterModule:
    """titanic.ops.workload_variant"""

    def filters(self):
        return {"workload_variant": workload_variant}
