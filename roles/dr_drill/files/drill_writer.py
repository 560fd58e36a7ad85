#!/usr/bin/env python3
"""The drill's writer and its arithmetic (role dr_drill), standard library only.

  drill_writer.py write --api URL --run-id ID --log FILE --stop-file FILE [--rate 5]
      POSTs passengers named "dr-drill <run id> #<n>" at a steady rate until the stop file
      exists (or --max-seconds passed), and appends one JSON line per event to the log:
      {"event": "ack", "n", "sent", "acked"} for every 201, {"event": "error", "n", "at",
      "error"} for every other outcome, and {"event": "ready", "at"} after each failed write
      when /readyz answers 200.
  drill_writer.py report --log FILE --survivors FILE --destroyed T [--issued T] --rto-objective S
                         --rpo-objective S
      Reads the log, the names of the drill's rows found after the restore (one per line), when the
      destruction began (--issued) and when the database was gone (--destroyed), in Unix seconds,
      and prints the measurements as one JSON document.

RTO: from the destruction to the first sign of the API serving again (a /readyz 200 or an
acknowledged write after the destruction). RPO: the last write acknowledged before the destruction
minus the newest of those that survived (0 when none was lost).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

NAME = "dr-drill {run_id} #{n}"


def _person(name: str) -> bytes:
    return json.dumps(
        {
            "survived": True,
            "passengerClass": 3,
            "name": name,
            "sex": "female",
            "age": 30,
            "siblingsOrSpousesAboard": 0,
            "parentsOrChildrenAboard": 0,
            "fare": 7.25,
        }
    ).encode()


def _status(request: urllib.request.Request, timeout: float) -> int:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (the API's URL)
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def write(args: argparse.Namespace) -> int:
    api = args.api.rstrip("/")
    stop, interval = Path(args.stop_file), 1.0 / args.rate
    deadline = time.monotonic() + args.max_seconds
    with open(args.log, "a", encoding="utf-8") as log:

        def record(event: dict) -> None:
            log.write(json.dumps(event) + "\n")
            log.flush()

        n, next_tick = 0, time.monotonic()
        while not stop.exists() and time.monotonic() < deadline:
            n += 1
            sent = time.time()
            post = urllib.request.Request(  # noqa: S310 (the API's URL, http)
                f"{api}/people",
                data=_person(NAME.format(run_id=args.run_id, n=n)),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            try:
                status, error = _status(post, args.timeout), ""
            except OSError as exc:  # refused, reset, timed out
                status, error = 0, str(exc)
            if status == 201:
                record({"event": "ack", "n": n, "sent": sent, "acked": time.time()})
            else:
                record({"event": "error", "n": n, "at": time.time(), "error": error or status})
                try:
                    probe = urllib.request.Request(f"{api}/readyz")  # noqa: S310 (the API's URL)
                    ready = _status(probe, args.timeout) == 200
                except OSError:
                    ready = False
                if ready:
                    record({"event": "ready", "at": time.time()})
            next_tick += interval
            time.sleep(max(0.0, next_tick - time.monotonic()))
    return 0


def measure(
    events: list[dict],
    survivors: set[int],
    destroyed: float,
    rto_objective: float,
    rpo_objective: float,
    issued: float | None = None,
) -> dict:
    """destroyed: when the database was gone (writes acknowledged by then were committed before);
    issued: when its destruction began (the start of the RTO; default: destroyed)."""
    issued = destroyed if issued is None else issued
    acks = [e for e in events if e["event"] == "ack"]
    before = [e for e in acks if e["acked"] <= destroyed]
    lost = [e for e in before if e["n"] not in survivors]
    kept = [e for e in before if e["n"] in survivors]
    last_before = max((e["acked"] for e in before), default=None)
    newest_kept = max((e["acked"] for e in kept), default=None)
    if last_before is None:
        rpo = None
    elif not lost:
        rpo = 0.0
    else:
        oldest = newest_kept if newest_kept is not None else min(e["sent"] for e in before)
        rpo = last_before - oldest
    # Back once the API serves after the outage began: an answer in flight at the destruction
    # (committed before it) is not a sign of recovery.
    errors = [e["at"] for e in events if e["event"] == "error" and e["at"] > destroyed]
    rto = None
    if errors:
        back = [e["at"] for e in events if e["event"] == "ready" and e["at"] > errors[0]]
        back += [e["acked"] for e in acks if e["acked"] > errors[0]]
        rto = (min(back) - issued) if back else None
    lost_old = [e["n"] for e in lost if e["acked"] < destroyed - rpo_objective]
    within = (
        rto is not None
        and rto <= rto_objective
        and rpo is not None
        and rpo <= rpo_objective
        and not lost_old
    )
    return {
        "rto_seconds": None if rto is None else round(rto, 2),
        "rpo_seconds": None if rpo is None else round(rpo, 2),
        "rto_objective_seconds": rto_objective,
        "rpo_objective_seconds": rpo_objective,
        "acknowledged_writes": len(acks),
        "acknowledged_before_destruction": len(before),
        "lost_writes": len(lost),
        "lost": sorted(e["n"] for e in lost),
        "lost_older_than_objective": len(lost_old),
        "failed_writes": sum(1 for e in events if e["event"] == "error"),
        "destruction_issued_at": issued,
        "destroyed_at": destroyed,
        "last_ack_before_destruction": last_before,
        "newest_surviving_ack": newest_kept,
        "within_objectives": within,
    }


def report(args: argparse.Namespace) -> int:
    events = [json.loads(line) for line in Path(args.log).read_text().splitlines() if line.strip()]
    survivors = set()
    for line in Path(args.survivors).read_text().splitlines():
        if "#" in line:
            survivors.add(int(line.rsplit("#", 1)[1]))
    result = measure(
        events, survivors, args.destroyed, args.rto_objective, args.rpo_objective, args.issued
    )
    print(json.dumps(result))
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    writer = sub.add_parser("write")
    writer.add_argument("--api", required=True)
    writer.add_argument("--run-id", required=True)
    writer.add_argument("--log", required=True)
    writer.add_argument("--stop-file", required=True)
    writer.add_argument("--rate", type=float, default=5.0, help="writes per second")
    writer.add_argument("--timeout", type=float, default=2.0, help="seconds per request")
    writer.add_argument("--max-seconds", type=float, default=600.0)
    reporter = sub.add_parser("report")
    reporter.add_argument("--log", required=True)
    reporter.add_argument("--survivors", required=True)
    reporter.add_argument("--destroyed", type=float, required=True)
    reporter.add_argument("--issued", type=float, default=None)
    reporter.add_argument("--rto-objective", type=float, required=True)
    reporter.add_argument("--rpo-objective", type=float, required=True)
    args = parser.parse_args(argv)
    return write(args) if args.command == "write" else report(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
