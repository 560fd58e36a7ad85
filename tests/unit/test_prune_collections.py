"""The execution environment's pruning of the ansible bundle
(roles/execution_environment/files/prune_collections.py), on a bundle laid out as the ansible wheel
installs it: what stays is the listed collections and what they need."""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from pathlib import Path

import pytest
import yaml

SCRIPT = (
    Path(__file__).resolve().parents[2] / "roles/execution_environment/files/prune_collections.py"
)


@pytest.fixture
def bundle(tmp_path, monkeypatch):
    """A fake ansible_collections package of four collections; the script loaded against it."""
    root = tmp_path / "ansible_collections"
    collections = {
        "community.docker": {"community.library_inventory_filtering_v1": ">=1.0.0"},
        "community.library_inventory_filtering_v1": {},
        "amazon.aws": {},
        "cisco.ios": {"ansible.netcommon": ">=2.0.0"},
    }
    for name, dependencies in collections.items():
        path = root.joinpath(*name.split("."))
        path.mkdir(parents=True)
        manifest = {
            "collection_info": {"namespace": name.split(".")[0], "dependencies": dependencies}
        }
        (path / "MANIFEST.json").write_text(json.dumps(manifest))
        (path / "plugins.py").write_text("x" * 1000)
    package = types.ModuleType("ansible_collections")
    package.__path__ = [str(root)]
    monkeypatch.setitem(sys.modules, "ansible_collections", package)
    spec = importlib.util.spec_from_file_location("prune_collections", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return root, module


def write_requirements(path: Path, names: list[str]) -> Path:
    path.write_text(yaml.safe_dump({"collections": [{"name": n, "version": ">=1"} for n in names]}))
    return path


def test_keeps_the_listed_collections_and_their_dependencies(bundle, tmp_path, capsys):
    root, prune = bundle
    assert prune.main([str(write_requirements(tmp_path / "req.yml", ["community.docker"]))]) == 0
    kept = {f"{p.parent.parent.name}.{p.parent.name}" for p in root.glob("*/*/MANIFEST.json")}
    assert kept == {"community.docker", "community.library_inventory_filtering_v1"}
    assert not (root / "cisco").exists() and not (root / "amazon").exists()
    assert "freed 0 MB" in capsys.readouterr().out


def test_refuses_a_listed_collection_missing_from_the_bundle(bundle, tmp_path):
    root, prune = bundle
    with pytest.raises(SystemExit, match="awx.awx"):
        prune.main([str(write_requirements(tmp_path / "req.yml", ["amazon.aws", "awx.awx"]))])
    assert (root / "cisco" / "ios").is_dir(), "nothing may be removed before the check"
