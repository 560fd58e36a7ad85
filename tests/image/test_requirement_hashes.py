"""The image's Python dependencies are installed from a lock whose every pin carries its files'
hashes, with pip's --require-hashes (app/Containerfile): a file that differs from the locked one, or
a dependency the lock does not pin, stops the build. `make lock` writes the hashes
(uv pip compile --generate-hashes); Molecule titanic_image builds the image from them."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "app" / "requirements.txt"
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)((?:\s*\\\n\s*--hash=sha256:[0-9a-f]{64})*)", re.M)


def test_every_pin_of_the_lock_carries_sha256_hashes():
    text = LOCK.read_text()
    pins = PIN.findall(text)
    assert len(pins) > 10, "the lock lost its pins"
    unhashed = [f"{name}=={version}" for name, version, hashes in pins if "--hash=" not in hashes]
    assert not unhashed, f"pins without hashes (make lock): {unhashed}"
    # nothing but pins, their hashes and comments: no unpinned or editable requirement
    stray = [
        line
        for line in text.splitlines()
        if line.strip()
        and not line.lstrip().startswith(("#", "--hash="))
        and not PIN.match(line + "\n")
        and not re.match(r"^[A-Za-z0-9_.-]+==\S+\s*\\$", line)
    ]
    assert not stray, stray


def test_the_containerfile_installs_the_lock_with_require_hashes():
    installs = [
        line for line in (REPO / "app/Containerfile").read_text().splitlines()
        if " install " in line and "requirements.txt" in line
    ]  # fmt: skip
    assert installs and all("--require-hashes" in line for line in installs), installs
