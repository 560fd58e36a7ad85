"""Fixtures for the unit tests of titanic.ops: run a module's main() as Ansible would, read its result."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args


@pytest.fixture
def run_module(capsys):
    """Run ``module.main()`` with ``args``; return its result with ``failed`` set on fail_json."""

    def run(module, args: dict) -> dict:
        with patch_module_args(args), pytest.raises(SystemExit) as exited:
            module.main()
        result = json.loads(capsys.readouterr().out)
        assert bool(exited.value.code) == bool(result.get("failed")), result
        return result

    return run
