"""Every container the project builds or runs is declared with a UID of 10000 or more, and the
places that must agree do: the API image's USER and the manifests' runAsUser; each pod image's build
argument and its role's default (which owns the data directories). The processes themselves are
checked where they run (Molecule titanic_image and deploy_local, tests/system/test_local_site.py);
checkov's CKV_K8S_40, no longer skipped, refuses a manifest below 10000 at render time."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
HIGH = 10000


def defaults(role: str) -> dict:
    return yaml.safe_load((REPO / "roles" / role / "defaults/main.yml").read_text())


def containerfile_arg(path: str, name: str) -> int:
    match = re.search(rf"^ARG {name}=(\d+)$", (REPO / path).read_text(), re.MULTILINE)
    assert match, f"{path} has no ARG {name}=<uid>"
    return int(match.group(1))


def test_the_api_image_and_its_manifests_agree_on_a_high_uid():
    user = re.search(r"^USER (\d+):(\d+)$", (REPO / "app/Containerfile").read_text(), re.MULTILINE)
    assert user, "app/Containerfile has no numeric USER uid:gid"
    uid, gid = int(user.group(1)), int(user.group(2))
    assert uid == gid >= HIGH
    assert defaults("titanic_manifests")["titanic_manifests_run_as_uid"] == uid


def test_the_pod_images_build_the_uid_their_roles_own_the_data_with():
    pairs = {
        "postgresql_pod": ("roles/postgresql_pod/files/Containerfile", "PG_UID"),
        "monitoring_pods": ("roles/monitoring_pods/files/Containerfile", "MONITORING_UID"),
    }
    for role, (containerfile, arg) in pairs.items():
        uid = defaults(role)[f"{role}_uid"]
        assert uid >= HIGH, f"{role}_uid is {uid}"
        assert containerfile_arg(containerfile, arg) == uid, f"{containerfile} ARG {arg}"


def test_the_execution_environment_and_the_cluster_add_ons_run_high():
    ee = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    assert int(ee["options"]["user"]) >= HIGH
    assert defaults("cluster_addons")["cluster_addons_run_as_uid"] >= HIGH


def test_no_rendered_manifest_skips_the_high_uid_check():
    skips = (REPO / "roles/titanic_manifests/templates/_skips.j2").read_text()
    assert "CKV_K8S_40" not in skips
