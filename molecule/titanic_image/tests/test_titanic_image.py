"""The titanic_image role's image, verified on this machine (Testinfra, local connection).

The image runs against a throwaway PostgreSQL (the host's PostgreSQL 15 binaries, run as user
postgres in a temporary directory on a loopback port); the container reaches it through
slirp4netns's host loopback.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

NAME = os.environ.get("MOLECULE_TITANIC_IMAGE_NAME", "titanic-api-molecule")
STATE_DIR = os.environ.get("MOLECULE_TITANIC_IMAGE_STATE_DIR", "/tmp/molecule-titanic-image")  # noqa: S108
REGISTRY_PORT = os.environ.get("MOLECULE_TITANIC_IMAGE_REGISTRY_PORT", "5055")
IMAGE = f"localhost/{NAME}:latest"
PG_BIN = "/usr/lib/postgresql/15/bin"
PG_PORT = 55437
HTTP_PORT = 18437
CONTAINER = "molecule-titanic-image-verify"
DSN = f"postgresql://postgres@10.0.2.2:{PG_PORT}/titanic"
SIZE_BUDGET = 100 * 1000 * 1000
NET = "slirp4netns:allow_host_loopback=true"


def run_ok(host, *argv: str) -> str:
    result = host.run_expect([0], " ".join(_quote(a) for a in argv))
    return result.stdout


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\"'\"'") + "'"


@pytest.fixture(scope="module")
def inspect(host) -> dict:
    return json.loads(run_ok(host, "podman", "image", "inspect", IMAGE))[0]


@pytest.fixture(scope="module")
def postgres(host):
    pgdir = run_ok(host, "mktemp", "-d", "/tmp/molecule-titanic-pg.XXXXXX").strip()  # noqa: S108
    data = f"{pgdir}/data"
    options = f"-p {PG_PORT} -k {pgdir} -c listen_addresses=127.0.0.1"
    as_postgres = ("runuser", "-u", "postgres", "--")
    run_ok(host, "chown", "postgres:postgres", pgdir)
    run_ok(host, *as_postgres, f"{PG_BIN}/initdb", "-D", data, "-A", "trust", "-U", "postgres")
    run_ok(host, *as_postgres, f"{PG_BIN}/pg_ctl", "-D", data, "-w", "-l", f"{pgdir}/log",
           "-o", options, "start")  # fmt: skip
    try:
        run_ok(host, *as_postgres, f"{PG_BIN}/createdb", "-h", "127.0.0.1", "-p", str(PG_PORT),
               "titanic")  # fmt: skip
        yield DSN
    finally:
        host.run(f"runuser -u postgres -- {PG_BIN}/pg_ctl -D {data} -m fast -w stop")
        host.run(f"rm -rf {pgdir}")


def podman_run(host, *args: str) -> str:
    return run_ok(host, "podman", "run", "--rm", "--read-only", "--network", NET,
                  "-e", f"DATABASE_URL={DSN}", IMAGE, *args)  # fmt: skip


@pytest.fixture(scope="module")
def container(host, postgres):
    host.run(f"podman rm --force {CONTAINER}")
    podman_run(host, "db", "upgrade")
    assert "seeded" in podman_run(host, "db", "seed")
    run_ok(host, "podman", "run", "--detach", "--name", CONTAINER, "--read-only", "--network", NET,
           "--publish", f"127.0.0.1:{HTTP_PORT}:8080", "--env", f"DATABASE_URL={postgres}",
           IMAGE)  # fmt: skip
    deadline = time.time() + 60
    while time.time() < deadline:
        if host.run(f"podman healthcheck run {CONTAINER}").rc == 0:
            break
        time.sleep(2)
    yield CONTAINER
    logs = host.run(f"podman logs --tail 20 {CONTAINER}")
    print(logs.stdout, logs.stderr)
    host.run(f"podman rm --force {CONTAINER}")


def probe(host, container: str, code: str) -> str:
    return run_ok(host, "podman", "exec", container, "/opt/venv/bin/python", "-c", code).strip()


def http(path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{HTTP_PORT}{path}", timeout=10) as resp:
        return resp.status, resp.read()


def test_image_user_is_not_root(inspect):
    assert inspect["Config"]["User"] not in ("", "root", "0", "0:0")
    assert inspect["Config"]["User"].split(":")[0] == "10001"


def test_image_metadata(inspect):
    config = inspect["Config"]
    assert config["Entrypoint"] == ["/opt/venv/bin/titanic-api"]
    assert config["Cmd"][0] == "serve"
    assert "8080/tcp" in config["ExposedPorts"]
    assert config["WorkingDir"] == "/app"
    assert "/tmp" in (config.get("Volumes") or {})  # noqa: S108
    healthcheck = inspect.get("Healthcheck") or config.get("Healthcheck")  # podman: top level
    assert "/healthz" in " ".join(healthcheck["Test"])


def test_image_labels(inspect):
    labels = inspect["Config"]["Labels"]
    for key in ("source", "revision", "version", "created"):
        assert labels.get(f"org.opencontainers.image.{key}"), key
    assert len(labels["io.titanic.source-hash"]) == 64


def test_image_size_budget(inspect):
    assert inspect["Size"] <= SIZE_BUDGET, f"{inspect['Size'] / 1e6:.1f} MB"


def test_runs_as_non_root(host, container):
    assert probe(host, container, "import os; print(os.getuid(), os.getgid())") == "10001 10001"


def test_root_filesystem_is_read_only(host, container):
    code = (
        "import os\ntry:\n    open('/app/x', 'w')\n    print('writable')\n"
        "except OSError:\n    print('ro')"
    )
    assert probe(host, container, code) == "ro"
    inspect = json.loads(run_ok(host, "podman", "inspect", container))[0]
    assert inspect["HostConfig"]["ReadonlyRootfs"] is True


def test_healthcheck_reports_healthy(host, container):
    assert host.run(f"podman healthcheck run {container}").rc == 0
    state = json.loads(run_ok(host, "podman", "inspect", container))[0]["State"]
    assert (state.get("Health") or state.get("Healthcheck"))["Status"] == "healthy"


def test_listens_on_8080(host, container):
    code = (
        "print(any(l.split()[1].endswith(':1F90') and l.split()[3] == '0A'"
        " for f in ('/proc/net/tcp', '/proc/net/tcp6') for l in open(f).readlines()[1:]))"
    )
    assert probe(host, container, code) == "True"
    status, body = http("/healthz")
    assert status == 200


def test_contract_root_and_people(container):
    status, _ = http("/")
    assert status == 200
    status, body = http("/people")
    assert status == 200
    people = json.loads(body)
    assert isinstance(people, list) and len(people) == 887  # the seed of the fixture above


def test_no_build_tools_or_shell(host, container):
    code = (
        "import os, shutil, importlib.util as u\n"
        "names = {'gcc', 'cc', 'g++', 'make', 'pip', 'pip3', 'sh', 'bash', 'apt-get', 'dpkg'}\n"
        "found = [os.path.join(r, f) for t in ('/usr', '/opt', '/bin', '/sbin')"
        " for r, _, fs in os.walk(t) for f in fs if f in names]\n"
        "print(found, u.find_spec('pip'), u.find_spec('setuptools'))"
    )
    assert probe(host, container, code) == "[] None None"


def test_sbom_next_to_the_image(host, inspect):
    image_id = inspect["Id"].removeprefix("sha256:")
    sbom = host.file(f"{STATE_DIR}/image/artifacts/{image_id}/sbom.cdx.json")
    assert sbom.exists
    doc = json.loads(sbom.content_string)
    assert doc["bomFormat"] == "CycloneDX"
    names = {c["name"] for c in doc["components"]}
    assert {"flask", "psycopg2-binary", "gunicorn"} <= {n.lower() for n in names}
    link = host.file(f"{STATE_DIR}/image/artifacts/{NAME}-latest.cdx.json")
    assert link.is_symlink and link.linked_to == sbom.path


def test_image_checks_recorded(host, inspect):
    image_id = inspect["Id"].removeprefix("sha256:")
    record = json.loads(
        host.file(f"{STATE_DIR}/image/artifacts/{image_id}/checks.json").content_string
    )
    assert record["probe"]["uid"] == 10001


def test_registry_holds_the_image(host, inspect):
    remote = json.loads(
        run_ok(
            host,
            "skopeo",
            "inspect",
            "--tls-verify=false",
            f"docker://127.0.0.1:{REGISTRY_PORT}/{NAME}:latest",
        )
    )
    assert (
        remote["Labels"]["io.titanic.source-hash"]
        == inspect["Config"]["Labels"]["io.titanic.source-hash"]
    )


def test_the_published_image_is_signed_by_the_scenarios_key(host):
    """OpenPGP simple signing by skopeo: a signature of the pushed digest in the store, which
    containers/image accepts under a policy that trusts only the scenario's public key."""
    ref = f"docker://127.0.0.1:{REGISTRY_PORT}/{NAME}:latest"
    digest = json.loads(run_ok(host, "skopeo", "inspect", "--tls-verify=false", ref))["Digest"]
    store = f"{STATE_DIR}/signatures"
    assert host.file(f"{store}/{NAME}@{digest.replace(':', '=')}/signature-1").is_file
    policy = {
        "default": [{"type": "reject"}],
        "transports": {
            "docker": {
                f"127.0.0.1:{REGISTRY_PORT}/{NAME}": [
                    {
                        "type": "signedBy",
                        "keyType": "GPGKeys",
                        "keyPath": f"{STATE_DIR}/signing/image-signing.pub.asc",
                        "signedIdentity": {"type": "matchRepository"},
                    }
                ]
            }
        },
    }
    with tempfile.TemporaryDirectory() as scratch:  # the scenario runs on this machine
        (Path(scratch) / "registries.d").mkdir()
        (Path(scratch) / "registries.d/t.yaml").write_text(
            f"docker:\n  127.0.0.1:{REGISTRY_PORT}:\n    lookaside: file://{store}\n"
        )
        (Path(scratch) / "policy.json").write_text(json.dumps(policy))
        run_ok(
            host,
            "skopeo",
            "copy",
            "--quiet",
            "--src-tls-verify=false",
            "--policy",
            f"{scratch}/policy.json",
            "--registries.d",
            f"{scratch}/registries.d",
            ref,
            f"dir:{scratch}/image",
        )
