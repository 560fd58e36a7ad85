"""API throughput benchmark: the Titanic API against a bare WSGI app, both under gunicorn.

    benchmarks/api/run [--duration 10] [--warmup 2] [--connections 32] [--wrk-threads 2]
                       [--workers 2] [--threads 4] [--log-level INFO] [--repeat 1]
                       [--uuids 64] [--json FILE]

1. starts a throw-away PostgreSQL 15 on a free port of 127.0.0.1 (as the ``postgres`` user when
   run as root), creates a database, runs ``titanic-api db upgrade`` and ``db seed``;
2. starts ``titanic-api serve`` with fixed settings, its access log at prod's level (INFO: one
   JSON line per request) unless told otherwise, and, beside it, ``bare_app.py`` (the API's own
   bytes, fixed) under the very same gunicorn configuration;
3. drives both with wrk (``requests.lua``), API and bare app back to back per endpoint:
   GET /people/{uuid} (rotating uuids), GET /people, a mix of GET /people with PUT
   /people/{uuid} (one write in ten, so the workers' list caches are invalidated while they are
   measured), POST /people (rotating valid bodies), each run after a warm-up; measures req/s,
   exact latency percentiles and CPU per request;
4. prints the figures side by side and checks the targets (informational), and that the API
   wrote an access line for every measured request exactly when its log level says so;
5. stops and removes everything, also on Ctrl-C, SIGTERM or SIGHUP.

Exit status: 0 when every run completed with only the expected statuses (targets met or not),
1 when something broke, 2 on a usage error, 130/143 when interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import pwd
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LUA = HERE / "requests.lua"
BARE_APP = HERE / "bare_app.py"
PG_BIN = Path(os.environ.get("BENCH_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"
DB_NAME = "titanic"
HOST = "127.0.0.1"  # loopback only, always
APP_ENV_PREFIXES = (
    "TITANIC_",
    "POSTGRES_",
    "DATABASE_URL",
    "PROMETHEUS_MULTIPROC_DIR",
    "GUNICORN_CMD_ARGS",
)

# (key, label, wrk mode, expected status), in the order they run: the mixed run's PUTs keep the
# table's size; POST, which grows it (and the list), comes last.
ENDPOINTS = (
    ("byid", "GET /people/{uuid}", "byid", 200),
    ("list", "GET /people", "list", 200),
    ("mixed", "GET /people + PUT", "mixed", 200),
    ("post", "POST /people", "post", 201),
)
# endpoint key -> minimum api/bare throughput ratio
RATIO_TARGETS = {"byid": 0.50, "list": 0.30, "post": 0.15}
P99_TARGET_KEY = "byid"
P99_TARGET_MS = 25.0
# The level production runs at (inventories/prod): INFO writes one JSON access line per request.
PROD_LOG_LEVEL = "INFO"
ACCESS_LINE = b'"logger":"titanic_api.access"'
ERROR_LINE = b'"level":"ERROR"'


class BenchError(Exception):
    """Something broke (not: a target was missed)."""


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def count_lines_with(path: Path, needle: bytes) -> int:
    """How many lines of a (possibly large) log file contain ``needle``."""
    count = 0
    with path.open("rb") as f:
        for line in f:
            count += needle in line
    return count


CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_stats() -> dict[int, tuple[int, int, float]]:
    """pid -> (ppid, pgrp, user+system CPU seconds) of every process, from /proc."""
    stats: dict[int, tuple[int, int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rfind(")") + 2 :].split()
        stats[int(entry)] = (
            int(fields[1]),
            int(fields[2]),
            (int(fields[11]) + int(fields[12])) / CLK_TCK,
        )
    return stats


def cpu_seconds(server_pgid: int, postmaster: int) -> dict[str, float]:
    """CPU time used so far by the server under test (its process group) and by PostgreSQL."""
    server = postgres = 0.0
    for pid, (ppid, pgrp, cpu) in proc_stats().items():
        if pgrp == server_pgid:
            server += cpu
        elif pid == postmaster or ppid == postmaster:
            postgres += cpu
    return {"server": server, "postgres": postgres}


# -- PostgreSQL --------------------------------------------------------------------------------
class Postgres:
    """initdb + pg_ctl in a temp dir, listening on 127.0.0.1 only, removed by ``destroy``."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="titanic-bench-pg-"))
        self.data = self.root / "data"
        self.logfile = self.root / "postgres.log"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            pw = pwd.getpwnam(PG_USER)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        os.chmod(self.root, 0o700)
        self.started = False

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(PG_BIN / tool), *args]
        if self.as_root:
            cmd = ["runuser", "-u", PG_USER, "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        if check and proc.returncode != 0:
            raise BenchError(
                f"{tool} failed ({proc.returncode}): {proc.stdout}{proc.stderr}{tail(self.logfile)}"
            )
        return proc

    def start(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", PG_USER, "--auth=trust", "--encoding=UTF8",
            "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        options = (
            f"-c listen_addresses={HOST} -p {self.port} -c unix_socket_directories={self.root}"
        )
        self.started = True  # from here on, destroy() must try to stop it
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60",
            "-o", options, "start",
        )  # fmt: skip
        self._run("createdb", "-h", HOST, "-p", str(self.port), "-U", PG_USER, DB_NAME)

    def postmaster_pid(self) -> int:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return -1

    def version(self) -> str:
        return self._run("postgres", "--version").stdout.strip()

    def dsn(self) -> str:
        return f"postgresql://{PG_USER}@{HOST}:{self.port}/{DB_NAME}"

    def destroy(self) -> None:
        if self.started:
            proc = self._run("pg_ctl", "-D", str(self.data), "status", check=False)
            if proc.returncode == 0:
                self._run(
                    "pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop",
                    check=False,
                )  # fmt: skip
            if self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0:
                self._run(
                    "pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False
                )
        shutil.rmtree(self.root, ignore_errors=True)


# -- processes ---------------------------------------------------------------------------------
class Process:
    """A child in its own session (process group), stopped by pgid, never by name."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], logfile: Path) -> None:
        self.name = name
        self.logfile = logfile
        with logfile.open("wb") as out:
            self.proc = subprocess.Popen(
                cmd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pgid = self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _group_exists(self) -> bool:
        try:
            os.killpg(self.pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def stop(self, grace: float = 15.0) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, signal.SIGTERM)  # gunicorn: graceful shutdown
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                log(f"{self.name} did not stop in {grace:.0f}s; killing it")
        if self._group_exists():  # the master is gone; make sure no worker outlived it
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        deadline = time.monotonic() + 5
        while self._group_exists() and time.monotonic() < deadline:
            time.sleep(0.05)


def http(
    method: str, url: str, body: bytes | None = None, timeout: float = 5.0
) -> tuple[int, bytes]:
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback URL
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_http(proc: Process, url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise BenchError(f"{proc.name} exited early:\n{tail(proc.logfile)}")
        with contextlib.suppress(OSError):
            status, _ = http("GET", url, timeout=2.0)
            if status == 200:
                return
        time.sleep(0.2)
    raise BenchError(f"{proc.name} did not answer {url} in {timeout:.0f}s:\n{tail(proc.logfile)}")


# -- wrk ---------------------------------------------------------------------------------------
@dataclass
class Run:
    target: str
    endpoint: str
    requests: int = 0
    duration_us: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latency_us: dict[str, float] = field(default_factory=dict)
    # CPU milliseconds per request: the server's processes, PostgreSQL's, wrk's
    cpu_ms: dict[str, float] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / (self.duration_us / 1e6) if self.duration_us else 0.0

    def ms(self, key: str) -> float:
        return self.latency_us.get(key, 0.0) / 1000.0

    @property
    def socket_errors(self) -> int:
        return sum(v for k, v in self.errors.items() if k != "status")


def run_wrk(args: argparse.Namespace, url: str, mode: str, data_file: Path, seconds: float) -> dict:
    cmd = [
        args.wrk, "-t", str(args.wrk_threads), "-c", str(args.connections),
        "-d", f"{seconds:g}s", "--timeout", "5s", "-s", str(LUA), url, "--", mode, str(data_file),
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=seconds + 60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise BenchError(f"wrk failed ({proc.returncode}): {out}{err}")
    for line in out.splitlines():
        if line.startswith("BENCH_RESULT "):
            result = json.loads(line.split(" ", 1)[1])
            result["wrk_cpu_s"] = (after.ru_utime + after.ru_stime) - (
                before.ru_utime + before.ru_stime
            )
            return result
    raise BenchError(f"no BENCH_RESULT line in wrk's output:\n{out}{err}")


@dataclass
class Target:
    """A server under test: where it listens and how to read its CPU time."""

    name: str
    base: str
    cpu: Callable[[], dict[str, float]]


def check_once(target: Target, key: str, files: dict[str, Path], sample: dict) -> None:
    """One request by hand: the right status, or the figures would be meaningless."""
    _, label, _, expected = next(e for e in ENDPOINTS if e[0] == key)
    if key == "byid":
        status, _ = http("GET", f"{target.base}/people/{sample['uuid']}")
    elif key == "list":
        status, _ = http("GET", f"{target.base}/people")
    elif key == "mixed":
        person_id, body = files["mixed"].read_bytes().split(b"\n")[0].split(b"\t")
        status, _ = http("PUT", f"{target.base}/people/{person_id.decode()}", body)
    else:
        status, _ = http(
            "POST", f"{target.base}/people", files["post"].read_bytes().split(b"\n")[0]
        )
    if status != expected:
        raise BenchError(f"{target.name}: {label} answered {status}, expected {expected}")


def measure(args: argparse.Namespace, target: Target, key: str, files: dict[str, Path]) -> Run:
    _, label, mode, expected = next(e for e in ENDPOINTS if e[0] == key)
    if args.warmup > 0:
        run_wrk(args, target.base, mode, files[key], args.warmup)
    log(
        f"{target.name}: {label}: {args.duration:g}s, {args.connections} connections "
        f"(load average {os.getloadavg()[0]:.2f})"
    )
    cpu_before = target.cpu()
    result = run_wrk(args, target.base, mode, files[key], args.duration)
    cpu_after = target.cpu()
    run = Run(
        target=target.name,
        endpoint=key,
        requests=result["requests"],
        duration_us=result["duration_us"],
        errors=result["errors"],
        latency_us=result["latency_us"],
    )
    if run.requests == 0:
        raise BenchError(f"{target.name}: {label}: no request completed")
    run.cpu_ms = {
        name: (cpu_after[name] - cpu_before[name]) * 1000.0 / run.requests for name in cpu_before
    }
    run.cpu_ms["wrk"] = result["wrk_cpu_s"] * 1000.0 / run.requests
    if run.errors.get("status"):
        raise BenchError(
            f"{target.name}: {label}: {run.errors['status']} answers were not {expected}"
        )
    if run.socket_errors:
        log(f"{target.name}: {label}: socket errors {run.errors}")
    return run


def median_pair(api: list[Run], bare: list[Run]) -> tuple[Run, Run, list[float]]:
    """Of the (api, bare) runs made back to back, the pair with the median api/bare ratio
    (the lower middle of an even count), and every pair's ratio."""
    pairs = sorted(zip(api, bare, strict=True), key=lambda p: p[0].rps / p[1].rps)
    a, b = pairs[(len(pairs) - 1) // 2]
    return a, b, [p[0].rps / p[1].rps for p in pairs]


# -- data --------------------------------------------------------------------------------------
def post_bodies(count: int) -> list[bytes]:
    """Valid, varied POST /people bodies (deterministic)."""
    rng = random.Random(1912)  # noqa: S311 - test data, not security
    names = ["Astor", "Brown", "Cardeza", "Dodge", "Evans", "Futrelle", "Gracie", "Harper"]
    bodies = []
    for n in range(count):
        person = {
            "survived": rng.random() < 0.38,
            "passengerClass": rng.choice((1, 2, 3)),
            "name": f"Bench Passenger {rng.choice(names)} {n}",
            "sex": rng.choice(("male", "female")),
            "age": round(rng.uniform(0.5, 80.0), 1),
            "siblingsOrSpousesAboard": rng.randint(0, 4),
            "parentsOrChildrenAboard": rng.randint(0, 3),
            "fare": round(rng.uniform(5.0, 260.0), 4),
        }
        bodies.append(json.dumps(person, separators=(",", ":")).encode())
    return bodies


def app_env(args: argparse.Namespace, dsn: str, metrics_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(APP_ENV_PREFIXES)}
    metrics_dir.mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "DATABASE_URL": dsn,
            "TITANIC_WORKERS": str(args.workers),
            "TITANIC_THREADS": str(args.threads),
            "TITANIC_LOG_LEVEL": args.log_level,
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


# -- report ------------------------------------------------------------------------------------
def app_digest() -> str:
    """A short digest of the app's source files, so figures can be tied to the code measured."""
    import hashlib

    import titanic_api

    package = Path(titanic_api.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".sql") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_gib = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = int(line.split()[1]) / 1024 / 1024
    return {
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(mem_gib, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def cost_ratio(api: Run, bare: Run) -> float:
    spent = sum(api.cpu_ms.values())
    return sum(bare.cpu_ms.values()) / spent if spent else 0.0


def print_report(
    runs: dict[str, dict[str, Run]], info: dict[str, Any], pair_ratios: dict[str, list[float]]
) -> list[tuple[str, bool, str]]:
    api, bare = runs["api"], runs["bare"]
    print()
    print("API throughput: titanic-api serve vs. a bare WSGI app, same gunicorn settings")
    for key in ("machine", "settings", "versions"):
        print(f"  {key}: " + ", ".join(f"{k}={v}" for k, v in info[key].items()))
    print()
    head = (
        f"{'endpoint':<20} {'req/s api':>10} {'req/s bare':>10} {'ratio':>7} "
        f"{'p50 api':>9} {'p99 api':>9} {'p50 bare':>9} {'p99 bare':>9}"
    )
    print(head)
    print("-" * len(head))
    for key, label, _, _ in ENDPOINTS:
        a, b = api[key], bare[key]
        ratio = a.rps / b.rps * 100 if b.rps else 0.0
        print(
            f"{label:<20} {a.rps:>10.0f} {b.rps:>10.0f} {ratio:>6.1f}% "
            f"{a.ms('p50'):>7.2f}ms {a.ms('p99'):>7.2f}ms {b.ms('p50'):>7.2f}ms "
            f"{b.ms('p99'):>7.2f}ms"
        )
    if any(len(r) > 1 for r in pair_ratios.values()):
        print("  (each row: the api/bare pair with the median ratio; every pair's ratio:)")
        for key, label, _, _ in ENDPOINTS:
            print(f"  {label:<20} " + ", ".join(f"{r:.1%}" for r in pair_ratios[key]))
    print()
    head = (
        f"{'CPU ms per request':<20} {'server api':>10} {'postgres':>10} {'wrk':>7} "
        f"{'server bare':>11} {'wrk':>7} {'cost ratio':>10}"
    )
    print(head)
    print("-" * len(head))
    for key, label, _, _ in ENDPOINTS:
        a, b = api[key].cpu_ms, bare[key].cpu_ms
        print(
            f"{label:<20} {a['server']:>10.3f} {a['postgres']:>10.3f} {a['wrk']:>7.3f} "
            f"{b['server']:>11.3f} {b['wrk']:>7.3f} {cost_ratio(api[key], bare[key]):>9.1%}"
        )
    print(
        "  cost ratio = CPU per bare request / CPU per API request (all processes): the\n"
        "  throughput ratio to expect when the CPUs are the bottleneck; it moves much less than\n"
        "  req/s when other work shares the machine."
    )
    print()
    checks: list[tuple[str, bool, str]] = []
    labels = {key: label for key, label, _, _ in ENDPOINTS}
    for key, minimum in RATIO_TARGETS.items():
        ratio = api[key].rps / bare[key].rps if bare[key].rps else 0.0
        checks.append(
            (
                f"{labels[key]} >= {minimum:.0%} of bare",
                ratio >= minimum,
                f"{ratio:.1%} (cost ratio {cost_ratio(api[key], bare[key]):.1%})",
            )
        )
    p99 = api[P99_TARGET_KEY].ms("p99")
    checks.append(
        (
            f"{labels[P99_TARGET_KEY]} p99 < {P99_TARGET_MS:g} ms "
            f"at {info['settings']['connections']} connections",
            p99 < P99_TARGET_MS,
            f"{p99:.2f} ms",
        )
    )
    for name, ok, value in checks:
        print(f"  {'PASS' if ok else 'MISS'}  {name}: {value}")
    socket = {
        f"{t}:{k}": r.errors for t, rr in runs.items() for k, r in rr.items() if r.socket_errors
    }
    if socket:
        print(f"  note: socket errors {socket}")
    return checks


# -- main --------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="benchmarks/api/run", description=__doc__.splitlines()[0] if __doc__ else None
    )
    p.add_argument("--duration", type=float, default=10.0, help="seconds per run (default 10)")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds (default 2)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    p.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument(
        "--workers",
        type=int,
        default=2,
        help="gunicorn workers (default 2: titanic_manifests_workers)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=4,
        help="threads per worker (default 4: titanic_manifests_threads; >1 means gthread)",
    )
    p.add_argument(
        "--log-level",
        default=PROD_LOG_LEVEL,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help=f"TITANIC_LOG_LEVEL (default {PROD_LOG_LEVEL}, as in prod: one access line per "
        "request; WARNING and ERROR turn the access log off)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs per endpoint and server; the median (by req/s) is reported (default 1)",
    )
    p.add_argument("--uuids", type=int, default=64, help="uuids rotated by GET by id")
    p.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    p.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk", help="wrk binary")
    args = p.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0:
        p.error("--duration must be > 0 and --warmup >= 0")
    if args.connections < args.wrk_threads or args.wrk_threads < 1:
        p.error("need 1 <= --wrk-threads <= --connections")
    if not 1 <= args.workers <= 64 or not 1 <= args.threads <= 64:
        p.error("--workers and --threads must be 1-64")
    if args.repeat < 1:
        p.error("--repeat must be >= 1")
    if args.uuids < 1:
        p.error("--uuids must be >= 1")
    return args


def _terminate(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cli = Path(sys.executable).parent / "titanic-api"
    if not cli.exists():
        cli = Path(shutil.which("titanic-api") or "titanic-api")
    for path, what in (
        (Path(args.wrk), "wrk (apt-get install wrk)"),
        (PG_BIN / "initdb", "PostgreSQL 15 (postgresql-15)"),
        (cli, "the titanic-api CLI (make venv)"),
    ):
        if not path.exists():
            log(f"missing {what}: {path}")
            return 1

    # Ctrl-C raises KeyboardInterrupt even when started from a shell that ignores SIGINT for
    # background jobs; SIGTERM and SIGHUP exit the same way. Cleanup runs in every case.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)

    digest = app_digest()  # the code the servers load (another engineer may be editing it)
    host = machine()  # before anything runs: the load average says how quiet the machine was
    if host["load_average_1m"] > 0.5:
        log(f"the machine is busy (load average {host['load_average_1m']}): figures will be low")
    work = Path(tempfile.mkdtemp(prefix="titanic-bench-"))
    pg: Postgres | None = None
    server: Process | None = None
    bare: Process | None = None
    try:
        pg = Postgres()
        log(f"PostgreSQL 15 on {HOST}:{pg.port}")
        pg.start()
        postmaster = pg.postmaster_pid()
        base_env = app_env(args, pg.dsn(), work / "metrics-api")
        for action in ("upgrade", "seed"):
            proc = subprocess.run(
                [str(cli), "db", action],
                env=base_env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if proc.returncode != 0:
                raise BenchError(f"titanic-api db {action} failed: {proc.stdout}{proc.stderr}")
            log(f"db {action}: {proc.stdout.strip()}")

        # -- the API ---------------------------------------------------------------------------
        port = free_port()
        base = f"http://{HOST}:{port}"
        server = Process(
            "titanic-api serve",
            [str(cli), "serve", "--host", HOST, "--port", str(port)],
            base_env,
            work / "api.log",
        )
        wait_http(server, f"{base}/readyz")
        # real 201 and PUT bodies for the bare app, taken first so that the list it gets is current
        bodies = post_bodies(200)
        status, created = http("POST", f"{base}/people", bodies[0])
        if status != 201:
            raise BenchError(f"POST /people answered {status}")
        status, listing = http("GET", f"{base}/people")
        people = json.loads(listing)
        if status != 200 or len(people) < 1:
            raise BenchError(f"GET /people answered {status} with {len(people)} people")
        step = max(1, len(people) // args.uuids)
        uuids = [p["uuid"] for p in people[::step]][: args.uuids]
        # the mixed run replaces these people, each with a body of its own
        replacements = [(u, bodies[1 + n % (len(bodies) - 1)]) for n, u in enumerate(uuids)]
        status, replaced = http("PUT", f"{base}/people/{uuids[-1]}", replacements[-1][1])
        if status != 200:
            raise BenchError(f"PUT /people/{{uuid}} answered {status}")
        status, listing = http("GET", f"{base}/people")
        if status != 200:
            raise BenchError(f"GET /people answered {status}")
        people = json.loads(listing)
        sample = people[0]
        status, one = http("GET", f"{base}/people/{sample['uuid']}")
        if status != 200:
            raise BenchError(f"GET /people/{{uuid}} answered {status}")
        files = {
            "byid": work / "uuids.txt",
            "list": work / "none.txt",
            "mixed": work / "replacements.txt",
            "post": work / "bodies.txt",
        }
        files["byid"].write_text("\n".join(uuids) + "\n")
        files["list"].write_text("-\n")
        files["mixed"].write_bytes(
            b"".join(u.encode() + b"\t" + b + b"\n" for u, b in replacements)
        )
        files["post"].write_bytes(b"\n".join(bodies) + b"\n")
        bare_dir = work / "bare"
        bare_dir.mkdir()
        (bare_dir / "list.json").write_bytes(listing)
        (bare_dir / "one.json").write_bytes(one)
        (bare_dir / "created.json").write_bytes(created)
        (bare_dir / "replaced.json").write_bytes(replaced)

        # -- the bare app, same gunicorn settings, idle beside the API -----------------------------
        bare_port = free_port()
        bare_base = f"http://{HOST}:{bare_port}"
        bare = Process(
            "bare app",
            [
                sys.executable, str(BARE_APP), "--host", HOST, "--port", str(bare_port),
                "--bodies", str(bare_dir),
            ],
            app_env(args, pg.dsn(), work / "metrics-bare"),
            work / "bare.log",
        )  # fmt: skip
        wait_http(bare, f"{bare_base}/healthz")

        # API and bare app alternate per endpoint, so both see the same machine: a neighbour's
        # load that comes and goes skews the ratio less than with all API runs first.
        api_pgid, bare_pgid = server.pgid, bare.pgid
        targets = [
            Target("api", base, lambda: cpu_seconds(api_pgid, postmaster)),
            Target("bare", bare_base, lambda: cpu_seconds(bare_pgid, postmaster)),
        ]
        all_runs: dict[str, dict[str, list[Run]]] = {"api": {}, "bare": {}}
        for key, _, _, _ in ENDPOINTS:
            for target in targets:
                check_once(target, key, files, sample)
            for _ in range(args.repeat):
                for target in targets:
                    all_runs[target.name].setdefault(key, []).append(
                        measure(args, target, key, files)
                    )
        runs: dict[str, dict[str, Run]] = {"api": {}, "bare": {}}
        pair_ratios: dict[str, list[float]] = {}
        for key, _, _, _ in ENDPOINTS:
            a, b, ratios = median_pair(all_runs["api"][key], all_runs["bare"][key])
            runs["api"][key], runs["bare"][key], pair_ratios[key] = a, b, ratios
        bare.stop()
        server.stop()
        errors = count_lines_with(server.logfile, ERROR_LINE)
        if errors:
            log(f"the API logged {errors} error(s):\n{tail(server.logfile)}")
        # the access log was on for every measured request exactly when the level says so
        access_lines = count_lines_with(server.logfile, ACCESS_LINE)
        measured = sum(r.requests for runs_of in all_runs["api"].values() for r in runs_of)
        access_log_on = args.log_level in ("DEBUG", "INFO")
        if access_log_on and access_lines < measured or not access_log_on and access_lines:
            raise BenchError(
                f"{access_lines} access lines for {measured} measured requests at "
                f"{args.log_level}: the access log is not what the level says"
            )

        import gunicorn

        info = {
            "machine": host,
            "settings": {
                "workers": args.workers,
                "threads": args.threads,
                "worker_class": "gthread" if args.threads > 1 else "sync",
                "log_level": args.log_level,
                "access_lines": access_lines,
                "connections": args.connections,
                "wrk_threads": args.wrk_threads,
                "duration_s": args.duration,
                "warmup_s": args.warmup,
                "repeat": args.repeat,
                "people": len(people),
                "list_bytes": len(listing),
            },
            "versions": {
                "postgres": pg.version().split("(PostgreSQL)")[-1].split()[0],
                "gunicorn": gunicorn.__version__,
                "app_sources_sha256": digest,
                "wrk": subprocess.run(
                    [args.wrk, "-v"], capture_output=True, text=True, check=False
                ).stdout.split()[1],
            },
        }
        checks = print_report(runs, info, pair_ratios)
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        **info,
                        "runs": {
                            t: {
                                k: {
                                    "rps": round(r.rps, 1),
                                    "requests": r.requests,
                                    "errors": r.errors,
                                    "cpu_ms_per_request": {
                                        n: round(v, 4) for n, v in r.cpu_ms.items()
                                    },
                                    "latency_ms": {
                                        q: round(v / 1000, 3) for q, v in r.latency_us.items()
                                    },
                                }
                                for k, r in rr.items()
                            }
                            for t, rr in runs.items()
                        },
                        "pair_ratios": {
                            k: [round(r, 4) for r in rr] for k, rr in pair_ratios.items()
                        },
                        "cost_ratio": {
                            k: round(cost_ratio(runs["api"][k], runs["bare"][k]), 4)
                            for k in runs["api"]
                        },
                        "targets": [{"target": n, "pass": ok, "value": v} for n, ok, v in checks],
                    },
                    indent=2,
                )
                + "\n"
            )
        return 0
    except BenchError as exc:
        log(f"FAILED: {exc}")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        # Cleanup must finish even if Ctrl-C is pressed again.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for proc in (bare, server):
            if proc is not None:
                proc.stop()
        if pg is not None:
            pg.destroy()
        shutil.rmtree(work, ignore_errors=True)
        log("cleaned up")


if __name__ == "__main__":
    sys.exit(main())
