# Copyright: titanic-ops contributors
# Apache License 2.0 (see the LICENSE of the titanic-ops repository)
"""Filter titanic.ops.cli_options: a mapping as repeated ``--option=key=value`` command-line arguments."""

from __future__ import annotations

DOCUMENTATION = r"""
name: cli_options
short_description: A mapping as repeated C(--option=key=value) command-line arguments
version_added: 1.0.0
author: titanic-ops maintainers (@titanic-ops)
description:
  - Turns a mapping into one C(--<option>=<key>=<value>) argument per entry, in the mapping's order,
    for commands that take repeated key/value options (C(podman build --build-arg), C(--label), C(podman run --env)).
  - Each argument is one list item, so it goes into C(ansible.builtin.command)'s C(argv) unsplit and unquoted.
  - Values are strings, numbers or booleans (V(true)/V(false)); V(null) becomes an empty value.
positional: option
options:
  _input:
    description: Keys and values; keys are non-empty strings without C(=).
    type: dict
    required: true
  option:
    description: Option name without the leading dashes, for example V(build-arg).
    type: str
    required: true
seealso:
  - plugin: titanic.ops.label_selector
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Build with build arguments and labels
  ansible.builtin.command:
    argv: >-
      {{ ['podman', 'build', '--tag', 'titanic-api:dev']
         + ({'PYTHON_VERSION': '3.11', 'UID': 10001} | titanic.ops.cli_options('build-arg'))
         + ({'org.opencontainers.image.revision': '3f2c1a9'} | titanic.ops.cli_options('label'))
         + ['.'] }}
  # argv: [podman, build, --tag, titanic-api:dev, --build-arg=PYTHON_VERSION=3.11, --build-arg=UID=10001,
  #        --label=org.opencontainers.image.revision=3f2c1a9, .]
  changed_when: true
"""

RETURN = r"""
_value:
  description: One C(--option=key=value) string per entry of the mapping, in its order.
  type: list
  elements: str
"""

import re

from ansible.errors import AnsibleFilterError
from ansible_collections.titanic.ops.plugins.plugin_utils.key_value import key_value_pairs

_OPTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def cli_options(mapping, option) -> list[str]:
    """``{"A": 1} | cli_options("env")`` -> ``["--env=A=1"]``."""
    if not isinstance(option, str) or not _OPTION_NAME.match(option):
        raise AnsibleFilterError(
            f"cli_options: option {option!r} must be a bare option name such as 'build-arg' (no dashes before it)"
        )
    return [f"--{option}={pair}" for pair in key_value_pairs(mapping, f"cli_options({option!r})")]


class FilterModule:
    """titanic.ops.cli_options"""

    def filters(self):
        return {"cli_options": cli_options}
