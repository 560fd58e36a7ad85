"""titanic.ops.cli_options and titanic.ops.label_selector: mappings as key=value strings."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.titanic.ops.plugins.filter.cli_options import cli_options
from ansible_collections.titanic.ops.plugins.filter.label_selector import label_selector


def test_cli_options_keeps_the_mapping_order_and_each_argument_whole():
    args = {"ZED": "last letter", "ALPHA": "a=b", "UID": 10001, "DEBUG": True, "EMPTY": None}
    assert cli_options(args, "build-arg") == [
        "--build-arg=ZED=last letter",
        "--build-arg=ALPHA=a=b",
        "--build-arg=UID=10001",
        "--build-arg=DEBUG=true",
        "--build-arg=EMPTY=",
    ]


def test_cli_options_of_an_empty_mapping_is_empty():
    assert cli_options({}, "label") == []


@pytest.mark.parametrize("option", ["--label", "-e", "", "build arg", None])
def test_cli_options_refuses_an_option_that_is_not_a_bare_name(option):
    with pytest.raises(AnsibleFilterError, match="bare option name"):
        cli_options({"A": "1"}, option)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (["A=1"], "expects a mapping, got list"),
        ({"A=B": "1"}, "must be a non-empty string without '='"),
        ({"": "1"}, "must be a non-empty string without '='"),
        ({1: "1"}, "must be a non-empty string without '='"),
        ({"A": ["1"]}, "value must be a string, number or boolean, got list"),
        ({"A": {"b": 1}}, "value must be a string, number or boolean, got dict"),
    ],
)
def test_cli_options_refuses_what_would_make_an_ambiguous_argument(mapping, message):
    with pytest.raises(AnsibleFilterError, match=message):
        cli_options(mapping, "env")


def test_label_selector_gives_equality_selectors_in_order():
    labels = {"app.kubernetes.io/name": "titanic-api", "app.kubernetes.io/component": "api", "tier": 1}
    assert label_selector(labels) == [
        "app.kubernetes.io/name=titanic-api",
        "app.kubernetes.io/component=api",
        "tier=1",
    ]


def test_label_selector_refuses_a_list():
    with pytest.raises(AnsibleFilterError, match="label_selector: expects a mapping"):
        label_selector(["app=api"])
