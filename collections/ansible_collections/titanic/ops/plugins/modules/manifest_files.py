#!/usr/bin/python
# Copyright: titanic-ops contributors
# Apache License 2.0 (see the LICENSE of the titanic-ops repository)
"""Ansible module: write rendered manifests into a directory in one step (check mode, diff)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: manifest_files
short_description: Write rendered manifests into a directory, one file each, and prune stale ones
version_added: 1.0.0
description:
  - Writes each file of O(files) into O(path) when its content differs, removes the other C(*.yaml) files
    there when O(prune) is set, and writes O(extra_files) (absolute paths) too. One module call instead of
    one M(ansible.builtin.copy) per file, so a changed set of manifests is one task and one diff.
  - O(path) and missing parent directories of O(extra_files) are created with mode C(0700).
  - Files are replaced atomically; a file whose content is unchanged is not touched.
options:
  path:
    description: Directory of the manifests.
    type: path
    required: true
  files:
    description:
      - File name to content. Names are plain C(*.yaml) names without a directory part.
    type: dict
    required: true
  mode:
    description: Octal mode of the files written, as a string.
    type: str
    default: "0600"
  prune:
    description: Remove C(*.yaml) files in O(path) that are not in O(files). Other files are never removed.
    type: bool
    default: true
  extra_files:
    description: Absolute path to content of further files, written like O(files) but never pruned.
    type: dict
    default: {}
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
notes:
  - The diff shows the contents; set C(no_log) on the task when a file holds a secret.
author: titanic-ops maintainers (@titanic-ops)
"""

EXAMPLES = r"""
- name: Ensure the rendered manifests are in the render directory
  titanic.ops.manifest_files:
    path: /var/lib/titanic-ops/dev/deploy/manifests
    files:
      10-namespace.yaml: |
        apiVersion: v1
        kind: Namespace
        metadata:
          name: titanic
    prune: true
  register: render

- name: Also write a file outside the directory (never pruned)
  titanic.ops.manifest_files:
    path: /var/lib/titanic-ops/local/deploy/manifests
    files: {}
    prune: false
    extra_files:
      /var/lib/titanic-ops/local/deploy/podman/kube.yaml: "{{ lookup('ansible.builtin.template', 'kube.yaml.j2') }}"
"""

RETURN = r"""
written:
  description: Absolute paths of the files written (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/var/lib/titanic-ops/dev/deploy/manifests/10-namespace.yaml]
removed:
  description: Absolute paths of the stale files removed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/var/lib/titanic-ops/dev/deploy/manifests/90-old.yaml]
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _write(module: AnsibleModule, path: str, content: str, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".titanic-ops-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.chmod(tmp, mode)
        module.atomic_move(tmp, path)
        os.chmod(path, mode)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _diff(path: str, before: str | None, after: str) -> dict:
    return {"before_header": path, "after_header": path, "before": before or "", "after": after}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "files": {"type": "dict", "required": True},
            "mode": {"type": "str", "default": "0600"},
            "prune": {"type": "bool", "default": True},
            "extra_files": {"type": "dict", "default": {}},
        },
        supports_check_mode=True,
    )
    path = module.params["path"]
    files = {name: str(content) for name, content in module.params["files"].items()}
    try:
        mode = int(module.params["mode"], 8)
    except ValueError:
        module.fail_json(msg=f"mode {module.params['mode']!r} is not an octal mode such as '0600'")
    for name in files:
        if os.path.basename(name) != name or not name.endswith(".yaml"):
            module.fail_json(msg=f"file name {name!r} must be a plain *.yaml name")

    plan = {os.path.join(path, name): content for name, content in files.items()}
    for target, content in module.params["extra_files"].items():
        if not os.path.isabs(target):
            module.fail_json(msg=f"extra file {target!r} must be an absolute path")
        plan[target] = str(content)

    written, diffs = [], []
    for target, content in plan.items():
        before = _read(target)
        if before != content:
            written.append(target)
            diffs.append(_diff(target, before, content))
    existing = sorted(os.listdir(path)) if os.path.isdir(path) else []
    removed = [
        os.path.join(path, name)
        for name in existing
        if module.params["prune"] and name.endswith(".yaml") and name not in files
    ]
    diffs.extend(_diff(target, _read(target), "") for target in removed)

    changed = bool(written or removed or not os.path.isdir(path))
    if changed and not module.check_mode:
        os.makedirs(path, mode=0o700, exist_ok=True)
        for target in written:
            os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
            _write(module, target, plan[target], mode)
        for target in removed:
            os.unlink(target)
    module.exit_json(changed=changed, written=written, removed=removed, diff=diffs)


if __name__ == "__main__":
    main()
