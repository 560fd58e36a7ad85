"""Validate the add-on render of role cluster_addons without a cluster and without the charts.

    python validate_addons.py INDEX --keys-dir DIR --crd-file FILE [--crd-file FILE ...]
        [--promtool PATH]
    python validate_addons.py --objects FILE [--objects FILE ...] --crd-file FILE [...]

INDEX is the render's addons.json. For each release:
- its values file: against the chart's published values schema where one exists (the index's
  values_schema_file, else <keys dir>/<chart>-<version>.schema.json; its `required` keys of
  mappings are left to the chart's own values, which helm merges below ours), and always against
  the chart version's values keys
  (<chart>-<version>.yaml: a tree of the keys of the chart's values.yaml; `null` accepts anything
  below), so a misspelt or dropped key fails here instead of being ignored by helm;
- its custom resources: each against the openAPIV3Schema of its CRD (matched by group, version and
  kind), strictly: an object schema that lists properties accepts no other field (the API server
  would prune it);
- the objects the role applies itself (each release's object files, the index's cluster object
  files): custom resources against their CRD as above, every other object strictly against the
  Kubernetes schemas of the index's kubernetes_version (kubernetes-validate), and the rule groups
  of each PrometheusRule with `promtool check rules` (--promtool).
With --objects (and no INDEX), only those files' custom resources, each against its CRD as above:
the Velero Backups and Restores of role velero_operations, the same check as the add-ons'.
Prints {"problems": [...], "checked": [...]} as JSON; exit status 1 when there is a problem.
The repository's tests import this module (tests/addons).
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema
import yaml


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """YAML 1.1 reads a plain `=` (an enum value of the AlertmanagerConfig CRD) as a `value` tag."""


_Loader.add_constructor("tag:yaml.org,2002:value", lambda load, node: load.construct_scalar(node))


def load_yaml_documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.load_all(path.read_text(), Loader=_Loader) if doc]


def crd_schemas(crd_files: list[Path]) -> dict[tuple[str, str], dict]:
    """{(apiVersion, kind): strict openAPIV3Schema} of every served version of every CRD."""
    schemas = {}
    for path in crd_files:
        for crd in load_yaml_documents(path):
            if crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served", True):
                    schema = version["schema"]["openAPIV3Schema"]
                    schemas[(f"{group}/{version['name']}", kind)] = strict(schema)
    return schemas


def strict(schema: dict) -> dict:
    """A copy of an OpenAPI schema where an object with listed properties accepts no other field."""
    schema = copy.deepcopy(schema)
    stack = [schema]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        if (
            "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
        for key in ("properties", "patternProperties"):
            stack.extend((node.get(key) or {}).values())
        for key in ("items", "additionalProperties", "not"):
            if isinstance(node.get(key), dict):
                stack.append(node[key])
        for key in ("allOf", "anyOf", "oneOf"):
            stack.extend(node.get(key) or [])
    return schema


def custom_resource_problems(doc: dict, schemas: dict[tuple[str, str], dict]) -> list[str]:
    what = f"{doc.get('kind')} {doc.get('metadata', {}).get('name', '?')}"
    schema = schemas.get((doc.get("apiVersion"), doc.get("kind")))
    if schema is None:
        return [f"{what}: no CRD serves {doc.get('apiVersion')} {doc.get('kind')}"]
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{what}: {'.'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    ]


def merged_values_schema(schema: object, merged: bool = True) -> object:
    """The chart's values schema as it applies to our values file alone. helm validates the
    chart's values with ours merged over them: a mapping's `required` keys come from the chart's
    defaults, so they are dropped where helm merges (mappings reached from the root); a list
    replaces the chart's whole, so below `items` everything stays required."""
    if isinstance(schema, list):
        return [merged_values_schema(item, merged) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copy_ = {}
    for key, value in schema.items():
        if key == "required" and merged:
            continue
        if key == "properties" and isinstance(value, dict):
            copy_[key] = {name: merged_values_schema(sub, merged) for name, sub in value.items()}
        elif key in ("items", "additionalItems"):
            copy_[key] = merged_values_schema(value, False)
        elif key in ("allOf", "anyOf", "oneOf", "additionalProperties", "not"):
            copy_[key] = merged_values_schema(value, merged)
        else:
            copy_[key] = value
    return copy_


def values_schema_problems(values: object, schema: dict) -> list[str]:
    """Our values against the chart's published values schema (merged_values_schema)."""
    validator = jsonschema.Draft7Validator(merged_values_schema(schema))
    problems = []
    for error in sorted(validator.iter_errors(values), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(p) for p in error.absolute_path) or "(root)"
        problems.append(f"values schema: {where}: {error.message}")
    return problems


def values_key_problems(values: object, keys: object, path: str = "") -> list[str]:
    """Keys of `values` that the chart's keys tree does not have."""
    if keys is None or not isinstance(values, dict):
        return []
    if not isinstance(keys, dict):
        return [f"{path or '(root)'}: the chart has no keys below it"]
    problems = []
    for name, value in values.items():
        where = f"{path}.{name}" if path else str(name)
        if name not in keys:
            problems.append(f"{where}: not a value of the chart")
        else:
            problems.extend(values_key_problems(value, keys[name], where))
    return problems


def kubernetes_problems(doc: dict, kubernetes_version: str) -> list[str]:
    """An object of the Kubernetes API, strictly against the schemas of that Kubernetes version."""
    import kubernetes_validate  # only where the render has such objects

    what = f"{doc.get('kind')} {doc.get('metadata', {}).get('name', '?')}"
    try:
        kubernetes_validate.validate(doc, kubernetes_version, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(p) for p in error.path) or "(root)"
        return [f"{what}: {where}: {error.message}"]
    except (
        kubernetes_validate.SchemaNotFoundError,
        kubernetes_validate.utils.VersionNotSupportedError,
    ) as error:
        return [f"{what}: no Kubernetes {kubernetes_version} schema: {error}"]
    return []


def rule_problems(doc: dict, promtool: str) -> list[str]:
    """The rule groups of a PrometheusRule as Prometheus loads them (`promtool check rules`)."""
    what = f"PrometheusRule {doc.get('metadata', {}).get('name', '?')}"
    with tempfile.NamedTemporaryFile("w", suffix=".rules.yml") as rules:
        yaml.safe_dump({"groups": doc.get("spec", {}).get("groups", [])}, rules)
        rules.flush()
        checked = subprocess.run(  # noqa: S603 - promtool, given by the role, on our own file
            [promtool, "check", "rules", rules.name], capture_output=True, text=True, check=False
        )
    if checked.returncode == 0:
        return []
    lines = (checked.stdout + checked.stderr).replace(rules.name, "rules").splitlines()
    return [f"{what}: promtool check rules: {line.strip()}" for line in lines if line.strip()]


def object_problems(path: Path, schemas: dict, kubernetes_version: str, promtool: str | None):
    """Objects the role applies: a CRD's group is a custom resource, any other Kubernetes'."""
    crd_groups = {api.rpartition("/")[0] for api, _ in schemas}
    problems = []
    for doc in load_yaml_documents(path):
        if str(doc.get("apiVersion", "")).rpartition("/")[0] in crd_groups:
            problems += custom_resource_problems(doc, schemas)
        else:
            problems += kubernetes_problems(doc, kubernetes_version)
        if doc.get("kind") == "PrometheusRule":
            if promtool:
                problems += rule_problems(doc, promtool)
            else:
                problems.append("PrometheusRule: promtool is not on PATH (Debian's prometheus)")
    return problems


def release_problems(
    release: dict,
    keys_dir: Path,
    schemas: dict,
    kubernetes_version: str = "",
    promtool: str | None = None,
) -> list[str]:
    chart, version = release["chart"], release["version"]
    values = yaml.safe_load(Path(release["values_file"]).read_text()) or {}
    problems = []
    published = release.get("values_schema_file")
    schema_file = Path(published or keys_dir / f"{chart}-{version}.schema.json")
    if schema_file.exists():
        problems += values_schema_problems(values, json.loads(schema_file.read_text()))
    elif published:
        problems.append(f"the values schema {schema_file} is missing")
    keys_file = keys_dir / f"{chart}-{version}.yaml"
    if keys_file.exists():
        problems += values_key_problems(values, yaml.safe_load(keys_file.read_text()))
    else:
        problems.append(f"no values keys of chart {chart} {version} ({keys_file.name})")
    for path in release.get("custom_resource_files", []):
        for doc in load_yaml_documents(Path(path)):
            problems += custom_resource_problems(doc, schemas)
    for path in release.get("object_files", []):
        problems += object_problems(Path(path), schemas, kubernetes_version, promtool)
    return [f"{release['release']}: {problem}" for problem in problems]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index", type=Path, nargs="?")
    parser.add_argument("--keys-dir", type=Path)
    parser.add_argument("--crd-file", type=Path, action="append", default=[])
    parser.add_argument("--promtool", default=None)
    parser.add_argument("--objects", type=Path, action="append", default=[])
    args = parser.parse_args(argv)
    if (args.index is None) == (not args.objects) or (args.index and args.keys_dir is None):
        parser.error("give INDEX with --keys-dir, or --objects")
    schemas = crd_schemas(args.crd_file)
    if args.objects:
        problems = [
            f"{path.name}: {problem}"
            for path in args.objects
            for doc in load_yaml_documents(path)
            for problem in custom_resource_problems(doc, schemas)
        ]
        print(json.dumps({"problems": problems, "checked": [str(p) for p in args.objects]}))
        return 1 if problems else 0
    index = json.loads(args.index.read_text())
    releases, version = index["releases"], index.get("kubernetes_version", "")
    problems = [
        f"cluster objects: {problem}"
        for path in index.get("cluster_object_files", [])
        for problem in object_problems(Path(path), schemas, version, args.promtool)
    ]
    problems += [
        problem
        for release in releases
        for problem in release_problems(release, args.keys_dir, schemas, version, args.promtool)
    ]
    print(json.dumps({"problems": problems, "checked": [r["release"] for r in releases]}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
