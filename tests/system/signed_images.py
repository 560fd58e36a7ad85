"""Images pushed to the local system's registry the way the build stage pushes them (skopeo copy
from podman's storage), signed with a key of the caller's choice or not at all, their signatures
written into the local signature store (role titanic_image's publish, role image_signature's
input)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

STATE_DIR = Path("/var/lib/titanic-ops/local")
REGISTRY = "127.0.0.1:5000"
REPOSITORY = f"{REGISTRY}/titanic-api"
STORE = STATE_DIR / "signatures"
LOCAL_KEY = STATE_DIR / "signing/image-signing.key.asc"
LOCAL_PASSPHRASE = STATE_DIR / "secrets/image-signing-passphrase"


def _run(argv: list[str], **kwargs) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs).stdout


def digest(tag: str) -> str:
    return _run(
        [
            "skopeo",
            "inspect",
            "--tls-verify=false",
            "--format",
            "{{.Digest}}",
            f"docker://{REPOSITORY}:{tag}",
        ]
    ).strip()


def push(source: str, tag: str, key: Path | None = None, passphrase: str = "") -> str:
    """Copy source (podman's storage) to titanic-api:<tag>; signed by the armored secret key when
    given. Returns the digest in the registry."""
    argv = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false"]
    with tempfile.TemporaryDirectory(suffix=".gnupg") as home:
        env = {**os.environ, "GNUPGHOME": home}
        if key is not None:
            _run(["gpg", "--batch", "--import", str(key)], env=env)
            listing = _run(["gpg", "--batch", "--with-colons", "--list-secret-keys"], env=env)
            fingerprint = next(
                line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")
            )
            registries = Path(home) / "registries.d"
            registries.mkdir()
            (registries / "titanic.yaml").write_text(
                json.dumps({"docker": {REGISTRY: {"lookaside-staging": f"file://{STORE}"}}})
            )
            argv += ["--registries.d", str(registries), "--sign-by", fingerprint]
            argv += ["--sign-passphrase-file", "/dev/stdin"]
        try:
            _run(
                [*argv, f"containers-storage:{source}", f"docker://{REPOSITORY}:{tag}"],
                env=env,
                input=passphrase,
            )
        finally:
            subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, check=False)
    return digest(tag)


def other_key(directory: Path) -> Path:
    """An armored secret key that is not the environment's (no passphrase)."""
    with tempfile.TemporaryDirectory(suffix=".gnupg") as home:
        env = {**os.environ, "GNUPGHOME": home}
        _run(
            [
                "gpg",
                "--batch",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--quick-gen-key",
                "someone else <other@example.com>",
                "ed25519",
                "sign",
                "never",
            ],
            env=env,
        )
        key = directory / "other.key.asc"
        _run(["gpg", "--batch", "--armor", "--output", str(key), "--export-secret-keys"], env=env)
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, check=False)
    return key


def local_passphrase() -> str:
    return LOCAL_PASSPHRASE.read_text().split()[0]


def signature_dir(image_digest: str) -> Path:
    return STORE / f"titanic-api@{image_digest.replace(':', '=')}"
