#!/usr/bin/python3
"""A barman-cloud archive's catalog, and its WAL fetched ahead of a recovery.

Runs inside the PostgreSQL image (Debian's barman-cli-cloud), with the arguments of the other
barman-cloud tools plus:
  --target-time ISO-8601   print {"backups": [...], "chosen": {...} or null}: each base backup
                           with id, name, status, begin/end time (ISO 8601, UTC), begin/end WAL,
                           timeline and size in the bucket; chosen is the newest completed one that
                           ended before the target ("" or absent: the newest) and that the newest
                           timeline (of the archive's files and its backups) descends from: recovery
                           follows that timeline ('latest'), so a base backup taken on an older
                           timeline after the newest one branched off it (a backup between a
                           point-in-time target and its restore) cannot start it. barman's own
                           `backup-list --format json` writes times with ctime(), without their
                           zone: a point-in-time restore must not guess it.
  --prefetch-to DIR --from-wal WAL
                           download every archived WAL segment from WAL on (any later timeline
                           too) and every timeline history file into DIR, decompressed, in this one
                           process, and print {"fetched": n, "bytes": n}. A restore_command that
                           copies from DIR first replays them without starting
                           barman-cloud-wal-restore (a Python process and a bucket listing) per
                           segment: with a segment every archive_timeout, that bounds the
                           recovery's time.
"""

from __future__ import annotations

import datetime
import json
import sys
import tempfile
from pathlib import Path

from barman.clients.cloud_cli import create_argument_parser
from barman.clients.cloud_walrestore import CloudWalDownloader
from barman.cloud import ALLOWED_COMPRESSIONS, CloudBackupCatalog
from barman.cloud_providers import get_cloud_interface
from barman.infofile import BackupInfo
from barman.xlog import is_history_file, is_wal_file, parse_lsn


def parse_arguments(argv: list[str]):
    parser, _, _ = create_argument_parser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-time", default="")
    parser.add_argument("--prefetch-to", default="")
    parser.add_argument("--from-wal", default="")
    return parser.parse_args(argv)


def iso(moment: datetime.datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # barman's own times are aware; a naive one is the server's UTC
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).isoformat()


def parse_time(text: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise SystemExit(f"--target-time {text!r} has no zone (ISO 8601 with +00:00 or Z)")
    return moment


def sizes(cloud_interface, prefix: str) -> dict[str, int]:
    """Bytes in the bucket per backup id (objects under <prefix>/<backup id>/)."""
    totals: dict[str, int] = {}
    bucket = cloud_interface.s3.Bucket(cloud_interface.bucket_name)
    for item in bucket.objects.filter(Prefix=prefix + "/"):
        backup_id = item.key[len(prefix) + 1 :].split("/", 1)[0]
        totals[backup_id] = totals.get(backup_id, 0) + item.size
    return totals


def archived_wals(cloud_interface, server_name: str):
    """The names of the archive's WAL segments and history files, without their compression."""
    prefix = f"{cloud_interface.path}/{server_name}/wals/".lstrip("/")
    paginator = cloud_interface.s3.meta.client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=cloud_interface.bucket_name, Prefix=prefix):
        for item in page.get("Contents", []):
            name = item["Key"].rsplit("/", 1)[-1]
            for extension in ALLOWED_COMPRESSIONS:
                name = name.removesuffix(extension)
            yield name


def timeline_history(
    cloud_interface, server_name: str, backups: list[dict]
) -> tuple[int, dict[int, int]]:
    """The newest timeline the archive or its backups know and, from that timeline's history file,
    the LSN at which each of its ancestors was left. Without that file (timeline 1 has none; an
    archive started afresh under a server already promoted lacks it) no ancestor is known."""
    names = set(archived_wals(cloud_interface, server_name))
    timelines = {int(name[:8], 16) for name in names if is_history_file(name) or is_wal_file(name)}
    timelines |= {backup["timeline"] for backup in backups if backup["timeline"]}
    newest = max(timelines, default=1)
    history = f"{newest:08X}.history"
    if history not in names:
        return newest, {}
    downloader = CloudWalDownloader(cloud_interface=cloud_interface, server_name=server_name)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / history
        downloader.download_wal(history, str(path))
        text = path.read_text()
    left = {}
    for line in text.splitlines():  # "<parent timeline> <LSN where it was left> <reason>"
        fields = line.split()
        if fields and fields[0].isdigit():
            left[int(fields[0])] = parse_lsn(fields[1])
    return newest, left


def descends(backup: dict, newest: int, left: dict[int, int]) -> bool:
    """Whether the newest timeline's recovery can start from this backup: it is on that timeline,
    or on an ancestor and consistent before that ancestor was left."""
    if backup["timeline"] == newest:
        return True
    return backup["timeline"] in left and parse_lsn(backup["end_xlog"]) <= left[backup["timeline"]]


def choose(
    backups: list[dict], target: datetime.datetime | None, newest: int, left: dict[int, int]
) -> dict | None:
    done = [
        b
        for b in backups
        if b["status"] == BackupInfo.DONE and b["end_time"] and descends(b, newest, left)
    ]
    if target is not None:
        done = [b for b in done if datetime.datetime.fromisoformat(b["end_time"]) < target]
    return max(done, key=lambda b: datetime.datetime.fromisoformat(b["end_time"]), default=None)


def wanted_wal(name: str, first: str) -> bool:
    """A history file, or a segment at or after `first` on its timeline or a later one."""
    if is_history_file(name):
        return True
    return is_wal_file(name) and int(name[:8], 16) >= int(first[:8], 16) and name[8:] >= first[8:]


def prefetch(cloud_interface, server_name: str, first: str, directory: Path) -> dict:
    archived = archived_wals(cloud_interface, server_name)
    names = {name for name in archived if wanted_wal(name, first)}
    downloader = CloudWalDownloader(cloud_interface=cloud_interface, server_name=server_name)
    directory.mkdir(mode=0o700, exist_ok=True)
    for name in sorted(names):
        downloader.download_wal(name, str(directory / name))
    return {
        "fetched": len(names),
        "bytes": sum((directory / name).stat().st_size for name in names),
    }


def main(argv: list[str]) -> int:
    config = parse_arguments(argv)
    cloud_interface = get_cloud_interface(config)
    if config.prefetch_to:
        fetched = prefetch(
            cloud_interface, config.server_name, config.from_wal, Path(config.prefetch_to)
        )
        print(json.dumps(fetched))
        return 0
    target = parse_time(config.target_time) if config.target_time else None
    catalog = CloudBackupCatalog(cloud_interface=cloud_interface, server_name=config.server_name)
    in_bucket = sizes(cloud_interface, catalog.prefix)
    backups = [
        {
            "id": info.backup_id,
            "name": info.backup_name,
            "status": info.status,
            "begin_time": iso(info.begin_time),
            "end_time": iso(info.end_time),
            "begin_wal": info.begin_wal,
            "end_wal": info.end_wal,
            "end_xlog": info.end_xlog,
            "timeline": info.timeline,
            "size_bytes": in_bucket.get(info.backup_id, 0),
        }
        for info in (catalog.get_backup_list() or {}).values()
        if info is not None
    ]
    backups.sort(key=lambda b: b["id"])
    newest, left = timeline_history(cloud_interface, config.server_name, backups)
    chosen = choose(backups, target, newest, left)
    print(json.dumps({"backups": backups, "chosen": chosen, "timeline": newest}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
