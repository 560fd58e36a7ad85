# Copyright: titanic-ops contributors
# Apache License 2.0 (see the LICENSE of the titanic-ops repository)
"""Filter titanic.ops.numbered_file_names: names in order to C(NN-name.yaml) file names."""

from __future__ import annotations

DOCUMENTATION = r"""
name: numbered_file_names
short_description: Names in apply order to numbered C(NN-name.yaml) file names
version_added: 1.0.0
author: titanic-ops maintainers (@titanic-ops)
description:
  - Maps each name of a list to a file name made of its position (counting from O(start)), a dash, the name
    and C(.yaml), so that sorting the files by name gives the list's order back
    (as C(kubectl apply -f <dir>) and kustomize read them).
  - Numbers have at least two digits, and all the same number of digits, so the order holds past 99.
positional: start
options:
  _input:
    description: Names in order; non-empty, unique, without C(/).
    type: list
    elements: str
    required: true
  start:
    description: Number of the first name.
    type: int
    default: 10
"""

EXAMPLES = r"""
- name: Show the file of each manifest
  ansible.builtin.debug:
    msg: "{{ ['namespace', 'configmap', 'deployment'] | titanic.ops.numbered_file_names }}"
    # {namespace: 10-namespace.yaml, configmap: 11-configmap.yaml, deployment: 12-deployment.yaml}

- name: Number from 1
  ansible.builtin.debug:
    msg: "{{ ['namespace', 'deployment'] | titanic.ops.numbered_file_names(1) }}"
    # {namespace: 01-namespace.yaml, deployment: 02-deployment.yaml}
"""

RETURN = r"""
_value:
  description: Name to file name, in the list's order.
  type: dict
"""

from collections.abc import Sequence

from ansible.errors import AnsibleFilterError


def numbered_file_names(names, start=10) -> dict[str, str]:
    """``["a", "b"] | numbered_file_names`` -> ``{"a": "10-a.yaml", "b": "11-b.yaml"}``."""
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise AnsibleFilterError(f"numbered_file_names: expects a list of names, got {type(names).__name__}")
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise AnsibleFilterError(f"numbered_file_names: start must be a non-negative integer, got {start!r}")
    for name in names:
        if not isinstance(name, str) or not name or "/" in name:
            raise AnsibleFilterError(f"numbered_file_names: name {name!r} must be a non-empty string without '/'")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise AnsibleFilterError(f"numbered_file_names: names must be unique, repeated: {', '.join(duplicates)}")
    width = max(2, len(str(start + len(names) - 1)))
    return {name: f"{number:0{width}d}-{name}.yaml" for number, name in enumerate(names, start)}


class FilterModule:
    """titanic.ops.numbered_file_names"""

    def filters(self):
        return {"numbered_file_names": numbered_file_names}
