"""Every filter of titanic.ops resolves by its FQCN through ansible-core's plugin loader and templating."""

from __future__ import annotations

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("{{ {'A': 1} | titanic.ops.cli_options('env') }}", ["--env=A=1"]),
        ("{{ {'app': 'api'} | titanic.ops.label_selector }}", ["app=api"]),
        ("{{ ['ns'] | titanic.ops.numbered_file_names }}", {"ns": "10-ns.yaml"}),
        ("{{ {'a': {'value': 1}} | titanic.ops.terraform_output_values }}", {"a": 1}),
        ("{{ [] | titanic.ops.pod_failure_reasons }}", []),
        ("{{ [] | titanic.ops.workload_variant('surge') }}", []),
    ],
)
def test_filter_works_by_its_fqcn_in_a_template(expression, expected):
    assert Templar(loader=DataLoader()).template(trust_as_template(expression)) == expected
