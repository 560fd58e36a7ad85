"""titanic.ops.terraform_output_values: community.general.terraform outputs to name -> value."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.titanic.ops.plugins.filter.terraform_output_values import terraform_output_values


def test_values_of_every_type_are_kept_as_they_are():
    outputs = {
        "cluster_name": {"value": "titanic-dev", "type": "string", "sensitive": False},
        "db_port": {"value": 5432, "type": "number", "sensitive": False},
        "irsa_role_arns": {"value": {"api": "arn:aws:iam::1:role/api"}, "type": ["map", "string"], "sensitive": False},
        "subnets": {"value": ["a", "b"], "type": ["list", "string"], "sensitive": False},
        "db_password": {"value": "s3cret", "type": "string", "sensitive": True},
        "unset": {"value": None, "type": "string", "sensitive": False},
    }
    assert terraform_output_values(outputs) == {
        "cluster_name": "titanic-dev",
        "db_port": 5432,
        "irsa_role_arns": {"api": "arn:aws:iam::1:role/api"},
        "subnets": ["a", "b"],
        "db_password": "s3cret",
        "unset": None,
    }


@pytest.mark.parametrize("outputs", [None, {}])
def test_no_outputs_give_an_empty_mapping(outputs):
    assert terraform_output_values(outputs) == {}


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        ([{"value": 1}], "expects the terraform module's outputs mapping, got list"),
        ({"db_port": 5432}, "output 'db_port' has no 'value'"),
        ({"db_port": {"type": "number"}}, "output 'db_port' has no 'value'"),
    ],
)
def test_what_is_not_terraform_outputs_is_refused(outputs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        terraform_output_values(outputs)
