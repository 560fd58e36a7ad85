"""titanic.ops.numbered_file_names: names in order to NN-name.yaml."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.titanic.ops.plugins.filter.numbered_file_names import numbered_file_names


def test_numbers_from_ten_in_the_list_order():
    names = ["namespace", "configmap", "deployment"]
    files = numbered_file_names(names)
    assert files == {"namespace": "10-namespace.yaml", "configmap": "11-configmap.yaml", "deployment": "12-deployment.yaml"}
    assert list(files) == names


def test_numbers_are_padded_to_two_digits_from_a_small_start():
    assert numbered_file_names(["a", "b"], 1) == {"a": "01-a.yaml", "b": "02-b.yaml"}


def test_sorting_the_file_names_gives_the_list_order_back_past_99():
    names = [f"object-{index}" for index in range(95)]
    files = numbered_file_names(names)
    assert files["object-0"] == "010-object-0.yaml"
    assert sorted(files.values()) == [files[name] for name in names]


def test_empty_list_gives_an_empty_mapping():
    assert numbered_file_names([]) == {}


@pytest.mark.parametrize(
    ("names", "start", "message"),
    [
        ("namespace", 10, "expects a list of names, got str"),
        ({"a": 1}, 10, "expects a list of names, got dict"),
        (["a", "a", "b"], 10, "names must be unique, repeated: a"),
        (["a", "sub/b"], 10, "must be a non-empty string without '/'"),
        (["a", ""], 10, "must be a non-empty string without '/'"),
        (["a"], -1, "start must be a non-negative integer"),
        (["a"], "10", "start must be a non-negative integer"),
        (["a"], True, "start must be a non-negative integer"),
    ],
)
def test_invalid_input_is_refused(names, start, message):
    with pytest.raises(AnsibleFilterError, match=message):
        numbered_file_names(names, start)
