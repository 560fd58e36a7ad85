"""The measured figures of docs/SOLUTION.md, taken from the project's own outputs, never typed.

`make docs` runs this. With --collect it copies what the last runs left in the local state directory
into docs/measurements/ (one JSON file per source, with where and when it was measured):

- image.json: the published image's size and user (role titanic_image's checks record of the image
  the image record names);
- drill.json: RTO and RPO of the newest fire drill (role dr_drill's record; tests/system/test_dr.py
  runs it) against the inventory's objectives;
- alerts.json: how long after its fault each alert reached the receiver
  (tests/system/test_alerts.py);
- benchmark.json: the API's throughput against the bare WSGI baseline of the same run (make bench).

A source the state directory lacks keeps its committed file. With --update FILE it then writes the
table of docs/measurements/ into FILE's generated section; tests/repository checks that section
against the committed files.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
import markdown_section  # noqa: E402

SECTION = "tools/measurements/collect.py --update"
MEASUREMENTS = REPO / "docs/measurements"
STATE_DIR = Path("/var/lib/titanic-ops/local")


def _modified(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def image(state: Path) -> dict | None:
    record = _read(state / "records/image.json")
    if not record:
        return None
    image_id = record["image_id"].removeprefix("sha256:")
    checks_file = state / "image/artifacts" / image_id / "checks.json"
    checks = _read(checks_file)
    if not checks:
        return None
    return {
        "source": "role titanic_image's checks (image/artifacts/<id>/checks.json)",
        "measured_at": _modified(checks_file),
        # No tag or digest: the secret scan flags hex strings, and these change with every build.
        "size_mb": round(checks["size_bytes"] / 1e6, 1),
        "user": checks["user"],
    }


def drill(state: Path) -> dict | None:
    records = sorted((state / "dr/drills").glob("*.json"), key=lambda p: p.stat().st_mtime)
    if not records:
        return None
    newest = records[-1]
    data = _read(newest)
    if not data or data.get("rto_seconds") is None:
        return None
    keys = ("rto_seconds", "rto_objective_seconds", "rpo_seconds", "rpo_objective_seconds")
    return {
        "source": "role dr_drill's record (dr/drills/<run>.json)",
        "measured_at": _modified(newest),
        **{key: data[key] for key in keys},
        "acknowledged_writes": data["acknowledged_writes"],
        "lost_writes": data["lost_writes"],
        "data_as_found": data["data_as_found"],
    }


def alerts(state: Path) -> dict | None:
    path = state / "measurements/alert-delivery.json"
    data = _read(path)
    if not data:
        return None
    return {
        "source": "tests/system/test_alerts.py (measurements/alert-delivery.json)",
        "measured_at": _modified(path),
        "alerts": data,
    }


def benchmark(state: Path) -> dict | None:
    path = state / "measurements/benchmark.json"
    data = _read(path)
    if not data:
        return None
    return {
        "source": "make bench (measurements/benchmark.json)",
        "measured_at": _modified(path),
        "rps": {
            endpoint: {"api": data["runs"]["api"][endpoint]["rps"], "bare": run["rps"]}
            for endpoint, run in data["runs"]["bare"].items()
        },
        "targets": data["targets"],
    }


SOURCES = {"image": image, "drill": drill, "alerts": alerts, "benchmark": benchmark}


def collect(state: Path, out: Path) -> list[str]:
    """Copy every source the state directory has into out; the names of those copied."""
    out.mkdir(parents=True, exist_ok=True)
    copied = []
    for name, read in SOURCES.items():
        figures = read(state)
        if figures is not None:
            (out / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
            copied.append(name)
    return copied


def render(directory: Path) -> str:
    """The Markdown table of the committed measurements."""
    rows = []
    got = {name: _read(directory / f"{name}.json") for name in SOURCES}
    if got["image"]:
        m = got["image"]
        rows.append(("image size", f"{m['size_mb']} MB, running as {m['user']}", m))
    if got["benchmark"]:
        m = got["benchmark"]
        for endpoint, rps in m["rps"].items():
            share = rps["api"] / rps["bare"] if rps["bare"] else 0
            rows.append(
                (
                    f"throughput, {endpoint}",
                    f"{rps['api']:.0f} req/s; the bare WSGI baseline "
                    f"{rps['bare']:.0f} ({share:.1%})",
                    m,
                )
            )
    if got["drill"]:
        m = got["drill"]
        for figure in ("rto", "rpo"):
            got_s, objective_s = m[f"{figure}_seconds"], m[f"{figure}_objective_seconds"]
            measured = f"{got_s} s (objective {objective_s} s)"
            rows.append((f"{figure.upper()} (fire drill)", measured, m))
    if got["alerts"]:
        m = got["alerts"]
        for alert, figures in sorted(m["alerts"].items()):
            rows.append(
                (
                    f"alert delivery, {alert}",
                    f"{figures['delivered_after_seconds']} s after the fault "
                    f"(limit {figures['limit_seconds']} s)",
                    m,
                )
            )
    if got["benchmark"]:
        m = got["benchmark"]
        for target in m["targets"]:
            verdict = "met" if target["pass"] else "missed"
            measured = f"{verdict} ({target['value']})"
            rows.append((f"benchmark target: {target['target']}", measured, m))
    lines = ["| figure | measured | from | at |", "|---|---|---|---|"]
    lines += [f"| {what} | {v} | {m['source']} | {m['measured_at']} |" for what, v, m in rows]
    missing = [name for name, value in got.items() if value is None]
    if missing:
        lines += ["", f"Not measured yet: {', '.join(missing)}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collect", action="store_true", help="copy the state directory's outputs")
    parser.add_argument("--state-dir", type=Path, default=STATE_DIR)
    parser.add_argument("--measurements", type=Path, default=MEASUREMENTS)
    parser.add_argument("--update", type=Path, help="write the table into this file's section")
    args = parser.parse_args(argv)
    if args.collect:
        copied = collect(args.state_dir, args.measurements)
        print(f"collected {', '.join(copied) or 'nothing'} from {args.state_dir}")
    table = render(args.measurements)
    if args.update:
        changed = markdown_section.replace(args.update, SECTION, table)
        print(f"{'updated' if changed else 'unchanged'} {args.update}")
    else:
        print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
