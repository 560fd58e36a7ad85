"""What the provision and build stages of inventories/dev leave in AWS, put into the AWS emulator:
the recorded image tag in ECR, the API's database credentials and write tokens in Secrets Manager,
as the records of deploy_cases.py (RECORDS) name them. Shared by the deploy suite (conftest.py) and
the Molecule scenario eks_preflight, whose prepare runs it as a program:

    python tests/deploy/dev_platform.py records          # the records, as JSON
    python tests/deploy/dev_platform.py seed <endpoint>  # the tag and the secret; {"changed": ...}

The emulator must run as the dev account (MOTO_ACCOUNT_ID), since the records and the image name it.
"""

from __future__ import annotations

import argparse
import json
import sys

import boto3
from deploy_cases import (
    DEV_ACCOUNT,
    EMULATOR_DB_PASSWORD,
    EMULATOR_WRITE_TOKEN,
    IMAGE_RECORD,
    PLATFORM_RECORD,
    RECORDS,
)

REGION = PLATFORM_RECORD["region"]
REPOSITORY = PLATFORM_RECORD["outputs"]["ecr_repository_name"]
SECRET_NAME = PLATFORM_RECORD["outputs"]["api_db_secret_name"]
TOKENS_SECRET_NAME = PLATFORM_RECORD["outputs"]["api_write_tokens_secret_name"]
TAG = IMAGE_RECORD["tag"]
CREDENTIALS = {"username": "titanic_api", "password": EMULATOR_DB_PASSWORD}

# An image manifest for the emulator's ECR (PutImage needs one; nothing pulls it).
_MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 2,
            "digest": "sha256:" + "0" * 64,
        },
        "layers": [],
    }
)


def client(service: str, endpoint_url: str):
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 (the emulator's; it accepts any)
    )


def seed(endpoint_url: str) -> bool:
    """Put whatever is missing of the repository, the recorded tag and the secret; True if
    anything was."""
    account = client("sts", endpoint_url).get_caller_identity()["Account"]
    if account != DEV_ACCOUNT:
        raise RuntimeError(
            f"the emulator at {endpoint_url} runs as account {account}, not dev's {DEV_ACCOUNT}: "
            f"start it with MOTO_ACCOUNT_ID={DEV_ACCOUNT}"
        )
    changed = False
    ecr = client("ecr", endpoint_url)
    try:
        ecr.create_repository(repositoryName=REPOSITORY)
        changed = True
    except ecr.exceptions.RepositoryAlreadyExistsException:
        pass
    try:
        ecr.describe_images(repositoryName=REPOSITORY, imageIds=[{"imageTag": TAG}])
    except ecr.exceptions.ImageNotFoundException:
        ecr.put_image(repositoryName=REPOSITORY, imageManifest=_MANIFEST, imageTag=TAG)
        changed = True
    secrets = client("secretsmanager", endpoint_url)
    for name, value in (
        (SECRET_NAME, CREDENTIALS),
        (TOKENS_SECRET_NAME, {"tokens": [EMULATOR_WRITE_TOKEN]}),
    ):
        try:
            secrets.create_secret(Name=name, SecretString=json.dumps(value))
            changed = True
        except secrets.exceptions.ResourceExistsException:
            pass
    return changed


def remove_image(endpoint_url: str) -> None:
    """Take the recorded tag out of ECR, as if its push had never happened."""
    client("ecr", endpoint_url).batch_delete_image(
        repositoryName=REPOSITORY, imageIds=[{"imageTag": TAG}]
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("records", help="print the platform and image records as JSON")
    seeding = commands.add_parser("seed", help="put the tag and the secret into the emulator")
    seeding.add_argument("endpoint_url")
    args = parser.parse_args(argv)
    if args.command == "records":
        print(json.dumps(RECORDS))
    else:
        print(json.dumps({"changed": seed(args.endpoint_url)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
