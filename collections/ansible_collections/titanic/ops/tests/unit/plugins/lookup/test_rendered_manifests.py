"""titanic.ops.rendered_manifests: the render read through its index, with clear refusals."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.titanic.ops.plugins.lookup.rendered_manifests import read_render


@pytest.fixture
def render(tmp_path):
    render_dir = tmp_path / "manifests"
    render_dir.mkdir()
    (render_dir / "10-configmap.yaml").write_text("kind: ConfigMap\nmetadata: {name: api}\n")
    (render_dir / "11-secret.yaml").write_text("kind: Secret\ndata: {POSTGRES_PASSWORD: eA==}\n")
    index = tmp_path / "manifests.json"
    objects = [
        {"kind": "ConfigMap", "file": "10-configmap.yaml", "phase": "pre"},
        {"kind": "Secret", "file": "11-secret.yaml", "phase": "pre"},
    ]
    index.write_text(
        json.dumps({"target": "eks", "namespace": "titanic", "render_dir": str(render_dir), "objects": objects})
    )
    return index


def test_index_with_the_texts_of_its_files(render):
    result = read_render(str(render), "eks")
    assert result["namespace"] == "titanic"
    assert result["texts"]["10-configmap.yaml"].startswith("kind: ConfigMap")
    assert "definitions" not in result


def test_parse_gives_the_objects(render):
    result = read_render(str(render), "eks", parse=True)
    assert result["definitions"]["11-secret.yaml"]["kind"] == "Secret"


def test_missing_index_names_the_role_that_renders(tmp_path):
    with pytest.raises(AnsibleLookupError, match="role titanic_manifests renders them"):
        read_render(str(tmp_path / "none.json"), "eks")


def test_render_for_another_target_is_refused(render):
    with pytest.raises(AnsibleLookupError, match="rendered for target eks, not podman"):
        read_render(str(render), "podman")


def test_a_listed_file_that_is_missing_is_refused(render):
    index = json.loads(render.read_text())
    (render.parent / "manifests" / "11-secret.yaml").unlink()
    with pytest.raises(AnsibleLookupError, match="11-secret.yaml, which is missing"):
        read_render(str(render), index["target"])


def test_a_damaged_index_is_refused(render):
    render.write_text("{not json")
    with pytest.raises(AnsibleLookupError, match="not the JSON index"):
        read_render(str(render), "eks")
