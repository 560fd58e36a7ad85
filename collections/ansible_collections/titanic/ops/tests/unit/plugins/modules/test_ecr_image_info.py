"""titanic.ops.ecr_image_info: main() against moto's ECR, and a failing AWS call through botocore's Stubber."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ansible_collections.titanic.ops.plugins.modules import ecr_image_info

REGION = "eu-west-1"
MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": "sha256:" + "0" * 64},
    "layers": [],
}


@pytest.fixture
def ecr():
    with mock_aws():
        client = boto3.client("ecr", region_name=REGION)
        client.create_repository(repositoryName="titanic-api")
        pushed = client.put_image(repositoryName="titanic-api", imageManifest=json.dumps(MANIFEST), imageTag="v1")
        yield pushed["image"]["imageId"]["imageDigest"]


def test_existing_tag_is_found_with_its_digest(ecr, run_module):
    result = run_module(ecr_image_info, {"repository": "titanic-api", "tag": "v1", "region": REGION})
    assert result["exists"] is True
    assert result["digest"] == ecr
    assert (result["reason"], result["changed"]) == ("", False)


def test_registry_id_of_the_caller_finds_the_tag(ecr, run_module):
    account = boto3.client("sts", region_name=REGION).get_caller_identity()["Account"]
    args = {"repository": "titanic-api", "tag": "v1", "registry_id": account, "region": REGION}
    assert run_module(ecr_image_info, args)["exists"] is True


@pytest.mark.parametrize(
    ("repository", "tag", "reason"),
    [("titanic-api", "v2", "no such tag in the repository"), ("other", "v1", "no such repository")],
)
def test_missing_tag_or_repository_is_an_answer_not_a_failure(ecr, run_module, repository, tag, reason):
    result = run_module(ecr_image_info, {"repository": repository, "tag": tag, "region": REGION})
    assert (result["exists"], result["digest"], result["reason"]) == (False, "", reason)
    assert "failed" not in result


def test_aws_error_fails_with_the_action_and_the_cause(run_module, monkeypatch):
    client = boto3.client("ecr", region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s")
    stubber = Stubber(client)
    stubber.add_client_error(
        "describe_images", service_error_code="AccessDeniedException", service_message="not allowed", http_status_code=403
    )
    monkeypatch.setattr(ecr_image_info, "ecr_client", lambda module: client)
    with stubber:
        result = run_module(ecr_image_info, {"repository": "titanic-api", "tag": "v1", "region": REGION})
    assert result["failed"] is True
    assert result["msg"].startswith("Failed to describe the image in ECR: ")
    assert "not allowed" in result["msg"]
    assert result["error"]["code"] == "AccessDeniedException"


def test_repository_is_required(run_module):
    result = run_module(ecr_image_info, {"tag": "v1", "region": REGION})
    assert result["failed"] is True
    assert "repository" in result["msg"]
