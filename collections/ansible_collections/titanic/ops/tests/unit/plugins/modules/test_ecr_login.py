"""titanic.ops.ecr_login: main() against moto's ECR, and a failing AWS call through botocore's Stubber."""

from __future__ import annotations

import boto3
from botocore.stub import Stubber
from moto import mock_aws

from ansible_collections.titanic.ops.plugins.modules import ecr_login

REGION = "eu-west-1"


def test_login_is_decoded_from_the_authorization_token(run_module):
    with mock_aws():
        expected = boto3.client("ecr", region_name=REGION).get_authorization_token()["authorizationData"][0]
        result = run_module(ecr_login, {"region": REGION})
    assert result["changed"] is False
    assert result["registry"] == expected["proxyEndpoint"].split("://", 1)[1]
    assert not result["registry"].startswith("https")
    assert result["username"] == "AWS"
    assert result["password"] and ":" not in result["password"]
    assert result["expires_at"] == str(expected["expiresAt"])


def test_registry_ids_are_sent(run_module):
    with mock_aws():
        result = run_module(ecr_login, {"region": REGION, "registry_ids": ["222222222222"]})
    assert result["registry"].startswith("222222222222.dkr.ecr.eu-west-1.")


def test_aws_error_fails_with_the_action(run_module, monkeypatch):
    client = boto3.client("ecr", region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s")
    stubber = Stubber(client)
    stubber.add_client_error("get_authorization_token", service_error_code="UnrecognizedClientException")
    monkeypatch.setattr(ecr_login, "ecr_client", lambda module: client)
    with stubber:
        result = run_module(ecr_login, {"region": REGION})
    assert result["failed"] is True
    assert result["msg"].startswith("Failed to get an ECR authorization token: ")
    assert "password" not in result
