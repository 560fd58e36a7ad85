"""titanic.ops.workload_variant: a Deployment renamed, with pod volumes of its own."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.titanic.ops.plugins.filter.workload_variant import workload_variant

DEPLOYMENT = {
    "kind": "Deployment",
    "metadata": {"name": "api", "labels": {"app.kubernetes.io/name": "api"}},
    "spec": {
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "api",
                        "volumeMounts": [
                            {"name": "api-tmp", "mountPath": "/tmp"},
                            {"name": "db-ca", "mountPath": "/etc/ca"},
                        ],
                    }
                ],
                "volumes": [
                    {"name": "api-tmp", "emptyDir": {}},
                    {"name": "db-ca", "configMap": {"name": "api-db-ca"}},
                ],
            }
        }
    },
}
CONFIGMAP = {"kind": "ConfigMap", "metadata": {"name": "api-1a2b"}, "data": {"A": "1"}}


def test_the_deployment_and_its_volumes_get_the_suffix():
    configmap, deployment = workload_variant([CONFIGMAP, DEPLOYMENT], "surge")
    assert configmap == CONFIGMAP
    assert deployment["metadata"] == {
        "name": "api-surge",
        "labels": {"app.kubernetes.io/name": "api"},
    }
    pod = deployment["spec"]["template"]["spec"]
    assert [v["name"] for v in pod["volumes"]] == ["api-tmp-surge", "db-ca-surge"]
    assert pod["volumes"][1]["configMap"] == {"name": "api-db-ca"}, "the source stays"
    assert [m["name"] for m in pod["containers"][0]["volumeMounts"]] == [
        "api-tmp-surge",
        "db-ca-surge",
    ]


def test_the_input_is_not_modified():
    workload_variant([DEPLOYMENT], "surge")
    assert DEPLOYMENT["metadata"]["name"] == "api"
    assert DEPLOYMENT["spec"]["template"]["spec"]["volumes"][0]["name"] == "api-tmp"


def test_a_pod_without_volumes_is_renamed():
    bare = {"kind": "Deployment", "metadata": {"name": "api"}, "spec": {"template": {"spec": {}}}}
    assert workload_variant([bare], "x")[0]["metadata"]["name"] == "api-x"


@pytest.mark.parametrize(
    ("objects", "suffix", "message"),
    [
        ({"kind": "Deployment"}, "surge", "list of Kubernetes objects"),
        ([DEPLOYMENT], "Surge", "lower-case"),
        ([DEPLOYMENT], "", "lower-case"),
        ([{"kind": "Deployment", "metadata": {"name": "api"}}], "surge", "spec.template.spec"),
    ],
)
def test_wrong_input_is_refused(objects, suffix, message):
    with pytest.raises(AnsibleFilterError, match=message):
        workload_variant(objects, suffix)
