"""module_utils/ecr.py: the ECR calls and their error mapping, against botocore's Stubber."""

from __future__ import annotations

import base64
import datetime

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.titanic.ops.plugins.module_utils.ecr import (
    AnsibleECRError,
    decode_authorization,
    describe_image_tag,
    get_authorization,
)

DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def ecr():
    client = boto3.client("ecr", region_name="eu-west-1", aws_access_key_id="k", aws_secret_access_key="s")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_describe_image_tag_found_sends_the_registry_and_returns_the_digest(ecr):
    client, stubber = ecr
    stubber.add_response(
        "describe_images",
        {"imageDetails": [{"imageDigest": DIGEST, "imageTags": ["v1"]}]},
        {"repositoryName": "titanic-api", "imageIds": [{"imageTag": "v1"}], "registryId": "430987654321"},
    )
    found = describe_image_tag(client, "titanic-api", "v1", "430987654321")
    assert found == {"exists": True, "digest": DIGEST, "reason": ""}


def test_describe_image_tag_without_registry_id_leaves_it_out(ecr):
    client, stubber = ecr
    stubber.add_response(
        "describe_images", {"imageDetails": []}, {"repositoryName": "titanic-api", "imageIds": [{"imageTag": "v1"}]}
    )
    found = describe_image_tag(client, "titanic-api", "v1")
    assert found == {"exists": False, "digest": "", "reason": "no such tag in the repository"}


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("RepositoryNotFoundException", "no such repository"),
        ("ImageNotFoundException", "no such tag in the repository"),
    ],
)
def test_describe_image_tag_maps_not_found_to_an_answer(ecr, code, reason):
    client, stubber = ecr
    stubber.add_client_error("describe_images", service_error_code=code, http_status_code=400)
    assert describe_image_tag(client, "titanic-api", "v1") == {"exists": False, "digest": "", "reason": reason}


def test_describe_image_tag_raises_other_errors_with_the_action(ecr):
    client, stubber = ecr
    stubber.add_client_error(
        "describe_images", service_error_code="AccessDeniedException", service_message="not allowed", http_status_code=403
    )
    with pytest.raises(AnsibleECRError) as raised:
        describe_image_tag(client, "titanic-api", "v1")
    assert raised.value.message == "Failed to describe the image in ECR"
    assert raised.value.exception.response["Error"]["Code"] == "AccessDeniedException"


def token_data(user: str, password: str, endpoint: str, **extra) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"authorizationToken": token, "proxyEndpoint": endpoint, **extra}


def test_decode_authorization_splits_at_the_first_colon_and_strips_the_scheme():
    login = decode_authorization(token_data("AWS", "pa:ss", "https://1.dkr.ecr.eu-west-1.amazonaws.com/"))
    assert login == {
        "registry": "1.dkr.ecr.eu-west-1.amazonaws.com",
        "username": "AWS",
        "password": "pa:ss",
        "expires_at": "",
    }


def test_get_authorization_passes_registry_ids_and_reports_the_expiry(ecr):
    client, stubber = ecr
    expiry = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    stubber.add_response(
        "get_authorization_token",
        {"authorizationData": [token_data("AWS", "t0ken", "https://2.dkr.ecr.eu-west-1.amazonaws.com", expiresAt=expiry)]},
        {"registryIds": ["222222222222"]},
    )
    login = get_authorization(client, ["222222222222"])
    assert login["registry"] == "2.dkr.ecr.eu-west-1.amazonaws.com"
    assert (login["username"], login["password"]) == ("AWS", "t0ken")
    assert login["expires_at"] == str(expiry)


def test_get_authorization_raises_with_the_action(ecr):
    client, stubber = ecr
    stubber.add_client_error("get_authorization_token", service_error_code="UnrecognizedClientException")
    with pytest.raises(AnsibleECRError, match="Failed to get an ECR authorization token"):
        get_authorization(client)
