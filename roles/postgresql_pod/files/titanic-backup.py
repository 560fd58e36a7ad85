#!/usr/bin/python3
"""Base backups of the pod's PostgreSQL with barman-cloud, and their status.

  titanic-backup run     the backup container's loop: a base backup when the archive has none or
                         its newest is TITANIC_BACKUP_INTERVAL old, the retention policy after each,
                         the status after every round; a failed round is retried soon
  titanic-backup now     a base backup now (and the retention policy), then the status; prints it
                         with the new backup's WAL range, times and size, as one JSON line
  titanic-backup status  the same from the archive's catalogue, without a backup

Settings come from the container's environment (the manifest's env; the S3 credentials from a
podman secret), so that `podman exec <pod>-backup titanic-backup now` uses the loop's own:
  TITANIC_BACKUP_DESTINATION   s3://<bucket>/<prefix>
  TITANIC_BACKUP_SERVER_NAME   barman's server name
  TITANIC_BACKUP_ENDPOINT_URL  the S3 endpoint ("" = AWS's)
  TITANIC_BACKUP_ENCRYPTION    AES256 or aws:kms
  TITANIC_BACKUP_COMPRESSION   gzip or bzip2
  TITANIC_BACKUP_INTERVAL      seconds between base backups
  TITANIC_BACKUP_RETENTION     barman's retention policy ("" = keep everything)
  TITANIC_BACKUP_STATUS_DIR    where the status is written
  PGHOST, PGPORT, PGUSER       the server's socket (peer authentication as postgres)

The status directory holds backup-status.json (last_backup_id, last_backup_end, last_success_unix,
last_error) and titanic_backup.prom for node exporter's textfile collector
(titanic_backup_last_success_timestamp_seconds), each replaced atomically.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from barman.cloud import CloudBackupCatalog
from barman.cloud_providers.aws_s3 import S3CloudInterface
from barman.infofile import BackupInfo

# After a failed round: the alerts wait minutes, and the archive or the server may be back soon.
RETRY_SECONDS = 30
STATUS_FILE = "backup-status.json"
METRICS_FILE = "titanic_backup.prom"
COMPRESSION_FLAGS = {"gzip": "--gzip", "bzip2": "--bzip2"}


class BackupFailed(Exception):
    """A barman-cloud command failed; the message is its last lines of output."""


def setting(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        sys.exit(f"titanic-backup: {name} is not set")
    return value


def cloud_options() -> list[str]:
    endpoint = setting("TITANIC_BACKUP_ENDPOINT_URL", "")
    return ["--endpoint-url", endpoint] if endpoint else []


def destination() -> list[str]:
    return [setting("TITANIC_BACKUP_DESTINATION"), setting("TITANIC_BACKUP_SERVER_NAME")]


def barman(command: str, *arguments: str) -> str:
    """Run one barman-cloud command; its output, or BackupFailed with the end of it."""
    # A fixed program and an argument list from the container's own settings, no shell.
    done = subprocess.run(  # noqa: S603
        [f"barman-cloud-{command}", *arguments], capture_output=True, text=True, check=False
    )
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        tail = " | ".join(output.splitlines()[-3:]) or "no output"
        raise BackupFailed(f"barman-cloud-{command} exited with {done.returncode}: {tail}")
    return output


def newest_backup() -> tuple[BackupInfo | None, int]:
    """The newest complete backup of the archive (None when it has none) and its size in bytes."""
    interface = S3CloudInterface(
        url=setting("TITANIC_BACKUP_DESTINATION"),
        endpoint_url=setting("TITANIC_BACKUP_ENDPOINT_URL", "") or None,
    )
    try:
        if not interface.test_connectivity():
            raise BackupFailed("the archive's endpoint cannot be reached")
        catalog = CloudBackupCatalog(interface, setting("TITANIC_BACKUP_SERVER_NAME"))
        done = [
            info
            for info in catalog.get_backup_list().values()
            if info is not None and info.status == BackupInfo.DONE
        ]
        newest = max(done, key=lambda info: info.end_time, default=None)
        size = 0
        if newest is not None:
            # barman-cloud 3.4 records no size: the objects under the backup's own prefix.
            prefix = f"{catalog.prefix}/{newest.backup_id}/"
            objects = interface.s3.Bucket(interface.bucket_name).objects.filter(Prefix=prefix)
            size = sum(item.size for item in objects)
    finally:
        interface.close()
    return newest, size


def take_backup() -> None:
    compression = COMPRESSION_FLAGS[setting("TITANIC_BACKUP_COMPRESSION", "gzip")]
    barman(
        "backup",
        *cloud_options(),
        compression,
        "--encryption",
        setting("TITANIC_BACKUP_ENCRYPTION"),
        "--immediate-checkpoint",
        "--host",
        setting("PGHOST", "/run/postgresql"),
        "--port",
        setting("PGPORT", "5432"),
        "--user",
        setting("PGUSER", "postgres"),
        *destination(),
    )
    retention = setting("TITANIC_BACKUP_RETENTION", "")
    if retention:
        barman("backup-delete", *cloud_options(), "--retention-policy", retention, *destination())


def describe(info: BackupInfo | None) -> dict:
    if info is None:
        return {"last_backup_id": None, "last_backup_end": None, "last_success_unix": 0}
    return {
        "last_backup_id": info.backup_id,
        "last_backup_end": info.end_time.isoformat(),
        "last_success_unix": int(info.end_time.timestamp()),
    }


def replace(path: Path, content: str) -> None:
    """Write next to the file, then rename: readers never see half a file."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(content)
    partial.chmod(0o644)
    partial.rename(path)


def read_status() -> dict:
    """The last status written: a restart keeps its last success until the archive answers."""
    try:
        status = json.loads((Path(setting("TITANIC_BACKUP_STATUS_DIR")) / STATUS_FILE).read_text())
    except (OSError, ValueError):
        status = {}
    return {**describe(None), "last_error": None, **status}


def write_status(status: dict) -> None:
    directory = Path(setting("TITANIC_BACKUP_STATUS_DIR"))
    replace(directory / STATUS_FILE, json.dumps(status, sort_keys=True) + "\n")
    replace(
        directory / METRICS_FILE,
        "# HELP titanic_backup_last_success_timestamp_seconds End of the newest complete base "
        "backup in the archive (0: none).\n"
        "# TYPE titanic_backup_last_success_timestamp_seconds gauge\n"
        f"titanic_backup_last_success_timestamp_seconds {status['last_success_unix']}\n",
    )


def round_of_backup(backup: str, previous: dict) -> tuple[dict, BackupInfo | None, int]:
    """One round under the status directory's lock (backup: "due", "now" or "never"): the status
    after it, the newest backup and its size."""
    interval = int(setting("TITANIC_BACKUP_INTERVAL"))
    lock = Path(setting("TITANIC_BACKUP_STATUS_DIR")) / ".lock"
    size = 0
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        try:
            newest, size = newest_backup()
            due = newest is None or time.time() >= newest.end_time.timestamp() + interval
            if backup == "now" or (backup == "due" and due):
                take_backup()
                newest, size = newest_backup()
            status = {**describe(newest), "last_error": None}
        # Whatever failed (barman, the endpoint, boto), the loop goes on and the status says why.
        except Exception as failure:
            newest = None
            status = {**previous, "last_error": str(failure) or type(failure).__name__}
        write_status(status)
    return status, newest, size


def wait_for_server(timeout: float = 120) -> None:
    """Until the server accepts connections: the pod starts both containers at once."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if subprocess.run(["pg_isready", "--quiet"], check=False).returncode == 0:  # noqa: S607
            return
        time.sleep(1)


def run() -> None:
    interval = int(setting("TITANIC_BACKUP_INTERVAL"))
    status = read_status()
    wait_for_server()
    while True:
        status, newest, _ = round_of_backup("due", status)
        if status["last_error"] or newest is None:
            print(f"titanic-backup: {status['last_error']}", file=sys.stderr, flush=True)
            time.sleep(RETRY_SECONDS)
            continue
        print(f"titanic-backup: newest backup {status['last_backup_id']}", flush=True)
        time.sleep(max(5, newest.end_time.timestamp() + interval - time.time()))


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "run"
    if command == "run":
        run()
    if command not in ("now", "status"):
        print(__doc__, file=sys.stderr)
        return 2
    backup = "now" if command == "now" else "never"
    status, newest, size = round_of_backup(backup, read_status())
    if newest is not None:
        status.update(
            begin_wal=newest.begin_wal,
            end_wal=newest.end_wal,
            begin_time=newest.begin_time.isoformat(),
            size_bytes=size,
        )
    print(json.dumps(status, sort_keys=True))
    return 1 if status["last_error"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
