"""titanic.ops.manifest_files: main() on a real directory (write, idempotence, prune, check mode, diff)."""

from __future__ import annotations

import stat

import pytest

from ansible_collections.titanic.ops.plugins.modules import manifest_files

NAMESPACE = "apiVersion: v1\nkind: Namespace\n"
DEPLOYMENT = "apiVersion: apps/v1\nkind: Deployment\n"


def mode_of(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_run_writes_every_file_and_creates_the_directory(tmp_path, run_module):
    target = tmp_path / "manifests"
    result = run_module(
        manifest_files, {"path": str(target), "files": {"10-namespace.yaml": NAMESPACE, "16-deployment.yaml": DEPLOYMENT}}
    )
    assert result["changed"] is True
    assert sorted(result["written"]) == [str(target / "10-namespace.yaml"), str(target / "16-deployment.yaml")]
    assert (target / "10-namespace.yaml").read_text() == NAMESPACE
    assert mode_of(target) == 0o700
    assert mode_of(target / "16-deployment.yaml") == 0o600
    assert not [p.name for p in target.iterdir() if p.name.startswith(".")], "no temporary file left"


def test_second_run_changes_nothing(tmp_path, run_module):
    args = {"path": str(tmp_path), "files": {"10-namespace.yaml": NAMESPACE}}
    run_module(manifest_files, args)
    before = (tmp_path / "10-namespace.yaml").stat().st_mtime_ns
    result = run_module(manifest_files, args)
    assert (result["changed"], result["written"], result["removed"]) == (False, [], [])
    assert (tmp_path / "10-namespace.yaml").stat().st_mtime_ns == before


def test_changed_content_is_rewritten_with_the_mode_and_a_diff(tmp_path, run_module):
    (tmp_path / "10-namespace.yaml").write_text("old\n")
    result = run_module(
        manifest_files,
        {"path": str(tmp_path), "files": {"10-namespace.yaml": NAMESPACE}, "mode": "0640", "_ansible_diff": True},
    )
    assert result["written"] == [str(tmp_path / "10-namespace.yaml")]
    assert (tmp_path / "10-namespace.yaml").read_text() == NAMESPACE
    assert mode_of(tmp_path / "10-namespace.yaml") == 0o640
    assert result["diff"] == [
        {
            "before_header": str(tmp_path / "10-namespace.yaml"),
            "after_header": str(tmp_path / "10-namespace.yaml"),
            "before": "old\n",
            "after": NAMESPACE,
        }
    ]


def test_prune_removes_stale_yaml_only(tmp_path, run_module):
    (tmp_path / "90-stale.yaml").write_text("stale\n")
    (tmp_path / "notes.txt").write_text("kept\n")
    result = run_module(manifest_files, {"path": str(tmp_path), "files": {"10-namespace.yaml": NAMESPACE}})
    assert result["removed"] == [str(tmp_path / "90-stale.yaml")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["10-namespace.yaml", "notes.txt"]


def test_without_prune_stale_files_stay(tmp_path, run_module):
    (tmp_path / "90-stale.yaml").write_text("stale\n")
    result = run_module(
        manifest_files, {"path": str(tmp_path), "files": {"10-namespace.yaml": NAMESPACE}, "prune": False}
    )
    assert result["removed"] == []
    assert (tmp_path / "90-stale.yaml").exists()


def test_extra_files_are_written_outside_and_never_pruned(tmp_path, run_module):
    target, extra = tmp_path / "manifests", tmp_path / "podman" / "kube.yaml"
    args = {"path": str(target), "files": {}, "extra_files": {str(extra): DEPLOYMENT}}
    result = run_module(manifest_files, args)
    assert result["written"] == [str(extra)]
    assert extra.read_text() == DEPLOYMENT
    assert mode_of(extra.parent) == 0o700
    assert run_module(manifest_files, args)["changed"] is False
    assert extra.exists()


def test_check_mode_reports_without_touching_anything(tmp_path, run_module):
    (tmp_path / "90-stale.yaml").write_text("stale\n")
    result = run_module(
        manifest_files,
        {"path": str(tmp_path), "files": {"10-namespace.yaml": NAMESPACE}, "_ansible_check_mode": True},
    )
    assert result["changed"] is True
    assert result["written"] == [str(tmp_path / "10-namespace.yaml")]
    assert result["removed"] == [str(tmp_path / "90-stale.yaml")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["90-stale.yaml"]


def test_check_mode_on_a_missing_directory_creates_nothing(tmp_path, run_module):
    target = tmp_path / "manifests"
    result = run_module(manifest_files, {"path": str(target), "files": {}, "_ansible_check_mode": True})
    assert result["changed"] is True
    assert not target.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"files": {"../escape.yaml": "x"}}, "must be a plain *.yaml name"),
        ({"files": {"sub/10-a.yaml": "x"}}, "must be a plain *.yaml name"),
        ({"files": {"10-a.json": "x"}}, "must be a plain *.yaml name"),
        ({"files": {}, "extra_files": {"relative/kube.yaml": "x"}}, "must be an absolute path"),
        ({"files": {"10-a.yaml": "x"}, "mode": "rw-r--r--"}, "is not an octal mode"),
    ],
)
def test_invalid_input_fails_before_writing(tmp_path, run_module, args, message):
    result = run_module(manifest_files, {"path": str(tmp_path / "manifests"), **args})
    assert result["failed"] is True
    assert message in result["msg"]
    assert not (tmp_path / "manifests").exists()
