# Copyright: titanic-ops contributors
# Apache License 2.0 (see the LICENSE of the titanic-ops repository)
"""``key=value`` pairs from a mapping, shared by the filters that build command-line and selector strings."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def scalar_text(value, where: str) -> str:
    """``value`` as text: strings and numbers as is, booleans as true/false, None as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise AnsibleFilterError(f"{where}: value must be a string, number or boolean, got {type(value).__name__}")


def key_value_pairs(mapping, where: str) -> list[str]:
    """``["key=value", ...]`` in the mapping's order; keys must be non-empty text without ``=``."""
    if not isinstance(mapping, Mapping):
        raise AnsibleFilterError(f"{where}: expects a mapping, got {type(mapping).__name__}")
    pairs = []
    for key, value in mapping.items():
        if not isinstance(key, str) or not key or "=" in key:
            raise AnsibleFilterError(f"{where}: key {key!r} must be a non-empty string without '='")
        pairs.append(f"{key}={scalar_text(value, f'{where}: key {key!r}')}")
    return pairs
