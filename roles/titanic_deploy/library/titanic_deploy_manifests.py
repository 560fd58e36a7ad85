#!/usr/bin/python
"""Ansible module: write rendered manifests into a directory in one step (check mode, diff)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: titanic_deploy_manifests
short_description: Write rendered manifests into a directory, one file each, and prune stale ones
description:
  - Writes each file of O(files) into O(path) (created with mode 0700) when its content
    differs, removes other C(*.yaml) files there when O(prune) is set, and writes
    O(extra_files) (absolute paths) too. One module call instead of one per file.
    Supports check mode and diff.
options:
  path:
    description: Directory of the manifests.
    type: path
    required: true
  files:
    description: File name (no directory part) to content.
    type: dict
    required: true
  mode:
    description: Mode of the files written.
    type: str
    default: "0600"
  prune:
    description: Remove C(*.yaml) files in O(path) that are not in O(files).
    type: bool
    default: true
  extra_files:
    description: Absolute path to content of further files (never pruned).
    type: dict
    default: {}
author: titanic-ops
"""

EXAMPLES = r"""
- name: Write the manifests
  titanic_deploy_manifests:
    path: /var/lib/titanic-ops/dev/deploy/manifests
    files:
      10-namespace.yaml: "apiVersion: v1\nkind: Namespace\n..."
"""

RETURN = r"""
written:
  description: Files written (or that would be, in check mode).
  returned: always
  type: list
  elements: str
removed:
  description: Stale files removed (or that would be).
  returned: always
  type: list
  elements: str
"""

import os  # noqa: E402
import tempfile  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _write(module: AnsibleModule, path: str, content: str, mode: int) -> None:
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".titanic-deploy-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.chmod(tmp, mode)
        module.atomic_move(tmp, path)
        os.chmod(path, mode)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


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
    mode = int(module.params["mode"], 8)
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
            diffs.append(
                {
                    "before_header": target,
                    "after_header": target,
                    "before": before or "",
                    "after": content,
                }
            )
    existing = sorted(os.listdir(path)) if os.path.isdir(path) else []
    removed = [
        os.path.join(path, name)
        for name in existing
        if module.params["prune"] and name.endswith(".yaml") and name not in files
    ]
    for target in removed:
        diffs.append(
            {
                "before_header": target,
                "after_header": target,
                "before": _read(target) or "",
                "after": "",
            }
        )

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
