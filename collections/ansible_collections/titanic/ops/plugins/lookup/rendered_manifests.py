# Copyright: titanic-ops contributors
# Apache License 2.0 (see the LICENSE of the titanic-ops repository)
"""Lookup titanic.ops.rendered_manifests: the render of role titanic_manifests, read through its index."""

from __future__ import annotations

DOCUMENTATION = r"""
name: rendered_manifests
short_description: The render of role titanic_manifests, read through its index
version_added: 1.0.0
author: titanic-ops maintainers (@titanic-ops)
description:
  - Reads the index that role titanic_manifests writes next to its render (C(manifests.json)), checks that the
    render is for the expected target, and returns the index with the text of every file it lists under
    C(texts) (file name to text) and, with O(parse), the parsed objects under C(definitions).
  - The appliers (roles titanic_eks and titanic_podman) read the render this way, never the renderer's variables.
options:
  _terms:
    description: Path of the index file (one).
    required: true
  target:
    description: The target the render must be for (V(eks) or V(podman)).
    type: str
    required: true
  parse:
    description: Also parse each file as YAML into C(definitions).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Read the rendered manifests
  ansible.builtin.set_fact:
    manifests: "{{ lookup('titanic.ops.rendered_manifests', state_dir ~ '/deploy/manifests.json', target='eks',
                          parse=true) }}"
"""

RETURN = r"""
_raw:
  description: The index (target, environment, namespace, render_dir, objects, ...) with C(texts) and, with
    O(parse), C(definitions).
  type: list
  elements: dict
"""

import json  # noqa: E402
import os  # noqa: E402

import yaml  # noqa: E402
from ansible.errors import AnsibleLookupError  # noqa: E402
from ansible.plugins.lookup import LookupBase  # noqa: E402


def read_render(index_file: str, target: str, parse: bool = False) -> dict:
    """The index of a render with the texts (and parsed objects) of the files it lists."""
    try:
        with open(index_file, encoding="utf-8") as handle:
            index = json.load(handle)
    except FileNotFoundError:
        raise AnsibleLookupError(
            f"no rendered manifests at {index_file}; role titanic_manifests renders them "
            "(ansible-playbook playbooks/deploy.yml runs both)"
        ) from None
    except ValueError as error:
        raise AnsibleLookupError(f"{index_file} is not the JSON index of a render: {error}") from None
    if index.get("target") != target:
        raise AnsibleLookupError(
            f"{index_file} was rendered for target {index.get('target')}, not {target} "
            "(titanic_deploy_target of the inventory)"
        )
    texts = {}
    for entry in index.get("objects", []):
        path = os.path.join(index["render_dir"], entry["file"])
        try:
            with open(path, encoding="utf-8") as handle:
                texts[entry["file"]] = handle.read()
        except FileNotFoundError:
            raise AnsibleLookupError(f"{index_file} lists {path}, which is missing") from None
    result = dict(index, texts=texts)
    if parse:
        result["definitions"] = {name: yaml.safe_load(text) for name, text in texts.items()}
    return result


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if len(terms) != 1:
            raise AnsibleLookupError("rendered_manifests takes exactly one index file")
        return [read_render(str(terms[0]), self.get_option("target"), self.get_option("parse"))]
