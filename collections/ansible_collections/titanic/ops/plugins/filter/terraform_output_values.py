# Copyright: titanic-ops contributors
# Apache License 2.0 (see the LICENSE of the titanic-ops repository)
"""Filter titanic.ops.terraform_output_values: Terraform outputs as plain name -> value."""

from __future__ import annotations

DOCUMENTATION = r"""
name: terraform_output_values
short_description: Terraform outputs as a plain name to value mapping
version_added: 1.0.0
author: titanic-ops maintainers (@titanic-ops)
description:
  - Takes the RV(community.general.terraform#module:outputs) of M(community.general.terraform)
    (C(name -> {value, type, sensitive})) and keeps the values only (C(name -> value)).
  - V(null) (no outputs, for example a skipped apply) gives an empty mapping.
  - Sensitive outputs keep their value; set C(no_log) where the result is shown.
options:
  _input:
    description: Outputs as returned by M(community.general.terraform).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Apply the composition
  community.general.terraform:
    project_path: terraform/environments/dev
    state: present
  register: aws_infra_terraform

- name: Publish the outputs
  ansible.builtin.set_fact:
    aws_infra_outputs: "{{ aws_infra_terraform.outputs | titanic.ops.terraform_output_values }}"
    # {cluster_name: titanic-dev, db_port: 5432, ...}
"""

RETURN = r"""
_value:
  description: Output name to value.
  type: dict
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def terraform_output_values(outputs) -> dict:
    """``{"a": {"value": 1, "type": "number", "sensitive": false}}`` -> ``{"a": 1}``."""
    if outputs is None:
        return {}
    if not isinstance(outputs, Mapping):
        raise AnsibleFilterError(
            f"terraform_output_values: expects the terraform module's outputs mapping, got {type(outputs).__name__}"
        )
    values = {}
    for name, output in outputs.items():
        if not isinstance(output, Mapping) or "value" not in output:
            raise AnsibleFilterError(f"terraform_output_values: output {name!r} has no 'value' (got {output!r})")
        values[name] = output["value"]
    return values


class FilterModule:
    """titanic.ops.terraform_output_values"""

    def filters(self):
        return {"terraform_output_values": terraform_output_values}
