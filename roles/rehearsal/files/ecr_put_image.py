#!/usr/bin/env python3
"""Copy an image's manifest from a plain-HTTP registry on loopback into the emulated ECR under
the same tag, unless ECR already holds it there.

Usage: ecr_put_image.py <source registry host:port> <source repository> <tag> <ECR repository>
Reads AWS_ENDPOINT_URL, AWS_REGION and the emulator's keys from the environment (role rehearsal
sets them). Prints one JSON line: {"changed": bool, "digest": "sha256:...", "image": "<URI>:<tag>"}.
moto's ECR keeps manifests but serves no registry protocol: the layers stay in the rehearsal's
registry, and the digest ECR lists is the image's own, since the manifest is stored byte for byte.
"""

import hashlib
import json
import sys
import urllib.request

import boto3

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)


def read_manifest(registry: str, repository: str, tag: str) -> tuple[bytes, str]:
    request = urllib.request.Request(
        f"http://{registry}/v2/{repository}/manifests/{tag}", headers={"Accept": MANIFEST_TYPES}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (http on loopback only)
        return response.read(), response.headers.get_content_type()


def main(registry: str, repository: str, tag: str, ecr_repository: str) -> dict:
    if not registry.startswith(("127.0.0.1:", "localhost:", "[::1]:")):
        raise SystemExit(f"refusing a source registry that is not on loopback: {registry}")
    manifest, media_type = read_manifest(registry, repository, tag)
    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    ecr = boto3.client("ecr")
    repositories = ecr.describe_repositories(repositoryNames=[ecr_repository])["repositories"]
    uri = repositories[0]["repositoryUri"]
    try:
        found = ecr.describe_images(repositoryName=ecr_repository, imageIds=[{"imageTag": tag}])
        digests = [image["imageDigest"] for image in found["imageDetails"]]
    except ecr.exceptions.ImageNotFoundException:
        digests = []
    changed = digest not in digests
    if changed:
        ecr.put_image(
            repositoryName=ecr_repository,
            imageManifest=manifest.decode(),
            imageManifestMediaType=media_type,
            imageTag=tag,
            imageDigest=digest,  # as ECR computes it from the pushed bytes
        )
    return {"changed": changed, "digest": digest, "image": f"{uri}:{tag}"}


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    print(json.dumps(main(*sys.argv[1:])))
