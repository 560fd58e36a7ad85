"""Test helpers: a real throw-away PostgreSQL 15 cluster and a real `titanic-api serve` process."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PG_BIN = Path(os.environ.get("TITANIC_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"
PG_PASSWORD = "test-password"  # trust auth on 127.0.0.1; the app still requires one
VENV_BIN = Path(sys.executable).parent
CLI = str(VENV_BIN / "titanic-api")

# Variables the app reads: tests build their environments from scratch around these.
APP_ENV_PREFIXES = ("TITANIC_", "POSTGRES_", "DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR")


def valid_person(**changes: object) -> dict[str, object]:
    """A person body that passes validation, with some fields changed."""
    person = {
        "survived": True,
        "passengerClass": 2,
        "name": "Miss. Test Person",
        "sex": "female",
        "age": 0.42,
        "siblingsOrSpousesAboard": 1,
        "parentsOrChildrenAboard": 2,
        "fare": 13.5,
    }
    person.update(changes)
    return person


def execute_sql(dsn: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Run one statement on its own connection (committed); its rows, if any."""
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def resolve_ref(doc: dict, node: dict) -> dict:
    """Follow the local ``$ref`` pointers of an OpenAPI document to their target."""
    while "$ref" in node:
        target = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(APP_ENV_PREFIXES)}
    env.update(extra)
    return env


# -- TLS: a CA and a server certificate of the test's own -----------------------------------------
def _certificate(
    subject: str, key, issuer_key, issuer_name, *, ca: bool, sans=()
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def write_ca(directory: Path, name: str) -> tuple[Path, object, x509.Certificate]:
    """A self-signed CA: its PEM file ``<directory>/<name>.crt``, its key and certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate(name, key, key, None, ca=True)
    path = directory / f"{name}.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path, key, cert


def write_server_certificate(directory: Path, ca_key, ca_cert: x509.Certificate) -> None:
    """``server.crt`` and ``server.key`` (0600) for 127.0.0.1 and localhost, signed by the CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    cert = _certificate("127.0.0.1", key, ca_key, ca_cert.subject, ca=False, sans=sans)
    (directory / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path = directory / "server.key"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)


class PostgresCluster:
    """initdb + pg_ctl in a temp dir, on a free port of 127.0.0.1.

    PostgreSQL refuses to run as root, so when euid is 0 every server command runs as the
    `postgres` system user (runuser) and the temp dir is handed to it.
    """

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="titanic-pg-"))
        self.data = self.root / "data"
        self.logfile = self.root / "postgres.log"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            pw = pwd.getpwnam(PG_USER)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        os.chmod(self.root, 0o700)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(PG_BIN / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", PG_USER, "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"{args[0]} failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}\n"
                + self.server_log()
            )
        return proc

    def server_log(self) -> str:
        try:
            return self.logfile.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def init(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            PG_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )

    def start(self) -> None:
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-p {self.port}",
                f"-k {self.root}",
                "-c fsync=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
                "-c shared_buffers=32MB",
            ]
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60",
            "-o", options, "start",
        )  # fmt: skip

    def start_with_tls(self) -> Path:
        """Start a fresh cluster as RDS and the local database pod run: TCP only over TLS and
        only with a password (scram-sha-256; the superuser's is PG_PASSWORD). Returns the file
        of the CA that signed the server's certificate."""
        tls = self.root / "tls"
        tls.mkdir()
        ca_file, ca_key, ca_cert = write_ca(tls, "ca")
        write_server_certificate(tls, ca_key, ca_cert)
        if self.as_root:
            owner = pwd.getpwnam(PG_USER)
            for path in (tls, *tls.iterdir()):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"ssl = on\nssl_cert_file = '{tls}/server.crt'\n")
            conf.write(f"ssl_key_file = '{tls}/server.key'\n")
        self.start()
        self.execute_admin(f"ALTER ROLE {PG_USER} PASSWORD '{PG_PASSWORD}'")
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n"
        )
        self.execute_admin("SELECT pg_reload_conf()")
        return ca_file

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def is_running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            if self.is_running():
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    # -- databases ---------------------------------------------------------------------------
    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres"):
        conn = psycopg2.connect(self.dsn(dbname), connect_timeout=5)
        return conn

    def execute_admin(self, sql: str) -> None:
        conn = self.connect()
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    def create_database(self, name: str, template: str | None = None) -> str:
        tpl = f" TEMPLATE {template}" if template else ""
        self.execute_admin(f'CREATE DATABASE "{name}"{tpl}')
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        self.execute_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class ServerProcess:
    """`titanic-api serve` (gunicorn) in a subprocess, on a free port of 127.0.0.1."""

    def __init__(
        self,
        env: dict[str, str],
        tmp: Path,
        workers: int = 2,
        command: list[str] | None = None,
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {"TITANIC_WORKERS": str(workers), **env}
        self.command = command or [CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.log_path = tmp / f"server-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> ServerProcess:
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            self.command,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.logs()}")
            try:
                if requests.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start:\n{self.logs()}")

    def url(self, path: str) -> str:
        return self.base_url + path

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode


def wait_until(predicate, timeout: float, interval: float = 0.1):
    """Poll ``predicate`` until it returns a truthy value; return it (or the last falsy one)."""
    deadline = time.monotonic() + timeout
    result = predicate()
    while not result and time.monotonic() < deadline:
        time.sleep(interval)
        result = predicate()
    return result


def migrated_to_0001(new_database, monkeypatch) -> str:
    """A new database with migration 0001 only (no documents filled); returns its DSN."""
    from titanic_api import migrations

    _, dsn = new_database(migrated=False)
    conn = psycopg2.connect(dsn)
    try:
        with monkeypatch.context() as m:
            m.setattr(migrations, "available", lambda: migrations._available()[:1])
            m.setattr(migrations, "fill_documents", lambda cur: 0)
            migrations.upgrade(conn)
    finally:
        conn.close()
    return dsn
