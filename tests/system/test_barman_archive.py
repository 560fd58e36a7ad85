"""Which base backup a restore starts from (roles/db_recovery/files/barman_archive.py), run in the
PostgreSQL pod's image, where barman lives, on archives laid out as the restores meet them: the
archive and the bucket listing are stand-ins, barman's parsing and the choice are the real ones."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HELPERS = REPO / "roles/db_recovery/files"
# Run in the image: the helper imported with its S3 listing and WAL download replaced by the case's.
SCRIPT = """
import json, sys
sys.path.insert(0, "/helpers")
import barman_archive as archive
case = json.loads(sys.argv[1])

class Downloader:
    def __init__(self, **kwargs):
        pass
    def download_wal(self, name, destination):
        open(destination, "w").write(case["histories"][name])

archive.CloudWalDownloader = Downloader
archive.archived_wals = lambda cloud, server: iter(case["names"])
newest, left = archive.timeline_history(None, "titanic", case["backups"])
target = archive.parse_time(case["target"]) if case["target"] else None
chosen = archive.choose(case["backups"], target, newest, left)
print(json.dumps({"timeline": newest, "chosen": chosen and chosen["id"]}))
"""


def backup(backup_id: str, timeline: int, end_xlog: str, end_time: str) -> dict:
    return {"id": backup_id, "status": "DONE", "timeline": timeline, "end_xlog": end_xlog,
            "end_time": f"2026-12-01T{end_time}+00:00"}  # fmt: skip


HISTORY_3 = "1\t0/22005210\tbefore 2026-12-01 01:14:38+00\n2\t0/24000000\tno recovery target\n"
CASES = {
    # a fresh archive: timeline 1, no history file
    "timeline 1, latest": (
        ["000000010000000000000002", "000000010000000000000003"],
        {},
        [backup("a", 1, "0/2000100", "01:00:00"), backup("b", 1, "0/3000100", "02:00:00")],
        "",
        (1, "b"),
    ),
    "timeline 1, to a point in time": (
        ["000000010000000000000002"],
        {},
        [backup("a", 1, "0/2000100", "01:00:00"), backup("b", 1, "0/3000100", "02:00:00")],
        "2026-12-01T01:30:00+00:00",
        (1, "a"),
    ),
    # the newest timeline branched off 2 at 0/24000000: a backup on 2 after that cannot start it
    "after a point-in-time restore": (
        ["00000002.history", "00000003.history", "000000030000000000000025"],
        {"00000003.history": HISTORY_3},
        [
            backup("on-1", 1, "0/21000000", "01:00:00"),
            backup("on-2-before", 2, "0/23000000", "01:10:00"),
            backup("on-2-after", 2, "0/25000000", "01:20:00"),
        ],
        "",
        (3, "on-2-before"),
    ),
    # a server promoted before its archive started afresh (a new bucket, an emptied one): the
    # archive has its segments and backups but not its timeline's history file
    "a server on timeline 3, the archive without its history": (
        ["000000030000000000000048", "000000030000000000000049"],
        {},
        [backup("c", 3, "0/48000100", "01:59:42"), backup("d", 3, "0/49000100", "02:09:23")],
        "",
        (3, "d"),
    ),
}


@pytest.fixture(scope="module")
def image(converged) -> str:
    names = subprocess.run(
        ["podman", "images", "--noheading", "--sort", "created", "--format",
         "{{.Repository}}:{{.Tag}}", "localhost/titanic-postgresql"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert names, "no image of the PostgreSQL pod"
    return names[0]


@pytest.mark.parametrize("name", CASES)
def test_the_restore_starts_from_a_backup_the_newest_timeline_descends_from(image, name):
    names, histories, backups, target, expected = CASES[name]
    case = {"names": names, "histories": histories, "backups": backups, "target": target}
    run = subprocess.run(
        ["podman", "run", "--rm", "--network=none", "--read-only", "--tmpfs=/tmp",
         "-v", f"{HELPERS}:/helpers:ro", "--entrypoint=python3", image,
         "-c", SCRIPT, json.dumps(case)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout)
    assert (result["timeline"], result["chosen"]) == expected
