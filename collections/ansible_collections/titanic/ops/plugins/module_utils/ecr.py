# Copyright: titanic-ops contributors
# Apache License 2.0 (see the LICENSE of the titanic-ops repository)
"""Amazon ECR calls shared by the modules of titanic.ops: client creation and error mapping.

Each call raises AnsibleECRError (an amazon.aws AnsibleAWSError) on an AWS failure, so a module
ends with ``module.fail_json_aws_error(error)``; a missing repository or tag is an answer, not an error.
"""

from __future__ import annotations

import base64

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

# ECR error codes that mean "not there", with the reason reported to the user.
NOT_FOUND_REASONS = {
    "RepositoryNotFoundException": "no such repository",
    "ImageNotFoundException": "no such tag in the repository",
}


class AnsibleECRError(AnsibleAWSError):
    """An ECR call failed (credentials, permissions, endpoint, throttling, ...)."""


class ECRErrorHandler(AWSErrorHandler):
    """Maps botocore errors of ECR calls to AnsibleECRError ("Failed to <what>: <cause>")."""

    _CUSTOM_EXCEPTION = AnsibleECRError


def ecr_client(module):
    """An ECR client from the module's amazon.aws connection options (profile, region, endpoint, keys)."""
    return module.client("ecr")


@ECRErrorHandler.common_error_handler("describe the image in ECR")
def describe_image_tag(client, repository: str, tag: str, registry_id: str | None = None) -> dict:
    """Whether ``tag`` exists in ``repository``: {"exists": bool, "digest": str, "reason": str}."""
    kwargs = {"repositoryName": repository, "imageIds": [{"imageTag": tag}]}
    if registry_id:
        kwargs["registryId"] = registry_id
    try:
        details = client.describe_images(**kwargs)["imageDetails"]
    except is_boto3_error_code(list(NOT_FOUND_REASONS)) as error:
        reason = NOT_FOUND_REASONS[error.response["Error"]["Code"]]
        return {"exists": False, "digest": "", "reason": reason}
    if not details:
        return {"exists": False, "digest": "", "reason": NOT_FOUND_REASONS["ImageNotFoundException"]}
    return {"exists": True, "digest": details[0].get("imageDigest", ""), "reason": ""}


def decode_authorization(data: dict) -> dict:
    """Registry host, user name, password and expiry from one ECR ``authorizationData`` entry."""
    token = base64.b64decode(data["authorizationToken"]).decode("utf-8")
    username, _colon, password = token.partition(":")
    return {
        "registry": data["proxyEndpoint"].split("://", 1)[-1].rstrip("/"),
        "username": username,
        "password": password,
        "expires_at": str(data.get("expiresAt", "")),
    }


@ECRErrorHandler.common_error_handler("get an ECR authorization token")
def get_authorization(client, registry_ids: list[str] | None = None) -> dict:
    """A registry login (see decode_authorization) for ``registry_ids`` (default: the caller's registry)."""
    kwargs = {"registryIds": registry_ids} if registry_ids else {}
    return decode_authorization(client.get_authorization_token(**kwargs)["authorizationData"][0])
