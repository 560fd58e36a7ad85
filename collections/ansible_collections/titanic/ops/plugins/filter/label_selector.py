# Copyright: titanic-ops contributors
# Apache License 2.0 (see the LICENSE of the titanic-ops repository)
"""Filter titanic.ops.label_selector: a mapping of labels as Kubernetes equality selectors."""

from __future__ import annotations

DOCUMENTATION = r"""
name: label_selector
short_description: A mapping of labels as C(key=value) Kubernetes label selectors
version_added: 1.0.0
author: titanic-ops maintainers (@titanic-ops)
description:
  - Turns a mapping of labels into one C(key=value) equality selector per label, in the mapping's order,
    the form the O(kubernetes.core.k8s_info#module:label_selectors) option takes (all must match).
  - Values are strings, numbers or booleans (V(true)/V(false)); V(null) becomes an empty value.
options:
  _input:
    description: Label keys and values; keys are non-empty strings without C(=).
    type: dict
    required: true
seealso:
  - plugin: titanic.ops.cli_options
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Read the API's pods
  kubernetes.core.k8s_info:
    kind: Pod
    namespace: titanic
    label_selectors: "{{ {'app.kubernetes.io/name': 'titanic-api', 'app.kubernetes.io/component': 'api'}
                         | titanic.ops.label_selector }}"
    # label_selectors: [app.kubernetes.io/name=titanic-api, app.kubernetes.io/component=api]
"""

RETURN = r"""
_value:
  description: One C(key=value) string per label, in the mapping's order.
  type: list
  elements: str
"""

from ansible_collections.titanic.ops.plugins.plugin_utils.key_value import key_value_pairs


def label_selector(mapping) -> list[str]:
    """``{"app": "api"} | label_selector`` -> ``["app=api"]``."""
    return key_value_pairs(mapping, "label_selector")


class FilterModule:
    """titanic.ops.label_selector"""

    def filters(self):
        return {"label_selector": label_selector}
