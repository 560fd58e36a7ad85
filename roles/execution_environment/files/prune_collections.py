"""Remove from the ansible bundle every collection the repository does not use.

    python prune_collections.py collections/requirements.yml

Run inside the execution environment's build, by its own Python. The ansible==12.3.0 wheel installs
about 100 collections (470 MB); the repository uses those listed in collections/requirements.yml.
They stay, with every collection they depend on (their MANIFEST.json); the rest of the bundle is
deleted. Prints what it kept and the space it freed; fails when a listed collection is missing.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import ansible_collections
import yaml


def bundle_root() -> Path:
    return Path(next(iter(ansible_collections.__path__)))


def installed(root: Path) -> dict[str, Path]:
    """FQCN to directory of every collection in the bundle."""
    return {
        f"{manifest.parent.parent.name}.{manifest.parent.name}": manifest.parent
        for manifest in root.glob("*/*/MANIFEST.json")
    }


def dependencies(path: Path) -> set[str]:
    info = json.loads((path / "MANIFEST.json").read_text())["collection_info"]
    return set(info.get("dependencies") or {})


def keep_set(listed: set[str], present: dict[str, Path]) -> set[str]:
    """The listed collections and, transitively, what they depend on."""
    missing = listed - present.keys()
    if missing:
        raise SystemExit(f"listed but not in the bundle: {sorted(missing)}")
    keep: set[str] = set()
    todo = list(listed)
    while todo:
        name = todo.pop()
        if name in keep or name not in present:
            continue  # a dependency outside the bundle is ansible-galaxy's concern, not ours
        keep.add(name)
        todo.extend(dependencies(present[name]))
    return keep


def size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def main(argv: list[str]) -> int:
    requirements = yaml.safe_load(Path(argv[0]).read_text())
    listed = {entry["name"] for entry in requirements["collections"]}
    root = bundle_root()
    present = installed(root)
    keep = keep_set(listed, present)
    freed = 0
    for name, path in sorted(present.items()):
        if name not in keep:
            freed += size(path)
            shutil.rmtree(path)
    for namespace in root.iterdir():
        if namespace.is_dir() and namespace.name != "__pycache__" and not any(namespace.iterdir()):
            namespace.rmdir()
    print(f"kept {len(keep)} collections ({', '.join(sorted(keep))}); freed {freed / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
