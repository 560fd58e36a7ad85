#!/usr/bin/env python3
"""Wait until enough servers listen on the API's port and the API answers ready many times in a row.

During a surge rollout two pods listen on the same loopback port (SO_REUSEPORT) and the kernel
spreads new connections over both, so one ready answer may come from either; a run of them with both
listening shows that both answer. Exits 0 when ready, 1 with the last observation on stderr after
the timeout.

usage: wait_ready.py URL LISTENERS IN_A_ROW TIMEOUT_SECONDS
"""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.parse
import urllib.request

LISTEN = "0A"


def listeners(port: int) -> int:
    """Listening TCP sockets on the port, on any address (IPv4 and IPv6)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as lines:
                next(lines)
                for line in lines:
                    fields = line.split()
                    if fields[3] == LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        count += 1
        except FileNotFoundError:
            continue
    return count


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 (the API's own URL)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return -1


def main() -> int:
    url, wanted, in_a_row = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    timeout = float(sys.argv[4])
    port = urllib.parse.urlsplit(url).port or 80
    deadline, streak, last = time.monotonic() + timeout, 0, "nothing observed"
    while time.monotonic() < deadline:
        found = listeners(port)
        got = status(url) if found >= wanted else -1
        streak = streak + 1 if got == 200 else 0
        last = f"{found} listening on port {port} (wanted {wanted}), {url} answered {got}"
        if streak >= in_a_row:
            print(f"ready: {last}, {streak} times in a row")
            return 0
        time.sleep(0.1 if got == 200 else 0.5)
    print(f"not ready after {timeout:g} s: {last}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
